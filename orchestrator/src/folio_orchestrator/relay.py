"""The sampling relay: servers' ``sampling/createMessage`` requests answered by the host's LLM.

For each server, the fleet file sets a policy — ``auto`` (answer), ``ask`` (show the request to
the person, who may edit it, approve or deny it, and then review the answer) or ``deny`` — and a
budget (tokens per request and per hour, see :mod:`folio_orchestrator.budget`). The model is
chosen from the request's preferences: name hints matched against the configured models first,
then the cost / speed / intelligence priorities choose between the configured fast and strong
models. Tools in the request are offered to the model. Every answered request is recorded as
usage of the server that asked.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

import structlog
from mcp.client import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
    ErrorData,
    ModelPreferences,
    SamplingMessage,
    TextContent,
    ToolResultContent,
    ToolUseContent,
)

from folio_orchestrator.budget import Budget, BudgetExceededError, BudgetKeeper
from folio_orchestrator.forms import FormAborted, FormIO, clean
from folio_orchestrator.llm import (
    ChatModel,
    Completion,
    Message,
    ModelError,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    estimate_tokens,
)
from folio_orchestrator.ui.console import QuestionDismissed

if TYPE_CHECKING:
    from folio_orchestrator.history import History

log = structlog.get_logger(__name__)

SamplingPolicy = Literal["auto", "ask", "deny"]
USER_REJECTED = -1  # the code MCP uses for a sampling request the user (or host) rejected
_SAFE_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class SamplingRefused(Exception):
    """The request cannot be answered; the message tells the server why."""


@dataclass(frozen=True)
class ServerSampling:
    """One server's sampling settings (from its ``folio`` entry in the fleet file)."""

    policy: SamplingPolicy = "ask"
    budget: Budget = field(default_factory=Budget)


@dataclass(frozen=True)
class ModelChoice:
    """The models sampling may use: ``strong`` (the default chat model) and an optional ``fast`` one."""

    strong: ChatModel
    fast: ChatModel | None = None

    @property
    def candidates(self) -> list[ChatModel]:
        return [m for m in (self.strong, self.fast) if m is not None]

    def choose(self, preferences: ModelPreferences | None) -> ChatModel:
        """Hints first (substring of a configured model's name), then the priorities."""
        if preferences is None:
            return self.strong
        for hint in preferences.hints or []:
            wanted = (hint.name or "").strip().lower()
            if not wanted:
                continue
            for model in self.candidates:
                if wanted in model.name.lower():
                    return model
        if self.fast is None:
            return self.strong
        intelligence = preferences.intelligence_priority or 0.0
        thrift = max(preferences.cost_priority or 0.0, preferences.speed_priority or 0.0)
        return self.fast if thrift > intelligence else self.strong


@dataclass(frozen=True)
class SamplingRequest:
    """What the person reviews under the ``ask`` policy (and may edit)."""

    server: str
    model: str
    system: str | None
    messages: tuple[Message, ...]
    max_tokens: int
    tools: tuple[ToolSpec, ...] = ()


class SamplingReviewer(Protocol):
    """The person, under the ``ask`` policy."""

    async def review_request(self, request: SamplingRequest) -> SamplingRequest | None:
        """The request to send (possibly edited), or None to deny it."""
        ...

    async def review_answer(self, request: SamplingRequest, answer: Completion) -> bool:
        """Whether the answer may go back to the server."""
        ...


ConversationOf = Callable[[], uuid.UUID | None]


class SamplingRelay:
    """Answers sampling requests for every server of a fleet; ``callback(server)`` plugs into a Client."""

    def __init__(
        self,
        models: ModelChoice | None,
        *,
        budgets: BudgetKeeper,
        settings: dict[str, ServerSampling] | None = None,
        reviewer: SamplingReviewer | None = None,
        history: History | None = None,
        conversation: ConversationOf = lambda: None,
    ) -> None:
        self.models = models
        self.budgets = budgets
        self.settings = settings or {}
        self.reviewer = reviewer
        self.history = history
        self.conversation = conversation

    def callback(self, server: str) -> Any:
        """The ``sampling_callback`` for ``server``'s client."""

        async def sampling_callback(
            context: ClientRequestContext, params: CreateMessageRequestParams
        ) -> CreateMessageResult | CreateMessageResultWithTools | ErrorData:
            try:
                return await self.handle(server, params)
            except SamplingRefused as exc:
                log.info("sampling refused", server=server, reason=str(exc))
                return ErrorData(code=USER_REJECTED, message=str(exc))

        return sampling_callback

    async def handle(
        self, server: str, params: CreateMessageRequestParams
    ) -> CreateMessageResult | CreateMessageResultWithTools:
        settings = self.settings.get(server, ServerSampling())
        if settings.policy == "deny":
            raise SamplingRefused(
                f"the host's policy denies sampling to {server!r} (fleet file: folio.sampling)"
            )
        if self.models is None:
            raise SamplingRefused("the host has no language model configured (set FOLIO_MODEL)")
        model = self.models.choose(params.model_preferences)
        names = _ToolNames(params)
        request = SamplingRequest(
            server=server,
            model=model.name,
            system=params.system_prompt,
            messages=tuple(_to_messages(params.messages, names)),
            max_tokens=params.max_tokens,
            tools=tuple(names.specs),
        )
        needed = estimate_tokens(list(request.messages), system=request.system, tools=list(request.tools))
        reservation = await self._reserve(server, settings.budget, needed + request.max_tokens)
        try:
            if settings.policy == "ask":
                request = await self._review_request(request)
            started = time.perf_counter()
            try:
                completion = await model.complete(
                    list(request.messages),
                    system=request.system,
                    tools=request.tools,
                    max_tokens=request.max_tokens,
                    temperature=params.temperature,
                    stop=params.stop_sequences,
                )
            except ModelError as exc:
                raise SamplingRefused(f"the host's model failed: {exc}") from exc
            latency = time.perf_counter() - started
        except BaseException:
            await self.budgets.release(reservation)
            raise
        usage = completion.usage
        await self.budgets.settle(reservation, usage.input_tokens + usage.output_tokens)
        await self._record(server, completion, latency)
        reviewer = self.reviewer if settings.policy == "ask" else None
        if reviewer is not None and not await reviewer.review_answer(request, completion):
            raise SamplingRefused("the person did not let the answer go back to the server")
        return _to_result(completion, model.name, names)

    async def _reserve(self, server: str, budget: Budget, tokens: int) -> Any:
        try:
            return await self.budgets.reserve(server, budget, tokens)
        except BudgetExceededError as exc:
            raise SamplingRefused(str(exc)) from exc

    async def _review_request(self, request: SamplingRequest) -> SamplingRequest:
        if self.reviewer is None:
            raise SamplingRefused(
                f"sampling for {request.server!r} needs the person's approval (policy 'ask') and there is no "
                "one to ask here; set its policy to 'auto' in the fleet file to allow it unattended"
            )
        reviewed = await self.reviewer.review_request(request)
        if reviewed is None:
            raise SamplingRefused("the person denied this sampling request")
        return reviewed

    async def _record(self, server: str, completion: Completion, latency: float) -> None:
        if self.history is None:
            return
        from folio_orchestrator.history import UsageRecord

        usage = completion.usage
        await self.history.record_usage(
            self.conversation(),
            UsageRecord(
                provider=usage.provider,
                model=usage.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                latency_ms=(usage.latency_s or latency) * 1000,
                purpose="sampling",
                cost_usd=usage.cost_usd,
                server=server,
            ),
        )


class _ToolNames:
    """Tools offered in a sampling request, with provider-safe names mapped both ways."""

    def __init__(self, params: CreateMessageRequestParams) -> None:
        self.to_safe: dict[str, str] = {}
        self.to_original: dict[str, str] = {}
        self.specs: list[ToolSpec] = []
        choice = params.tool_choice.mode if params.tool_choice is not None else None
        if not params.tools or choice == "none":
            return
        for index, tool in enumerate(params.tools):
            safe = tool.name if _SAFE_NAME.match(tool.name) else _safe_name(tool.name, index)
            self.to_safe[tool.name] = safe
            self.to_original[safe] = tool.name
            self.specs.append(
                ToolSpec(
                    name=safe,
                    description=tool.description or "",
                    input_schema=dict(tool.input_schema),
                    read_only=bool(tool.annotations is not None and tool.annotations.read_only_hint),
                )
            )

    def safe(self, name: str) -> str:
        return self.to_safe.get(name, name if _SAFE_NAME.match(name) else _safe_name(name, 0))

    def original(self, name: str) -> str:
        return self.to_original.get(name, name)


def _safe_name(name: str, index: int) -> str:
    cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "_", name).strip("_") or "tool"
    return f"t{index}_{cleaned}"[:64]


def _blocks(message: SamplingMessage) -> list[Any]:
    return list(message.content) if isinstance(message.content, list) else [message.content]


def _to_messages(messages: Sequence[SamplingMessage], names: _ToolNames) -> list[Message]:
    """MCP sampling messages as provider-neutral messages (tool results become ``tool`` messages)."""
    out: list[Message] = []
    for message in messages:
        parts: list[Part] = []
        results: list[ToolResultPart] = []
        for block in _blocks(message):
            if isinstance(block, TextContent):
                parts.append(TextPart(text=block.text))
            elif isinstance(block, ToolUseContent):
                parts.append(
                    ToolCallPart(id=block.id, name=names.safe(block.name), arguments=dict(block.input))
                )
            elif isinstance(block, ToolResultContent):
                text = "".join(c.text for c in block.content if isinstance(c, TextContent))
                results.append(
                    ToolResultPart(call_id=block.tool_use_id, content=text, is_error=bool(block.is_error))
                )
            else:
                kind = getattr(block, "type", type(block).__name__)
                raise SamplingRefused(f"this host can only relay text and tool content, not {kind!r}")
        if results:
            out.append(Message.tool_results(results))
        if parts:
            out.append(Message(role=message.role, content=tuple(parts)))
    return out


def _to_result(
    completion: Completion, model: str, names: _ToolNames
) -> CreateMessageResult | CreateMessageResultWithTools:
    stop = {
        "end_turn": "endTurn",
        "max_tokens": "maxTokens",
        "stop_sequence": "stopSequence",
        "tool_use": "toolUse",
    }[completion.stop_reason]
    calls = completion.message.tool_calls
    text = completion.message.text
    if not calls:
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=text), model=model, stop_reason=stop
        )
    blocks: list[Any] = [TextContent(type="text", text=text)] if text else []
    blocks += [
        ToolUseContent(type="tool_use", id=call.id, name=names.original(call.name), input=call.arguments)
        for call in calls
    ]
    return CreateMessageResultWithTools(role="assistant", content=blocks, model=model, stop_reason=stop)


class TerminalSamplingReviewer:
    """The ``ask`` policy in a terminal: show the request, let the person edit it, approve or deny,
    then show the answer before it goes back to the server.

    Forms and reviews from several servers are shown one at a time (each holds the io's console
    while it is shown, and the chat's output waits meanwhile). Ctrl-C denies the request and, through
    the console, cancels the chat turn that led to it.
    """

    def __init__(self, io: FormIO) -> None:
        self.io = io

    async def review_request(self, request: SamplingRequest) -> SamplingRequest | None:
        try:
            async with self.io.console.question():
                return await self._review_request(request)
        except QuestionDismissed:
            return None

    async def review_answer(self, request: SamplingRequest, answer: Completion) -> bool:
        try:
            async with self.io.console.question():
                return await self._review_answer(request, answer)
        except QuestionDismissed:
            return False

    async def _review_request(self, request: SamplingRequest) -> SamplingRequest | None:
        io = self.io
        io.write(
            f"\n— {clean(request.server)} asks the model ({request.model}) for up to {request.max_tokens} tokens —"
        )
        if request.system:
            io.write(f"system: {clean(request.system)}")
        for message in request.messages:
            text = (
                clean(message.text)
                or ", ".join(f"{c.name}(…)" for c in message.tool_calls)
                or "[tool results]"
            )
            io.write(f"{message.role}: {text}")
        if request.tools:
            io.write("tools offered: " + ", ".join(t.name for t in request.tools))
        while True:
            try:
                choice = (await io.ask("[a]pprove, [e]dit the last message, [d]eny? ")).strip().lower()
            except FormAborted:
                return None
            if choice in {"a", "approve", "y", "yes"}:
                return request
            if choice in {"d", "deny", "n", "no"}:
                return None
            if choice in {"e", "edit"}:
                last_user = max((i for i, m in enumerate(request.messages) if m.role == "user"), default=None)
                if (
                    last_user is None
                    or request.messages[last_user].tool_calls
                    or not request.messages[last_user].text
                ):
                    io.write("there is no text message of the user to edit")
                    continue
                try:
                    text = await io.ask("new text: ")
                except FormAborted:
                    return None
                messages = list(request.messages)
                messages[last_user] = Message.user(text)
                request = replace(request, messages=tuple(messages))
                io.write(f"user: {clean(text)}")
                continue
            io.write("please answer a, e or d")

    async def _review_answer(self, request: SamplingRequest, answer: Completion) -> bool:
        io = self.io
        calls = ", ".join(f"{c.name}({c.arguments})" for c in answer.message.tool_calls)
        io.write(
            f"answer for {clean(request.server)}: {clean(answer.message.text)}{' ' + calls if calls else ''}"
        )
        while True:
            try:
                choice = (await io.ask("[s]end it to the server, [d]iscard? ")).strip().lower()
            except FormAborted:
                return False
            if choice in {"s", "send", "y", "yes"}:
                return True
            if choice in {"d", "discard", "n", "no"}:
                return False
            io.write("please answer s or d")
