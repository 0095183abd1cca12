"""The memory schema: memories with validity and supersession, hybrid recall, forgetting, audit.

Every write runs in one transaction together with its audit row and its change-feed
notifications, so a process killed mid-write leaves the whole write or nothing. A write that
creates (or forgets) a memory first takes the advisory lock of its *duplicate key* (a hash of its
content words, :func:`folio_memory.text.duplicate_key`): two texts can only be near-duplicates
when their content words are equal, so exactly the writes that could reinforce each other wait
for one another, and every other write runs at once (the partial unique index on the normalised
content hash of current memories backs this up). A write's statements are pipelined (three
round trips to the database), and the text is embedded before any lock is taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import anyio
import numpy as np
import structlog
from psycopg import sql

from folio_core.changefeed import notify_many
from folio_core.db import Connection, Pool
from folio_core.embeddings import Embedder, l2_normalize
from folio_memory import lexicon, ranking
from folio_memory.batching import EmbeddingBatcher
from folio_memory.errors import AlreadySupersededError, InvalidInputError, MemoryNotFoundError
from folio_memory.records import (
    Filters,
    Memory,
    RecallHit,
    RememberOutcome,
    RememberPlan,
    SimilarMemory,
    Stats,
)
from folio_memory.text import content_hash, duplicate_key, focus_query, is_near_duplicate
from folio_memory.uris import RECENT, STATS, memory_uri
from folio_memory.vectors import VectorSpace

log = structlog.get_logger(__name__)

WRITE_LOCK = "folio:memory:write"
"""The namespace (first key) of the duplicate-key advisory locks."""
VACUUMED = ("memory.memories", "memory.audit")
"""The tables a forget vacuums at once, so the deleted rows' text leaves them (and their indexes)."""
SIMILAR_LIMIT = 5
SIMILAR_MIN = 0.4
"""Cosine similarity from which an existing memory is listed as similar to a new one."""
FORGET_MIN_SIMILARITY = 0.45
"""How close a memory must be to a forget query to be proposed for forgetting."""
EF_SEARCH = 100
FTS_POOL = 500
"""Full-text candidates (memories containing every query word) are ranked within a bounded pool,
so a query made of very common words costs about the same at 100k memories as at 1k. Matches of
only some words are looked for among the vector candidates alone, for the same reason."""
FOCUS_WEIGHT = 1.0
"""Weight of the focused query (question words and pronouns dropped) in the blended search vector."""
EXPANSION_WEIGHT = 0.75
"""Weight of the focused query's expansion with related terms (:mod:`folio_memory.lexicon`), chosen
on the evaluation's tuning set. The expansion costs one more (longer) text in the query's embedding
batch, not another index search."""
EXPANSION_TERMS = 4
"""Related terms taken from each lexicon group the focused query names."""
EXPANSION_IN_FULL_TEXT = True
"""Whether the related terms also count as partial full-text matches among the vector candidates."""
_COLUMNS = """id, content, kind, tags, importance, public, source_client, source_conversation, created_at,
    valid_from, valid_to, superseded_by, supersede_reason, derived_from, consolidated_into,
    last_accessed_at, access_count, reinforced_count, embedding_model"""


class MemoryStore:
    def __init__(self, pool: Pool, embedder: Embedder) -> None:
        self.pool = pool
        self.embedder = embedder
        self.space = VectorSpace.of(embedder)
        self._batcher = EmbeddingBatcher(embedder.embed_documents)

    # ---------------------------------------------------------------- embeddings

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await anyio.to_thread.run_sync(self.embedder.embed_documents, list(texts))

    async def embed_one(self, text: str) -> np.ndarray:
        """The vector of one text; concurrent callers share model calls (see :mod:`.batching`)."""
        return await self._batcher.embed_one(text)

    # --------------------------------------------------------------------- reads

    async def get(self, memory_id: int, *, public_only: bool = False) -> Memory:
        async with self.pool.connection() as conn:
            memory = await self._get(conn, memory_id)
        if memory is None or (public_only and not memory.public):
            raise MemoryNotFoundError(memory_id)
        return memory

    async def _get(self, conn: Connection, memory_id: int, *, lock: bool = False) -> Memory | None:
        query = f"SELECT {_COLUMNS} FROM memory.memories WHERE id = %s" + (" FOR UPDATE" if lock else "")
        row = await (await conn.execute(query, (memory_id,))).fetchone()
        return Memory.of(row) if row else None

    async def current_of(self, memory_id: int) -> int | None:
        """The current memory at the end of ``memory_id``'s supersession chain."""
        async with self.pool.connection() as conn:
            return await self._current_of(conn, memory_id)

    @staticmethod
    async def _current_of(conn: Connection, memory_id: int) -> int | None:
        row = await (
            await conn.execute(
                """WITH RECURSIVE chain AS (
                       SELECT id, superseded_by, valid_to, 0 AS depth FROM memory.memories WHERE id = %s
                       UNION ALL
                       SELECT m.id, m.superseded_by, m.valid_to, c.depth + 1
                       FROM memory.memories m JOIN chain c ON m.id = c.superseded_by WHERE c.depth < 100)
                   SELECT id FROM chain WHERE valid_to IS NULL LIMIT 1""",
                (memory_id,),
            )
        ).fetchone()
        return int(row["id"]) if row else None

    async def similar(
        self, vector: np.ndarray, *, limit: int = SIMILAR_LIMIT, min_similarity: float = SIMILAR_MIN
    ) -> list[SimilarMemory]:
        async with self.pool.connection() as conn:
            return await self._similar(conn, vector, limit=limit, min_similarity=min_similarity)

    async def _similar(
        self, conn: Connection, vector: np.ndarray, *, limit: int, min_similarity: float
    ) -> list[SimilarMemory]:
        await self._ef_search(conn, EF_SEARCH)
        rows = await (
            await conn.execute(self._similar_sql(), {"q": vector, "k": EF_SEARCH, "limit": limit})
        ).fetchall()
        return [
            SimilarMemory(Memory.of(r), float(r["similarity"]))
            for r in rows
            if float(r["similarity"]) >= min_similarity
        ]

    def _similar_sql(self) -> sql.Composed:
        return sql.SQL(
            """SELECT {cols}, 1 - ({dist}) AS similarity FROM (
                   SELECT * FROM memory.memories WHERE {model} ORDER BY {dist} LIMIT %(k)s
               ) m WHERE valid_to IS NULL ORDER BY similarity DESC LIMIT %(limit)s"""
        ).format(cols=sql.SQL(_COLUMNS), dist=self.space.distance(), model=self.space.predicate())

    async def plan_remember(self, content: str, *, with_similar: bool = True) -> RememberPlan:
        """The vector of ``content`` and, when ``with_similar`` (the sampling question needs
        them), its similar memories and the duplicate it would reinforce."""
        vector = await self.embed_one(content)
        if not with_similar:
            return RememberPlan(content, vector, [], None)
        async with self.pool.connection() as conn, conn.pipeline():
            similar, existing = await self._neighbours(conn, content, vector)
        duplicate = next(
            (s.memory.id for s in similar if is_near_duplicate(content, s.memory.content, s.similarity)),
            existing.id if existing else None,
        )
        shown = [s for s in similar if s.memory.id != duplicate][:SIMILAR_LIMIT]
        return RememberPlan(content, vector, shown, duplicate)

    async def _neighbours(
        self, conn: Connection, content: str, vector: np.ndarray
    ) -> tuple[list[SimilarMemory], Memory | None]:
        """The memories similar to ``vector`` and the current memory with ``content``'s hash (in a
        pipeline: one round trip)."""
        await self._ef_search(conn, EF_SEARCH)
        similar = await conn.execute(
            self._similar_sql(), {"q": vector, "k": EF_SEARCH, "limit": SIMILAR_LIMIT + 1}
        )
        same = await conn.execute(
            f"SELECT {_COLUMNS} FROM memory.memories WHERE content_hash = %s AND valid_to IS NULL",
            (content_hash(content),),
        )
        found = [
            SimilarMemory(Memory.of(r), float(r["similarity"]))
            for r in await similar.fetchall()
            if float(r["similarity"]) >= SIMILAR_MIN
        ]
        row = await same.fetchone()
        return found, Memory.of(row) if row else None

    @staticmethod
    async def _lock_duplicates(conn: Connection, contents: Sequence[str]) -> None:
        """Take the duplicate-key locks of ``contents`` (in key order: no deadlock between writers)."""
        keys = sorted({duplicate_key(c) for c in contents})
        await conn.execute(
            """SELECT pg_advisory_xact_lock(hashtext(%s), k)
               FROM (SELECT k FROM unnest(%s::int[]) AS k ORDER BY k) AS keys""",
            (WRITE_LOCK, keys),
        )

    @staticmethod
    async def _ef_search(conn: Connection, value: int) -> None:
        await conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(value),))

    def _recall_sql(self, filters: Filters, exact: bool) -> sql.Composed:
        clauses: list[sql.Composable] = []
        if filters.kind is not None:
            clauses.append(sql.SQL("kind = %(kind)s"))
        if filters.tags:
            clauses.append(sql.SQL("tags && %(tags)s::text[]"))
        if filters.since is not None:
            clauses.append(sql.SQL("created_at >= %(since)s"))
        if filters.public_only:
            clauses.append(sql.SQL("public"))
        where = sql.SQL("").join(sql.SQL(" AND ") + c for c in clauses)
        # ``+ 0`` hides the ordering from the HNSW index: the exact (sequential) nearest neighbours.
        order = sql.SQL("({}) + 0").format(self.space.distance()) if exact else self.space.distance()
        composed = sql.SQL(
            """WITH sem AS (
                   SELECT id, 1 - dist AS closeness, row_number() OVER (ORDER BY dist, id) AS r FROM (
                       SELECT id, {dist} AS dist FROM memory.memories
                       WHERE {model}{where} ORDER BY {order} LIMIT %(k)s
                   ) s
               ), words AS (
                   SELECT websearch_to_tsquery('english', %(text)s) AS every,
                          websearch_to_tsquery('english', %(some)s) AS some
               ), fts AS (
                   -- Memories with every word of the query (keyword precision), ranked within a
                   -- bounded pool so the cost stays flat however common the words are.
                   SELECT id, row_number() OVER (ORDER BY rank DESC, id DESC) AS r FROM (
                       SELECT id, ts_rank_cd(tsv, words.every) AS rank FROM (
                           SELECT id, tsv FROM memory.memories, words
                           WHERE tsv @@ words.every{where} LIMIT %(pool)s
                       ) p, words
                   ) f ORDER BY rank DESC, id DESC LIMIT %(k)s
               ), part AS (
                   -- Vector candidates with only some of the focused query's words, by how densely
                   -- they cover them: a lift for a paraphrase that shares a word with its memory.
                   SELECT id, row_number() OVER (ORDER BY rank DESC, id DESC) AS r FROM (
                       SELECT id, ts_rank_cd(m.tsv, words.some) AS rank
                       FROM memory.memories m JOIN sem USING (id), words
                       WHERE m.tsv @@ words.some AND id NOT IN (SELECT id FROM fts)
                   ) f
               )
               SELECT {cols}, sem.r AS sem_rank, coalesce(fts.r, part.r) AS fts_rank,
                      fts.r IS NULL AS fts_partial, 1 - ({mdist}) AS similarity, sem.closeness,
                      1 - ({ndist}) AS near,
                      now() AS now
               FROM sem FULL JOIN fts USING (id) LEFT JOIN part USING (id)
                   JOIN memory.memories m USING (id)"""
        ).format(
            dist=self.space.distance(),
            model=self.space.predicate(),
            where=where,
            order=order,
            cols=sql.SQL(", ").join(sql.SQL("m.") + sql.SQL(c.strip()) for c in _COLUMNS.split(",")),
            mdist=self.space.distance("m", param="asked"),
            ndist=self.space.distance("m", param="near"),
        )
        return composed

    async def recall(
        self,
        query: str,
        limit: int,
        filters: Filters = Filters(),  # noqa: B008 - frozen dataclass
        *,
        include_history: bool = False,
        vector: np.ndarray | None = None,
        exact: bool = False,
        touch: bool = True,
        now: datetime | None = None,
    ) -> list[RecallHit]:
        """Hybrid recall: vector and full-text candidates fused by rank, boosted, best first.

        The vector search uses the query blended with its focused form (:func:`focus_query`) and
        that form's expansion with related terms (:func:`lexicon.expand`); the related terms also
        count as partial full-text matches. The similarity reported with each hit is the memory's
        cosine similarity to the query as asked (or to ``vector`` when one is given).
        """
        focused = focus_query(query)
        expanded = lexicon.expand(focused, per_group=EXPANSION_TERMS)
        vectors = (
            await self._query_vectors(query, focused, expanded)
            if vector is None
            else QueryVectors(vector, vector, vector)
        )
        vector = vectors.asked
        some = lexicon.words(expanded if EXPANSION_IN_FULL_TEXT and expanded else focused)
        k = max(limit * 3, 30)
        params: dict[str, Any] = {
            "q": vectors.search,
            "asked": vectors.asked,
            "near": vectors.near,
            "text": focused,
            "some": " or ".join(dict.fromkeys(some)) or focused,
            "k": k,
            "kind": filters.kind,
            "tags": list(filters.tags),
            "since": filters.since,
            "pool": FTS_POOL,
        }
        async with self.pool.connection() as conn:
            rows = await self._candidates(conn, params, filters, exact, max(EF_SEARCH, k))
            sem_found = sum(1 for r in rows if r["sem_rank"] is not None)
            if filters.any and not exact and sem_found < min(limit, k):
                # A selective filter can leave too few of the index's candidates: search exactly.
                rows = await self._candidates(conn, params, filters, True, max(EF_SEARCH, k))
            memories = {int(r["id"]): (Memory.of(r), float(r["similarity"])) for r in rows}
            successors = await self._successors(
                conn, [m for m, _ in memories.values() if not m.current], vector, filters
            )
            for memory, similarity in successors.values():
                memories.setdefault(memory.id, (memory, similarity))
            candidates = [
                ranking.Candidate(
                    id=int(r["id"]),
                    sem_rank=r["sem_rank"],
                    fts_rank=r["fts_rank"],
                    fts_partial=bool(r["fts_partial"]),
                    importance=float(r["importance"]),
                    created_at=r["created_at"],
                    current=r["valid_to"] is None,
                    superseded_by=r["superseded_by"],
                    similarity=max(float(r["similarity"]), float(r["near"]), float(r["closeness"] or 0.0)),
                )
                for r in rows
            ]
            successor_candidates = {
                old_id: _as_candidate(memory, similarity)
                for old_id, (memory, similarity) in successors.items()
            }
            folded = ranking.fold_into_successors(candidates, successor_candidates)
            reference_time = now or (rows[0]["now"] if rows else await self._now(conn))
            ranked = ranking.rank(folded, now=reference_time, include_history=include_history)[:limit]
            hits = [RecallHit(memories[r.id][0], r.score, memories[r.id][1]) for r in ranked]
            if touch and hits:
                # Access bookkeeping need not wait for the disk: the CTE makes this statement's own
                # transaction commit with synchronous_commit off.
                await conn.execute(
                    """WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
                       UPDATE memory.memories SET last_accessed_at = now(), access_count = access_count + 1
                       WHERE id = ANY(%s) AND EXISTS (SELECT 1 FROM relaxed)""",
                    ([h.memory.id for h in hits],),
                )
        return hits

    async def _query_vectors(self, query: str, focused: str, expanded: str) -> QueryVectors:
        """The query's vectors, its three forms embedded in one batch (see :class:`QueryVectors`).

        All vectors have unit length, so a weighted sum ranks memories by the weighted sum of their
        similarities to each form, and one index search serves all of them.
        """
        texts, weights = [query], [1.0]
        if focused != query.strip():
            texts, weights = [*texts, focused], [*weights, FOCUS_WEIGHT]
        near_forms = len(texts)
        if expanded:
            texts, weights = [*texts, expanded], [*weights, EXPANSION_WEIGHT]

        def embed() -> QueryVectors:
            vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
            weighted = np.asarray(weights, dtype=np.float32)[:, None] * vectors
            return QueryVectors(
                vectors[0],
                l2_normalize(weighted[:near_forms].sum(axis=0)),
                l2_normalize(weighted.sum(axis=0)),
            )

        return await anyio.to_thread.run_sync(embed)

    async def _successors(
        self, conn: Connection, superseded: list[Memory], vector: np.ndarray, filters: Filters
    ) -> dict[int, tuple[Memory, float]]:
        """For each superseded memory, the current memory at the end of its chain (if it passes the filters)."""
        if not superseded:
            return {}
        rows = await (
            await conn.execute(
                sql.SQL(
                    """WITH RECURSIVE chain AS (
                           SELECT id AS origin, superseded_by AS next, 0 AS depth
                           FROM memory.memories WHERE id = ANY(%(ids)s)
                           UNION ALL
                           SELECT c.origin, m.superseded_by, c.depth + 1
                           FROM chain c JOIN memory.memories m ON m.id = c.next
                           WHERE m.valid_to IS NOT NULL AND c.depth < 100
                       )
                       SELECT DISTINCT ON (c.origin) c.origin, {cols}, 1 - ({mdist}) AS similarity
                       FROM chain c JOIN memory.memories m ON m.id = c.next
                       WHERE m.valid_to IS NULL ORDER BY c.origin"""
                ).format(
                    cols=sql.SQL(", ").join(sql.SQL("m.") + sql.SQL(c.strip()) for c in _COLUMNS.split(",")),
                    mdist=self.space.distance("m"),
                ),
                {"ids": [m.id for m in superseded], "q": vector},
            )
        ).fetchall()
        found: dict[int, tuple[Memory, float]] = {}
        for row in rows:
            memory = Memory.of(row)
            if filters.kind is not None and memory.kind != filters.kind:
                continue
            if filters.tags and not set(filters.tags) & set(memory.tags):
                continue
            if filters.since is not None and memory.created_at < filters.since:
                continue
            if filters.public_only and not memory.public:
                continue
            found[int(row["origin"])] = (memory, float(row["similarity"]))
        return found

    async def _candidates(
        self, conn: Connection, params: dict[str, Any], filters: Filters, exact: bool, ef_search: int
    ) -> list[dict[str, Any]]:
        """The recall statement, sent in one round trip together with its ``hnsw.ef_search``."""
        async with conn.pipeline():
            await conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
            cursor = await conn.execute(self._recall_sql(filters, exact), params)
        return await cursor.fetchall()

    @staticmethod
    async def _now(conn: Connection) -> datetime:
        row = await (await conn.execute("SELECT now() AS now")).fetchone()
        assert row is not None
        now: datetime = row["now"]
        return now

    async def recent(self, limit: int, *, public_only: bool) -> list[Memory]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""SELECT {_COLUMNS} FROM memory.memories
                        WHERE valid_to IS NULL AND (public OR NOT %s)
                        ORDER BY created_at DESC, id DESC LIMIT %s""",
                    (public_only, limit),
                )
            ).fetchall()
        return [Memory.of(r) for r in rows]

    async def current_by_kinds(self, kinds: Sequence[str], limit: int, *, public_only: bool) -> list[Memory]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""SELECT {_COLUMNS} FROM memory.memories
                        WHERE valid_to IS NULL AND kind = ANY(%s) AND (public OR NOT %s)
                        ORDER BY importance DESC, created_at DESC LIMIT %s""",
                    (list(kinds), public_only, limit),
                )
            ).fetchall()
        return [Memory.of(r) for r in rows]

    async def stats(self, *, public_only: bool) -> Stats:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    """SELECT count(*) FILTER (WHERE valid_to IS NULL) AS current,
                              count(*) FILTER (WHERE valid_to IS NOT NULL) AS superseded,
                              count(*) FILTER (WHERE public AND valid_to IS NULL) AS public,
                              max(created_at) AS newest, min(created_at) AS oldest
                       FROM memory.memories WHERE public OR NOT %s""",
                    (public_only,),
                )
            ).fetchone()
            kinds = await (
                await conn.execute(
                    """SELECT kind, count(*) AS n FROM memory.memories
                       WHERE valid_to IS NULL AND (public OR NOT %s) GROUP BY kind ORDER BY kind""",
                    (public_only,),
                )
            ).fetchall()
            tags = await (
                await conn.execute(
                    """SELECT tag, count(*) AS n FROM memory.memories, unnest(tags) AS tag
                       WHERE valid_to IS NULL AND (public OR NOT %s)
                       GROUP BY tag ORDER BY n DESC, tag LIMIT 20""",
                    (public_only,),
                )
            ).fetchall()
            graph = await (
                await conn.execute(
                    """SELECT (SELECT count(*) FROM memory.entities) AS entities,
                              (SELECT count(*) FROM memory.relations) AS relations,
                              (SELECT count(*) FROM memory.observations) AS observations,
                              (SELECT count(*) FROM memory.audit WHERE action = 'forget') AS forgotten"""
                )
            ).fetchone()
        assert row is not None and graph is not None
        hidden = public_only  # a visitor sees counts of public memories only, nothing about the rest
        return Stats(
            current=int(row["current"]),
            superseded=int(row["superseded"]),
            by_kind={r["kind"]: int(r["n"]) for r in kinds},
            public=int(row["public"]),
            forgotten=0 if hidden else int(graph["forgotten"]),
            entities=0 if hidden else int(graph["entities"]),
            relations=0 if hidden else int(graph["relations"]),
            observations=0 if hidden else int(graph["observations"]),
            embedder=self.embedder.name,
            newest=row["newest"],
            oldest=row["oldest"],
            tags={r["tag"]: int(r["n"]) for r in tags},
        )

    # -------------------------------------------------------------------- writes

    async def remember(
        self,
        content: str,
        *,
        kind: str,
        tags: Sequence[str] = (),
        importance: float = 0.5,
        public: bool = False,
        client: str | None = None,
        conversation: str | None = None,
        derived_from: Sequence[int] = (),
        vector: np.ndarray | None = None,
    ) -> RememberOutcome:
        """Store a memory, or reinforce the near-duplicate that already exists."""
        if vector is None:
            vector = await self.embed_one(content)
        digest = content_hash(content)
        async with self.pool.connection() as conn, conn.pipeline(), conn.transaction():
            # Round trip 1: the lock, the existence check of the sources, the duplicate candidates.
            await self._lock_duplicates(conn, [content])
            sources = (
                await conn.execute("SELECT id FROM memory.memories WHERE id = ANY(%s)", (list(derived_from),))
                if derived_from
                else None
            )
            similar, existing = await self._neighbours(conn, content, vector)
            if sources is not None:
                missing = sorted(set(derived_from) - {int(r["id"]) for r in await sources.fetchall()})
                if missing:
                    raise MemoryNotFoundError(missing[0])
            duplicate = next(
                (s.memory for s in similar if is_near_duplicate(content, s.memory.content, s.similarity)),
                existing,
            )
            if duplicate is not None:
                row = await (
                    await conn.execute(
                        f"""UPDATE memory.memories
                            SET reinforced_count = reinforced_count + 1,
                                importance = greatest(importance, %s),
                                tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || %s::text[]) AS t ORDER BY t),
                                public = public OR %s,
                                last_accessed_at = now()
                            WHERE id = %s RETURNING {_COLUMNS}""",
                        (importance, list(tags), public, duplicate.id),
                    )
                ).fetchone()
                assert row is not None  # the lock keeps a concurrent forget of the duplicate out
                await self._audit(conn, "reinforce", duplicate.id, None, client, None)
                await notify_many(conn, [RECENT, STATS, memory_uri(duplicate.id)])
                others = [s for s in similar if s.memory.id != duplicate.id][:SIMILAR_LIMIT]
                return RememberOutcome(Memory.of(row), False, others)
            # Round trip 2: the insert; 3: the links, the audit row, the notifications and COMMIT.
            row = await (
                await conn.execute(
                    f"""INSERT INTO memory.memories (content, content_hash, kind, tags, importance, public,
                            source_client, source_conversation, embedding, embedding_model, derived_from)
                        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                        RETURNING {_COLUMNS}""",
                    (
                        content,
                        digest,
                        kind,
                        list(tags),
                        importance,
                        public,
                        client,
                        conversation,
                        vector,
                        self.embedder.name,
                        list(derived_from),
                    ),
                )
            ).fetchone()
            assert row is not None
            memory = Memory.of(row)
            uris = [RECENT, STATS, memory_uri(memory.id)]
            if derived_from:
                await conn.execute(
                    """UPDATE memory.memories SET consolidated_into = %s
                       WHERE id = ANY(%s) AND kind = 'event'""",
                    (memory.id, list(derived_from)),
                )
                for source in derived_from:
                    await self._audit(conn, "consolidate", source, memory.id, client, None)
                uris += [memory_uri(s) for s in derived_from]
            await self._audit(conn, "remember", memory.id, None, client, None)
            await notify_many(conn, uris)
        log.info("memory stored", id=memory.id, kind=kind)
        return RememberOutcome(memory, True, similar[:SIMILAR_LIMIT])

    async def supersede(self, old_id: int, new_id: int, *, reason: str, client: str | None) -> Memory | None:
        """Mark ``old_id`` as replaced by ``new_id`` (if it is still current); return the old memory."""
        if old_id == new_id:
            return None
        async with self.pool.connection() as conn, conn.transaction():
            old = await self._get(conn, old_id, lock=True)
            new = await self._get(conn, new_id)
            if old is None or new is None or not old.current or not new.current:
                return None
            row = await (
                await conn.execute(
                    f"""UPDATE memory.memories
                        SET valid_to = greatest(now(), valid_from), superseded_by = %s, supersede_reason = %s
                        WHERE id = %s RETURNING {_COLUMNS}""",
                    (new_id, reason, old_id),
                )
            ).fetchone()
            assert row is not None
            await self._audit(conn, "supersede", old_id, new_id, client, reason)
            await notify_many(conn, [RECENT, STATS, memory_uri(old_id), memory_uri(new_id)])
        return Memory.of(row)

    async def update(
        self, memory_id: int, content: str, *, reason: str, client: str | None
    ) -> tuple[Memory, RememberOutcome]:
        """Store ``content`` as a new memory that supersedes ``memory_id``; return (old, outcome)."""
        old = await self.get(memory_id)
        if not old.current:
            raise AlreadySupersededError(memory_id, await self.current_of(memory_id))
        if content_hash(content) == content_hash(old.content):
            raise InvalidInputError(
                f"the new content is the same as memory {memory_id}'s; nothing to update "
                "(to strengthen it, call memory_remember with the same text)"
            )
        vector = await self.embed_one(content)
        async with self.pool.connection() as conn, conn.transaction():
            await self._lock_duplicates(conn, [content])
            locked = await self._get(conn, memory_id, lock=True)
            if locked is None:
                raise MemoryNotFoundError(memory_id)
            if not locked.current:
                raise AlreadySupersededError(memory_id, await self._current_of(conn, memory_id))
            similar = await self._similar(conn, vector, limit=SIMILAR_LIMIT + 1, min_similarity=SIMILAR_MIN)
            duplicate = next(
                (
                    s.memory
                    for s in similar
                    if s.memory.id != memory_id and is_near_duplicate(content, s.memory.content, s.similarity)
                ),
                None,
            )
            if duplicate is None:
                row = await (
                    await conn.execute(
                        f"""INSERT INTO memory.memories (content, content_hash, kind, tags, importance, public,
                                source_client, embedding, embedding_model)
                            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
                        (
                            content,
                            content_hash(content),
                            locked.kind,
                            locked.tags,
                            locked.importance,
                            locked.public,
                            client,
                            vector,
                            self.embedder.name,
                        ),
                    )
                ).fetchone()
                created = True
            else:
                row = await (
                    await conn.execute(
                        f"""UPDATE memory.memories SET reinforced_count = reinforced_count + 1
                            WHERE id = %s RETURNING {_COLUMNS}""",
                        (duplicate.id,),
                    )
                ).fetchone()
                created = False
            assert row is not None
            new = Memory.of(row)
            old_row = await (
                await conn.execute(
                    f"""UPDATE memory.memories
                        SET valid_to = greatest(now(), valid_from), superseded_by = %s, supersede_reason = %s
                        WHERE id = %s RETURNING {_COLUMNS}""",
                    (new.id, reason, memory_id),
                )
            ).fetchone()
            assert old_row is not None
            await self._audit(conn, "update", new.id, memory_id, client, reason)
            await notify_many(conn, [RECENT, STATS, memory_uri(memory_id), memory_uri(new.id)])
        others = [s for s in similar if s.memory.id not in (memory_id, new.id)][:SIMILAR_LIMIT]
        return Memory.of(old_row), RememberOutcome(new, created, others)

    async def forget_targets(self, *, memory_id: int | None, query: str | None) -> list[Memory]:
        """What forgetting would delete: the memory (or the query's close matches) with its history."""
        if memory_id is not None:
            roots = [(await self.get(memory_id)).id]
        else:
            assert query is not None
            hits = await self.recall(query, 10, touch=False)
            roots = [h.memory.id for h in hits if h.similarity >= FORGET_MIN_SIMILARITY]
            if not roots:
                return []
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""WITH RECURSIVE chain AS (
                            SELECT id FROM memory.memories WHERE id = ANY(%s)
                            UNION
                            SELECT m.id FROM memory.memories m JOIN chain c ON m.superseded_by = c.id
                        )
                        SELECT {_COLUMNS} FROM memory.memories WHERE id IN (SELECT id FROM chain)
                        ORDER BY id""",
                    (roots,),
                )
            ).fetchall()
        return [Memory.of(r) for r in rows]

    async def forget(self, ids: Sequence[int], *, client: str | None, confirmed_by: str) -> list[Memory]:
        """Delete the memories for real; keep audit rows without content.

        The rows go with their vectors and text-search entries, the audit notes that could quote
        them are cleared, and then the tables are vacuumed at once (outside the transaction), so
        no row version holding the text is left in the tables or their indexes — not only
        unreachable by queries, but gone from the stored rows. (The freed bytes are overwritten as
        PostgreSQL reuses the space; a row version that a transaction still open elsewhere can see
        stays until that transaction ends and the next vacuum.)
        """
        async with self.pool.connection() as conn:
            async with conn.transaction():
                contents = await (
                    await conn.execute("SELECT content FROM memory.memories WHERE id = ANY(%s)", (list(ids),))
                ).fetchall()
                # The duplicate keys of what goes: a concurrent remember cannot reinforce it meanwhile.
                await self._lock_duplicates(conn, [r["content"] for r in contents])
                rows = await (
                    await conn.execute(
                        f"DELETE FROM memory.memories WHERE id = ANY(%s) RETURNING {_COLUMNS}", (list(ids),)
                    )
                ).fetchall()
                gone = [Memory.of(r) for r in rows]
                deleted = [m.id for m in gone]
                # Audit notes may quote the content (an update's reason): clear them.
                await conn.execute(
                    "UPDATE memory.audit SET note = NULL WHERE (memory_id = ANY(%s) OR related_id = ANY(%s)) "
                    "AND note IS NOT NULL",
                    (deleted, deleted),
                )
                for memory in gone:
                    await self._audit(
                        conn,
                        "forget",
                        memory.id,
                        None,
                        client,
                        f"kind={memory.kind}; created={memory.created_at.isoformat()}; confirmed by {confirmed_by}",
                    )
                await notify_many(conn, [RECENT, STATS, *[memory_uri(i) for i in deleted]])
            if gone:
                await self._vacuum(conn)
        log.info("memories forgotten", count=len(gone))
        return gone

    @staticmethod
    async def _vacuum(conn: Connection) -> None:
        """Vacuum the tables a forget changed, indexes included (a vacuum may otherwise skip the
        indexes when few rows died). Runs on an autocommit connection, outside any transaction."""
        await conn.execute(
            sql.SQL("VACUUM (INDEX_CLEANUP ON) {}").format(sql.SQL(", ").join(sql.SQL(t) for t in VACUUMED))
        )

    async def event_candidates(self, topic: str | None, limit: int = 200) -> list[tuple[Memory, np.ndarray]]:
        """Current, not yet consolidated event memories (closest to ``topic`` when given)."""
        params: dict[str, Any] = {"limit": limit}
        order: sql.Composable
        topic_filter: sql.Composable
        if topic:
            params["q"] = await self.embed_one(topic)
            order = sql.SQL("ORDER BY {} LIMIT %(limit)s").format(self.space.distance())
            topic_filter = sql.SQL(" AND 1 - ({}) >= 0.3").format(self.space.distance())
        else:
            order = sql.SQL("ORDER BY created_at DESC LIMIT %(limit)s")
            topic_filter = sql.SQL("")
        query = sql.SQL(
            """SELECT {cols}, embedding FROM memory.memories
               WHERE valid_to IS NULL AND kind = 'event' AND consolidated_into IS NULL AND {model}{topic}
               {order}"""
        ).format(cols=sql.SQL(_COLUMNS), model=self.space.predicate(), topic=topic_filter, order=order)
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return [(Memory.of(r), r["embedding"].to_numpy().astype(np.float32)) for r in rows]

    async def reembed(self, batch: int = 64) -> int:
        """Re-embed every memory and graph text with the configured embedder; return how many rows."""
        from folio_memory.vectors import ensure_vector_indexes, set_embedder

        total = 0
        for table, text in (
            ("memories", "content"),
            ("observations", "content"),
            ("entities", "name || ' (' || entity_type || ')'"),
        ):
            key = "name" if table == "entities" else "id"
            async with self.pool.connection() as conn:
                rows = await (
                    await conn.execute(
                        f"SELECT {key} AS key, {text} AS text FROM memory.{table} WHERE embedding_model <> %s",
                        (self.embedder.name,),
                    )
                ).fetchall()
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                vectors = await self.embed([r["text"] for r in chunk])
                async with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                    await cur.executemany(
                        f"UPDATE memory.{table} SET embedding = %s, embedding_model = %s WHERE {key} = %s",
                        [(v, self.embedder.name, r["key"]) for r, v in zip(chunk, vectors, strict=True)],
                    )
            total += len(rows)
        async with self.pool.connection() as conn:
            async with conn.transaction():
                await set_embedder(conn, self.embedder.name, self.embedder.dim)
            await ensure_vector_indexes(conn, self.space)
        return total

    # ------------------------------------------------------------------- helpers

    @staticmethod
    async def _audit(
        conn: Connection,
        action: str,
        memory_id: int,
        related_id: int | None,
        client: str | None,
        note: str | None,
    ) -> None:
        await conn.execute(
            "INSERT INTO memory.audit (action, memory_id, related_id, client, note) VALUES (%s, %s, %s, %s, %s)",
            (action, memory_id, related_id, client, note),
        )


def _as_candidate(memory: Memory, similarity: float) -> ranking.Candidate:
    return ranking.Candidate(
        id=memory.id,
        sem_rank=None,
        fts_rank=None,
        importance=memory.importance,
        created_at=memory.created_at,
        current=memory.current,
        superseded_by=memory.superseded_by,
        similarity=similarity,
    )


class QueryVectors(NamedTuple):
    """A recall query's vectors, each of unit length.

    ``asked``: the query as given (the similarity each hit reports, and the forget threshold).
    ``near``: the query blended with its focused form, what the similarity floor is judged against
    together with ``asked`` and ``search`` (related terms a memory does not share must not push it
    under the floor). ``search``: the query blended with its focused form and its expansion, the
    vector the index is searched with.
    """

    asked: np.ndarray
    near: np.ndarray
    search: np.ndarray
