"""The agent loop with scripted models and in-process tools (the fleet version is in test_chat.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import pytest

from folio_orchestrator.agent import Agent, AgentEvent, ToolOutcome, fit_context
from folio_orchestrator.history import History
from folio_orchestrator.llm import (
    FunctionModel,
    Message,
    ModelRequest,
    ModelUnavailable,
    TestModel,
    TextDelta,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    tool_call,
)

pytestmark = pytest.mark.anyio

Tool = Callable[[dict[str, Any]], Awaitable[str]]


class Tools:
    """An in-process tool host: names to async functions."""

    def __init__(self, tools: dict[str, Tool], *, writes: frozenset[str] = frozenset()) -> None:
        self.tools = tools
        self.writes = writes
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def tool_specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(name=name, description=f"the {name} tool", read_only=name not in self.writes)
            for name in self.tools
        ]

    def locate(self, name: str) -> tuple[str, str]:
        return ("local", name) if name in self.tools else ("", name)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        self.calls.append((name, arguments))
        try:
            return ToolOutcome(await self.tools[name](arguments), False, "local", name)
        except ValueError as exc:
            return ToolOutcome(str(exc), True, "local", name, "error")


def last_results(messages: Sequence[Message]) -> list[ToolResultPart]:
    return next(m.results for m in reversed(messages) if m.role == "tool")


async def test_a_turn_calls_tools_concurrently_and_answers_with_their_results() -> None:
    both_started = anyio.Event()
    started: list[str] = []
    log: list[str] = []

    async def slow(args: dict[str, Any]) -> str:
        # neither call may finish before both have started: run one after the other, they could not
        started.append(args["who"])
        log.append(f"start {args['who']}")
        if len(started) == 2:
            both_started.set()
        await both_started.wait()
        log.append(f"end {args['who']}")
        return f"hello {args['who']}"

    def script(messages: Sequence[Message], request: ModelRequest) -> Any:
        if messages[-1].role == "user":
            return [tool_call("greet", {"who": "a"}), tool_call("greet", {"who": "b"})]
        return " and ".join(r.content for r in messages[-1].results)

    tools = Tools({"greet": slow})
    events: list[AgentEvent] = []
    agent = Agent(FunctionModel(script), tools, system="be kind")
    with anyio.fail_after(30):  # a safety net only: calls run one after the other would never end
        result = await agent.turn("greet both", events.append)
    assert sorted(log[:2]) == ["start a", "start b"] and sorted(log[2:]) == ["end a", "end b"]
    assert result.text == "hello a and hello b" and result.steps == 2 and result.stopped == "answered"
    assert sorted(started) == ["a", "b"]
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("ToolCallStarted") == 2 and kinds.count("ToolCallFinished") == 2
    assert any(isinstance(e, TextDelta) for e in events)
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool", "assistant"]


async def test_test_model_calls_every_read_only_tool_once_and_says_which_it_skipped() -> None:
    async def echo(args: dict[str, Any]) -> str:
        return "ok"

    tools = Tools({"one": echo, "two": echo, "three": echo, "erase": echo}, writes=frozenset({"erase"}))
    result = await Agent(TestModel(), tools, system="s").turn("go")
    assert sorted(name for name, _ in tools.calls) == ["one", "three", "two"]
    assert result.stopped == "answered"
    assert "Skipped 1 tool(s) not annotated read-only" in result.text and "`erase`" in result.text


async def test_steps_are_bounded() -> None:
    async def again(args: dict[str, Any]) -> str:
        return "again"

    looping = FunctionModel(lambda messages, request: [tool_call("again", {})])
    agent = Agent(looping, Tools({"again": again}), system="s", max_steps=3)
    result = await agent.turn("loop")
    assert result.stopped == "max_steps" and result.steps == 3
    assert "stopped after 3 steps" in agent.messages[-1].text


async def test_tool_errors_and_invalid_arguments_reach_the_model_as_errors() -> None:
    async def fails(args: dict[str, Any]) -> str:
        raise ValueError("no such record; call search first")

    def script(messages: Sequence[Message], request: ModelRequest) -> Any:
        if messages[-1].role == "user":
            bad = ToolCallPart(id="bad", name="fails", arguments={}, invalid_arguments="{not json")
            return [tool_call("fails", {"id": 1}), bad]
        return "noted"

    tools = Tools({"fails": fails})
    agent = Agent(FunctionModel(script), tools, system="s")
    await agent.turn("try")
    first, second = last_results(agent.messages)
    assert first.is_error and "call search first" in first.content
    assert second.is_error and "not a JSON object" in second.content
    assert len(tools.calls) == 1  # the invalid call never ran


async def test_cancelling_a_turn_answers_the_calls_in_flight() -> None:
    entered = anyio.Event()

    async def hangs(args: dict[str, Any]) -> str:
        entered.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    agent = Agent(FunctionModel(lambda m, r: [tool_call("hangs", {})]), Tools({"hangs": hangs}), system="s")
    async with anyio.create_task_group() as tg:
        tg.start_soon(agent.turn, "wait forever")
        with anyio.fail_after(30):
            await entered.wait()
        tg.cancel_scope.cancel()
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool"]
    (result,) = last_results(agent.messages)
    assert result.is_error and result.content == "cancelled by the user"


async def test_a_failing_model_leaves_the_conversation_clean() -> None:
    def down(messages: Sequence[Message], request: ModelRequest) -> Any:
        raise ModelUnavailable("provider is down; try again later")

    agent = Agent(FunctionModel(down), Tools({}), system="s")
    result = await agent.turn("hello?")
    assert result.stopped == "model_error" and "provider is down" in (result.error or "")
    assert agent.messages == []


def test_context_is_trimmed_by_whole_turns_keeping_the_current_one() -> None:
    long = "word " * 400  # ~500 tokens each
    messages: list[Message] = []
    for i in range(6):
        messages += [Message.user(f"q{i} {long}"), Message.assistant(f"a{i} {long}")]
    messages.append(Message.user("current question"))
    fitted = fit_context(messages, system="system", tools=[], window=3000, reserve=500)
    assert fitted[-1].text == "current question"
    assert "earlier exchange(s)" in fitted[0].text and fitted[1].role == "assistant"
    kept = [m.text.split()[0] for m in fitted[2:-1]]
    assert kept and kept[-2:] == ["q5", "a5"]
    assert fit_context(messages, system="s", tools=[], window=1_000_000, reserve=500) == messages
    # a tool call is never separated from its result: turns are dropped whole
    with_tools = [
        Message.user("old " + long),
        Message.assistant("", [tool_call("t", {})]),
        Message.tool_results([ToolResultPart(call_id="x", content=long)]),
        Message.assistant("done " + long),
        Message.user("now"),
    ]
    trimmed = fit_context(with_tools, system="s", tools=[], window=800, reserve=100)
    assert [m.role for m in trimmed] == ["user", "assistant", "user"]


async def test_turns_are_written_to_the_history(history: History) -> None:
    async def lookup(args: dict[str, Any]) -> str:
        return "42"

    def script(messages: Sequence[Message], request: ModelRequest) -> Any:
        return [tool_call("lookup", {"q": "answer"})] if messages[-1].role == "user" else "It is 42."

    conversation = await history.start_conversation(model="function:function")
    agent = Agent(
        FunctionModel(script),
        Tools({"lookup": lookup}),
        system="s",
        history=history,
        conversation=conversation,
    )
    await agent.turn("what is the answer?")
    stored = await history.messages(conversation)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert Message.model_validate(stored[-1].content).text == "It is 42."
    (call,) = await history.tool_calls(conversation)
    assert (call.server, call.tool, call.arguments, call.outcome, call.result) == (
        "local",
        "lookup",
        {"q": "answer"},
        "ok",
        "42",
    )
    assert (await history.find(str(conversation))).title == "what is the answer?"
    usage = await history.usage("model")
    assert usage[0].requests == 2
    # a resumed conversation continues from the stored messages
    resumed = Agent(
        FunctionModel(lambda m, r: f"I remember {len(m)} messages"),
        Tools({}),
        system="s",
        history=history,
        conversation=conversation,
        messages=[Message.model_validate(m.content) for m in stored],
    )
    assert (await resumed.turn("still there?")).text == "I remember 5 messages"
    assert len(await history.messages(conversation)) == 6
