"""A chat session: the fleet, the model, the relays and the history, wired together.

:class:`ChatHost` owns what lives as long as ``folio chat`` (or one ``folio ask``): the fleet with
each server's sampling and elicitation callbacks, the database pool for the history, and the
:class:`~folio_orchestrator.agent.Agent` of the current conversation. The terminal front end is
in :mod:`folio_orchestrator.cli.chat`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from mcp import MCPError
from mcp.types import SamplingCapability, SamplingToolsCapability

from folio_core.settings import FolioSettings
from folio_orchestrator.agent import Agent, EventSink, ToolOutcome, TurnResult
from folio_orchestrator.budget import Budget, BudgetKeeper
from folio_orchestrator.config import FleetConfig, ServerConfig
from folio_orchestrator.errors import CallTimeout, FolioHostError
from folio_orchestrator.fleet import ClientCallbacks, Fleet, ServerState
from folio_orchestrator.forms import FormIO, NoTerminalPolicy, elicitation_callback, policy_from_env
from folio_orchestrator.history import PACKAGE, History
from folio_orchestrator.llm import ChatModel, Message, ModelConfigError, ToolSpec, make_model
from folio_orchestrator.relay import ModelChoice, SamplingRelay, SamplingReviewer, ServerSampling
from folio_orchestrator.ui.console import Console

log = structlog.get_logger(__name__)

FAST_MODEL_ENV = "FOLIO_FAST_MODEL"
PROFILE_SERVER = "profile"
RESUME_URI = "profile://resume.md"

NO_MODEL_HELP = """\
No language model is configured, so the chat cannot answer yet (the /commands still work).
Configure one, then start again (inside `folio chat`, `/model M` switches without a restart):
  export ANTHROPIC_API_KEY=sk-ant-…                    # Anthropic (default model: anthropic:claude-sonnet-4-6)
  export OPENAI_API_KEY=sk-… FOLIO_MODEL=openai:gpt-4.1  # OpenAI
  export FOLIO_MODEL=openai:llama3.1@http://localhost:11434/v1   # a local OpenAI-compatible server (Ollama …)
or pass --model. A comma-separated FOLIO_MODEL is a fallback list.
Meanwhile, `make tour` shows the profile server at work, and `--model test` (`/model test` in the
chat) is an offline model that calls every read-only tool once and never changes your data."""


def configured_model(spec: str | None, env: dict[str, str] | None = None) -> ChatModel | None:
    """The chat model from ``--model`` / ``FOLIO_MODEL`` / the API keys present, or None."""
    environ = dict(os.environ if env is None else env)
    if spec is None and not environ.get("FOLIO_MODEL"):
        if environ.get("ANTHROPIC_API_KEY"):
            spec = "anthropic:claude-sonnet-4-6"
        elif environ.get("OPENAI_API_KEY"):
            spec = "openai:gpt-4.1"
        else:
            return None
    return make_model(spec, env=environ)


def _read_only(tool: Any) -> bool:
    """Whether an MCP tool promises to change nothing (``annotations.readOnlyHint``, default false)."""
    annotations = getattr(tool, "annotations", None)
    return bool(annotations is not None and annotations.read_only_hint)


class FleetTools:
    """The fleet as the agent's tool host: routed names, structured results as JSON text."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def tool_specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(
                name=routed.name,
                description=(routed.tool.description or routed.tool.title or routed.tool.name)[:1024],
                input_schema=dict(routed.tool.input_schema),
                read_only=_read_only(routed.tool),
            )
            for routed in self.fleet.tools()
        ]

    def locate(self, name: str) -> tuple[str, str]:
        try:
            route = self.fleet.router.tool(name)
        except FolioHostError:
            return "", name
        return route.server, route.item

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        server, tool = self.locate(name)
        try:
            result = await self.fleet.call_tool(name, arguments)
        except CallTimeout as exc:
            return ToolOutcome(
                f"{exc}; try again later or with a narrower request", True, server, tool, "timeout"
            )
        except (FolioHostError, MCPError) as exc:
            return ToolOutcome(str(exc), True, server, tool, "error")
        if result.structured_content is not None and not result.is_error:
            content = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
        else:
            content = "\n".join(getattr(block, "text", f"[{block.type}]") for block in result.content)
        return ToolOutcome(content, bool(result.is_error), server, tool, "error" if result.is_error else "ok")


async def twin_system_prompt(fleet: Fleet, audience: str) -> str:
    """The system prompt: the owner's digital twin, grounded in the profile server's résumé."""
    resume = ""
    if PROFILE_SERVER in fleet.supervisors and fleet.supervisor(PROFILE_SERVER).state == ServerState.READY:
        try:
            _, result = await fleet.read_resource(RESUME_URI, server=PROFILE_SERVER)
            resume = "".join(getattr(c, "text", "") for c in result.contents)
        except (FolioHostError, MCPError) as exc:
            log.warning("no résumé for the system prompt", error=str(exc))
    who = "the owner themselves" if audience == "owner" else "a visitor (a recruiter or collaborator)"
    lines = [
        "You are the digital twin of the professional whose résumé follows: answer as them, in the first person,",
        "warmly and precisely. Use the tools to look things up (résumé search, memories, projects) rather than",
        "guessing; when a tool gives evidence, rely on it, and say so when you do not know.",
        f"You are talking with {who}.",
    ]
    if audience != "owner":
        lines.append(
            "Share only what the tools return to you; never invent contact details or private facts."
        )
    if resume:
        lines += ["", "<resume>", resume.strip(), "</resume>"]
    else:
        lines.append("(The résumé is not available right now: say so if asked about it.)")
    return "\n".join(lines)


@dataclass
class ChatOptions:
    model: ChatModel | None
    fast_model: ChatModel | None = None
    interactive: bool = False
    io: FormIO | None = None
    reviewer: SamplingReviewer | None = None
    elicitation_policy: NoTerminalPolicy | None = None
    max_steps: int = 8
    console: Console | None = None
    """The terminal the questions are asked on: Ctrl-C at one of them cancels the turn."""


class ChatHost:
    """Everything a conversation needs, for the lifetime of a chat."""

    def __init__(self, config: FleetConfig, settings: FolioSettings, options: ChatOptions) -> None:
        self.config = config
        self.settings = settings
        self.options = options
        self.history: History | None = None
        self.agent: Agent | None = None
        self.fleet: Fleet
        self.relay: SamplingRelay
        self._conversation: uuid.UUID | None = None

    @property
    def model(self) -> ChatModel | None:
        return self.options.model

    def callbacks(self, server: ServerConfig) -> ClientCallbacks:
        """Each server's sampling and elicitation callbacks (at every (re)start)."""
        policy = self.options.elicitation_policy or policy_from_env()
        return ClientCallbacks(
            sampling=self.relay.callback(server.name),
            # every adapter supports tools, so servers may offer tools in their sampling requests
            sampling_capabilities=SamplingCapability(tools=SamplingToolsCapability()),
            elicitation=elicitation_callback(
                server.name, io=self.options.io, interactive=self.options.interactive, policy=policy
            ),
        )

    @asynccontextmanager
    async def running(
        self, *, history: bool = True, start: Iterable[str] | None = None
    ) -> AsyncIterator[ChatHost]:
        """Start the fleet (``start``: these servers; default every enabled, non-lazy one) and,
        with ``history``, the database of conversations."""
        from folio_core.cache import make_cache

        async with AsyncExitStack() as stack:
            if history:
                self.history = await stack.enter_async_context(_history(self.settings))
            cache = make_cache(self.settings, namespace="host")
            stack.push_async_callback(cache.aclose)
            sampling = {
                name: ServerSampling(
                    policy=server.options.sampling.policy,
                    budget=Budget(
                        tokens_per_request=server.options.sampling.budget.tokens_per_request,
                        tokens_per_hour=server.options.sampling.budget.tokens_per_hour,
                    ),
                )
                for name, server in self.config.servers.items()
            }
            models = ModelChoice(self.model, self.options.fast_model) if self.model is not None else None
            self.relay = SamplingRelay(
                models,
                budgets=BudgetKeeper(cache),
                settings=sampling,
                reviewer=self.options.reviewer,
                history=self.history,
                conversation=lambda: self._conversation,
            )
            names = (
                list(start)
                if start is not None
                else [s.name for s in self.config.enabled if not s.options.lazy]
            )
            self.fleet = await stack.enter_async_context(
                Fleet(self.config, self.settings, start=names, callbacks=self.callbacks)
            )
            timeout = max((self.config.servers[n].options.start_timeout for n in names), default=0) + 10
            await self.fleet.wait_settled(names, timeout=timeout)
            yield self

    async def new_conversation(
        self, messages: list[Message] | None = None, conversation: uuid.UUID | None = None
    ) -> Agent:
        """Start (or resume, with its stored messages) a conversation with the twin."""
        if self.model is None:
            raise ModelConfigError(NO_MODEL_HELP)
        if conversation is None and self.history is not None:
            conversation = await self.history.start_conversation(
                model=self.model.name, audience=self.settings.audience
            )
        self._conversation = conversation
        self.agent = Agent(
            self.model,
            FleetTools(self.fleet),
            system=await twin_system_prompt(self.fleet, self.settings.audience),
            max_steps=self.options.max_steps,
            history=self.history,
            conversation=conversation,
            messages=messages or [],
        )
        return self.agent

    async def turn(self, question: str, on_event: EventSink | None = None) -> TurnResult:
        """One turn of the current conversation. Ctrl-C at a question a server asks meanwhile (a
        sampling review, a form) cancels the turn: the tool calls in flight are cancelled, the
        conversation keeps a result for each call, and the result says ``cancelled``."""
        if self.agent is None:
            raise ModelConfigError(NO_MODEL_HELP)
        result: TurnResult | None = None
        with anyio.CancelScope() as scope:
            interrupt = self.options.console.on_interrupt(scope.cancel) if self.options.console else None
            with interrupt or nullcontext():
                result = await self.agent.turn(question, on_event)
        return result if result is not None else TurnResult(text="", steps=0, stopped="cancelled")

    async def use_model(self, model: ChatModel) -> Agent:
        """Switch the chat (and the servers' sampling) to ``model`` from the next turn on.

        The current conversation goes on with the new model; without one (the chat started with
        no model), a conversation starts now.
        """
        self.options.model = model
        self.relay.models = ModelChoice(model, self.options.fast_model)
        if self.agent is None:
            return await self.new_conversation()
        self.agent.model = model
        return self.agent

    async def resume(self, prefix: str) -> Agent:
        if self.history is None:
            raise FolioHostError("there is no history to resume from")
        found = await self.history.find(prefix)
        stored = await self.history.messages(found.id)
        return await self.new_conversation([Message.model_validate(m.content) for m in stored], found.id)


@asynccontextmanager
async def _history(settings: FolioSettings) -> AsyncIterator[History]:
    from folio_core.db import migrated_pool

    async with migrated_pool(settings, PACKAGE) as pool:
        yield History(pool)


def fast_model_from_env() -> ChatModel | None:
    spec = os.environ.get(FAST_MODEL_ENV)
    return make_model(spec) if spec else None


def terminal_options(model_spec: str | None, *, interactive: bool | None = None) -> ChatOptions:
    """Options for a command run by a person: forms and sampling reviews in the terminal when
    there is one. Raises ``ModelConfigError`` for a malformed model string."""
    from folio_orchestrator.forms import TerminalFormIO, terminal_available
    from folio_orchestrator.relay import TerminalSamplingReviewer

    if interactive is None:
        interactive = terminal_available()
    io = TerminalFormIO() if interactive else None
    return ChatOptions(
        model=configured_model(model_spec),
        fast_model=fast_model_from_env(),
        interactive=interactive,
        io=io,
        reviewer=TerminalSamplingReviewer(io) if io is not None else None,
        console=io.console if io is not None else None,
    )
