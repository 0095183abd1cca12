"""Servers nobody here wrote, through ``folio``: mcp-server-time (PyPI) and server-everything (npm)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import tool_text
from folio_orchestrator.config import FleetConfig
from folio_orchestrator.fleet import Fleet, ServerState

pytestmark = pytest.mark.slow


@pytest.fixture
def peers_fleet(fleet_file: Callable[..., Path], peers: Any) -> Path:
    return fleet_file({"time": peers.time(), "everything": peers.everything()})


def test_third_party_tools_are_listed_through_folio(folio_cli: Any, peers_fleet: Path) -> None:
    done = folio_cli("--fleet", str(peers_fleet), "tools", "--json")
    assert done.returncode == 0, done.stderr
    tools = {t["name"]: t for t in json.loads(done.stdout)}
    assert {"time__get_current_time", "time__convert_time", "everything__echo", "everything__get-sum"} <= set(
        tools
    )
    assert tools["everything__get-sum"]["server"] == "everything"
    assert tools["everything__get-sum"]["tool"] == "get-sum"
    assert "timezone" in tools["time__get_current_time"]["input_schema"]["properties"]
    names = list(tools)
    assert names.index("time__convert_time") < names.index("everything__echo")  # the fleet file's order

    table = folio_cli("--fleet", str(peers_fleet), "servers")
    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:] if line.strip()}
    assert rows["time"][1:3] == ["2026-07-28", "ready"]  # mcp-server-time answers server/discover
    assert rows["everything"][1:3] == ["2025-11-25", "ready"]  # the handshake era


def test_third_party_tools_are_called_through_folio(folio_cli: Any, peers_fleet: Path) -> None:
    converted = folio_cli(
        "--fleet",
        str(peers_fleet),
        "call",
        "time__convert_time",
        json.dumps({"source_timezone": "Europe/Paris", "time": "12:00", "target_timezone": "Asia/Tokyo"}),
    )
    assert converted.returncode == 0, converted.stderr
    result = json.loads(converted.stdout)  # structured content, pretty-printed
    assert result["source"]["timezone"] == "Europe/Paris" and result["target"]["timezone"] == "Asia/Tokyo"
    assert converted.stdout.startswith("{\n  ")

    summed = folio_cli("--fleet", str(peers_fleet), "call", "everything__get-sum", '{"a": 2, "b": 3}')
    assert summed.returncode == 0, summed.stderr
    assert "The sum of 2 and 3 is 5." in summed.stdout


def test_progress_from_the_long_running_tool_is_drawn_as_a_bar(folio_cli: Any, peers_fleet: Path) -> None:
    done = folio_cli(
        "--fleet",
        str(peers_fleet),
        "call",
        "everything__trigger-long-running-operation",
        '{"duration": 1, "steps": 4}',
    )
    assert done.returncode == 0, done.stderr
    assert "Long running operation completed" in done.stdout
    bars = [
        line
        for line in done.stderr.splitlines()
        if line.startswith("everything__trigger-long-running-operation [")
    ]
    assert len(bars) == 4, done.stderr
    assert "25%" in bars[0] and "1/4" in bars[0]
    assert bars[-1].count("█") == 30 and "100%" in bars[-1] and "4/4" in bars[-1]


@pytest.mark.anyio
async def test_progress_and_a_resource_subscription_on_server_everything(
    fleet_config: Callable[[dict[str, Any]], FleetConfig], settings: FolioSettings, peers: Any
) -> None:
    async with Fleet(fleet_config({"everything": peers.everything()}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        assert fleet.supervisors["everything"].state == ServerState.READY
        steps: list[tuple[float, float | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            steps.append((progress, total))

        result = await fleet.call_tool(
            "everything__trigger-long-running-operation", {"duration": 0.6, "steps": 3}, progress=on_progress
        )
        assert "completed" in tool_text(result)
        assert steps == [(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)]

        uri = "demo://resource/dynamic/text/1"
        owner, read = await fleet.read_resource(uri)  # routed by the server's resource template
        assert owner == "everything" and read.contents[0].uri == uri
        async with fleet.events() as events:
            await fleet.subscribe(uri)
            toggled = await fleet.call_tool("everything__toggle-subscriber-updates", {})
            assert not toggled.is_error
            with anyio.fail_after(30):
                async for event in events:
                    if event.kind == "resource_updated":
                        assert (event.server, event.uri) == ("everything", uri)
                        break
            await fleet.call_tool("everything__toggle-subscriber-updates", {})


def test_resources_and_prompts_of_third_party_servers(folio_cli: Any, peers_fleet: Path) -> None:
    listed = folio_cli("--fleet", str(peers_fleet), "resources", "--json")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert any(r["uri"].startswith("demo://resource/static/document/") for r in found["resources"])
    assert {t["uriTemplate"] for t in found["templates"]} >= {"demo://resource/dynamic/text/{resourceId}"}

    read = folio_cli("--fleet", str(peers_fleet), "read", "demo://resource/dynamic/text/2")
    assert read.returncode == 0, read.stderr
    assert "Resource 2" in read.stdout

    prompts = folio_cli("--fleet", str(peers_fleet), "prompts")
    assert prompts.returncode == 0, prompts.stderr
    assert "everything__args-prompt" in prompts.stdout and "city state?" in prompts.stdout

    rendered = folio_cli(
        "--fleet", str(peers_fleet), "prompt", "everything__args-prompt", "city=Paris", "state=TX"
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.startswith("[user]") and "Paris" in rendered.stdout


def test_embedded_resources_are_marked_and_json_is_what_the_server_sent(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    fleet = str(fleet_file({"everything": peers.everything()}))
    uri = "demo://resource/dynamic/text/1"
    reference = json.dumps({"resourceType": "Text", "resourceId": 1})
    shown = folio_cli("--fleet", fleet, "call", "everything__get-resource-reference", reference)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    marker = lines.index(f"[resource {uri}, text/plain]")
    assert lines[marker + 1].startswith("Resource 1: This is a plaintext resource")

    raw = folio_cli("--fleet", fleet, "call", "everything__get-resource-reference", reference, "--json")
    assert raw.returncode == 0, raw.stderr
    result = json.loads(raw.stdout)
    assert set(result) == {"content"}  # a 2025-11-25 server sends neither isError nor resultType
    embedded = result["content"][1]
    assert embedded["type"] == "resource" and embedded["resource"]["uri"] == uri

    prompt = folio_cli(
        "--fleet", fleet, "prompt", "everything__resource-prompt", "resourceType=Text", "resourceId=1"
    )
    assert prompt.returncode == 0, prompt.stderr
    assert f"[resource {uri}, text/plain]\nResource 1: This is a plaintext resource" in prompt.stdout


def test_a_command_answers_a_servers_sampling_request_with_the_configured_model(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    fleet = str(fleet_file({"everything": peers.everything(sampling={"policy": "auto"})}))
    done = folio_cli(
        "--fleet",
        fleet,
        "call",
        "everything__trigger-sampling-request",
        '{"prompt": "hi", "maxTokens": 20}',
        env={"FOLIO_MODEL": "test"},
    )
    assert done.returncode == 0, done.stderr
    assert '"model": "test"' in done.stdout and "success (no tool calls)" in done.stdout
