"""The service behind ``folio serve``: one chat host per audience, conversations for many people.

Each audience (``public`` for visitors, ``owner`` for bearer tokens with the owner audience) has
its own :class:`~folio_orchestrator.chat.ChatHost`: its own fleet, started with
``FOLIO_AUDIENCE`` set to that audience, with the chat's sampling relay. A turn is the chat's
:class:`~folio_orchestrator.agent.Agent` over the conversation's stored messages, so any replica
that shares the database can answer the next question of a conversation. What happens during a
turn reaches the caller as typed events (``token``, ``tool_call``, ``tool_result``,
``progress``, ``elicitation``, ``error``, ``done``).

A server's elicitation request during a turn becomes an ``elicitation`` event; the answer comes
back through :meth:`WebService.answer_elicitation` (the page's form, or the API).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import mcp_types as types
import structlog
from mcp import MCPError
from mcp.client.context import ClientRequestContext
from mcp.shared.dispatcher import ProgressFnT
from mcp.types import SamplingCapability, SamplingToolsCapability
from pydantic import TypeAdapter

from folio_core.cache import MemoryCache
from folio_core.settings import FolioSettings
from folio_orchestrator.agent import Agent, AgentEvent, ToolCallFinished, ToolCallStarted, ToolOutcome
from folio_orchestrator.chat import ChatHost, ChatOptions, FleetTools, twin_system_prompt
from folio_orchestrator.config import FleetConfig, ServerConfig
from folio_orchestrator.errors import CallTimeout, FolioHostError
from folio_orchestrator.fleet import ClientCallbacks, Fleet, RoutedTool, ServerState
from folio_orchestrator.forms import REASON_META_KEY, FormSchemaError, parse_form
from folio_orchestrator.history import History
from folio_orchestrator.llm import ChatModel, Message, TextDelta
from folio_orchestrator.web.limits import Limited, Limiter, LimitSettings
from folio_orchestrator.web.metrics import Metrics
from folio_orchestrator.web.tokens import TokenStore

log = structlog.get_logger(__name__)

AudienceName = Literal["public", "owner"]
AUDIENCES: tuple[AudienceName, ...] = ("public", "owner")
ELICITATION_TIMEOUT = 600.0
ELICITATION_POLL = 0.2  # seconds between looks for an answer taken by another replica
CONTENT_CHARS = 4000  # of a tool result, in its event


class ServiceError(Exception):
    """A request the service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who is asking: a visitor (by their cookie) or a bearer token."""

    kind: Literal["visitor", "token"]
    key: str
    audience: AudienceName
    client: str = ""
    """The client address, which the request limits also count."""

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.key}"

    @staticmethod
    def visitor(cookie: str, client: str = "") -> Principal:
        return Principal("visitor", hashlib.sha256(cookie.encode()).hexdigest()[:32], "public", client)


@dataclass
class PendingElicitation:
    id: str
    conversation: uuid.UUID
    principal: str
    server: str
    params: types.ElicitRequestParams
    answered: anyio.Event = field(default_factory=anyio.Event)
    result: types.ElicitResult | None = None


Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class Turn:
    """One answer being streamed: where its events go."""

    conversation: uuid.UUID
    principal: Principal
    emit: Emit
    images: dict[str, list[dict[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayCall:
    """A tool call of a connected MCP client (the /mcp gateway): who to relay a form to."""

    context: Any
    """The SDK's ServerRequestContext of the client's request."""


_ELICIT_PARAMS: TypeAdapter[types.ElicitRequestParams] = TypeAdapter(types.ElicitRequestParams)
_turn: contextvars.ContextVar[Turn | None] = contextvars.ContextVar("folio_web_turn", default=None)
_gateway: contextvars.ContextVar[GatewayCall | None] = contextvars.ContextVar(
    "folio_web_gateway", default=None
)
_call: contextvars.ContextVar[str | None] = contextvars.ContextVar("folio_web_call", default=None)


def _visible(tool: RoutedTool, audience: str) -> bool:
    """Visitors get read-only tools only, whatever a server offers its public audience."""
    if audience == "owner":
        return True
    annotations = tool.tool.annotations
    return bool(annotations is not None and annotations.read_only_hint)


def _images(result: types.CallToolResult) -> list[dict[str, str]]:
    found = []
    for block in result.content:
        if isinstance(block, types.ImageContent) and block.mime_type.startswith("image/"):
            found.append({"mime_type": block.mime_type, "data": block.data})
    return found


class WebTools(FleetTools):
    """The fleet as one turn's tools: visible tools only, progress and images as events."""

    def __init__(self, fleet: Fleet, service: WebService, turn: Turn) -> None:
        super().__init__(fleet)
        self.service = service
        self.turn = turn

    def tool_specs(self) -> list[Any]:
        visible = {t.name for t in self.fleet.tools() if _visible(t, self.turn.principal.audience)}
        return [spec for spec in super().tool_specs() if spec.name in visible]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        server, tool = self.locate(name)
        if not self.service.tool_visible(self.fleet, name, self.turn.principal.audience):
            return ToolOutcome(
                f"there is no tool {name!r} here; use one of the tools offered", True, server, tool, "error"
            )
        call_id = _call.get() or name
        turn = self.turn

        async def report(progress: float, total: float | None, message: str | None) -> None:
            await turn.emit(
                "progress", {"call_id": call_id, "progress": progress, "total": total, "message": message}
            )

        self.service._inflight.setdefault(server, []).append(turn)
        started = time.perf_counter()
        try:
            result = await self.fleet.call_tool(name, arguments, progress=report)
        except CallTimeout as exc:
            outcome = ToolOutcome(
                f"{exc}; try again later or with a narrower request", True, server, tool, "timeout"
            )
        except (FolioHostError, MCPError) as exc:
            outcome = ToolOutcome(str(exc), True, server, tool, "error")
        else:
            images = _images(result)
            if images:
                turn.images[call_id] = images
            if result.structured_content is not None and not result.is_error:
                content = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
            else:
                content = "\n".join(getattr(b, "text", f"[{b.type}]") for b in result.content)
            outcome = ToolOutcome(
                content, bool(result.is_error), server, tool, "error" if result.is_error else "ok"
            )
        finally:
            self.service._inflight[server].remove(turn)
        self.service.metrics.inc("folio_tool_calls_total", server=server or "?", outcome=outcome.outcome)
        self.service.metrics.observe(
            "folio_tool_call_seconds", time.perf_counter() - started, server=server or "?"
        )
        return outcome


class WebHost(ChatHost):
    """A chat host whose servers' questions go to the person of the turn that caused them."""

    def __init__(
        self, config: FleetConfig, settings: FolioSettings, options: ChatOptions, service: WebService
    ) -> None:
        self.service = service
        super().__init__(config, settings, options)

    @property
    def _conversation(self) -> uuid.UUID | None:
        """The conversation of the current turn (the sampling relay records usage against it)."""
        turn = _turn.get()
        return turn.conversation if turn is not None else None

    @_conversation.setter
    def _conversation(self, value: uuid.UUID | None) -> None:
        pass

    def callbacks(self, server: ServerConfig) -> ClientCallbacks:
        async def elicitation(
            context: ClientRequestContext, params: types.ElicitRequestParams
        ) -> types.ElicitResult:
            return await self.service.elicit(server.name, params)

        own = self.relay.callback(server.name)

        async def sampling(context: ClientRequestContext, params: types.CreateMessageRequestParams) -> Any:
            # during a gateway call, the connected client samples when it can; else the service's model
            relayed = await self.service.sample_through_client(server.name, params)
            return relayed if relayed is not None else await own(context, params)

        return ClientCallbacks(
            sampling=sampling,
            sampling_capabilities=SamplingCapability(tools=SamplingToolsCapability()),
            elicitation=elicitation,
        )


def _event_of(event: AgentEvent, turn: Turn) -> tuple[str, dict[str, Any]] | None:
    if isinstance(event, TextDelta):
        return "token", {"text": event.text}
    if isinstance(event, ToolCallStarted):
        _call.set(event.call.id)  # the same task goes on to call the tool (see Agent._run_calls)
        return "tool_call", {"id": event.call.id, "name": event.call.name, "arguments": event.call.arguments}
    if isinstance(event, ToolCallFinished):
        outcome = event.outcome
        content = outcome.content
        return "tool_result", {
            "id": event.call.id,
            "name": event.call.name,
            "server": outcome.server,
            "tool": outcome.tool,
            "outcome": outcome.outcome,
            "is_error": outcome.is_error,
            "seconds": round(event.seconds, 4),
            "content": content[:CONTENT_CHARS] + ("…" if len(content) > CONTENT_CHARS else ""),
            "images": turn.images.pop(event.call.id, []),
        }
    return None


def _schema_fields(params: types.ElicitRequestParams) -> dict[str, Any]:
    if isinstance(params, types.ElicitRequestURLParams):
        return {"mode": "url", "url": params.url, "message": params.message}
    return {"mode": "form", "schema": params.requested_schema, "message": params.message}


def check_elicitation_content(schema: Mapping[str, Any], content: Any) -> dict[str, Any]:
    """The accepted content of a form, checked against its schema (types, required, choices)."""
    if not isinstance(content, dict):
        raise ServiceError(422, "content must be a JSON object of the form's fields")
    try:
        form = parse_form(schema)
    except FormSchemaError as exc:
        raise ServiceError(422, f"this form cannot be answered: {exc}") from None
    fields = {f.name: f for f in form.fields}
    unknown = sorted(set(content) - set(fields))
    if unknown:
        raise ServiceError(422, f"the form has no field {', '.join(map(repr, unknown))}")
    checked: dict[str, Any] = {}
    for name, spec in fields.items():
        value = content.get(name)
        if value is None or value == "":
            if spec.required:
                raise ServiceError(422, f"the field {name!r} is required")
            continue
        kind = spec.kind
        ok = {
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "multi": isinstance(value, list) and all(isinstance(v, str) for v in value),
        }.get(kind, isinstance(value, str))
        if not ok:
            raise ServiceError(422, f"the field {name!r} must be a {kind} value")
        choices = {c.value for c in spec.choices} if spec.choices else None
        if choices is not None:
            chosen = value if isinstance(value, list) else [value]
            bad = [v for v in chosen if v not in choices]
            if bad:
                raise ServiceError(422, f"{bad[0]!r} is not one of the choices of {name!r}")
        checked[name] = value
    return checked


class WebService:
    """The fleets, the history, the tokens and the limits of one ``folio serve`` process."""

    def __init__(
        self,
        config: FleetConfig,
        settings: FolioSettings,
        model: ChatModel | None,
        *,
        audiences: Iterable[AudienceName] = AUDIENCES,
        limits: LimitSettings | None = None,
        owner_limits: LimitSettings | None = None,
        max_steps: int = 8,
        elicitation_timeout: float = ELICITATION_TIMEOUT,
        start: Iterable[str] | None = None,
        cache_namespace: str = "serve",
    ) -> None:
        self.config = config
        self.settings = settings
        self.model = model
        self.audiences = tuple(audiences)
        self.limit_settings = limits or LimitSettings()
        self.owner_limit_settings = owner_limits or LimitSettings(
            requests_per_minute=600, tokens_per_minute=200_000, tokens_per_day=5_000_000, concurrent=16
        )
        self.max_steps = max_steps
        self.elicitation_timeout = elicitation_timeout
        self.start = list(start) if start is not None else None
        self.cache_namespace = cache_namespace
        self.metrics = Metrics()
        self.hosts: dict[str, WebHost] = {}
        self.history: History
        self.tokens: TokenStore
        self.limiter: Limiter
        self._systems: dict[str, str] = {}
        self._pending: dict[str, PendingElicitation] = {}
        self._inflight: dict[str, list[Turn]] = {}
        self._inflight_gateway: dict[str, list[GatewayCall]] = {}
        self.streams_open = 0
        self.turns_ended = 0
        self._started: anyio.Event | None = None
        self._turn_ended = anyio.Event()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[WebService]:
        from folio_core.cache import make_cache

        async with AsyncExitStack() as stack:
            cache = make_cache(self.settings, namespace=self.cache_namespace)
            stack.push_async_callback(cache.aclose)
            self.limiter = Limiter(cache, self.limit_settings, self.owner_limit_settings)
            async with anyio.create_task_group() as tg:
                for audience in self.audiences:
                    settings = self.settings.model_copy(update={"audience": audience})
                    host = WebHost(
                        self.config,
                        settings,
                        ChatOptions(model=self.model, max_steps=self.max_steps),
                        self,
                    )
                    self.hosts[audience] = host

                # the fleets start side by side; each host is entered in its own task
                ready: dict[str, anyio.Event] = {a: anyio.Event() for a in self.audiences}
                stop = anyio.Event()
                failures: list[BaseException] = []

                async def run_host(audience: str) -> None:
                    try:
                        async with self.hosts[audience].running(start=self.start):
                            ready[audience].set()
                            await stop.wait()
                    except BaseException as exc:
                        failures.append(exc)
                        ready[audience].set()
                        raise

                for audience in self.audiences:
                    tg.start_soon(run_host, audience)
                for event in ready.values():
                    await event.wait()
                if failures:
                    raise failures[0]
                try:
                    first = self.hosts[self.audiences[0]]
                    assert first.history is not None
                    self.history = first.history
                    self.tokens = TokenStore(first.history.pool)
                    for name, host in self.hosts.items():
                        self._systems[name] = await twin_system_prompt(host.fleet, name)
                    self._started_event().set()
                    yield self
                finally:
                    stop.set()
                    for pending in self._pending.values():
                        pending.answered.set()

    # --- fleets ------------------------------------------------------------------------------

    def host(self, audience: str) -> WebHost:
        try:
            return self.hosts[audience]
        except KeyError:
            raise ServiceError(403, f"this service does not serve the {audience} audience") from None

    def tool_visible(self, fleet: Fleet, name: str, audience: str) -> bool:
        return any(t.name == name and _visible(t, audience) for t in fleet.tools())

    def tools(self, audience: str) -> list[RoutedTool]:
        fleet = self.host(audience).fleet
        return [t for t in fleet.tools() if _visible(t, audience)]

    async def call_tool(
        self,
        audience: str,
        name: str,
        arguments: dict[str, Any],
        *,
        gateway: GatewayCall | None = None,
        progress: ProgressFnT | None = None,
    ) -> types.CallToolResult:
        """Call a tool for the API or the gateway; with ``gateway``, a server's form during the
        call is relayed to that MCP client when it can answer one."""
        fleet = self.host(audience).fleet
        if not self.tool_visible(fleet, name, audience):
            raise ServiceError(
                404, f"there is no tool {name!r} for the {audience} audience; GET /api/v1/tools lists them"
            )
        started = time.perf_counter()
        server = fleet.router.server_of(name) or "?"
        token = _gateway.set(gateway)
        if gateway is not None:
            self._inflight_gateway.setdefault(server, []).append(gateway)
        try:
            result = await fleet.call_tool(name, arguments, progress=progress)
        except CallTimeout as exc:
            self.metrics.inc("folio_tool_calls_total", server=server, outcome="timeout")
            raise ServiceError(504, str(exc)) from None
        except (FolioHostError, MCPError) as exc:
            self.metrics.inc("folio_tool_calls_total", server=server, outcome="error")
            raise ServiceError(502, str(exc)) from None
        finally:
            _gateway.reset(token)
            if gateway is not None:
                self._inflight_gateway[server].remove(gateway)
        self.metrics.inc(
            "folio_tool_calls_total", server=server, outcome="error" if result.is_error else "ok"
        )
        self.metrics.observe("folio_tool_call_seconds", time.perf_counter() - started, server=server)
        return result

    def ready(self) -> dict[str, Any]:
        """Per audience, each server's state; ``ok`` when every started server is ready."""
        report: dict[str, Any] = {}
        ok = True
        for audience, host in self.hosts.items():
            states = {s.name: s.state.value for s in host.fleet.status()}
            started = (
                self.start
                if self.start is not None
                else [s.name for s in self.config.enabled if not s.options.lazy]
            )
            if any(states.get(n) != ServerState.READY.value for n in started):
                ok = False
            report[audience] = states
        return {"ok": ok, "fleets": report}

    async def database_ok(self) -> bool:
        try:
            with anyio.fail_after(5):
                async with self.history.pool.connection() as conn:
                    await conn.execute("SELECT 1")
        except Exception as exc:  # any failure to reach the database makes the replica unready
            log.warning("database unreachable", error=str(exc))
            return False
        return True

    def update_fleet_metrics(self) -> None:
        for audience, host in self.hosts.items():
            for status in host.fleet.status():
                self.metrics.set(
                    "folio_fleet_restarts_total", status.restarts, audience=audience, server=status.name
                )
                self.metrics.set(
                    "folio_fleet_server_ready",
                    1.0 if status.state == ServerState.READY else 0.0,
                    audience=audience,
                    server=status.name,
                )
        self.metrics.set("folio_streams_open", self.streams_open)

    async def resume(self, audience: str) -> str:
        fleet = self.host(audience).fleet
        try:
            _, result = await fleet.read_resource("profile://resume.md", server="profile")
        except (FolioHostError, MCPError) as exc:
            raise ServiceError(503, f"the résumé is not available: {exc}") from None
        return "".join(getattr(c, "text", "") for c in result.contents)

    async def owner_card(self) -> dict[str, str]:
        """The owner's name and headline for the page, from the profile server's résumé."""
        audience = "public" if "public" in self.hosts else self.audiences[0]
        fleet = self.hosts[audience].fleet
        try:
            _, result = await fleet.read_resource("profile://resume.json", server="profile")
            basics = json.loads("".join(getattr(c, "text", "") for c in result.contents)).get("basics", {})
        except (FolioHostError, MCPError, ValueError, AttributeError):
            return {"name": "the owner", "headline": ""}
        return {"name": str(basics.get("name") or "the owner"), "headline": str(basics.get("label") or "")}

    # --- conversations -----------------------------------------------------------------------

    async def create_conversation(self, principal: Principal) -> uuid.UUID:
        self.host(principal.audience)
        conversation = await self.history.start_conversation(
            model=self.model.name if self.model else None, audience=principal.audience
        )
        async with self.history.pool.connection() as conn:
            await conn.execute(
                "UPDATE host.conversations SET principal = %s WHERE id = %s", (principal.name, conversation)
            )
        return conversation

    async def check_access(self, principal: Principal, conversation: str | uuid.UUID) -> uuid.UUID:
        """The conversation's id when ``principal`` may use it; 404 otherwise (whether or not it exists)."""
        try:
            cid = conversation if isinstance(conversation, uuid.UUID) else uuid.UUID(conversation)
        except ValueError:
            raise ServiceError(404, f"no conversation {conversation!r}") from None
        async with self.history.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT principal, audience FROM host.conversations WHERE id = %s", (cid,))
            ).fetchone()
        if row is None or row["principal"] != principal.name:
            raise ServiceError(404, f"no conversation {cid}; create one with POST /api/v1/conversations")
        return cid

    async def read_conversation(self, principal: Principal, conversation: str) -> dict[str, Any]:
        cid = await self.check_access(principal, conversation)
        found = await self.history.find(str(cid))
        stored = await self.history.messages(cid)
        calls = await self.history.tool_calls(cid)
        return {
            "id": str(cid),
            "title": found.title,
            "audience": found.audience,
            "created_at": found.created_at.isoformat(),
            "updated_at": found.updated_at.isoformat(),
            "messages": [{"seq": m.seq, "role": m.role, "content": m.content} for m in stored],
            "tool_calls": [
                {
                    "call_id": c.call_id,
                    "server": c.server,
                    "tool": c.tool,
                    "arguments": c.arguments,
                    "outcome": c.outcome,
                    "duration_ms": c.duration_ms,
                }
                for c in calls
            ],
        }

    async def _conversation_cost(self, cid: uuid.UUID) -> float:
        async with self.history.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT coalesce(sum(cost_usd), 0) AS cost FROM host.model_usage WHERE conversation_id = %s",
                    (cid,),
                )
            ).fetchone()
        return float(row["cost"]) if row is not None else 0.0

    async def check_turn(self, principal: Principal, conversation: uuid.UUID) -> list[Any]:
        """The conversation's stored messages when a turn may start now; :class:`ServiceError`
        (a model, the conversation's caps) or :class:`Limited` (model tokens) otherwise."""
        if self.model is None:
            raise ServiceError(503, "no language model is configured for this service (FOLIO_MODEL)")
        limits = self.limiter._for(principal.audience)
        stored = await self.history.messages(conversation)
        if principal.audience != "owner":
            if len(stored) >= limits.conversation_messages:
                raise ServiceError(409, "this conversation is as long as it can be; start a new one")
            if await self._conversation_cost(conversation) >= limits.conversation_cost_usd:
                raise ServiceError(409, "this conversation has used its model budget; start a new one")
        try:
            await self.limiter.check_tokens(principal.name, principal.audience)
        except Limited:
            self.metrics.inc("folio_rate_limited_total", reason="tokens")
            raise
        return stored

    async def turn(self, principal: Principal, conversation: uuid.UUID, question: str, emit: Emit) -> None:
        """Answer ``question`` in ``conversation``, sending every event to ``emit``; the last is
        ``done`` (or ``error``). Raises :class:`ServiceError` / :class:`Limited` before anything
        is sent when the turn cannot start."""
        host = self.host(principal.audience)
        stored = await self.check_turn(principal, conversation)
        assert self.model is not None  # check_turn refuses without one
        turn = Turn(conversation, principal, emit)
        agent = Agent(
            self.model,
            WebTools(host.fleet, self, turn),
            system=self._systems[principal.audience],
            max_steps=self.max_steps,
            history=self.history,
            conversation=conversation,
            messages=[Message.model_validate(m.content) for m in stored],
        )

        async def sink(event: AgentEvent) -> None:
            found = _event_of(event, turn)
            if found is not None:
                await emit(*found)

        token = _turn.set(turn)
        stopped = "cancelled"
        try:
            result = await agent.turn(question, sink)
            stopped = result.stopped
        finally:
            _turn.reset(token)
            self.metrics.inc("folio_turns_total", audience=principal.audience, stopped=stopped)
            self.turns_ended += 1
            self._turn_ended.set()
            self._turn_ended = anyio.Event()
        tokens = 0
        cost = 0.0
        for usage in result.usage:
            tokens += usage.input_tokens + usage.output_tokens
            cost += usage.cost_usd or 0.0
            model = f"{usage.provider}:{usage.model}"
            self.metrics.inc("folio_llm_tokens_total", usage.input_tokens, model=model, direction="input")
            self.metrics.inc("folio_llm_tokens_total", usage.output_tokens, model=model, direction="output")
            if usage.cost_usd:
                self.metrics.inc("folio_llm_cost_usd_total", usage.cost_usd, model=model)
        await self.limiter.charge_tokens(principal.name, tokens)
        if result.error:
            await emit("error", {"message": result.error, "stopped": result.stopped})
        await emit(
            "done",
            {
                "conversation": str(conversation),
                "stopped": result.stopped,
                "steps": result.steps,
                "text": result.text,
                "tokens": tokens,
                "cost_usd": round(cost, 6),
            },
        )

    def _started_event(self) -> anyio.Event:
        if self._started is None:
            self._started = anyio.Event()
        return self._started

    async def wait_started(self) -> None:
        """Wait until the fleets are up and the database is reachable (the app serves from then on)."""
        await self._started_event().wait()

    async def wait_turns_ended(self, count: int) -> None:
        """Wait until ``count`` turns have ended (answered, failed or cancelled) since the start."""
        while self.turns_ended < count:
            await self._turn_ended.wait()

    # --- elicitation -------------------------------------------------------------------------

    def _turn_for(self, server: str) -> Turn | None:
        turn = _turn.get()
        if turn is not None:
            return turn
        waiting = self._inflight.get(server) or []
        return waiting[0] if waiting else None  # the oldest call in flight on that server

    async def _relay_to_client(
        self, server: str, params: types.ElicitRequestParams
    ) -> types.ElicitResult | None:
        """Ask the MCP client of the gateway call that caused the request, when it has a
        back-channel (a handshake-era session) and declared elicitation; None otherwise."""
        call = _gateway.get()
        if call is None:
            waiting = self._inflight_gateway.get(server) or []
            call = waiting[0] if waiting else None
        if call is None:
            return None
        session = call.context.session
        wanted = types.ClientCapabilities(elicitation=types.ElicitationCapability())
        if call.context.protocol_version == "2026-07-28" or not session.check_client_capability(wanted):
            return None
        related = call.context.request_id
        if isinstance(params, types.ElicitRequestURLParams):
            result: types.ElicitResult = await session.elicit_url(
                params.message, params.url, params.elicitation_id, related_request_id=related
            )
        else:
            result = await session.elicit_form(
                params.message, params.requested_schema, related_request_id=related
            )
        return result

    def _gateway_client(self, server: str, capability: types.ClientCapabilities) -> GatewayCall | None:
        """The gateway call behind a request of ``server``, when its client has a back-channel
        (a handshake-era session) and declared ``capability``."""
        if _turn.get() is not None:
            return None
        call = _gateway.get()
        if call is None:
            waiting = self._inflight_gateway.get(server) or []
            call = waiting[0] if waiting else None
        if call is None or call.context.protocol_version == "2026-07-28":
            return None
        return call if call.context.session.check_client_capability(capability) else None

    async def sample_through_client(
        self, server: str, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | None:
        """Relay a server's sampling request to the MCP client of the gateway call that caused it;
        None when there is no such client (the service's own relay answers)."""
        wanted = types.ClientCapabilities(
            sampling=types.SamplingCapability(tools=types.SamplingToolsCapability() if params.tools else None)
        )
        call = self._gateway_client(server, wanted)
        if call is None:
            return None
        result: (
            types.CreateMessageResult | types.CreateMessageResultWithTools
        ) = await call.context.session.create_message(
            list(params.messages),
            max_tokens=params.max_tokens,
            system_prompt=params.system_prompt,
            include_context=params.include_context,
            temperature=params.temperature,
            stop_sequences=params.stop_sequences,
            metadata=params.metadata,
            model_preferences=params.model_preferences,
            tools=params.tools,
            tool_choice=params.tool_choice,
            related_request_id=call.context.request_id,
        )
        return result

    async def elicit(self, server: str, params: types.ElicitRequestParams) -> types.ElicitResult:
        turn = self._turn_for(server)
        if turn is None:
            try:
                relayed = await self._relay_to_client(server, params)
            except MCPError as exc:
                return types.ElicitResult(
                    action="decline",
                    _meta={REASON_META_KEY: f"declined: the client could not be asked ({exc})"},
                )
            if relayed is not None:
                return relayed
            return types.ElicitResult(
                action="decline", _meta={REASON_META_KEY: "declined: nobody is in a conversation to ask"}
            )
        pending = PendingElicitation(uuid.uuid4().hex, turn.conversation, turn.principal.name, server, params)
        self._pending[pending.id] = pending
        cache = self.limiter.cache
        shared = not isinstance(cache, MemoryCache)
        try:
            if shared:  # another replica may take the answer: it finds the question here
                record = {
                    "conversation": str(pending.conversation),
                    "principal": pending.principal,
                    "params": params.model_dump(mode="json", by_alias=True),
                }
                await cache.set(
                    f"elic:{pending.id}", json.dumps(record).encode(), ttl=self.elicitation_timeout + 60
                )
            await turn.emit("elicitation", {"id": pending.id, "server": server, **_schema_fields(params)})
            with anyio.move_on_after(self.elicitation_timeout):
                while not pending.answered.is_set():
                    # an answer taken here sets the event; one taken by another replica is in the cache
                    with anyio.move_on_after(ELICITATION_POLL if shared else math.inf):
                        await pending.answered.wait()
                    if shared and not pending.answered.is_set():
                        raw = await cache.get(f"elic-answer:{pending.id}")
                        if raw is not None:
                            pending.result = types.ElicitResult.model_validate_json(raw)
                            break
        finally:
            self._pending.pop(pending.id, None)
            if shared:
                with anyio.CancelScope(shield=True):
                    await cache.delete(f"elic:{pending.id}")
                    await cache.delete(f"elic-answer:{pending.id}")
        if pending.result is None:
            return types.ElicitResult(
                action="cancel", _meta={REASON_META_KEY: "cancelled: the person did not answer in time"}
            )
        return pending.result

    async def answer_elicitation(
        self, principal: Principal, conversation: uuid.UUID, elicitation: str, action: Any, content: Any
    ) -> None:
        """Answer a pending question of a turn streaming here, or (through the shared cache) on
        another replica."""
        missing = ServiceError(404, f"no pending question {elicitation!r} in this conversation")
        pending = self._pending.get(elicitation)
        remote: types.ElicitRequestParams | None = None
        if pending is None:
            raw = await self.limiter.cache.get(f"elic:{elicitation}") if len(elicitation) == 32 else None
            if raw is None:
                raise missing
            record = json.loads(raw)
            if record["conversation"] != str(conversation) or record["principal"] != principal.name:
                raise missing
            remote = _ELICIT_PARAMS.validate_python(record["params"])
        elif pending.conversation != conversation or pending.principal != principal.name:
            raise missing
        params = pending.params if pending is not None else remote
        if action not in ("accept", "decline", "cancel"):
            raise ServiceError(422, "action must be 'accept', 'decline' or 'cancel'")
        if action == "accept" and isinstance(params, types.ElicitRequestFormParams):
            checked = check_elicitation_content(params.requested_schema, content)
            result = types.ElicitResult(action="accept", content=checked)
        else:
            result = types.ElicitResult(action=action)
        if pending is not None:
            pending.result = result
            pending.answered.set()
            return
        await self.limiter.cache.set(
            f"elic-answer:{elicitation}",
            result.model_dump_json(by_alias=True, exclude_none=True).encode(),
            ttl=self.elicitation_timeout + 60,
        )

    # --- limits ------------------------------------------------------------------------------

    async def hit(self, principal: Principal) -> None:
        try:
            await self.limiter.hit(principal.name, principal.audience)
            if principal.kind == "visitor" and principal.client:
                await self.limiter.hit(f"ip:{principal.client}", principal.audience, per_address=True)
        except Limited:
            self.metrics.inc("folio_rate_limited_total", reason="requests")
            raise
