"""A second OS process on the change feed, driven by test_changefeed.py.

changefeed_child.py notify <database-url> <uri>...   each URI in its own committed transaction
changefeed_child.py listen <database-url> <count> [prefix...]
    print "ready" once LISTENing, then each received URI on its own line; exit after <count>
"""

import sys

import anyio

from folio_core.changefeed import ChangeFeed, notify
from folio_core.db.pool import connect


async def do_notify(url: str, uris: list[str]) -> None:
    conn = await connect(url)
    try:
        for uri in uris:
            async with conn.transaction():
                await conn.execute("INSERT INTO writes (uri) VALUES (%s)", (uri,))
                await notify(conn, uri)
    finally:
        await conn.close()


async def do_listen(url: str, count: int, prefixes: tuple[str, ...]) -> None:
    async with ChangeFeed(url, prefixes=prefixes) as feed:
        print("ready", flush=True)
        received = 0
        async for uri in feed:
            print(uri, flush=True)
            received += 1
            if received >= count:
                return


async def run(mode: str, url: str, rest: list[str]) -> None:
    with anyio.fail_after(30):  # never outlive the test
        if mode == "notify":
            await do_notify(url, rest)
        elif mode == "listen":
            await do_listen(url, int(rest[0]), tuple(rest[1:]))
        else:
            raise SystemExit(f"unknown mode {mode!r}")


def main() -> None:
    mode, url, *rest = sys.argv[1:]
    anyio.run(run, mode, url, rest)


if __name__ == "__main__":
    main()
