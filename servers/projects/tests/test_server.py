"""The projects server through the SDK's in-memory Client: numbers that agree with git, incremental
and rewritten histories, errors, audiences, sampling and confirmation paths."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ImageContent,
    ResourceUpdatedNotification,
    TextContent,
)

from folio_core.settings import FolioSettings
from folio_core.testing import call_fails as error
from folio_core.testing import call_ok as call
from folio_projects.server import build_server

from .conftest import git

pytestmark = pytest.mark.anyio

DEMO = "analytics-demo"


def client(settings: FolioSettings, mode: str = "legacy", **kwargs: Any) -> Client:
    return Client(build_server(settings).mcp, mode=mode, **kwargs)


def git_truth(repo: Path, bots: tuple[str, ...] = ("[bot]",)) -> dict[str, Any]:
    """Commits and lines by author straight from git (no merges, bots left out)."""
    out = subprocess.run(
        ["git", "-C", str(repo), "log", "--no-merges", "--numstat", "--format=@%aN"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commits: dict[str, int] = {}
    added = 0
    author = ""
    for line in out.splitlines():
        if line.startswith("@"):
            author = line[1:]
            if not any(b in author for b in bots):
                commits[author] = commits.get(author, 0) + 1
        elif line.strip() and not any(b in author for b in bots):
            added += int(line.split("\t")[0])
    return {"commits": commits, "added": added}


async def test_numbers_agree_with_git_on_the_generated_demo(
    make_settings: Callable[..., FolioSettings], tmp_path: Path
) -> None:
    async with client(make_settings()) as c:
        stats = await call(c, "projects_stats", {"repo": DEMO})
        with_merges = await call(c, "projects_stats", {"repo": DEMO, "include_merges": True})
        with_bots = await call(c, "projects_stats", {"repo": DEMO, "include_bots": True})
        grace = await call(c, "projects_stats", {"repo": DEMO, "author": "grace@example.com"})
        january = await call(
            c, "projects_stats", {"repo": DEMO, "since": "2024-01-01", "until": "2024-02-01"}
        )
    truth = git_truth(tmp_path / "data" / "projects" / "generated" / DEMO)
    # the numbers this history was built with, and git's own count of them
    assert stats["commits"] == 8 == sum(truth["commits"].values())
    assert stats["lines_added"] == 67 == truth["added"] and stats["lines_removed"] == 0
    assert (
        {a["author"]: a["commits"] for a in stats["by_author"]}
        == truth["commits"]
        == {"Ines Halvorsen": 5, "Grace Hopper": 3}
    )
    assert with_merges["commits"] == 9 and with_bots["commits"] == 9 and with_bots["lines_added"] == 69
    assert grace["commits"] == 3 and grace["lines_added"] == 7 + 4 + 1
    assert january["commits"] == 4  # the bot's January commit is left out
    assert stats["owner_commits"] == 5
    # local time of day: Grace's commit at 11:00 UTC was made at 06:00 in -05:00
    assert stats["by_hour"]["6"] == 1 and sum(stats["by_weekday"].values()) == 8
    assert [m["month"] for m in stats["by_month"]] == ["2024-01", "2024-02", "2024-03"]


async def test_languages_owners_truck_factor_and_hotspots_follow_the_rules(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        langs = await call(c, "projects_languages", {"repo": DEMO})
        bus = await call(c, "projects_bus_factor", {"repo": DEMO})
        people = await call(c, "projects_contributors", {"repo": DEMO})
        hot = await call(c, "projects_hotspots", {"repo": DEMO, "limit": 3})
        activity = await call(c, "projects_activity", {"repo": DEMO, "period": "month"})
    by_lang = {lang["language"]: lang for lang in langs["languages"]}
    assert set(by_lang) == {"Python", "Rust", "Go", "Markdown", "TOML"}  # the vendored JavaScript is left out
    assert by_lang["Python"]["files"] == 2 and by_lang["Go"] == {
        "language": "Go",
        "files": 1,
        "code": 5,
        "comment": 1,
        "blank": 1,
    }
    assert (
        bus["truck_factor"] == 1 and bus["authors"] == ["Ines Halvorsen"] and bus["files_considered"] == 6
    )  # Cargo.toml has only bot history
    owned = {p["author"]: p["files_owned"] for p in people["contributors"]}
    assert owned == {"Ines Halvorsen": 4, "Grace Hopper": 2}  # core.py stays Ines's through its rename
    # core.py: created, then renamed (history followed); lizard: 6 functions of one branch each (CCN 2);
    # lib.rs: 5 such functions and the straight-line fn extra (CCN 1)
    assert [(h["path"], h["changes"], h["complexity"]) for h in hot["hotspots"][:2]] == [
        ("demo/core.py", 2, 12),
        ("parser/lib.rs", 2, 11),
    ]
    assert [(a["period"], a["commits"]) for a in activity["activity"]] == [
        ("2024-01", 4),
        ("2024-02", 2),
        ("2024-03", 2),
    ]


async def test_new_commits_are_scanned_incrementally_and_subscribers_are_told(
    make_settings: Callable[..., FolioSettings], portfolio_dir: Path
) -> None:
    work = portfolio_dir / "work"
    heard = anyio.Event()
    uris: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            uris.append(message.params.uri)
            heard.set()

    async with client(make_settings(), message_handler=on_message) as c:
        assert (await call(c, "projects_stats", {"repo": "work"}))["commits"] == 1
        await c.subscribe_resource("projects://work/report.md")
        (work / "app.py").write_text("def main():\n    return 2\n\n\ndef other():\n    return 3\n")
        git(work, "commit", "-qam", "Second", when=1_710_100_000)
        scan = await call(c, "projects_scan", {"repo": "work"})
        assert scan["scans"][0]["new_commits"] == 1 and not scan["scans"][0]["rewritten"]
        with anyio.fail_after(15):
            await heard.wait()
        stats = await call(c, "projects_stats", {"repo": "work"})
        assert stats["commits"] == 2 and stats["lines_added"] == 2 + 5 and stats["lines_removed"] == 1
        # a rewritten history (reset and a different commit) is detected and read again
        git(work, "reset", "-q", "--hard", "HEAD~1")
        git(work, "commit", "-q", "--allow-empty", "-m", "Replacement", when=1_710_200_000)
        again = await call(c, "projects_scan", {"repo": "work"})
        assert again["scans"][0]["rewritten"] and again["scans"][0]["new_commits"] == 2
        stats = await call(c, "projects_stats", {"repo": "work"})
        assert stats["commits"] == 2 and stats["lines_added"] == 2
        report = (await c.read_resource("projects://work/report.md")).contents[0].text  # type: ignore[union-attr]
    assert uris[0] == "projects://work/report.md"
    assert "# work" in report and "| Python |" in report


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_new_commit_reaches_subscribers_without_a_tool_call(
    make_settings: Callable[..., FolioSettings],
    portfolio_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    monkeypatch.setattr("folio_projects.service.WATCH_SECONDS", 0.05)
    work = portfolio_dir / "work"
    uri = "projects://work/stats.json"
    heard = anyio.Event()

    def commit_elsewhere() -> None:
        (work / "new.py").write_text("x = 1\n")
        git(work, "add", "new.py")
        git(work, "commit", "-qm", "Pushed from elsewhere", when=1_710_500_000)

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification) and message.params.uri == uri:
            heard.set()

    async with client(make_settings(), mode=mode, message_handler=on_message) as c:
        assert (await call(c, "projects_stats", {"repo": "work"}))["commits"] == 1
        if mode == "legacy":
            await c.subscribe_resource(uri)
            commit_elsewhere()
            await heard.wait()  # the watcher saw HEAD move and scanned
        else:
            async with c.listen(resource_subscriptions=[uri]) as subscription:
                commit_elsewhere()
                async for event in subscription:
                    assert getattr(event, "uri", None) == uri
                    break
        text = (await c.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
    assert json.loads(text)["stats"]["commits"] == 2


async def test_bad_input_gets_errors_the_model_can_act_on(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings(), mode="auto") as c:
        assert "call projects_list" in await error(c, "projects_stats", {"repo": "nope"})
        assert "not a date" in await error(c, "projects_stats", {"repo": DEMO, "since": "last tuesday"})
        assert "path does not exist" in await error(c, "projects_stats", {"repo": "gone"})
        assert "since must be before until" in await error(
            c, "projects_stats", {"since": "2024-02-01", "until": "2024-01-01"}
        )
        listing = await call(c, "projects_list")
        ok = await call(c, "projects_stats", {"repo": DEMO})
    by_name = {r["name"]: r for r in listing["repositories"]}
    assert "path does not exist" in by_name["gone"]["error"] and by_name[DEMO]["commits"] == 8
    assert by_name[DEMO]["owner_share"] == pytest.approx(5 / 8)
    assert ok["commits"] == 8  # the failures left the cache consistent


async def test_public_audience_sees_public_repositories_and_no_scan_tool(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings(audience="public")) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        listing = await call(c, "projects_list")
        hidden = await error(c, "projects_stats", {"repo": "work"})
    assert "projects_scan" not in tools and "projects_stats" in tools
    assert [r["name"] for r in listing["repositories"]] == [DEMO]
    assert "no repository 'work'" in hidden


async def test_a_large_full_rescan_asks_for_confirmation(
    make_settings: Callable[..., FolioSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("folio_projects.server.CONFIRM_ABOVE", 0)
    async with client(make_settings()) as c:
        await call(c, "projects_stats", {"repo": DEMO})
        refused = await error(c, "projects_scan", {"repo": DEMO, "full": True})
        done = await call(c, "projects_scan", {"repo": DEMO, "full": True, "confirm": True})
        incremental = await call(c, "projects_scan", {"repo": DEMO})
    assert "confirm: true" in refused
    assert done["scans"][0]["new_commits"] == 10 and incremental["scans"][0]["new_commits"] == 0


async def test_insights_narrate_with_sampling_and_return_numbers_without(
    make_settings: Callable[..., FolioSettings],
) -> None:
    asked: list[str] = []

    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        prompt = params.messages[0].content
        assert isinstance(prompt, TextContent)
        asked.append(prompt.text)
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="A tidy demo."), model="scripted"
        )

    async with client(make_settings(), sampling_callback=sample) as c:
        told = await call(c, "projects_insights", {"repo": DEMO})
    async with client(make_settings(), mode="auto") as c:
        plain = await call(c, "projects_insights", {"repo": DEMO})
        image = await c.call_tool("projects_chart", {"chart": "languages", "repo": DEMO})
        evidence = await call(c, "projects_evidence", {"skill": "Rust"})
        stats = json.loads((await c.read_resource(f"projects://{DEMO}/stats.json")).contents[0].text)  # type: ignore[union-attr]
    assert told["narrative"] == "A tidy demo." and "Truck factor 1" in asked[0]
    assert plain["narrative"] is None and any("Truck factor 1" in f for f in plain["facts"])
    assert isinstance(image.content[0], ImageContent) and image.content[0].mime_type == "image/png"
    assert evidence["languages"][0]["language"] == "Rust"
    assert {c["subject"] for c in evidence["commits"]} >= {"Add the Rust parser", "Tune the parser"}, evidence
    assert stats["stats"]["commits"] == 8
