"""FolioServer over real stdio: every line gets its answer, good traffic of both eras passes, and
the generated-input harness both passes a sound server and catches a broken one."""

import json
import signal
import sys
from pathlib import Path

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client, StdioServerParameters

from folio_core.testing import tool_text
from folio_core.testing_fuzz import fuzz_stdio_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TINY = Path(__file__).parent / "helpers" / "tiny_server.py"
COMMAND = [sys.executable, str(TINY)]
UNREACHABLE_DATABASE = "postgresql://127.0.0.1:1/none"  # the tiny server's tools need no database


def tiny_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"FOLIO_DATABASE_URL": UNREACHABLE_DATABASE, "FOLIO_DATA_DIR": str(tmp_path / "data"), **extra}


async def test_generated_bad_input_all_gets_clean_answers_and_the_server_keeps_answering(
    tmp_path: Path,
) -> None:
    report = await fuzz_stdio_server(COMMAND, tiny_env(tmp_path), examples_per_tool=25, envelope_count=60)
    assert report.failures == [], report.summary()
    assert report.cases["tools"] >= 40 and report.cases["malformed lines"] > 30
    assert report.replies >= sum(report.cases.values())


async def test_the_harness_reports_a_tool_that_crashes_on_bad_input(tmp_path: Path) -> None:
    report = await fuzz_stdio_server(
        COMMAND, tiny_env(tmp_path, TINY_WITH_A_BUG="1"), examples_per_tool=10, envelope_count=0
    )
    crashes = [f for f in report.failures if f.startswith("tools/call crash") and "the tool crashed" in f]
    assert crashes, report.summary()
    assert any("a traceback in the server's log" in f for f in report.failures)


async def test_the_harness_reports_a_server_that_goes_away(tmp_path: Path) -> None:
    report = await fuzz_stdio_server(
        COMMAND, tiny_env(tmp_path, TINY_DIES_ON_A_CALL="1"), examples_per_tool=10, envelope_count=0
    )
    assert any("the server went away" in f and "tools/call" in f for f in report.failures), report.summary()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_well_formed_traffic_of_both_eras_passes_through_unchanged(tmp_path: Path, mode: str) -> None:
    params = StdioServerParameters(command=COMMAND[0], args=COMMAND[1:], env=tiny_env(tmp_path))
    async with Client(params, mode=mode) as client:
        echoed = await client.call_tool("echo", {"text": "héllo 😀", "times": 2})
        refused = await client.call_tool("echo", {"text": "a\x00b"})
        prompt = await client.get_prompt("greet", {"name": "Ada"})
    assert tool_text(echoed) == "héllo 😀 héllo 😀"
    assert refused.is_error and "text contains a NUL character" in tool_text(refused)
    assert "Say hello to Ada" in str(prompt.messages[0].content)


async def test_sigterm_ends_a_server_whose_client_still_holds_stdin(tmp_path: Path) -> None:
    process = await anyio.open_process(COMMAND, env={**tiny_env(tmp_path), "PATH": "/usr/bin:/bin"})
    async with process:
        assert process.stdin is not None and process.stdout is not None
        hello = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
        await process.stdin.send(line.encode() + b"\n")
        reply = json.loads(await BufferedByteReceiveStream(process.stdout).receive_until(b"\n", 1 << 20))
        assert reply["id"] == 1 and "result" in reply
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(30):  # safety net: before, the process waited for stdin to close
            code = await process.wait()
    assert code == 128 + signal.SIGTERM
