"""The chat host over the real fleet on stdio: a scripted model, real servers, the history it writes.

Every test starts real server processes through ``ChatHost(...).running()`` (Folio's own servers on
a fresh test database, mcp-server-time, server-everything) and drives them with a
:class:`FunctionModel`, which answers both the chat and the servers' sampling requests (a sampling
request is the one that comes without the fleet's tools).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO, tool_text
from folio_orchestrator.agent import AgentEvent, ToolCallFinished, ToolCallStarted
from folio_orchestrator.chat import ChatHost, ChatOptions
from folio_orchestrator.config import FleetConfig
from folio_orchestrator.forms import CTRL_C, ScriptedFormIO
from folio_orchestrator.history import History
from folio_orchestrator.llm import FunctionModel, Message, ModelRequest, ToolResultPart, tool_call
from folio_orchestrator.relay import TerminalSamplingReviewer
from folio_orchestrator.ui.console import Console

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MakeConfig = Callable[[dict[str, Any]], FleetConfig]
RESUME = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text(encoding="utf-8"))
OWNER = RESUME["basics"]["name"]
JOB = """Staff Platform Engineer
Requirements:
- Kubernetes in production
- Event streaming with Kafka
- Python and PostgreSQL
"""


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> FolioSettings:
    """Settings whose database (the test's own) reaches every Folio server of the fleet."""
    return FolioSettings(
        data_dir=tmp_path / "data",
        portfolio_dir=SAMPLE_PORTFOLIO,
        database_url=database_url,
        log_level="warning",
    )


def folio_server(command: str, **folio: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": command}
    if folio:
        entry["folio"] = folio
    return entry


def results_of(messages: Sequence[Message]) -> list[ToolResultPart]:
    """The tool results since the last question."""
    last_user = max(i for i, m in enumerate(messages) if m.role == "user" and not m.results)
    return [r for m in messages[last_user:] for r in m.results]


def is_sampling(request: ModelRequest) -> bool:
    """The chat always offers the fleet's tools; a server's sampling request here offers none."""
    return not request.tools


async def usage_rows(history: History) -> list[dict[str, Any]]:
    async with history.pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT conversation_id, provider, model, purpose, server, input_tokens, output_tokens "
                "FROM host.model_usage ORDER BY id"
            )
        ).fetchall()
    return [dict(r) for r in rows]


async def test_a_chat_turn_routes_concurrent_calls_to_three_servers_and_writes_the_history(
    fleet_config: MakeConfig, db_settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {
            "profile": folio_server("folio-profile"),
            "memory": folio_server("folio-memory"),
            "time": peers.time(),
        }
    )
    arguments: dict[str, dict[str, Any]] = {
        "profile__profile_search": {"query": "Kafka event streaming", "limit": 3},
        "memory__memory_remember": {
            "content": "The visitor asked about Kafka experience",
            "kind": "event",
            "tags": ["chat-test"],
        },
        "time__get_current_time": {"timezone": "Europe/Amsterdam"},
    }

    def script(messages: list[Message], request: ModelRequest) -> Any:
        assert not is_sampling(request)
        if messages[-1].role == "user":
            return [tool_call(name, args) for name, args in arguments.items()]
        by_name = {
            c.name: json.loads(r.content)
            for c, r in zip(messages[-2].tool_calls, messages[-1].results, strict=True)
        }
        hit = by_name["profile__profile_search"]["hits"][0]
        memory = by_name["memory__memory_remember"]
        now = by_name["time__get_current_time"]
        return (
            f"Yes: {hit['path']} shows it. Noted as memory {memory['id']} ({memory['status']}). "
            f"It is {now['datetime']} in {now['timezone']}."
        )

    model = FunctionModel(script, model_name="twin")
    events: list[AgentEvent] = []
    with anyio.fail_after(90):
        async with ChatHost(config, db_settings, ChatOptions(model=model)).running() as host:
            assert {s.name: s.state.value for s in host.fleet.status()} == {
                "profile": "ready",
                "memory": "ready",
                "time": "ready",
            }
            agent = await host.new_conversation()
            assert (
                OWNER in agent.system and RESUME["basics"]["email"] in agent.system
            )  # the owner sees it all
            result = await agent.turn("Have you worked with Kafka? Remember that I asked.", events.append)
            assert host.history is not None and agent.conversation is not None
            stored = await host.history.messages(agent.conversation)
            calls = await host.history.tool_calls(agent.conversation)
            usage = await usage_rows(host.history)
            recalled = await host.fleet.call_tool(
                "memory__memory_recall", {"query": "Kafka experience", "tags": ["chat-test"]}
            )

    assert result.stopped == "answered" and result.steps == 2, result
    # the answer is made of what each server returned
    tool_message = agent.messages[2]
    by_name = {
        c.name: json.loads(r.content)
        for c, r in zip(agent.messages[1].tool_calls, tool_message.results, strict=True)
    }
    hit = by_name["profile__profile_search"]["hits"][0]
    assert "kafka" in hit["text"].lower()
    memory = by_name["memory__memory_remember"]
    assert memory["status"] == "created"
    assert by_name["time__get_current_time"]["timezone"] == "Europe/Amsterdam"
    assert result.text == (
        f"Yes: {hit['path']} shows it. Noted as memory {memory['id']} (created). "
        f"It is {by_name['time__get_current_time']['datetime']} in Europe/Amsterdam."
    )
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool", "assistant"]
    assert not any(r.is_error for r in tool_message.results)

    # the three calls ran concurrently: all started before the first one finished
    kinds = [type(e) for e in events if isinstance(e, ToolCallStarted | ToolCallFinished)]
    assert kinds == [ToolCallStarted] * 3 + [ToolCallFinished] * 3

    # the memory really reached the memory server's store
    assert memory["id"] in [h["id"] for h in (recalled.structured_content or {})["hits"]]

    # the history: the messages, each call with its server, and the model's usage
    assert [(m.seq, m.role) for m in stored] == [(1, "user"), (2, "assistant"), (3, "tool"), (4, "assistant")]
    assert [Message.model_validate(m.content) for m in stored] == agent.messages
    routed = {(c.server, c.tool): c for c in calls}
    assert set(routed) == {
        ("profile", "profile_search"),
        ("memory", "memory_remember"),
        ("time", "get_current_time"),
    }
    for name, args in arguments.items():
        server, tool = name.split("__")
        call = routed[(server, tool)]
        assert call.arguments == args and call.outcome == "ok" and call.duration_ms > 0
        assert call.call_id in {c.id for c in agent.messages[1].tool_calls}
    assert f'"id":{memory["id"]}' in (routed[("memory", "memory_remember")].result or "")
    assert [(u["purpose"], u["server"], u["model"]) for u in usage] == [("chat", None, "twin")] * 2
    assert all(u["conversation_id"] == agent.conversation and u["input_tokens"] > 0 for u in usage)


async def test_a_resumed_conversation_continues_with_its_stored_messages(
    fleet_config: MakeConfig, db_settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config({"time": peers.time()})

    def first(messages: list[Message], request: ModelRequest) -> Any:
        if messages[-1].role == "user":
            return tool_call("time__get_current_time", {"timezone": "UTC"})
        return "It is " + json.loads(messages[-1].results[0].content)["datetime"]

    seen: list[list[Message]] = []

    def second(messages: list[Message], request: ModelRequest) -> str:
        seen.append(messages)
        questions = [m.text for m in messages if m.role == "user"]
        return f"You asked {len(questions)} questions; the first was {questions[0]!r}."

    with anyio.fail_after(60):
        async with ChatHost(config, db_settings, ChatOptions(model=FunctionModel(first))).running() as host:
            agent = await host.new_conversation()
            answered = await agent.turn("What time is it?")
            before = list(agent.messages)
            conversation = agent.conversation
        assert answered.text.startswith("It is ") and conversation is not None

        # a new host (another `folio chat --resume`) finds it by an id prefix
        later = ChatHost(config, db_settings, ChatOptions(model=FunctionModel(second)))
        async with later.running() as host:
            resumed = await host.resume(str(conversation)[:8])
            assert resumed.conversation == conversation
            assert resumed.messages == before
            result = await resumed.turn("And what did I ask you before?")
            assert host.history is not None
            stored = await host.history.messages(conversation)
            listed = await host.history.conversations()

    assert result.text == "You asked 2 questions; the first was 'What time is it?'."
    assert seen[0][: len(before)] == before  # the model saw the stored conversation
    assert [m.seq for m in stored] == list(range(1, len(before) + 3))
    assert [Message.model_validate(m.content) for m in stored] == resumed.messages
    assert [c.id for c in listed] == [conversation]  # resumed, not a new conversation


async def test_the_public_twin_is_presented_from_the_resume_without_contact_details(
    fleet_config: MakeConfig, db_settings: FolioSettings
) -> None:
    settings = db_settings.model_copy(update={"audience": "public"})
    config = fleet_config({"profile": folio_server("folio-profile")})
    model = FunctionModel(lambda messages, request: "Hello!")
    with anyio.fail_after(60):
        async with ChatHost(config, settings, ChatOptions(model=model)).running() as host:
            agent = await host.new_conversation()
            assert host.history is not None
            (conversation,) = await host.history.conversations()
            tools = [t.name for t in host.fleet.tools()]

    basics = RESUME["basics"]
    assert OWNER in agent.system and basics["label"] in agent.system
    assert "<resume>" in agent.system and "a visitor" in agent.system
    for private in (basics["email"], basics["phone"], basics["location"]["address"]):
        assert private not in agent.system
    assert conversation.audience == "public" and conversation.model == "function:function"
    assert "profile__profile_update" not in tools and "profile__profile_search" in tools


async def test_server_everything_samples_through_the_relay_by_policy_and_budget(
    fleet_config: MakeConfig, db_settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config(
        {
            "everything": peers.everything(sampling={"policy": "auto"}),
            "refusing": peers.everything(sampling={"policy": "deny"}),
            "frugal": peers.everything(sampling={"policy": "auto", "budget": {"tokens_per_request": 20}}),
        }
    )
    sampled: list[tuple[list[Message], ModelRequest]] = []

    def script(messages: list[Message], request: ModelRequest) -> Any:
        if is_sampling(request):
            sampled.append((messages, request))
            return f"sampled answer to: {messages[-1].text}"
        if messages[-1].role == "user":
            return tool_call(
                "everything__trigger-sampling-request", {"prompt": "Greet Ines", "maxTokens": 60}
            )
        return "The server said: " + messages[-1].results[0].content

    model = FunctionModel(script, model_name="relay")
    with anyio.fail_after(90):
        async with ChatHost(config, db_settings, ChatOptions(model=model)).running() as host:
            agent = await host.new_conversation()
            result = await agent.turn("Ask server-everything to sample")
            denied = await host.fleet.call_tool("refusing__trigger-sampling-request", {"prompt": "hi"})
            over = await host.fleet.call_tool(
                "frugal__trigger-sampling-request", {"prompt": "hi", "maxTokens": 50}
            )
            assert host.history is not None
            usage = await usage_rows(host.history)
            by_server = {r.key: r.requests for r in await host.history.usage("server")}

    # answered by the scripted model, through the fleet's sampling callback
    assert len(sampled) == 1
    messages, request = sampled[0]
    assert messages[-1].text.endswith("context: Greet Ines") and request.max_tokens == 60
    (tool_result,) = agent.messages[2].results
    assert not tool_result.is_error
    assert "sampled answer to: Resource trigger-sampling-request context: Greet Ines" in tool_result.content
    assert '"model": "function:relay"' in tool_result.content
    assert result.text.startswith("The server said: LLM sampling result:")

    # refused by policy and by budget, with the reason reaching the tool's caller
    assert denied.is_error and "the host's policy denies sampling to 'refusing'" in tool_text(denied)
    assert over.is_error
    assert "over its per-request budget of 20" in tool_text(over)
    assert len(sampled) == 1  # the model was never asked for the refused requests

    # usage: the chat's two requests, and one sampling request charged to `everything`
    assert [(u["purpose"], u["server"]) for u in usage] == [
        ("chat", None),
        ("sampling", "everything"),
        ("chat", None),
    ]
    assert all(u["conversation_id"] == agent.conversation for u in usage)
    assert by_server == {"chat": 2, "everything": 1}


async def test_folio_profile_samples_its_narrative_and_confirms_a_rollback_through_the_chat(
    fleet_config: MakeConfig, db_settings: FolioSettings
) -> None:
    config = fleet_config({"profile": folio_server("folio-profile", sampling={"policy": "auto"})})
    sampled: list[tuple[list[Message], ModelRequest]] = []
    narrative = "A strong fit: Kafka and Kubernetes at Kestrel Payments."

    def script(messages: list[Message], request: ModelRequest) -> Any:
        if is_sampling(request):
            sampled.append((messages, request))
            return narrative
        if messages[-1].role == "tool":
            return "Result: " + messages[-1].results[0].content
        question = messages[-1].text
        if question.startswith("Match"):
            return tool_call("profile__profile_match_job", {"description": JOB})
        return tool_call("profile__profile_rollback", {"version": 1, "reason": "undo the test edit"})

    # first rollback: the person says yes, then declines the form; second: yes, and accepts
    io = ScriptedFormIO(["y", "d", "y", "a"])
    options = ChatOptions(model=FunctionModel(script, model_name="twin"), io=io, interactive=True)

    async def label(host: ChatHost) -> tuple[int, str]:
        got = await host.fleet.call_tool("profile__profile_get", {"section": "basics"})
        content: dict[str, Any] = got.structured_content or {}
        return content["version"], content["content"]["label"]

    with anyio.fail_after(90):
        async with ChatHost(config, db_settings, options).running() as host:
            agent = await host.new_conversation()
            matched = await agent.turn("Match me against this staff platform job")

            updated = await host.fleet.call_tool(
                "profile__profile_update",
                {"patch": {"basics": {"label": "Changed by the chat test"}}, "reason": "test"},
            )
            assert not updated.is_error, tool_text(updated)
            assert await label(host) == (2, "Changed by the chat test")

            declined = await agent.turn("Roll my résumé back to version 1")
            after_decline = await label(host)
            assert io.remaining == ["y", "a"]
            confirmed = await agent.turn("Roll my résumé back to version 1, I am sure")
            after_confirm = await label(host)
            assert host.history is not None and agent.conversation is not None
            calls = await host.history.tool_calls(agent.conversation)
            usage = await usage_rows(host.history)

    # the narrative came from the scripted model, asked by the profile server through the relay
    (asked, request) = sampled[0]
    assert len(sampled) == 1 and request.max_tokens == 500
    assert request.system is not None and "assessments of a candidate's fit" in request.system
    assert OWNER in asked[-1].text and "Kafka" in asked[-1].text
    fit = json.loads(matched.text.removeprefix("Result: "))
    assert fit["narrative"] == narrative
    assert fit["requirements"] and fit["overall_score"] > 0
    assert ("sampling", "profile") in [(u["purpose"], u["server"]) for u in usage]

    # the rollback asked the person, in the form; declining changed nothing
    assert "profile asks for input" in io.output
    assert "Roll the résumé back from version 2 to the content of version 1" in io.output
    assert [p for p, _ in io.prompts] == ["confirm> ", "send? [a/e/d/c]> "] * 2
    assert "The user did not confirm, so nothing was changed" in declined.text
    assert after_decline == (2, "Changed by the chat test")
    # accepting rolled it back, as a new version
    rolled = json.loads(confirmed.text.removeprefix("Result: "))
    assert rolled["confirmed_by"] == "elicitation" and rolled["version"] == 3
    assert after_confirm == (3, RESUME["basics"]["label"])
    assert [(c.tool, c.outcome) for c in calls] == [
        ("profile_match_job", "ok"),
        ("profile_rollback", "error"),
        ("profile_rollback", "ok"),
    ]


async def test_cancelling_a_turn_cancels_the_call_in_the_server_and_the_history_keeps_it(
    fleet_config: MakeConfig, db_settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config({"slow": peers.script("slow_server")})

    def script(messages: list[Message], request: ModelRequest) -> Any:
        if messages[-1].role == "user":
            return [tool_call("slow__hang", {"tag": "chat-turn"}), tool_call("slow__echo", {"text": "quick"})]
        return "unreachable"

    echoed = anyio.Event()

    def sink(event: AgentEvent) -> None:
        if isinstance(event, ToolCallFinished) and event.call.name == "slow__echo":
            echoed.set()

    with anyio.fail_after(60):
        async with ChatHost(config, db_settings, ChatOptions(model=FunctionModel(script))).running() as host:
            agent = await host.new_conversation()
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:

                    async def cancel_once_echoed() -> None:
                        await echoed.wait()  # hang is in flight in the server by now
                        scope.cancel()

                    tg.start_soon(cancel_once_echoed)
                    await agent.turn("Hang, and echo", sink)
            assert scope.cancelled_caught
            supervisor = host.fleet.supervisors["slow"]
            while "cancelled: chat-turn" not in supervisor.stderr_tail():  # the server saw the cancel
                await anyio.sleep(0.02)
            assert host.history is not None and agent.conversation is not None
            stored = await host.history.messages(agent.conversation)
            calls = await host.history.tool_calls(agent.conversation)
            again = await host.fleet.call_tool("slow__echo", {"text": "still here"})
            assert supervisor.restarts == 0

    assert again.structured_content == {"result": "still here"}
    # the conversation stays valid: each call has a result, and it was stored
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool"]
    assert [r.content for r in agent.messages[2].results] == ["cancelled by the user"] * 2
    assert [Message.model_validate(m.content) for m in stored] == agent.messages
    assert sorted((c.server, c.tool, c.outcome) for c in calls) == [
        ("slow", "echo", "ok"),
        ("slow", "hang", "cancelled"),
    ]


@pytest.mark.parametrize(
    ("tool", "prompt"),
    [
        ("everything__trigger-sampling-request", "[a]pprove, [e]dit the last message, [d]eny? "),
        ("everything__trigger-elicitation-request", "name> "),
    ],
)
async def test_ctrl_c_at_a_servers_question_cancels_the_turn_and_keeps_the_conversation_valid(
    fleet_config: MakeConfig, db_settings: FolioSettings, peers: Any, tool: str, prompt: str
) -> None:
    config = fleet_config({"everything": peers.everything(sampling={"policy": "ask"})})

    def script(messages: list[Message], request: ModelRequest) -> Any:
        if is_sampling(request):
            raise AssertionError("the person pressed Ctrl-C: nothing may be sampled")
        if messages[-1].role == "user":
            return tool_call(tool, {"prompt": "hi"} if "sampling" in tool else {})
        raise AssertionError("the turn was cancelled: the model is not asked to go on")

    console = Console()
    io = ScriptedFormIO([CTRL_C], console=console)
    options = ChatOptions(
        model=FunctionModel(script),
        io=io,
        interactive=True,
        reviewer=TerminalSamplingReviewer(io),
        console=console,
    )
    with anyio.fail_after(90):
        async with ChatHost(config, db_settings, options).running() as host:
            agent = await host.new_conversation()
            result = await host.turn("Ask me something")
            assert host.history is not None and agent.conversation is not None
            stored = await host.history.messages(agent.conversation)
            calls = await host.history.tool_calls(agent.conversation)

    assert result.stopped == "cancelled"
    assert [p for p, _ in io.prompts] == [prompt]  # asked once; Ctrl-C there stopped the turn
    assert [m.role for m in agent.messages] == ["user", "assistant", "tool"]
    assert [r.content for r in agent.messages[2].results] == ["cancelled by the user"]
    assert [Message.model_validate(m.content) for m in stored] == agent.messages
    assert [(c.tool, c.outcome) for c in calls] == [(tool.split("__")[1], "cancelled")]


async def test_a_model_chosen_after_start_answers_the_next_turn_and_the_servers_sampling(
    fleet_config: MakeConfig, db_settings: FolioSettings, peers: Any
) -> None:
    config = fleet_config({"everything": peers.everything(sampling={"policy": "auto"})})
    sampled: list[str] = []

    def script(messages: list[Message], request: ModelRequest) -> Any:
        if is_sampling(request):
            sampled.append(messages[-1].text)
            return "sampled by the new model"
        if messages[-1].role == "user":
            return tool_call("everything__trigger-sampling-request", {"prompt": "Greet Ines"})
        return "The server said: " + messages[-1].results[0].content

    with anyio.fail_after(90):
        async with ChatHost(config, db_settings, ChatOptions(model=None)).running() as host:
            assert host.agent is None and host.relay.models is None
            await host.use_model(FunctionModel(script, model_name="later"))
            result = await host.turn("Ask server-everything to sample")
            assert host.history is not None
            (conversation,) = await host.history.conversations(5)

    assert result.stopped == "answered" and "sampled by the new model" in result.text
    assert len(sampled) == 1 and conversation.model == "function:later"
