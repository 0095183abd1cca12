"""The fleet: one supervisor task per server, and the calls routed to them.

A :class:`Supervisor` owns its server: it spawns it, enters ``mcp.Client`` (in its own task, as
the SDK requires), detects the protocol era (``mode="auto"``: 2026-07-28 where the server answers
``server/discover``, the handshake otherwise), records capabilities, lists tools, resources,
templates and prompts, refreshes them on list-changed, and restarts the server with exponential
backoff when it dies, until a crash loop (``max_deaths`` within ``window`` seconds) stops it.

Callers never touch the ``Client``: they call the supervisor's methods from any task. Those use
the live client directly (no queue, so the orchestrator adds next to nothing per call), translate
its failures into :mod:`folio_orchestrator.errors`, and wait for a (re)starting server to become
ready.

The chat plugs in through :class:`ClientCallbacks`: a factory gives each server, at each start,
its sampling, elicitation, roots and logging callbacks. Declaring a callback declares the
capability, which some servers look at before registering tools (server-everything's sampling
tool, for one).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, TypeVar

import anyio
import anyio.abc
import mcp_types as types
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import Client
from mcp.client.session import ElicitationFnT, ListRootsFnT, LoggingFnT, SamplingFnT
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from folio_core.settings import FolioSettings
from folio_orchestrator import __version__
from folio_orchestrator._process import ServerProcess, describe_exit
from folio_orchestrator._spawn import ProcessSpec
from folio_orchestrator.config import FleetConfig, ServerConfig, server_environment, with_default_portfolio
from folio_orchestrator.errors import (
    CallTimeout,
    RemoteError,
    RoutingError,
    ServerDied,
    ServerError,
    ServerUnavailable,
)
from folio_orchestrator.routing import Route, Router

log = structlog.get_logger(__name__)

T = TypeVar("T")
ListKind = Literal["tools", "resources", "prompts"]
_LIST_KINDS: tuple[ListKind, ...] = ("tools", "resources", "prompts")
_PAGE_CAP = 100
STDERR_TAIL = 10


class ServerState(StrEnum):
    DISABLED = "disabled"  # enabled: false in the fleet file
    IDLE = "idle"  # lazy, or not asked for yet
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"  # died; waiting out the backoff
    FAILED = "failed"  # crash loop: no more restarts
    STOPPED = "stopped"


SETTLED = frozenset({ServerState.READY, ServerState.FAILED, ServerState.DISABLED, ServerState.STOPPED})


@dataclass(frozen=True)
class ClientCallbacks:
    """What the host answers when a server asks it something. Each callback declares a capability."""

    sampling: SamplingFnT | None = None
    sampling_capabilities: types.SamplingCapability | None = None
    elicitation: ElicitationFnT | None = None
    list_roots: ListRootsFnT | None = None
    logging: LoggingFnT | None = None
    log_level: types.LoggingLevel | None = None


CallbacksFactory = Callable[[ServerConfig], ClientCallbacks]


@dataclass(frozen=True)
class FleetEvent:
    """Something a server told the fleet. ``kind`` is one of:

    ``state`` (``detail`` = the new state), ``tools_changed`` / ``resources_changed`` /
    ``prompts_changed`` (after the fleet re-listed them), ``resource_updated`` (``uri``),
    ``log`` (``detail`` = the logging notification's params).
    """

    kind: str
    server: str
    uri: str | None = None
    detail: Any = None


@dataclass(frozen=True)
class ServerStatus:
    """A snapshot of one server, for ``folio servers`` and ``--json``."""

    name: str
    state: ServerState
    protocol_version: str | None
    era: str | None
    pid: int | None
    restarts: int
    tools: int
    resources: int
    templates: int
    prompts: int
    capabilities: list[str]
    server_name: str | None
    server_version: str | None
    reason: str | None
    stderr_tail: list[str]
    garbage_lines: int
    command: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "era": self.era,
            "protocol_version": self.protocol_version,
            "pid": self.pid,
            "restarts": self.restarts,
            "counts": {
                "tools": self.tools,
                "resources": self.resources,
                "resource_templates": self.templates,
                "prompts": self.prompts,
            },
            "capabilities": self.capabilities,
            "server_info": {"name": self.server_name, "version": self.server_version},
            "reason": self.reason,
            "stderr_tail": self.stderr_tail,
            "garbage_lines": self.garbage_lines,
            "command": self.command,
        }


def capability_names(caps: types.ServerCapabilities | None) -> list[str]:
    """A compact list: ``tools``, ``resources``, ``resources.subscribe``, ``prompts``, … ``.listChanged``."""
    if caps is None:
        return []
    names: list[str] = []
    for key in ("tools", "resources", "prompts", "logging", "completions", "tasks"):
        value = getattr(caps, key)
        if value is None:
            continue
        names.append(key)
        if getattr(value, "subscribe", None):
            names.append(f"{key}.subscribe")
        if getattr(value, "list_changed", None):
            names.append(f"{key}.listChanged")
    names.extend(f"extension:{ext}" for ext in sorted(caps.extensions or {}))
    return names


def _leaf(exc: BaseException) -> BaseException:
    """The most telling exception inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())]
        exc = (inner or list(exc.exceptions))[0]
    return exc


def _describe_failure(exc: BaseException) -> str:
    leaf = _leaf(exc)
    if isinstance(leaf, FileNotFoundError):
        return f"command not found: {leaf.filename}"
    if isinstance(leaf, PermissionError):
        return f"command not executable: {leaf.filename}"
    if isinstance(leaf, MCPError):
        return f"error {leaf.error.code}: {leaf.error.message}"
    return f"{type(leaf).__name__}: {leaf}"


class _Signal:
    """An event that can fire many times: waiters wait for the next :meth:`fire`."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = anyio.Event()

    async def wait(self) -> None:
        await self._event.wait()


async def _first(*waits: Callable[[], Awaitable[object]]) -> None:
    """Return as soon as one of the awaitables completes."""
    async with anyio.create_task_group() as tg:

        async def one(wait: Callable[[], Awaitable[object]]) -> None:
            await wait()
            tg.cancel_scope.cancel()

        for wait in waits:
            tg.start_soon(one, wait)


class Supervisor:
    """One server: its process, its client, its listings, its restarts."""

    def __init__(
        self,
        config: ServerConfig,
        env: Mapping[str, str],
        *,
        callbacks: CallbacksFactory | None = None,
        client_info: types.Implementation | None = None,
        emit: Callable[[FleetEvent], None] | None = None,
        spawned: anyio.abc.Process | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.spec = ProcessSpec(config.command, config.args, dict(env), config.cwd)
        self._spawned = spawned  # its process for the first run, already started from self.spec
        self._callbacks = callbacks
        self._client_info = client_info or types.Implementation(name="folio", version=__version__)
        self._emit = emit or (lambda event: None)

        self.state = ServerState.DISABLED if not config.options.enabled else ServerState.IDLE
        self.reason: str | None = config.options.note if not config.options.enabled else None
        self.protocol_version: str | None = None
        self.capabilities: types.ServerCapabilities | None = None
        self.server_info: types.Implementation | None = None
        self.instructions: str | None = None
        self.tools: list[types.Tool] = []
        self.resources: list[types.Resource] = []
        self.templates: list[types.ResourceTemplate] = []
        self.prompts: list[types.Prompt] = []
        self.restarts = 0
        self.listing_version = 0

        self._client: Client | None = None
        self._process: ServerProcess | None = None
        self._last_process: ServerProcess | None = None
        self._deaths: deque[float] = deque()
        self._changed = _Signal()
        self._start = anyio.Event()
        self._stop = anyio.Event()
        self._subscriptions: set[str] = set()
        self._subscriptions_changed = _Signal()
        self._listening: frozenset[str] | None = None  # URIs of the open listen stream (2026-07-28)
        self._listening_changed = _Signal()
        self._listen_unsupported = False
        self._dirty: set[ListKind] = set()
        self._dirty_signal = anyio.Event()
        self._ready_since: float | None = None
        self._start_scope: anyio.CancelScope | None = None

    # --- status ------------------------------------------------------------------------------

    @property
    def era(self) -> str | None:
        if self.protocol_version is None:
            return None
        return "2026-07-28" if self.protocol_version in MODERN_PROTOCOL_VERSIONS else "handshake"

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    def stderr_tail(self, lines: int = STDERR_TAIL) -> list[str]:
        process = self._process or self._last_process
        return process.stderr_tail(lines) if process is not None else []

    async def wait_stderr(self, text: str) -> None:
        """Wait until the running server writes a stderr line containing ``text``."""
        process = self._process or self._last_process
        if process is None:
            raise ServerUnavailable(self.name, "has not been started")
        await process.wait_stderr(text)

    def status(self) -> ServerStatus:
        process = self._process or self._last_process
        return ServerStatus(
            name=self.name,
            state=self.state,
            protocol_version=self.protocol_version,
            era=self.era,
            pid=self.pid,
            restarts=self.restarts,
            tools=len(self.tools),
            resources=len(self.resources),
            templates=len(self.templates),
            prompts=len(self.prompts),
            capabilities=capability_names(self.capabilities),
            server_name=self.server_info.name if self.server_info else None,
            server_version=self.server_info.version if self.server_info else None,
            reason=self.reason,
            stderr_tail=self.stderr_tail(),
            garbage_lines=process.garbage_lines if process is not None else 0,
            command=" ".join([self.config.command, *self.config.args]),
        )

    def _set_state(self, state: ServerState, reason: str | None = None) -> None:
        self.state = state
        self.reason = reason
        self._changed.fire()
        self._emit(FleetEvent("state", self.name, detail=state.value))

    # --- control -----------------------------------------------------------------------------

    def start(self) -> None:
        """Ask an idle (lazy) server to start, or a failed one to try again."""
        if self.state == ServerState.FAILED:
            self._deaths.clear()
            self._set_state(ServerState.STARTING, "started again after a crash loop")
        self._start.set()

    def stop(self) -> None:
        self._stop.set()
        if self._start_scope is not None:
            self._start_scope.cancel()  # do not wait out a start-up that is under way

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the server is ready, failed, disabled or stopped; ``False`` on timeout."""
        with anyio.move_on_after(timeout if timeout is not None else math.inf):
            while self.state not in SETTLED and not (
                self.state == ServerState.IDLE and not self._start.is_set()
            ):
                await self._changed.wait()
            return True
        return False

    async def run(self) -> None:
        """The supervisor task: runs until :meth:`stop` (or cancellation)."""
        if not self.config.options.enabled:
            return
        try:
            await self._supervise()
        finally:
            self._client = None
            self._set_state(ServerState.STOPPED, self.reason if self.state == ServerState.FAILED else None)

    async def _supervise(self) -> None:
        options = self.config.options.restart
        failures = 0
        while not self._stop.is_set():
            if not self._start.is_set():
                await _first(self._start.wait, self._stop.wait)
                continue
            self._set_state(ServerState.STARTING, self.reason)
            began = anyio.current_time()
            ended = await self._run_once()
            if self._stop.is_set():
                break
            now = anyio.current_time()
            self._deaths.append(now)
            while self._deaths and self._deaths[0] < now - options.window:
                self._deaths.popleft()
            failures = (
                0 if self._ready_since is not None and now - self._ready_since > options.window else failures
            )
            failures += 1
            if len(self._deaths) >= options.max_deaths:
                self._set_state(
                    ServerState.FAILED,
                    f"crash loop: {len(self._deaths)} deaths within {options.window:g} s, restarts stopped "
                    f"(last: {ended})",
                )
                log.error(
                    "server crash loop", server=self.name, reason=self.reason, stderr=self.stderr_tail(5)
                )
                self.tools, self.resources, self.templates, self.prompts = [], [], [], []
                self.listing_version += 1
                self._start = anyio.Event()
                continue  # wait for start() (a retry) or stop()
            delay = min(options.backoff_max, options.backoff_initial * 2 ** (failures - 1))
            self._set_state(ServerState.RESTARTING, f"{ended}; restarting in {delay:.2g} s")
            log.warning("server died", server=self.name, reason=ended, restart_in=delay, ran=now - began)
            with anyio.move_on_after(delay):
                await self._stop.wait()
            if not self._stop.is_set():
                self.restarts += 1

    async def _run_once(self) -> str:
        """Run the server once; return why it ended."""
        process = ServerProcess(self.spec, name=self.name, spawned=self._spawned)
        self._spawned = None
        self._process = process
        self._ready_since = None
        options = self.config.options
        cb = self._callbacks(self.config) if self._callbacks is not None else ClientCallbacks()
        client = Client(
            process.transport(),
            mode=options.mode,
            client_info=self._client_info,
            message_handler=self._on_message,
            sampling_callback=cb.sampling,
            sampling_capabilities=cb.sampling_capabilities,
            elicitation_callback=cb.elicitation,
            list_roots_callback=cb.list_roots,
            logging_callback=cb.logging,
            log_level=cb.log_level,
            cache=None,
        )
        starting = True
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + options.start_timeout) as scope:
                self._start_scope = scope
                if self._stop.is_set():
                    scope.cancel()
                async with client:
                    self.protocol_version = client.protocol_version
                    self.capabilities = client.server_capabilities
                    self.server_info = client.server_info
                    self.instructions = client.instructions
                    self._dirty.clear()
                    await self._refresh(client, set(_LIST_KINDS))
                    await self._resubscribe(client)
                    scope.deadline = math.inf
                    self._start_scope = None
                    starting = False
                    self._client = client
                    self._ready_since = anyio.current_time()
                    self._set_state(ServerState.READY)
                    log.info("server ready", server=self.name, era=self.protocol_version, pid=process.pid)
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._refresher, client)
                        if self.protocol_version in MODERN_PROTOCOL_VERSIONS:
                            tg.start_soon(self._listener, client)
                        await _first(process.closed.wait, self._stop.wait)
                        tg.cancel_scope.cancel()
                    self._client = None
            if scope.cancelled_caught:
                return f"did not become ready within {options.start_timeout:g} s"
        except Exception as exc:
            self._client = None
            if self._stop.is_set():
                return "stopped"
            await process.wait_exit_details()
            if process.returncode is not None or process.closed.is_set():
                when = "at start-up" if starting else "while running"
                return f"{describe_exit(process.returncode)} {when}"
            return _describe_failure(exc)
        finally:
            self._start_scope = None
            self._client = None
            self._last_process = process
            self._process = None
        if self._stop.is_set():
            return "stopped"
        return describe_exit(process.returncode)

    # --- listings ----------------------------------------------------------------------------

    async def _refresh(self, client: Client, kinds: Iterable[ListKind]) -> None:
        caps = client.server_capabilities
        for kind in kinds:
            if kind == "tools":
                self.tools = await self._list(client.list_tools, "tools") if caps.tools else []
            elif kind == "resources":
                if caps.resources:
                    self.resources = await self._list(client.list_resources, "resources")
                    self.templates = await self._list(client.list_resource_templates, "resource_templates")
                else:
                    self.resources, self.templates = [], []
            else:
                self.prompts = await self._list(client.list_prompts, "prompts") if caps.prompts else []
            self.listing_version += 1
            self._emit(FleetEvent(f"{kind}_changed", self.name))

    async def _list(self, fetch: Callable[..., Awaitable[Any]], attribute: str) -> list[Any]:
        """Every page of one listing. A server that fails one listing still serves the others."""
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(_PAGE_CAP):
            try:
                page = await fetch(cursor=cursor)
            except MCPError as exc:
                if exc.error.code == types.CONNECTION_CLOSED:
                    raise
                if exc.error.code != types.METHOD_NOT_FOUND:
                    log.warning("listing failed", server=self.name, listing=attribute, error=str(exc))
                return items
            except ValidationError as exc:
                log.warning(
                    "the server sent an invalid listing", server=self.name, listing=attribute, error=str(exc)
                )
                return items
            items.extend(getattr(page, attribute))
            cursor = page.next_cursor
            if not cursor:
                break
        return items

    def _mark_dirty(self, kind: ListKind) -> None:
        self._dirty.add(kind)
        self._dirty_signal.set()

    async def _refresher(self, client: Client) -> None:
        while True:
            await self._dirty_signal.wait()
            self._dirty_signal = anyio.Event()
            kinds, self._dirty = set(self._dirty), set()
            try:
                await self._refresh(client, kinds)
            except (MCPError, ValidationError) as exc:
                log.warning("re-listing failed", server=self.name, kinds=sorted(kinds), error=str(exc))

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._mark_dirty("tools")
        elif isinstance(message, types.ResourceListChangedNotification):
            self._mark_dirty("resources")
        elif isinstance(message, types.PromptListChangedNotification):
            self._mark_dirty("prompts")
        elif isinstance(message, types.ResourceUpdatedNotification):
            self._emit(FleetEvent("resource_updated", self.name, uri=message.params.uri))
        elif isinstance(message, types.LoggingMessageNotification):
            self._emit(FleetEvent("log", self.name, detail=message.params))
        elif isinstance(message, Exception):
            log.warning("transport error", server=self.name, error=repr(message))

    async def _listener(self, client: Client) -> None:
        """2026-07-28: change notifications travel only while a ``subscriptions/listen`` is open.

        The events also reach ``message_handler`` (handled there); this keeps the stream open
        and re-opens it when the set of resource subscriptions changes.
        """
        caps = client.server_capabilities
        self._listen_unsupported = False
        try:
            while True:
                uris = sorted(self._subscriptions)
                try:
                    async with client.listen(
                        tools_list_changed=caps.tools is not None,
                        prompts_list_changed=caps.prompts is not None,
                        resources_list_changed=caps.resources is not None,
                        resource_subscriptions=uris,
                    ) as subscription:
                        self._set_listening(frozenset(uris))

                        async def drain() -> None:
                            try:
                                async for _ in subscription:
                                    pass
                            except (SubscriptionLost, MCPError) as exc:
                                log.debug("listen stream ended", server=self.name, error=str(exc))

                        async def subscriptions_changed(uris: list[str] = uris) -> None:
                            while sorted(self._subscriptions) == uris:
                                await self._subscriptions_changed.wait()

                        await _first(drain, subscriptions_changed)
                except (ListenNotSupportedError, SubscriptionLost) as exc:
                    log.debug("listen ended", server=self.name, error=str(exc))
                    return
                except (MCPError, TimeoutError) as exc:
                    log.debug(
                        "server does not support subscriptions/listen", server=self.name, error=str(exc)
                    )
                    self._listen_unsupported = True
                    return
                if uris == sorted(self._subscriptions):
                    return  # the server closed the stream gracefully
        finally:
            self._set_listening(None)

    def _set_listening(self, uris: frozenset[str] | None) -> None:
        self._listening = uris
        self._listening_changed.fire()

    async def _resubscribe(self, client: Client) -> None:
        if self.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return  # the listener subscribes
        for uri in sorted(self._subscriptions):
            await client.subscribe_resource(uri)

    # --- requests ----------------------------------------------------------------------------

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Start the server if it is idle and wait until it is ready; :class:`ServerUnavailable` if
        it is disabled, crash-looping, or not ready within ``timeout`` (default: its start timeout)."""
        await self._ready_client(timeout)

    async def _ready_client(self, timeout: float | None = None) -> tuple[Client, ServerProcess]:
        client, process = self._client, self._process
        if client is not None and process is not None and not process.closed.is_set():
            return client, process
        if self.state == ServerState.IDLE:
            self.start()
        wait = timeout if timeout is not None else self.config.options.start_timeout
        with anyio.move_on_after(wait):
            while True:
                client, process = self._client, self._process
                if (
                    self.state == ServerState.READY
                    and client is not None
                    and process is not None
                    and not process.closed.is_set()
                ):
                    return client, process
                if self.state in (ServerState.FAILED, ServerState.DISABLED, ServerState.STOPPED):
                    raise ServerUnavailable(
                        self.name, self._unavailable_reason(), stderr_tail=self.stderr_tail()
                    )
                await self._changed.wait()
        raise ServerUnavailable(
            self.name,
            f"not ready after {wait:g} s (state: {self.state.value}"
            + (f"; {self.reason}" if self.reason else "")
            + ")",
            stderr_tail=self.stderr_tail(),
        )

    def _unavailable_reason(self) -> str:
        if self.state == ServerState.DISABLED:
            return 'disabled in the fleet file ("folio": {"enabled": false})' + (
                f": {self.reason}" if self.reason else ""
            )
        if self.state == ServerState.STOPPED:
            return "stopped (the fleet is shutting down)"
        return self.reason or self.state.value

    async def _request(
        self, what: str, timeout: float | None, run: Callable[[Client, float], Awaitable[T]]
    ) -> T:
        client, process = await self._ready_client()
        seconds = timeout if timeout is not None else self.config.options.timeout
        try:
            return await run(client, seconds)
        except MCPError as exc:
            code = exc.error.code
            if code == types.CONNECTION_CLOSED:
                if self._stop.is_set():
                    raise ServerUnavailable(self.name, f"{what}: the fleet is shutting down") from None
                await process.wait_exit_details()
                raise ServerDied(
                    self.name,
                    f"{describe_exit(process.returncode)} during {what}; it is being restarted",
                    exit_code=process.returncode,
                    stderr_tail=process.stderr_tail(STDERR_TAIL),
                ) from None
            if code == types.REQUEST_TIMEOUT:
                raise CallTimeout(self.name, what, seconds) from None
            raise RemoteError(self.name, code, exc.error.message, exc.error.data) from None

    async def call_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressFnT | None = None,
    ) -> types.CallToolResult:
        args = dict(arguments) if arguments is not None else None
        return await self._request(
            f"tools/call {tool!r}",
            timeout,
            lambda c, t: c.call_tool(tool, args, read_timeout_seconds=t, progress_callback=progress),
        )

    async def read_resource(self, uri: str, *, timeout: float | None = None) -> types.ReadResourceResult:
        return await self._request(
            f"resources/read {uri!r}", timeout, lambda c, t: _with_timeout(t, c.read_resource(uri))
        )

    async def get_prompt(
        self, prompt: str, arguments: Mapping[str, str] | None = None, *, timeout: float | None = None
    ) -> types.GetPromptResult:
        args = dict(arguments) if arguments is not None else None
        return await self._request(
            f"prompts/get {prompt!r}", timeout, lambda c, t: _with_timeout(t, c.get_prompt(prompt, args))
        )

    async def subscribe(self, uri: str) -> None:
        """Ask for ``resource_updated`` events about ``uri`` (kept across restarts)."""
        client, _ = await self._ready_client()
        if self.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            caps = client.server_capabilities.resources
            if caps is None or not caps.subscribe:
                raise ServerError(self.name, "does not support resource subscriptions")
            await self._request(
                f"resources/subscribe {uri!r}", None, lambda c, t: _with_timeout(t, c.subscribe_resource(uri))
            )
        self._subscriptions.add(uri)
        self._subscriptions_changed.fire()
        await self._await_listening(uri, listening=True)

    async def unsubscribe(self, uri: str) -> None:
        if uri not in self._subscriptions:
            return
        self._subscriptions.discard(uri)
        self._subscriptions_changed.fire()
        if self.protocol_version in MODERN_PROTOCOL_VERSIONS:
            await self._await_listening(uri, listening=False)
        elif self._client is not None:
            with contextlib.suppress(ServerError):
                await self._request(
                    f"resources/unsubscribe {uri!r}",
                    None,
                    lambda c, t: _with_timeout(t, c.unsubscribe_resource(uri)),
                )

    async def _await_listening(self, uri: str, *, listening: bool) -> None:
        """2026-07-28: wait until the server acknowledged a listen stream with (or without) ``uri``."""
        if self.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return
        with anyio.move_on_after(self.config.options.timeout):
            while (self._listening is not None and uri in self._listening) != listening:
                if self._listen_unsupported:
                    if not listening:
                        return
                    raise ServerError(
                        self.name, "does not serve subscriptions/listen: cannot follow resources"
                    )
                if self._listening is None and not listening:
                    return
                await self._listening_changed.wait()
            return
        raise ServerError(self.name, f"the subscriptions/listen stream for {uri!r} was not acknowledged")


async def _with_timeout(seconds: float, awaitable: Awaitable[T]) -> T:
    """Requests without a per-call timeout parameter: cancel them after ``seconds``.

    Cancelling the caller's scope makes the SDK send ``notifications/cancelled``, as a
    read timeout does; the error matches the one a read timeout gives.
    """
    with anyio.move_on_after(seconds) as scope:
        return await awaitable
    if scope.cancelled_caught:
        raise MCPError(types.REQUEST_TIMEOUT, f"timed out after {seconds:g} s")
    raise AssertionError("unreachable")  # pragma: no cover


# --- the fleet ---------------------------------------------------------------------------------


def _template_regex(template: str) -> re.Pattern[str]:
    """A permissive matcher for RFC 6570 URI templates (levels 1-4, without value checks)."""
    parts: list[str] = []
    pos = 0
    for match in re.finditer(r"\{([^}]*)\}", template):
        parts.append(re.escape(template[pos : match.start()]))
        operator = match.group(1)[:1]
        if operator in ("+", "#"):
            parts.append(".*")
        elif operator in ("?", "&"):
            parts.append(r"(?:[?&][^#]*)?")
        elif operator in ("/", ".", ";"):
            parts.append(r"(?:[/.;][^?#]*)?")
        else:
            parts.append(r"[^/?#]+")
        pos = match.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(parts) + "$")


@dataclass(frozen=True)
class RoutedTool:
    """A tool as the fleet exposes it: the routed name and the server's own description of it."""

    name: str
    server: str
    tool: types.Tool


@dataclass(frozen=True)
class RoutedPrompt:
    name: str
    server: str
    prompt: types.Prompt


class Fleet:
    """Every server of a fleet file, supervised. Enter and exit it in the same task.

    ``start`` names the servers to start at once (default: every enabled, non-lazy server); the
    others start on first use or on :meth:`start`. ``spawned`` hands over processes already
    started from the same commands (:func:`folio_orchestrator._spawn.prespawn`) for their first run. ``callbacks`` gives each server its
    sampling/elicitation/roots/logging callbacks at each start (see :class:`ClientCallbacks`).
    """

    def __init__(
        self,
        config: FleetConfig,
        settings: FolioSettings,
        *,
        start: Iterable[str] | None = None,
        callbacks: CallbacksFactory | None = None,
        client_info: types.Implementation | None = None,
        environ: Mapping[str, str] | None = None,
        spawned: Mapping[str, anyio.abc.Process] | None = None,
    ) -> None:
        self.config = config
        self.settings = settings = with_default_portfolio(settings, config)
        self.supervisors: dict[str, Supervisor] = {
            name: Supervisor(
                server,
                server_environment(server, settings, environ),
                callbacks=callbacks,
                client_info=client_info,
                emit=self._emit,
                spawned=(spawned or {}).get(name),
            )
            for name, server in config.servers.items()
        }
        unknown = set(start or ()) - set(self.supervisors)
        if unknown:
            raise RoutingError(f"no server named {', '.join(sorted(unknown))} in {config.path}")
        self._initial = (
            list(start) if start is not None else [s.name for s in config.enabled if not s.options.lazy]
        )
        self._subscribers: list[MemoryObjectSendStream[FleetEvent]] = []
        self._router: Router | None = None
        self._router_key: tuple[int, ...] | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> Fleet:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        for supervisor in self.supervisors.values():
            self._tg.start_soon(supervisor.run, name=f"supervisor {supervisor.name}")
        for name in self._initial:
            self.supervisors[name].start()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool | None:
        for supervisor in self.supervisors.values():
            supervisor.stop()
        assert self._tg is not None
        tg, self._tg = self._tg, None
        if exc is not None and not isinstance(exc, Exception):
            return await tg.__aexit__(exc_type, exc, tb)  # cancellation, KeyboardInterrupt
        # Supervisors stop gracefully; an error of the body propagates as itself, not in a group.
        await tg.__aexit__(None, None, None)
        for stream in self._subscribers:
            stream.close()
        return None

    # --- servers -----------------------------------------------------------------------------

    def supervisor(self, name: str) -> Supervisor:
        try:
            return self.supervisors[name]
        except KeyError:
            raise RoutingError(
                f"no server named {name!r} in {self.config.path} (servers: {', '.join(self.supervisors)})"
            ) from None

    def start(self, names: Iterable[str] | None = None) -> None:
        """Start these (default: all enabled) servers if they are idle or failed."""
        for name in names if names is not None else [s.name for s in self.config.enabled]:
            supervisor = self.supervisor(name)
            if supervisor.state in (ServerState.IDLE, ServerState.FAILED):
                supervisor.start()

    async def wait_settled(self, names: Iterable[str] | None = None, timeout: float | None = None) -> bool:
        """Wait until every named (default: every) server is ready, failed, disabled or idle."""
        chosen = [self.supervisor(n) for n in names] if names is not None else list(self.supervisors.values())
        with anyio.move_on_after(timeout if timeout is not None else math.inf):
            async with anyio.create_task_group() as tg:
                for supervisor in chosen:
                    tg.start_soon(supervisor.wait_settled)
            return True
        return False

    def status(self) -> list[ServerStatus]:
        return [s.status() for s in self.supervisors.values()]

    # --- events ------------------------------------------------------------------------------

    def _emit(self, event: FleetEvent) -> None:
        for stream in list(self._subscribers):
            try:
                stream.send_nowait(event)
            except anyio.WouldBlock:
                log.warning("dropping a fleet event: a subscriber is not reading", kind=event.kind)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                self._subscribers.remove(stream)

    @contextlib.asynccontextmanager
    async def events(self, buffer: int = 1000) -> AsyncIterator[MemoryObjectReceiveStream[FleetEvent]]:
        """Receive every :class:`FleetEvent` from now on, while the context is open."""
        send, receive = anyio.create_memory_object_stream[FleetEvent](buffer)
        self._subscribers.append(send)
        try:
            async with receive:
                yield receive
        finally:
            if send in self._subscribers:
                self._subscribers.remove(send)
            send.close()

    # --- routing -----------------------------------------------------------------------------

    @property
    def router(self) -> Router:
        key = tuple(s.listing_version for s in self.supervisors.values())
        if self._router is None or self._router_key != key:
            self._router = Router(
                list(self.supervisors),
                tools={n: [t.name for t in s.tools] for n, s in self.supervisors.items()},
                prompts={n: [p.name for p in s.prompts] for n, s in self.supervisors.items()},
            )
            self._router_key = key
        return self._router

    def tools(self, server: str | None = None) -> list[RoutedTool]:
        """The tools of every ready server (or one), by exposed name, in a stable order."""
        by_server = {n: {t.name: t for t in s.tools} for n, s in self.supervisors.items()}
        return [
            RoutedTool(r.name, r.server, by_server[r.server][r.item])
            for r in self.router.tools
            if (server is None or r.server == server) and r.item in by_server[r.server]
        ]

    def prompts(self, server: str | None = None) -> list[RoutedPrompt]:
        by_server = {n: {p.name: p for p in s.prompts} for n, s in self.supervisors.items()}
        return [
            RoutedPrompt(r.name, r.server, by_server[r.server][r.item])
            for r in self.router.prompts
            if (server is None or r.server == server) and r.item in by_server[r.server]
        ]

    def resources(self, server: str | None = None) -> list[tuple[str, types.Resource]]:
        return [
            (n, r)
            for n, s in self.supervisors.items()
            if server is None or n == server
            for r in sorted(s.resources, key=lambda r: r.uri)
        ]

    def templates(self, server: str | None = None) -> list[tuple[str, types.ResourceTemplate]]:
        return [
            (n, t)
            for n, s in self.supervisors.items()
            if server is None or n == server
            for t in sorted(s.templates, key=lambda t: t.uri_template)
        ]

    async def _route(self, name: str, kind: Literal["tool", "prompt"]) -> Route:
        router = self.router
        try:
            return router.tool(name) if kind == "tool" else router.prompt(name)
        except RoutingError:
            server = router.server_of(name)
            if server is None or self.supervisors[server].state == ServerState.READY:
                raise
        # The name belongs to a server that is not ready yet (lazy, restarting): wait for its listing.
        await self.supervisors[server].wait_ready()
        router = self.router
        return router.tool(name) if kind == "tool" else router.prompt(name)

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressFnT | None = None,
    ) -> types.CallToolResult:
        """Call a tool by its exposed name (``<server>__<tool>``)."""
        route = await self._route(name, "tool")
        return await self.supervisors[route.server].call_tool(
            route.item, arguments, timeout=timeout, progress=progress
        )

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *, timeout: float | None = None
    ) -> types.GetPromptResult:
        route = await self._route(name, "prompt")
        return await self.supervisors[route.server].get_prompt(route.item, arguments, timeout=timeout)

    def server_for_uri(self, uri: str) -> str:
        """The server that offers ``uri``: a listed resource, else a matching template, else the
        only server using its scheme."""
        exact = [n for n, s in self.supervisors.items() if any(r.uri == uri for r in s.resources)]
        if len(exact) == 1:
            return exact[0]
        templated = [
            n
            for n, s in self.supervisors.items()
            if any(_template_regex(t.uri_template).match(uri) for t in s.templates)
        ]
        if len(templated) == 1 and not exact:
            return templated[0]
        scheme = uri.partition(":")[0]
        by_scheme = [
            n
            for n, s in self.supervisors.items()
            if any(r.uri.partition(":")[0] == scheme for r in s.resources)
            or any(t.uri_template.partition(":")[0] == scheme for t in s.templates)
        ]
        candidates = exact or templated or by_scheme
        if len(set(candidates)) == 1:
            return candidates[0]
        if candidates:
            raise RoutingError(
                f"several servers offer {uri!r} ({', '.join(candidates)}); choose one with --server"
            )
        raise RoutingError(f"no ready server offers {uri!r}; choose one with --server")

    async def read_resource(
        self, uri: str, *, server: str | None = None, timeout: float | None = None
    ) -> tuple[str, types.ReadResourceResult]:
        name = server if server is not None else self.server_for_uri(uri)
        return name, await self.supervisor(name).read_resource(uri, timeout=timeout)

    async def subscribe(self, uri: str, *, server: str | None = None) -> str:
        name = server if server is not None else self.server_for_uri(uri)
        await self.supervisor(name).subscribe(uri)
        return name

    async def unsubscribe(self, uri: str, *, server: str | None = None) -> None:
        name = server if server is not None else self.server_for_uri(uri)
        await self.supervisor(name).unsubscribe(uri)
