"""The database change feed: ``NOTIFY folio_events`` with the changed resource URI.

A write that changes what a resource shows calls :func:`notify` inside its transaction;
PostgreSQL delivers the notification to every listener only when that transaction commits, so a
rolled-back write never announces anything. Every server process runs one :class:`ChangeFeed`
and turns its events into MCP change notifications for its own clients.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any

import psycopg
import structlog

from folio_core.db.pool import Connection, connect

log = structlog.get_logger(__name__)

CHANNEL = "folio_events"
MAX_PAYLOAD = 7900  # PostgreSQL rejects NOTIFY payloads of 8000 bytes or more


async def notify(conn: psycopg.AsyncConnection[Any], uri: str) -> None:
    """Announce that the resource at ``uri`` changed (delivered when the transaction commits)."""
    if len(uri.encode()) > MAX_PAYLOAD:
        raise ValueError(f"resource URI too long for the change feed ({len(uri)} characters)")
    await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, uri))


async def notify_many(conn: psycopg.AsyncConnection[Any], uris: Iterable[str]) -> None:
    for uri in dict.fromkeys(uris):
        await notify(conn, uri)


class ChangeFeed:
    """``LISTEN folio_events`` on a dedicated connection, as an async iterator of URIs.

    Use as ``async with ChangeFeed(url) as feed: async for uri in feed: ...``. Entering returns
    once the LISTEN is in place, so a change committed after that is never missed.
    """

    def __init__(self, url: str, *, prefixes: tuple[str, ...] = ()) -> None:
        self._url = url
        self._prefixes = prefixes
        self._conn: Connection | None = None
        self._iterator: AsyncGenerator[str, None] | None = None

    async def __aenter__(self) -> ChangeFeed:
        self._conn = await connect(self._url, autocommit=True)
        await self._conn.execute(f"LISTEN {CHANNEL}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._iterator is not None:
            await self._iterator.aclose()
            self._iterator = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    def __aiter__(self) -> AsyncIterator[str]:
        if self._conn is None:
            raise RuntimeError("enter the ChangeFeed (async with) before iterating it")
        # One generator for the feed's lifetime: leaving an ``async for`` early and iterating again
        # resumes it. A fresh psycopg notifies() generator each time would drop the rest of a batch
        # of notifications that arrived together (e.g. several URIs committed in one transaction).
        if self._iterator is None:
            self._iterator = self._events(self._conn)
        return self._iterator

    async def _events(self, conn: Connection) -> AsyncGenerator[str, None]:
        async with contextlib.aclosing(conn.notifies()) as notes:
            async for note in notes:
                if note.channel != CHANNEL:
                    continue
                if self._prefixes and not note.payload.startswith(self._prefixes):
                    continue
                yield note.payload
