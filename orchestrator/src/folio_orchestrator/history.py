"""Conversation history and model usage, in the ``host`` schema.

Every chat turn's messages, every tool call (server, tool, arguments, outcome, duration) and every
model request (provider, model, tokens, estimated cost, latency, purpose, requesting server) is a
row here; ``folio history`` and ``folio usage`` read them back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from psycopg.types.json import Jsonb

if TYPE_CHECKING:
    from folio_core.db import Pool

Role = Literal["user", "assistant", "tool"]
Outcome = Literal["ok", "error", "cancelled", "timeout"]
Purpose = Literal["chat", "sampling", "summary"]
GroupBy = Literal["model", "server", "day"]

PACKAGE = "folio_orchestrator"


class ConversationNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class Conversation:
    id: uuid.UUID
    title: str | None
    model: str | None
    audience: str
    created_at: datetime
    updated_at: datetime
    messages: int = 0


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    role: Role
    content: Any
    created_at: datetime


@dataclass(frozen=True)
class ToolCallRecord:
    server: str
    tool: str
    arguments: dict[str, Any]
    outcome: Outcome
    duration_ms: float
    call_id: str | None = None
    result: str | None = None


@dataclass(frozen=True)
class UsageRecord:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: float
    purpose: Purpose
    cost_usd: float | None = None
    server: str | None = None


@dataclass(frozen=True)
class UsageRow:
    key: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None


RESULT_LIMIT = 4000  # characters of a tool result kept in the history


class History:
    """Reads and writes the ``host`` schema through a pool."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def start_conversation(
        self, *, title: str | None = None, model: str | None = None, audience: str = "owner"
    ) -> uuid.UUID:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "INSERT INTO host.conversations (title, model, audience) VALUES (%s, %s, %s) RETURNING id",
                    (title, model, audience),
                )
            ).fetchone()
        assert row is not None
        return uuid.UUID(str(row["id"]))

    async def add_messages(self, conversation: uuid.UUID, messages: Sequence[tuple[Role, Any]]) -> list[int]:
        """Append messages (role, JSON-able content) in order; returns their sequence numbers."""
        if not messages:
            return []
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM host.conversations WHERE id = %s FOR UPDATE", (conversation,))
            row = await (
                await conn.execute(
                    "SELECT coalesce(max(seq), 0) AS last FROM host.messages WHERE conversation_id = %s",
                    (conversation,),
                )
            ).fetchone()
            first = (row["last"] if row else 0) + 1
            seqs = list(range(first, first + len(messages)))
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO host.messages (conversation_id, seq, role, content) VALUES (%s, %s, %s, %s)",
                    [
                        (conversation, seq, role, Jsonb(content))
                        for seq, (role, content) in zip(seqs, messages, strict=True)
                    ],
                )
            await conn.execute(
                "UPDATE host.conversations SET updated_at = now() WHERE id = %s", (conversation,)
            )
        return seqs

    async def set_title(self, conversation: uuid.UUID, title: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE host.conversations SET title = %s WHERE id = %s", (title[:200], conversation)
            )

    async def record_tool_call(self, conversation: uuid.UUID | None, call: ToolCallRecord) -> None:
        result = call.result[:RESULT_LIMIT] if call.result is not None else None
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO host.tool_calls
                   (conversation_id, call_id, server, tool, arguments, outcome, result, duration_ms)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    conversation,
                    call.call_id,
                    call.server,
                    call.tool,
                    Jsonb(call.arguments),
                    call.outcome,
                    result,
                    call.duration_ms,
                ),
            )

    async def record_usage(self, conversation: uuid.UUID | None, usage: UsageRecord) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO host.model_usage
                   (conversation_id, provider, model, input_tokens, output_tokens, cost_usd, latency_ms,
                    purpose, server)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    conversation,
                    usage.provider,
                    usage.model,
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.cost_usd,
                    usage.latency_ms,
                    usage.purpose,
                    usage.server,
                ),
            )

    async def conversations(self, limit: int = 20) -> list[Conversation]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT c.*, (SELECT count(*) FROM host.messages m WHERE m.conversation_id = c.id) AS messages
                       FROM host.conversations c ORDER BY c.updated_at DESC LIMIT %s""",
                    (limit,),
                )
            ).fetchall()
        return [_conversation(r) for r in rows]

    async def find(self, prefix: str) -> Conversation:
        """A conversation by its id or an unambiguous prefix of it (as ``folio history`` shows them)."""
        text = prefix.strip().lower()
        if not text or any(ch not in "0123456789abcdef-" for ch in text):
            raise ConversationNotFoundError(
                f"{prefix!r} is not a conversation id; `folio history list` shows them"
            )
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT c.*, (SELECT count(*) FROM host.messages m WHERE m.conversation_id = c.id) AS messages
                       FROM host.conversations c WHERE c.id::text LIKE %s ORDER BY c.updated_at DESC LIMIT 3""",
                    (text + "%",),
                )
            ).fetchall()
        if not rows:
            raise ConversationNotFoundError(
                f"no conversation starts with {prefix!r}; `folio history list` shows them"
            )
        if len(rows) > 1:
            raise ConversationNotFoundError(f"{prefix!r} matches several conversations; give more of the id")
        return _conversation(rows[0])

    async def messages(self, conversation: uuid.UUID) -> list[StoredMessage]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT seq, role, content, created_at FROM host.messages WHERE conversation_id = %s ORDER BY seq",
                    (conversation,),
                )
            ).fetchall()
        return [StoredMessage(r["seq"], r["role"], r["content"], r["created_at"]) for r in rows]

    async def tool_calls(self, conversation: uuid.UUID) -> list[ToolCallRecord]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT server, tool, arguments, outcome, duration_ms, call_id, result
                       FROM host.tool_calls WHERE conversation_id = %s ORDER BY id""",
                    (conversation,),
                )
            ).fetchall()
        return [ToolCallRecord(**r) for r in rows]

    async def usage(self, group_by: GroupBy, *, days: int | None = None) -> list[UsageRow]:
        """Requests, tokens and cost grouped by model, requesting server ('chat' for the chat) or day."""
        key = {
            "model": "provider || ':' || model",
            "server": "coalesce(server, 'chat')",
            "day": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        }[group_by]
        where = "WHERE created_at >= now() - make_interval(days => %s)" if days is not None else ""
        params: tuple[Any, ...] = (days,) if days is not None else ()
        query = f"""
            SELECT {key} AS key, count(*) AS requests, sum(input_tokens) AS input_tokens,
                   sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
            FROM host.model_usage {where} GROUP BY 1 ORDER BY 1"""
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query.encode(), params)).fetchall()
        return [
            UsageRow(
                key=r["key"],
                requests=int(r["requests"]),
                input_tokens=int(r["input_tokens"]),
                output_tokens=int(r["output_tokens"]),
                cost_usd=float(r["cost_usd"]) if isinstance(r["cost_usd"], Decimal | float | int) else None,
            )
            for r in rows
        ]


def _conversation(row: dict[str, Any]) -> Conversation:
    return Conversation(
        id=uuid.UUID(str(row["id"])),
        title=row["title"],
        model=row["model"],
        audience=row["audience"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        messages=int(row.get("messages", 0)),
    )
