"""pytest fixtures shared by every Folio package's tests (loaded by the root ``conftest.py``).

All database tests run on a real embedded PostgreSQL 16 + pgvector started once per session in a
temporary directory; each test that asks for ``database_url`` gets a fresh database of its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from folio_core.db.embedded import EmbeddedPostgres

if TYPE_CHECKING:
    from mcp.types import CallToolResult

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PORTFOLIO = REPO_ROOT / "configs" / "portfolio"
REDIS_URL = os.environ.get("FOLIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def embedded_pg() -> Iterator[EmbeddedPostgres]:
    """One embedded cluster for the whole test session."""
    # Not under pytest's basetemp: as root, pgserver runs PostgreSQL as the 'pgserver' user, which must
    # traverse every parent directory, and each pytest session that starts makes /tmp/pytest-of-<user>
    # private (0700) again, which breaks the cluster of any other session running at the same time.
    data_dir = Path(tempfile.mkdtemp(prefix="folio-test-"))
    server = EmbeddedPostgres(data_dir)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_url(embedded_pg: EmbeddedPostgres) -> str:
    return embedded_pg.start()


@pytest.fixture
def database_url(admin_url: str) -> Iterator[str]:
    """A fresh, empty database on the embedded cluster (dropped after the test)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(admin_url, dbname=name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis (database 15, flushed by the tests that use it)."""
    return REDIS_URL


def tool_text(result: CallToolResult) -> str:
    """The text blocks of a tool result, joined."""
    return "".join(getattr(block, "text", "") for block in result.content)


async def call_ok(
    client: Any, tool: str, args: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Call ``tool`` through an MCP client and return its structured result; a tool error fails the test."""
    result = await client.call_tool(tool, args or {}, **kwargs)
    assert not result.is_error, tool_text(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


async def call_fails(client: Any, tool: str, args: dict[str, Any]) -> str:
    """Call ``tool``, which must fail as a tool error; its message, for the test to check."""
    result = await client.call_tool(tool, args)
    assert result.is_error, f"{tool} should have failed: {result.structured_content}"
    return tool_text(result)
