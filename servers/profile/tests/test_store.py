"""The profile store on the real database: concurrent writers, model changes, public chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from folio_core.db import apply_migrations, open_pool, package_migrations
from folio_core.embeddings import EmbedderMismatchError, make_embedder
from folio_core.testing import SAMPLE_PORTFOLIO
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


async def test_unchanged_file_is_not_imported_again_and_force_is_a_no_op(
    store: ProfileStore, tmp_path: Path, sample_resume: dict[str, Any]
) -> None:
    assert await store.import_file(SAMPLE_PORTFOLIO / "resume.json") is None
    forced = await store.import_file(SAMPLE_PORTFOLIO / "resume.json", force=True)
    assert forced is not None and not forced.created and forced.version == 1
