"""The memory server's MCP surface: thin typed wrappers over the service, stores and domain modules.

No ``from __future__ import annotations`` here: the SDK reads the resolvers' ``Annotated`` hints.
"""

from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve
from mcp.types import CreateMessageResult
from pydantic import Field

from folio_core.db.migrations import package_migrations
from folio_core.mcp import READ_ONLY, ConfirmForm, FolioServer, write_annotations
from folio_core.settings import FolioSettings
from folio_core.validation import parse_positive_id
from folio_memory import __version__, actions, prompts
from folio_memory.actions import Groups, Plan, service_of
from folio_memory.models import (
    ConsolidateResult,
    DeleteResult,
    EntitiesResult,
    Entity,
    ForgetResult,
    KnowledgeGraph,
    ObservationAddition,
    ObservationDeletion,
    ObservationsResult,
    RecallResult,
    Relation,
    RelationsResult,
    RememberResult,
    UpdateResult,
)
from folio_memory.records import ForgetTargets
from folio_memory.service import as_tool_errors
from folio_memory.text import KINDS, MAX_CONTENT_CHARS
from folio_memory.uris import FEED_PREFIXES, GRAPH, MEMORY_TEMPLATE, RECENT, STATS

INSTRUCTIONS = """\
Long-term memory shared by every assistant the owner uses. Store durable facts, preferences and
events with memory_remember (one idea per memory); when something changed, call memory_update on
the old memory so history is kept. Before answering questions about the owner, call memory_recall.
The knowledge-graph tools (create_entities, search_nodes, …) work like the reference memory server."""

Content = Annotated[
    str, Field(description=f"The memory, one idea in plain words (1–{MAX_CONTENT_CHARS:,} characters).")
]
Kind = Annotated[
    str, Field(description=f"One of: {', '.join(KINDS)}.", json_schema_extra={"enum": list(KINDS)})
]
Tags = Annotated[list[str] | None, Field(description="Short labels, e.g. ['work', 'editor'] (at most 20).")]
MemoryId = Annotated[int, Field(description="A memory id from memory_recall or memory_remember.")]
Confirm = Annotated[bool, Field(description="Set to true only after the user agreed to what you described.")]


def build_server(settings: FolioSettings) -> FolioServer:
    from folio_memory.service import MemoryService

    folio = FolioServer(
        "folio-memory",
        settings,
        version=__version__,
        instructions=INSTRUCTIONS,
        package="folio_memory",
        migrations=package_migrations("folio_memory"),
        feed_prefixes=FEED_PREFIXES,
        on_ready=MemoryService.start,
    )
    mcp = folio.mcp

    @folio.tool(annotations=write_annotations(destructive=False))
    async def memory_remember(
        ctx: Context[Any, Any],
        content: Content,
        plan: Annotated[Plan, Resolve(actions.plan_remember)],
        verdict: Annotated[CreateMessageResult | None, Resolve(actions.ask_supersedes)],
        kind: Kind = "note",
        tags: Tags = None,
        importance: Annotated[float, Field(ge=0, le=1, description="0 (trivia) to 1 (essential).")] = 0.5,
        public: Annotated[bool, Field(description="May visitors (public audience) see it?")] = False,
        conversation_id: Annotated[
            str | None, Field(max_length=200, description="The conversation, if known.")
        ] = None,
        derived_from: Annotated[
            list[int] | None,
            Field(description="Ids of memories this one summarises (from memory_consolidate)."),
        ] = None,
    ) -> RememberResult:
        """Remember something; a near-duplicate reinforces the existing memory. Lists similar memories."""
        return await actions.remember(
            ctx, plan, verdict, kind, tags, importance, public, conversation_id, derived_from
        )

    @folio.tool(annotations=write_annotations(destructive=False))
    async def memory_update(
        ctx: Context[Any, Any],
        id: MemoryId,
        content: Content,
        reason: Annotated[str, Field(min_length=1, max_length=500, description="Why it changed.")],
    ) -> UpdateResult:
        """Record that a memory changed: the new text becomes a new memory; the old one is kept as history."""
        return await actions.update(ctx, id, content, reason)

    @folio.tool(annotations=READ_ONLY)
    async def memory_recall(
        ctx: Context[Any, Any],
        query: Annotated[
            str, Field(min_length=1, max_length=1000, description="What to recall, in plain words.")
        ],
        limit: Annotated[int, Field(ge=1, le=50, description="How many memories (1–50).")] = 10,
        kind: Annotated[str | None, Field(description=f"Only this kind: {', '.join(KINDS)}.")] = None,
        tags: Annotated[list[str] | None, Field(description="Only memories with any of these tags.")] = None,
        since: Annotated[datetime | None, Field(description="Only memories stored since (ISO 8601).")] = None,
        include_history: Annotated[bool, Field(description="Also superseded (outdated) versions.")] = False,
        max_tokens: Annotated[
            int | None, Field(ge=50, le=100_000, description="Fit the answer in this many tokens.")
        ] = None,
    ) -> RecallResult:
        """Recall memories by meaning and keywords, best first, boosted by importance and recency."""
        return await actions.recall(ctx, query, limit, kind, tags, since, include_history, max_tokens)

    @folio.tool(annotations=write_annotations(destructive=True, idempotent=True))
    async def memory_forget(
        ctx: Context[Any, Any],
        targets: Annotated[ForgetTargets, Resolve(actions.forget_targets)],
        decision: Annotated[ElicitationResult[ConfirmForm], actions.FORGET_CONFIRMATION],
        id: Annotated[int | None, Field(description="The memory to forget (with its history).")] = None,
        query: Annotated[
            str | None, Field(max_length=1000, description="Or: forget what closely matches this.")
        ] = None,
        confirm: Confirm = False,
    ) -> ForgetResult:
        """Forget memories for good (deleted and vacuumed; an audit row without content kept); needs confirmation."""
        return await actions.forget(ctx, targets, decision)

    @folio.tool(annotations=write_annotations(destructive=False))
    async def memory_consolidate(
        ctx: Context[Any, Any],
        groups: Annotated[Groups, Resolve(actions.consolidation_groups)],
        summaries: Annotated[CreateMessageResult | None, Resolve(actions.ask_summaries)],
        topic: Annotated[str | None, Field(max_length=500, description="Only events about this.")] = None,
    ) -> ConsolidateResult:
        """Group related event memories and store a summarising fact per group (or return the groups)."""
        return await actions.consolidate(ctx, topic, groups, summaries)

    # ---- knowledge graph: names and argument shapes of @modelcontextprotocol/server-memory ----

    @folio.tool(annotations=write_annotations(destructive=False))
    async def create_entities(ctx: Context[Any, Any], entities: list[Entity]) -> EntitiesResult:
        """Create multiple new entities in the knowledge graph"""
        service = await service_of(ctx)
        with as_tool_errors():
            return EntitiesResult(entities=await service.graph.create_entities(entities))

    @folio.tool(annotations=write_annotations(destructive=False))
    async def create_relations(ctx: Context[Any, Any], relations: list[Relation]) -> RelationsResult:
        """Create multiple new relations between entities in the knowledge graph. Relations should be in active voice"""
        service = await service_of(ctx)
        return RelationsResult(relations=await service.graph.create_relations(relations))

    @folio.tool(annotations=write_annotations(destructive=False))
    async def add_observations(
        ctx: Context[Any, Any], observations: list[ObservationAddition]
    ) -> ObservationsResult:
        """Add new observations to existing entities in the knowledge graph"""
        service = await service_of(ctx)
        with as_tool_errors():
            added = await service.graph.add_observations([(o.entityName, o.contents) for o in observations])
        return ObservationsResult(results=added)

    @folio.tool(annotations=write_annotations(destructive=True, idempotent=True))
    async def delete_entities(
        ctx: Context[Any, Any],
        entityNames: Annotated[list[str], Field(description="An array of entity names to delete")],
    ) -> DeleteResult:
        """Delete multiple entities and their associated relations from the knowledge graph"""
        await (await service_of(ctx)).graph.delete_entities(entityNames)
        return DeleteResult(success=True, message="Entities deleted successfully")

    @folio.tool(annotations=write_annotations(destructive=True, idempotent=True))
    async def delete_observations(
        ctx: Context[Any, Any], deletions: list[ObservationDeletion]
    ) -> DeleteResult:
        """Delete specific observations from entities in the knowledge graph"""
        await (await service_of(ctx)).graph.delete_observations(
            [(d.entityName, d.observations) for d in deletions]
        )
        return DeleteResult(success=True, message="Observations deleted successfully")

    @folio.tool(annotations=write_annotations(destructive=True, idempotent=True))
    async def delete_relations(
        ctx: Context[Any, Any],
        relations: Annotated[list[Relation], Field(description="An array of relations to delete")],
    ) -> DeleteResult:
        """Delete multiple relations from the knowledge graph"""
        await (await service_of(ctx)).graph.delete_relations(relations)
        return DeleteResult(success=True, message="Relations deleted successfully")

    if not settings.is_public:  # the graph has no public marking: visitors do not reach it at all

        @folio.tool(annotations=READ_ONLY)
        async def read_graph(
            ctx: Context[Any, Any],
            cursor: Annotated[str | None, Field(description="next_cursor of the previous page.")] = None,
            limit: Annotated[int, Field(ge=1, le=500, description="Entities per page.")] = 100,
        ) -> KnowledgeGraph:
            """Read the knowledge graph, one page of entities at a time (with their relations)"""
            service = await service_of(ctx)
            with as_tool_errors():
                return await service.graph.read_page(cursor, limit)

        @folio.tool(annotations=READ_ONLY)
        async def search_nodes(
            ctx: Context[Any, Any],
            query: Annotated[
                str,
                Field(
                    max_length=1000,
                    description="The search query to match against entity names, types, and observation content",
                ),
            ],
        ) -> KnowledgeGraph:
            """Search for nodes in the knowledge graph based on a query (by substring and by meaning)"""
            return await (await service_of(ctx)).graph.search(query)

        @folio.tool(annotations=READ_ONLY)
        async def open_nodes(
            ctx: Context[Any, Any],
            names: Annotated[list[str], Field(description="An array of entity names to retrieve")],
        ) -> KnowledgeGraph:
            """Open specific nodes in the knowledge graph by their names"""
            return await (await service_of(ctx)).graph.open_nodes(names)

    # ---- resources and prompts ----

    async def _ready() -> Any:
        return MemoryService.of(await folio.ready_runtime())

    @mcp.resource(RECENT, name="recent", mime_type="application/json")
    async def recent() -> str:
        """The 20 most recently stored current memories."""
        return await actions.recent_json(await _ready())

    @mcp.resource(STATS, name="stats", mime_type="application/json")
    async def stats() -> str:
        """Counts of memories by kind and state, top tags, the knowledge graph's size, the embedder."""
        return await actions.stats_json(await _ready())

    @mcp.resource(GRAPH, name="graph", mime_type="application/json")
    async def graph() -> str:
        """The first page of the knowledge graph (capped; read_graph pages through the rest)."""
        return await actions.graph_json(await _ready())

    @mcp.resource(MEMORY_TEMPLATE, name="memory", mime_type="application/json")
    async def memory_resource(id: str) -> str:
        """One memory with its validity, supersession, sources and access statistics."""
        memory_id = parse_positive_id(id)
        if memory_id is None:
            raise ResourceNotFoundError(
                f"{MEMORY_TEMPLATE.format(id=id)}: a memory id is a positive whole number (ASCII digits)"
            )
        return await actions.memory_json(await _ready(), memory_id)

    @mcp.prompt()
    async def memory_reflect(topic: Annotated[str, Field(description="What to reflect on.")]) -> str:
        """What do I know about a topic, and what is uncertain?"""
        service = await _ready()
        return prompts.reflect(topic, await actions.reflect_hits(service, topic), visitor=service.public)

    @mcp.prompt()
    async def memory_profile_facts() -> str:
        """Everything stored about the user as facts and preferences, to personalise a conversation."""
        service = await _ready()
        return prompts.profile_facts(
            await service.store.current_by_kinds(["fact", "preference"], 100, public_only=service.public),
            visitor=service.public,
        )

    return folio


__all__ = ["build_server"]
