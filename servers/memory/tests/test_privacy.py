"""What visitors see (content, never provenance) and what forgetting leaves behind (no row
version with the text in the tables or their indexes), through the in-memory Client."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import CreateMessageRequestParams, CreateMessageResult, Implementation, TextContent

from folio_core.settings import FolioSettings
from folio_core.testing import call_ok as call
from folio_memory.server import build_server

pytestmark = pytest.mark.anyio

OWNER_CLIENT = Implementation(name="OwnerDesktop", version="9.9.1")
CONVERSATION = "conv-7f3a-private"
REASON = "moved in with Tomás after the layoff"


async def read_json(c: Client, uri: str) -> Any:
    return json.loads((await c.read_resource(uri)).contents[0].text)  # type: ignore[union-attr]


def sampler(answer: Callable[[str], str]) -> Any:
    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        prompt = params.messages[0].content
        assert isinstance(prompt, TextContent)
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=answer(prompt.text)), model="scripted"
        )

    return sample


def owner(settings: FolioSettings, **kwargs: Any) -> Client:
    return Client(build_server(settings).mcp, mode="legacy", client_info=OWNER_CLIENT, **kwargs)


async def _seed(settings: FolioSettings) -> dict[str, int]:
    """Public memories with every kind of provenance: a client, a conversation, reinforcement,
    accesses, an update with a reason, and a public memory superseded by a private one."""
    ids: dict[str, int] = {}

    def judge(prompt: str) -> str:  # the client's model: the Globex job replaces the Acme job
        return f"[{ids['job']}]" if "Globex" in prompt and "job" in ids else "none"

    async with owner(settings, sampling_callback=sampler(judge)) as c:
        talk = await call(
            c,
            "memory_remember",
            {"content": "Speaks at conferences about Go", "public": True, "conversation_id": CONVERSATION},
        )
        await call(c, "memory_remember", {"content": "speaks at conferences about Go."})  # reinforced
        lisbon = await call(
            c, "memory_remember", {"content": "Lives in Lisbon", "kind": "fact", "public": True}
        )
        porto = await call(
            c, "memory_update", {"id": lisbon["id"], "content": "Lives in Porto", "reason": REASON}
        )
        await call(c, "memory_recall", {"query": "conferences"})  # an access
        job = await call(
            c,
            "memory_remember",
            {"content": "Works at Acme as a backend engineer", "kind": "fact", "public": True},
        )
        ids |= {"talk": talk["id"], "lisbon": lisbon["id"], "porto": porto["id"], "job": job["id"]}
        secret = await call(  # private
            c, "memory_remember", {"content": "Works at Globex as a staff engineer", "kind": "fact"}
        )
    assert secret["superseded"] is not None and secret["superseded"]["id"] == job["id"]
    return ids | {"secret": secret["id"]}


async def test_visitors_see_the_content_of_public_memories_never_their_provenance(
    make_settings: Callable[..., FolioSettings],
) -> None:
    ids = await _seed(make_settings())
    async with owner(make_settings()) as c:  # the owner sees the provenance
        owner_view = await read_json(c, f"memory://memories/{ids['talk']}")
        owner_job = await read_json(c, f"memory://memories/{ids['job']}")
    assert owner_view["source"] == {"client": "OwnerDesktop 9.9.1", "conversation": CONVERSATION}
    assert owner_view["reinforced_count"] == 1 and owner_view["access_count"] == 1
    assert owner_job["superseded_by"] == ids["secret"], "the sampled supersession must have happened"

    async with Client(build_server(make_settings(audience="public")).mcp, mode="legacy") as visitor:
        outputs: dict[str, Any] = {
            "recent": await read_json(visitor, "memory://recent"),
            "stats": await read_json(visitor, "memory://stats"),
            "graph": await read_json(visitor, "memory://graph"),
            **{
                name: await read_json(visitor, f"memory://memories/{ids[name]}")
                for name in ("talk", "lisbon", "job")
            },
            "recall": await call(
                visitor,
                "memory_recall",
                {"query": "conferences Lisbon Porto Acme", "include_history": True, "limit": 50},
            ),
            "reflect": (await visitor.get_prompt("memory_reflect", {"topic": "work and home"})).model_dump(),
            "facts": (await visitor.get_prompt("memory_profile_facts", {})).model_dump(),
        }
    everything = json.dumps(outputs, ensure_ascii=False)
    for secret in (
        "OwnerDesktop",
        CONVERSATION,
        "Tomás",
        "layoff",
        "Globex",
        f"#{ids['secret']}",
        "confirmed 2",
    ):
        assert secret not in everything, f"a visitor can read {secret!r}"
    for view in (outputs["talk"], outputs["lisbon"], outputs["job"], *outputs["recent"]):
        assert not {"source", "supersede_reason", "derived_from", "consolidated_into"} & set(view)
        assert not {"last_accessed", "access_count", "reinforced_count"} & set(view)
    assert outputs["job"]["current"] is False and outputs["job"]["superseded_by"] is None
    assert outputs["lisbon"]["superseded_by"] is None  # Porto is public, but ids of successors are not shown
    assert all(h["superseded_by"] is None for h in outputs["recall"]["hits"])
    assert outputs["talk"]["content"] == "Speaks at conferences about Go"  # the content itself is there
    assert "Speaks at conferences about Go" in everything and "Lives in Porto" in everything


# --------------------------------------------------------------------------------- forget

_LP_NORMAL = 1


def _tuples(page_file: bytes) -> list[bytes]:
    """The stored row versions (line pointers in use) of a heap file, read from its pages."""
    found = []
    for start in range(0, len(page_file), 8192):
        page = page_file[start : start + 8192]
        lower = struct.unpack_from("<H", page, 12)[0]
        for offset in range(24, lower, 4):
            (word,) = struct.unpack_from("<I", page, offset)
            off, flags, length = word & 0x7FFF, (word >> 15) & 0x3, word >> 17
            if flags == _LP_NORMAL and length:
                found.append(page[off : off + length])
    return found


def _stored(conn: psycopg.Connection[Any], relation: str) -> bytes:
    conn.execute("CHECKPOINT")  # the pages reach the file
    row = conn.execute("SELECT pg_read_binary_file(pg_relation_filepath(%s))", (relation,)).fetchone()
    assert row is not None
    data: bytes = row[0]
    return data


async def test_forget_leaves_no_row_version_with_the_text_in_the_tables_or_indexes(
    make_settings: Callable[..., FolioSettings], database_url: str
) -> None:
    secret, reason = "Home address is Zanzibarweg 77", "Quokkastraat was the old one"
    async with owner(make_settings()) as c:
        for i in range(5):
            await call(c, "memory_remember", {"content": f"Unrelated note number {i} about gardening"})
        first = await call(c, "memory_remember", {"content": secret, "kind": "fact"})
        newer = await call(
            c,
            "memory_update",
            {"id": first["id"], "content": "Home address is Yellowbrick 5", "reason": reason},
        )
        await call(c, "memory_forget", {"id": newer["id"], "confirm": True})
        kept = await call(c, "memory_recall", {"query": "gardening note", "limit": 10})
    assert len(kept["hits"]) == 5  # the rest is untouched
    with psycopg.connect(database_url, autocommit=True) as conn:
        heap = _stored(conn, "memory.memories")
        audit = _stored(conn, "memory.audit")
    versions = _tuples(heap) + _tuples(audit)
    assert sum(b"gardening" in v for v in versions) >= 5  # the reader finds the rows that are there
    for text in (b"Zanzibarweg", b"Yellowbrick", b"Quokkastraat"):
        assert not any(text in v for v in versions), f"a row version still holds {text!r}"
