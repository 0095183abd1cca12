"""The ``/mcp`` gateway: the whole fleet as one MCP server over Streamable HTTP.

Tools and prompts carry the chat's collision-free names (``<server>__<tool>`` where two servers
share a name), resources keep their URIs. One low-level SDK ``Server`` per audience forwards
every request to that audience's fleet, whose long-lived stdio sessions serve it: no handshake
per call and no server process shared between audiences. Requests without a bearer token get the
public audience (read-only tools only); an owner token gets the owner's fleet.

Both protocol eras are served on the one route. 2026-07-28 requests are sessionless; handshake-era
clients keep an in-process session, so they need sticky routing when several replicas run.
A fleet server's elicitation during a gateway call is relayed to the connected client when it has
a back-channel (a handshake-era session that declared elicitation); otherwise the service's policy
declines it and says why (``_meta["folio/reason"]``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
import structlog
from mcp import MCPError
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from folio_orchestrator import __version__
from folio_orchestrator.errors import CallTimeout, FolioHostError, RoutingError

if TYPE_CHECKING:
    from folio_orchestrator.web.service import WebService

log = structlog.get_logger(__name__)
LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def transport_security(allowed_hosts: Iterable[str]) -> TransportSecuritySettings:
    """Loopback Host headers, plus ``allowed_hosts`` (``host`` or ``host:port``, ``*`` for any port).

    Behind a real hostname, requests with an unlisted Host get 421 from the SDK: set
    ``FOLIO_SERVE_ALLOWED_HOSTS`` (comma-separated) to the names clients use.
    """
    extra = [h.strip() for h in allowed_hosts if h.strip()]
    hosts = [*LOOPBACK_HOSTS, *extra, *[f"{h}:*" for h in extra if ":" not in h]]
    origins = [*LOOPBACK_ORIGINS, *[f"{s}://{h}" for h in extra for s in ("http", "https")]]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def build_server(
    service: WebService, audience: str, sessions: weakref.WeakSet[Any] | None = None
) -> Server[Any]:
    """The gateway's MCP server for one audience; ``sessions`` collects the connections of the
    handshake-era sessions that listed something (they hear of the fleet's list changes)."""

    def seen(ctx: Any) -> None:
        connection = getattr(ctx.session, "_connection", None)  # lives as long as the client's session
        if sessions is not None and connection is not None and ctx.protocol_version != "2026-07-28":
            sessions.add(connection)

    def fleet() -> Any:
        return service.host(audience).fleet

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        seen(ctx)
        return types.ListToolsResult(
            tools=[t.tool.model_copy(update={"name": t.name}) for t in service.tools(audience)]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        from folio_orchestrator.web.service import GatewayCall, ServiceError

        token = (ctx.meta or {}).get("progress_token")
        relay = None
        if token is not None:

            async def relay(progress: float, total: float | None, message: str | None) -> None:
                # the fleet server's progress, passed on to the client under its own token
                await ctx.session.send_progress_notification(
                    token, progress, total, message, related_request_id=ctx.request_id
                )

        try:
            return await service.call_tool(
                audience, params.name, dict(params.arguments or {}), gateway=GatewayCall(ctx), progress=relay
            )
        except ServiceError as exc:
            return _error_result(str(exc))

    async def list_resources(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        seen(ctx)
        return types.ListResourcesResult(resources=[r for _, r in fleet().resources()])

    async def list_templates(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[t for _, t in fleet().templates()])

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        try:
            fleet = service.host(audience).fleet
            # a URI several servers list is read from the first of them, in fleet order
            listed = [name for name, r in fleet.resources() if r.uri == params.uri]
            _, result = await fleet.read_resource(params.uri, server=listed[0] if listed else None)
        except RoutingError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc), {"uri": params.uri}) from None
        except CallTimeout as exc:
            raise MCPError(types.REQUEST_TIMEOUT, str(exc)) from None
        except FolioHostError as exc:
            raise MCPError(types.INTERNAL_ERROR, str(exc)) from None
        found: types.ReadResourceResult = result
        return found

    async def list_prompts(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        seen(ctx)
        return types.ListPromptsResult(
            prompts=[p.prompt.model_copy(update={"name": p.name}) for p in fleet().prompts()]
        )

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        try:
            prompt: types.GetPromptResult = await service.host(audience).fleet.get_prompt(
                params.name, dict(params.arguments or {})
            )
            return prompt
        except RoutingError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        except FolioHostError as exc:
            raise MCPError(types.INTERNAL_ERROR, str(exc)) from None

    return Server(
        "folio",
        version=__version__,
        title="Folio",
        instructions=(
            f"The tools, resources and prompts of the owner's Folio fleet, for the {audience} audience."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


class Gateway:
    """The ``/mcp`` ASGI endpoint; :meth:`running` runs the session managers (the host app's
    lifespan must enter it: a mounted app's own lifespan does not run)."""

    def __init__(self, service: WebService, *, allowed_hosts: Iterable[str] = ()) -> None:
        self.service = service
        self.security = transport_security(allowed_hosts)
        self.managers: dict[str, StreamableHTTPSessionManager] = {}
        self.sessions: dict[str, weakref.WeakSet[Any]] = {}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            tg = await stack.enter_async_context(anyio.create_task_group())
            for audience in self.service.audiences:
                sessions: weakref.WeakSet[Any] = weakref.WeakSet()
                self.sessions[audience] = sessions
                manager = StreamableHTTPSessionManager(
                    app=build_server(self.service, audience, sessions), security_settings=self.security
                )
                await stack.enter_async_context(manager.run())
                self.managers[audience] = manager
                tg.start_soon(self._forward_changes, audience)
            yield
            tg.cancel_scope.cancel()
            self.managers.clear()

    async def _forward_changes(self, audience: str) -> None:
        """Tell the handshake-era sessions that listed something when the fleet's lists change."""
        fleet = self.service.host(audience).fleet
        senders = {
            "tools_changed": "notifications/tools/list_changed",
            "resources_changed": "notifications/resources/list_changed",
            "prompts_changed": "notifications/prompts/list_changed",
        }
        async with fleet.events() as events:
            async for event in events:
                method = senders.get(event.kind)
                if method is None:
                    continue
                for connection in list(self.sessions[audience]):
                    try:
                        await connection.outbound.notify(method, None)
                    except Exception as exc:  # a session that went away: forget it
                        log.debug("list change not delivered", error=str(exc))
                        self.sessions[audience].discard(connection)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from folio_orchestrator.web.service import Principal

        audience = "public"
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization")
        if header is not None:
            scheme, _, secret = header.decode("latin-1").partition(" ")
            token = await self.service.tokens.verify(secret.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                await _json(
                    send,
                    401,
                    "this token is unknown, revoked or expired",
                    {"WWW-Authenticate": 'Bearer realm="folio"'},
                )
                return
            audience = token.audience
            principal = Principal("token", str(token.id), token.audience)
        else:
            client = scope.get("client")
            address = client[0] if client else ""
            principal = Principal("visitor", f"gateway-{address}", "public", address)
        from folio_orchestrator.web.limits import Limited

        try:
            await self.service.hit(principal)
        except Limited as exc:
            await _json(send, 429, str(exc), {"Retry-After": str(exc.retry_after)})
            return
        manager = self.managers.get(audience)
        if manager is None:
            await _json(send, 403, f"this service does not serve the {audience} audience")
            return
        await manager.handle_request(scope, receive, send)


async def _json(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
