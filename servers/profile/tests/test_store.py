"""The profile store on the real database: concurrent writers, model changes, public chunks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from psycopg.types.json import Jsonb

from folio_core.db import apply_migrations, open_pool, package_migrations
from folio_core.embeddings import EmbedderMismatchError, make_embedder
from folio_core.testing import SAMPLE_PORTFOLIO
from folio_profile.errors import ConcurrentWriteError
from folio_profile.store import ProfileStore

pytestmark = pytest.mark.anyio

EMBEDDER = make_embedder("local")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[ProfileStore]:
    pool = await open_pool(database_url)
    async with pool.connection() as conn:
        await apply_migrations(conn, "folio_profile", package_migrations("folio_profile"))
    store = ProfileStore(pool, EMBEDDER)
    await store.import_file(SAMPLE_PORTFOLIO / "resume.json")
    yield store
    await pool.close()


async def test_concurrent_updates_are_all_applied_in_order(store: ProfileStore) -> None:
    async def update(field: str, value: str) -> None:
        await store.update({"basics": {field: value}}, reason=field, client="test")

    async with anyio.create_task_group() as tg:
        tg.start_soon(update, "label", "Concurrent label")
        tg.start_soon(update, "summary", "Concurrent summary")
        tg.start_soon(update, "url", "https://example.org/concurrent")
    current = await store.current()
    assert current is not None and current.version == 4
    basics = current.document["basics"]
    assert (basics["label"], basics["summary"], basics["url"]) == (
        "Concurrent label",
        "Concurrent summary",
        "https://example.org/concurrent",
    )
    assert [e.version for e in await store.history(10)] == [4, 3, 2, 1]


async def test_vectors_of_another_model_are_refused_until_reindexed(store: ProfileStore) -> None:
    async with store.pool.connection() as conn:
        await conn.execute("UPDATE profile.chunks SET embedding_model = 'openai:text-embedding-3-small'")
    with pytest.raises(EmbedderMismatchError) as refused:
        await store.search("kubernetes", 3, public_only=False)
    assert "openai:text-embedding-3-small" in str(refused.value) and EMBEDDER.name in str(refused.value)
    reindexed = await store.reindex()
    assert reindexed > 0
    hits = await store.search("kubernetes", 3, public_only=False)
    assert hits and any("kubernetes" in h.text.lower() for h in hits)
    assert await store.reindex() == 0


async def test_public_search_never_returns_private_chunks(store: ProfileStore) -> None:
    everything = await store.search("reference letter from a former manager", 200, public_only=False)
    public = await store.search("reference letter from a former manager", 200, public_only=True)
    assert any(h.path.startswith("$.references") for h in everything)
    assert not any(h.path.startswith("$.references") for h in public)


async def test_unchanged_file_is_not_imported_again_and_a_manual_import_is_a_no_op(
    store: ProfileStore,
) -> None:
    assert await store.import_file(SAMPLE_PORTFOLIO / "resume.json") is None
    plan = await store.plan_import(SAMPLE_PORTFOLIO / "resume.json")
    assert plan.seen_before and plan.changes == [] and plan.base_version == 1
    again = await store.apply_import(plan, client="test")
    assert not again.created and again.version == 1


async def test_each_file_remembers_its_own_last_import(
    store: ProfileStore, tmp_path: Path, sample_resume: dict[str, Any]
) -> None:
    mine = tmp_path / "my-resume.json"
    mine.write_text(json.dumps({**sample_resume, "basics": {**sample_resume["basics"], "label": "Mine"}}))
    manual = await store.apply_import(await store.plan_import(mine), client="test")
    assert manual.version == 2
    # the portfolio file did not change since its own import: the manual import stays current
    assert await store.import_file(SAMPLE_PORTFOLIO / "resume.json") is None
    current = await store.current()
    assert current is not None and current.document["basics"]["label"] == "Mine"


async def test_a_database_with_one_shared_import_digest_keeps_its_portfolio(store: ProfileStore) -> None:
    """Before digests were kept per file there was one; an unchanged portfolio file matches it."""
    digest = (await store.plan_import(SAMPLE_PORTFOLIO / "resume.json")).digest
    async with store.pool.connection() as conn:
        await conn.execute("DELETE FROM profile.meta WHERE key LIKE 'import_digest:%'")
        await conn.execute(
            "INSERT INTO profile.meta (key, value) VALUES ('last_import_digest', %s)", (Jsonb(digest),)
        )
    await store.update({"basics": {"label": "Changed by a tool"}}, reason="r", client="test")
    assert await store.import_file(SAMPLE_PORTFOLIO / "resume.json") is None


async def test_a_confirmed_import_is_refused_when_the_resume_changed_meanwhile(store: ProfileStore) -> None:
    plan = await store.plan_import(SAMPLE_PORTFOLIO / "resume.json")
    await store.update({"basics": {"label": "Meanwhile"}}, reason="r", client="test")
    with pytest.raises(ConcurrentWriteError) as refused:
        await store.apply_import(plan, client="test")
    assert "run the import again" in str(refused.value)


async def test_chunks_indexed_before_public_chunks_existed_are_rebuilt_once(store: ProfileStore) -> None:
    summary = "Former address: ines.old@example.org. Led the Falcon migration."
    await store.update({"basics": {"email": "ines.old@example.org"}}, reason="r", client="test")
    await store.update(
        {"basics": {"email": "ines@example.org", "summary": summary}}, reason="r", client="test"
    )
    async with store.pool.connection() as conn:  # as an older version of the server left them
        await conn.execute("DELETE FROM profile.chunks WHERE NOT owner")
        await conn.execute("UPDATE profile.chunks SET public = true")
        await conn.execute("DELETE FROM profile.meta WHERE key = 'index_format'")
    leaked = await store.search("Falcon migration", 50, public_only=True)
    assert any("ines.old@example.org" in h.text for h in leaked)
    assert await store.reindex() > 0
    hits = await store.search("Falcon migration", 50, public_only=True)
    assert any("Falcon" in h.text and "[redacted]" in h.text for h in hits)
    assert not any("ines.old@example.org" in h.text for h in hits)
    assert await store.reindex() == 0
