"""The async psycopg pool every Folio process uses, with pgvector's types registered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import psycopg
import structlog
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from folio_core.db.embedded import embedded_postgres
from folio_core.settings import FolioSettings

log = structlog.get_logger(__name__)

Connection = psycopg.AsyncConnection[dict[str, Any]]
Pool = AsyncConnectionPool[Connection]


CONNECT_TIMEOUT = 5  # seconds; a URL's own connect_timeout wins


class DatabaseError(RuntimeError):
    """The database is unusable for Folio (unreachable, or missing pgvector)."""


def _connect_options(url: str) -> dict[str, Any]:
    """Connection keywords: autocommit, dict rows, and a connect timeout so that an unreachable
    server (a firewall that drops packets, a host that accepts and never answers) fails in
    seconds with a clear error instead of hanging the server's start-up."""
    from psycopg.conninfo import conninfo_to_dict

    options: dict[str, Any] = {"autocommit": True, "row_factory": dict_row}
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        given = {}
    if "connect_timeout" not in given:
        options["connect_timeout"] = CONNECT_TIMEOUT
    return options


async def resolve_database_url(settings: FolioSettings) -> str:
    """The configured URL, or the URL of the embedded cluster (started on demand)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return await anyio.to_thread.run_sync(embedded_postgres(settings.data_dir).start)


async def ensure_pgvector(conn: psycopg.AsyncConnection[Any]) -> None:
    """Create the ``vector`` extension, or explain clearly that the server lacks it."""
    row = await (
        await conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
    ).fetchone()
    if row is None:
        info = conn.info
        raise DatabaseError(
            f"the PostgreSQL server at {info.host}:{info.port} (version {info.server_version // 10000}) "
            "has no pgvector extension. Folio stores embeddings with pgvector: install it on that server "
            "(e.g. the pgvector/pgvector Docker image, or the postgresql-NN-pgvector package), "
            "or unset FOLIO_DATABASE_URL to use Folio's embedded PostgreSQL, which includes it."
        )
    # CREATE EXTENSION races between processes; serialise it on an advisory lock.
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('folio:create-extension'))")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


async def _configure(conn: Connection) -> None:
    from pgvector.psycopg import register_vector_async

    await register_vector_async(conn)
    # register_vector_async runs a query, which opens a transaction in non-autocommit mode.
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        await conn.rollback()


async def connect(url: str, *, autocommit: bool = True) -> Connection:
    """One connection outside the pool (LISTEN, migrations, admin work)."""
    options = _connect_options(url) | {"autocommit": autocommit}
    try:
        conn = await psycopg.AsyncConnection.connect(url, **options)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
    return conn


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 8) -> Pool:
    """Open a pool on ``url`` after checking pgvector; every connection has vector types registered.

    The caller closes it (``await pool.close()``).
    """
    conn = await connect(url)
    try:
        await ensure_pgvector(conn)
    finally:
        await conn.close()
    pool: Pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs=_connect_options(url),
        configure=_configure,
        open=False,
        name="folio",
    )
    await pool.open(wait=True, timeout=30)
    return pool


@asynccontextmanager
async def migrated_pool(settings: FolioSettings, package: str, *, max_size: int = 4) -> AsyncIterator[Pool]:
    """A pool on the configured (or embedded) database with ``package``'s migrations applied;
    for command-line tools and hosts that are not MCP servers (servers get theirs from
    :class:`folio_core.mcp.FolioServer`)."""
    from folio_core.db.migrations import apply_migrations, package_migrations

    pool = await open_pool(await resolve_database_url(settings), max_size=max_size)
    try:
        async with pool.connection() as conn:
            await apply_migrations(conn, package, package_migrations(package))
        yield pool
    finally:
        await pool.close()
