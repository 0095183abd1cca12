"""Glue between the runtime and the stores: start-up checks, audience, input checks, error wording.

Domain errors become ``ToolError`` for tools (the model reads the message) and ``MCPError`` for
resources and prompts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from mcp.server.mcpserver.exceptions import ToolError

from folio_core.mcp import Runtime
from folio_memory.errors import MemoryError_
from folio_memory.text import check_content, check_kind, check_tags

if TYPE_CHECKING:  # the stores (numpy, psycopg) load after the handshake
    from folio_memory.graph import GraphStore
    from folio_memory.records import Filters
    from folio_memory.store import MemoryStore

log = structlog.get_logger(__name__)


@contextmanager
def as_tool_errors() -> Iterator[None]:
    """Turn domain errors and bad input into ``ToolError`` messages the model can act on."""
    from folio_core.embeddings import EmbeddingError

    try:
        yield
    except (MemoryError_, ValueError, EmbeddingError) as exc:
        raise ToolError(str(exc)) from exc


class MemoryService:
    STATE_KEY = "memory"

    def __init__(self, runtime: Runtime) -> None:
        from folio_memory.graph import GraphStore
        from folio_memory.store import MemoryStore

        self.settings = runtime.settings
        self.public = runtime.settings.is_public
        self.store: MemoryStore = MemoryStore(runtime.pool, runtime.embedder)
        self.graph: GraphStore = GraphStore(runtime.pool, runtime.embedder)

    @classmethod
    async def start(cls, runtime: Runtime) -> None:
        """Runs once the database is ready: refuse another embedder's vectors, create the indexes."""
        from folio_memory.vectors import VectorSpace, claim_embedder, ensure_vector_indexes

        async with runtime.pool.connection() as conn:
            await claim_embedder(conn, runtime.embedder)
            await ensure_vector_indexes(conn, VectorSpace.of(runtime.embedder))
        runtime.state[cls.STATE_KEY] = cls(runtime)

    @classmethod
    def of(cls, runtime: Runtime) -> MemoryService:
        service = runtime.state.get(cls.STATE_KEY)
        if not isinstance(service, MemoryService):  # pragma: no cover - set by start()
            raise ToolError("the memory server is not initialised")
        return service

    def filters(
        self, kind: str | None = None, tags: list[str] | None = None, since: datetime | None = None
    ) -> Filters:
        from folio_memory.records import Filters

        return Filters(
            kind=check_kind(kind) if kind is not None else None,
            tags=tuple(check_tags(tags)),
            since=since,
            public_only=self.public,
        )


def checked_memory(content: str, kind: str, tags: list[str] | None) -> tuple[str, str, list[str]]:
    """Validated (content, kind, tags), or ``ToolError`` saying what to send instead."""
    try:
        return check_content(content), check_kind(kind), check_tags(tags)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


class ImportSummary:
    def __init__(self, entities_created: int, observations_added: int, relations_created: int) -> None:
        self.entities_created = entities_created
        self.observations_added = observations_added
        self.relations_created = relations_created


async def import_reference_graph(pool: Any, embedder: Any, graph: Any) -> ImportSummary:
    """Merge a reference-server graph: new entities are created, existing ones gain the missing
    observations, relations are added unless present. Re-importing the same file changes nothing."""
    from folio_memory.graph import GraphStore

    store = GraphStore(pool, embedder)
    batch = 200
    created = added = 0
    for start in range(0, len(graph.entities), batch):
        chunk = graph.entities[start : start + batch]
        new = {e.name for e in await store.create_entities(chunk)}
        created += len(new)
        existing = [(e.name, e.observations) for e in chunk if e.name not in new and e.observations]
        if existing:
            added += sum(len(r.addedObservations) for r in await store.add_observations(existing))
    relations = 0
    for start in range(0, len(graph.relations), batch):
        relations += len(await store.create_relations(graph.relations[start : start + batch]))
    return ImportSummary(created, added, relations)
