"""Model strings, building models from them, the request guard, prices and context helpers."""

from __future__ import annotations

import httpx2
import pytest

from folio_orchestrator.llm import (
    DEFAULT_CONTEXT_WINDOW,
    DEFAULT_MODEL,
    AnthropicModel,
    FallbackModel,
    FunctionModel,
    Message,
    ModelAuthError,
    ModelConfigError,
    ModelRequestsDisabled,
    ModelSpec,
    OpenAIModel,
    Price,
    RetryingModel,
    TestModel,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    allow_model_requests,
    context_window,
    estimate_cost,
    estimate_tokens,
    is_local_base_url,
    make_model,
    model_requests_allowed,
    parse_model_list,
    parse_model_string,
)

pytestmark = pytest.mark.anyio


def test_model_strings_parse() -> None:
    assert parse_model_string("anthropic:claude-opus-4-6") == ModelSpec("anthropic", "claude-opus-4-6")
    assert parse_model_string("openai:gpt-4.1-mini") == ModelSpec("openai", "gpt-4.1-mini")
    assert parse_model_string("openai:llama3.1:8b@http://localhost:11434/v1/") == ModelSpec(
        "openai", "llama3.1:8b", "http://localhost:11434/v1"
    )
    assert parse_model_string("claude-haiku-4-5") == ModelSpec("anthropic", "claude-haiku-4-5")
    assert parse_model_string(" gpt-5 ") == ModelSpec("openai", "gpt-5")
    assert parse_model_string("test") == ModelSpec("test", "test")
    assert str(parse_model_string("openai:qwen@http://h:1/v1")) == "openai:qwen@http://h:1/v1"
    assert parse_model_list("anthropic:claude-opus-4-6, openai:gpt-5") == [
        ModelSpec("anthropic", "claude-opus-4-6"),
        ModelSpec("openai", "gpt-5"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("llama3", "cannot tell the provider"),
        ("openai:", "names no model"),
        ("openai:m@localhost:11434", "base URL"),
        ("anthropic:claude@http://x", "only openai"),
    ],
)
def test_bad_model_strings_say_how_to_write_them(value: str, message: str) -> None:
    with pytest.raises(ModelConfigError, match=message):
        parse_model_string(value)


def test_make_model_reads_folio_model_and_keys_from_the_environment() -> None:
    env = {
        "FOLIO_MODEL": "anthropic:claude-opus-4-6,openai:qwen@http://127.0.0.1:8000/v1",
        "ANTHROPIC_API_KEY": "a",
    }
    model = make_model(env=env)
    assert isinstance(model, FallbackModel)
    first, second = model.models
    assert isinstance(first, RetryingModel) and isinstance(first.inner, AnthropicModel)
    assert isinstance(second, RetryingModel) and isinstance(second.inner, OpenAIModel)
    assert second.inner.local and second.name == "openai:qwen@http://127.0.0.1:8000/v1"
    assert model.context_window == DEFAULT_CONTEXT_WINDOW  # the smaller: qwen is not in the table

    default = make_model(env={})
    assert default.name == DEFAULT_MODEL
    assert isinstance(make_model("test", env={}), TestModel)
    assert make_model(["openai:gpt-5"], env={"OPENAI_BASE_URL": "http://localhost:1234/v1"}).name == (
        "openai:gpt-5@http://localhost:1234/v1"
    )


async def test_a_missing_key_is_reported_on_first_use_naming_the_variable() -> None:
    with allow_model_requests():
        with pytest.raises(ModelAuthError, match="set OPENAI_API_KEY"):
            await make_model("openai:gpt-5", env={}).complete([Message.user("x")])
        with pytest.raises(ModelAuthError, match="ANTHROPIC_API_KEY"):
            await make_model("anthropic:claude-opus-4-6", env={}).complete([Message.user("x")])


async def test_the_guard_refuses_real_requests_when_the_suite_disables_them() -> None:
    assert not model_requests_allowed()  # the conftest sets FOLIO_ALLOW_MODEL_REQUESTS=0
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(500)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = make_model(
        "anthropic:claude-opus-4-6,openai:gpt-5",
        env={"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"},
        http_client=client,
    )
    with pytest.raises(ModelRequestsDisabled, match="FunctionModel or TestModel"):
        await model.complete([Message.user("x")])
    assert sent == []  # neither the first model nor the fallback sent anything
    # scripted models are not real requests
    assert (await FunctionModel(lambda m, r: "fine").complete([Message.user("x")])).message.text == "fine"
    with allow_model_requests():
        assert model_requests_allowed()
    assert not model_requests_allowed()


def test_costs_come_from_the_price_table() -> None:
    assert estimate_cost("claude-opus-4-6", input_tokens=1_000_000, output_tokens=1_000_000) == 30.0
    assert (
        estimate_cost("gpt-4o-2024-08-06", input_tokens=1_000_000, output_tokens=0) == 2.5
    )  # dated snapshot
    assert estimate_cost("llama3.1", input_tokens=10, output_tokens=10) is None  # unknown
    assert estimate_cost("llama3.1", input_tokens=10, output_tokens=10, local=True) == 0.0
    assert (
        estimate_cost("mine", input_tokens=2_000_000, output_tokens=0, prices={"mine": Price(1.0, 2.0)})
        == 2.0
    )
    assert is_local_base_url("http://localhost:11434/v1") and is_local_base_url("http://192.168.1.5:8000/v1")
    assert is_local_base_url("http://[::1]:8000/v1") and not is_local_base_url("https://api.together.xyz/v1")


def test_token_estimates_and_context_windows() -> None:
    messages = [
        Message.user("a" * 40),
        Message.assistant("", [ToolCallPart(id="c", name="t", arguments={"q": "x"})]),
        Message.tool_results([ToolResultPart(call_id="c", content="b" * 400)]),
    ]
    estimate = estimate_tokens(messages, system="s" * 8, tools=[ToolSpec(name="t")])
    # 4+10 | 4+8+1+3 | 4+8+100 | system 4+2 | tool 8+ceil(len("t"+schema)/4)
    assert estimate == 14 + 16 + 112 + 6 + 8 + 10
    assert context_window("anthropic:claude-opus-4-6") == 1_000_000
    assert context_window("gpt-4o-mini-2024-07-18") == 128_000
    assert context_window("openai:llama3.1:8b@http://localhost:11434/v1") == DEFAULT_CONTEXT_WINDOW
    assert context_window("openai:mine", {"mine": 8192}) == 8192


def test_messages_round_trip_through_json() -> None:
    message = Message.assistant("hi", [ToolCallPart(id="c", name="t", arguments={"n": 1})])
    assert Message.model_validate_json(message.model_dump_json()) == message
