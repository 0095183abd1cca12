"""Per-embedder vector indexes and the stored-embedder check.

The vector columns are dimension-free (``vector``). pgvector's HNSW needs a fixed dimension, so
start-up creates, for the configured embedder, a *partial expression* index per table:

    CREATE INDEX … USING hnsw ((embedding::vector(384)) vector_cosine_ops)
        WHERE embedding_model = 'all-MiniLM-L6-v2@onnx-fp16'

and every query orders by ``embedding::vector(<dim>) <=> <query>`` with the same
``embedding_model = '<name>'`` predicate (both as SQL literals, so the planner can match the
partial index). The same schema therefore serves the local 384-d model and ``openai:<model>``
(1536-d) without a migration. ``memory.meta`` records the embedder the stored vectors were made
with; start-up refuses a different one (``check_compatible``) until ``folio-memory reembed``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from folio_core.db import Connection
from folio_core.embeddings import Embedder, check_compatible

VECTOR_TABLES = ("memories", "observations", "entities")
EMBEDDER_KEY = "embedder"
_LOCK = "folio:memory:schema"


class VectorSpace:
    """SQL fragments for one embedder: the distance expression and the model predicate."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = dim
        self.model = sql.Literal(name)
        self.vector_type = sql.SQL("vector({})").format(sql.Literal(dim))

    @classmethod
    def of(cls, embedder: Embedder) -> VectorSpace:
        return cls(embedder.name, embedder.dim)

    def column(self, alias: str = "") -> sql.Composable:
        prefix = sql.SQL(f"{alias}.") if alias else sql.SQL("")
        return sql.SQL("({}embedding::{})").format(prefix, self.vector_type)

    def param(self, name: str = "q") -> sql.Composable:
        return sql.SQL("{}::{}").format(sql.Placeholder(name), self.vector_type)

    def distance(self, alias: str = "", param: str = "q") -> sql.Composable:
        return sql.SQL("{} <=> {}").format(self.column(alias), self.param(param))

    def predicate(self, alias: str = "") -> sql.Composable:
        prefix = sql.SQL(f"{alias}.") if alias else sql.SQL("")
        return sql.SQL("{}embedding_model = {}").format(prefix, self.model)

    def index_name(self, table: str) -> str:
        digest = hashlib.sha256(f"{self.name}:{self.dim}".encode()).hexdigest()[:10]
        return f"{table}_hnsw_{digest}"

    def create_index(self, table: str) -> sql.Composed:
        return sql.SQL(
            "CREATE INDEX IF NOT EXISTS {} ON memory.{} USING hnsw ({} vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64) WHERE {}"
        ).format(
            sql.Identifier(self.index_name(table)), sql.Identifier(table), self.column(), self.predicate()
        )

    def drop_index(self, table: str) -> sql.Composed:
        return sql.SQL("DROP INDEX IF EXISTS memory.{}").format(sql.Identifier(self.index_name(table)))


async def ensure_vector_indexes(conn: Connection, space: VectorSpace) -> None:
    """Create the configured embedder's HNSW indexes (once; concurrent starts wait on a lock)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))
        for table in VECTOR_TABLES:
            await conn.execute(space.create_index(table))


async def stored_embedder(conn: Connection) -> tuple[str, int] | None:
    row = await (
        await conn.execute("SELECT value FROM memory.meta WHERE key = %s", (EMBEDDER_KEY,))
    ).fetchone()
    if row is None:
        return None
    value: dict[str, Any] = row["value"]
    return str(value["name"]), int(value["dim"])


async def claim_embedder(conn: Connection, embedder: Embedder) -> None:
    """Record the embedder on first start; refuse (EmbedderMismatchError) a different one later."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))
        stored = await stored_embedder(conn)
        if stored is not None:
            check_compatible(stored[0], stored[1], embedder)
            return
        await set_embedder(conn, embedder.name, embedder.dim)


async def set_embedder(conn: Connection, name: str, dim: int) -> None:
    await conn.execute(
        """INSERT INTO memory.meta (key, value) VALUES (%s, %s)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
        (EMBEDDER_KEY, Jsonb({"name": name, "dim": dim})),
    )
