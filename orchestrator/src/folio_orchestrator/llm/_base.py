"""The ``ChatModel`` protocol, and the stream assembler every model uses to emit its events.

All models — the real adapters and the scripted ones — build their events with
:class:`StreamAssembler`, so they stream exactly the same shapes in the same order:

    TextDelta* , (ToolCallStart, ToolCallDelta*, ToolCallEnd)* … , Completion

(text and tool calls may interleave; every ``ToolCallStart`` gets its ``ToolCallEnd`` before the
``Completion``, which is always last).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from folio_orchestrator.llm._context import context_window
from folio_orchestrator.llm._errors import ModelError
from folio_orchestrator.llm._pricing import Price, estimate_cost
from folio_orchestrator.llm._types import (
    Completion,
    Message,
    Part,
    StopReason,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
    ToolSpec,
    Usage,
)

DEFAULT_MAX_TOKENS = 4096


@runtime_checkable
class ChatModel(Protocol):
    """What the agent loop and the relay talk to.

    ``stream`` is an async generator: consume it with ``async with aclosing(model.stream(...))``
    so that leaving early (or being cancelled) closes the HTTP stream at once.
    """

    @property
    def name(self) -> str:
        """``provider:model`` (``anthropic:claude-sonnet-4-5``, ``openai:llama3.1@http://…``)."""
        ...

    @property
    def context_window(self) -> int: ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]: ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion: ...


class BaseChatModel(ABC):
    """``complete`` and ``context_window`` on top of an implementation's ``stream``."""

    @property
    @abstractmethod
    def name(self) -> str: ...

    @property
    def context_window(self) -> int:
        return context_window(self.name)

    @abstractmethod
    def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]: ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        """Run :meth:`stream` to the end and return its :class:`Completion`."""
        events = self.stream(
            messages, system=system, tools=tools, max_tokens=max_tokens, temperature=temperature, stop=stop
        )
        async with aclosing(events):
            async for event in events:
                if isinstance(event, Completion):
                    return event
        raise ModelError("the stream ended without a completion", model=self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


# --- assembling a response ---------------------------------------------------------------------


@dataclass
class _PendingCall:
    index: int
    id: str
    name: str
    chunks: list[str] = field(default_factory=list)
    done: ToolCallPart | None = None


def parse_arguments(text: str) -> tuple[dict[str, Any], str | None]:
    """Tool-call arguments from the streamed JSON text: ``(arguments, invalid_raw_text)``."""
    if not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except ValueError:
        return {}, text
    if not isinstance(value, dict):
        return {}, text
    return value, None


class StreamAssembler:
    """Turns provider increments into stream events and the final :class:`Completion`.

    Tool calls are keyed by whatever the provider uses to tell them apart (Anthropic's block
    index, OpenAI's ``tool_calls[].index``); events carry our own 0-based call index.
    """

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        local: bool = False,
        prices: Mapping[str, Price] | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.local = local
        self.prices = prices
        self.started = time.monotonic()
        self.first_token_s: float | None = None
        self._parts: list[list[str] | _PendingCall] = []
        self._calls: dict[object, _PendingCall] = {}
        self.emitted = False

    def _touch(self) -> None:
        self.emitted = True
        if self.first_token_s is None:
            self.first_token_s = time.monotonic() - self.started

    def text(self, delta: str) -> TextDelta | None:
        if not delta:
            return None
        self._touch()
        if self._parts and isinstance(self._parts[-1], list):
            self._parts[-1].append(delta)
        else:
            self._parts.append([delta])
        return TextDelta(delta)

    def has_call(self, key: object) -> bool:
        return key in self._calls

    def open_calls(self) -> list[object]:
        return [key for key, call in self._calls.items() if call.done is None]

    def start_call(self, key: object, call_id: str, name: str) -> ToolCallStart:
        self._touch()
        call = _PendingCall(index=len(self._calls), id=call_id, name=name)
        self._calls[key] = call
        self._parts.append(call)
        return ToolCallStart(index=call.index, id=call.id, name=call.name)

    def call_arguments(self, key: object, delta: str) -> ToolCallDelta | None:
        call = self._calls[key]
        if not delta or call.done is not None:
            return None
        self._touch()
        call.chunks.append(delta)
        return ToolCallDelta(index=call.index, id=call.id, arguments_delta=delta)

    def end_call(self, key: object) -> ToolCallEnd | None:
        call = self._calls[key]
        if call.done is not None:
            return None
        arguments, invalid = parse_arguments("".join(call.chunks))
        call.done = ToolCallPart(id=call.id, name=call.name, arguments=arguments, invalid_arguments=invalid)
        return ToolCallEnd(index=call.index, call=call.done)

    def end_all_calls(self) -> list[ToolCallEnd]:
        ends = [self.end_call(key) for key in self.open_calls()]
        return [end for end in ends if end is not None]

    def message(self) -> Message:
        parts: list[Part] = []
        for entry in self._parts:
            if isinstance(entry, list):
                parts.append(TextPart(text="".join(entry)))
            elif entry.done is not None:
                parts.append(entry.done)
        return Message(role="assistant", content=tuple(parts))

    def finish(
        self,
        stop_reason: StopReason,
        *,
        raw_stop_reason: str | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
        response_model: str | None = None,
    ) -> Completion:
        """The final event. Call :meth:`end_all_calls` first (and yield its events)."""
        message = self.message()
        if stop_reason == "end_turn" and message.tool_calls:
            stop_reason = "tool_use"
        cost = estimate_cost(
            self.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input_tokens,
            local=self.local,
            prices=self.prices,
        )
        if cost is None and response_model and response_model != self.model:
            cost = estimate_cost(
                response_model,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_input_tokens=cached_input_tokens,
                prices=self.prices,
            )
        usage = Usage(
            provider=self.provider,
            model=self.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input_tokens,
            latency_s=time.monotonic() - self.started,
            first_token_s=self.first_token_s,
            cost_usd=cost,
        )
        return Completion(
            message=message, stop_reason=stop_reason, usage=usage, raw_stop_reason=raw_stop_reason
        )
