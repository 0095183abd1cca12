"""A server whose tools and resources change at run time (list-changed and resource updates, both eras)."""

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

mcp = MCPServer("dynamic", version="0.0.1")
_legacy_subscribers: dict[str, list[object]] = {}


async def _on_subscribe(ctx: object, params: SubscribeRequestParams) -> EmptyResult:
    _legacy_subscribers.setdefault(params.uri, []).append(ctx.session)  # type: ignore[attr-defined]
    return EmptyResult()


async def _on_unsubscribe(ctx: object, params: UnsubscribeRequestParams) -> EmptyResult:
    _legacy_subscribers.pop(params.uri, None)
    return EmptyResult()


mcp._lowlevel_server.add_request_handler("resources/subscribe", SubscribeRequestParams, _on_subscribe)
mcp._lowlevel_server.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, _on_unsubscribe)
_counter = {"value": 0}


@mcp.resource("dyn://counter", mime_type="text/plain")
def counter() -> str:
    """A counter that bump increments."""
    return str(_counter["value"])


@mcp.tool()
async def add_tool(name: str, ctx: Context) -> str:
    """Register a new tool called ``name`` and tell the client the list changed."""

    async def extra() -> str:
        return name

    mcp.add_tool(extra, name=name, description=f"added at run time: {name}")
    if ctx.protocol_version == "2026-07-28":
        await ctx.notify_tools_changed()
    else:
        await ctx.session.send_tool_list_changed()
    return f"added {name}"


@mcp.tool()
async def bump(ctx: Context) -> int:
    """Increment the counter and tell subscribers."""
    _counter["value"] += 1
    if ctx.protocol_version == "2026-07-28":
        await ctx.notify_resource_updated("dyn://counter")
    else:
        for session in _legacy_subscribers.get("dyn://counter", []):
            await session.send_resource_updated("dyn://counter")  # type: ignore[attr-defined]
    return _counter["value"]


if __name__ == "__main__":
    mcp.run()
