"""Recall quality on the persona evaluation set (real model, real PostgreSQL): recall@5 over
paraphrased questions, with distractors stored alongside and some facts updated; the current
version of an updated fact must outrank the superseded one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from folio_core.db import apply_migrations, open_pool, package_migrations
from folio_core.db.pool import Pool
from folio_core.embeddings import Embedder, make_embedder
from folio_memory.store import MemoryStore
from folio_memory.vectors import VectorSpace, claim_embedder, ensure_vector_indexes

from .eval_persona import DISTRACTORS, MEMORIES, QUESTIONS, UPDATES

pytestmark = pytest.mark.anyio

RECALL_AT_5_MIN = 0.85  # measured 0.89 (25/28) with all-MiniLM-L6-v2; the misses are the model's


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("local")


@pytest.fixture
async def store(database_url: str, embedder: Embedder) -> AsyncIterator[MemoryStore]:
    pool: Pool = await open_pool(database_url)
    async with pool.connection() as conn:
        await apply_migrations(conn, "folio_memory", package_migrations("folio_memory"))
        await claim_embedder(conn, embedder)
        await ensure_vector_indexes(conn, VectorSpace.of(embedder))
    yield MemoryStore(pool, embedder)
    await pool.close()


async def load_persona(store: MemoryStore) -> tuple[dict[str, int], dict[str, int]]:
    """Store the persona; return key → current id, and key → superseded id for updated facts."""
    ids: dict[str, int] = {}
    for key, (kind, content) in MEMORIES.items():
        ids[key] = (await store.remember(content, kind=kind)).memory.id
    for kind, content in DISTRACTORS:
        await store.remember(content, kind=kind)
    old: dict[str, int] = {}
    for key, (content, reason) in UPDATES.items():
        previous, outcome = await store.update(ids[key], content, reason=reason, client="eval")
        old[key], ids[key] = previous.id, outcome.memory.id
    return ids, old


async def test_recall_at_5_on_paraphrased_questions(store: MemoryStore, tmp_path: Path) -> None:
    ids, _ = await load_persona(store)
    found, misses = 0, []
    for question, key in QUESTIONS:
        hits = await store.recall(question, 5)
        top = [h.memory.id for h in hits]
        assert all(h.memory.current for h in hits), "superseded memories only with include_history"
        if ids[key] in top:
            found += 1
        else:
            misses.append((question, key, [h.memory.content[:50] for h in hits[:3]]))
    recall_at_5 = found / len(QUESTIONS)
    report = {"recall_at_5": round(recall_at_5, 3), "questions": len(QUESTIONS), "misses": misses}
    print(json.dumps(report, indent=2))
    assert recall_at_5 >= RECALL_AT_5_MIN, report


async def test_current_fact_outranks_the_superseded_one_with_history(store: MemoryStore) -> None:
    ids, old = await load_persona(store)
    for question, key in QUESTIONS:
        if key not in UPDATES:
            continue
        hits = await store.recall(question, 10, include_history=True)
        order = [h.memory.id for h in hits]
        assert ids[key] in order, (question, [h.memory.content for h in hits])
        if old[key] in order:
            assert order.index(ids[key]) < order.index(old[key]), question
            superseded = hits[order.index(old[key])]
            assert not superseded.memory.current and superseded.memory.superseded_by == ids[key]


async def test_a_question_worded_like_the_old_fact_finds_the_new_one(store: MemoryStore) -> None:
    ids, _ = await load_persona(store)
    hits = await store.recall("Alfama neighbourhood in Lisbon", 3)
    assert hits and hits[0].memory.id == ids["city"]
    assert "Berlin" in hits[0].memory.content
