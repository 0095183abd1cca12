"""Plain records the store returns and the MCP layer consumes (no database or numpy imports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Memory:
    id: int
    content: str
    kind: str
    tags: list[str]
    importance: float
    public: bool
    source_client: str | None
    source_conversation: str | None
    created_at: datetime
    valid_from: datetime
    valid_to: datetime | None
    superseded_by: int | None
    supersede_reason: str | None
    derived_from: list[int]
    consolidated_into: int | None
    last_accessed_at: datetime | None
    access_count: int
    reinforced_count: int
    embedding_model: str

    @property
    def current(self) -> bool:
        return self.valid_to is None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Memory:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SimilarMemory:
    memory: Memory
    similarity: float


@dataclass(frozen=True)
class RememberPlan:
    """What storing ``content`` would do, computed without writing (for the sampling question)."""

    content: str
    vector: Any  # numpy float32 (dim,): typed loosely so this module stays import-light
    similar: list[SimilarMemory]
    duplicate_of: int | None


@dataclass(frozen=True)
class RememberOutcome:
    memory: Memory
    created: bool
    similar: list[SimilarMemory]


@dataclass(frozen=True)
class RecallHit:
    memory: Memory
    score: float
    similarity: float


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    tags: Sequence[str] = ()
    since: datetime | None = None
    public_only: bool = False

    @property
    def any(self) -> bool:
        return self.kind is not None or bool(self.tags) or self.since is not None or self.public_only


@dataclass(frozen=True)
class Stats:
    current: int
    superseded: int
    by_kind: dict[str, int]
    public: int
    forgotten: int
    entities: int
    relations: int
    observations: int
    embedder: str
    newest: datetime | None
    oldest: datetime | None
    tags: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ForgetTargets:
    """The memories a memory_forget call would delete (roots and their history)."""

    memories: list[Memory]


@dataclass(frozen=True)
class EventGroups:
    """Related event memories, one list per group."""

    groups: list[list[Memory]]
