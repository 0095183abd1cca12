"""The installed ``folio-memory`` command over stdio, as clients run it: the README entry, two
processes writing at once, a process killed mid-write, change notifications across processes,
and importing a memory file written by the reference server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ResourceUpdatedNotification

from folio_core.testing import REPO_ROOT, tool_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

COMMAND = Path(sys.executable).parent / "folio-memory"
README = Path(__file__).resolve().parents[1] / "README.md"
REFERENCE = REPO_ROOT / "tests" / "interop" / "node_modules" / ".bin" / "mcp-server-memory"


def params(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=str(COMMAND), args=[], env=env)


def readme_entry(key: str) -> dict[str, Any]:
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", README.read_text(), re.S)]
    entry = next(b[key]["memory"] for b in blocks if key in b)
    return json.loads(json.dumps(entry).replace("/path/to/folio", str(REPO_ROOT)))


async def ok(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, tool_text(result)
    assert result.structured_content is not None
    return result.structured_content


def count(database_url: str, query: str, *args: Any) -> Any:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query, args).fetchone()
    assert row is not None
    return row[0]


async def test_the_readme_entry_starts_the_server_on_the_embedded_database(tmp_path: Path) -> None:
    claude, vscode = readme_entry("mcpServers"), readme_entry("servers")
    assert Path(claude["command"]).resolve() == COMMAND.resolve()
    assert (vscode["command"], vscode.get("env")) == (claude["command"], claude.get("env"))
    env = {**claude.get("env", {}), "FOLIO_DATA_DIR": str(tmp_path / "data")}
    async with Client(StdioServerParameters(command=claude["command"], args=[], env=env), mode="legacy") as c:
        assert c.server_info is not None and c.server_info.name == "folio-memory"
        assert c.server_capabilities.resources is not None and c.server_capabilities.resources.subscribe
        stored = await ok(c, "memory_remember", {"content": "Prefers tabs over spaces", "kind": "preference"})
        hits = await ok(c, "memory_recall", {"query": "indentation style"})
    assert hits["hits"][0]["id"] == stored["id"]


async def test_two_processes_writing_at_once_lose_nothing_and_never_duplicate(database_url: str) -> None:
    env = {"FOLIO_DATABASE_URL": database_url}
    shared = [
        f"Shared fact number {i}: the team standup moved to {9 + i % 3}:{15 * (i % 4):02d}" for i in range(10)
    ]
    results: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}

    async def writer(name: str, client: Client) -> None:
        own = [f"Process {name} private note {i} about topic {i * 7}" for i in range(15)]
        texts = [t for pair in zip(own, shared + shared[:5], strict=True) for t in pair]
        for text in texts:
            results[name].append(await ok(client, "memory_remember", {"content": text}))

    async with Client(params(env), mode="legacy") as a, Client(params(env), mode="auto") as b:
        for c in (a, b):  # both finished starting
            await ok(c, "memory_recall", {"query": "warm-up"})
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer, "a", a)
            tg.start_soon(writer, "b", b)
    assert count(database_url, "SELECT count(*) FROM memory.memories") == 30 + 10
    assert count(database_url, "SELECT count(DISTINCT content_hash) FROM memory.memories") == 40
    for text in shared:
        assert count(database_url, "SELECT count(*) FROM memory.memories WHERE content = %s", text) == 1
    every = results["a"] + results["b"]
    assert sum(r["status"] == "created" for r in every) == 40
    assert sum(r["status"] == "reinforced" for r in every) == 20
    assert count(database_url, "SELECT sum(reinforced_count) FROM memory.memories") == 20
    with psycopg.connect(database_url) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM memory.memories").fetchall()}
    assert {r["id"] for r in every} == stored


def _server_pids() -> list[int]:
    """Child processes of this test running folio-memory (Linux /proc; no extra dependency)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and "folio-memory" in cmdline:
            found.append(int(stat.parent.name))
    return found


async def test_a_process_killed_during_writes_loses_no_committed_memory(database_url: str) -> None:
    env = {"FOLIO_DATABASE_URL": database_url}
    acknowledged: list[int] = []
    enough = anyio.Event()

    async def write(client: Client, i: int) -> None:
        try:
            result = await client.call_tool(
                "memory_remember", {"content": f"Kill test memory {i} about item {i * 13}"}
            )
        except Exception:  # the connection dies with the process
            return
        if not result.is_error and result.structured_content is not None:
            acknowledged.append(result.structured_content["id"])
            if len(acknowledged) >= 15:
                enough.set()

    with anyio.fail_after(120):
        async with Client(params(env), mode="legacy") as c:
            await ok(c, "memory_recall", {"query": "warm-up"})
            pids = _server_pids()
            assert len(pids) == 1
            async with anyio.create_task_group() as tg:
                for i in range(60):
                    tg.start_soon(write, c, i)
                await enough.wait()
                os.kill(pids[0], signal.SIGKILL)
    stored = count(database_url, "SELECT count(*) FROM memory.memories")
    assert len(acknowledged) >= 15 and stored >= len(acknowledged)
    assert count(
        database_url, "SELECT count(*) FROM memory.memories WHERE id = ANY(%s)", acknowledged
    ) == len(acknowledged)
    # Every stored memory is whole: its vector, its text index and its audit row were committed with it.
    assert (
        count(database_url, "SELECT count(*) FROM memory.memories WHERE embedding IS NULL OR tsv IS NULL")
        == 0
    )
    assert count(database_url, "SELECT count(*) FROM memory.audit WHERE action = 'remember'") == stored
    # A new process serves everything that was committed.
    async with Client(params(env), mode="auto") as again:
        for memory_id in acknowledged:
            view = json.loads((await again.read_resource(f"memory://memories/{memory_id}")).contents[0].text)  # type: ignore[union-attr]
            assert view["content"].startswith("Kill test memory")


async def test_a_write_in_one_process_reaches_subscribers_of_another(database_url: str) -> None:
    env = {"FOLIO_DATABASE_URL": database_url}
    heard = anyio.Event()
    uris: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            uris.append(message.params.uri)
            heard.set()

    async with (
        Client(params(env), mode="legacy", message_handler=on_message) as watcher_2025,
        Client(params(env), mode="auto") as watcher_2026,
        Client(params(env), mode="auto") as writer,
    ):
        for c in (watcher_2025, watcher_2026, writer):
            await ok(c, "memory_recall", {"query": "warm-up"})
        await watcher_2025.subscribe_resource("memory://recent")
        async with watcher_2026.listen(resource_subscriptions=["memory://stats"]) as subscription:
            await ok(writer, "memory_remember", {"content": "Written by another client"})
            with anyio.fail_after(15):
                await heard.wait()
                async for event in subscription:
                    assert getattr(event, "uri", None) == "memory://stats"
                    break
        recent = await watcher_2025.read_resource("memory://recent")
    assert uris == ["memory://recent"]
    assert "Written by another client" in recent.contents[0].text  # type: ignore[union-attr]


async def test_import_jsonl_reads_what_the_reference_server_wrote(database_url: str, tmp_path: Path) -> None:
    memory_file = tmp_path / "memory.jsonl"
    reference = StdioServerParameters(
        command=str(REFERENCE), args=[], env={"MEMORY_FILE_PATH": str(memory_file)}
    )
    entities = [
        {
            "name": "Maya",
            "entityType": "person",
            "observations": ["Works as a software engineer", "Lives in Berlin"],
        },
        {"name": "CloudNest", "entityType": "company", "observations": ["Observability startup"]},
    ]
    relations = [{"from": "Maya", "to": "CloudNest", "relationType": "works at"}]
    async with Client(reference, mode="legacy") as ref:
        await ok(ref, "create_entities", {"entities": entities})
        await ok(ref, "create_relations", {"relations": relations})
        expected = await ok(ref, "read_graph", {})
    env = {"PATH": str(COMMAND.parent), "FOLIO_DATABASE_URL": database_url, "FOLIO_DATA_DIR": str(tmp_path)}

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(COMMAND), "import-jsonl", str(path)], env=env, capture_output=True, text=True
        )

    first = await anyio.to_thread.run_sync(run, memory_file)
    again = await anyio.to_thread.run_sync(run, memory_file)
    missing = await anyio.to_thread.run_sync(run, tmp_path / "nope.jsonl")
    assert first.returncode == 0, first.stderr
    assert "2 entities created" in first.stdout and "1 relations created" in first.stdout
    assert "0 entities created" in again.stdout and "0 relations created" in again.stdout
    assert missing.returncode == 2 and "no such file" in missing.stderr and missing.stdout == ""
    async with Client(params({"FOLIO_DATABASE_URL": database_url}), mode="legacy") as c:
        graph = await ok(c, "read_graph", {})
        found = await ok(c, "search_nodes", {"query": "programmer"})
    by_name = {e["name"]: e for e in graph["entities"]}
    assert by_name == {e["name"]: e for e in expected["entities"]}
    assert graph["relations"] == expected["relations"]
    assert found["entities"][0]["name"] == "Maya"


async def _until(database_url: str, query: str, expected: int) -> None:
    """Wait until ``query`` counts ``expected`` rows (a database event: sessions waiting on a lock)."""
    with anyio.fail_after(60):
        while await anyio.to_thread.run_sync(count, database_url, query) < expected:
            await anyio.sleep(0.05)


async def test_near_duplicates_written_by_two_processes_at_once_end_as_one_memory(database_url: str) -> None:
    from folio_memory.store import WRITE_LOCK
    from folio_memory.text import duplicate_key

    env = {"FOLIO_DATABASE_URL": database_url}
    first, second = "Prefers dark mode in every editor", "Prefers the dark mode in every editor"
    assert duplicate_key(first) == duplicate_key(second)
    results: dict[str, dict[str, Any]] = {}
    async with Client(params(env), mode="legacy") as a, Client(params(env), mode="auto") as b:
        for c in (a, b):
            await ok(c, "memory_recall", {"query": "warm-up"})
        with psycopg.connect(database_url, autocommit=True) as gate:
            # Hold the texts' duplicate key: both writes reach the lock, then go on together.
            gate.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", (WRITE_LOCK, duplicate_key(first)))

            async def write(name: str, client: Client, text: str) -> None:
                results[name] = await ok(client, "memory_remember", {"content": text, "kind": "preference"})

            async with anyio.create_task_group() as tg:
                tg.start_soon(write, "a", a, first)
                tg.start_soon(write, "b", b, second)
                await _until(
                    database_url,
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    2,
                )
                # Meanwhile an unrelated memory is not held up by them.
                unrelated = await ok(
                    a, "memory_remember", {"content": "Allergic to penicillin", "kind": "fact"}
                )
                assert unrelated["status"] == "created" and "a" not in results and "b" not in results
                gate.execute("SELECT pg_advisory_unlock_all()")
    statuses = sorted(r["status"] for r in results.values())
    assert statuses == ["created", "reinforced"]
    assert results["a"]["id"] == results["b"]["id"]
    assert count(database_url, "SELECT count(*) FROM memory.memories WHERE kind = 'preference'") == 1
    assert count(database_url, "SELECT reinforced_count FROM memory.memories WHERE kind = 'preference'") == 1


async def test_two_processes_superseding_the_same_memory_at_once_supersede_it_once(database_url: str) -> None:
    from mcp.types import CreateMessageResult, TextContent

    env = {"FOLIO_DATABASE_URL": database_url}

    async def replaces_the_first(ctx: Any, params: Any) -> CreateMessageResult:
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="1"), model="scripted"
        )

    results: dict[str, dict[str, Any]] = {}
    async with (
        Client(params(env), mode="legacy", sampling_callback=replaces_the_first) as a,
        Client(params(env), mode="legacy", sampling_callback=replaces_the_first) as b,
    ):
        old = await ok(a, "memory_remember", {"content": "Lives in Lisbon, in Alfama", "kind": "fact"})
        assert old["id"] == 1
        await ok(b, "memory_recall", {"query": "warm-up"})
        with psycopg.connect(database_url) as gate:
            # Hold memory 1's row: both supersessions reach it, then go on together.
            gate.execute("SELECT id FROM memory.memories WHERE id = 1 FOR UPDATE")

            async def write(name: str, client: Client, text: str) -> None:
                results[name] = await ok(client, "memory_remember", {"content": text, "kind": "fact"})

            async with anyio.create_task_group() as tg:
                tg.start_soon(write, "a", a, "Lives in Berlin, in Kreuzberg")
                tg.start_soon(write, "b", b, "Lives in Porto, near the river")
                await _until(
                    database_url,
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()",
                    2,
                )
                gate.rollback()
    winners = [r for r in results.values() if r["superseded"] is not None]
    assert len(winners) == 1 and winners[0]["superseded"]["id"] == 1
    assert all(r["status"] == "created" for r in results.values())
    assert count(database_url, "SELECT superseded_by FROM memory.memories WHERE id = 1") == winners[0]["id"]
    assert count(database_url, "SELECT count(*) FROM memory.memories WHERE valid_to IS NULL") == 2
    assert count(database_url, "SELECT count(*) FROM memory.audit WHERE action = 'supersede'") == 1
