"""The host schema: conversations, messages, tool calls and model usage on the real database."""

from __future__ import annotations

import uuid

import anyio
import pytest

from folio_orchestrator.history import (
    ConversationNotFoundError,
    History,
    ToolCallRecord,
    UsageRecord,
)

pytestmark = pytest.mark.anyio


async def test_messages_keep_their_order_even_when_written_concurrently(history: History) -> None:
    conversation = await history.start_conversation(title="hello", model="scripted:test")

    async def write(i: int) -> None:
        await history.add_messages(
            conversation, [("user", {"text": f"q{i}"}), ("assistant", {"text": f"a{i}"})]
        )

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(write, i)
    stored = await history.messages(conversation)
    assert [m.seq for m in stored] == list(range(1, 11))
    # each pair stays together: a user question is followed by its own answer
    for question, answer in zip(stored[::2], stored[1::2], strict=True):
        assert question.role == "user" and answer.role == "assistant"
        assert question.content["text"][1:] == answer.content["text"][1:]


async def test_conversations_are_found_by_id_prefix(history: History) -> None:
    first = await history.start_conversation(title="first")
    await history.add_messages(first, [("user", {"text": "hi"})])
    found = await history.find(str(first)[:8])
    assert found.id == first and found.messages == 1 and found.title == "first"
    with pytest.raises(ConversationNotFoundError, match="folio history list"):
        await history.find("ffffffff-0000")
    with pytest.raises(ConversationNotFoundError, match="not a conversation id"):
        await history.find("'; drop table")
    listed = await history.conversations()
    assert [c.id for c in listed] == [first]


async def test_tool_calls_and_usage_are_recorded_and_summed(history: History) -> None:
    conversation = await history.start_conversation()
    await history.record_tool_call(
        conversation,
        ToolCallRecord(
            "profile", "profile_search", {"query": "go"}, "ok", 12.5, call_id="c1", result="x" * 10_000
        ),
    )
    await history.record_tool_call(
        conversation, ToolCallRecord("time", "get_current_time", {}, "timeout", 30000.0)
    )
    calls = await history.tool_calls(conversation)
    assert [(c.server, c.outcome) for c in calls] == [("profile", "ok"), ("time", "timeout")]
    assert calls[0].result is not None and len(calls[0].result) == 4000

    await history.record_usage(
        conversation, UsageRecord("anthropic", "claude-x", 100, 20, 350.0, "chat", 0.0012)
    )
    await history.record_usage(
        conversation, UsageRecord("anthropic", "claude-x", 50, 10, 200.0, "chat", 0.0006)
    )
    await history.record_usage(
        None, UsageRecord("openai", "gpt-y", 30, 5, 90.0, "sampling", None, server="profile")
    )
    by_model = {row.key: row for row in await history.usage("model")}
    assert by_model["anthropic:claude-x"].requests == 2
    assert by_model["anthropic:claude-x"].input_tokens == 150
    assert by_model["anthropic:claude-x"].cost_usd == pytest.approx(0.0018)
    assert by_model["openai:gpt-y"].cost_usd is None
    by_server = {row.key: row.output_tokens for row in await history.usage("server")}
    assert by_server == {"chat": 30, "profile": 5}
    by_day = await history.usage("day", days=1)
    assert len(by_day) == 1 and by_day[0].requests == 3


async def test_an_unknown_conversation_cannot_get_messages(history: History) -> None:
    with pytest.raises(Exception, match="foreign key"):
        await history.add_messages(uuid.uuid4(), [("user", {"text": "orphan"})])
