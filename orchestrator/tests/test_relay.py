"""The sampling relay: policies, budgets, model choice, tools, usage — and real servers asking."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
    ErrorData,
    ModelHint,
    ModelPreferences,
    SamplingMessage,
    TextContent,
    Tool,
    ToolUseContent,
)

from folio_core.cache import MemoryCache
from folio_core.settings import FolioSettings
from folio_core.testing import REPO_ROOT, SAMPLE_PORTFOLIO, tool_text
from folio_orchestrator.budget import Budget, BudgetKeeper
from folio_orchestrator.history import History
from folio_orchestrator.llm import Completion, FunctionModel, Message, ModelRequest, tool_call
from folio_orchestrator.relay import ModelChoice, SamplingRelay, SamplingRequest, ServerSampling
from folio_profile.server import build_server

pytestmark = pytest.mark.anyio

EVERYTHING = REPO_ROOT / "tests" / "interop" / "node_modules" / ".bin" / "mcp-server-everything"


def echo_model(name: str = "strong") -> FunctionModel:
    def reply(messages: Sequence[Message], request: ModelRequest) -> str:
        return f"[{name}] {messages[-1].text}"

    return FunctionModel(reply, model_name=name)


def params(text: str, **kwargs: Any) -> CreateMessageRequestParams:
    return CreateMessageRequestParams(
        messages=[SamplingMessage(role="user", content=TextContent(type="text", text=text))],
        max_tokens=kwargs.pop("max_tokens", 100),
        **kwargs,
    )


def relay(**kwargs: Any) -> SamplingRelay:
    kwargs.setdefault("budgets", BudgetKeeper(MemoryCache("relay-test")))
    models = kwargs.pop("models", ModelChoice(strong=echo_model()))
    return SamplingRelay(models, **kwargs)


class Reviewer:
    def __init__(self, *, edit: str | None = None, deny: bool = False, reject_answer: bool = False) -> None:
        self.edit, self.deny, self.reject_answer = edit, deny, reject_answer
        self.seen: list[SamplingRequest] = []

    async def review_request(self, request: SamplingRequest) -> SamplingRequest | None:
        self.seen.append(request)
        if self.deny:
            return None
        if self.edit is None:
            return request
        from dataclasses import replace

        return replace(request, messages=(Message.user(self.edit),))

    async def review_answer(self, request: SamplingRequest, answer: Completion) -> bool:
        return not self.reject_answer


async def call(r: SamplingRelay, server: str, p: CreateMessageRequestParams) -> Any:
    return await r.callback(server)(None, p)  # type: ignore[arg-type]


async def test_auto_policy_answers_and_records_usage_for_the_server(history: History) -> None:
    r = relay(settings={"profile": ServerSampling(policy="auto")}, history=history)
    result = await call(r, "profile", params("hello"))
    assert isinstance(result, CreateMessageResult)
    assert isinstance(result.content, TextContent) and result.content.text == "[strong] hello"
    assert result.model == "function:strong" and result.stop_reason == "endTurn"
    (row,) = await history.usage("server")
    assert (row.key, row.requests) == ("profile", 1)


async def test_deny_policy_and_no_model_are_refused_with_reasons() -> None:
    denied = await call(relay(settings={"x": ServerSampling(policy="deny")}), "x", params("hi"))
    assert isinstance(denied, ErrorData) and "denies sampling" in denied.message
    no_model = await call(
        relay(models=None, settings={"x": ServerSampling(policy="auto")}), "x", params("hi")
    )
    assert isinstance(no_model, ErrorData) and "FOLIO_MODEL" in no_model.message


async def test_ask_policy_lets_the_person_edit_deny_and_review() -> None:
    editor = Reviewer(edit="edited question")
    edited = await call(
        relay(settings={"s": ServerSampling("ask")}, reviewer=editor), "s", params("original")
    )
    assert isinstance(edited, CreateMessageResult) and edited.content.text == "[strong] edited question"  # type: ignore[union-attr]
    assert editor.seen[0].messages[0].text == "original" and editor.seen[0].server == "s"

    denied = await call(
        relay(settings={"s": ServerSampling("ask")}, reviewer=Reviewer(deny=True)), "s", params("q")
    )
    assert isinstance(denied, ErrorData) and "denied" in denied.message
    rejected = await call(
        relay(settings={"s": ServerSampling("ask")}, reviewer=Reviewer(reject_answer=True)), "s", params("q")
    )
    assert isinstance(rejected, ErrorData) and "did not let the answer" in rejected.message
    nobody = await call(relay(settings={"s": ServerSampling("ask")}), "s", params("q"))
    assert isinstance(nobody, ErrorData) and "'auto'" in nobody.message


async def test_budgets_refuse_over_limit_requests() -> None:
    budgets = BudgetKeeper(MemoryCache("relay-budget"))
    r = relay(
        budgets=budgets,
        settings={"greedy": ServerSampling("auto", Budget(tokens_per_request=500, tokens_per_hour=2000))},
    )
    too_big = await call(r, "greedy", params("hi", max_tokens=1000))
    assert isinstance(too_big, ErrorData) and "per-request budget of 500" in too_big.message
    for _ in range(3):
        assert isinstance(await call(r, "greedy", params("hi", max_tokens=400)), CreateMessageResult)
    # the scripted model used far less than max_tokens: the settled use is what counts
    assert await budgets.used_last_hour("greedy") < 200


def test_model_choice_follows_hints_then_priorities() -> None:
    strong, fast = echo_model("claude-opus"), echo_model("gpt-mini")
    choice = ModelChoice(strong=strong, fast=fast)
    assert choice.choose(None) is strong
    assert choice.choose(ModelPreferences(hints=[ModelHint(name="mini")])) is fast
    assert (
        choice.choose(ModelPreferences(hints=[ModelHint(name="unknown"), ModelHint(name="OPUS")])) is strong
    )
    assert choice.choose(ModelPreferences(cost_priority=0.9, intelligence_priority=0.2)) is fast
    assert choice.choose(ModelPreferences(speed_priority=0.3, intelligence_priority=0.8)) is strong
    assert ModelChoice(strong=strong).choose(ModelPreferences(cost_priority=1.0)) is strong


async def test_tools_in_a_request_are_offered_and_calls_come_back_with_their_names() -> None:
    def use_tool(messages: Sequence[Message], request: ModelRequest) -> Any:
        assert [t.name for t in request.tools] == ["get_weather", "t1_lookup_v2_beta"]
        return [tool_call("t1_lookup_v2_beta", {"q": "x"})]

    r = relay(models=ModelChoice(strong=FunctionModel(use_tool)), settings={"s": ServerSampling("auto")})
    tools = [
        Tool(name="get_weather", input_schema={"type": "object"}),
        Tool(name="lookup v2.beta", input_schema={"type": "object"}),
    ]
    result = await call(r, "s", params("use a tool", tools=tools))
    assert isinstance(result, CreateMessageResultWithTools) and result.stop_reason == "toolUse"
    (use,) = [b for b in result.content if isinstance(b, ToolUseContent)]  # type: ignore[union-attr]
    assert use.name == "lookup v2.beta" and use.input == {"q": "x"}


async def test_server_everything_sampling_tool_is_answered_by_the_model() -> None:
    r = relay(settings={"everything": ServerSampling("auto")})
    server = StdioServerParameters(command=str(EVERYTHING), args=["stdio"])
    async with Client(server, mode="legacy", sampling_callback=r.callback("everything")) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "trigger-sampling-request" in names
        result = await client.call_tool("trigger-sampling-request", {"prompt": "Say hi", "maxTokens": 50})
    assert not result.is_error
    assert "[strong] Resource trigger-sampling-request context: Say hi" in tool_text(result)


async def test_folio_profile_narrative_through_the_relay(database_url: str, tmp_path: Path) -> None:
    narrator = FunctionModel(
        lambda messages, request: "Ines fits the platform role well.", model_name="writer"
    )
    r = relay(models=ModelChoice(strong=narrator), settings={"profile": ServerSampling("auto")})
    settings = FolioSettings(database_url=database_url, data_dir=tmp_path, portfolio_dir=SAMPLE_PORTFOLIO)
    sampling: Any = r.callback("profile")

    async def callback(context: ClientRequestContext, p: CreateMessageRequestParams) -> Any:
        return await sampling(context, p)

    async with Client(build_server(settings).mcp, mode="auto", sampling_callback=callback) as client:
        result = await client.call_tool("profile_match_job", {"description": "- 5+ years of Kubernetes"})
    assert result.structured_content is not None
    assert result.structured_content["narrative"] == "Ines fits the platform role well."
    (messages, request) = narrator.calls[0]
    assert "Kubernetes" in messages[-1].text and request.system is not None


async def test_the_terminal_reviewer_shows_edits_and_confirms() -> None:
    from folio_orchestrator.forms import ScriptedFormIO
    from folio_orchestrator.relay import TerminalSamplingReviewer

    io = ScriptedFormIO(["x", "e", "what is 2+2?", "a", "s"])
    r = relay(settings={"calc": ServerSampling("ask")}, reviewer=TerminalSamplingReviewer(io))
    result = await call(r, "calc", params("what is 1+1?", system_prompt="Be brief."))
    assert isinstance(result, CreateMessageResult) and result.content.text == "[strong] what is 2+2?"  # type: ignore[union-attr]
    shown = io.output
    assert "calc asks the model (function:strong) for up to 100 tokens" in shown
    assert "system: Be brief." in shown and "user: what is 1+1?" in shown
    assert "please answer a, e or d" in shown
    assert "answer for calc: [strong] what is 2+2?" in shown

    discard = ScriptedFormIO(["a", "d"])
    r = relay(settings={"calc": ServerSampling("ask")}, reviewer=TerminalSamplingReviewer(discard))
    refused = await call(r, "calc", params("q"))
    assert isinstance(refused, ErrorData)
