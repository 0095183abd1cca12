"""The layer: views appear when their base tables do, the reader roles are checked."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from folio_core.db.migrations import apply_migrations, package_migrations
from folio_core.db.pool import open_pool
from folio_query import layer

pytestmark = pytest.mark.anyio


async def test_views_of_missing_tables_are_skipped_then_created_at_a_later_start(database_url: str) -> None:
    pool = await open_pool(database_url)
    try:
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_query", package_migrations("folio_query"))
            await apply_migrations(conn, "folio_memory", package_migrations("folio_memory"))
            created = await layer.sync_layer(conn)
            assert "memories" in created[False] and "host_tool_calls" not in created[False]
            assert await layer.present_views(conn, True) == ["memories", "memory_history"]
            await apply_migrations(conn, "folio_orchestrator", package_migrations("folio_orchestrator"))
            again = await layer.sync_layer(conn)  # the next start
            assert "host_tool_calls" in again[False] and "host_tool_calls" not in again[True]
    finally:
        await pool.close()


async def test_the_reader_roles_reach_only_their_own_schema(seeded_url: str) -> None:
    pool = await open_pool(seeded_url)
    try:
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_query", package_migrations("folio_query"))
            await layer.sync_layer(conn)
    finally:
        await pool.close()
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        for role, other in ((layer.OWNER_ROLE, "query_public"), (layer.PUBLIC_ROLE, "query")):
            for schema in ("memory", "host", "profile", "query_state", other):
                row = conn.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", (role, schema)).fetchone()
                assert row == (False,), (role, schema)
        conn.execute("BEGIN READ ONLY")
        conn.execute(f"SET LOCAL ROLE {layer.OWNER_ROLE}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pg_read_file('/etc/hostname')")
        conn.execute("ROLLBACK")
        conn.execute("BEGIN READ ONLY")
        conn.execute(f"SET LOCAL ROLE {layer.PUBLIC_ROLE}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM memory.memories")
        conn.execute("ROLLBACK")
        # a reader that was given more than its schema is refused at start
        conn.execute(f"GRANT USAGE ON SCHEMA memory TO {layer.OWNER_ROLE}")
    pool = await open_pool(seeded_url)
    try:
        async with pool.connection() as conn:
            with pytest.raises(layer.LayerError, match="REVOKE ALL ON SCHEMA memory"):
                await layer.check_roles(conn)
    finally:
        await pool.close()
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        conn.execute(f"REVOKE ALL ON SCHEMA memory FROM {layer.OWNER_ROLE}")


def test_every_view_documents_every_column() -> None:
    for view in layer.VIEWS:
        assert view.description and all(text for _, text in view.columns), view.name
        for public in (False, True):
            sql = view.sql_for(public)
            if sql is None:
                continue
            for column, _ in layer.view_columns(view, public):
                assert column in sql, (view.name, column)


async def test_views_whose_package_is_still_migrating_appear_once_it_has(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers of a fleet start together: the profile server may have created profile.chunks but
    not yet added its columns when this one builds the layer. Nothing fails; the view follows."""
    from mcp import Client

    from folio_core.settings import FolioSettings
    from folio_query.server import build_server

    monkeypatch.setattr("folio_query.service.CATCH_UP_SECONDS", 0.0)
    first, *rest = package_migrations("folio_profile")
    pool = await open_pool(database_url)
    try:
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_profile", [first])  # chunks without its 'owner' column
        settings = FolioSettings(_env_file=None, database_url=database_url, data_dir=tmp_path / "data")
        async with Client(build_server(settings).mcp) as c:
            before = await c.call_tool("query_schema", {})
            assert before.structured_content is not None
            names = {v["name"] for v in before.structured_content["views"]}
            assert "resume_skills" in names and "resume_sections" not in names
            async with pool.connection() as conn:
                await apply_migrations(conn, "folio_profile", [first, *rest])
            after = await c.call_tool("query_sql", {"sql": "SELECT count(*) FROM resume_sections"})
            assert not after.is_error, after.content
            assert after.structured_content is not None and after.structured_content["rows"] == [[0]]
    finally:
        await pool.close()
