"""Reading the memory file of ``@modelcontextprotocol/server-memory`` (JSON lines).

Each line is ``{"type": "entity", "name", "entityType", "observations"}`` or
``{"type": "relation", "from", "to", "relationType"}``; blank lines are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from folio_memory.models import Entity, Relation


class JsonlError(ValueError):
    """The file is not a reference-server memory file; the message names the line."""


@dataclass
class ReferenceGraph:
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)


def parse_jsonl(text: str, *, source: str = "<memory file>") -> ReferenceGraph:
    graph = ReferenceGraph()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JsonlError(f"{source}:{number}: not JSON ({exc.msg})") from exc
        kind = item.get("type") if isinstance(item, dict) else None
        try:
            if kind == "entity":
                graph.entities.append(
                    Entity(
                        name=item["name"],
                        entityType=item.get("entityType", ""),
                        observations=item.get("observations") or [],
                    )
                )
            elif kind == "relation":
                graph.relations.append(
                    Relation(from_=item["from"], to=item["to"], relationType=item["relationType"])
                )
            else:
                raise JsonlError(f"{source}:{number}: expected an entity or relation line, got type {kind!r}")
        except (KeyError, ValidationError) as exc:
            raise JsonlError(f"{source}:{number}: malformed {kind}: {exc}") from exc
    return graph


def read_jsonl(path: Path) -> ReferenceGraph:
    return parse_jsonl(path.read_text(encoding="utf-8"), source=str(path))
