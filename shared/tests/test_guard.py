"""Every FolioServer's edge checks, through the SDK's in-memory Client in both protocol eras."""

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, SubscribeRequestParams

from folio_core.mcp import FolioServer
from folio_core.settings import FolioSettings
from folio_core.testing import tool_text

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]  # handshake era (2025-11-25) and 2026-07-28
UNREACHABLE_DATABASE = "postgresql://127.0.0.1:1/none"  # nothing here needs the runtime


def _tiny() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "tiny_server", Path(__file__).parent / "helpers" / "tiny_server.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(tmp_path: Path) -> FolioServer:
    settings = FolioSettings(database_url=UNREACHABLE_DATABASE, data_dir=tmp_path / "data")
    built: FolioServer = _tiny().build(settings)
    return built


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return tool_text(result)


@pytest.mark.parametrize("mode", ERAS)
async def test_bad_tool_input_is_a_tool_error_naming_the_argument(server: FolioServer, mode: str) -> None:
    async with Client(server.mcp, mode=mode) as client:
        nul = await refused(client, "echo", {"text": "a\x00b"})
        surrogate = await refused(client, "echo", {"text": "\ud800"})
        key = await refused(client, "store", {"items": [{"ok": 1}, {"bad\x00key": 1}]})
        deep = await refused(
            client,
            "echo",
            {"text": "x", "extra": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
        )
        huge = await refused(client, "store", {"items": [{"n": 10**30}]})
        fine = await client.call_tool("echo", {"text": "hi", "times": 2})
    assert nul.startswith("Invalid arguments for echo: text contains a NUL character")
    assert "send the text without NUL characters" in nul
    assert "text contains an unpaired surrogate (\\ud800)" in surrogate
    assert 'items[1] has a key "bad\\u0000key" that contains a NUL character' in key
    assert "extra.a[0]" in deep and "nests deeper than 32 levels" in deep
    assert "items[0].n is an integer beyond" in huge
    assert not fine.is_error and tool_text(fine) == "hi hi"


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
async def test_non_finite_numbers_are_refused_before_the_tool_runs(
    server: FolioServer, number: float
) -> None:
    # A client's JSON encoder turns NaN into null, so this goes through the server's own API
    # (the raw stdio tests send the NaN and Infinity literals).
    with pytest.raises(ToolError) as caught:
        await server.mcp.call_tool("store", {"items": [], "weight": number})
    assert str(caught.value) == (
        "Invalid arguments for store: weight is not a finite number (NaN, Infinity, or too large to "
        "represent, like 1e999999); send a finite number."
    )


@pytest.mark.parametrize("mode", ERAS)
async def test_an_unknown_tool_is_a_tool_error_listing_the_tools(server: FolioServer, mode: str) -> None:
    async with Client(server.mcp, mode=mode) as client:
        text = await refused(client, "nope", {})
    assert text == 'Unknown tool: "nope". This server\'s tools: echo, store.'


async def prompt_error(client: Client, name: str, arguments: dict[str, str] | None = None) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await client.get_prompt(name, arguments)
    return caught.value


@pytest.mark.parametrize("mode", ERAS)
async def test_prompt_argument_errors_are_invalid_params_naming_the_argument(
    server: FolioServer, mode: str
) -> None:
    async with Client(server.mcp, mode=mode) as client:
        missing = await prompt_error(client, "greet")
        unknown = await prompt_error(client, "greet", {"name": "Ada", "colour": "red"})
        invalid = await prompt_error(client, "greet", {"name": "Ada", "tone": "loud"})
        nul = await prompt_error(client, "greet", {"name": "A\x00da"})
        no_such_prompt = await prompt_error(client, "nope")
        fine = await client.get_prompt("greet", {"name": "Ada", "tone": "dry"})
    assert (missing.code, missing.error.data) == (INVALID_PARAMS, {"prompt": "greet", "argument": "name"})
    assert (
        missing.error.message
        == "Prompt greet needs the argument 'name' (Whom to greet.); send it in arguments."
    )
    assert unknown.code == INVALID_PARAMS and 'no argument "colour"' in unknown.error.message
    assert "its arguments: name, tone" in unknown.error.message
    assert (
        invalid.code == INVALID_PARAMS
        and "the argument 'tone' is invalid: Input should be 'warm' or 'dry'" in invalid.error.message
    )
    assert nul.code == INVALID_PARAMS and "'name' contains a NUL character" in nul.error.message
    assert no_such_prompt.code == INVALID_PARAMS
    assert no_such_prompt.error.message == 'Unknown prompt: "nope". This server\'s prompts: broken, greet.'
    assert "Say hello to Ada, dryly." in str(fine.messages[0].content)


@pytest.mark.parametrize("mode", ERAS)
async def test_a_failing_prompt_is_an_internal_error_that_names_the_prompt_only(
    server: FolioServer, mode: str
) -> None:
    async with Client(server.mcp, mode=mode) as client:
        error = await prompt_error(client, "broken")
    assert (error.code, error.error.message) == (INTERNAL_ERROR, "Error rendering prompt broken")


@pytest.mark.parametrize("mode", ERAS)
async def test_resource_uris_pass_the_same_text_rule(server: FolioServer, mode: str) -> None:
    async with Client(server.mcp, mode=mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("tiny://hel\x00lo")
        with pytest.raises(MCPError) as unknown:
            await client.read_resource("tiny://nothing")
        hello = await client.read_resource("tiny://hello")
    assert caught.value.code == INVALID_PARAMS and "contains a NUL character" in caught.value.error.message
    assert unknown.value.code == INVALID_PARAMS
    assert hello.contents[0].text == "hello"  # type: ignore[union-attr]


async def test_a_handler_that_raises_is_answered_with_an_internal_error_never_code_0(
    server: FolioServer,
) -> None:
    async def explode(ctx: Any, params: SubscribeRequestParams) -> None:
        raise RuntimeError("failed reading /var/secret/file")

    server.mcp._lowlevel_server.add_request_handler("resources/subscribe", SubscribeRequestParams, explode)
    async with Client(server.mcp, mode="legacy") as client:  # the SDK's own answer here is code 0
        with pytest.raises(MCPError) as caught:
            await client.subscribe_resource("tiny://hello")
    assert caught.value.code == INTERNAL_ERROR
    assert caught.value.error.message == "Internal error while handling resources/subscribe"
