"""The Anthropic adapter against a fake HTTP transport speaking the Messages API's wire format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx2
import pytest

from folio_orchestrator.llm import (
    AnthropicModel,
    Completion,
    Message,
    ModelAuthError,
    ModelBadRequest,
    ModelRateLimited,
    ModelRequestsDisabled,
    ModelUnavailable,
    RetryingModel,
    RetryPolicy,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
    ToolResultPart,
    ToolSpec,
    allow_model_requests,
)

pytestmark = pytest.mark.anyio

MODEL = "claude-sonnet-4-6"
SEARCH = ToolSpec(
    name="profile__profile_search",
    description="Search the profile",
    input_schema={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)


def sse(*events: dict[str, Any]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def message_start(input_tokens: int = 120, cache_read: int = 0) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": 1,
                "cache_read_input_tokens": cache_read,
            },
        },
    }


def text_block(index: int, *chunks: str) -> list[dict[str, Any]]:
    return [
        {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": c}}
            for c in chunks
        ),
        {"type": "content_block_stop", "index": index},
    ]


def tool_block(index: int, call_id: str, name: str, *json_chunks: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}},
        },
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": c},
            }
            for c in json_chunks
        ),
        {"type": "content_block_stop", "index": index},
    ]


def ending(stop_reason: str, output_tokens: int = 42) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]


TOOL_REPLY = sse(
    message_start(cache_read=20),
    {"type": "ping"},
    *text_block(0, "Let me ", "look that up."),
    *tool_block(1, "toolu_01", "profile__profile_search", "", '{"query": ', '"python"}'),
    *tool_block(2, "toolu_02", "profile__profile_get", ""),
    *ending("tool_use"),
)


class Recorder:
    """A MockTransport handler answering with canned responses, recording the requests."""

    def __init__(self, *responses: httpx2.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.responses.pop(0)

    def body(self, i: int = -1) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.requests[i].content)
        return value


def ok(body: bytes) -> httpx2.Response:
    return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})


def model_for(handler: Callable[[httpx2.Request], Any], **kwargs: Any) -> AnthropicModel:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return AnthropicModel(MODEL, api_key="sk-ant-test", http_client=client, **kwargs)


@pytest.fixture(autouse=True)
def _allowed() -> Iterator[None]:
    with allow_model_requests():
        yield


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [e async for e in events]


async def test_streamed_text_and_tool_calls_become_events_and_a_completion() -> None:
    recorder = Recorder(ok(TOOL_REPLY))
    model = model_for(recorder)

    events = await collect(
        model.stream([Message.user("What Python work?")], system="Be brief.", tools=[SEARCH])
    )

    assert events[:2] == [TextDelta("Let me "), TextDelta("look that up.")]
    assert events[2] == ToolCallStart(index=0, id="toolu_01", name="profile__profile_search")
    assert [e.arguments_delta for e in events if isinstance(e, ToolCallDelta) and e.index == 0] == [
        '{"query": ',
        '"python"}',
    ]
    ends = [e for e in events if isinstance(e, ToolCallEnd)]
    assert [e.call for e in ends] == [
        ToolCallPart(id="toolu_01", name="profile__profile_search", arguments={"query": "python"}),
        ToolCallPart(id="toolu_02", name="profile__profile_get", arguments={}),
    ]
    completion = events[-1]
    assert isinstance(completion, Completion)
    assert completion.stop_reason == "tool_use"
    assert completion.message.text == "Let me look that up."
    assert [c.id for c in completion.message.tool_calls] == ["toolu_01", "toolu_02"]
    usage = completion.usage
    assert (usage.provider, usage.model) == ("anthropic", MODEL)
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (140, 20, 42)
    # $3/Mtok input, $0.30 cached, $15 output
    assert usage.cost_usd == pytest.approx((120 * 3 + 20 * 0.3 + 42 * 15) / 1e6)
    assert usage.latency_s >= 0 and usage.first_token_s is not None

    body = recorder.body()
    assert body["model"] == MODEL and body["stream"] is True and body["system"] == "Be brief."
    assert body["tools"] == [
        {"name": SEARCH.name, "description": "Search the profile", "input_schema": SEARCH.input_schema}
    ]
    assert recorder.requests[0].url.path == "/v1/messages"


async def test_history_is_sent_in_the_messages_wire_format() -> None:
    recorder = Recorder(ok(sse(message_start(), *text_block(0, "Done."), *ending("end_turn"))))
    call = ToolCallPart(id="toolu_01", name="profile__profile_search", arguments={"query": "python"})
    history = [
        Message.user("What Python work?"),
        Message.assistant("Looking.", [call]),
        Message.tool_results([ToolResultPart(call_id="toolu_01", content="boom", is_error=True)]),
        Message.user("And then?"),
    ]

    completion = await model_for(recorder).complete(history, max_tokens=100, temperature=0.2, stop=["END"])

    assert completion.stop_reason == "end_turn" and completion.message.text == "Done."
    body = recorder.body()
    assert body["max_tokens"] == 100 and body["temperature"] == 0.2 and body["stop_sequences"] == ["END"]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What Python work?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "profile__profile_search",
                    "input": {"query": "python"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "boom", "is_error": True},
                {"type": "text", "text": "And then?"},
            ],
        },
    ]


async def test_stop_reasons_are_normalised() -> None:
    for raw, expected in [
        ("max_tokens", "max_tokens"),
        ("stop_sequence", "stop_sequence"),
        ("refusal", "end_turn"),
    ]:
        recorder = Recorder(ok(sse(message_start(), *text_block(0, "x"), *ending(raw))))
        completion = await model_for(recorder).complete([Message.user("hi")])
        assert (completion.stop_reason, completion.raw_stop_reason) == (expected, raw)


async def test_invalid_tool_arguments_are_kept_for_the_loop_to_report() -> None:
    reply = sse(message_start(), *tool_block(0, "toolu_9", "t", '{"a": '), *ending("tool_use"))
    completion = await model_for(Recorder(ok(reply))).complete([Message.user("hi")])
    (call,) = completion.message.tool_calls
    assert call.arguments == {} and call.invalid_arguments == '{"a": '


def error(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> httpx2.Response:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return httpx2.Response(status, json=body, headers=headers or {})


async def test_http_errors_map_to_the_exception_tree_with_advice() -> None:
    with pytest.raises(ModelAuthError, match="ANTHROPIC_API_KEY") as auth:
        await model_for(Recorder(error(401, "authentication_error", "invalid x-api-key"))).complete(
            [Message.user("x")]
        )
    assert auth.value.status_code == 401 and not auth.value.streamed

    with pytest.raises(ModelRateLimited) as limited:
        await model_for(Recorder(error(429, "rate_limit_error", "slow down", {"retry-after": "7"}))).complete(
            [Message.user("x")]
        )
    assert limited.value.retry_after == 7

    with pytest.raises(ModelUnavailable):
        await model_for(Recorder(error(529, "overloaded_error", "Overloaded"))).complete([Message.user("x")])

    with pytest.raises(ModelBadRequest, match="prompt is too long"):
        await model_for(Recorder(error(400, "invalid_request_error", "prompt is too long"))).complete(
            [Message.user("x")]
        )

    with pytest.raises(ModelBadRequest, match="FOLIO_MODEL"):
        await model_for(Recorder(error(404, "not_found_error", "model: nope"))).complete([Message.user("x")])


async def test_connection_failure_is_unavailable() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    with pytest.raises(ModelUnavailable, match="cannot reach Anthropic"):
        await model_for(refuse).complete([Message.user("x")])


async def test_an_error_event_after_text_is_marked_streamed() -> None:
    body = sse(message_start(), *text_block(0, "Half an ans")[:2]) + (
        b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    )
    events: list[StreamEvent] = []
    with pytest.raises(ModelUnavailable, match="Overloaded") as info:
        async for event in model_for(Recorder(ok(body))).stream([Message.user("x")]):
            events.append(event)
    assert events == [TextDelta("Half an ans")]
    assert info.value.streamed


async def test_a_stream_cut_before_message_stop_is_unavailable() -> None:
    body = sse(message_start(), *text_block(0, "partial"))
    with pytest.raises(ModelUnavailable, match="message_stop"):
        await model_for(Recorder(ok(body))).complete([Message.user("x")])


async def test_missing_key_says_which_variable_to_set() -> None:
    model = AnthropicModel(MODEL, api_key=None)
    with pytest.raises(ModelAuthError, match="set ANTHROPIC_API_KEY"):
        await model.complete([Message.user("x")])


async def test_the_guard_refuses_before_anything_is_sent() -> None:
    recorder = Recorder(ok(TOOL_REPLY))
    with (
        allow_model_requests(False),
        pytest.raises(ModelRequestsDisabled, match="FOLIO_ALLOW_MODEL_REQUESTS"),
    ):
        await model_for(recorder).complete([Message.user("x")])
    assert recorder.requests == []


async def test_retries_overloaded_then_succeeds_without_real_sleeping() -> None:
    recorder = Recorder(
        error(529, "overloaded_error", "Overloaded"),
        error(429, "rate_limit_error", "slow", {"retry-after-ms": "1500"}),
        ok(sse(message_start(), *text_block(0, "hello"), *ending("end_turn"))),
    )
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = RetryPolicy(max_attempts=3, initial_delay=1.0, sleep=fake_sleep, random=lambda: 1.0)
    completion = await RetryingModel(model_for(recorder), policy).complete([Message.user("x")])

    assert completion.message.text == "hello"
    assert slept == [1.0, 1.5]  # jittered backoff (random=1 → full delay), then Retry-After
    assert len(recorder.requests) == 3


class _Endless(httpx2.AsyncByteStream):
    """A response body that sends a first event, then waits forever; records when it is closed."""

    def __init__(self) -> None:
        self.closed = anyio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield sse(message_start(), *text_block(0, "first")[:2])
        await anyio.Event().wait()
        yield b""  # pragma: no cover

    async def aclose(self) -> None:
        self.closed.set()


async def test_cancelling_the_consumer_closes_the_http_stream() -> None:
    body = _Endless()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=body, headers={"content-type": "text/event-stream"})

    got_first = anyio.Event()

    async def consume() -> None:
        async for event in model_for(handler).stream([Message.user("x")]):
            assert event == TextDelta("first")
            got_first.set()

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await got_first.wait()
            tg.cancel_scope.cancel()
        await body.closed.wait()
