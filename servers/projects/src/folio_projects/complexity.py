"""Cyclomatic complexity per file, measured with lizard (the sum of its functions' CCN, at least 1).

Measuring every file of a long history's HEAD would cost more than the scan itself, so files are
measured when hotspots are asked for: the most-changed unmeasured files of a repository, read from
git's object store, measured in a worker thread, and stored by blob id (a blob is measured once;
a rescan keeps the figure of every file that did not change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import structlog

from folio_core.db.pool import Pool
from folio_projects.languages import MEASURED_LANGUAGES, read_blobs

log = structlog.get_logger(__name__)

MEASURE_AT_LEAST = 100
"""A hotspots question measures this many of the most-changed unmeasured files (or 4 × its limit)."""


def measure(path: str, data: bytes) -> int:
    """The cyclomatic complexity of one file: the sum over its functions, at least 1."""
    from lizard import analyze_file

    info = analyze_file.analyze_source_code(path, data.decode("utf-8", "replace"))
    return max(1, sum(int(f.cyclomatic_complexity) for f in info.function_list))


def measure_blobs(repo: Path, files: list[tuple[str, str]]) -> dict[str, int]:
    """Complexity per blob id of ``files`` (path, blob) at ``repo``."""
    out: dict[str, int] = {}
    for (path, blob), data in zip(files, read_blobs(repo, [b for _, b in files]), strict=True):
        if data is not None:
            out[blob] = measure(path, data)
    return out


async def measure_hotspot_candidates(pool: Pool, name: str, path: Path, limit: int) -> int:
    """Measure the most-changed files of ``name`` whose complexity is unknown; how many were measured."""
    want = max(MEASURE_AT_LEAST, 4 * limit)
    async with pool.connection() as conn:
        rows: list[dict[str, Any]] = await (
            await conn.execute(
                "SELECT f.path, f.blob FROM projects.files f LEFT JOIN (SELECT path, count(*) AS n "
                "FROM projects.file_changes WHERE repo = %s GROUP BY path) c ON c.path = f.path "
                "WHERE f.repo = %s AND f.complexity IS NULL AND f.language = ANY(%s) "
                "ORDER BY c.n DESC NULLS LAST, f.path LIMIT %s",
                (name, name, sorted(MEASURED_LANGUAGES), want),
            )
        ).fetchall()
    if not rows:
        return 0
    measured = await anyio.to_thread.run_sync(measure_blobs, path, [(r["path"], r["blob"]) for r in rows])
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "UPDATE projects.files f SET complexity = m.c FROM unnest(%s::text[], %s::integer[]) AS m(blob, c) "
            "WHERE f.repo = %s AND f.blob = m.blob",
            (list(measured), list(measured.values()), name),
        )
    log.info("complexity measured", repo=name, files=len(measured))
    return len(measured)
