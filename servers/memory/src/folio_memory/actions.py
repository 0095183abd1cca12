"""What the memory tools do, between the MCP surface and the stores: resolvers (the plan of a
write, the sampling and confirmation questions) and the tool bodies.

No ``from __future__ import annotations`` here: the SDK reads the resolvers' ``Annotated`` hints.
"""

import json
from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve, Sample
from mcp.types import CreateMessageResult, ModelPreferences

from folio_core.mcp import (
    ConfirmForm,
    can_sample,
    client_label,
    confirmation,
    require_confirmation,
    runtime_of,
    sample_text,
    text_sample,
)
from folio_memory.consolidate import parse_summaries, parse_supersede, summary_prompt, supersede_prompt
from folio_memory.errors import MemoryNotFoundError
from folio_memory.models import (
    ConsolidateResult,
    ForgetResult,
    Group,
    GroupMember,
    RecallResult,
    RememberResult,
    SupersededNote,
    UpdateResult,
)
from folio_memory.present import fit_to_budget, forgotten_of, hit_of, similar_of
from folio_memory.records import EventGroups, Filters, ForgetTargets, Memory, RecallHit, RememberPlan
from folio_memory.service import MemoryService, as_tool_errors, checked_memory

Plan = RememberPlan
Groups = EventGroups
_PREFER_CHEAP = ModelPreferences(intelligence_priority=0.4, speed_priority=0.6, cost_priority=0.6)
_FORGET_PREVIEW = 20


async def service_of(ctx: Context[Any, Any]) -> MemoryService:
    return MemoryService.of(await runtime_of(ctx))


def _ask(prompt: str, system: str, max_tokens: int) -> Sample:
    return text_sample(
        prompt,
        max_tokens=max_tokens,
        system_prompt=system,
        temperature=0.0,
        model_preferences=_PREFER_CHEAP,
    )


# ------------------------------------------------------------------------------- remember


async def plan_remember(
    content: str, kind: str, tags: list[str] | None, ctx: Context[Any, Any]
) -> RememberPlan:
    text, _, _ = checked_memory(content, kind, tags)
    service = await service_of(ctx)
    with as_tool_errors():
        # The similar memories are for the sampling question only; the write finds its own.
        return await service.store.plan_remember(text, with_similar=can_sample(ctx))


async def ask_supersedes(
    ctx: Context[Any, Any], plan: Annotated[RememberPlan, Resolve(plan_remember)]
) -> Sample | None:
    if not can_sample(ctx) or plan.duplicate_of is not None or not plan.similar:
        return None
    candidates = [(s.memory.id, s.memory.content) for s in plan.similar]
    return _ask(
        supersede_prompt(plan.content, candidates),
        "You maintain a user's long-term memory. You answer with one id or the word none.",
        20,
    )


async def remember(
    ctx: Context[Any, Any],
    plan: RememberPlan,
    verdict: CreateMessageResult | None,
    kind: str,
    tags: list[str] | None,
    importance: float,
    public: bool,
    conversation_id: str | None,
    derived_from: list[int] | None,
) -> RememberResult:
    _, checked_kind, checked_tags = checked_memory(plan.content, kind, tags)
    service = await service_of(ctx)
    client = client_label(ctx)
    with as_tool_errors():
        outcome = await service.store.remember(
            plan.content,
            kind=checked_kind,
            tags=checked_tags,
            importance=importance,
            public=public,
            client=client,
            conversation=conversation_id,
            derived_from=derived_from or (),
            vector=plan.vector,
        )
    memory = outcome.memory
    if not outcome.created:
        message = (
            f"Not stored again: memory {memory.id} already says this, so it was reinforced "
            f"(now confirmed {memory.reinforced_count + 1} times)."
        )
        return RememberResult(
            id=memory.id, status="reinforced", message=message, similar=similar_of(outcome.similar)
        )
    superseded: SupersededNote | None = None
    named = parse_supersede(sample_text(verdict), [s.memory.id for s in plan.similar])
    if named is not None:
        old = await service.store.supersede(
            named, memory.id, reason="the client's model judged the new memory replaces it", client=client
        )
        if old is not None:
            superseded = SupersededNote(id=old.id, content=old.content, decided_by="sampling")
    message = f"Stored as memory {memory.id}."
    if superseded is not None:
        message += (
            f" Your model judged that it replaces memory {superseded.id}, which is now kept as history."
        )
    elif outcome.similar:
        message += (
            " Similar memories exist (see similar): if this one updates one of them, call memory_update on "
            "the old id instead of keeping both."
        )
    return RememberResult(
        id=memory.id,
        status="created",
        message=message,
        similar=similar_of(outcome.similar),
        superseded=superseded,
    )


async def update(ctx: Context[Any, Any], memory_id: int, content: str, reason: str) -> UpdateResult:
    service = await service_of(ctx)
    text, _, _ = checked_memory(content, "note", None)
    with as_tool_errors():
        old, outcome = await service.store.update(
            memory_id, text, reason=reason.strip(), client=client_label(ctx)
        )
    new = outcome.memory
    if outcome.created:
        message = f"Stored as memory {new.id}; memory {old.id} keeps its text and is now history (valid until {old.valid_to:%Y-%m-%d %H:%M} UTC)."
    else:
        message = f"Memory {new.id} already said this, so it was reinforced; memory {old.id} now points to it as history."
    return UpdateResult(
        id=new.id, supersedes=old.id, status="created" if outcome.created else "reinforced", message=message
    )


# --------------------------------------------------------------------------------- recall


async def recall(
    ctx: Context[Any, Any],
    query: str,
    limit: int,
    kind: str | None,
    tags: list[str] | None,
    since: datetime | None,
    include_history: bool,
    max_tokens: int | None,
) -> RecallResult:
    if not query.strip():
        raise ToolError("query is empty; describe what to recall, e.g. 'preferred programming languages'")
    service = await service_of(ctx)
    with as_tool_errors():
        filters = service.filters(kind, tags, since)
        hits = await service.store.recall(query.strip(), limit, filters, include_history=include_history)
    result = fit_to_budget(query, hits, max_tokens, visitor=service.public)
    if not hits:
        result.note = "Nothing stored matches. Try other words, or drop the kind/tags/since filters."
    return result


# --------------------------------------------------------------------------------- forget


async def forget_targets(id: int | None, query: str | None, ctx: Context[Any, Any]) -> ForgetTargets:
    if (id is None) == (query is None or not query.strip()):
        raise ToolError("pass either id (one memory) or query (what to forget), not both and not neither")
    service = await service_of(ctx)
    with as_tool_errors():
        memories = await service.store.forget_targets(memory_id=id, query=query.strip() if query else None)
    if not memories:
        raise ToolError(
            f"nothing stored matches {query!r} closely enough to forget; call memory_recall to find the memory "
            "and forget it by id"
        )
    return ForgetTargets(memories)


async def describe_forget(targets: Annotated[ForgetTargets, Resolve(forget_targets)]) -> str:
    shown = targets.memories[:_FORGET_PREVIEW]
    lines = [
        f"- #{m.id} ({m.kind}{'' if m.current else ', history'}, {m.created_at:%Y-%m-%d}): {m.content[:200]}"
        for m in shown
    ]
    more = len(targets.memories) - len(shown)
    if more:
        lines.append(f"- … and {more} more")
    return (
        f"Forget {len(targets.memories)} memories for good (their text, vector and index entries are deleted "
        "and vacuumed at once; no tool, query or backup can bring them back):\n" + "\n".join(lines)
    )


FORGET_CONFIRMATION = confirmation(describe_forget)


async def forget(
    ctx: Context[Any, Any], targets: ForgetTargets, decision: ElicitationResult[ConfirmForm]
) -> ForgetResult:
    approved = require_confirmation(decision, tool="memory_forget")
    service = await service_of(ctx)
    gone = await service.store.forget(
        [m.id for m in targets.memories], client=client_label(ctx), confirmed_by=approved.how
    )
    return ForgetResult(
        forgotten=[forgotten_of(m) for m in gone],
        confirmed_by=approved.how,
        message=(
            f"Forgot {len(gone)} memories: their rows were deleted and vacuumed, so no stored row version "
            "holds their text any more; only an audit entry without their content remains."
        ),
    )


# ---------------------------------------------------------------------------- consolidate


async def consolidation_groups(topic: str | None, ctx: Context[Any, Any]) -> EventGroups:
    from folio_memory.consolidate import group_events

    service = await service_of(ctx)
    with as_tool_errors():
        events = await service.store.event_candidates(topic.strip() if topic and topic.strip() else None)
    indices = group_events([v for _, v in events], [m.created_at.timestamp() for m, _ in events])
    return EventGroups([[events[i][0] for i in group] for group in indices])


async def ask_summaries(
    ctx: Context[Any, Any], topic: str | None, groups: Annotated[EventGroups, Resolve(consolidation_groups)]
) -> Sample | None:
    if not can_sample(ctx) or not groups.groups:
        return None
    prompt = summary_prompt([[m.content for m in g] for g in groups.groups], topic)
    return _ask(
        prompt, "You consolidate a user's event memories into lasting facts. You answer with JSON only.", 800
    )


async def consolidate(
    ctx: Context[Any, Any], topic: str | None, groups: EventGroups, summaries: CreateMessageResult | None
) -> ConsolidateResult:
    service = await service_of(ctx)
    facts = parse_summaries(sample_text(summaries), len(groups.groups))
    out: list[Group] = []
    for number, members in enumerate(groups.groups, start=1):
        group = Group(
            members=[
                GroupMember(id=m.id, content=m.content, created=m.created_at.isoformat()) for m in members
            ]
        )
        fact = facts.get(number)
        if fact is not None:
            with as_tool_errors():
                outcome = await service.store.remember(
                    fact,
                    kind="fact",
                    tags=sorted({t for m in members for t in m.tags} | {"consolidated"}),
                    importance=max(m.importance for m in members),
                    public=all(m.public for m in members),
                    client=client_label(ctx),
                    derived_from=[m.id for m in members],
                )
            group.summary_id, group.summary = outcome.memory.id, fact
        out.append(group)
    if not out:
        message = "No groups of related event memories to consolidate" + (
            f" about {topic!r}." if topic else "."
        )
    elif facts:
        message = f"Stored {len(facts)} summarising facts, each linked to its events (derived_from)."
    else:
        message = (
            "Summarise each group in one lasting fact, then store it with memory_remember(kind='fact', "
            "derived_from=[the group's ids]) so the events are marked consolidated."
        )
    return ConsolidateResult(topic=topic, groups=out, summarised=bool(facts), message=message)


# ------------------------------------------------------------------ resources and prompts


def _memory_json(memory: Memory, *, visitor: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        **hit_of(memory, 1.0, visitor=visitor).model_dump(mode="json", exclude={"score", "truncated"}),
        "public": memory.public,
        "valid_from": memory.valid_from.isoformat(),
        "valid_to": memory.valid_to.isoformat() if memory.valid_to else None,
        "embedding_model": memory.embedding_model,
    }
    if visitor:  # the content, not its provenance (see folio_memory.present)
        return shown
    return shown | {
        "source": {"client": memory.source_client, "conversation": memory.source_conversation},
        "supersede_reason": memory.supersede_reason,
        "derived_from": memory.derived_from,
        "consolidated_into": memory.consolidated_into,
        "last_accessed": memory.last_accessed_at.isoformat() if memory.last_accessed_at else None,
        "access_count": memory.access_count,
        "reinforced_count": memory.reinforced_count,
    }


async def recent_json(service: MemoryService) -> str:
    memories = await service.store.recent(20, public_only=service.public)
    return json.dumps(
        [_memory_json(m, visitor=service.public) for m in memories], indent=2, ensure_ascii=False
    )


async def memory_json(service: MemoryService, memory_id: int) -> str:
    try:
        memory = await service.store.get(memory_id, public_only=service.public)
    except MemoryNotFoundError as exc:
        raise ResourceNotFoundError(f"memory://memories/{memory_id}: {exc}") from exc
    return json.dumps(_memory_json(memory, visitor=service.public), indent=2, ensure_ascii=False)


async def stats_json(service: MemoryService) -> str:
    stats = await service.store.stats(public_only=service.public)
    return json.dumps(
        {
            "memories": {
                "current": stats.current,
                "superseded": stats.superseded,
                "public": stats.public,
                "forgotten": stats.forgotten,
                "by_kind": stats.by_kind,
                "top_tags": stats.tags,
                "newest": stats.newest.isoformat() if stats.newest else None,
                "oldest": stats.oldest.isoformat() if stats.oldest else None,
            },
            "graph": {
                "entities": stats.entities,
                "relations": stats.relations,
                "observations": stats.observations,
            },
            "embedder": stats.embedder,
        },
        indent=2,
    )


async def graph_json(service: MemoryService) -> str:
    if service.public:
        return json.dumps({"entities": [], "relations": [], "note": "the knowledge graph is private"})
    page = await service.graph.read_page(None)
    return page.model_dump_json(by_alias=True, indent=2, exclude_none=True)


async def reflect_hits(service: MemoryService, topic: str) -> list[RecallHit]:
    return await service.store.recall(topic, 15, Filters(public_only=service.public), include_history=True)
