"""The change feed: NOTIFY folio_events on commit only, prefix filters, across OS processes."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from folio_core.changefeed import MAX_PAYLOAD, ChangeFeed, notify, notify_many
from folio_core.db.pool import Connection, connect

pytestmark = pytest.mark.anyio

CHILD = Path(__file__).parent / "helpers" / "changefeed_child.py"


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[Connection]:
    conn = await connect(database_url)
    await conn.execute("CREATE TABLE writes (uri text NOT NULL)")
    yield conn
    await conn.close()


async def write(conn: Connection, *uris: str) -> None:
    """One committed transaction that writes and announces ``uris``."""
    async with conn.transaction():
        for uri in uris:
            await conn.execute("INSERT INTO writes (uri) VALUES (%s)", (uri,))
            await notify(conn, uri)


async def take(feed: ChangeFeed, n: int) -> list[str]:
    got: list[str] = []
    with anyio.fail_after(60):
        async for uri in feed:
            got.append(uri)
            if len(got) == n:
                break
    return got


async def test_committed_notify_arrives(database_url: str, writer: Connection) -> None:
    async with ChangeFeed(database_url) as feed:
        await write(writer, "folio://profile/resume")
        assert await take(feed, 1) == ["folio://profile/resume"]


async def test_rolled_back_notify_never_arrives(database_url: str, writer: Connection) -> None:
    class Abort(Exception):
        pass

    async with ChangeFeed(database_url) as feed:
        with pytest.raises(Abort):
            async with writer.transaction():
                await writer.execute("INSERT INTO writes (uri) VALUES ('folio://rolled/back')")
                await notify(writer, "folio://rolled/back")
                raise Abort
        await write(writer, "folio://committed/after")
        # notifications arrive in commit order: the first one is the committed write
        assert await take(feed, 1) == ["folio://committed/after"]
    rows = await (await writer.execute("SELECT uri FROM writes")).fetchall()
    assert rows == [{"uri": "folio://committed/after"}]


async def test_delivered_at_commit_not_before(database_url: str, writer: Connection) -> None:
    second = await connect(database_url)
    try:
        async with ChangeFeed(database_url) as feed:
            async with writer.transaction():
                await notify(writer, "folio://slow/transaction")
                await write(second, "folio://fast/transaction")  # commits while the first is open
            assert await take(feed, 2) == ["folio://fast/transaction", "folio://slow/transaction"]
    finally:
        await second.close()


async def test_prefix_filtering(database_url: str, writer: Connection) -> None:
    async with ChangeFeed(database_url, prefixes=("folio://profile/", "folio://memory/")) as feed:
        await write(writer, "folio://projects/1")
        await write(writer, "folio://profile/resume")
        await write(writer, "folio://demo/x", "folio://memory/7")
        await write(writer, "folio://profiles-not-a-match")
        await write(writer, "folio://memory/8")
        assert await take(feed, 3) == ["folio://profile/resume", "folio://memory/7", "folio://memory/8"]


async def test_several_events_read_one_at_a_time(database_url: str, writer: Connection) -> None:
    async with ChangeFeed(database_url) as feed:
        await notify_many(writer, ["folio://a", "folio://b", "folio://a", "folio://c"])  # one transaction
        assert await take(feed, 1) == ["folio://a"]
        assert await take(feed, 1) == ["folio://b"]
        assert await take(feed, 1) == ["folio://c"]


async def test_payload_limit(database_url: str, writer: Connection) -> None:
    longest = "folio://big/" + "x" * (MAX_PAYLOAD - len("folio://big/"))
    async with ChangeFeed(database_url) as feed:
        with pytest.raises(ValueError, match="resource URI too long for the change feed"):
            await notify(writer, longest + "x")
        await write(writer, longest)
        assert await take(feed, 1) == [longest]


async def test_iterating_before_entering_is_an_error(database_url: str) -> None:
    feed = ChangeFeed(database_url)
    with pytest.raises(RuntimeError, match="enter the ChangeFeed"):
        async for _ in feed:
            pass


async def read_line(stream: BufferedByteReceiveStream) -> str:
    with anyio.fail_after(60):
        return (await stream.receive_until(b"\n", 65536)).decode()


async def test_child_process_writes_parent_receives(database_url: str, writer: Connection) -> None:
    async with ChangeFeed(database_url, prefixes=("folio://child/",)) as feed:
        with anyio.fail_after(30):
            result = await anyio.run_process(
                [
                    sys.executable,
                    str(CHILD),
                    "notify",
                    database_url,
                    "folio://child/1",
                    "folio://other/2",
                    "folio://child/3",
                ],
                check=False,
            )
        assert result.returncode == 0, result.stderr.decode()
        assert await take(feed, 2) == ["folio://child/1", "folio://child/3"]
    rows = await (await writer.execute("SELECT uri FROM writes ORDER BY uri")).fetchall()
    assert [r["uri"] for r in rows] == ["folio://child/1", "folio://child/3", "folio://other/2"]


async def test_parent_writes_child_receives(database_url: str, writer: Connection) -> None:
    with anyio.fail_after(30):
        async with await anyio.open_process(
            [sys.executable, str(CHILD), "listen", database_url, "2", "folio://parent/"]
        ) as process:
            assert process.stdout is not None
            out = BufferedByteReceiveStream(process.stdout)
            assert await read_line(out) == "ready"
            await write(writer, "folio://parent/1")
            await write(writer, "folio://elsewhere/2")
            await write(writer, "folio://parent/3")
            assert await read_line(out) == "folio://parent/1"
            assert await read_line(out) == "folio://parent/3"
            assert await process.wait() == 0
