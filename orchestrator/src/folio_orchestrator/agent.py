"""The agent loop: one chat turn of the model and the fleet's tools.

A turn streams the model's answer, runs the tool calls of each step concurrently, feeds their
results back, and stops when the model answers without calling a tool or after ``max_steps``.
Before every model request the conversation is trimmed to the model's context window (oldest
turns first, never the system prompt or the current question). Cancelling the turn (Ctrl-C in
the chat) cancels the model stream and every tool call in flight; the conversation is left
consistent: each tool call the model made gets a result, "cancelled" if need be.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import structlog

from folio_orchestrator.llm import (
    ChatModel,
    Completion,
    Message,
    ModelError,
    StreamEvent,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    Usage,
    estimate_message_tokens,
    estimate_tokens,
)

if TYPE_CHECKING:
    from folio_orchestrator.history import History, Outcome

log = structlog.get_logger(__name__)

DEFAULT_MAX_STEPS = 8
DEFAULT_MAX_TOKENS = 2048
RESULT_CHARS = 20_000  # a tool result longer than this is cut before it reaches the model


@dataclass(frozen=True)
class ToolOutcome:
    """What one tool call gave: text for the model, and where it ran."""

    content: str
    is_error: bool
    server: str
    tool: str
    outcome: Outcome = "ok"


class ToolHost(Protocol):
    """Where the model's tools live (the fleet, in the orchestrator)."""

    def tool_specs(self) -> list[ToolSpec]: ...

    def locate(self, name: str) -> tuple[str, str]:
        """(server, tool) behind an offered name, for the history; ("", name) when unknown."""
        ...

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome: ...


@dataclass(frozen=True)
class ToolCallStarted:
    call: ToolCallPart


@dataclass(frozen=True)
class ToolCallFinished:
    call: ToolCallPart
    outcome: ToolOutcome
    seconds: float


AgentEvent = StreamEvent | ToolCallStarted | ToolCallFinished
EventSink = Callable[[AgentEvent], Awaitable[None] | None]


@dataclass
class TurnResult:
    text: str
    steps: int
    usage: list[Usage] = field(default_factory=list)
    stopped: str = "answered"  # answered | max_steps | cancelled | model_error
    error: str | None = None


class Agent:
    """A conversation: its messages, the model, the tools, and (optionally) the history it writes."""

    def __init__(
        self,
        model: ChatModel,
        tools: ToolHost,
        *,
        system: str,
        max_steps: int = DEFAULT_MAX_STEPS,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        history: History | None = None,
        conversation: uuid.UUID | None = None,
        messages: Sequence[Message] = (),
    ) -> None:
        self.model = model
        self.tools = tools
        self.system = system
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.history = history
        self.conversation = conversation
        self.messages: list[Message] = list(messages)

    async def turn(self, question: str, on_event: EventSink | None = None) -> TurnResult:
        """Answer ``question``; ``on_event`` sees every stream delta and tool call as it happens."""
        start = len(self.messages)
        self.messages.append(Message.user(question))
        result = TurnResult(text="", steps=0)
        try:
            await self._run(result, on_event)
        except anyio.get_cancelled_exc_class():
            result.stopped = "cancelled"
            self._close_dangling_calls()
            with anyio.CancelScope(shield=True):
                await self._persist(start)
            raise
        await self._persist(start)
        return result

    async def _run(self, result: TurnResult, on_event: EventSink | None) -> None:
        specs = self.tools.tool_specs()
        for step in range(1, self.max_steps + 1):
            result.steps = step
            context = fit_context(
                self.messages,
                system=self.system,
                tools=specs,
                window=self.model.context_window,
                reserve=self.max_tokens,
            )
            try:
                completion = await self._stream(context, specs, on_event)
            except ModelError as exc:
                result.stopped, result.error = "model_error", str(exc)
                if step == 1:
                    self.messages.pop()  # nothing happened: the person may simply ask again
                else:
                    self.messages.append(Message.assistant(f"(the model failed before finishing: {exc})"))
                return
            result.usage.append(completion.usage)
            await self._record_usage(completion.usage)
            self.messages.append(completion.message)
            result.text = completion.message.text
            calls = completion.message.tool_calls
            if not calls:
                return
            self.messages.append(Message.tool_results(await self._run_calls(calls, on_event)))
        result.stopped = "max_steps"
        note = f"(stopped after {self.max_steps} steps of tool calls; ask me to continue if you want more)"
        self.messages.append(Message.assistant(note))
        result.text = note

    async def _stream(
        self, context: list[Message], specs: list[ToolSpec], on_event: EventSink | None
    ) -> Completion:
        completion: Completion | None = None
        stream = self.model.stream(context, system=self.system, tools=specs, max_tokens=self.max_tokens)
        async with aclosing(stream) as events:
            async for event in events:
                await _emit(on_event, event)
                if isinstance(event, Completion):
                    completion = event
        if completion is None:  # pragma: no cover - every ChatModel ends with a Completion
            raise ModelError(f"{self.model.name} ended its stream without a completion")
        return completion

    async def _run_calls(self, calls: list[ToolCallPart], on_event: EventSink | None) -> list[ToolResultPart]:
        results: dict[str, ToolResultPart] = {}

        async def run(call: ToolCallPart) -> None:
            await _emit(on_event, ToolCallStarted(call))
            started = time.perf_counter()
            server, tool = self.tools.locate(call.name)
            if call.invalid_arguments is not None:
                outcome = ToolOutcome(
                    f"the arguments were not a JSON object: {call.invalid_arguments[:200]!r}; call the tool again "
                    "with valid JSON arguments",
                    True,
                    server=server,
                    tool=tool,
                    outcome="error",
                )
            else:
                try:
                    outcome = await self.tools.call_tool(call.name, call.arguments)
                except anyio.get_cancelled_exc_class():
                    # the history keeps the call that was in flight (the schema has 'cancelled' for it)
                    cancelled = ToolOutcome("cancelled", True, server, tool, "cancelled")
                    with anyio.CancelScope(shield=True):
                        await self._record_call(call, cancelled, time.perf_counter() - started)
                    raise
            seconds = time.perf_counter() - started
            content = outcome.content
            if len(content) > RESULT_CHARS:
                content = (
                    content[:RESULT_CHARS]
                    + f"\n[… {len(outcome.content) - RESULT_CHARS} more characters cut]"
                )
            results[call.id] = ToolResultPart(call_id=call.id, content=content, is_error=outcome.is_error)
            await self._record_call(call, outcome, seconds)
            await _emit(on_event, ToolCallFinished(call, outcome, seconds))

        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(run, call)
        return [results[call.id] for call in calls]

    def _close_dangling_calls(self) -> None:
        """After a cancel, answer every unanswered tool call so the conversation stays valid."""
        if not self.messages or self.messages[-1].role != "assistant":
            return
        calls = self.messages[-1].tool_calls
        if calls:
            self.messages.append(
                Message.tool_results(
                    [
                        ToolResultPart(call_id=c.id, content="cancelled by the user", is_error=True)
                        for c in calls
                    ]
                )
            )

    async def _record_call(self, call: ToolCallPart, outcome: ToolOutcome, seconds: float) -> None:
        if self.history is None:
            return
        from folio_orchestrator.history import ToolCallRecord

        await self.history.record_tool_call(
            self.conversation,
            ToolCallRecord(
                server=outcome.server or "?",
                tool=outcome.tool,
                arguments=call.arguments,
                outcome=outcome.outcome,
                duration_ms=seconds * 1000,
                call_id=call.id,
                result=outcome.content,
            ),
        )

    async def _record_usage(self, usage: Usage) -> None:
        if self.history is None:
            return
        from folio_orchestrator.history import UsageRecord

        await self.history.record_usage(
            self.conversation,
            UsageRecord(
                provider=usage.provider,
                model=usage.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                latency_ms=usage.latency_s * 1000,
                purpose="chat",
                cost_usd=usage.cost_usd,
            ),
        )

    async def _persist(self, start: int) -> None:
        if self.history is None or self.conversation is None:
            return
        new = self.messages[start:]
        if not new:
            return
        if start == 0:  # the first question names the conversation in `folio history list`
            await self.history.set_title(self.conversation, " ".join(new[0].text.split())[:80])
        await self.history.add_messages(self.conversation, [(m.role, m.model_dump(mode="json")) for m in new])


async def _emit(sink: EventSink | None, event: AgentEvent) -> None:
    if sink is None:
        return
    result = sink(event)
    if result is not None:
        await result


def fit_context(
    messages: Sequence[Message], *, system: str, tools: Sequence[ToolSpec], window: int, reserve: int
) -> list[Message]:
    """The newest messages that fit ``window`` tokens with ``reserve`` left for the answer.

    Whole turns are dropped from the oldest (a turn starts at a user question), so a tool call is
    never separated from its result; the current turn is always kept. When something was dropped,
    a short note takes its place so the model knows the conversation is longer.
    """
    budget = window - reserve - estimate_tokens([], system=system, tools=list(tools))
    starts = [i for i, m in enumerate(messages) if m.role == "user" and not m.results]
    if not starts:
        return list(messages)
    sizes = [estimate_message_tokens(m) for m in messages]
    current = starts[-1]
    used = sum(sizes[current:])
    keep_from = current
    for start in reversed(starts[:-1]):
        size = sum(sizes[start:keep_from])
        if used + size > budget:
            break
        used += size
        keep_from = start
    if keep_from == 0:
        return list(messages)
    dropped = sum(1 for i in starts if i < keep_from)
    note = Message.user(
        f"[{dropped} earlier exchange(s) of this conversation were left out to fit the context]"
    )
    ack = Message.assistant("Understood.")
    return [note, ack, *messages[keep_from:]]
