"""open_pool / connect / ensure_pgvector on the embedded PostgreSQL 16 + pgvector."""

import numpy as np
import psycopg
import pytest
from pgvector import Vector

from folio_core.db.pool import DatabaseError, connect, ensure_pgvector, open_pool, resolve_database_url
from folio_core.settings import FolioSettings

pytestmark = pytest.mark.anyio

# The machine's Debian PostgreSQL 15 (trust auth, database "test"): it really has no pgvector.
DEBIAN_PG_URL = "postgresql://postgres@127.0.0.1:5432/test?connect_timeout=3"


async def test_vectors_round_trip(database_url: str) -> None:
    pool = await open_pool(database_url, min_size=1, max_size=2)
    try:
        async with pool.connection() as conn:
            await conn.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
            await conn.execute("CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops)")
            vectors = {
                1: np.array([1.0, 0.0, 0.0], dtype=np.float32),
                2: np.array([0.0, 1.0, 0.0], dtype=np.float32),
                3: np.array([0.6, 0.8, 0.0], dtype=np.float32),
            }
            for key, vec in vectors.items():
                await conn.execute("INSERT INTO items VALUES (%s, %s)", (key, vec))
            rows = await (await conn.execute("SELECT id, embedding FROM items ORDER BY id")).fetchall()
            assert [r["id"] for r in rows] == [1, 2, 3]
            for row in rows:
                assert isinstance(row["embedding"], Vector)  # numpy in, pgvector's Vector out
                out = row["embedding"].to_numpy()
                assert out.dtype == np.float32
                np.testing.assert_array_equal(out, vectors[row["id"]])

            nearest = await (
                await conn.execute(
                    "SELECT id, embedding <=> %s AS distance FROM items ORDER BY embedding <=> %s LIMIT 2",
                    (np.array([0.5, 0.9, 0.0]), np.array([0.5, 0.9, 0.0])),
                )
            ).fetchall()
            assert [r["id"] for r in nearest] == [3, 2]
            assert nearest[0]["distance"] < nearest[1]["distance"]

            cur = await conn.execute("SELECT %s::vector::text AS v", (Vector([1.5, -2, 3]),))
            text = await cur.fetchone()
            assert text == {"v": "[1.5,-2,3]"}
    finally:
        await pool.close()


async def test_pool_connections_are_autocommit_with_dict_rows(database_url: str) -> None:
    pool = await open_pool(database_url, min_size=2, max_size=2)
    try:
        async with pool.connection() as conn:
            await conn.execute("CREATE TABLE notes (body text)")
            await conn.execute("INSERT INTO notes VALUES ('kept')")  # no explicit commit
        async with pool.connection() as other:
            assert await (await other.execute("SELECT body FROM notes")).fetchall() == [{"body": "kept"}]
            cur = await other.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
            ext = await cur.fetchone()
            assert ext == {"extname": "vector"}
    finally:
        await pool.close()


async def test_ensure_pgvector_is_idempotent_and_safe_concurrently(database_url: str) -> None:
    import anyio

    conns = [await connect(database_url) for _ in range(6)]
    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for conn in conns:
                    tg.start_soon(ensure_pgvector, conn)
        await ensure_pgvector(conns[0])  # and once more
        count = await (
            await conns[0].execute("SELECT count(*) AS n FROM pg_extension WHERE extname = 'vector'")
        ).fetchone()
        assert count == {"n": 1}
    finally:
        for conn in conns:
            await conn.close()


async def test_connect_failure_is_a_database_error_without_the_password() -> None:
    with pytest.raises(DatabaseError) as excinfo:
        await connect("postgresql://folio:pool-s3cret@127.0.0.1:1/folio?connect_timeout=3")
    message = str(excinfo.value)
    assert message.startswith("cannot connect to PostgreSQL:")
    assert "127.0.0.1" in message
    assert "pool-s3cret" not in message
    assert isinstance(excinfo.value.__cause__, psycopg.OperationalError)


async def test_resolve_database_url_prefers_the_configured_url() -> None:
    settings = FolioSettings(_env_file=None, database_url="postgresql://u:pw@db.example/folio")  # type: ignore[call-arg]
    assert await resolve_database_url(settings) == "postgresql://u:pw@db.example/folio"


async def _debian_pg_or_skip() -> psycopg.AsyncConnection[object]:
    try:
        return await psycopg.AsyncConnection.connect(DEBIAN_PG_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL without pgvector reachable at 127.0.0.1:5432 ({exc})")


async def test_server_without_pgvector_is_explained() -> None:
    """Only checks the error against a real server lacking pgvector; creates nothing there."""
    conn = await _debian_pg_or_skip()
    try:
        available = await (
            await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        ).fetchone()
        if available is not None:
            pytest.skip("the server at 127.0.0.1:5432 has pgvector after all")
        with pytest.raises(DatabaseError) as excinfo:
            await ensure_pgvector(conn)
        version = conn.info.server_version // 10000
    finally:
        await conn.close()
    message = str(excinfo.value)
    assert f"the PostgreSQL server at 127.0.0.1:5432 (version {version}) has no pgvector extension" in message
    assert "pgvector/pgvector Docker image" in message
    assert "unset FOLIO_DATABASE_URL" in message

    with pytest.raises(DatabaseError, match="has no pgvector extension"):
        await open_pool(DEBIAN_PG_URL)
