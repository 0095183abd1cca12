"""The OpenAI adapter against a fake transport and a real local server, in the Chat Completions
streaming wire format (``chat.completion.chunk`` + ``[DONE]``)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from folio_orchestrator.llm import (
    Completion,
    Message,
    ModelAuthError,
    ModelBadRequest,
    ModelRateLimited,
    ModelUnavailable,
    OpenAIModel,
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

RECALL = ToolSpec(
    name="memory__memory_recall",
    description="Recall memories",
    input_schema={"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]},
)


def chunk(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    model: str = "gpt-4.1-mini-2025-04-14",
) -> dict[str, Any]:
    choices = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    )
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def tool_call_chunks() -> list[dict[str, Any]]:
    """Two streamed tool calls, as OpenAI sends them: id and name first, then argument fragments."""
    return [
        chunk({"role": "assistant", "content": None}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "memory__memory_recall", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"to'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'pic": "rust"}'}}]}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "memory__memory_recall", "arguments": '{"topic": "go"}'},
                    }
                ]
            }
        ),
        chunk({}, finish="tool_calls"),
        chunk(
            None,
            usage={
                "prompt_tokens": 300,
                "completion_tokens": 25,
                "total_tokens": 325,
                "prompt_tokens_details": {"cached_tokens": 100},
            },
        ),
    ]


def sse(chunks: list[dict[str, Any]]) -> bytes:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


class Recorder:
    def __init__(self, *responses: httpx2.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.responses.pop(0)

    def body(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.requests[-1].content)
        return value


def ok(chunks: list[dict[str, Any]]) -> httpx2.Response:
    return httpx2.Response(200, content=sse(chunks), headers={"content-type": "text/event-stream"})


def model_for(
    recorder: Recorder, *, base_url: str | None = None, api_key: str | None = "sk-test"
) -> OpenAIModel:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(recorder))
    return OpenAIModel("gpt-4.1-mini", api_key=api_key, base_url=base_url, http_client=client)


@pytest.fixture(autouse=True)
def _allowed() -> Iterator[None]:
    with allow_model_requests():
        yield


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [e async for e in events]


async def test_streamed_tool_calls_and_the_usage_chunk_become_events() -> None:
    recorder = Recorder(ok(tool_call_chunks()))
    events = await collect(
        model_for(recorder).stream([Message.user("Rust or Go?")], system="Sys", tools=[RECALL])
    )

    assert events[0] == ToolCallStart(index=0, id="call_a", name="memory__memory_recall")
    assert events[1:3] == [ToolCallDelta(0, "call_a", '{"to'), ToolCallDelta(0, "call_a", 'pic": "rust"}')]
    # a new index ends the previous call before the next one starts
    assert events[3] == ToolCallEnd(
        0, ToolCallPart(id="call_a", name="memory__memory_recall", arguments={"topic": "rust"})
    )
    assert events[4] == ToolCallStart(index=1, id="call_b", name="memory__memory_recall")
    assert events[5] == ToolCallDelta(1, "call_b", '{"topic": "go"}')
    assert events[6] == ToolCallEnd(
        1, ToolCallPart(id="call_b", name="memory__memory_recall", arguments={"topic": "go"})
    )
    completion = events[7]
    assert isinstance(completion, Completion) and len(events) == 8
    assert completion.stop_reason == "tool_use" and completion.raw_stop_reason == "tool_calls"
    usage = completion.usage
    assert (
        usage.provider,
        usage.model,
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
    ) == (
        "openai",
        "gpt-4.1-mini",
        300,
        100,
        25,
    )
    assert usage.cost_usd == pytest.approx((200 * 0.40 + 100 * 0.10 + 25 * 1.60) / 1e6)

    body = recorder.body()
    assert recorder.requests[0].url == "https://api.openai.com/v1/chat/completions"
    assert recorder.requests[0].headers["authorization"] == "Bearer sk-test"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 4096 and "max_tokens" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Sys"},
        {"role": "user", "content": "Rust or Go?"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": RECALL.name,
                "description": "Recall memories",
                "parameters": RECALL.input_schema,
            },
        }
    ]


async def test_text_replies_stream_and_history_uses_tool_messages() -> None:
    recorder = Recorder(
        ok(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Rust, "}),
                chunk({"content": "mostly."}),
                chunk({}, finish="length"),
                chunk(None, usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}),
            ]
        )
    )
    call = ToolCallPart(id="call_a", name="memory__memory_recall", arguments={"topic": "rust"})
    history = [
        Message.user("Rust or Go?"),
        Message.assistant("", [call]),
        Message.tool_results([ToolResultPart(call_id="call_a", content="no memories", is_error=True)]),
    ]
    events = await collect(model_for(recorder).stream(history, temperature=0.0, stop=["\n\n"], max_tokens=3))

    assert events[:2] == [TextDelta("Rust, "), TextDelta("mostly.")]
    completion = events[-1]
    assert isinstance(completion, Completion)
    assert completion.stop_reason == "max_tokens" and completion.message.text == "Rust, mostly."
    body = recorder.body()
    assert body["temperature"] == 0.0 and body["stop"] == ["\n\n"]
    assert body["messages"] == [
        {"role": "user", "content": "Rust or Go?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "memory__memory_recall", "arguments": '{"topic": "rust"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "Error: no memories"},
    ]


async def test_errors_map_with_advice() -> None:
    def err(status: int, code: str, headers: dict[str, str] | None = None) -> httpx2.Response:
        return httpx2.Response(
            status, json={"error": {"message": "nope", "type": code, "code": code}}, headers=headers or {}
        )

    with pytest.raises(ModelAuthError, match="OPENAI_API_KEY"):
        await model_for(Recorder(err(401, "invalid_api_key"))).complete([Message.user("x")])
    with pytest.raises(ModelRateLimited) as limited:
        await model_for(Recorder(err(429, "rate_limit_exceeded", {"retry-after": "3"}))).complete(
            [Message.user("x")]
        )
    assert limited.value.retry_after == 3
    with pytest.raises(ModelUnavailable):
        await model_for(Recorder(err(503, "server_error"))).complete([Message.user("x")])
    with pytest.raises(ModelAuthError, match="set OPENAI_API_KEY"):
        await model_for(Recorder(), api_key=None).complete([Message.user("x")])


async def test_an_error_chunk_mid_stream_is_unavailable_and_streamed() -> None:
    body = sse([chunk({"content": "Hal"})])[: -len(b"data: [DONE]\n\n")] + (
        b'data: {"error": {"message": "upstream died", "type": "server_error"}}\n\n'
    )
    recorder = Recorder(httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"}))
    with pytest.raises(ModelUnavailable, match="upstream died") as info:
        await model_for(recorder).complete([Message.user("x")])
    assert info.value.streamed


async def test_compatible_servers_without_index_and_with_null_choices_work() -> None:
    # llama.cpp / older Ollama: a whole call in one chunk without `index`; vLLM: usage with choices null
    chunks = [
        chunk(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "memory__memory_recall", "arguments": '{"topic": "x"}'},
                    }
                ],
            },
            finish="stop",
        ),
        {
            **chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
            "choices": None,
        },
    ]
    recorder = Recorder(ok(chunks))
    completion = await model_for(recorder, base_url="http://localhost:11434/v1", api_key=None).complete(
        [Message.user("x")], tools=[RECALL]
    )
    assert completion.stop_reason == "tool_use"  # "stop" with tool calls
    assert completion.message.tool_calls == [
        ToolCallPart(id="c1", name="memory__memory_recall", arguments={"topic": "x"})
    ]
    assert completion.usage.cost_usd == 0.0  # local server
    body = recorder.body()
    assert body["max_tokens"] == 4096 and "max_completion_tokens" not in body
    assert recorder.requests[0].url == "http://localhost:11434/v1/chat/completions"


# --- a real local server (a socket on 127.0.0.1), as Ollama / vLLM would be -------------------


def _local_app(seen: list[dict[str, Any]]) -> Starlette:
    async def completions(request: Request) -> StreamingResponse | JSONResponse:
        body = await request.json()
        seen.append({"body": body, "authorization": request.headers.get("authorization")})
        if body["model"] == "missing":
            return JSONResponse({"error": {"message": "model 'missing' not found", "type": "not_found"}}, 404)

        async def events() -> AsyncIterator[bytes]:
            for c in tool_call_chunks():
                c["model"] = body["model"]
                yield f"data: {json.dumps(c)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def test_openai_adapter_against_a_local_server_with_streamed_tool_calls() -> None:
    seen: list[dict[str, Any]] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections queue until uvicorn accepts: no need to wait for start-up
    port = sock.getsockname()[1]
    config = uvicorn.Config(_local_app(seen), log_level="warning", lifespan="off", http="h11", ws="none")
    server = uvicorn.Server(config)
    base_url = f"http://127.0.0.1:{port}/v1"
    model = OpenAIModel("qwen2.5:7b", api_key=None, base_url=base_url)
    missing_model = OpenAIModel("missing", api_key=None, base_url=base_url)
    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.serve, [sock])
                try:
                    events = await collect(model.stream([Message.user("Rust or Go?")], tools=[RECALL]))
                    with pytest.raises(ModelBadRequest) as missing:
                        await missing_model.complete([Message.user("x")])
                finally:
                    await model.aclose()
                    await missing_model.aclose()
                    server.should_exit = True
    finally:
        sock.close()

    assert model.name == f"openai:qwen2.5:7b@{base_url}"
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    ends = [e for e in events if isinstance(e, ToolCallEnd)]
    assert [s.id for s in starts] == ["call_a", "call_b"]
    assert [e.call.arguments for e in ends] == [{"topic": "rust"}, {"topic": "go"}]
    completion = events[-1]
    assert isinstance(completion, Completion) and completion.stop_reason == "tool_use"
    assert completion.usage.cost_usd == 0.0 and completion.usage.input_tokens == 300
    assert seen[0]["authorization"] == "Bearer no-key"
    assert seen[0]["body"]["tools"][0]["function"]["name"] == "memory__memory_recall"
    assert "FOLIO_MODEL" in str(missing.value)
