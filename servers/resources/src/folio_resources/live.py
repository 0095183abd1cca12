"""The protocol handlers the SDK's ``MCPServer`` does not give the shape this server needs:

* ``resources/list`` paginated (every document, with title, MIME type, size, modification time);
* ``resources/read`` for ``docs://{path}`` (extracted text, or a blob for binaries) and
  ``docs-raw://{path}`` (the original bytes), with the same uniform refusal as the tools;
* ``resources/subscribe`` and ``subscriptions/listen`` accept only documents the caller may read;
* handshake-era connections are remembered so ``notifications/resources/list_changed`` reaches them.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import anyio
from mcp.server.lowlevel.server import HandlerEntry
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    Annotations,
    BlobResourceContents,
    ListResourcesResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    TextResourceContents,
)
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS

from folio_core.mcp import FolioServer
from folio_core.validation import show_text, text_problem
from folio_resources.errors import DocsError, NotFoundError
from folio_resources.library import MAX_FILE_BYTES, RAW_SCHEME, SCHEME
from folio_resources.service import PAGE_SIZE, DocsService, decode_cursor, encode_cursor, modified_iso

BLOB_LIMIT = 10 * 1024 * 1024
"""Binaries larger than this are not sent as blobs."""
SESSIONS_KEY = "docs.sessions"


def _refusal(uri: str, message: str) -> MCPError:
    return MCPError(INVALID_PARAMS, message, data={"uri": show_text(uri)[1:-1]})


def split_uri(uri: str) -> tuple[bool, str]:
    """(raw?, document path) of a docs:// or docs-raw:// URI; MCPError for anything else."""
    if (found := text_problem(uri)) is not None:
        problem, fix = found
        raise _refusal(uri, f"The resource URI {problem}; {fix}.")
    for scheme, raw in ((RAW_SCHEME, True), (SCHEME, False)):
        if uri.startswith(scheme):
            try:
                path = unquote(uri[len(scheme) :], errors="strict")
            except UnicodeDecodeError:
                break
            if "?" in uri or "#" in uri:
                break
            return raw, path
    raise _refusal(
        uri, f"Unknown resource {show_text(uri)}; documents are docs://{{path}} (see resources/list)."
    )


def install_live(folio: FolioServer) -> None:
    lowlevel = folio.mcp._lowlevel_server  # documented way to add handlers the SDK lacks

    async def service() -> DocsService:
        return DocsService.of(await folio.ready_runtime())

    async def remember(ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        if (
            getattr(ctx, "protocol_version", None) in HANDSHAKE_PROTOCOL_VERSIONS
            and folio.runtime is not None
        ):
            session = ctx.session
            sessions = folio.runtime.state.setdefault(SESSIONS_KEY, {})
            sessions.setdefault(id(getattr(session, "_connection", session)), session)
        return await call_next(ctx)

    lowlevel.middleware.append(remember)

    async def list_resources(ctx: Any, params: PaginatedRequestParams) -> ListResourcesResult:
        svc = await service()
        try:
            after = decode_cursor(params.cursor) if params.cursor else None
            await svc.index_state()  # waits a little for the start-up index
        except ToolError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        rows = await svc.index.listing("", after, PAGE_SIZE + 1, svc.public_only)
        resources = []
        for r in rows[:PAGE_SIZE]:
            if not svc.library.allowed(r["path"]):
                continue
            described = svc.describe_row(r)
            resources.append(
                Resource(
                    uri=described["uri"],
                    name=r["path"].rsplit("/", 1)[-1],
                    title=r["title"],
                    description=f"{r['kind']} document {r['path']}",
                    mime_type=r["mime"],
                    size=r["size"],
                    annotations=Annotations(last_modified=modified_iso(r["mtime_ns"])),
                )
            )
        more = len(rows) > PAGE_SIZE
        return ListResourcesResult(
            resources=resources, next_cursor=encode_cursor(rows[PAGE_SIZE - 1]["path"]) if more else None
        )

    async def read_resource(ctx: Any, params: ReadResourceRequestParams) -> ReadResourceResult:
        uri = str(params.uri)
        raw, path = split_uri(uri)
        svc = await service()
        try:
            document = await anyio.to_thread.run_sync(svc.library.read, path)
        except NotFoundError as exc:
            raise _refusal(uri, str(exc)) from exc
        except DocsError as exc:
            raise _refusal(uri, str(exc)) from exc
        ex = document.extracted
        if ex.confirm:
            raise _refusal(
                uri,
                f"{path} asks for the user's confirmation before it is read; call docs_read, which asks them.",
            )
        if raw or ex.text is None:
            if document.info.size > min(BLOB_LIMIT, MAX_FILE_BYTES):
                raise _refusal(
                    uri, f"{path} is {document.info.size:,} bytes; blobs of at most {BLOB_LIMIT:,} are sent"
                )
            blob = BlobResourceContents(
                uri=uri, blob=base64.b64encode(document.data).decode(), mime_type=ex.mime
            )
            return ReadResourceResult(contents=[blob])
        mime = "text/markdown" if ex.kind == "markdown" else "text/plain"
        return ReadResourceResult(contents=[TextResourceContents(uri=uri, text=ex.text, mime_type=mime)])

    lowlevel.add_request_handler("resources/list", PaginatedRequestParams, list_resources)
    lowlevel.add_request_handler("resources/read", ReadResourceRequestParams, read_resource)

    notifier_subscribe = lowlevel._request_handlers["resources/subscribe"].handler

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> Any:
        uri = str(params.uri)
        _, path = split_uri(uri)
        svc = await service()
        if not await svc.may_watch(uri):
            raise _refusal(uri, str(NotFoundError(path)))
        return await notifier_subscribe(ctx, params)

    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)

    listen_entry = lowlevel._request_handlers.get("subscriptions/listen")
    if listen_entry is not None:
        listen = listen_entry.handler

        async def gated_listen(ctx: Any, params: SubscriptionsListenRequestParams) -> Any:
            wanted = params.notifications.resource_subscriptions or []
            if wanted:
                svc = await service()
                allowed = [uri for uri in wanted if await svc.may_watch(uri)]
                notifications = params.notifications.model_copy(update={"resource_subscriptions": allowed})
                params = params.model_copy(update={"notifications": notifications})
            return await listen(ctx, params)

        lowlevel._request_handlers["subscriptions/listen"] = HandlerEntry(
            listen_entry.params_type, gated_listen
        )
