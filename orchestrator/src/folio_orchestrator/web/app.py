"""The ASGI app of ``folio serve``: the chat page, ``/api/v1``, the ``/mcp`` gateway, operations.

Requests without a bearer token are visitors (the public audience): a ``folio_visitor`` cookie
tells their conversations apart. ``Authorization: Bearer folio_…`` selects the token's audience;
a token that is unknown, revoked or expired gets 401. Every request is counted against the
per-minute limit of its visitor (and client address) or token; a limited request gets 429 with
``Retry-After``. Bodies are capped (413).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import anyio
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from folio_orchestrator.web.limits import Limited
from folio_orchestrator.web.openapi import openapi_document
from folio_orchestrator.web.service import Principal, ServiceError, WebService

log = structlog.get_logger("folio.serve")
access_log = structlog.get_logger("folio.access")

VISITOR_COOKIE = "folio_visitor"
MAX_BODY = 256 * 1024  # bytes of a JSON request body
MAX_MESSAGE = 8000  # characters of a question
STATIC = resources.files("folio_orchestrator.web") / "static"
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class ServeOptions:
    max_body: int = MAX_BODY
    max_message: int = MAX_MESSAGE
    secure_cookie: bool = False
    allowed_hosts: tuple[str, ...] = ()
    """Host headers the /mcp gateway accepts besides loopback ones (``FOLIO_SERVE_ALLOWED_HOSTS``)."""


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"status": status, "message": message}}, status_code=status, headers=headers
    )


class BodyTooLarge(Exception):
    pass


async def read_json(request: Request, limit: int) -> Any:
    """The request's JSON body, read up to ``limit`` bytes (413 beyond, 400 when malformed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ServiceError(413, f"the request body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ServiceError(413, f"the request body is larger than {limit} bytes")
    if not body:
        return {}
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError(400, f"the request body is not JSON: {exc}") from None
    except RecursionError:
        raise ServiceError(400, "the request body is nested too deeply") from None


def check_text(text: str, what: str) -> str:
    """``text`` when it can be stored (no NUL, no lone surrogate); 422 otherwise."""
    if "\x00" in text:
        raise ServiceError(422, f"{what} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ServiceError(422, f"{what} is not valid Unicode (a lone surrogate)") from None
    return text


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class AccessLog:
    """Pure ASGI middleware: one structured line per request (never a header or a token), and the
    request metrics. It leaves streamed bodies alone."""

    def __init__(self, app: ASGIApp, service: WebService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - started
            route = _route_name(scope)
            self.service.metrics.inc(
                "folio_http_requests_total", method=scope["method"], route=route, status=str(status)
            )
            self.service.metrics.observe("folio_http_request_seconds", seconds, route=route)
            client = scope.get("client")
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round(seconds * 1000, 2),
                client=client[0] if client else None,
                auth="bearer" if _has_bearer(scope) else "visitor",
            )


def _has_bearer(scope: Scope) -> bool:
    return any(k == b"authorization" for k, _ in scope.get("headers", []))


def _route_name(scope: Scope) -> str:
    path: str = scope["path"]
    if path.startswith("/api/v1/conversations"):
        parts = path.split("/")
        if len(parts) <= 4:
            return "/api/v1/conversations"
        if len(parts) == 5:
            return "/api/v1/conversations/{id}"
        return "/api/v1/conversations/{id}/" + parts[5]
    if path.startswith("/api/v1/tools/"):
        return "/api/v1/tools/{name}"
    if path.startswith("/static/"):
        return "/static"
    if path.startswith("/mcp"):
        return "/mcp"
    known = {
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/tools",
        "/api/v1/openapi.json",
        "/api/v1/owner",
        "/api/v1/resume",
    }
    return path if path in known else "other"


def create_app(
    service: WebService,
    options: ServeOptions | None = None,
    *,
    lifespan_service: bool = True,
    on_started: Callable[[], None] | None = None,
) -> Starlette:
    """The app. With ``lifespan_service`` the app starts and stops the service (and its fleets)
    in its lifespan; otherwise the caller runs ``service.running()`` around it."""
    opts = options or ServeOptions()
    from folio_orchestrator.web.gateway import Gateway

    gateway = Gateway(service, allowed_hosts=opts.allowed_hosts)

    async def principal_of(request: Request) -> Principal:
        header = request.headers.get("authorization")
        client = request.client.host if request.client else ""
        if header is not None:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise ServiceError(
                    401, "use 'Authorization: Bearer <token>' (`folio tokens create` makes one)"
                )
            token = await service.tokens.verify(secret.strip())
            if token is None:
                raise ServiceError(401, "this token is unknown, revoked or expired")
            return Principal("token", str(token.id), token.audience, client)
        cookie = request.cookies.get(VISITOR_COOKIE)
        if cookie is None or not (20 <= len(cookie) <= 100):
            cookie = request.state.new_visitor = secrets.token_urlsafe(24)
        return Principal.visitor(cookie, client)

    def endpoint(
        handler: Callable[[Request, Principal], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            request.state.new_visitor = None
            try:
                principal = await principal_of(request)
                await service.hit(principal)
                response = await handler(request, principal)
            except ServiceError as exc:
                response = error(exc.status, str(exc))
                if exc.status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="folio"'
            except Limited as exc:
                response = error(429, str(exc), {"Retry-After": str(exc.retry_after)})
            if request.state.new_visitor:
                response.set_cookie(
                    VISITOR_COOKIE,
                    request.state.new_visitor,
                    max_age=365 * 86400,
                    httponly=True,
                    samesite="strict",
                    secure=opts.secure_cookie,
                )
            return response

        return run

    # --- operations ---------------------------------------------------------------------------

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(request: Request) -> Response:
        report = service.ready()
        database = await service.database_ok()
        report["database"] = database
        report["ok"] = report["ok"] and database
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    async def metrics(request: Request) -> Response:
        service.update_fleet_metrics()
        return PlainTextResponse(service.metrics.render(), media_type="text/plain; version=0.0.4")

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    # --- pages --------------------------------------------------------------------------------

    async def index(request: Request) -> Response:
        return Response((STATIC / "index.html").read_bytes(), media_type=_STATIC_TYPES[".html"])

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        suffix = "." + name.rpartition(".")[2]
        path = STATIC / name
        if "/" in name or suffix not in _STATIC_TYPES or not path.is_file():
            return error(404, f"no file {name!r}")
        return Response(path.read_bytes(), media_type=_STATIC_TYPES[suffix])

    # --- the API ------------------------------------------------------------------------------

    async def owner_card(request: Request, principal: Principal) -> Response:
        return JSONResponse(await service.owner_card())

    async def resume(request: Request, principal: Principal) -> Response:
        return PlainTextResponse(await service.resume(principal.audience), media_type="text/markdown")

    async def create_conversation(request: Request, principal: Principal) -> Response:
        await read_json(request, opts.max_body)
        cid = await service.create_conversation(principal)
        return JSONResponse(
            {
                "id": str(cid),
                "audience": principal.audience,
                "messages": f"/api/v1/conversations/{cid}/messages",
            },
            status_code=201,
        )

    async def read_conversation(request: Request, principal: Principal) -> Response:
        return JSONResponse(await service.read_conversation(principal, request.path_params["cid"]))

    async def post_message(request: Request, principal: Principal) -> Response:
        cid = await service.check_access(principal, request.path_params["cid"])
        body = await read_json(request, opts.max_body)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise ServiceError(422, 'send {"content": "<your question>"}')
        if len(content) > opts.max_message:
            raise ServiceError(413, f"a question is at most {opts.max_message} characters")
        check_text(content, "the question")
        await service.check_turn(principal, cid)  # refused turns get their status before any stream
        return await stream_turn(principal, cid, content)

    async def stream_turn(principal: Principal, cid: uuid.UUID, content: str) -> Response:
        # the checks that can refuse the turn happen before the stream starts
        slot = service.limiter.slot(principal.name, principal.audience)
        await slot.__aenter__()
        lock = service.limiter.conversation_lock(str(cid))
        try:
            alone = await lock.__aenter__()
            if not alone:
                await lock.__aexit__(None, None, None)
                raise ServiceError(409, "this conversation is already answering a question; wait for it")
        except BaseException as exc:
            await slot.__aexit__(type(exc), exc, None)
            raise

        send, receive = anyio.create_memory_object_stream[bytes](256)

        async def emit(event: str, data: dict[str, Any]) -> None:
            await send.send(sse(event, data))

        async def produce() -> None:
            async with send:
                try:
                    await service.turn(principal, cid, content, emit)
                except (ServiceError, Limited) as exc:
                    await send.send(sse("error", {"message": str(exc)}))
                    await send.send(sse("done", {"conversation": str(cid), "stopped": "refused"}))
                except Exception as exc:
                    log.exception("turn failed", conversation=str(cid))
                    await send.send(sse("error", {"message": f"the service failed: {type(exc).__name__}"}))
                    await send.send(sse("done", {"conversation": str(cid), "stopped": "failed"}))

        async def body() -> AsyncIterator[bytes]:
            service.streams_open += 1
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(produce)
                    async with receive:
                        async for chunk in receive:
                            yield chunk
            finally:
                service.streams_open -= 1
                with anyio.CancelScope(shield=True):
                    await lock.__aexit__(None, None, None)
                    await slot.__aexit__(None, None, None)

        return StreamingResponse(
            body(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def answer_elicitation(request: Request, principal: Principal) -> Response:
        cid = await service.check_access(principal, request.path_params["cid"])
        body = await read_json(request, opts.max_body)
        if not isinstance(body, dict):
            raise ServiceError(422, 'send {"action": "accept", "content": {...}}')
        await service.answer_elicitation(
            principal, cid, request.path_params["eid"], body.get("action"), body.get("content", {})
        )
        return JSONResponse({"ok": True})

    async def list_tools(request: Request, principal: Principal) -> Response:
        return JSONResponse(
            {
                "tools": [
                    {
                        "name": t.name,
                        "server": t.server,
                        "title": t.tool.title,
                        "description": t.tool.description,
                        "input_schema": t.tool.input_schema,
                        "read_only": bool(t.tool.annotations and t.tool.annotations.read_only_hint),
                    }
                    for t in service.tools(principal.audience)
                ]
            }
        )

    async def call_tool(request: Request, principal: Principal) -> Response:
        body = await read_json(request, opts.max_body)
        arguments = body.get("arguments", {}) if isinstance(body, dict) else None
        if not isinstance(arguments, dict):
            raise ServiceError(422, 'send {"arguments": {...}} (a JSON object)')
        result = await service.call_tool(principal.audience, request.path_params["name"], arguments)
        return JSONResponse(result.model_dump(mode="json", by_alias=True, exclude_none=True))

    routes: list[BaseRoute] = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/api/v1/openapi.json", openapi),
        Route("/api/v1/owner", endpoint(owner_card)),
        Route("/api/v1/resume", endpoint(resume)),
        Route("/api/v1/conversations", endpoint(create_conversation), methods=["POST"]),
        Route("/api/v1/conversations/{cid}", endpoint(read_conversation)),
        Route("/api/v1/conversations/{cid}/messages", endpoint(post_message), methods=["POST"]),
        Route(
            "/api/v1/conversations/{cid}/elicitations/{eid}",
            endpoint(answer_elicitation),
            methods=["POST"],
        ),
        Route("/api/v1/tools", endpoint(list_tools)),
        Route("/api/v1/tools/{name}", endpoint(call_tool), methods=["POST"]),
        Route("/mcp", gateway, methods=["GET", "POST", "DELETE"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if lifespan_service:
                await stack.enter_async_context(service.running())
            await stack.enter_async_context(gateway.running())
            if on_started is not None:
                on_started()
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(AccessLog, service=service)
    return app
