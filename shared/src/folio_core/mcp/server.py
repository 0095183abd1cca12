"""Building a Folio MCP server: audience-gated tools and a runtime that starts in the background.

A stdio server must answer the client's handshake quickly, so the slow work (starting the
embedded PostgreSQL, migrations, importing the portfolio, loading the embedding model) runs in a
background task started by the lifespan. Tools await :meth:`Runtime.ready` and report a failed
start-up as a ``ToolError`` the model can relay.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import structlog
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, ToolAnnotations

from folio_core.mcp.guard import GuardedMCPServer
from folio_core.mcp.notify import ResourceNotifier
from folio_core.settings import FolioSettings

if TYPE_CHECKING:
    # Imported lazily at run time: a stdio server must answer the handshake before loading
    # the database driver, numpy and the embedding runtime.
    from folio_core.cache import Cache
    from folio_core.db.migrations import Migration
    from folio_core.db.pool import Pool
    from folio_core.embeddings import Embedder

log = structlog.get_logger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def write_annotations(*, destructive: bool, idempotent: bool = False) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent, open_world_hint=False
    )


# What a client asks while it connects: the handshake, then the listings. None of it needs the
# runtime, and a host counts the server as started once they are answered.
_CONNECT_METHODS = frozenset(
    {
        "initialize",
        "notifications/initialized",
        "server/discover",
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
        "ping",
        "logging/setLevel",
    }
)
_START_ANYWAY_AFTER = 2.0  # seconds to wait for a first request before initialising regardless
# Seconds without a connect request after which the client is done connecting. Generous: a host
# starting a whole fleet is still connecting the other servers, and a request that needs the
# runtime starts it at once anyway.
_SETTLED_AFTER = 1.0


def _import_runtime_modules() -> None:
    import folio_core.cache
    import folio_core.changefeed
    import folio_core.db.pool
    import folio_core.embeddings  # noqa: F401


@functools.cache
def _shared_embedder(spec: str, openai_base_url: str | None) -> Embedder:
    """One embedder per configuration and process: the local model is loaded once, however many
    servers (or in-memory test clients) a process runs."""
    from folio_core.embeddings import make_embedder

    return make_embedder(spec, openai_base_url=openai_base_url)


class Runtime:
    """What a Folio server's tools need: the pool, cache, embedder and change notifier."""

    def __init__(self, settings: FolioSettings, notifier: ResourceNotifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self.database_url: str | None = None
        self._pool: Pool | None = None
        self._cache: Cache | None = None
        self._embedder: Embedder | None = None
        self._ready = anyio.Event()
        self._kick = anyio.Event()  # a request needs the runtime: start at once
        self._connected = anyio.Event()  # the client sent a first connect request
        self._last_connect = 0.0  # when the last connect request was answered
        self._failure: BaseException | None = None
        self._tasks: anyio.abc.TaskGroup | None = None
        self.state: dict[str, Any] = {}

    def start_background(self, name: str, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` for the life of the server (a watcher, a poller): cancelled at shutdown; a
        failure is logged and ends only that task, never the server."""
        if self._tasks is None:
            raise RuntimeError("background tasks start from on_ready, once the runtime is up")

        async def guarded() -> None:
            try:
                await fn()
            except Exception as exc:
                log.error("background task failed", task=name, error=str(exc))

        self._tasks.start_soon(guarded, name=name)

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("the runtime is not ready; await runtime.ready() first")
        return self._pool

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            raise RuntimeError("the runtime is not ready; await runtime.ready() first")
        return self._cache

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            raise RuntimeError("the runtime is not ready; await runtime.ready() first")
        return self._embedder

    async def ready(self, timeout: float = 120.0) -> Runtime:
        """Wait for start-up; raise ``ToolError`` explaining why it failed, if it did."""
        self._kick.set()
        with anyio.move_on_after(timeout):
            await self._ready.wait()
        if not self._ready.is_set():
            raise ToolError("Folio is still starting (database or model loading is slow); try again shortly.")
        if self._failure is not None:
            raise ToolError(f"Folio could not start: {self._failure}")
        return self

    def _succeed(self) -> None:
        self._ready.set()

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        self._ready.set()


OnReady = Callable[[Runtime], Awaitable[None]]


class FolioServer:
    """An ``MCPServer`` with Folio's conventions. ``server.mcp`` is the SDK object."""

    def __init__(
        self,
        name: str,
        settings: FolioSettings,
        *,
        version: str,
        instructions: str,
        package: str,
        migrations: Sequence[Migration],
        feed_prefixes: tuple[str, ...],
        on_ready: OnReady | None = None,
        on_feed_event: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.package = package
        self.migrations = list(migrations)
        self.feed_prefixes = feed_prefixes
        self.on_ready = on_ready
        self.on_feed_event = on_feed_event  # called with each change-feed URI before delivery
        self.notifier = ResourceNotifier()
        self.runtime: Runtime | None = None
        # Edge checks for every tool, prompt and resource; ``mcp.run()`` serves screened stdio.
        self.mcp: MCPServer[Runtime] = GuardedMCPServer(
            name,
            version=version,
            instructions=instructions,
            lifespan=self._lifespan,
            subscriptions=self.notifier.bus,
        )
        self.notifier.install(self.mcp)
        self.mcp._lowlevel_server.middleware.append(self._kick_start)
        self.skipped_tools: list[str] = []

    async def ready_runtime(self) -> Runtime:
        """The ready runtime, for resources and prompts (they take no ``Context``; errors are MCPError)."""
        if self.runtime is None:
            raise MCPError(INTERNAL_ERROR, "Folio's runtime is unavailable: the server is not running.")
        try:
            return await self.runtime.ready()
        except ToolError as exc:
            raise MCPError(INTERNAL_ERROR, str(exc)) from exc

    def tool(self, *, annotations: ToolAnnotations, name: str | None = None) -> Callable[[F], F]:
        """Register a tool, unless the audience is ``public`` and the tool is not read-only."""

        def decorator(fn: F) -> F:
            tool_name = name or fn.__name__
            if self.settings.is_public and annotations.read_only_hint is not True:
                self.skipped_tools.append(tool_name)
                return fn
            self.mcp.add_tool(fn, name=tool_name, annotations=annotations)
            return fn

        return decorator

    async def _kick_start(self, ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        """Start the slow initialisation once the client has connected, not before.

        The handshake (``initialize`` or ``server/discover``) and the listings that follow it are
        what clients wait for; importing the database driver and the embedding runtime meanwhile
        (in a thread, but under the same interpreter lock) would only slow them down. The start
        begins with the first request that needs the runtime, or once connect requests stop.
        """
        runtime = self.runtime
        if runtime is None or runtime._kick.is_set():
            return await call_next(ctx)
        if getattr(ctx, "method", None) in _CONNECT_METHODS:
            runtime._connected.set()
            try:
                return await call_next(ctx)
            finally:
                runtime._last_connect = anyio.current_time()
        runtime._kick.set()
        return await call_next(ctx)

    @staticmethod
    async def _until_connected(runtime: Runtime) -> None:
        """Return when the client needs the runtime or has finished connecting (or never came)."""
        with anyio.move_on_after(_START_ANYWAY_AFTER):
            await runtime._connected.wait()
        if not runtime._connected.is_set():
            return  # nobody connected: start regardless
        while not runtime._kick.is_set():
            # before the first connect request is answered, count the client as busy
            quiet = anyio.current_time() - runtime._last_connect if runtime._last_connect else 0.0
            if runtime._last_connect and quiet >= _SETTLED_AFTER:
                return
            with anyio.move_on_after(_SETTLED_AFTER - quiet):
                await runtime._kick.wait()

    @asynccontextmanager
    async def _lifespan(self, _: MCPServer[Runtime]) -> AsyncIterator[Runtime]:
        runtime = Runtime(self.settings, self.notifier)
        self.runtime = runtime
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._start, runtime, tg)
            try:
                yield runtime
            finally:
                tg.cancel_scope.cancel()
        if runtime._pool is not None:
            await runtime._pool.close()
        if runtime._cache is not None:
            await runtime._cache.aclose()

    async def _start(self, runtime: Runtime, tg: anyio.abc.TaskGroup) -> None:
        await self._until_connected(runtime)
        try:
            # Heavy imports in a worker thread keep the event loop answering meanwhile.
            await anyio.to_thread.run_sync(_import_runtime_modules)
            from folio_core.cache import make_cache
            from folio_core.db.migrations import apply_migrations
            from folio_core.db.pool import open_pool, resolve_database_url

            runtime._cache = make_cache(self.settings, namespace="core")
            runtime._embedder = _shared_embedder(self.settings.embedder, self.settings.openai_base_url)
            url = await resolve_database_url(self.settings)
            runtime.database_url = url
            runtime._pool = await open_pool(url)
            async with runtime._pool.connection() as conn:
                await apply_migrations(conn, self.package, self.migrations)
            feed_started = anyio.Event()
            tg.start_soon(
                lambda: self.notifier.follow(
                    url, self.feed_prefixes, on_event=self.on_feed_event, started=feed_started.set
                )
            )
            await feed_started.wait()
            runtime._tasks = tg
            if self.on_ready is not None:
                await self.on_ready(runtime)
        except Exception as exc:
            log.error("start-up failed", server=self.mcp.name, error=str(exc))
            runtime._fail(exc)
            return
        log.info("ready", server=self.mcp.name, audience=self.settings.audience)
        runtime._succeed()


async def runtime_of(ctx: Context[Any, Any]) -> Runtime:
    """The ready runtime behind a request (waits for start-up to finish)."""
    runtime = ctx.request_context.lifespan_context
    if not isinstance(runtime, Runtime):
        raise ToolError("Folio's runtime is unavailable in this context.")
    return await runtime.ready()
