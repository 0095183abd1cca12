"""The memory server through the SDK's in-memory Client: every tool, resource and prompt, with and
without sampling and elicitation, in both protocol eras."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import psycopg
import pytest
from mcp import Client, MCPError
from mcp.client import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ResourceUpdatedNotification,
    TextContent,
)

from folio_core.settings import FolioSettings
from folio_core.testing import call_fails as error
from folio_core.testing import call_ok as call
from folio_core.testing import tool_text
from folio_memory.server import build_server

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
MEMORY_TOOLS = {"memory_remember", "memory_update", "memory_recall", "memory_forget", "memory_consolidate"}
GRAPH_TOOLS = {
    "create_entities",
    "create_relations",
    "add_observations",
    "delete_entities",
    "delete_observations",
    "delete_relations",
    "read_graph",
    "search_nodes",
    "open_nodes",
}


def client(settings: FolioSettings, mode: str = "legacy", **kwargs: Any) -> Client:
    return Client(build_server(settings).mcp, mode=mode, **kwargs)


async def read_json(c: Client, uri: str) -> Any:
    contents = (await c.read_resource(uri)).contents[0]
    return json.loads(contents.text)  # type: ignore[union-attr]


def rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def sampler(answer: Callable[[str], str], asked: list[str] | None = None) -> Any:
    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        prompt = params.messages[0].content
        assert isinstance(prompt, TextContent)
        if asked is not None:
            asked.append(prompt.text)
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=answer(prompt.text)), model="scripted"
        )

    return sample


# ------------------------------------------------------------------------------ listing


@pytest.mark.parametrize("mode", ERAS)
async def test_lists_every_tool_resource_and_prompt_with_annotations(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        resources = {r.uri for r in (await c.list_resources()).resources}
        templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
        prompts = {p.name for p in (await c.list_prompts()).prompts}
    assert set(tools) == MEMORY_TOOLS | GRAPH_TOOLS
    for tool in tools.values():
        assert tool.annotations is not None, tool.name
    for name in ("memory_recall", "read_graph", "search_nodes", "open_nodes"):
        assert tools[name].annotations.read_only_hint is True  # type: ignore[union-attr]
    for name in ("memory_forget", "delete_entities", "delete_observations", "delete_relations"):
        assert tools[name].annotations.destructive_hint is True  # type: ignore[union-attr]
    # Resolved parameters are not part of what the model sees.
    assert set(tools["memory_forget"].input_schema["properties"]) == {"id", "query", "confirm"}
    assert "plan" not in tools["memory_remember"].input_schema["properties"]
    assert resources == {"memory://recent", "memory://stats", "memory://graph"}
    assert templates == {"memory://memories/{id}"}
    assert prompts == {"memory_reflect", "memory_profile_facts"}


async def test_graph_tools_take_the_reference_servers_argument_shapes(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        tools = {t.name: t.input_schema for t in (await c.list_tools()).tools}
    required = {name: set(schema.get("required", [])) for name, schema in tools.items()}
    assert required["create_entities"] == {"entities"}
    assert required["create_relations"] == {"relations"}
    assert required["add_observations"] == {"observations"}
    assert required["delete_entities"] == {"entityNames"}
    assert required["delete_observations"] == {"deletions"}
    assert required["delete_relations"] == {"relations"}
    assert required["search_nodes"] == {"query"}
    assert required["open_nodes"] == {"names"}
    assert required["read_graph"] == set()  # cursor and limit are optional additions
    relation = tools["create_relations"]["$defs"]["Relation"]["properties"]
    assert set(relation) == {"from", "to", "relationType"}
    entity = tools["create_entities"]["$defs"]["Entity"]["properties"]
    assert set(entity) == {"name", "entityType", "observations"}


# ----------------------------------------------------------------------------- remember


async def test_remember_stores_and_a_near_duplicate_reinforces_instead_of_copying(
    make_settings: Callable[..., FolioSettings], database_url: str
) -> None:
    async with client(make_settings()) as c:
        first = await call(
            c, "memory_remember", {"content": "Prefers dark mode in every editor", "kind": "preference"}
        )
        again = await call(
            c, "memory_remember", {"content": "prefers dark mode in every editor.", "kind": "preference"}
        )
        different = await call(
            c, "memory_remember", {"content": "Prefers light mode in every editor", "kind": "preference"}
        )
    assert first["status"] == "created" and first["similar"] == []
    assert again["status"] == "reinforced" and again["id"] == first["id"]
    assert "reinforced" in again["message"]
    assert different["status"] == "created" and different["id"] != first["id"]
    assert [s["id"] for s in different["similar"]] == [first["id"]]
    assert "memory_update" in different["message"]
    assert rows(database_url, "SELECT count(*), sum(reinforced_count) FROM memory.memories") == [(2, 1)]


async def test_close_but_different_facts_are_not_taken_for_duplicates(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        tuesday = await call(
            c, "memory_remember", {"content": "Meeting with Anna on Tuesday about the migration"}
        )
        wednesday = await call(
            c, "memory_remember", {"content": "Meeting with Anna on Wednesday about the migration"}
        )
    assert wednesday["status"] == "created" and wednesday["id"] != tuesday["id"]
    assert wednesday["similar"][0]["id"] == tuesday["id"] and wednesday["similar"][0]["similarity"] > 0.95


@pytest.mark.parametrize("mode", ERAS)
async def test_with_sampling_the_llm_decides_what_a_new_memory_supersedes(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    asked: list[str] = []
    async with client(make_settings(), mode, sampling_callback=sampler(lambda p: "[1]", asked)) as c:
        old = await call(c, "memory_remember", {"content": "Lives in Lisbon, in Alfama", "kind": "fact"})
        assert old["id"] == 1 and asked == []  # nothing similar yet: no question asked
        new = await call(c, "memory_remember", {"content": "Lives in Berlin, in Kreuzberg", "kind": "fact"})
        old_view = await read_json(c, "memory://memories/1")
        recalled = await call(c, "memory_recall", {"query": "where does she live"})
    assert len(asked) == 1 and "Lives in Lisbon" in asked[0] and "Berlin" in asked[0]
    assert new["superseded"] == {"id": 1, "content": "Lives in Lisbon, in Alfama", "decided_by": "sampling"}
    assert "replaces memory 1" in new["message"]
    assert old_view["current"] is False and old_view["superseded_by"] == new["id"]
    assert old_view["content"] == "Lives in Lisbon, in Alfama" and old_view["valid_to"] is not None
    assert [h["id"] for h in recalled["hits"]] == [new["id"]]


async def test_with_sampling_an_answer_of_none_supersedes_nothing(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings(), sampling_callback=sampler(lambda p: "none")) as c:
        await call(c, "memory_remember", {"content": "Enjoys hiking in the Alps", "kind": "preference"})
        new = await call(
            c, "memory_remember", {"content": "Enjoys hiking in the Pyrenees", "kind": "preference"}
        )
        hits = await call(c, "memory_recall", {"query": "hiking"})
    assert new["superseded"] is None
    assert {h["id"] for h in hits["hits"]} == {1, new["id"]} and all(h["current"] for h in hits["hits"])


# ------------------------------------------------------------------------- bad input


async def test_bad_input_gets_errors_that_say_what_to_do(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as c:
        empty = await error(c, "memory_remember", {"content": "   "})
        huge = await error(c, "memory_remember", {"content": "x" * 10_001})
        kind = await error(c, "memory_remember", {"content": "ok", "kind": "opinion"})
        limit = await error(c, "memory_recall", {"query": "x", "limit": 500})
        zero = await error(c, "memory_recall", {"query": "x", "limit": 0})
        unknown_update = await error(c, "memory_update", {"id": 42, "content": "new", "reason": "r"})
        unknown_forget = await error(c, "memory_forget", {"id": 42, "confirm": True})
        unknown_resource = None
        try:
            await c.read_resource("memory://memories/42")
        except MCPError as exc:
            unknown_resource = exc.message
        both = await error(c, "memory_forget", {"id": 1, "query": "x"})
        bad_kind_filter = await error(c, "memory_recall", {"query": "x", "kind": "opinion"})
    assert "content is empty" in empty
    assert "10,000" in huge and "split" in huge
    assert "opinion" in kind and "fact, preference, event, note" in kind
    assert "limit" in limit and "50" in limit
    assert "limit" in zero
    for message in (unknown_update, unknown_forget):
        assert "no memory with id 42" in message and "memory_recall" in message
    assert unknown_resource is not None and "no memory with id 42" in unknown_resource
    assert "either id" in both
    assert "fact, preference, event, note" in bad_kind_filter


# ------------------------------------------------------------------------------- update


@pytest.mark.parametrize("mode", ERAS)
async def test_update_supersedes_and_keeps_the_old_text_as_history(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        old = await call(
            c, "memory_remember", {"content": "Salary target is 120k EUR", "kind": "fact", "tags": ["job"]}
        )
        new = await call(
            c, "memory_update", {"id": old["id"], "content": "Salary target is 135k EUR", "reason": "raised"}
        )
        again = await error(c, "memory_update", {"id": old["id"], "content": "Salary 140k", "reason": "x"})
        same = await error(
            c, "memory_update", {"id": new["id"], "content": "salary target is 135k EUR.", "reason": "x"}
        )
        current = await call(c, "memory_recall", {"query": "salary target"})
        history = await call(c, "memory_recall", {"query": "salary target", "include_history": True})
        old_view = await read_json(c, f"memory://memories/{old['id']}")
    assert new["supersedes"] == old["id"] and new["status"] == "created"
    assert f"superseded by memory {new['id']}" in again and f"({new['id']})" in again
    assert "same" in same
    assert [h["id"] for h in current["hits"]] == [new["id"]]
    assert current["hits"][0]["tags"] == ["job"]  # the new version inherits kind, tags, importance
    assert [h["id"] for h in history["hits"]] == [new["id"], old["id"]]
    assert history["hits"][1]["current"] is False and history["hits"][1]["superseded_by"] == new["id"]
    assert old_view["content"] == "Salary target is 120k EUR" and old_view["supersede_reason"] == "raised"


# ------------------------------------------------------------------------------- recall


async def test_recall_filters_by_kind_tags_and_time(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as c:
        await call(
            c,
            "memory_remember",
            {"content": "Uses Go for backend services", "kind": "fact", "tags": ["work"]},
        )
        await call(
            c,
            "memory_remember",
            {"content": "Likes Go as a board game", "kind": "preference", "tags": ["home"]},
        )
        by_kind = await call(c, "memory_recall", {"query": "Go", "kind": "preference"})
        by_tag = await call(c, "memory_recall", {"query": "Go", "tags": ["work"]})
        future = await call(c, "memory_recall", {"query": "Go", "since": "2999-01-01T00:00:00Z"})
        both = await call(c, "memory_recall", {"query": "Go programming language", "limit": 5})
    assert [h["content"] for h in by_kind["hits"]] == ["Likes Go as a board game"]
    assert [h["content"] for h in by_tag["hits"]] == ["Uses Go for backend services"]
    assert future["hits"] == [] and "Nothing stored matches" in future["note"]
    assert both["hits"][0]["content"] == "Uses Go for backend services"
    hit = both["hits"][0]
    assert set(hit) >= {"id", "content", "score", "kind", "tags", "created", "current"}
    assert 0 < hit["score"] <= 1 and hit["current"] is True


async def test_recall_semantic_match_without_shared_words(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        await call(
            c, "memory_remember", {"content": "Works as a software engineer at CloudNest", "kind": "fact"}
        )
        await call(c, "memory_remember", {"content": "Grows tomatoes on the balcony", "kind": "fact"})
        hits = await call(c, "memory_recall", {"query": "programmer"})
    assert hits["hits"][0]["content"] == "Works as a software engineer at CloudNest"


async def test_recall_fits_max_tokens_and_says_what_it_left_out(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        for i in range(8):
            await call(
                c,
                "memory_remember",
                {
                    "content": f"Project note {i}: the deployment pipeline step {i} "
                    + "uses Kubernetes jobs " * 20
                },
            )
        full = await call(c, "memory_recall", {"query": "deployment pipeline kubernetes", "limit": 8})
        small = await call(
            c, "memory_recall", {"query": "deployment pipeline kubernetes", "limit": 8, "max_tokens": 400}
        )
    assert len(full["hits"]) == 8 and full["omitted"] == 0
    assert 1 <= len(small["hits"]) < 8 and small["omitted"] == 8 - len(small["hits"])
    assert "max_tokens" in small["note"]
    assert len(json.dumps(small)) / 3.5 <= 400
    assert [h["id"] for h in small["hits"]] == [h["id"] for h in full["hits"][: len(small["hits"])]]


# ------------------------------------------------------------------------------- forget


async def test_forget_without_elicitation_needs_confirm_true_and_deletes_the_content(
    make_settings: Callable[..., FolioSettings], database_url: str
) -> None:
    secret = "Home address is Rua das Flores 12"
    async with client(make_settings()) as c:
        first = await call(c, "memory_remember", {"content": secret, "kind": "fact"})
        newer = await call(
            c,
            "memory_update",
            {
                "id": first["id"],
                "content": "Home address is Hauptstrasse 5",
                "reason": "moved to Rua das Flores neighbour",
            },
        )
        refused = await error(c, "memory_forget", {"id": newer["id"]})
        assert rows(database_url, "SELECT count(*) FROM memory.memories") == [(2,)]
        done = await call(c, "memory_forget", {"id": newer["id"], "confirm": True})
        recalled = await call(c, "memory_recall", {"query": "home address", "include_history": True})
        stats = await read_json(c, "memory://stats")
    assert "confirm: true" in refused and "Hauptstrasse" in refused and "Rua das Flores" in refused
    assert {f["id"] for f in done["forgotten"]} == {first["id"], newer["id"]}  # with its history
    assert done["confirmed_by"] == "argument"
    assert recalled["hits"] == [] and stats["memories"]["forgotten"] == 2
    assert rows(database_url, "SELECT count(*) FROM memory.memories") == [(0,)]
    audit = rows(database_url, "SELECT action, coalesce(note, '') FROM memory.audit ORDER BY id")
    assert [a for a, _ in audit].count("forget") == 2
    assert not any("Rua" in note or "Hauptstrasse" in note for _, note in audit)


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_forget_asks_through_elicitation(
    make_settings: Callable[..., FolioSettings], mode: str, answer: str
) -> None:
    questions: list[str] = []

    async def elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        questions.append(params.message)
        if answer == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    async with client(make_settings(), mode, elicitation_callback=elicit) as c:
        await call(c, "memory_remember", {"content": "Has a dentist appointment on Friday", "kind": "event"})
        await call(c, "memory_remember", {"content": "Favourite colour is green", "kind": "preference"})
        result = await c.call_tool("memory_forget", {"query": "dentist appointment"})
        left = await call(c, "memory_recall", {"query": "dentist appointment colour"})
    assert questions and "dentist appointment on Friday" in questions[0]
    assert "Favourite colour" not in questions[0]
    contents = [h["content"] for h in left["hits"]]
    if answer == "accept":
        assert not result.is_error and result.structured_content is not None
        assert result.structured_content["confirmed_by"] == "elicitation"
        assert contents == ["Favourite colour is green"]
    else:
        assert result.is_error and "did not confirm" in tool_text(result)
        assert "Has a dentist appointment on Friday" in contents


async def test_forget_by_a_query_that_matches_nothing_says_so(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        await call(c, "memory_remember", {"content": "Favourite colour is green"})
        message = await error(
            c, "memory_forget", {"query": "quantum chromodynamics lecture", "confirm": True}
        )
    assert "memory_recall" in message and "by id" in message


# -------------------------------------------------------------------------- consolidate

EVENTS = [
    "Went bouldering at the climbing gym on Monday evening",
    "Climbed at the bouldering gym again on Wednesday with Rui",
    "Bouldering session on Saturday: finally sent the blue route",
    "Paid the electricity bill for March",
    "Paid the water bill and the electricity bill for April",
]


@pytest.mark.parametrize("mode", ERAS)
async def test_consolidate_with_sampling_stores_linked_facts(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    def summarise(prompt: str) -> str:
        facts = []
        for number in range(1, prompt.count("Group ") + 1):
            section = prompt.split(f"Group {number}:")[1].split("Group ")[0]
            topic = (
                "climbs at a bouldering gym several times a week"
                if "oulder" in section
                else "pays utility bills monthly"
            )
            facts.append({"group": number, "fact": f"Maya {topic}"})
        return json.dumps(facts)

    async with client(make_settings(), mode, sampling_callback=sampler(summarise)) as c:
        ids = [(await call(c, "memory_remember", {"content": e, "kind": "event"}))["id"] for e in EVENTS]
        result = await call(c, "memory_consolidate", {})
        again = await call(c, "memory_consolidate", {})
        fact = await read_json(c, f"memory://memories/{result['groups'][0]['summary_id']}")
        event = await read_json(c, f"memory://memories/{ids[0]}")
    assert result["summarised"] is True
    members = [sorted(m["id"] for m in g["members"]) for g in result["groups"]]
    assert sorted(members) == [ids[:3], ids[3:]]
    climbing = next(g for g in result["groups"] if ids[0] in [m["id"] for m in g["members"]])
    assert climbing["summary"] == "Maya climbs at a bouldering gym several times a week"
    assert fact["kind"] == "fact" and sorted(fact["derived_from"]) in members
    assert event["consolidated_into"] == climbing["summary_id"] and event["current"] is True
    assert again["groups"] == []  # consolidated events are not grouped again


async def test_consolidate_without_sampling_returns_the_groups(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        for e in EVENTS:
            await call(c, "memory_remember", {"content": e, "kind": "event"})
        await call(c, "memory_remember", {"content": "Bouldering is a kind of rock climbing", "kind": "note"})
        result = await call(c, "memory_consolidate", {"topic": "climbing"})
        stored = await read_json(c, "memory://stats")
    assert result["summarised"] is False and "memory_remember" in result["message"]
    assert len(result["groups"]) == 1 and len(result["groups"][0]["members"]) == 3
    assert all("oulder" in m["content"] or "limb" in m["content"] for m in result["groups"][0]["members"])
    assert stored["memories"]["by_kind"] == {"event": 5, "note": 1}


# ---------------------------------------------------------------------- knowledge graph


async def test_graph_tools_behave_like_the_reference_server(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        created = await call(
            c,
            "create_entities",
            {
                "entities": [
                    {
                        "name": "Maya",
                        "entityType": "person",
                        "observations": ["Works as a software engineer"],
                    },
                    {
                        "name": "Finlytics",
                        "entityType": "company",
                        "observations": ["Payments startup in Lisbon"],
                    },
                ]
            },
        )
        duplicate = await call(
            c, "create_entities", {"entities": [{"name": "Maya", "entityType": "x", "observations": []}]}
        )
        relations = await call(
            c,
            "create_relations",
            {"relations": [{"from": "Maya", "to": "Finlytics", "relationType": "works at"}]},
        )
        added = await call(
            c,
            "add_observations",
            {
                "observations": [
                    {"entityName": "Maya", "contents": ["Likes Go", "Works as a software engineer"]}
                ]
            },
        )
        missing = await error(
            c, "add_observations", {"observations": [{"entityName": "Nobody", "contents": ["x"]}]}
        )
        substring = await call(c, "search_nodes", {"query": "lisbon"})
        semantic = await call(c, "search_nodes", {"query": "programmer"})
        opened = await call(c, "open_nodes", {"names": ["Maya"]})
        deleted_obs = await call(
            c, "delete_observations", {"deletions": [{"entityName": "Maya", "observations": ["Likes Go"]}]}
        )
        after_obs = await call(c, "open_nodes", {"names": ["Maya"]})
        deleted = await call(c, "delete_entities", {"entityNames": ["Finlytics"]})
        graph = await call(c, "read_graph", {})
    assert [e["name"] for e in created["entities"]] == ["Maya", "Finlytics"]
    assert duplicate == {"entities": []}
    assert relations == {"relations": [{"from": "Maya", "to": "Finlytics", "relationType": "works at"}]}
    assert added == {"results": [{"entityName": "Maya", "addedObservations": ["Likes Go"]}]}
    assert "Entity with name Nobody not found" in missing
    assert [e["name"] for e in substring["entities"]] == ["Finlytics"]
    assert substring["relations"] == relations["relations"]
    assert semantic["entities"][0]["name"] == "Maya"  # "programmer" ~ "software engineer"
    assert opened["entities"][0]["observations"] == ["Works as a software engineer", "Likes Go"]
    assert deleted_obs == {"success": True, "message": "Observations deleted successfully"}
    assert after_obs["entities"][0]["observations"] == ["Works as a software engineer"]
    assert deleted["success"] is True
    assert [e["name"] for e in graph["entities"]] == ["Maya"] and graph["relations"] == []


async def test_read_graph_is_paginated_and_capped(make_settings: Callable[..., FolioSettings]) -> None:
    entities = [
        {"name": f"Entity {i:03d}", "entityType": "thing", "observations": [f"fact {i}"]} for i in range(25)
    ]
    async with client(make_settings()) as c:
        await call(c, "create_entities", {"entities": entities})
        await call(
            c,
            "create_relations",
            {
                "relations": [
                    {"from": f"Entity {i:03d}", "to": "Entity 000", "relationType": "knows"}
                    for i in range(1, 25)
                ]
            },
        )
        pages, cursor = [], None
        while True:
            page = await call(c, "read_graph", {"limit": 10} | ({"cursor": cursor} if cursor else {}))
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad = await error(c, "read_graph", {"cursor": "%%%"})
        resource = await read_json(c, "memory://graph")
    assert [len(p["entities"]) for p in pages] == [10, 10, 5]
    assert pages[0]["total_entities"] == 25 and "cursor" in pages[0]["note"]
    names = [e["name"] for p in pages for e in p["entities"]]
    assert names == sorted(e["name"] for e in entities)
    assert sum(len(p["relations"]) for p in pages) == 24
    assert "read_graph without a cursor" in bad
    assert len(resource["entities"]) == 25


# --------------------------------------------------------------------- resources, prompts


@pytest.mark.parametrize("mode", ERAS)
async def test_resources_show_recent_stats_and_single_memories(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        for text in ("First memory about tea", "Second memory about coffee"):
            await call(c, "memory_remember", {"content": text, "kind": "note", "tags": ["drinks"]})
        recent = await read_json(c, "memory://recent")
        stats = await read_json(c, "memory://stats")
        one = await read_json(c, "memory://memories/1")
        with pytest.raises(MCPError):
            await c.read_resource("memory://memories/abc")
    assert [m["content"] for m in recent] == ["Second memory about coffee", "First memory about tea"]
    assert stats["memories"]["current"] == 2 and stats["memories"]["top_tags"] == {"drinks": 2}
    assert stats["embedder"].startswith("all-MiniLM")
    assert one["content"] == "First memory about tea" and one["source"]["client"]
    assert one["access_count"] == 0


@pytest.mark.parametrize("mode", ERAS)
async def test_subscribers_hear_about_writes(make_settings: Callable[..., FolioSettings], mode: str) -> None:
    heard: list[str] = []
    got = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(message.params.uri)
            got.set()

    async with client(make_settings(), mode, message_handler=on_message) as c:
        await call(c, "memory_recall", {"query": "warm-up"})
        if mode == "legacy":
            await c.subscribe_resource("memory://recent")
            await c.subscribe_resource("memory://graph")
            await call(c, "memory_remember", {"content": "Subscribed write"})
            await call(
                c, "create_entities", {"entities": [{"name": "A", "entityType": "t", "observations": []}]}
            )
            with anyio.fail_after(10):
                while not {"memory://recent", "memory://graph"} <= set(heard):
                    await got.wait()
                    got = anyio.Event()
        else:
            async with c.listen(resource_subscriptions=["memory://stats"]) as sub:
                await call(c, "memory_remember", {"content": "Subscribed write"})
                with anyio.fail_after(10):
                    async for event in sub:
                        heard.append(str(getattr(event, "uri", "")))
                        break
    assert ("memory://recent" if mode == "legacy" else "memory://stats") in heard


@pytest.mark.parametrize("mode", ERAS)
async def test_prompts_build_on_the_stored_memories(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        old = await call(c, "memory_remember", {"content": "Uses Vim for editing code", "kind": "preference"})
        await call(
            c,
            "memory_update",
            {"id": old["id"], "content": "Uses Zed for editing code", "reason": "switched"},
        )
        await call(
            c, "memory_remember", {"content": "Allergic to penicillin", "kind": "fact", "importance": 0.9}
        )
        await call(c, "memory_remember", {"content": "Bought bread today", "kind": "event"})
        reflect = await c.get_prompt("memory_reflect", {"topic": "code editor"})
        facts = await c.get_prompt("memory_profile_facts", {})
    reflect_text = reflect.messages[0].content.text  # type: ignore[union-attr]
    facts_text = facts.messages[0].content.text  # type: ignore[union-attr]
    assert "code editor" in reflect_text and "Uses Zed" in reflect_text
    assert "Uses Vim" in reflect_text and "SUPERSEDED" in reflect_text and "uncertain" in reflect_text
    assert reflect_text.index("Uses Zed") < reflect_text.index("Uses Vim")
    assert "Allergic to penicillin" in facts_text and "Uses Zed" in facts_text
    assert "Uses Vim" not in facts_text and "Bought bread" not in facts_text
    assert facts_text.index("penicillin") < facts_text.index("Zed")  # most important first


# ----------------------------------------------------------------------------- audience


async def test_public_audience_reaches_only_public_memories_and_cannot_write(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as owner:
        await call(
            owner,
            "memory_remember",
            {"content": "Speaks at conferences about Go", "kind": "fact", "public": True},
        )
        await call(owner, "memory_remember", {"content": "Private: salary target 135k", "kind": "fact"})
        await call(
            owner,
            "create_entities",
            {"entities": [{"name": "Secret", "entityType": "t", "observations": ["x"]}]},
        )
    async with client(make_settings(audience="public")) as visitor:
        tools = {t.name for t in (await visitor.list_tools()).tools}
        hits = await call(visitor, "memory_recall", {"query": "salary target Go conferences", "limit": 50})
        recent = await read_json(visitor, "memory://recent")
        stats = await read_json(visitor, "memory://stats")
        graph = await read_json(visitor, "memory://graph")
        with pytest.raises(MCPError):
            await visitor.read_resource("memory://memories/2")
        facts = await visitor.get_prompt("memory_profile_facts", {})
        reflect = await visitor.get_prompt("memory_reflect", {"topic": "salary"})
    assert tools == {"memory_recall"}
    assert [h["content"] for h in hits["hits"]] == ["Speaks at conferences about Go"]
    assert [m["content"] for m in recent] == ["Speaks at conferences about Go"]
    assert stats["memories"]["current"] == 1 and stats["graph"]["entities"] == 0
    assert graph["entities"] == []
    for prompt in (facts, reflect):
        assert "salary target 135k" not in prompt.messages[0].content.text  # type: ignore[union-attr]
