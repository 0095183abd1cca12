"""Recall quality on the persona evaluation set (real model, real PostgreSQL): recall@5 over
paraphrased questions, with distractors stored alongside and some facts updated; the current
version of an updated fact must outrank the superseded one.

Measured with all-MiniLM-L6-v2 (the set sizes make one question 2.1 to 3.6 points). "Focused":
the query also searched without question words and pronouns, partial full-text matches, floor 0.1.
"Expanded": the focused query also searched with related terms from the lexicon
(:mod:`folio_memory.lexicon`, weights chosen on the tuning set only).

| set | raw query, AND full text, floor 0.2 | focused | focused + expanded |
|---|---|---|---|
| ``QUESTIONS`` (original) | 0.893 (25/28) | 0.929 (26/28) | 0.929 (26/28) |
| ``TUNING_QUESTIONS`` (tuned on) | 0.902 (37/41) | 0.951 (39/41) | 0.976 (40/41) |
| ``HARD_QUESTIONS`` (held out) | 0.795 (35/44), 6 lists short | 0.886 (39/44) | 0.932 (41/44) |
| ``HELDOUT_2`` (held out, written after the lexicon was frozen) | – | 0.854 (41/48) | 0.896 (43/48) |
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest

from folio_core.db import apply_migrations, open_pool, package_migrations
from folio_core.db.pool import Pool
from folio_core.embeddings import Embedder, make_embedder
from folio_core.settings import FolioSettings
from folio_memory import lexicon
from folio_memory.store import EXPANSION_TERMS, EXPANSION_WEIGHT, MemoryStore
from folio_memory.text import focus_query
from folio_memory.vectors import VectorSpace, claim_embedder, ensure_vector_indexes

from .eval_persona import (
    DISTRACTORS,
    HARD_QUESTIONS,
    HELDOUT_2,
    MEMORIES,
    QUESTIONS,
    TUNING_QUESTIONS,
    UPDATES,
    Question,
)
from .test_server import call, client

pytestmark = pytest.mark.anyio

# Each floor lies just below the recall@5 measured now (see the table above); on the tuning and
# both held-out sets that is above what was measured without query expansion.
RECALL_AT_5_MIN = {"original": 0.92, "tuning": 0.97, "held_out": 0.93, "held_out_2": 0.89}
QUESTION_SETS: dict[str, list[Question]] = {
    "original": QUESTIONS,
    "tuning": TUNING_QUESTIONS,
    "held_out": HARD_QUESTIONS,
    "held_out_2": HELDOUT_2,
}


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


def answers(target: str | tuple[str, ...], ids: dict[str, int]) -> set[int]:
    keys = (target,) if isinstance(target, str) else target
    return {ids[k] for k in keys}


async def evaluate(store: MemoryStore, ids: dict[str, int], questions: list[Question]) -> dict[str, Any]:
    """recall@5, the misses with the top three contents, and the questions answered with a short list."""
    found, misses, short = 0, [], []
    for question, target in questions:
        hits = await store.recall(question, 5, touch=False)
        assert all(h.memory.current for h in hits), "superseded memories only with include_history"
        if answers(target, ids) & {h.memory.id for h in hits}:
            found += 1
        else:
            misses.append((question, target, [h.memory.content[:50] for h in hits[:3]]))
        if len(hits) < 5:
            short.append((question, len(hits)))
    return {
        "recall_at_5": round(found / len(questions), 3),
        "questions": len(questions),
        "misses": misses,
        "short": short,
    }


async def test_recall_at_5_on_paraphrased_questions(store: MemoryStore) -> None:
    ids, _ = await load_persona(store)
    report = {name: await evaluate(store, ids, questions) for name, questions in QUESTION_SETS.items()}
    print(json.dumps(report, indent=2))
    for name, minimum in RECALL_AT_5_MIN.items():
        assert report[name]["recall_at_5"] >= minimum, (name, report[name])


async def test_every_question_gets_as_many_hits_as_it_asks_for(store: MemoryStore) -> None:
    # The store holds far more than five memories, so no list may come back shorter than asked:
    # a paraphrase that shares no word with its answer still gets its nearest memories.
    ids, _ = await load_persona(store)
    short = []
    for name, questions in QUESTION_SETS.items():
        short += [(name, s) for s in (await evaluate(store, ids, questions))["short"]]
    assert short == []


async def test_current_fact_outranks_the_superseded_one_with_history(store: MemoryStore) -> None:
    ids, old = await load_persona(store)
    questions = [q for q in QUESTIONS + TUNING_QUESTIONS + HARD_QUESTIONS + HELDOUT_2 if q[1] in UPDATES]
    assert len(questions) >= 10
    for question, key in questions:
        assert isinstance(key, str)
        hits = await store.recall(question, 10, include_history=True)
        order = [h.memory.id for h in hits]
        if ids[key] not in order:
            continue  # a miss is counted by the recall@5 test; the order is what is checked here
        if old[key] in order:
            assert order.index(ids[key]) < order.index(old[key]), question
            superseded = hits[order.index(old[key])]
            assert not superseded.memory.current and superseded.memory.superseded_by == ids[key]


async def test_updated_facts_are_found_by_their_current_version(store: MemoryStore) -> None:
    ids, _ = await load_persona(store)
    for question, key in QUESTIONS:
        if key not in UPDATES:
            continue
        assert isinstance(key, str)
        hits = await store.recall(question, 10, include_history=True)
        assert ids[key] in [h.memory.id for h in hits], (question, [h.memory.content for h in hits])


async def test_reported_similarity_is_to_the_question_as_asked(
    store: MemoryStore, embedder: Embedder
) -> None:
    # The search vector blends the question with its focused and expanded forms; the similarity a
    # hit reports (and the forget threshold uses) stays the cosine to the question itself.
    await load_persona(store)
    question = "how does she like to communicate?"
    hits = await store.recall(question, 5, touch=False)
    asked = embedder.embed_query(question)
    for hit in hits:
        own = float(embedder.embed_documents([hit.memory.content])[0] @ asked)
        assert hit.similarity == pytest.approx(own, abs=1e-3), hit.memory.content


async def test_the_floor_vector_leaves_the_expansion_out(store: MemoryStore, embedder: Embedder) -> None:
    # "near" (what the similarity floor is judged against, with the question itself) is the question
    # blended with its focused form only, also when the focused form is the question itself.
    for question in ("Upcoming conference trips", "How does she like to communicate?"):
        focused = focus_query(question)
        expanded = lexicon.expand(focused, per_group=EXPANSION_TERMS)
        assert expanded
        vectors = await store._query_vectors(question, focused, expanded)
        forms = embedder.embed_documents([question, focused, expanded])
        near = forms[0] + (forms[1] if focused != question else 0)
        assert float(vectors.near @ (near / np.linalg.norm(near))) == pytest.approx(1.0, abs=1e-5)
        search = near + EXPANSION_WEIGHT * forms[2]
        assert float(vectors.search @ (search / np.linalg.norm(search))) == pytest.approx(1.0, abs=1e-5)
        assert float(vectors.asked @ forms[0]) == pytest.approx(1.0, abs=1e-5)


async def test_a_question_worded_like_the_old_fact_finds_the_new_one(store: MemoryStore) -> None:
    ids, _ = await load_persona(store)
    hits = await store.recall("Alfama neighbourhood in Lisbon", 3)
    assert hits and hits[0].memory.id == ids["city"]
    assert "Berlin" in hits[0].memory.content


async def test_memory_recall_answers_a_third_person_question_with_a_full_list(
    make_settings: Callable[..., FolioSettings],
) -> None:
    # Through the MCP tool, as a client asks it: the answer shares no word with the question, and
    # the list is as long as asked although most memories are only loosely related.
    memories = [
        ("fact", "Maya's daughter Zara was born in 2019 and starts primary school this year."),
        ("fact", "Maya does not own a car; she cycles or takes the tram."),
        ("preference", "Drinks her coffee black, no sugar, usually a double espresso."),
        ("fact", "She works on Western European Time and keeps Fridays free of meetings."),
        ("fact", "Her target salary for the next role is 120,000 euros a year."),
        ("preference", "Listens to jazz, mostly Bill Evans, while coding."),
        ("fact", "Has a grey cat called Pixel who knocks things off the desk during calls."),
    ]
    async with client(make_settings()) as c:
        for kind, content in memories:
            await call(c, "memory_remember", {"content": content, "kind": kind})
        parent = await call(c, "memory_recall", {"query": "Is the owner a parent?", "limit": 5})
    contents = [h["content"] for h in parent["hits"]]
    assert len(contents) == 5
    assert memories[0][1] in contents[:3]


async def test_memory_recall_finds_the_communication_preference_for_a_paraphrase(
    make_settings: Callable[..., FolioSettings],
) -> None:
    # The question from the report: it shares no content word with the memory that answers it.
    answer = "Prefers async written updates over meetings"
    distractors = [
        ("preference", "Her favourite programming language is Go; she finds Java too verbose."),
        ("fact", "Speaks Portuguese and English fluently and is learning Spanish on Duolingo."),
        ("preference", "Listens to jazz, mostly Bill Evans, while coding."),
        ("preference", "Likes science fiction, especially Ursula K. Le Guin and Ted Chiang."),
        ("fact", "Maya lives in Lisbon, in the Alfama neighbourhood."),
        ("preference", "Drinks her coffee black, no sugar, usually a double espresso."),
        ("fact", "Has a grey cat called Pixel who knocks things off the desk during calls."),
        ("fact", "Training for the Lisbon half marathon in March; runs four times a week."),
        ("note", "Slack's huddle feature starts an audio call in a channel."),
        ("preference", "Her favourite dish is mushroom risotto; dislikes coriander."),
    ]
    async with client(make_settings()) as c:
        for kind, content in distractors:
            await call(c, "memory_remember", {"content": content, "kind": kind})
        await call(c, "memory_remember", {"content": answer, "kind": "preference"})
        result = await call(c, "memory_recall", {"query": "how does she like to communicate?", "limit": 5})
    contents = [h["content"] for h in result["hits"]]
    assert len(contents) == 5
    assert answer in contents
