"""Scans under stress: progress, cancellation, SIGKILL mid-scan, a repository that vanishes, and
file names that look like options. Each ends with the stored commit set complete or untouched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from mcp import Client

from folio_core.settings import FolioSettings
from folio_core.testing import tool_text
from folio_projects import scan
from folio_projects.server import build_server

from .conftest import git

pytestmark = pytest.mark.anyio

DEMO = "analytics-demo"


def stored(database_url: str, repo: str) -> tuple[int, str | None]:
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM projects.commits WHERE repo = %s", (repo,)).fetchone()
        head = conn.execute("SELECT head FROM projects.repositories WHERE name = %s", (repo,)).fetchone()
    assert count is not None
    return int(count[0]), head[0] if head else None


def add_commits(work: Path, n: int) -> None:
    for i in range(n):
        (work / f"m{i}.py").write_text(f"def m{i}():\n    return {i}\n")
        git(work, "add", f"m{i}.py")
        git(work, "commit", "-qm", f"Module {i}", when=1_710_000_000 + 3600 * (i + 1))


async def test_a_scan_reports_progress_per_batch(
    make_settings: Callable[..., FolioSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan, "BATCH", 3)
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append((progress, total, message))

    async with Client(build_server(make_settings()).mcp) as c:
        result = await c.call_tool("projects_scan", {"repo": DEMO}, progress_callback=on_progress)
        assert not result.is_error, tool_text(result)
    assert [e[0] for e in events] == [3, 6, 9, 10]  # the demo's 10 commits, in batches of 3
    assert all(e[1] == 10 for e in events)
    assert events[-1][2] == f"{DEMO}: 10 of 10 commits"


async def test_a_cancelled_scan_leaves_the_previous_commit_set_and_the_server_answers(
    make_settings: Callable[..., FolioSettings],
    portfolio_dir: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scan, "BATCH", 2)
    original = scan.scan_repository
    first_batch = anyio.Event()
    unwound = anyio.Event()
    hold = {"on": True}

    async def held_scan(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        async def stall(done: int, total: int) -> None:
            if progress is not None:
                await progress(done, total)
            if hold["on"]:
                first_batch.set()
                await anyio.sleep_forever()  # only a cancellation ends this scan

        try:
            return await original(*args, progress=stall, **kwargs)
        finally:
            if hold["on"]:
                unwound.set()

    monkeypatch.setattr(scan, "scan_repository", held_scan)
    work = portfolio_dir / "work"
    async with Client(build_server(make_settings()).mcp) as c:
        hold["on"] = False
        assert not (await c.call_tool("projects_scan", {"repo": "work"})).is_error
        before = stored(database_url, "work")
        assert before[0] == 1
        add_commits(work, 5)
        hold["on"] = True
        async with anyio.create_task_group() as tg:

            async def scan_call() -> None:
                await c.call_tool("projects_scan", {"repo": "work"})

            tg.start_soon(scan_call)
            await first_batch.wait()
            tg.cancel_scope.cancel()  # the client cancels: notifications/cancelled reaches the server
        await unwound.wait()
        assert stored(database_url, "work") == before  # the first batch was never committed
        hold["on"] = False
        stats = await c.call_tool("projects_stats", {"repo": "work"})
        assert not stats.is_error and stats.structured_content is not None
        assert stats.structured_content["commits"] == 6
    assert stored(database_url, "work")[0] == 6


KILLED_SCAN = """
import asyncio, sys
from pathlib import Path
from folio_core.db.pool import open_pool
from folio_projects import scan
from folio_projects.portfolio import Portfolio, Repository

scan.BATCH = 2

async def main() -> None:
    pool = await open_pool(sys.argv[1])
    async def progress(done: int, total: int) -> None:
        print("batch written", done, flush=True)
        await asyncio.Event().wait()  # hold the transaction open until killed
    await scan.scan_repository(pool, Repository(name="work", path=Path(sys.argv[2])), Portfolio(), progress=progress)

asyncio.run(main())
"""


async def test_a_scan_killed_with_sigkill_leaves_no_half_written_commit_set(
    make_settings: Callable[..., FolioSettings], portfolio_dir: Path, database_url: str
) -> None:
    work = portfolio_dir / "work"
    async with Client(build_server(make_settings()).mcp) as c:  # applies the migrations, scans 1 commit
        assert not (await c.call_tool("projects_scan", {"repo": "work"})).is_error
    before = stored(database_url, "work")
    add_commits(work, 5)
    async with await anyio.open_process(
        [sys.executable, "-c", textwrap.dedent(KILLED_SCAN), database_url, str(work)],
        stderr=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        line = b""
        while not line.endswith(b"\n"):
            line += await proc.stdout.receive(1)
        assert line.startswith(b"batch written 2"), line
        os.kill(proc.pid, signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL
    assert stored(database_url, "work") == before
    async with Client(build_server(make_settings()).mcp) as c:  # the next scan takes the lock and completes
        stats = await c.call_tool("projects_stats", {"repo": "work"})
        assert stats.structured_content is not None and stats.structured_content["commits"] == 6


async def test_a_repository_that_vanishes_mid_scan_is_a_clear_error(
    make_settings: Callable[..., FolioSettings],
    portfolio_dir: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scan, "BATCH", 2)
    work = portfolio_dir / "work"
    original = scan.scan_repository

    async def vanishing(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        async def remove(done: int, total: int) -> None:
            if work.exists():
                shutil.rmtree(work)

        return await original(*args, progress=remove, **kwargs)

    add_commits(work, 3)
    async with Client(build_server(make_settings()).mcp) as c:
        monkeypatch.setattr(scan, "scan_repository", vanishing)
        failed = await c.call_tool("projects_scan", {"repo": "work"})
        assert failed.is_error and "disappeared" in tool_text(failed)
        monkeypatch.setattr(scan, "scan_repository", original)
        again = await c.call_tool("projects_stats", {"repo": "work"})
        assert again.is_error and "path does not exist" in tool_text(again)
        demo = await c.call_tool("projects_stats", {"repo": DEMO})
        assert not demo.is_error  # the rest of the portfolio is served
    count, head = stored(database_url, "work")
    assert (count, head) == (0, None)  # the vanished repository's scan stored nothing


async def test_file_names_that_look_like_options_are_only_names(
    make_settings: Callable[..., FolioSettings], portfolio_dir: Path
) -> None:
    work = portfolio_dir / "work"
    for name in ("--output=owned.py", "-rf.py", "--exec=touch pwned.py"):
        (work / name).write_text("def f():\n    return 1\n")
        git(work, "add", "--", name)
    git(work, "commit", "-qm", "Odd names")
    async with Client(build_server(make_settings()).mcp) as c:
        langs = await c.call_tool("projects_languages", {"repo": "work"})
        hot = await c.call_tool("projects_hotspots", {"repo": "work"})
    assert not langs.is_error and not hot.is_error, tool_text(langs) + tool_text(hot)
    assert langs.structured_content is not None
    python = next(x for x in langs.structured_content["languages"] if x["language"] == "Python")
    assert python["files"] == 4  # app.py and the three odd names, all counted as files
    assert {p.name for p in work.iterdir()} == {
        ".git",
        "app.py",
        "--output=owned.py",
        "-rf.py",
        "--exec=touch pwned.py",
    }
    assert not (Path.cwd() / "owned.py").exists() and not (Path.cwd() / "pwned").exists()
