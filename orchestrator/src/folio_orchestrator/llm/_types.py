"""Provider-neutral messages, tool specs, stream events and usage records.

Messages are pydantic models so the history module can store them as JSON
(``model_dump(mode="json")``) and read them back (``Message.model_validate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "assistant", "tool"]
StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextPart(_Frozen):
    type: Literal["text"] = "text"
    text: str


class ToolCallPart(_Frozen):
    """A call the model asked for. ``arguments`` is always a JSON object.

    When the model produced arguments that are not a JSON object, ``arguments`` is ``{}`` and
    ``invalid_arguments`` holds the raw text: the agent loop should not run the tool but answer
    with an ``is_error`` result saying the arguments were not valid JSON.
    """

    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    invalid_arguments: str | None = None


class ToolResultPart(_Frozen):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    content: str
    is_error: bool = False


Part = Annotated[TextPart | ToolCallPart | ToolResultPart, Field(discriminator="type")]


class Message(_Frozen):
    """One turn: ``user`` (text), ``assistant`` (text and tool calls) or ``tool`` (tool results)."""

    role: Role
    content: tuple[Part, ...]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls(role="user", content=(TextPart(text=text),))

    @classmethod
    def assistant(cls, text: str = "", tool_calls: Sequence[ToolCallPart] = ()) -> Message:
        parts: list[Part] = [TextPart(text=text)] if text else []
        parts.extend(tool_calls)
        return cls(role="assistant", content=tuple(parts))

    @classmethod
    def tool_results(cls, results: Sequence[ToolResultPart]) -> Message:
        return cls(role="tool", content=tuple(results))

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.content if isinstance(p, ToolCallPart)]

    @property
    def results(self) -> list[ToolResultPart]:
        return [p for p in self.content if isinstance(p, ToolResultPart)]


class ToolSpec(_Frozen):
    """A tool offered to the model. ``name`` is already provider-safe (``^[a-zA-Z0-9_-]{1,64}$``).

    ``read_only`` is the tool's own promise (MCP ``readOnlyHint``) that calling it changes nothing;
    it is not sent to providers, but the offline :class:`TestModel` calls only such tools.
    """

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    read_only: bool = False


class Usage(_Frozen):
    """What one model response cost. ``input_tokens`` includes ``cached_input_tokens``.

    ``cost_usd`` is an estimate from the price table (see ``_pricing``): ``None`` when the model is
    not in the table, ``0.0`` for a local server.
    """

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    latency_s: float = 0.0
    first_token_s: float | None = None
    cost_usd: float | None = None


class Completion(_Frozen):
    """The final stream event: the full assistant message, why it stopped, and its usage.

    ``raw_stop_reason`` is the provider's own value (``refusal``, ``content_filter``, …).
    """

    message: Message
    stop_reason: StopReason
    usage: Usage
    raw_stop_reason: str | None = None


# --- stream events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallStart:
    """A tool call began. ``index`` is its position among this response's tool calls (0, 1, …)."""

    index: int
    id: str
    name: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of the call's arguments as JSON text, as the provider streamed it."""

    index: int
    id: str
    arguments_delta: str


@dataclass(frozen=True)
class ToolCallEnd:
    """The call is complete; ``call.arguments`` is parsed."""

    index: int
    call: ToolCallPart


StreamEvent = TextDelta | ToolCallStart | ToolCallDelta | ToolCallEnd | Completion
"""What ``ChatModel.stream`` yields; the last event is always a :class:`Completion`."""
