"""Hybrid ranking of recall candidates: reciprocal rank fusion of the vector and full-text lists,
with importance and recency as boosts, and history kept behind what replaced it.

Pure functions over plain data, so the rules are unit-tested without a database.

* **Fusion.** ``w_sem / (k + rank_sem) + w_fts / (k + rank_fts)`` (k = 60, the usual RRF constant),
  normalised so that first place in both lists gives 1.0. A full-text match that has only some of
  the query's words counts :data:`PARTIAL_FACTOR` of a match with all of them: it lifts a memory a
  few places within the vector list, it does not bring up a far-off one on one shared word.
* **Floor.** A memory found only by the vector search is listed from :data:`MIN_SEMANTIC_SIMILARITY`
  on: low enough that a paraphrase sharing no word with its memory still fills the list, high
  enough to leave out pure noise.
* **Boosts.** ``× (1 + 0.2·(importance − 0.5) + 0.1·recency)``, recency halving every 90 days since
  the memory was created, then scaled back into [0, 1]. They reorder near ties, never a clear
  relevance gap.
* **History.** A superseded memory's ranks count for its current successor (a question worded like
  the old fact finds the new one). With ``include_history`` the old version is listed too, at half
  its score and never above its successor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

RRF_K = 60
SEMANTIC_WEIGHT = 1.0
FULL_TEXT_WEIGHT = 0.5
IMPORTANCE_WEIGHT = 0.2
RECENCY_WEIGHT = 0.1
RECENCY_HALF_LIFE_DAYS = 90.0
HISTORY_FACTOR = 0.5
PARTIAL_FACTOR = 0.25
"""Weight of a full-text match with only some of the query's words, relative to one with all."""
MIN_SEMANTIC_SIMILARITY = 0.1
"""A candidate found only by the vector search needs at least this cosine similarity to be listed
(the nearest neighbours of an unrelated query are not answers). With all-MiniLM-L6-v2, memories
that answer a paraphrased question score down to about 0.1, while unrelated sentences score
around 0 to 0.1; a floor of 0.2 left lists shorter than asked although the answer was stored."""
_MAX_BOOST = 1 + IMPORTANCE_WEIGHT * 0.5 + RECENCY_WEIGHT


@dataclass(frozen=True)
class Candidate:
    id: int
    sem_rank: int | None
    fts_rank: int | None
    importance: float
    created_at: datetime
    current: bool
    superseded_by: int | None = None
    similarity: float = 1.0
    """The highest of the memory's cosine similarities to the query as asked, to the query blended
    with its focused form, and to the search vector (which adds the expansion with related terms)."""
    fts_partial: bool = False
    """The full-text match has only some of the query's words."""


@dataclass(frozen=True)
class Ranked:
    id: int
    score: float
    relevance: float
    current: bool


def rrf(sem_rank: int | None, fts_rank: int | None, *, partial: bool = False) -> float:
    """Reciprocal rank fusion of 1-based ranks, 1.0 for first in both lists, 0 for absent from both.

    ``partial``: the full-text match has only some of the query's words (weighted by PARTIAL_FACTOR).
    """
    total = 0.0
    if sem_rank is not None:
        total += SEMANTIC_WEIGHT / (RRF_K + sem_rank)
    if fts_rank is not None:
        total += FULL_TEXT_WEIGHT * (PARTIAL_FACTOR if partial else 1.0) / (RRF_K + fts_rank)
    return total / ((SEMANTIC_WEIGHT + FULL_TEXT_WEIGHT) / (RRF_K + 1))


def recency(created_at: datetime, now: datetime) -> float:
    """1.0 for a memory made now, halving every :data:`RECENCY_HALF_LIFE_DAYS` days."""
    age_days = max(0.0, (now - created_at).total_seconds() / 86_400)
    return math.pow(0.5, age_days / RECENCY_HALF_LIFE_DAYS)


def boost(importance: float, created_at: datetime, now: datetime) -> float:
    """The multiplier for importance and recency, in (0, 1] (1.0: importance 1, made just now)."""
    factor = 1 + IMPORTANCE_WEIGHT * (importance - 0.5) + RECENCY_WEIGHT * recency(created_at, now)
    return factor / _MAX_BOOST


def _best(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def fold_into_successors(
    candidates: Iterable[Candidate], successors: Mapping[int, Candidate]
) -> list[Candidate]:
    """Give each current successor the best ranks of the superseded versions it replaced.

    ``successors`` maps a superseded candidate's id to the *current* memory at the end of its chain.
    Superseded candidates stay in the list (callers drop them unless history is wanted).
    """
    merged: dict[int, Candidate] = {}
    for cand in candidates:
        merged[cand.id] = _merge(merged.get(cand.id), cand)
    for cand in list(merged.values()):
        if cand.current:
            continue
        successor = successors.get(cand.id)
        if successor is None:
            continue
        base = merged.get(successor.id, replace(successor, sem_rank=None, fts_rank=None))
        merged[successor.id] = replace(
            base,
            sem_rank=_best(base.sem_rank, cand.sem_rank),
            fts_rank=_best(base.fts_rank, cand.fts_rank),
            similarity=max(base.similarity, cand.similarity),
        )
    return list(merged.values())


def _merge(old: Candidate | None, new: Candidate) -> Candidate:
    if old is None:
        return new
    return replace(
        old, sem_rank=_best(old.sem_rank, new.sem_rank), fts_rank=_best(old.fts_rank, new.fts_rank)
    )


def rank(candidates: Iterable[Candidate], *, now: datetime, include_history: bool) -> list[Ranked]:
    """Score and order candidates, best first; superseded ones only with ``include_history``."""
    scored: list[tuple[Ranked, Candidate]] = []
    for cand in candidates:
        if not cand.current and not include_history:
            continue
        relevance = rrf(cand.sem_rank, cand.fts_rank, partial=cand.fts_partial)
        if relevance <= 0 or (cand.fts_rank is None and cand.similarity < MIN_SEMANTIC_SIMILARITY):
            continue
        score = relevance * boost(cand.importance, cand.created_at, now)
        if not cand.current:
            score *= HISTORY_FACTOR
        scored.append((Ranked(cand.id, round(score, 4), round(relevance, 4), cand.current), cand))
    scored.sort(key=lambda pair: (-pair[0].score, -pair[1].created_at.timestamp(), -pair[0].id))
    return _history_after_successors([r for r, _ in scored], {c.id: c.superseded_by for _, c in scored})


def _history_after_successors(ranked: list[Ranked], superseded_by: Mapping[int, int | None]) -> list[Ranked]:
    """Move every superseded memory that precedes its successor to just after it."""
    order = list(ranked)
    changed = True
    while changed:
        changed = False
        position = {r.id: i for i, r in enumerate(order)}
        for i, item in enumerate(order):
            successor = superseded_by.get(item.id)
            if successor is None or successor not in position or position[successor] < i:
                continue
            moved = order.pop(i)
            order.insert(position[successor], moved)  # the successor shifted one place left
            changed = True
            break
    return order
