"""FunctionModel and TestModel: scripted replies with the same stream events as the adapters."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest

from folio_orchestrator.llm import (
    AnthropicModel,
    ChatModel,
    Completion,
    FunctionModel,
    Message,
    ModelRequest,
    StreamEvent,
    TestModel,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
    ToolResultPart,
    ToolSpec,
    allow_model_requests,
    example_arguments,
    tool_call,
)

pytestmark = pytest.mark.anyio

TOOLS = [
    ToolSpec(
        name="profile__search",
        input_schema={"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        read_only=True,
    ),
    ToolSpec(name="memory__recall", input_schema={"type": "object", "properties": {}}, read_only=True),
]
WRITES = [
    ToolSpec(
        name="memory__remember",
        input_schema={
            "type": "object",
            "properties": {"content": {"type": "string"}},
            "required": ["content"],
        },
    ),
    ToolSpec(name="profile__update"),
]


def shape(events: list[StreamEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_function_model_scripts_replies_from_the_history() -> None:
    def reply(messages: list[Message], request: ModelRequest) -> str | ToolCallPart:
        if messages[-1].role == "user":
            return tool_call("profile__search", {"q": messages[-1].text}, id="c1")
        return f"found: {messages[-1].results[0].content}"

    model = FunctionModel(reply)
    assert isinstance(model, ChatModel)
    events = [e async for e in model.stream([Message.user("rust")], system="S", tools=TOOLS)]
    assert shape(events) == ["ToolCallStart", "ToolCallDelta", "ToolCallDelta", "ToolCallEnd", "Completion"]
    first = events[-1]
    assert isinstance(first, Completion) and first.stop_reason == "tool_use"
    assert first.message.tool_calls == [
        ToolCallPart(id="c1", name="profile__search", arguments={"q": "rust"})
    ]
    assert first.usage.provider == "function" and first.usage.cost_usd == 0.0 and first.usage.input_tokens > 0

    history = [
        Message.user("rust"),
        first.message,
        Message.tool_results([ToolResultPart(call_id="c1", content="3 repos")]),
    ]
    second = await model.complete(history)
    assert second.message.text == "found: 3 repos" and second.stop_reason == "end_turn"
    assert model.calls[0][1].system == "S" and [t.name for t in model.calls[0][1].tools] == [
        "profile__search",
        "memory__recall",
    ]


async def test_async_functions_and_text_stream_word_by_word() -> None:
    async def reply(messages: list[Message], request: ModelRequest) -> str:
        return "Hello there, world."

    events = [e async for e in FunctionModel(reply).stream([Message.user("hi")])]
    assert events[:-1] == [TextDelta("Hello "), TextDelta("there, "), TextDelta("world.")]


async def test_test_model_calls_every_read_only_tool_once_then_summarises_readably() -> None:
    model = TestModel()
    first = await model.complete([Message.user("go")], tools=[*TOOLS, *WRITES])
    calls = first.message.tool_calls
    assert [c.name for c in calls] == ["profile__search", "memory__recall"]  # never a write
    assert calls[0].arguments == {"q": "a"} and calls[1].arguments == {}
    results = Message.tool_results(
        [
            ToolResultPart(call_id=calls[0].id, content='{"hits":\n [{"text": "résumé hit"}]}'),
            ToolResultPart(call_id=calls[1].id, content="no such memory", is_error=True),
        ]
    )
    final = await model.complete([Message.user("go"), first.message, results], tools=[*TOOLS, *WRITES])
    assert final.stop_reason == "end_turn"
    assert final.message.text == (
        "Offline test model: I called 2 read-only tool(s) once each.\n"
        "\n"
        '- `profile__search` ✓ `{"hits": [{"text": "résumé hit"}]}`\n'
        "- `memory__recall` ✗ error: `no such memory`\n"
        "\n"
        "Skipped 2 tool(s) not annotated read-only, because the test model never changes your data: "
        "`memory__remember`, `profile__update`."
    )
    # a new user turn starts over
    again = await model.complete(
        [Message.user("go"), first.message, results, final.message, Message.user("more")], tools=TOOLS
    )
    assert len(again.message.tool_calls) == 2 and {c.id for c in again.message.tool_calls}.isdisjoint(
        {c.id for c in calls}
    )
    assert (await TestModel().complete([Message.user("hi")])).message.text == "success (no tool calls)"
    only_writes = await TestModel().complete([Message.user("hi")], tools=WRITES)
    assert only_writes.message.tool_calls == []
    assert only_writes.message.text.startswith("success (no tool calls)\n\nSkipped 2 tool(s)")
    assert [
        c.name
        for c in (
            await TestModel(call_tools=["memory__recall"]).complete([Message.user("x")], tools=TOOLS)
        ).message.tool_calls
    ] == ["memory__recall"]


async def test_test_model_writes_only_when_told_to() -> None:
    first = await TestModel(writes=True).complete([Message.user("go")], tools=[*TOOLS, *WRITES])
    assert [c.name for c in first.message.tool_calls] == [t.name for t in [*TOOLS, *WRITES]]
    assert first.message.tool_calls[2].arguments == {"content": "a"}


async def test_a_long_result_is_cut_in_the_summary() -> None:
    model = TestModel()
    first = await model.complete([Message.user("go")], tools=TOOLS[1:])
    (call,) = first.message.tool_calls
    results = Message.tool_results([ToolResultPart(call_id=call.id, content="`x` " * 3000)])
    final = await model.complete([Message.user("go"), first.message, results], tools=TOOLS[1:])
    (line,) = [line for line in final.message.text.splitlines() if line.startswith("- ")]
    assert len(line) < 300 and line.endswith("…`") and line.count("`") == 4  # backticks in results quoted


def test_example_arguments_satisfy_common_schemas() -> None:
    schema = {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "minimum": 1},
            "kind": {"enum": ["repo", "doc"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "since": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 3}]},
            "deep": {"type": "boolean", "default": True},
            "opt": {"type": "string"},
        },
        "required": ["limit", "kind", "tags", "since", "deep"],
    }
    assert example_arguments(schema) == {
        "limit": 1,
        "kind": "repo",
        "tags": ["a"],
        "since": "aaa",
        "deep": True,
    }


@pytest.fixture
def _allowed() -> Iterator[None]:
    with allow_model_requests():
        yield


@pytest.mark.usefixtures("_allowed")
async def test_scripted_and_real_adapters_stream_the_same_event_shapes() -> None:
    sse = "".join(
        f"event: {e['type']}\ndata: {json.dumps(e)}\n\n"
        for e in [
            {
                "type": "message_start",
                "message": {
                    "id": "m",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-x",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 5, "output_tokens": 1},
                },
            },
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Checking. "},
            },
            {"type": "content_block_stop", "index": 0},
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t1", "name": "memory__recall", "input": {}},
            },
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"a"'},
            },
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": ": 1}"},
            },
            {"type": "content_block_stop", "index": 1},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 9},
            },
            {"type": "message_stop"},
        ]
    ).encode()
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(lambda r: httpx2.Response(200, content=sse)))
    real = [
        e
        async for e in AnthropicModel("claude-x", api_key="k", http_client=client).stream([Message.user("x")])
    ]

    scripted_model = FunctionModel(
        lambda m, r: Message.assistant("Checking. ", [tool_call("memory__recall", {"a": 1}, id="t1")])
    )
    scripted = [e async for e in scripted_model.stream([Message.user("x")])]

    assert shape(real) == shape(scripted)
    for a, b in zip(real, scripted, strict=True):
        if isinstance(a, ToolCallStart | ToolCallEnd | TextDelta):
            assert a == b
        if isinstance(a, ToolCallDelta):
            assert isinstance(b, ToolCallDelta) and (a.index, a.id) == (b.index, b.id)
    assert isinstance(real[-1], Completion) and isinstance(scripted[-1], Completion)
    assert real[-1].message == scripted[-1].message and real[-1].stop_reason == scripted[-1].stop_reason
