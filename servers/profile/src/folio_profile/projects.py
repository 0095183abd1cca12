"""Evidence from the owner's git repositories, read from the projects server's tables.

The projects server stores its scans in the shared database (schema ``projects``); job matching
cites them next to the résumé when they exist. Nothing here calls the projects server: when its
tables are absent, or the query fails or takes too long, there is simply no project evidence.
Visitors (``public_only``) see only repositories marked public.
"""

from __future__ import annotations

import re
from typing import Any

import structlog

from folio_core.db.pool import Pool
from folio_profile.models import ProjectEvidence

log = structlog.get_logger(__name__)

PER_TERM = 3
"""At most this many repositories are cited for one term."""

_SQL = r"""
WITH t(term, pattern) AS (SELECT * FROM unnest(%(terms)s::text[], %(patterns)s::text[])),
visible AS (SELECT name FROM projects.repositories WHERE public OR NOT %(public_only)s),
lang AS (
    SELECT t.term, f.repo, sum(f.code)::bigint AS code
    FROM t JOIN projects.files f ON lower(f.language) = t.term
    WHERE f.repo IN (SELECT name FROM visible)
    GROUP BY t.term, f.repo
),
com AS (
    SELECT t.term, c.repo, count(*) AS commits, min(c.authored_at) AS first, max(c.authored_at) AS last
    FROM t JOIN projects.commits c
        ON c.is_owner AND NOT c.is_merge AND NOT c.is_bot AND NOT c.is_reformat
    WHERE c.repo IN (SELECT name FROM visible)
      AND (c.subject ~* t.pattern OR EXISTS (
            SELECT 1 FROM projects.file_changes fc
            JOIN projects.extensions x ON x.extension = lower(substring(fc.path from '\.[^./]*$'))
            WHERE fc.repo = c.repo AND fc.sha = c.sha AND lower(x.language) = t.term))
    GROUP BY t.term, c.repo
)
SELECT COALESCE(com.term, lang.term) AS term, COALESCE(com.repo, lang.repo) AS repo,
       COALESCE(com.commits, 0) AS commits, com.first, com.last, lang.code
FROM com FULL JOIN lang ON lang.term = com.term AND lang.repo = com.repo
WHERE COALESCE(com.commits, 0) > 0
ORDER BY 1, 3 DESC, 6 DESC NULLS LAST, 2
"""


def term_pattern(term: str) -> str:
    """A case-insensitive PostgreSQL regular expression matching ``term`` as a whole word."""
    escaped = re.sub(r"([^A-Za-z0-9 ])", r"\\\1", term.lower())
    return f"(^|[^a-z0-9]){escaped}([^a-z0-9+#]|$)"


async def _available(conn: Any) -> bool:
    row = await (
        await conn.execute(
            "SELECT to_regclass('projects.commits') IS NOT NULL AND to_regclass('projects.files') IS NOT NULL "
            "AND to_regclass('projects.extensions') IS NOT NULL AS ok"
        )
    ).fetchone()
    return bool(row and row["ok"])


async def project_evidence(
    pool: Pool, terms: list[str], *, public_only: bool
) -> dict[str, list[ProjectEvidence]]:
    """Per lower-cased term, the repositories (best first) whose owner's commits show it."""
    wanted = sorted({t.strip().lower() for t in terms if t.strip()})
    if not wanted:
        return {}
    import psycopg

    found: dict[str, list[ProjectEvidence]] = {}
    try:
        async with pool.connection() as conn, conn.transaction():
            if not await _available(conn):
                return {}
            await conn.execute("SET TRANSACTION READ ONLY")
            await conn.execute("SET LOCAL statement_timeout = '3s'")
            rows = await (
                await conn.execute(
                    _SQL,
                    {
                        "terms": wanted,
                        "patterns": [term_pattern(t) for t in wanted],
                        "public_only": public_only,
                    },
                )
            ).fetchall()
    except psycopg.Error as exc:
        log.warning("project evidence left out", error=str(exc).splitlines()[0])
        return {}
    for row in rows:
        bucket = found.setdefault(row["term"], [])
        if len(bucket) < PER_TERM:
            bucket.append(
                ProjectEvidence(
                    repo=row["repo"],
                    term=row["term"],
                    commits=int(row["commits"]),
                    lines_of_code=int(row["code"]) if row["code"] is not None else None,
                    first_commit=row["first"].date().isoformat() if row["first"] else None,
                    last_commit=row["last"].date().isoformat() if row["last"] else None,
                )
            )
    return found
