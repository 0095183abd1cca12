"""The /mcp gateway through the SDK's Streamable HTTP client against a real uvicorn, in both eras."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from folio_orchestrator.web.app import ServeOptions

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def fleet_with_two(fleet_config: Any, peers: Any) -> Any:
    """Two copies of the test server: the same tool names, told apart by the routed names."""
    return fleet_config({"web": peers.script("web_server"), "web2": peers.script("web_server")})


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_the_gateway_exposes_the_fleet_under_routed_names(
    fleet_config: Any, peers: Any, web_settings: Any, serving: Any, mode: str
) -> None:
    config = fleet_with_two(fleet_config, peers)
    with anyio.fail_after(120):
        async with serving(config, web_settings, None) as served:
            _, secret = await served.service.tokens.create("gateway", audience="owner")
            async with Client(f"{served.url}/mcp", mode=mode) as visitor:  # type: ignore[arg-type]
                era = visitor.protocol_version
                public_tools = {t.name for t in (await visitor.list_tools()).tools}
                looked = await visitor.call_tool("web2__lookup", {"topic": "gateways"})
                hidden = await visitor.call_tool("web__forget_everything", {})
                resources = [r.uri for r in (await visitor.list_resources()).resources]
                about = await visitor.read_resource("webtest://about")
                prompts = {p.name for p in (await visitor.list_prompts()).prompts}
                prompt = await visitor.get_prompt("web__greet", {"name": "Ada"})
                reported: list[tuple[float, float | None, str | None]] = []

                async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                    reported.append((progress, total, message))

                stepped = await visitor.call_tool("web__steps", {"count": 3}, progress_callback=on_progress)
                with pytest.raises(MCPError):
                    await visitor.read_resource("nowhere://at-all")
            headers = {"Authorization": f"Bearer {secret}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=60) as http,
                Client(streamable_http_client(f"{served.url}/mcp", http_client=http), mode=mode) as owner,  # type: ignore[arg-type]
            ):
                owner_tools = {t.name for t in (await owner.list_tools()).tools}
                forgot = await owner.call_tool("web__forget_everything", {})
            async with httpx2.AsyncClient(timeout=60) as http:
                bad = await http.post(
                    f"{served.url}/mcp", json={}, headers={"Authorization": "Bearer folio_" + "x" * 40}
                )
                wrong_host = await http.post(
                    f"{served.url}/mcp",
                    json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                    headers={"Host": "evil.example", "Accept": "application/json, text/event-stream"},
                )
    assert (era == "2026-07-28") == (mode == "2026-07-28")
    assert {"web__lookup", "web2__lookup", "web__chart", "web2__introduce"} <= public_tools
    assert "web__forget_everything" not in public_tools
    assert looked.structured_content == {"result": "notes on gateways (audience unset)"}
    assert hidden.is_error and "there is no tool" in hidden.content[0].text  # type: ignore[union-attr]
    assert resources.count("webtest://about") == 2  # both servers list it
    assert about.contents[0].text == "a test server"  # type: ignore[union-attr]
    assert {"web__greet", "web2__greet"} <= prompts
    assert "Ada" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert stepped.structured_content == {"result": "did 3 steps"}
    assert reported == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
    assert "web__forget_everything" in owner_tools
    assert forgot.structured_content == {"result": "forgotten"}
    assert bad.status_code == 401
    assert wrong_host.status_code == 421


async def test_allowed_hosts_let_a_real_hostname_through(
    fleet_config: Any, peers: Any, web_settings: Any, serving: Any
) -> None:
    config = fleet_config({"web": peers.script("web_server")})
    options = ServeOptions(allowed_hosts=("folio.example.org",))
    with anyio.fail_after(120):
        async with (
            serving(config, web_settings, None, options=options, audiences=["public"]) as served,
            httpx2.AsyncClient(timeout=60) as http,
        ):
            answer = await http.post(
                f"{served.url}/mcp",
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "t", "version": "1"},
                    },
                },
                headers={"Host": "folio.example.org", "Accept": "application/json, text/event-stream"},
            )
    assert answer.status_code == 200


async def test_a_servers_form_is_relayed_to_a_handshake_era_client_and_declined_otherwise(
    fleet_config: Any, peers: Any, web_settings: Any, serving: Any
) -> None:
    from mcp.client import ClientRequestContext
    from mcp.types import ElicitRequestParams, ElicitResult

    config = fleet_config({"web": peers.script("web_server")})
    asked: list[str] = []

    async def answer(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"name": "Lin", "role": "engineer", "newsletter": False})

    with anyio.fail_after(120):
        async with serving(config, web_settings, None, audiences=["public"]) as served:
            async with Client(f"{served.url}/mcp", mode="legacy", elicitation_callback=answer) as legacy:
                relayed = await legacy.call_tool("web__introduce", {})
            async with Client(f"{served.url}/mcp", mode="2026-07-28", elicitation_callback=answer) as modern:
                declined = await modern.call_tool("web__introduce", {})
            async with Client(f"{served.url}/mcp", mode="legacy") as silent:
                no_capability = await silent.call_tool("web__introduce", {})
    assert asked == ["Who is asking?"]
    assert relayed.structured_content == {"result": "hello Lin, engineer"}
    assert declined.structured_content == {"result": "no introduction (decline)"}
    assert no_capability.structured_content == {"result": "no introduction (decline)"}


async def test_a_servers_sampling_goes_to_a_handshake_era_client_and_to_the_service_model_otherwise(
    fleet_config: Any, peers: Any, web_settings: Any, serving: Any
) -> None:
    from mcp.client import ClientRequestContext
    from mcp.types import CreateMessageRequestParams, CreateMessageResult, TextContent

    from folio_orchestrator.llm import FunctionModel

    config = fleet_config({"web": peers.script("web_server", sampling={"policy": "auto"})})
    asked: list[str] = []

    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        asked.append(params.messages[0].content.text)  # type: ignore[union-attr]
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="from the client"), model="m"
        )

    service_model = FunctionModel(lambda messages, request: "from the service", model_name="own")
    with anyio.fail_after(120):
        async with serving(config, web_settings, service_model, audiences=["public"]) as served:
            async with Client(f"{served.url}/mcp", mode="legacy", sampling_callback=sample) as legacy:
                relayed = await legacy.call_tool("web__summarise", {"topic": "kafka"})
            async with Client(f"{served.url}/mcp", mode="2026-07-28", sampling_callback=sample) as modern:
                own = await modern.call_tool("web__summarise", {"topic": "kafka"})
    assert asked == ["one line on kafka"]
    assert relayed.structured_content == {"result": "from the client"}
    assert own.structured_content == {"result": "from the service"}


async def test_an_unknown_session_is_404_so_clients_start_again(
    fleet_config: Any, peers: Any, web_settings: Any, serving: Any
) -> None:
    config = fleet_config({"web": peers.script("web_server")})
    with anyio.fail_after(120):
        async with (
            serving(config, web_settings, None, audiences=["public"]) as served,
            httpx2.AsyncClient(timeout=60) as http,
        ):
            answer = await http.post(
                f"{served.url}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={
                    "Accept": "application/json, text/event-stream",
                    "Mcp-Session-Id": "0123456789abcdef0123456789abcdef",
                    "MCP-Protocol-Version": "2025-11-25",
                },
            )
    assert answer.status_code == 404


async def test_a_handshake_era_client_hears_when_the_fleets_tools_change(
    fleet_config: Any, peers: Any, web_settings: Any, serving: Any
) -> None:
    from mcp.types import ToolListChangedNotification

    config = fleet_config({"dynamic": peers.script("dynamic_server")})
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            changed.set()

    with anyio.fail_after(120):
        async with serving(config, web_settings, None, audiences=["owner"]) as served:
            _, secret = await served.service.tokens.create("dyn", audience="owner")
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {secret}"}, timeout=60) as http,
                Client(
                    streamable_http_client(f"{served.url}/mcp", http_client=http),
                    mode="legacy",
                    message_handler=on_message,
                ) as client,
            ):
                before = {t.name for t in (await client.list_tools()).tools}
                await client.call_tool("dynamic__add_tool", {"name": "fresh"})
                await changed.wait()
                after = {t.name for t in (await client.list_tools()).tools}
    assert "dynamic__fresh" not in before
    assert "dynamic__fresh" in after
