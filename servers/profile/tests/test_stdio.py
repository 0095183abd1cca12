"""The installed ``folio-profile`` command, spawned over stdio as MCP clients do."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ResourceUpdatedNotification

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
    # The last process using the embedded database stopped it on the way out.
    with anyio.fail_after(10):
        while cluster.is_running():
            await anyio.sleep(0.05)
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
            with anyio.fail_after(15):
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
