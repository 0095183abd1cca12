"""Turning stored memories into tool results: hits, token budgets, previews.

``visitor=True`` is the public audience's view: the content of public memories, never their
provenance (which client stored them, in which conversation, why they changed, how often the
owner used them) nor the ids of the memories they lead to, which may be private."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from folio_memory.models import ForgottenItem, Hit, RecallResult, Similar
from folio_memory.text import estimate_tokens

if TYPE_CHECKING:
    from folio_memory.records import Memory, RecallHit, SimilarMemory

MIN_TRUNCATED_CHARS = 80


def hit_of(memory: Memory, score: float, *, visitor: bool = False) -> Hit:
    return Hit(
        id=memory.id,
        content=memory.content,
        score=score,
        kind=memory.kind,
        tags=list(memory.tags),
        importance=round(float(memory.importance), 3),
        created=memory.created_at.isoformat(),
        current=memory.current,
        superseded_by=None if visitor else memory.superseded_by,
    )


def similar_of(items: Sequence[SimilarMemory]) -> list[Similar]:
    return [
        Similar(
            id=s.memory.id,
            content=s.memory.content,
            kind=s.memory.kind,
            similarity=round(s.similarity, 3),
            created=s.memory.created_at.isoformat(),
        )
        for s in items
    ]


def forgotten_of(memory: Memory) -> ForgottenItem:
    return ForgottenItem(id=memory.id, kind=memory.kind, created=memory.created_at.isoformat())


def fit_to_budget(
    query: str, hits: Sequence[RecallHit], max_tokens: int | None, *, visitor: bool = False
) -> RecallResult:
    """The recall result, with hits dropped from the end (or the last one shortened) to fit ``max_tokens``."""
    all_hits = [hit_of(h.memory, h.score, visitor=visitor) for h in hits]
    result = RecallResult(query=query, hits=all_hits)
    if max_tokens is None or estimate_tokens(result.model_dump(mode="json")) <= max_tokens:
        return result
    reserve = RecallResult(
        query=query, hits=[], omitted=len(all_hits), note=_note(len(all_hits), len(all_hits))
    )
    used = estimate_tokens(reserve.model_dump(mode="json"))
    kept: list[Hit] = []
    for hit in all_hits:
        cost = estimate_tokens(hit.model_dump(mode="json")) + 1
        if used + cost <= max_tokens:
            kept.append(hit)
            used += cost
            continue
        room_chars = (
            max_tokens
            - used
            - estimate_tokens(hit.model_copy(update={"content": ""}).model_dump(mode="json"))
        ) * 3
        if not kept and room_chars >= MIN_TRUNCATED_CHARS:
            kept.append(
                hit.model_copy(update={"content": hit.content[: room_chars - 1] + "…", "truncated": True})
            )
        break
    omitted = len(all_hits) - len(kept)
    truncated = any(h.truncated for h in kept)
    note = _note(omitted, len(all_hits)) if omitted else None
    if truncated:
        note = (note + " " if note else "") + "The first hit was shortened to fit max_tokens."
    return RecallResult(query=query, hits=kept, omitted=omitted, note=note)


def _note(omitted: int, total: int) -> str:
    return (
        f"{omitted} of {total} hits left out to fit max_tokens (the best ones are kept). "
        "Raise max_tokens, lower limit, or narrow the query with kind/tags/since to see the rest."
    )
