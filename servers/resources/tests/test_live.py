"""Live documents: file edits, creations and deletions reach subscribers on both protocol paths,
the index follows, and changes indexed by another process arrive through the change feed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated
from mcp.types import ResourceListChangedNotification, ResourceUpdatedNotification

from folio_core.mcp import FolioServer
from folio_core.settings import FolioSettings
from folio_core.testing import call_ok as call
from folio_resources.server import build_server
from folio_resources.service import DocsService

pytestmark = pytest.mark.anyio

COMMAND = Path(sys.executable).parent / "folio-resources"


async def watching(folio: FolioServer, c: Client) -> DocsService:
    await call(c, "docs_list")  # the runtime is ready
    assert folio.runtime is not None
    service = DocsService.of(folio.runtime)
    with anyio.fail_after(30):
        await service.watching.wait()
    return service


async def test_edits_creations_and_deletions_reach_handshake_era_subscribers(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    updated: list[str] = []
    events = {"updated": anyio.Event(), "listed": anyio.Event()}

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(message.params.uri)
            events["updated"].set()
        elif isinstance(message, ResourceListChangedNotification):
            events["listed"].set()

    async def until(kind: str, done: Callable[[], Any]) -> None:
        """Wait for notifications of ``kind`` until ``done()`` holds (the start-up index announces too)."""
        with anyio.fail_after(30):
            while True:
                await events[kind].wait()
                events[kind] = anyio.Event()
                if await done():
                    return

    async def paths() -> set[str]:
        return {d["path"] for d in (await call(c, "docs_list"))["documents"]}

    folio = build_server(make_settings())
    async with Client(folio.mcp, mode="legacy", message_handler=on_message) as c:
        await watching(folio, c)
        await c.subscribe_resource("docs://about.md")
        (docs_dir / "about.md").write_text(
            "---\npublic: true\n---\n# About me\n\nI now keep bees in Utrecht.\n"
        )

        async def bees() -> bool:
            return "bees" in (await call(c, "docs_read", {"path": "about.md"}))["text"]

        await until("updated", bees)
        found = await call(c, "docs_search", {"query": "beekeeping hobby", "limit": 1})
        (docs_dir / "writing" / "new-essay.md").write_text("# Paved roads\n\nTeams choose them freely.\n")

        async def created() -> bool:
            return "writing/new-essay.md" in await paths()

        await until("listed", created)
        (docs_dir / "writing" / "new-essay.md").rename(docs_dir / "writing" / "renamed-essay.md")

        async def renamed() -> bool:
            now = await paths()
            return "writing/renamed-essay.md" in now and "writing/new-essay.md" not in now

        await until("listed", renamed)
    assert set(updated) == {"docs://about.md"}
    assert found["hits"][0]["path"] == "about.md" and "bees" in found["hits"][0]["snippet"]


async def test_2026_listeners_get_updates_and_list_changes(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    folio = build_server(make_settings())
    async with Client(folio.mcp, mode="auto") as c:
        await watching(folio, c)
        async with c.listen(
            resources_list_changed=True, resource_subscriptions=["docs://public/reading-list.txt"]
        ) as sub:
            (docs_dir / "public" / "reading-list.txt").write_text("Only one book now: Team Topologies.\n")
            events: list[Any] = []
            with anyio.fail_after(30):
                async for event in sub:  # until the update that shows the edit (start-up announces too)
                    events.append(event)
                    if isinstance(event, ResourceUpdated):
                        read = await call(c, "docs_read", {"path": "public/reading-list.txt"})
                        if read["text"].startswith("Only one book"):
                            break
            (docs_dir / "public" / "reading-list.txt").unlink()
            with anyio.fail_after(30):
                async for event in sub:
                    if isinstance(event, ResourcesListChanged):
                        listed = {d["path"] for d in (await call(c, "docs_list"))["documents"]}
                        if "public/reading-list.txt" not in listed:
                            break
        hits = (await call(c, "docs_search", {"query": "Kleppmann designing data-intensive", "limit": 10}))[
            "hits"
        ]
    assert events[-1] == ResourceUpdated(uri="docs://public/reading-list.txt")
    assert "public/reading-list.txt" not in {h["path"] for h in hits}


async def test_a_public_caller_cannot_watch_a_private_document(
    make_settings: Callable[..., FolioSettings],
) -> None:
    folio = build_server(make_settings(audience="public"))
    async with Client(folio.mcp, mode="auto") as c:
        await call(c, "docs_list")
        wanted = ["docs://about.md", "docs://working-with-me.md", "docs://../outside.txt"]
        async with c.listen(resource_subscriptions=wanted) as sub:
            honored = sub.honored.resource_subscriptions
    assert honored == ["docs://about.md"]


async def test_changes_indexed_by_another_process_reach_this_processes_subscribers(
    make_settings: Callable[..., FolioSettings],
    docs_dir: Path,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_watcher(self: DocsService) -> None:
        self.watching.set()

    monkeypatch.setattr(DocsService, "watch", no_watcher)  # only the other process sees the files change
    heard = anyio.Event()

    async def on_message(message: Any) -> None:
        if (
            isinstance(message, ResourceUpdatedNotification)
            and message.params.uri == "docs://case-study-runway.md"
        ):
            heard.set()

    env = {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(docs_dir.parent),
        "FOLIO_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "other.log"
    folio = build_server(make_settings())
    with log_path.open("w") as log:
        other = stdio_client(StdioServerParameters(command=str(COMMAND), args=[], env=env), errlog=log)
        async with (
            Client(other, mode="legacy") as writer,
            Client(folio.mcp, mode="legacy", message_handler=on_message) as c,
        ):
            await call(writer, "docs_list")
            with anyio.fail_after(60):
                while "watching documents" not in log_path.read_text():
                    await anyio.sleep(0.05)
            await call(c, "docs_list")
            await c.subscribe_resource("docs://case-study-runway.md")
            (docs_dir / "case-study-runway.md").write_text("# Runway\n\nNow used by 300 engineers.\n")
            with anyio.fail_after(30):
                while True:  # until the update that shows the edit
                    await heard.wait()
                    heard = anyio.Event()
                    read = await call(c, "docs_read", {"path": "case-study-runway.md"})
                    if "300 engineers" in read["text"]:
                        break
            found = await call(c, "docs_search", {"query": "how many engineers use Runway now", "limit": 1})
    assert "300 engineers" in read["text"]
    assert found["hits"][0]["path"] == "case-study-runway.md" and "300" in found["hits"][0]["snippet"]


async def test_the_server_answers_while_the_start_up_index_is_built(
    make_settings: Callable[..., FolioSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = anyio.Event()
    original = DocsService._initial_sync

    async def held(self: DocsService) -> None:
        await gate.wait()
        await original(self)

    monkeypatch.setattr(DocsService, "_initial_sync", held)
    monkeypatch.setattr("folio_resources.service.INITIAL_WAIT_S", 0.0)
    folio = build_server(make_settings())
    async with Client(folio.mcp, mode="legacy") as c:
        early = await call(c, "docs_list")
        searched = await call(c, "docs_search", {"query": "Runway"})
        read = await call(c, "docs_read", {"path": "about.md", "length": 10})
        gate.set()
        assert folio.runtime is not None
        with anyio.fail_after(60):
            await DocsService.of(folio.runtime).indexed.wait()
        later = await call(c, "docs_list")
    assert early["documents"] == [] and early["indexing"]["complete"] is False
    assert "partial" in searched["indexing"]["note"] and read["text"]
    assert "indexing" not in later and len(later["documents"]) == 10


async def test_a_gitignore_edit_removes_what_it_now_excludes(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceListChangedNotification):
            changed.set()

    folio = build_server(make_settings())
    async with Client(folio.mcp, mode="legacy", message_handler=on_message) as c:
        await watching(folio, c)
        assert "notes/on-call-handbook.txt" in {d["path"] for d in (await call(c, "docs_list"))["documents"]}
        (docs_dir / ".gitignore").write_text("drafts/\n*.tmp\nnotes/\n")
        with anyio.fail_after(30):
            while True:  # the start-up index announces too: wait for the listing that shows the edit
                await changed.wait()
                changed = anyio.Event()
                listed = {d["path"] for d in (await call(c, "docs_list"))["documents"]}
                if not any(p.startswith("notes/") for p in listed):
                    break
        grep = await call(c, "docs_grep", {"pattern": "(?i)pager|paged"})
        refused = await c.call_tool("docs_read", {"path": "notes/on-call-handbook.txt"})
    assert "about.md" in listed
    assert not any(m["path"].startswith("notes/") for m in grep["matches"])
    assert refused.is_error
