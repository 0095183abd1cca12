"""Retries with backoff, and the ordered fallback list.

Both act only **before the first event was streamed**: once text or a tool call reached the
caller, an error propagates (``ModelError.streamed`` is True) — replaying would duplicate what the
user already saw. The agent loop decides whether to retry such a turn from the start.
"""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

import anyio

from folio_orchestrator.llm._base import DEFAULT_MAX_TOKENS, BaseChatModel, ChatModel
from folio_orchestrator.llm._errors import (
    AllModelsFailed,
    ModelAuthError,
    ModelError,
    ModelRateLimited,
    ModelUnavailable,
)
from folio_orchestrator.llm._types import Message, StreamEvent, ToolSpec

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff on rate limits and server errors.

    Attempt *n* (from 0) waits ``min(max_delay, initial_delay * 2**n)``, jittered to between half
    and all of it; a provider's ``Retry-After`` replaces that when given. A ``Retry-After`` longer
    than ``max_retry_after`` is not waited for: the error goes to the caller (or the next model).
    ``sleep`` and ``random`` are injectable so tests do not wait.
    """

    max_attempts: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    sleep: Sleep = field(default=anyio.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, error: ModelError) -> float | None:
        """Seconds to wait before retrying after ``attempt`` failed, or ``None``: do not retry."""
        if attempt + 1 >= self.max_attempts or error.streamed:
            return None
        if not isinstance(error, ModelRateLimited | ModelUnavailable):
            return None
        hint = error.retry_after
        if hint is not None:
            return hint if hint <= self.max_retry_after else None
        base = min(self.max_delay, self.initial_delay * 2.0**attempt)
        return base / 2 + self.random() * base / 2


NO_RETRY = RetryPolicy(max_attempts=1)


class RetryingModel(BaseChatModel):
    """``model`` with retries on :class:`ModelRateLimited` / :class:`ModelUnavailable`."""

    def __init__(self, model: ChatModel, policy: RetryPolicy | None = None) -> None:
        self.inner = model
        self.policy = policy or RetryPolicy()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

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
        attempt = 0
        while True:
            started = False
            try:
                events = self.inner.stream(
                    messages,
                    system=system,
                    tools=tools,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop,
                )
                async with aclosing(events):
                    async for event in events:
                        started = True
                        yield event
                return
            except ModelError as err:
                if started:
                    err.streamed = True
                    raise
                delay = self.policy.delay(attempt, err)
                if delay is None:
                    raise
            attempt += 1
            await self.policy.sleep(delay)


class FallbackModel(BaseChatModel):
    """Try each model in order; move on when one fails *before streaming anything* with
    :class:`ModelUnavailable`, :class:`ModelRateLimited` or :class:`ModelAuthError`.

    A :class:`ModelBadRequest` (the request itself is wrong) or :class:`ModelRequestsDisabled`
    propagates at once. An error after events were streamed propagates as is (``streamed`` True).
    When every model failed: :class:`AllModelsFailed` with each error. ``Completion.usage`` names
    the model that answered.
    """

    def __init__(self, models: Sequence[ChatModel]) -> None:
        if not models:
            raise ValueError("FallbackModel needs at least one model")
        self.models = list(models)

    @property
    def name(self) -> str:
        return ",".join(m.name for m in self.models)

    @property
    def context_window(self) -> int:
        return min(m.context_window for m in self.models)

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
        errors: list[ModelError] = []
        for model in self.models:
            started = False
            try:
                events = model.stream(
                    messages,
                    system=system,
                    tools=tools,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop,
                )
                async with aclosing(events):
                    async for event in events:
                        started = True
                        yield event
                return
            except (ModelUnavailable, ModelRateLimited, ModelAuthError) as err:
                if started or err.streamed:
                    err.streamed = True
                    raise
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        raise AllModelsFailed(errors) from errors[-1]
