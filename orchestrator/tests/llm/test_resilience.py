"""Retries with backoff and the fallback list, without real sleeping (scripted models that fail)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from folio_orchestrator.llm import (
    AllModelsFailed,
    Completion,
    FallbackModel,
    FunctionModel,
    Message,
    ModelAuthError,
    ModelBadRequest,
    ModelError,
    ModelRateLimited,
    ModelRequest,
    ModelUnavailable,
    RetryingModel,
    RetryPolicy,
    TextDelta,
)

pytestmark = pytest.mark.anyio


def failing(*errors: ModelError, then: str = "ok", name: str = "f") -> FunctionModel:
    """Raises each error in turn, then answers ``then``."""
    queue = list(errors)

    def reply(messages: list[Message], request: ModelRequest) -> str:
        if queue:
            raise queue.pop(0)
        return then

    return FunctionModel(reply, model_name=name)


def recorder() -> tuple[list[float], Callable[[float], Awaitable[None]]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return slept, sleep


async def test_retries_rate_limits_and_outages_with_jittered_exponential_backoff() -> None:
    slept, sleep = recorder()
    policy = RetryPolicy(max_attempts=4, initial_delay=1.0, max_delay=3.0, sleep=sleep, random=lambda: 0.0)
    model = RetryingModel(
        failing(ModelUnavailable("down"), ModelRateLimited("slow"), ModelUnavailable("down")), policy
    )
    completion = await model.complete([Message.user("x")])
    assert completion.message.text == "ok"
    assert slept == [0.5, 1.0, 1.5]  # half of 1, 2, min(4, 3): random=0 → the low end of the jitter


async def test_retry_after_is_honoured_and_bounded() -> None:
    slept, sleep = recorder()
    policy = RetryPolicy(max_retry_after=10, sleep=sleep)
    ok = await RetryingModel(failing(ModelRateLimited("slow", retry_after=4.0)), policy).complete(
        [Message.user("x")]
    )
    assert ok.message.text == "ok" and slept == [4.0]
    with pytest.raises(ModelRateLimited):
        await RetryingModel(failing(ModelRateLimited("slow", retry_after=60.0)), policy).complete(
            [Message.user("x")]
        )
    assert slept == [4.0]


async def test_gives_up_after_max_attempts_and_never_retries_bad_requests() -> None:
    slept, sleep = recorder()
    policy = RetryPolicy(max_attempts=2, sleep=sleep)
    with pytest.raises(ModelUnavailable, match="third"):
        await RetryingModel(failing(ModelUnavailable("first"), ModelUnavailable("third")), policy).complete(
            [Message.user("x")]
        )
    assert len(slept) == 1
    with pytest.raises(ModelBadRequest):
        await RetryingModel(failing(ModelBadRequest("bad")), policy).complete([Message.user("x")])
    with pytest.raises(ModelAuthError):
        await RetryingModel(failing(ModelAuthError("key")), policy).complete([Message.user("x")])
    assert len(slept) == 1


class _BreaksMidStream(FunctionModel):
    """Streams some text, then fails like a dropped connection."""

    def __init__(self) -> None:
        super().__init__(lambda m, r: "unused", model_name="breaks")

    async def stream(self, messages, **kwargs):  # type: ignore[no-untyped-def, override]
        yield TextDelta("partial ")
        raise ModelUnavailable("connection dropped", model=self.name)


async def test_errors_after_streaming_started_are_neither_retried_nor_handed_on() -> None:
    slept, sleep = recorder()
    backup = failing(then="from backup", name="backup")
    model = FallbackModel([RetryingModel(_BreaksMidStream(), RetryPolicy(sleep=sleep)), backup])
    seen = []
    with pytest.raises(ModelUnavailable, match="connection dropped") as info:
        async for event in model.stream([Message.user("x")]):
            seen.append(event)
    assert seen == [TextDelta("partial ")] and info.value.streamed
    assert slept == [] and backup.calls == []


async def test_fallback_moves_on_when_a_model_is_down_rate_limited_or_lacks_a_key() -> None:
    first = failing(ModelAuthError("set ANTHROPIC_API_KEY"), name="first")
    second = failing(ModelRateLimited("slow"), name="second")
    third = failing(name="third", then="third answers")
    model = FallbackModel([first, second, third])
    completion = await model.complete([Message.user("x")])
    assert isinstance(completion, Completion)
    assert completion.message.text == "third answers" and completion.usage.model == "third"
    assert model.name == "function:first,function:second,function:third"


async def test_fallback_stops_at_a_bad_request_and_reports_every_failure() -> None:
    backup = failing(name="backup")
    with pytest.raises(ModelBadRequest):
        await FallbackModel([failing(ModelBadRequest("schema")), backup]).complete([Message.user("x")])
    assert backup.calls == []
    with pytest.raises(AllModelsFailed) as info:
        await FallbackModel([failing(ModelUnavailable("a down")), failing(ModelAuthError("b key"))]).complete(
            [Message.user("x")]
        )
    assert [type(e) for e in info.value.errors] == [ModelUnavailable, ModelAuthError]
    assert "a down" in str(info.value) and "b key" in str(info.value)


def test_fallback_context_window_is_the_smallest() -> None:
    model = FallbackModel(
        [
            FunctionModel(lambda m, r: "", context_window=100),
            FunctionModel(lambda m, r: "", context_window=50),
        ]
    )
    assert model.context_window == 50
