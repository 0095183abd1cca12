"""Scripted models for tests and offline demos: :class:`FunctionModel` and :class:`TestModel`.

They stream through the same :class:`StreamAssembler` as the real adapters, so the agent loop sees
identical event shapes: text arrives word by word, each tool call as start → argument fragments →
end, and a :class:`Completion` with usage last. They never send anything, so the guard does not
apply to them. Usage is estimated with :func:`estimate_tokens` and costs 0.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from folio_orchestrator.llm._base import DEFAULT_MAX_TOKENS, BaseChatModel, StreamAssembler
from folio_orchestrator.llm._context import DEFAULT_CONTEXT_WINDOW, estimate_message_tokens, estimate_tokens
from folio_orchestrator.llm._types import (
    Message,
    StopReason,
    StreamEvent,
    TextPart,
    ToolCallPart,
    ToolSpec,
)

_WORDS = re.compile(r"\s*\S+\s*|\s+")
_ids = itertools.count(1)


@dataclass(frozen=True)
class ModelRequest:
    """Everything a model was asked, besides the messages."""

    system: str | None
    tools: Sequence[ToolSpec]
    max_tokens: int
    temperature: float | None
    stop: Sequence[str] | None


FunctionReply = str | Message | ToolCallPart | Sequence[TextPart | ToolCallPart]
ReplyFunction = Callable[[list[Message], ModelRequest], FunctionReply | Awaitable[FunctionReply]]


def tool_call(name: str, arguments: dict[str, Any] | None = None, *, id: str | None = None) -> ToolCallPart:
    """A tool call for a :class:`FunctionModel` reply (a fresh id unless given)."""
    return ToolCallPart(id=id or f"call_{next(_ids)}", name=name, arguments=arguments or {})


def _parts(reply: FunctionReply) -> list[TextPart | ToolCallPart]:
    if isinstance(reply, str):
        return [TextPart(text=reply)]
    if isinstance(reply, Message):
        return [p for p in reply.content if isinstance(p, TextPart | ToolCallPart)]
    if isinstance(reply, ToolCallPart):
        return [reply]
    return list(reply)


async def _stream_parts(
    parts: Sequence[TextPart | ToolCallPart],
    *,
    provider: str,
    model: str,
    messages: Sequence[Message],
    request: ModelRequest,
) -> AsyncGenerator[StreamEvent, None]:
    asm = StreamAssembler(provider=provider, model=model, local=True)
    for key, part in enumerate(parts):
        if isinstance(part, TextPart):
            for word in _WORDS.findall(part.text):
                event = asm.text(word)
                if event is not None:
                    yield event
        else:
            yield asm.start_call(key, part.id, part.name)
            raw = part.invalid_arguments if part.invalid_arguments is not None else json.dumps(part.arguments)
            middle = len(raw) // 2
            for fragment in (raw[:middle], raw[middle:]):
                delta = asm.call_arguments(key, fragment)
                if delta is not None:
                    yield delta
            end = asm.end_call(key)
            if end is not None:
                yield end
    message = asm.message()
    output = estimate_message_tokens(message)
    stop: StopReason = "end_turn"
    if output > request.max_tokens and not message.tool_calls:
        stop = "max_tokens"
    yield asm.finish(
        stop,
        raw_stop_reason=stop,
        input_tokens=estimate_tokens(messages, system=request.system, tools=request.tools),
        output_tokens=output,
    )


class FunctionModel(BaseChatModel):
    """A model whose every reply is scripted by ``function(messages, request)``.

    The function (sync or async) returns a string, a :class:`Message`, a :class:`ToolCallPart` or
    a list of text and tool-call parts (see :func:`tool_call`); it may raise a :class:`ModelError`
    to simulate a failing provider. ``calls`` records every request it received.
    """

    def __init__(
        self,
        function: ReplyFunction,
        *,
        model_name: str = "function",
        context_window: int = DEFAULT_CONTEXT_WINDOW,
    ) -> None:
        self.function = function
        self.model_name = model_name
        self._context_window = context_window
        self.calls: list[tuple[list[Message], ModelRequest]] = []

    @property
    def name(self) -> str:
        return f"function:{self.model_name}"

    @property
    def context_window(self) -> int:
        return self._context_window

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        request = ModelRequest(
            system=system, tools=tuple(tools), max_tokens=max_tokens, temperature=temperature, stop=stop
        )
        history = list(messages)
        self.calls.append((history, request))
        reply = self.function(history, request)
        if inspect.isawaitable(reply):
            reply = await reply
        async for event in _stream_parts(
            _parts(reply), provider="function", model=self.model_name, messages=history, request=request
        ):
            yield event


class TestModel(BaseChatModel):
    """Calls every offered read-only tool once (arguments made up from each schema), then answers
    with a readable summary of what came back, one line per tool.

    It never writes: tools not annotated read-only (``ToolSpec.read_only``) are skipped, and the
    answer names them and says why; ``writes=True`` calls them too (for tests on throwaway data).
    ``call_tools`` limits which tools it calls; ``text`` replaces the final answer. Without tools
    to call it answers ``text`` or ``"success (no tool calls)"``.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        call_tools: Sequence[str] | Literal["all"] = "all",
        text: str | None = None,
        writes: bool = False,
        model_name: str = "test",
        context_window: int = DEFAULT_CONTEXT_WINDOW,
    ) -> None:
        self.call_tools = call_tools
        self.text = text
        self.writes = writes
        self.model_name = model_name
        self._context_window = context_window

    @property
    def name(self) -> str:
        return f"test:{self.model_name}" if self.model_name != "test" else "test"

    @property
    def context_window(self) -> int:
        return self._context_window

    def reply(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[TextPart | ToolCallPart]:
        last_user = max((i for i, m in enumerate(messages) if m.role == "user" and not m.results), default=-1)
        since = messages[last_user + 1 :]
        names = {c.id: c.name for m in since for c in m.tool_calls}
        results = [r for m in since for r in m.results if r.call_id in names]
        offered = [t for t in tools if self.call_tools == "all" or t.name in self.call_tools]
        chosen = [t for t in offered if self.writes or t.read_only]
        skipped = [t.name for t in offered if not (self.writes or t.read_only)]
        if results:
            if self.text is not None:
                return [TextPart(text=self.text)]
            lines = [f"Offline test model: I called {len(results)} read-only tool(s) once each.", ""]
            lines += [_result_line(names[r.call_id], r.content, r.is_error) for r in results]
            return [TextPart(text="\n".join(lines) + _skipped_note(skipped))]
        if not chosen:
            if self.text is not None:
                return [TextPart(text=self.text)]
            return [TextPart(text="success (no tool calls)" + _skipped_note(skipped))]
        done = sum(len(m.tool_calls) for m in messages)
        return [
            ToolCallPart(
                id=f"test_call_{done + i + 1}", name=t.name, arguments=example_arguments(t.input_schema)
            )
            for i, t in enumerate(chosen)
        ]

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        request = ModelRequest(
            system=system, tools=tuple(tools), max_tokens=max_tokens, temperature=temperature, stop=stop
        )
        async for event in _stream_parts(
            self.reply(messages, tools),
            provider="test",
            model=self.model_name,
            messages=messages,
            request=request,
        ):
            yield event


RESULT_PREVIEW = 240  # characters of each tool result in the test model's answer


def _result_line(name: str, content: str, is_error: bool) -> str:
    """``- `name` ✓ `first characters of the result```: names and results in code spans, so
    Markdown styling cannot touch them."""
    text = " ".join(content.split()).replace("`", "'")
    if len(text) > RESULT_PREVIEW:
        text = text[: RESULT_PREVIEW - 1] + "…"
    mark = "✗ error:" if is_error else "✓"
    return f"- `{name}` {mark} `{text}`" if text else f"- `{name}` {mark} (empty)"


def _skipped_note(skipped: Sequence[str]) -> str:
    if not skipped:
        return ""
    names = ", ".join(f"`{name}`" for name in skipped)
    return (
        f"\n\nSkipped {len(skipped)} tool(s) not annotated read-only, because the test model never "
        f"changes your data: {names}."
    )


def example_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """The smallest arguments that satisfy a tool's JSON schema (required properties only)."""
    value = example_value(schema)
    return value if isinstance(value, dict) else {}


def example_value(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return None
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [s for s in schema[key] if not (isinstance(s, dict) and s.get("type") == "null")]
            return example_value(options[0] if options else schema[key][0])
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: example_value(properties.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return [example_value(schema.get("items", {})) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "string":
        length = int(schema.get("minLength", 1))
        return "a" * max(length, 1)
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return None
