"""Structured results of the memory tools (they become the tools' output schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from folio_memory.text import Kind


class Similar(BaseModel):
    id: int
    content: str
    kind: Kind
    similarity: float = Field(description="Cosine similarity to the new memory, 0–1.")
    created: str = Field(description="When it was stored, ISO 8601 UTC.")


class SupersededNote(BaseModel):
    id: int = Field(description="The memory that is no longer current.")
    content: str
    decided_by: Literal["sampling", "update"] = Field(
        description="sampling: the client's model judged the new memory replaces it; update: memory_update."
    )


class RememberResult(BaseModel):
    id: int = Field(description="The id of the stored (or reinforced) memory.")
    status: Literal["created", "reinforced"] = Field(
        description="reinforced: a near-duplicate already existed; it was strengthened instead of copied."
    )
    message: str
    similar: list[Similar] = Field(
        description="The most similar current memories. If the new one updates one of them, call "
        "memory_update on the old id instead of keeping both."
    )
    superseded: SupersededNote | None = Field(
        default=None, description="A memory the new one replaced, when the client's model said so."
    )


class UpdateResult(BaseModel):
    id: int = Field(description="The new, current memory.")
    supersedes: int = Field(description="The old memory; it keeps its text and is marked no longer valid.")
    status: Literal["created", "reinforced"]
    message: str


class Hit(BaseModel):
    id: int
    content: str
    score: float = Field(description="Relevance with recency and importance boosts; higher is better (0–1).")
    kind: Kind
    tags: list[str]
    importance: float
    created: str = Field(description="ISO 8601 UTC.")
    current: bool = Field(description="False for a superseded (historical) version.")
    superseded_by: int | None = None
    truncated: bool = Field(default=False, description="Content shortened to fit max_tokens.")


class RecallResult(BaseModel):
    query: str
    hits: list[Hit] = Field(description="Best first.")
    omitted: int = Field(default=0, description="Hits left out to fit max_tokens.")
    note: str | None = None


class ForgottenItem(BaseModel):
    id: int
    kind: Kind
    created: str


class ForgetResult(BaseModel):
    forgotten: list[ForgottenItem] = Field(
        description="What was deleted and vacuumed (no stored row holds the content)."
    )
    confirmed_by: str = Field(description="argument (confirm: true), elicitation, or not-needed.")
    message: str


class GroupMember(BaseModel):
    id: int
    content: str
    created: str


class Group(BaseModel):
    members: list[GroupMember]
    summary_id: int | None = Field(default=None, description="The fact stored for this group, if any.")
    summary: str | None = None


class ConsolidateResult(BaseModel):
    topic: str | None
    groups: list[Group]
    summarised: bool = Field(description="True when the client's model wrote and stored the summaries.")
    message: str


# --- knowledge graph: the reference server's shapes (camelCase on the wire) ---------------------


class Entity(BaseModel):
    name: str = Field(min_length=1, max_length=500, description="The name of the entity")
    entityType: str = Field(max_length=500, description="The type of the entity")
    observations: list[str] = Field(description="An array of observation contents associated with the entity")


class Relation(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(
        alias="from",
        min_length=1,
        max_length=500,
        description="The name of the entity where the relation starts",
    )
    to: str = Field(
        min_length=1, max_length=500, description="The name of the entity where the relation ends"
    )
    relationType: str = Field(min_length=1, max_length=500, description="The type of the relation")


class ObservationAddition(BaseModel):
    entityName: str = Field(description="The name of the entity to add the observations to")
    contents: list[str] = Field(description="An array of observation contents to add")


class ObservationDeletion(BaseModel):
    entityName: str = Field(description="The name of the entity containing the observations")
    observations: list[str] = Field(description="An array of observations to delete")


class AddedObservations(BaseModel):
    entityName: str
    addedObservations: list[str]


class EntitiesResult(BaseModel):
    entities: list[Entity]


class RelationsResult(BaseModel):
    relations: list[Relation]


class ObservationsResult(BaseModel):
    results: list[AddedObservations]


class DeleteResult(BaseModel):
    success: bool
    message: str


class KnowledgeGraph(BaseModel):
    entities: list[Entity]
    relations: list[Relation]
    next_cursor: str | None = Field(
        default=None, description="More entities remain: call again with this cursor to read them."
    )
    total_entities: int | None = Field(default=None, description="How many entities the graph holds.")
    note: str | None = None
