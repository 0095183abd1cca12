"""The fleet over real subprocesses: eras, listings and their refresh, subscriptions, faults."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import tool_text
from folio_orchestrator.config import FleetConfig
from folio_orchestrator.errors import CallTimeout, RemoteError, RoutingError, ServerDied, ServerUnavailable
from folio_orchestrator.fleet import ClientCallbacks, Fleet, FleetEvent, ServerState

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MakeConfig = Callable[[dict[str, Any]], FleetConfig]


async def next_event(events: Any, kind: str, server: str, timeout: float = 30) -> FleetEvent:
    with anyio.fail_after(timeout):
        async for event in events:
            if event.kind == kind and event.server == server:
                return event
    raise AssertionError("the event stream ended")


async def test_eras_are_detected_and_everything_is_listed(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {
            "modern": peers.script("dynamic_server"),
            "legacy": peers.script("dynamic_server", mode="legacy"),
            "handwritten": peers.script("garbage_server"),
        }
    )
    async with Fleet(config, settings) as fleet:
        assert await fleet.wait_settled(timeout=30)
        status = {s.name: s for s in fleet.status()}
        assert status["modern"].protocol_version == "2026-07-28" and status["modern"].era == "2026-07-28"
        assert status["legacy"].protocol_version == "2025-11-25" and status["legacy"].era == "handshake"
        # auto mode falls back to the handshake when a server does not know server/discover
        assert status["handwritten"].protocol_version == "2025-06-18"
        for s in status.values():
            assert s.state == ServerState.READY and s.pid is not None and s.restarts == 0
        assert (status["modern"].tools, status["modern"].resources) == (2, 1)
        assert "tools" in status["handwritten"].capabilities
        assert [t.name for t in fleet.tools()] == [
            "modern__add_tool",
            "modern__bump",
            "legacy__add_tool",
            "legacy__bump",
            "handwritten__echo",
        ]
        assert fleet.supervisors["modern"].server_info is not None
        assert fleet.supervisors["modern"].server_info.name == "dynamic"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_are_relisted_when_the_server_says_they_changed(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any, mode: str
) -> None:
    async with Fleet(fleet_config({"dyn": peers.script("dynamic_server", mode=mode)}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        async with fleet.events() as events:
            result = await fleet.call_tool("dyn__add_tool", {"name": "fresh"})
            assert not result.is_error, tool_text(result)
            await next_event(events, "tools_changed", "dyn")
        assert "dyn__fresh" in [t.name for t in fleet.tools()]
        fresh = await fleet.call_tool("dyn__fresh", {})
        assert fresh.structured_content == {"result": "fresh"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_resource_subscription_delivers_updates(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any, mode: str
) -> None:
    async with Fleet(fleet_config({"dyn": peers.script("dynamic_server", mode=mode)}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        assert fleet.server_for_uri("dyn://counter") == "dyn"
        async with fleet.events() as events:
            assert await fleet.subscribe("dyn://counter") == "dyn"
            await fleet.call_tool("dyn__bump", {})
            event = await next_event(events, "resource_updated", "dyn")
            assert event.uri == "dyn://counter"
            _, read = await fleet.read_resource("dyn://counter")
            assert getattr(read.contents[0], "text", None) == "1"
            await fleet.unsubscribe("dyn://counter")
            await fleet.call_tool("dyn__bump", {})
            await fleet.call_tool("dyn__bump", {})  # the second call's answer follows any update of the first
            with pytest.raises(anyio.WouldBlock):
                while True:
                    extra = events.receive_nowait()
                    assert extra.kind != "resource_updated", extra


async def test_a_server_killed_mid_call_fails_the_call_at_once_and_is_restarted(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config({"slow": peers.script("slow_server"), "other": peers.script("dynamic_server")})
    async with Fleet(config, settings) as fleet:
        await fleet.wait_settled(timeout=30)
        first_pid = fleet.supervisors["slow"].pid
        other_pid = fleet.supervisors["other"].pid
        assert first_pid is not None
        progressed = anyio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            progressed.set()

        async def kill_once_running() -> None:
            await progressed.wait()  # the call is in flight on the server
            os.kill(first_pid, signal.SIGKILL)

        with anyio.fail_after(30):  # a safety net: the call is 30 s long, ServerDied must come first
            async with anyio.create_task_group() as tg:
                tg.start_soon(kill_once_running)
                with pytest.raises(ServerDied) as died:
                    await fleet.call_tool("slow__slow", {"seconds": 60}, progress=on_progress)
        error = died.value
        assert error.server == "slow" and error.exit_code == -signal.SIGKILL
        assert "killed by SIGKILL during tools/call 'slow'" in str(error)
        assert f"slow server started, pid {first_pid}" in str(error)  # the last lines of its stderr
        # The next call waits for the restart and succeeds.
        result = await fleet.call_tool("slow__pid", {})
        assert result.structured_content is not None
        new_pid = result.structured_content["result"]
        assert new_pid != first_pid and new_pid == fleet.supervisors["slow"].pid
        status = fleet.supervisors["slow"].status()
        assert status.state == ServerState.READY and status.restarts == 1 and status.tools == 4
        assert fleet.supervisors["other"].pid == other_pid  # the rest of the fleet was not touched
        assert fleet.supervisors["other"].restarts == 0


async def test_a_server_that_died_fails_in_flight_calls_at_once_instead_of_timing_out(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    # the calls would time out after an hour: failing with ServerDied proves they ended with the server
    config = fleet_config({"slow": peers.script("slow_server", timeout=3600)})
    async with Fleet(config, settings) as fleet:
        await fleet.wait_settled(timeout=30)
        pid = fleet.supervisors["slow"].pid
        assert pid is not None
        errors: list[BaseException] = []

        async def hang(tag: str) -> None:
            try:
                await fleet.call_tool("slow__hang", {"tag": tag})
            except ServerDied as exc:
                errors.append(exc)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for i in range(5):
                    tg.start_soon(hang, f"call {i}")
                await anyio.wait_all_tasks_blocked()
                os.kill(pid, signal.SIGKILL)
        assert len(errors) == 5 and all("killed by SIGKILL" in str(e) for e in errors)


async def test_a_call_that_never_answers_times_out_and_is_cancelled_on_the_server(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    async with Fleet(fleet_config({"slow": peers.script("slow_server", timeout=0.5)}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        supervisor = fleet.supervisors["slow"]
        started = time.monotonic()
        with pytest.raises(CallTimeout) as caught:
            await fleet.call_tool("slow__hang", {"tag": "first"})
        assert time.monotonic() - started >= 0.5  # not before its timeout
        assert caught.value.server == "slow" and "timed out after 0.5 s" in str(caught.value)
        # A per-call timeout overrides the server's.
        with pytest.raises(CallTimeout, match=r"after 0\.2 s"):
            await fleet.call_tool("slow__hang", {"tag": "second"}, timeout=0.2)
        # The server saw both cancellations (its handler logs them on stderr).
        with anyio.fail_after(30):
            await supervisor.wait_stderr("cancelled: second")
        assert "cancelled: first" in supervisor.stderr_tail()
        # The connection is still fine and nothing restarted.
        still = await fleet.call_tool("slow__echo", {"text": "still here"}, timeout=30)
        assert still.structured_content == {"result": "still here"}
        assert supervisor.restarts == 0


async def test_a_server_writing_garbage_to_stdout_keeps_working(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    async with Fleet(fleet_config({"noisy": peers.script("garbage_server")}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        for text in ("one", "two"):
            result = await fleet.call_tool("noisy__echo", {"text": text})
            assert tool_text(result) == text
        status = fleet.supervisors["noisy"].status()
        assert status.state == ServerState.READY and status.restarts == 0
        assert status.garbage_lines == 5  # the banner, then two lines before each result
        assert (
            "[stdout, not a JSON-RPC message] Starting garbage server v1.0 ... ready!" in status.stderr_tail
        )


async def test_a_server_that_exits_at_start_is_diagnosed_as_a_crash_loop_and_others_run(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {
            "broken": peers.script("exits_at_start", restart={"max_deaths": 3, "window": 30}),
            "fine": peers.script("dynamic_server"),
        }
    )
    async with Fleet(config, settings) as fleet:
        assert await fleet.wait_settled(timeout=30)
        broken = fleet.supervisors["broken"].status()
        assert broken.state == ServerState.FAILED
        assert broken.restarts == 2 and broken.pid is None and broken.tools == 0
        assert broken.reason is not None
        assert "crash loop: 3 deaths within 30 s" in broken.reason
        assert "exited with code 3 at start-up" in broken.reason
        assert broken.stderr_tail == ["fatal: the frobnicator is not configured (set FROB_URL)"]
        with pytest.raises(ServerUnavailable, match="crash loop") as caught:
            await fleet.call_tool("broken__anything", {})
        assert "FROB_URL" in str(caught.value)
        assert fleet.supervisors["fine"].state == ServerState.READY
        assert not (await fleet.call_tool("fine__bump", {})).is_error


async def test_a_missing_command_is_reported_by_name(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {"ghost": {"command": "no-such-mcp-server-xyz", "folio": {"restart": {"max_deaths": 1}}}}
    )
    async with Fleet(config, settings) as fleet:
        await fleet.wait_settled(timeout=30)
        status = fleet.supervisors["ghost"].status()
        assert status.state == ServerState.FAILED
        assert status.reason is not None and "command not found: no-such-mcp-server-xyz" in status.reason


async def test_a_server_that_never_answers_the_handshake_times_out_at_start(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    entry = {
        "command": "sleep",
        "args": ["600"],
        "folio": {"start_timeout": 0.5, "restart": {"max_deaths": 1}},
    }
    async with Fleet(fleet_config({"mute": entry}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        status = fleet.supervisors["mute"].status()
        assert status.state == ServerState.FAILED
        assert status.reason is not None and "did not become ready within 0.5 s" in status.reason


async def test_shutdown_leaves_no_process_behind(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {
            "spawner": peers.script("spawner_server"),
            "slow": peers.script("slow_server"),
            "everything": peers.everything(),
        }
    )
    async with Fleet(config, settings) as fleet:
        await fleet.wait_settled(timeout=30)
        pids = [s.pid for s in fleet.status()]
        helper = await fleet.call_tool("spawner__helper_pid", {})
        assert helper.structured_content is not None
        helper_pid = helper.structured_content["result"]
        assert all(pid is not None for pid in pids) and not peers.gone(helper_pid)
        async with anyio.create_task_group() as tg:  # a call in flight during shutdown
            tg.start_soon(fleet.call_tool, "slow__slow", {"seconds": 0.2})
    assert all(peers.gone(pid) for pid in pids)
    assert peers.gone(helper_pid)  # left behind by its server's graceful exit, stopped by the fleet
    assert [s.state for s in fleet.status()] == [ServerState.STOPPED] * 3


async def test_a_lazy_server_starts_on_first_use(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {"lazy": peers.script("slow_server", lazy=True), "off": peers.script("slow_server", enabled=False)}
    )
    async with Fleet(config, settings) as fleet:
        assert await fleet.wait_settled(timeout=30)
        assert fleet.supervisors["lazy"].state == ServerState.IDLE and fleet.supervisors["lazy"].pid is None
        assert fleet.tools() == []
        result = await fleet.call_tool("lazy__echo", {"text": "woke up"})
        assert result.structured_content == {"result": "woke up"}
        assert fleet.supervisors["lazy"].state == ServerState.READY
        with pytest.raises(ServerUnavailable, match="disabled in the fleet file"):
            await fleet.call_tool("off__echo", {"text": "x"})
        with pytest.raises(RoutingError, match="no tool named 'lazy__nope'"):
            await fleet.call_tool("lazy__nope", {})
        with pytest.raises(RoutingError, match="no tool named"):
            await fleet.call_tool("nobody__echo", {})


async def test_protocol_errors_and_tool_errors_are_told_apart(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    async with Fleet(fleet_config({"slow": peers.script("slow_server")}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        bad = await fleet.call_tool("slow__echo", {"text": 42})  # an argument the tool rejects
        assert bad.is_error
        with pytest.raises(RemoteError) as caught:
            await fleet.read_resource("nothing://here", server="slow")
        assert caught.value.server == "slow" and caught.value.code == types.INVALID_PARAMS
        with pytest.raises(RoutingError, match="no ready server offers"):
            await fleet.read_resource("nothing://here")


async def test_injected_callbacks_declare_capabilities_and_answer_the_server(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    asked: list[tuple[str, str]] = []

    async def sampling(ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        asked.append(("sampling", getattr(params.messages[0].content, "text", "")))
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="scripted answer"), model="script"
        )

    async def elicitation(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(("elicitation", params.message))
        return types.ElicitResult(action="decline")

    def callbacks(server: Any) -> ClientCallbacks:
        if server.name == "plain":
            return ClientCallbacks()
        return ClientCallbacks(sampling=sampling, elicitation=elicitation)

    config = fleet_config({"relayed": peers.everything(), "plain": peers.everything()})
    async with Fleet(config, settings, callbacks=callbacks) as fleet:
        await fleet.wait_settled(timeout=30)
        relayed = {t.tool.name for t in fleet.tools("relayed")}
        plain = {t.tool.name for t in fleet.tools("plain")}
        if "trigger-sampling-request" not in relayed:  # registered after initialize, then list_changed
            async with fleet.events() as events:
                await next_event(events, "tools_changed", "relayed")
            relayed = {t.tool.name for t in fleet.tools("relayed")}
        assert {"trigger-sampling-request", "trigger-elicitation-request"} <= relayed
        assert "trigger-sampling-request" not in plain
        result = await fleet.call_tool(
            "relayed__trigger-sampling-request", {"prompt": "hello", "maxTokens": 5}
        )
        assert "scripted answer" in tool_text(result)
        result = await fleet.call_tool("relayed__trigger-elicitation-request", {})
        assert not result.is_error
    assert asked[0] == ("sampling", "Resource trigger-sampling-request context: hello")
    assert asked[1][0] == "elicitation"


async def test_a_failed_server_can_be_started_again(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any, tmp_path: Path
) -> None:
    flag = tmp_path / "fixed"
    server = peers.servers_dir / "slow_server.py"
    entry = {
        "command": "sh",
        "args": ["-c", f"test -e {flag} || exit 7; exec {sys.executable} {server}"],
        "folio": {"restart": {"max_deaths": 2}},
    }
    async with Fleet(fleet_config({"flaky": entry}), settings) as fleet:
        await fleet.wait_settled(timeout=30)
        assert fleet.supervisors["flaky"].state == ServerState.FAILED
        flag.touch()
        fleet.start(["flaky"])
        assert await fleet.wait_settled(["flaky"], timeout=30)
        assert fleet.supervisors["flaky"].state == ServerState.READY
        assert (await fleet.call_tool("flaky__echo", {"text": "fixed"})).structured_content == {
            "result": "fixed"
        }


async def test_servers_inherit_the_network_settings_but_not_folio_settings_or_keys(
    fleet_config: MakeConfig, settings: FolioSettings, peers: Any
) -> None:
    environ = {
        "SSL_CERT_FILE": "/etc/corp/ca.pem",
        "https_proxy": "http://proxy.corp:3128",
        "NO_PROXY": "localhost,127.0.0.1",
        "UV_INDEX_URL": "https://pypi.corp/simple",
        "NODE_EXTRA_CA_CERTS": "/etc/corp/ca.pem",
        "FOLIO_DATABASE_URL": "postgresql://u:secret@db/folio",
        "ANTHROPIC_API_KEY": "sk-ant-secret",
        "OPENAI_API_KEY": "sk-secret",
        "AWS_SECRET_ACCESS_KEY": "hidden",
    }
    config = fleet_config({"env": {**peers.script("env_server"), "env": {"NO_PROXY": "*"}}})
    async with Fleet(config, settings, environ=environ) as fleet:
        result = await fleet.call_tool("env__environ")
    seen = result.structured_content
    assert seen is not None and not result.is_error
    assert seen["SSL_CERT_FILE"] == "/etc/corp/ca.pem"
    assert seen["NODE_EXTRA_CA_CERTS"] == "/etc/corp/ca.pem"
    assert seen["https_proxy"] == "http://proxy.corp:3128"
    assert seen["UV_INDEX_URL"] == "https://pypi.corp/simple"
    assert seen["NO_PROXY"] == "*"  # the fleet entry wins
    assert not any(key.startswith("FOLIO_") for key in seen)
    assert not {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY"} & set(seen)
