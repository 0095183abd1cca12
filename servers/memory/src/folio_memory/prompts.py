"""The memory server's prompts, built from stored memories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from folio_memory.records import Memory, RecallHit


def _line(memory: Memory, *, score: float | None = None, visitor: bool = False) -> str:
    """One memory; for a visitor without provenance (how often it was confirmed, what replaced it)."""
    status = (
        "current"
        if memory.current
        else f"SUPERSEDED by #{memory.superseded_by}"
        if memory.superseded_by and not visitor
        else "SUPERSEDED"
    )
    details = [
        memory.kind,
        f"importance {memory.importance:.1f}",
        f"stored {memory.created_at:%Y-%m-%d}",
        status,
    ]
    if memory.reinforced_count and not visitor:
        details.append(f"confirmed {memory.reinforced_count + 1}×")
    if score is not None:
        details.append(f"relevance {score:.2f}")
    return f"- #{memory.id} ({', '.join(details)}): {memory.content}"


def reflect(topic: str, hits: Sequence[RecallHit], *, visitor: bool = False) -> str:
    if not hits:
        listing = "(nothing stored matches this topic)"
    else:
        listing = "\n".join(_line(h.memory, score=h.score, visitor=visitor) for h in hits)
    return f"""Reflect on what you remember about: {topic}

These are the stored memories closest to the topic, most relevant first. Superseded ones are
history: they were true once and have been replaced.

{listing}

Answer in two parts:
1. What I know: the current, well-supported facts about "{topic}", citing memory ids (#id).
2. What is uncertain: contradictions, facts that changed over time, old or low-importance
   memories, things stated only once, and obvious gaps worth asking the user about.
Do not invent anything that is not in the memories above."""


def profile_facts(memories: Sequence[Memory], *, visitor: bool = False) -> str:
    if not memories:
        listing = "(no facts or preferences are stored yet)"
    else:
        listing = "\n".join(_line(m, visitor=visitor) for m in memories)
    return f"""Here is what is known about the user: their stored facts and preferences (current
versions only), most important first.

{listing}

Use these to personalise your help. When something here looks outdated or the user says
otherwise, store the new information with memory_update (it keeps the old version as history)."""
