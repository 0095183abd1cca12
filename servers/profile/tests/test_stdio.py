"""The installed ``folio-profile`` command, spawned over stdio as MCP clients do."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ResourceUpdatedNotification
from psycopg.rows import dict_row

from folio_core.db.embedded import EmbeddedPostgres
from folio_core.testing import REPO_ROOT, SAMPLE_PORTFOLIO, tool_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

COMMAND = Path(sys.executable).parent / "folio-profile"


def readme_entry(client: str) -> dict[str, Any]:
    """The server entry the README tells users to paste, with this checkout's absolute path."""
    readme = (REPO_ROOT / "README.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", readme, re.S)]
    key = {"claude": "mcpServers", "vscode": "servers"}[client]
    entry = next(b[key]["profile"] for b in blocks if key in b)
    return json.loads(json.dumps(entry).replace("/path/to/folio", str(REPO_ROOT)))


def wait_for_exit(pidfd: int) -> None:
    """Block until the process behind ``pidfd`` has exited (a pidfd polls readable then)."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    while not poller.poll():
        pass


def params(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=str(COMMAND), args=[], env=env)


async def test_the_readme_claude_desktop_entry_runs_on_the_embedded_database() -> None:
    entry = readme_entry("claude")
    assert entry["command"] == str(COMMAND) or Path(entry["command"]).resolve() == COMMAND.resolve()
    assert Path(entry["env"]["FOLIO_PORTFOLIO_DIR"]) == SAMPLE_PORTFOLIO
    # Keep the test away from the user's own data directory. Not under pytest's tmp_path: as root,
    # PostgreSQL runs as another user, and pytest makes its base directory owner-only.
    data_dir = Path(tempfile.mkdtemp(prefix="folio-stdio-"))
    env = {**entry["env"], "FOLIO_DATA_DIR": str(data_dir)}
    server = StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=env)
    async with Client(server, mode="legacy") as client:
        assert client.server_info is not None and client.server_info.name == "folio-profile"
        assert client.server_capabilities.resources is not None
        assert client.server_capabilities.resources.subscribe is True
        result = await client.call_tool("profile_search", {"query": "event streaming with Kafka", "limit": 3})
        assert not result.is_error, tool_text(result)
        assert result.structured_content is not None
        assert any("kafka" in hit["text"].lower() for hit in result.structured_content["hits"])
        markdown = await client.read_resource("profile://resume.md")
        assert "Ines Halvorsen" in markdown.contents[0].text  # type: ignore[union-attr]
        cluster = EmbeddedPostgres(data_dir)
        assert cluster.is_running() and len(cluster.handles()) == 1
        postmaster = os.pidfd_open(int((cluster.pgdata / "postmaster.pid").read_text().split()[0]))
    # The last process using the embedded database stopped it on the way out: wait for the
    # postmaster's exit (its pidfd becomes readable), not for a time.
    try:
        with anyio.fail_after(60):
            await anyio.to_thread.run_sync(wait_for_exit, postmaster, abandon_on_cancel=True)
    finally:
        os.close(postmaster)
    assert not cluster.is_running()
    assert cluster.handles() == []
    shutil.rmtree(data_dir, ignore_errors=True)


async def test_the_vscode_entry_describes_the_same_server() -> None:
    vscode, claude = readme_entry("vscode"), readme_entry("claude")
    assert vscode["type"] == "stdio"
    assert (vscode["command"], vscode["env"]) == (claude["command"], claude["env"])


async def test_a_change_through_one_process_reaches_subscribers_of_another(database_url: str) -> None:
    env = {"FOLIO_DATABASE_URL": database_url, "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO)}
    heard: list[str] = []
    legacy_heard = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(message.params.uri)
            legacy_heard.set()

    async with (
        Client(params(env), mode="legacy", message_handler=on_message) as watcher_2025,
        Client(params(env), mode="auto") as watcher_2026,
        Client(params(env), mode="auto") as writer,
    ):
        assert watcher_2025.protocol_version == "2025-11-25"
        assert watcher_2026.protocol_version == "2026-07-28"
        for c in (watcher_2025, watcher_2026, writer):  # wait until each has finished starting
            assert not (await c.call_tool("profile_history", {})).is_error
        await watcher_2025.subscribe_resource("profile://resume.md")
        async with watcher_2026.listen(resource_subscriptions=["profile://skills"]) as subscription:
            update = await writer.call_tool(
                "profile_update", {"patch": {"basics": {"label": "Changed elsewhere"}}, "reason": "test"}
            )
            assert not update.is_error, tool_text(update)
            with anyio.fail_after(30):
                await legacy_heard.wait()
                async for event in subscription:
                    assert getattr(event, "uri", None) == "profile://skills"
                    break
        basics = await watcher_2025.call_tool("profile_get", {"section": "basics"})
    assert heard == ["profile://resume.md"]
    assert basics.structured_content is not None
    assert basics.structured_content["content"]["label"] == "Changed elsewhere"


def test_import_command_reports_invalid_files_with_paths(database_url: str, tmp_path: Path) -> None:
    env = {"PATH": str(COMMAND.parent), "FOLIO_DATABASE_URL": database_url, "FOLIO_DATA_DIR": str(tmp_path)}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"basics": {"email": "nope"}, "work": [{"startDate": "yesterday"}]}))
    rejected = subprocess.run([str(COMMAND), "import", str(bad)], env=env, capture_output=True, text=True)
    assert rejected.returncode == 1
    assert "$.basics.email" in rejected.stderr and "$.work[0].startDate" in rejected.stderr
    assert rejected.stdout == ""

    good = subprocess.run(
        [str(COMMAND), "import", str(SAMPLE_PORTFOLIO / "resume.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    assert "imported as version 1" in good.stdout
    again = subprocess.run(
        [str(COMMAND), "import", str(SAMPLE_PORTFOLIO / "resume.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0 and "unchanged" in again.stdout


def cli_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": str(COMMAND.parent),
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path),
        **extra,
    }


def folio_import(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "import", *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )


def current_version(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT version, document FROM profile.versions ORDER BY version DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return row


def test_an_invalid_file_is_reported_under_one_header(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"basics": {"email": "nope"}}))
    rejected = folio_import(cli_env(database_url, tmp_path), str(bad))
    assert rejected.returncode == 1
    assert rejected.stderr.count("is not a valid JSON Resume") == 1, rejected.stderr
    assert f"folio-profile: {bad} is not a valid JSON Resume document (1 issue):\n" in rejected.stderr


def test_a_json_file_that_is_not_a_resume_is_refused(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path)
    assert folio_import(env, str(SAMPLE_PORTFOLIO / "resume.json")).returncode == 0
    hello = tmp_path / "hello.json"
    hello.write_text(json.dumps({"hello": "world"}))
    for args in ([str(hello)], ["--yes", str(hello)]):
        refused = folio_import(env, *args)
        assert refused.returncode == 1
        assert "none of the JSON Resume sections" in refused.stderr
        assert refused.stderr.count("is not a valid JSON Resume") == 1
    assert current_version(database_url)["version"] == 1


def sample_then_without_awards(env: dict[str, str], tmp_path: Path) -> Path:
    """Import the sample résumé, and write a copy of it without its awards (an import that loses them)."""
    assert folio_import(env, str(SAMPLE_PORTFOLIO / "resume.json")).returncode == 0
    smaller = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text())
    del smaller["awards"]
    path = tmp_path / "smaller.json"
    path.write_text(json.dumps(smaller))
    return path


def test_an_import_that_loses_information_needs_yes_without_a_terminal(
    database_url: str, tmp_path: Path
) -> None:
    env = cli_env(database_url, tmp_path)
    path = sample_then_without_awards(env, tmp_path)

    refused = folio_import(env, str(path))
    assert refused.returncode == 1 and refused.stdout == ""
    assert "$.awards" in refused.stderr and "Pass --yes" in refused.stderr
    assert current_version(database_url)["version"] == 1

    done = folio_import(env, "--yes", str(path))
    assert done.returncode == 0, done.stderr
    assert "imported as version 2" in done.stdout
    assert "awards" not in current_version(database_url)["document"]


@pytest.mark.parametrize(("answer", "imported"), [("y", True), ("n", False), ("", False)])
def test_an_import_that_loses_information_asks_on_a_terminal(
    database_url: str, tmp_path: Path, answer: str, imported: bool
) -> None:
    env = cli_env(database_url, tmp_path)
    path = sample_then_without_awards(env, tmp_path)
    controller, terminal = pty.openpty()
    try:
        os.write(controller, f"{answer}\n".encode())  # typed ahead: the terminal keeps it for the read
        done = subprocess.run(
            [str(COMMAND), "import", str(path)], env=env, capture_output=True, text=True, stdin=terminal
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert "$.awards" in done.stderr and "Import it anyway? [y/N]" in done.stderr
    assert done.returncode == (0 if imported else 1), done.stderr
    assert current_version(database_url)["version"] == (2 if imported else 1)


async def test_a_manual_import_is_not_replaced_by_the_unchanged_portfolio_file(
    database_url: str, tmp_path: Path, portfolio: Path
) -> None:
    env = cli_env(database_url, tmp_path, FOLIO_PORTFOLIO_DIR=str(portfolio))
    async with Client(params(env), mode="legacy") as c:  # the start-up import: version 1
        assert (await c.call_tool("profile_history", {})).structured_content["current_version"] == 1
    mine = json.loads((portfolio / "resume.json").read_text())
    mine["basics"]["label"] = "Imported by hand"
    path = tmp_path / "my-resume.json"
    path.write_text(json.dumps(mine))
    done = folio_import(env, str(path))
    assert "imported as version 2" in done.stdout, done.stderr

    async with Client(params(env), mode="legacy") as c:  # the portfolio file did not change
        basics = await c.call_tool("profile_get", {"section": "basics"})
    assert basics.structured_content is not None
    assert basics.structured_content["version"] == 2
    assert basics.structured_content["content"]["label"] == "Imported by hand"

    edited = json.loads((portfolio / "resume.json").read_text())
    edited["basics"]["label"] = "Edited in the portfolio"
    (portfolio / "resume.json").write_text(json.dumps(edited))
    async with Client(params(env), mode="legacy") as c:  # now it did: imported at start
        basics = await c.call_tool("profile_get", {"section": "basics"})
    assert basics.structured_content is not None
    assert basics.structured_content["version"] == 3
    assert basics.structured_content["content"]["label"] == "Edited in the portfolio"


def test_an_oversized_file_is_refused_with_the_paths_and_limits(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path)
    resume = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text())
    resume["basics"]["name"] = "N" * 1_000_000
    resume["work"][0]["highlights"] = [f"h{i}" for i in range(20_000)]
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(resume))
    refused = folio_import(env, "--yes", str(path))
    assert refused.returncode == 1
    assert "$.basics.name: a text of 1,000,000 characters; at most 5,000" in refused.stderr
    assert "$.work[0].highlights: a list of 20,000 entries; at most 200" in refused.stderr
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM profile.versions").fetchone() == (0,)
