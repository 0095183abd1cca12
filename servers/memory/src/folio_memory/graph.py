"""The knowledge graph of ``@modelcontextprotocol/server-memory``, in PostgreSQL.

Same operations and shapes as the reference server (entities with observations, relations in
active voice, creation skips what exists, deleting an entity deletes its relations), plus:
every call is one transaction (no lost writes between processes), ``search_nodes`` finds
entities by meaning as well as by substring, and ``read_graph`` is paginated and capped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import numpy as np
from psycopg import sql

from folio_core.changefeed import notify_many
from folio_core.db import Connection, Pool
from folio_core.embeddings import Embedder
from folio_core.validation import text_problem
from folio_memory.errors import EntityNotFoundError, InvalidInputError
from folio_memory.models import AddedObservations, Entity, KnowledgeGraph, Relation
from folio_memory.uris import GRAPH, STATS
from folio_memory.vectors import VectorSpace

SEARCH_LIMIT = 50
"""At most this many entities per search_nodes answer (substring matches first)."""
SEMANTIC_LIMIT = 10
SEMANTIC_MIN = 0.35
"""Cosine similarity from which an entity is a semantic match of a search_nodes query."""
PAGE_DEFAULT = 100
PAGE_MAX = 500
PAGE_CHAR_BUDGET = 60_000
"""A read_graph page stops adding entities past this many characters of observations (~15k tokens)."""


def entity_text(name: str, entity_type: str) -> str:
    return f"{name} ({entity_type})"


@dataclass(frozen=True)
class Page:
    graph: KnowledgeGraph
    next_cursor: str | None


def encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        name = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
        if not name or text_problem(name) is not None:
            raise ValueError("not a name read_graph wrote")
        return name
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(
            "that cursor is not one read_graph returned; call read_graph without a cursor to start over"
        ) from exc


class GraphStore:
    def __init__(self, pool: Pool, embedder: Embedder) -> None:
        self.pool = pool
        self.embedder = embedder
        self.space = VectorSpace.of(embedder)

    async def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return await anyio.to_thread.run_sync(self.embedder.embed_documents, list(texts))

    # -------------------------------------------------------------------- writes

    async def create_entities(self, entities: Sequence[Entity]) -> list[Entity]:
        """Create the entities whose names are new; return those (like the reference server)."""
        unique: dict[str, Entity] = {}
        for entity in entities:
            unique.setdefault(entity.name, entity)
        observations = {
            name: list(dict.fromkeys(o for o in e.observations if o.strip())) for name, e in unique.items()
        }
        names = list(unique)
        entity_vectors = await self._embed([entity_text(n, unique[n].entityType) for n in names])
        flat = [(n, o) for n in names for o in observations[n]]
        observation_vectors = await self._embed([o for _, o in flat])
        created: list[Entity] = []
        async with self.pool.connection() as conn, conn.transaction():
            async with conn.cursor() as cur:
                for name, vector in zip(names, entity_vectors, strict=True):
                    await cur.execute(
                        """INSERT INTO memory.entities (name, entity_type, embedding, embedding_model)
                           VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING name""",
                        (name, unique[name].entityType, vector, self.embedder.name),
                    )
                    if await cur.fetchone() is not None:
                        created.append(
                            Entity(
                                name=name, entityType=unique[name].entityType, observations=observations[name]
                            )
                        )
                new = {e.name for e in created}
                rows = [
                    (n, o, v, self.embedder.name)
                    for (n, o), v in zip(flat, observation_vectors, strict=True)
                    if n in new
                ]
                if rows:
                    await cur.executemany(
                        """INSERT INTO memory.observations (entity_name, content, embedding, embedding_model)
                           VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING""",
                        rows,
                    )
            if created:
                await notify_many(conn, [GRAPH, STATS])
        return created

    async def create_relations(self, relations: Sequence[Relation]) -> list[Relation]:
        created: list[Relation] = []
        async with self.pool.connection() as conn, conn.transaction():
            for relation in dict.fromkeys((r.from_, r.to, r.relationType) for r in relations):
                row = await (
                    await conn.execute(
                        """INSERT INTO memory.relations (from_name, to_name, relation_type) VALUES (%s, %s, %s)
                           ON CONFLICT DO NOTHING RETURNING from_name""",
                        relation,
                    )
                ).fetchone()
                if row is not None:
                    created.append(Relation(from_=relation[0], to=relation[1], relationType=relation[2]))
            if created:
                await notify_many(conn, [GRAPH, STATS])
        return created

    async def add_observations(
        self, additions: Sequence[tuple[str, Sequence[str]]]
    ) -> list[AddedObservations]:
        """Add observations to existing entities; all or nothing (an unknown entity fails the call)."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT name FROM memory.entities WHERE name = ANY(%s)", ([n for n, _ in additions],)
                )
            ).fetchall()
        known = {r["name"] for r in rows}
        for name, _ in additions:
            if name not in known:
                raise EntityNotFoundError(name)
        flat = [(n, c) for n, contents in additions for c in dict.fromkeys(contents) if c.strip()]
        vectors = await self._embed([c for _, c in flat])
        added: dict[str, list[str]] = {name: [] for name, _ in additions}
        async with self.pool.connection() as conn, conn.transaction():
            for (name, content), vector in zip(flat, vectors, strict=True):
                row = await (
                    await conn.execute(
                        """INSERT INTO memory.observations (entity_name, content, embedding, embedding_model)
                           SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM memory.entities WHERE name = %s)
                           ON CONFLICT DO NOTHING RETURNING id""",
                        (name, content, vector, self.embedder.name, name),
                    )
                ).fetchone()
                if row is not None:
                    added[name].append(content)
            if any(added.values()):
                await notify_many(conn, [GRAPH, STATS])
        return [AddedObservations(entityName=n, addedObservations=c) for n, c in added.items()]

    async def delete_entities(self, names: Sequence[str]) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("DELETE FROM memory.entities WHERE name = ANY(%s)", (list(names),))
            count = cur.rowcount
            await conn.execute(
                "DELETE FROM memory.relations WHERE from_name = ANY(%s) OR to_name = ANY(%s)",
                (list(names), list(names)),
            )
            await notify_many(conn, [GRAPH, STATS])
        return count

    async def delete_observations(self, deletions: Sequence[tuple[str, Sequence[str]]]) -> int:
        count = 0
        async with self.pool.connection() as conn, conn.transaction():
            for name, contents in deletions:
                cur = await conn.execute(
                    "DELETE FROM memory.observations WHERE entity_name = %s AND content = ANY(%s)",
                    (name, list(contents)),
                )
                count += cur.rowcount
            await notify_many(conn, [GRAPH, STATS])
        return count

    async def delete_relations(self, relations: Sequence[Relation]) -> int:
        count = 0
        async with self.pool.connection() as conn, conn.transaction():
            for r in relations:
                cur = await conn.execute(
                    "DELETE FROM memory.relations WHERE from_name = %s AND to_name = %s AND relation_type = %s",
                    (r.from_, r.to, r.relationType),
                )
                count += cur.rowcount
            await notify_many(conn, [GRAPH, STATS])
        return count

    # --------------------------------------------------------------------- reads

    async def read_page(self, cursor: str | None, limit: int = PAGE_DEFAULT) -> KnowledgeGraph:
        """One page of entities in name order with the relations that start in its name range."""
        after = decode_cursor(cursor) if cursor else None
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT e.name, e.entity_type,
                              coalesce(array_agg(o.content ORDER BY o.id) FILTER (WHERE o.id IS NOT NULL), '{}')
                                  AS observations
                       FROM (SELECT * FROM memory.entities WHERE %(after)s::text IS NULL OR name > %(after)s
                             ORDER BY name LIMIT %(limit)s) e
                       LEFT JOIN memory.observations o ON o.entity_name = e.name
                       GROUP BY e.name, e.entity_type ORDER BY e.name""",
                    {"after": after, "limit": limit + 1},
                )
            ).fetchall()
            total_row = await (await conn.execute("SELECT count(*) AS n FROM memory.entities")).fetchone()
            entities: list[Entity] = []
            used = 0
            for row in rows[:limit]:
                size = sum(len(o) for o in row["observations"]) + len(row["name"])
                if entities and used + size > PAGE_CHAR_BUDGET:
                    break
                used += size
                entities.append(_entity(row))
            more = len(entities) < len(rows)
            last = entities[-1].name if more and entities else None
            relations = await self._relations_in_range(conn, after, last)
        total = int(total_row["n"]) if total_row else 0
        note = None
        if last is not None:
            note = (
                f"Showing {len(entities)} of {total} entities. Call read_graph with cursor "
                "to read the next page, or use search_nodes / open_nodes for specific entities."
            )
        return KnowledgeGraph(
            entities=entities,
            relations=relations,
            next_cursor=encode_cursor(last) if last is not None else None,
            total_entities=total,
            note=note,
        )

    async def _relations_in_range(
        self, conn: Connection, after: str | None, last: str | None
    ) -> list[Relation]:
        rows = await (
            await conn.execute(
                """SELECT from_name, to_name, relation_type FROM memory.relations
                   WHERE (%(after)s::text IS NULL OR from_name > %(after)s)
                     AND (%(last)s::text IS NULL OR from_name <= %(last)s)
                   ORDER BY from_name, to_name, relation_type""",
                {"after": after, "last": last},
            )
        ).fetchall()
        return [_relation(r) for r in rows]

    async def open_nodes(self, names: Sequence[str]) -> KnowledgeGraph:
        async with self.pool.connection() as conn:
            entities = await self._entities(conn, list(dict.fromkeys(names)))
            relations = await self._touching(conn, [e.name for e in entities])
        return KnowledgeGraph(entities=entities, relations=relations)

    async def search(self, query: str, *, vector: np.ndarray | None = None) -> KnowledgeGraph:
        """Entities whose name, type or an observation contains ``query`` (case-insensitive), then
        entities close in meaning; with every relation touching one of them."""
        if vector is None:
            vector = (await self._embed([query]))[0]
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        semantic = sql.SQL(
            """SELECT name, max(similarity) AS similarity FROM (
                   (SELECT name, 1 - ({dist}) AS similarity FROM memory.entities
                    WHERE {model} ORDER BY {dist} LIMIT %(k)s)
                   UNION ALL
                   (SELECT entity_name AS name, 1 - ({dist}) AS similarity FROM memory.observations
                    WHERE {model} ORDER BY {dist} LIMIT %(k)s)
               ) s WHERE similarity >= %(min)s GROUP BY name ORDER BY similarity DESC, name LIMIT %(semantic)s"""
        ).format(dist=self.space.distance(), model=self.space.predicate())
        async with self.pool.connection() as conn:
            await conn.execute("SELECT set_config('hnsw.ef_search', '100', false)")
            substring_rows = await (
                await conn.execute(
                    """SELECT name FROM memory.entities e
                       WHERE lower(name) LIKE %(p)s OR lower(entity_type) LIKE %(p)s
                          OR EXISTS (SELECT 1 FROM memory.observations o
                                     WHERE o.entity_name = e.name AND lower(o.content) LIKE %(p)s)
                       ORDER BY name LIMIT %(limit)s""",
                    {"p": pattern, "limit": SEARCH_LIMIT + 1},
                )
            ).fetchall()
            semantic_rows = await (
                await conn.execute(
                    semantic, {"q": vector, "k": 40, "min": SEMANTIC_MIN, "semantic": SEMANTIC_LIMIT}
                )
            ).fetchall()
            names = list(
                dict.fromkeys([r["name"] for r in substring_rows] + [r["name"] for r in semantic_rows])
            )
            capped = names[:SEARCH_LIMIT]
            entities = await self._entities(conn, capped)
            relations = await self._touching(conn, capped)
        note = None
        if len(names) > SEARCH_LIMIT:
            note = f"More than {SEARCH_LIMIT} entities matched; showing the first {SEARCH_LIMIT}. Use a narrower query."
        return KnowledgeGraph(entities=entities, relations=relations, note=note)

    async def _entities(self, conn: Connection, names: list[str]) -> list[Entity]:
        if not names:
            return []
        rows = await (
            await conn.execute(
                """SELECT e.name, e.entity_type,
                          coalesce(array_agg(o.content ORDER BY o.id) FILTER (WHERE o.id IS NOT NULL), '{}')
                              AS observations
                   FROM memory.entities e LEFT JOIN memory.observations o ON o.entity_name = e.name
                   WHERE e.name = ANY(%s) GROUP BY e.name, e.entity_type""",
                (names,),
            )
        ).fetchall()
        by_name = {r["name"]: _entity(r) for r in rows}
        return [by_name[n] for n in names if n in by_name]

    @staticmethod
    async def _touching(conn: Connection, names: list[str]) -> list[Relation]:
        if not names:
            return []
        rows = await (
            await conn.execute(
                """SELECT from_name, to_name, relation_type FROM memory.relations
                   WHERE from_name = ANY(%s) OR to_name = ANY(%s) ORDER BY from_name, to_name, relation_type""",
                (names, names),
            )
        ).fetchall()
        return [_relation(r) for r in rows]


def _entity(row: dict[str, object]) -> Entity:
    observations = row["observations"]
    assert isinstance(observations, list)
    return Entity(name=str(row["name"]), entityType=str(row["entity_type"]), observations=observations)


def _relation(row: dict[str, object]) -> Relation:
    return Relation(
        from_=str(row["from_name"]), to=str(row["to_name"]), relationType=str(row["relation_type"])
    )
