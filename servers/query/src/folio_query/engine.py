"""Running an accepted statement: a READ ONLY transaction as the reader role, with timeouts, the
extended protocol, row and byte caps, column types, and a risk estimate from EXPLAIN.

Each query is one transaction that is always rolled back:

1. ``BEGIN READ ONLY`` plus ``SET LOCAL`` of ``statement_timeout``, ``lock_timeout``,
   ``idle_in_transaction_session_timeout``, the role and the ``search_path`` (our own text);
2. ``EXPLAIN (FORMAT JSON)`` of the statement: estimated rows and cost decide the risk;
3. the statement itself, streamed over the extended protocol (``Parse``/``Bind``/``Execute`` with no
   parameters: the server refuses more than one statement there), stopped once the row or byte
   cap is reached (the rest is cancelled);
4. ``ROLLBACK``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from folio_query.classify import Classified

log = structlog.get_logger(__name__)

DEFAULT_ROW_LIMIT = 200
MAX_ROW_LIMIT = 5_000
MAX_RESULT_BYTES = 512 * 1024
MAX_CELL_CHARS = 4_000


@dataclass(frozen=True)
class Limits:
    statement_timeout_ms: int = 5_000
    lock_timeout_ms: int = 1_000
    idle_timeout_ms: int = 10_000
    max_cost: float = 1_000_000.0
    max_rows_estimate: float = 1_000_000.0
    max_bytes: int = MAX_RESULT_BYTES


@dataclass(frozen=True)
class Estimate:
    cost: float
    rows: float
    plan: Any  # the JSON plan

    def risky(self, limits: Limits) -> bool:
        return self.cost > limits.max_cost or self.rows > limits.max_rows_estimate


@dataclass(frozen=True)
class Outcome:
    columns: list[tuple[str, str]]
    rows: list[list[Any]]
    truncated: bool
    truncated_by: str | None
    elapsed_ms: float


class QueryFailed(RuntimeError):
    """The database refused or stopped the statement; the message says what to change."""


def plain(value: Any) -> Any:
    """A JSON-able form of a database value."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            return value[:MAX_CELL_CHARS] + "…"
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    tolist = getattr(value, "tolist", None)  # pgvector's numpy arrays
    if callable(tolist):
        return [round(float(x), 6) for x in tolist()]
    return str(value)


def _setup_sql(role: str, schema: str, limits: Limits) -> str:
    return (
        "BEGIN READ ONLY; "
        f"SET LOCAL statement_timeout = {int(limits.statement_timeout_ms)}; "
        f"SET LOCAL lock_timeout = {int(limits.lock_timeout_ms)}; "
        f"SET LOCAL idle_in_transaction_session_timeout = {int(limits.idle_timeout_ms)}; "
        f'SET LOCAL ROLE "{role}"; '
        f'SET LOCAL search_path = "{schema}", public'  # public: pgvector's operators and functions
    )


def _failure(exc: Exception, limits: Limits) -> QueryFailed:
    import psycopg

    if isinstance(exc, psycopg.errors.QueryCanceled):
        return QueryFailed(
            f"The query ran past the {limits.statement_timeout_ms / 1000:g} s time limit and was stopped. "
            "Narrow it (a WHERE on created_at, fewer joins) or aggregate in SQL."
        )
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return QueryFailed("The data is locked by a writer right now; try again in a moment.")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return QueryFailed(
            f"Not permitted: {exc.diag.message_primary or exc}. Only the views of query_schema can be read."
        )
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return QueryFailed("Nothing can be changed through this server: the query runs read-only.")
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        hint = f" Hint: {diag.message_hint}." if diag.message_hint else ""
        return QueryFailed(
            f"PostgreSQL: {diag.message_primary or str(exc).strip()}.{hint} Fix the SQL (query_schema lists the "
            "views and columns) and try again."
        )
    return QueryFailed(f"The query failed: {exc}")


class Engine:
    """Runs classified statements on a pool as one audience's reader role."""

    def __init__(self, pool: Any, *, role: str, schema: str, limits: Limits) -> None:
        self.pool = pool
        self.role = role
        self.schema = schema
        self.limits = limits

    async def _explain(self, conn: Any, sql: str) -> Estimate:
        cur = conn.cursor()
        # binary results force the extended protocol: one statement, whatever the text
        await cur.execute(f"EXPLAIN (FORMAT JSON) {sql}", binary=True)
        row = await cur.fetchone()
        doc = next(iter(row.values())) if isinstance(row, dict) else row[0]
        if isinstance(doc, str):
            doc = json.loads(doc)
        plan = doc[0]["Plan"]
        return Estimate(cost=float(plan.get("Total Cost", 0.0)), rows=_most_rows(plan), plan=doc)

    async def estimate(self, classified: Classified) -> Estimate:
        """EXPLAIN without running (the explained statement for an EXPLAIN)."""
        target = classified.inner_sql or classified.sql
        async with self.pool.connection() as conn:
            try:
                await conn.execute(_setup_sql(self.role, self.schema, self.limits))
                return await self._explain(conn, target)
            except QueryFailed:
                raise
            except Exception as exc:
                raise _failure(exc, self.limits) from exc
            finally:
                await _end(conn)

    async def run(
        self, classified: Classified, *, limit: int, allow_risky: bool
    ) -> tuple[Estimate | None, Outcome | None]:
        """Estimate, then run unless risky and not allowed. Returns (estimate, outcome or None)."""
        async with self.pool.connection() as conn:
            try:
                await conn.execute(_setup_sql(self.role, self.schema, self.limits))
                estimate: Estimate | None = None
                if classified.kind != "explain":
                    estimate = await self._explain(conn, classified.sql)
                    if estimate.risky(self.limits) and not allow_risky:
                        return estimate, None
                return estimate, await self._fetch(conn, classified.sql, limit)
            except QueryFailed:
                raise
            except Exception as exc:
                raise _failure(exc, self.limits) from exc
            finally:
                await _end(conn)

    async def _fetch(self, conn: Any, sql: str, limit: int) -> Outcome:
        from psycopg.rows import tuple_row

        started = time.perf_counter()
        cur = conn.cursor(row_factory=tuple_row)
        rows: list[list[Any]] = []
        size = 0
        truncated_by: str | None = None
        columns: list[tuple[str, str]] = []
        async for record in cur.stream(sql, size=min(limit + 1, 500)):
            if not columns:
                columns = _columns(conn, cur)
            if len(rows) >= limit:
                truncated_by = "rows"
                break
            row = [plain(v) for v in record]
            size += len(json.dumps(row, ensure_ascii=False, default=str))
            if size > self.limits.max_bytes and rows:
                truncated_by = "bytes"
                break
            rows.append(row)
        if not columns:
            columns = _columns(conn, cur)
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(columns, rows, truncated_by is not None, truncated_by, round(elapsed, 3))


def _most_rows(plan: dict[str, Any]) -> float:
    """The largest row estimate of any node: a count(*) over a huge join returns one row."""
    rows = float(plan.get("Plan Rows", 0.0))
    for child in plan.get("Plans", ()) or ():
        rows = max(rows, _most_rows(child))
    return rows


def _columns(conn: Any, cur: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for col in cur.description or ():
        info = conn.adapters.types.get(col.type_code)
        out.append((col.name, info.name if info is not None else f"oid {col.type_code}"))
    return out


async def _end(conn: Any) -> None:
    """Roll back whatever state the transaction is in (idle, failed after a cancel, …)."""
    import psycopg

    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            await conn.execute("ROLLBACK")
    except Exception as exc:  # a broken connection: the pool discards it
        log.warning("rollback failed", error=str(exc))
