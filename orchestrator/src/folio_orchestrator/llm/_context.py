"""Context-window helpers for the agent loop: a cheap token estimate and each model's window.

:func:`estimate_tokens` is a heuristic, not a tokenizer: about 4 characters per token (the usual
rule of thumb for English text and JSON with both providers' tokenizers), rounded up per part,
plus a fixed overhead for what the provider adds around each message (4 tokens), each tool call or
tool result (8: ids, names, framing), each tool definition (8) and the system prompt (4). It errs
a little high on prose and low on dense code or non-Latin scripts; keep a margin (the loop should
aim at ~80% of :func:`context_window`). The provider's reported ``Usage.input_tokens`` is the
truth after each response.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

from folio_orchestrator.llm._pricing import undated
from folio_orchestrator.llm._types import Message, TextPart, ToolCallPart, ToolResultPart, ToolSpec

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4
PART_OVERHEAD = 8
TOOL_OVERHEAD = 8
SYSTEM_OVERHEAD = 4

_PROVIDERS = ("anthropic", "openai", "test", "function")

DEFAULT_CONTEXT_WINDOW = 32_768
"""For a model not in :data:`CONTEXT_WINDOWS` (local models often run with a small window)."""

CONTEXT_WINDOWS: Mapping[str, int] = {
    "claude-opus-4-7": 1_000_000,
    "claude-opus-4-6": 1_000_000,
    "claude-sonnet-4-6": 1_000_000,
    "claude-opus-4-5": 200_000,
    "claude-opus-4-1": 200_000,
    "claude-sonnet-4-5": 200_000,
    "claude-sonnet-4": 200_000,
    "claude-haiku-4-5": 200_000,
    "claude-3-5-haiku": 200_000,
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "gpt-5-nano": 400_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
}


def context_window(model: str, windows: Mapping[str, int] | None = None) -> int:
    """The context window (tokens) of ``model`` (a bare name or ``provider:model[@url]``)."""
    provider, sep, rest = model.partition(":")
    name = rest if sep and provider in _PROVIDERS else model
    name = name.split("@", 1)[0]
    table = {**CONTEXT_WINDOWS, **(windows or {})}
    return table.get(name) or table.get(undated(name)) or DEFAULT_CONTEXT_WINDOW


def _text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_message_tokens(message: Message) -> int:
    total = MESSAGE_OVERHEAD
    for part in message.content:
        if isinstance(part, TextPart):
            total += _text_tokens(part.text)
        elif isinstance(part, ToolCallPart):
            args = part.invalid_arguments or json.dumps(part.arguments, ensure_ascii=False)
            total += PART_OVERHEAD + _text_tokens(part.name) + _text_tokens(args)
        elif isinstance(part, ToolResultPart):
            total += PART_OVERHEAD + _text_tokens(part.content)
    return total


def estimate_tokens(
    messages: Iterable[Message], *, system: str | None = None, tools: Iterable[ToolSpec] = ()
) -> int:
    """Estimated input tokens of a request (see the module docstring for the heuristic)."""
    total = sum(estimate_message_tokens(m) for m in messages)
    if system:
        total += SYSTEM_OVERHEAD + _text_tokens(system)
    for tool in tools:
        schema = json.dumps(tool.input_schema, ensure_ascii=False)
        total += TOOL_OVERHEAD + _text_tokens(tool.name + tool.description + schema)
    return total
