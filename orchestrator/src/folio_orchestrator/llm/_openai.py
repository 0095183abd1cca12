"""The OpenAI Chat Completions adapter (``openai.AsyncOpenAI``, streaming, tools).

With a ``base_url`` it talks to any OpenAI-compatible server (Ollama, vLLM, llama.cpp server,
LM Studio): give the URL of the API root, usually ending in ``/v1``
(``http://localhost:11434/v1`` for Ollama).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import anyio
import httpx2
import openai

from folio_orchestrator.llm._base import DEFAULT_MAX_TOKENS, BaseChatModel, StreamAssembler
from folio_orchestrator.llm._errors import ModelError, ModelUnavailable
from folio_orchestrator.llm._guard import check_model_requests_allowed
from folio_orchestrator.llm._http import ProviderContext, connection_error, missing_key, status_error
from folio_orchestrator.llm._pricing import Price, is_local_base_url
from folio_orchestrator.llm._types import (
    Message,
    StopReason,
    StreamEvent,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
)

OPENAI_KEY_ENV = "OPENAI_API_KEY"
COMPAT_KEY_ENV = "FOLIO_MODEL_API_KEY"
OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "no-key"  # what a local server gets when it needs none (the SDK insists on some key)

_STOP_REASONS: Mapping[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    # content_filter and anything else: the turn is over
}


def to_openai_messages(messages: Sequence[Message], system: str | None) -> list[dict[str, Any]]:
    """Our messages as Chat Completions ``messages``; each tool result is its own ``tool`` message.

    OpenAI has no error flag on tool results, so an error result's content starts with ``Error: ``.
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        text = "".join(p.text for p in message.content if isinstance(p, TextPart))
        calls = [p for p in message.content if isinstance(p, ToolCallPart)]
        for result in (p for p in message.content if isinstance(p, ToolResultPart)):
            content = f"Error: {result.content}" if result.is_error else result.content
            out.append({"role": "tool", "tool_call_id": result.call_id, "content": content})
        if message.role == "assistant":
            if not text and not calls:
                continue
            turn: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                turn["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {
                            "name": c.name,
                            "arguments": c.invalid_arguments
                            if c.invalid_arguments is not None
                            else json.dumps(c.arguments, ensure_ascii=False),
                        },
                    }
                    for c in calls
                ]
            out.append(turn)
        elif text:
            out.append({"role": "user", "content": text})
    return out


def to_openai_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema or {"type": "object", "properties": {}},
            },
        }
        for t in tools
    ]


class OpenAIModel(BaseChatModel):
    """``openai:<model>`` or ``openai:<model>@<base-url>`` over Chat Completions, streamed.

    ``api_key`` ``None``: for a local base URL the request goes without a key (a placeholder, since
    the SDK requires one); otherwise the first request fails with :class:`ModelAuthError`.
    ``key_env`` only names the variable in error messages. SDK retries are off (``max_retries=0``).
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None = None,
        key_env: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
        prices: Mapping[str, Price] | None = None,
        timeout: float = 600.0,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/") if base_url else None
        self.local = is_local_base_url(self.base_url)
        self._official = self.base_url is None or self.base_url == OPENAI_BASE_URL
        self._api_key = api_key
        self._http_client = http_client
        self._prices = prices
        self._timeout = timeout
        self._client: openai.AsyncOpenAI | None = None
        label = "OpenAI" if self._official else f"the OpenAI-compatible server at {self.base_url}"
        key_env = key_env or (OPENAI_KEY_ENV if self._official else COMPAT_KEY_ENV)
        self._ctx = ProviderContext(
            model=self.name, label=label, key_env=key_env, base_url=self.base_url, local=self.local
        )

    @property
    def name(self) -> str:
        return f"openai:{self.model}" + ("" if self._official else f"@{self.base_url}")

    def _sdk(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key or NO_KEY,
                base_url=self.base_url or OPENAI_BASE_URL,
                http_client=self._http_client,
                max_retries=0,
                timeout=self._timeout,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    def _map(self, err: BaseException, *, streamed: bool) -> ModelError:
        if isinstance(err, openai.APIStatusError):
            return status_error(
                self._ctx,
                status=err.status_code,
                error_type=err.code or err.type,
                detail=err.message,
                headers=err.response.headers,
                streamed=streamed,
            )
        if isinstance(err, openai.APIConnectionError | httpx2.TransportError):
            return connection_error(self._ctx, str(err) or type(err).__name__, streamed=streamed)
        if isinstance(err, openai.APIError):
            return status_error(
                self._ctx, status=None, error_type=err.code or err.type, detail=err.message, streamed=streamed
            )
        return ModelUnavailable(f"{self._ctx.label} failed: {err}", model=self.name, streamed=streamed)

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
        if not self._api_key and not self.local:
            raise missing_key(self._ctx)
        params: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages, system),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        # OpenAI's newer models refuse `max_tokens`; compatible servers may not know the new name
        params["max_completion_tokens" if self._official else "max_tokens"] = max_tokens
        if tools:
            params["tools"] = to_openai_tools(tools)
        if temperature is not None:
            params["temperature"] = temperature
        if stop:
            params["stop"] = list(stop)

        asm = StreamAssembler(provider="openai", model=self.model, local=self.local, prices=self._prices)
        try:
            sdk_stream = await self._sdk().chat.completions.create(**params)
        except (openai.OpenAIError, httpx2.TransportError) as err:
            raise self._map(err, streamed=False) from err

        input_tokens = cached = output_tokens = 0
        raw_stop: str | None = None
        response_model: str | None = None
        try:
            async for chunk in sdk_stream:
                response_model = getattr(chunk, "model", None) or response_model
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    input_tokens = usage.prompt_tokens or 0
                    output_tokens = usage.completion_tokens or 0
                    details = usage.prompt_tokens_details
                    cached = (details.cached_tokens or 0) if details is not None else 0
                # the usage-only chunk has no choices (vLLM: null)
                for choice in getattr(chunk, "choices", None) or []:
                    if getattr(choice, "index", 0) != 0:
                        continue
                    delta = choice.delta
                    if delta is not None:
                        text = asm.text(delta.content or "")
                        if text is not None:
                            yield text
                        for position, tc in enumerate(delta.tool_calls or []):
                            for event in self._tool_call_delta(asm, position, tc):
                                yield event
                    if choice.finish_reason:
                        raw_stop = choice.finish_reason
        except (openai.OpenAIError, httpx2.TransportError) as err:
            raise self._map(err, streamed=asm.emitted) from err
        finally:
            with anyio.CancelScope(shield=True):
                await sdk_stream.close()

        for end in asm.end_all_calls():
            yield end
        yield asm.finish(
            _STOP_REASONS.get(raw_stop or "stop", "end_turn"),
            raw_stop_reason=raw_stop,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached,
            response_model=response_model,
        )

    @staticmethod
    def _tool_call_delta(asm: StreamAssembler, position: int, tc: Any) -> list[StreamEvent]:
        """One ``delta.tool_calls[]`` entry. OpenAI sends the id and name once (first fragment),
        then argument fragments under the same ``index``; calls stream one after another, so a new
        index ends the previous call. Some compatible servers omit ``index``: their calls arrive
        whole, keyed by id."""
        events: list[StreamEvent] = []
        index = getattr(tc, "index", None)
        call_id = getattr(tc, "id", None)
        key: object = index if index is not None else (call_id or position)
        function = getattr(tc, "function", None)
        name = (getattr(function, "name", None) or "") if function is not None else ""
        arguments = (getattr(function, "arguments", None) or "") if function is not None else ""
        if not asm.has_call(key):
            for other in asm.open_calls():
                end = asm.end_call(other)
                if end is not None:
                    events.append(end)
            events.append(asm.start_call(key, call_id or f"call_{key}", name))
        delta = asm.call_arguments(key, arguments)
        if delta is not None:
            events.append(delta)
        return events
