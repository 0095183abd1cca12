"""The Anthropic Messages adapter (``anthropic.AsyncAnthropic``, streaming, tool use)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import anthropic
import anyio
import httpx2

from folio_orchestrator.llm._base import DEFAULT_MAX_TOKENS, BaseChatModel, StreamAssembler
from folio_orchestrator.llm._errors import ModelError, ModelUnavailable
from folio_orchestrator.llm._guard import check_model_requests_allowed
from folio_orchestrator.llm._http import ProviderContext, connection_error, missing_key, status_error
from folio_orchestrator.llm._pricing import Price
from folio_orchestrator.llm._types import (
    Message,
    StopReason,
    StreamEvent,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
)

ANTHROPIC_KEY_ENV = "ANTHROPIC_API_KEY"

_STOP_REASONS: Mapping[str, StopReason] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "model_context_window_exceeded": "max_tokens",
    # pause_turn, refusal and anything new: the turn is over
}


def to_anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Our messages as Messages API ``messages``: tool results ride in user turns, same roles merge,
    and tool results come first in their user turn (the API requires it)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                if part.text:
                    blocks.append({"type": "text", "text": part.text})
            elif isinstance(part, ToolCallPart):
                blocks.append({"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments})
            elif isinstance(part, ToolResultPart):
                block: dict[str, Any] = {
                    "type": "tool_result",
                    "tool_use_id": part.call_id,
                    "content": part.content,
                }
                if part.is_error:
                    block["is_error"] = True
                blocks.append(block)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return out


def to_anthropic_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema or {"type": "object"}}
        for t in tools
    ]


class AnthropicModel(BaseChatModel):
    """``anthropic:<model>`` over the Messages API, streamed.

    ``api_key`` ``None`` means no key: the first request fails with :class:`ModelAuthError` (so a
    :class:`FallbackModel` moves on). The SDK's own retries are off (``max_retries=0``): wrap the
    model in :class:`RetryingModel` (``make_model`` does).
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
        prices: Mapping[str, Price] | None = None,
        timeout: float = 600.0,
    ) -> None:
        self.model = model
        self._api_key = api_key
        self._base_url = base_url
        self._http_client = http_client
        self._prices = prices
        self._timeout = timeout
        self._client: anthropic.AsyncAnthropic | None = None
        self._ctx = ProviderContext(
            model=self.name, label="Anthropic", key_env=ANTHROPIC_KEY_ENV, base_url=base_url
        )

    @property
    def name(self) -> str:
        return f"anthropic:{self.model}"

    def _sdk(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                http_client=self._http_client,
                max_retries=0,
                timeout=self._timeout,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    def _map(self, err: BaseException, *, streamed: bool) -> ModelError:
        if isinstance(err, anthropic.APIStatusError):
            return status_error(
                self._ctx,
                status=err.status_code,
                error_type=err.type,
                detail=err.api_message or err.message,
                headers=err.response.headers,
                streamed=streamed,
            )
        if isinstance(err, anthropic.APIConnectionError | httpx2.TransportError):
            return connection_error(self._ctx, str(err) or type(err).__name__, streamed=streamed)
        if isinstance(err, anthropic.APIError):
            return status_error(
                self._ctx, status=None, error_type=None, detail=err.message, streamed=streamed
            )
        return ModelUnavailable(f"Anthropic failed: {err}", model=self.name, streamed=streamed)

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
        check_model_requests_allowed(self.name)
        if not self._api_key:
            raise missing_key(self._ctx)
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "messages": to_anthropic_messages(messages),
            "stream": True,
        }
        if system:
            params["system"] = system
        if tools:
            params["tools"] = to_anthropic_tools(tools)
        if stop:
            params["stop_sequences"] = list(stop)
        if temperature is not None:
            # not a keyword of this SDK version's `create`; the API still takes it
            params["extra_body"] = {"temperature": temperature}

        asm = StreamAssembler(provider="anthropic", model=self.model, prices=self._prices)
        try:
            sdk_stream = await self._sdk().messages.create(**params)
        except (anthropic.AnthropicError, httpx2.TransportError) as err:
            raise self._map(err, streamed=False) from err

        input_tokens = cached = output_tokens = 0
        raw_stop: str | None = None
        response_model: str | None = None
        finished = False
        try:
            async for event in sdk_stream:
                if event.type == "message_start":
                    usage = event.message.usage
                    cached = usage.cache_read_input_tokens or 0
                    input_tokens = usage.input_tokens + cached + (usage.cache_creation_input_tokens or 0)
                    output_tokens = usage.output_tokens
                    response_model = event.message.model
                elif event.type == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        yield asm.start_call(event.index, block.id, block.name)
                        if block.input:
                            delta = asm.call_arguments(event.index, json.dumps(block.input))
                            if delta is not None:
                                yield delta
                    elif block.type == "text" and block.text:
                        text = asm.text(block.text)
                        if text is not None:
                            yield text
                elif event.type == "content_block_delta":
                    d = event.delta
                    if d.type == "text_delta":
                        text = asm.text(d.text)
                        if text is not None:
                            yield text
                    elif d.type == "input_json_delta" and asm.has_call(event.index):
                        args = asm.call_arguments(event.index, d.partial_json)
                        if args is not None:
                            yield args
                elif event.type == "content_block_stop":
                    if asm.has_call(event.index):
                        end = asm.end_call(event.index)
                        if end is not None:
                            yield end
                elif event.type == "message_delta":
                    raw_stop = event.delta.stop_reason or raw_stop
                    output_tokens = event.usage.output_tokens
                    if event.usage.input_tokens is not None:
                        cached = event.usage.cache_read_input_tokens or cached
                        input_tokens = (
                            event.usage.input_tokens + cached + (event.usage.cache_creation_input_tokens or 0)
                        )
                elif event.type == "message_stop":
                    finished = True
                    break
        except (anthropic.AnthropicError, httpx2.TransportError) as err:
            raise self._map(err, streamed=asm.emitted) from err
        finally:
            with anyio.CancelScope(shield=True):
                await sdk_stream.close()

        if not finished:
            raise ModelUnavailable(
                "Anthropic's stream ended before message_stop — try again",
                model=self.name,
                streamed=asm.emitted,
            )
        for end in asm.end_all_calls():
            yield end
        yield asm.finish(
            _STOP_REASONS.get(raw_stop or "end_turn", "end_turn"),
            raw_stop_reason=raw_stop,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached,
            response_model=response_model,
        )
