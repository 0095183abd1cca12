"""Grouping related event memories for consolidation, and the prompt that summarises the groups.

Grouping is greedy and deterministic: events are visited oldest first, and each joins the group
whose centroid is most similar to it if that similarity is at least :data:`GROUP_SIMILARITY`,
otherwise it starts a new group. Only groups of two or more events are worth a summary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads on first use: the server answers the handshake without it
    import numpy as np

GROUP_SIMILARITY = 0.55
MAX_GROUPS = 10
MAX_GROUP_SIZE = 12


@dataclass
class _Cluster:
    members: list[int]
    total: np.ndarray

    def centroid(self) -> np.ndarray:
        import numpy as np

        norm = float(np.linalg.norm(self.total))
        return self.total / norm if norm else self.total


def group_events(
    vectors: Sequence[np.ndarray], order: Sequence[float], *, threshold: float = GROUP_SIMILARITY
) -> list[list[int]]:
    """Indices of ``vectors`` grouped by meaning; ``order`` (e.g. timestamps) decides the visit order.

    Returns groups of at least two, largest first, members in visit order, at most
    :data:`MAX_GROUPS` groups of at most :data:`MAX_GROUP_SIZE` members.
    """
    import numpy as np

    clusters: list[_Cluster] = []
    for index in sorted(range(len(vectors)), key=lambda i: (order[i], i)):
        vector = np.asarray(vectors[index], dtype=np.float32)
        best, best_similarity = None, threshold
        for cluster in clusters:
            if len(cluster.members) >= MAX_GROUP_SIZE:
                continue
            similarity = float(cluster.centroid() @ vector)
            if similarity >= best_similarity:
                best, best_similarity = cluster, similarity
        if best is None:
            clusters.append(_Cluster([index], vector.copy()))
        else:
            best.members.append(index)
            best.total = best.total + vector
    groups = [c.members for c in clusters if len(c.members) >= 2]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups[:MAX_GROUPS]


def summary_prompt(groups: Sequence[Sequence[str]], topic: str | None) -> str:
    """Ask for one fact per group, as JSON the server can parse."""
    lines = [
        "Below are groups of related event memories about the user"
        + (f" (topic: {topic})" if topic else "")
        + ". For each group, write ONE short, self-contained fact that summarises what the events "
        "show (a lasting pattern, preference or outcome). Do not invent details.",
        'Answer with JSON only: [{"group": 1, "fact": "..."}, ...]',
        "",
    ]
    for number, members in enumerate(groups, start=1):
        lines.append(f"Group {number}:")
        lines.extend(f"- {text}" for text in members)
        lines.append("")
    return "\n".join(lines)


def parse_summaries(answer: str | None, group_count: int) -> dict[int, str]:
    """Group number (1-based) → fact, from the model's answer; unparseable parts are skipped."""
    if not answer:
        return {}
    match = re.search(r"\[.*\]", answer, re.S)
    if match is None:
        return {}
    try:
        items = json.loads(match.group(0))
    except json.JSONDecodeError:
        return {}
    facts: dict[int, str] = {}
    if not isinstance(items, list):
        return {}
    for item in items:
        if not isinstance(item, dict):
            continue
        number, fact = item.get("group"), item.get("fact")
        if isinstance(number, int) and 1 <= number <= group_count and isinstance(fact, str) and fact.strip():
            facts[number] = fact.strip()[:2000]
    return facts


def supersede_prompt(new: str, candidates: Sequence[tuple[int, str]]) -> str:
    listing = "\n".join(f"[{memory_id}] {text}" for memory_id, text in candidates)
    return (
        "A new memory about the user was just stored:\n"
        f"NEW: {new}\n\n"
        "Existing memories:\n"
        f"{listing}\n\n"
        "Does the NEW memory replace exactly one existing memory because it updates or contradicts it "
        "(the old one is no longer true)? A memory that merely adds detail does not replace anything.\n"
        "Answer with only the number in brackets of the replaced memory, or the word none."
    )


def parse_supersede(answer: str | None, candidate_ids: Sequence[int]) -> int | None:
    """The id the model named, if it is one of the candidates; None for 'none' or anything else."""
    if not answer:
        return None
    text = answer.strip().lower()
    if text.startswith("none"):
        return None
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    named = [n for n in numbers if n in set(candidate_ids)]
    return named[0] if len(set(named)) == 1 else None
