"""The profile schema: immutable résumé versions, their search chunks, and the audit trail.

Every write (import, update, rollback) adds a version in one transaction together with its
chunks, its audit row and the change-feed notifications, so a process killed mid-write leaves
either the whole new version or nothing. History is never rewritten: a rollback is a new
version equal to an old one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import structlog
from psycopg.types.json import Jsonb

from folio_core.changefeed import notify_many
from folio_core.db import Connection, Pool
from folio_core.embeddings import Embedder, EmbedderMismatchError
from folio_profile.chunks import Chunk, chunk_resume
from folio_profile.errors import ConcurrentWriteError, NoProfileError, VersionNotFoundError
from folio_profile.models import Change, SearchHit
from folio_profile.patch import diff, merge_patch
from folio_profile.resume import (
    ResumeInvalidError,
    ResumeIssue,
    load_resume,
    redact_public,
    resume_digest,
    validate_resume,
)
from folio_profile.uris import RESUME_JSON, RESUME_MD, SKILLS, version_uri

log = structlog.get_logger(__name__)

_WRITE_LOCK = "folio:profile:write"
_LAST_IMPORT_KEY = "last_import_digest"
_RRF_K = 60
_SEARCH_SQL = """
WITH words AS (
    -- any of the query's words counts (OR), so keywords help without being required
    SELECT replace(websearch_to_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery AS query
), candidates AS (
    SELECT section, path, text, embedding <=> %(q)s AS dist, ts_rank_cd(tsv, words.query) AS fts
    FROM profile.chunks, words
    WHERE version = %(v)s AND embedding_model = %(m)s AND (public OR NOT %(public_only)s)
), ranked AS (
    SELECT *, row_number() OVER (ORDER BY dist) AS sem_rank,
           CASE WHEN fts > 0 THEN row_number() OVER (ORDER BY fts DESC) END AS fts_rank,
           max(fts) OVER () AS max_fts
    FROM candidates
)
SELECT section, path, text, 1 - dist AS similarity, fts, max_fts,
       1.0 / (%(k)s + sem_rank) + coalesce(1.0 / (%(k)s + fts_rank), 0) AS rrf
FROM ranked ORDER BY rrf DESC, path LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Version:
    version: int
    document: dict[str, Any]
    digest: str
    action: str
    source: str | None
    created_at: datetime


@dataclass(frozen=True)
class WriteOutcome:
    version: int
    previous_version: int | None
    changes: list[Change]
    created: bool


@dataclass(frozen=True)
class AuditEntry:
    version: int
    previous_version: int | None
    action: str
    at: datetime
    client: str | None
    reason: str | None
    changes: int


@dataclass(frozen=True)
class _Indexed:
    chunks: list[Chunk]
    public: list[bool]
    vectors: np.ndarray


class ProfileStore:
    def __init__(self, pool: Pool, embedder: Embedder) -> None:
        self.pool = pool
        self.embedder = embedder

    # ----------------------------------------------------------------- reads

    async def current(self) -> Version | None:
        async with self.pool.connection() as conn:
            return await self._current(conn)

    async def _current(self, conn: Connection) -> Version | None:
        row = await (
            await conn.execute("SELECT * FROM profile.versions ORDER BY version DESC LIMIT 1")
        ).fetchone()
        return _version(row) if row else None

    async def get_version(self, version: int) -> Version:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT * FROM profile.versions WHERE version = %s", (version,))
            ).fetchone()
            if row is None:
                raise VersionNotFoundError(version, await self._version_numbers(conn))
        return _version(row)

    async def version_numbers(self) -> list[int]:
        async with self.pool.connection() as conn:
            return await self._version_numbers(conn)

    @staticmethod
    async def _version_numbers(conn: Connection) -> list[int]:
        rows = await (await conn.execute("SELECT version FROM profile.versions ORDER BY version")).fetchall()
        return [r["version"] for r in rows]

    async def history(self, limit: int) -> list[AuditEntry]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT version, previous_version, action, at, client, reason,
                              jsonb_array_length(diff) AS changes
                       FROM profile.audit ORDER BY id DESC LIMIT %s""",
                    (limit,),
                )
            ).fetchall()
        return [AuditEntry(**row) for row in rows]

    async def audit_diff(self, version: int) -> list[Change]:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT diff FROM profile.audit WHERE version = %s", (version,))
            ).fetchone()
        return [Change.model_validate(c) for c in row["diff"]] if row else []

    async def search(self, query: str, limit: int, *, public_only: bool) -> list[SearchHit]:
        """Hybrid search over the current version: vector similarity and full text, fused by rank."""
        return (await self.search_many([query], limit, public_only=public_only))[0]

    async def search_many(
        self, queries: Sequence[str], limit: int, *, public_only: bool
    ) -> list[list[SearchHit]]:
        """:meth:`search` for several queries, embedded in one batch."""
        async with self.pool.connection() as conn:
            current = await self._current(conn)
            if current is None:
                raise NoProfileError("no résumé has been imported yet")
            await self._check_model(conn, current.version)
        vectors = await anyio.to_thread.run_sync(self.embedder.embed_documents, list(queries))
        results: list[list[SearchHit]] = []
        async with self.pool.connection() as conn:
            for query, vector in zip(queries, vectors, strict=True):
                rows = await (
                    await conn.execute(
                        _SEARCH_SQL,
                        {
                            "q": vector,
                            "text": query,
                            "v": current.version,
                            "m": self.embedder.name,
                            "public_only": public_only,
                            "k": _RRF_K,
                            "limit": limit,
                        },
                    )
                ).fetchall()
                results.append([_hit(row) for row in rows])
        return results

    async def _check_model(self, conn: Connection, version: int) -> None:
        row = await (
            await conn.execute(
                """SELECT embedding_model, vector_dims(embedding) AS dim FROM profile.chunks
                   WHERE version = %s GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""",
                (version,),
            )
        ).fetchone()
        if row is not None and row["embedding_model"] != self.embedder.name:
            raise EmbedderMismatchError(
                f"the résumé's search index was made by {row['embedding_model']} ({row['dim']}-d) but the "
                f"configured embedder is {self.embedder.name}; restart the profile server to re-index, "
                "or set FOLIO_EMBEDDER back"
            )

    # ---------------------------------------------------------------- writes

    async def import_file(
        self, path: Path, *, client: str | None = None, force: bool = False
    ) -> WriteOutcome | None:
        """Import ``path`` as a new version, unless it is the file imported last (then None)."""
        document = await anyio.to_thread.run_sync(load_resume, path)
        digest = resume_digest(document)
        if not force:
            async with self.pool.connection() as conn:
                row = await (
                    await conn.execute("SELECT value FROM profile.meta WHERE key = %s", (_LAST_IMPORT_KEY,))
                ).fetchone()
            if row is not None and row["value"] == digest:
                return None
        return await self._write(
            lambda _current: document,
            action="import",
            source=str(path),
            reason=f"imported {path.name}",
            client=client,
            import_digest=digest,
        )

    async def update(self, patch: dict[str, Any], *, reason: str, client: str | None) -> WriteOutcome:
        def apply(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is None:
                raise NoProfileError("no résumé has been imported yet; there is nothing to update")
            result = merge_patch(current, patch)
            if not isinstance(result, dict):
                raise ResumeInvalidError([ResumeIssue("$", "the patch must be a JSON object")])
            return result

        return await self._write(apply, action="update", source=None, reason=reason, client=client)

    async def rollback(self, version: int, *, reason: str, client: str | None) -> WriteOutcome:
        target = await self.get_version(version)
        return await self._write(
            lambda _current: target.document,
            action="rollback",
            source=f"version {version}",
            reason=reason,
            client=client,
        )

    async def reindex(self) -> int:
        """Re-embed the current version's chunks made by another model; return how many."""
        current = await self.current()
        if current is None:
            return 0
        async with self.pool.connection() as conn:
            stale = await (
                await conn.execute(
                    "SELECT count(*) AS n FROM profile.chunks WHERE version = %s AND embedding_model <> %s",
                    (current.version, self.embedder.name),
                )
            ).fetchone()
        if not stale or stale["n"] == 0:
            return 0
        indexed = await self._index(current.document)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM profile.chunks WHERE version = %s", (current.version,))
            await self._insert_chunks(conn, current.version, indexed)
        log.info("profile re-indexed", version=current.version, model=self.embedder.name, chunks=stale["n"])
        return int(stale["n"])

    async def _write(
        self,
        make: Callable[[dict[str, Any] | None], dict[str, Any]],
        *,
        action: str,
        source: str | None,
        reason: str | None,
        client: str | None,
        import_digest: str | None = None,
    ) -> WriteOutcome:
        for _attempt in range(5):
            current = await self.current()
            document = make(current.document if current else None)
            issues = validate_resume(document)
            if issues:
                raise ResumeInvalidError(issues)
            changes = diff(current.document if current else {}, document)
            if current is not None and not changes:
                if import_digest is not None:  # the file changed back to what is current: remember it
                    async with self.pool.connection() as conn:
                        await self._remember_import(conn, import_digest)
                return WriteOutcome(current.version, current.version, [], created=False)
            indexed = await self._index(document)
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_WRITE_LOCK,))
                latest = await self._current(conn)
                if (latest.version if latest else None) != (current.version if current else None):
                    continue  # someone else wrote meanwhile: recompute on top of their version
                if import_digest is not None:
                    await self._remember_import(conn, import_digest)
                version = (current.version if current else 0) + 1
                await conn.execute(
                    """INSERT INTO profile.versions (version, document, digest, action, source)
                       VALUES (%s, %s, %s, %s, %s)""",
                    (version, Jsonb(document), resume_digest(document), action, source),
                )
                await self._insert_chunks(conn, version, indexed)
                await conn.execute(
                    """INSERT INTO profile.audit (action, version, previous_version, client, reason, diff)
                       VALUES (%s, %s, %s, %s, %s, %s)""",
                    (
                        action,
                        version,
                        current.version if current else None,
                        client,
                        reason,
                        Jsonb([c.model_dump(mode="json") for c in changes]),
                    ),
                )
                await notify_many(conn, [RESUME_JSON, RESUME_MD, SKILLS, version_uri(version)])
            log.info("profile version written", version=version, action=action, changes=len(changes))
            return WriteOutcome(version, current.version if current else None, changes, created=True)
        raise ConcurrentWriteError("the profile kept changing under this write; try again")

    @staticmethod
    async def _remember_import(conn: Connection, digest: str) -> None:
        await conn.execute(
            """INSERT INTO profile.meta (key, value) VALUES (%s, %s)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (_LAST_IMPORT_KEY, Jsonb(digest)),
        )

    async def _index(self, document: dict[str, Any]) -> _Indexed:
        chunks = chunk_resume(document)
        public_keys = {(c.path, c.part, c.text) for c in chunk_resume(redact_public(document))}
        public = [(c.path, c.part, c.text) in public_keys for c in chunks]
        texts = [c.text for c in chunks]
        known: dict[str, Any] = {}
        if texts:
            async with self.pool.connection() as conn:
                rows = await (
                    await conn.execute(
                        """SELECT DISTINCT ON (text) text, embedding FROM profile.chunks
                           WHERE embedding_model = %s AND text = ANY(%s)""",
                        (self.embedder.name, texts),
                    )
                ).fetchall()
            known = {r["text"]: r["embedding"].to_numpy().astype(np.float32) for r in rows}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = await anyio.to_thread.run_sync(self.embedder.embed_documents, missing)
            known.update(zip(missing, fresh, strict=True))
        vectors = (
            np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.embedder.dim), np.float32)
        )
        return _Indexed(chunks, public, vectors)

    async def _insert_chunks(self, conn: Connection, version: int, indexed: _Indexed) -> None:
        async with conn.cursor() as cur:
            await cur.executemany(
                """INSERT INTO profile.chunks (version, ord, section, path, text, public, embedding, embedding_model)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (version, i, c.section, c.path, c.text, pub, vec, self.embedder.name)
                    for i, (c, pub, vec) in enumerate(
                        zip(indexed.chunks, indexed.public, indexed.vectors, strict=True)
                    )
                ],
            )


def _version(row: dict[str, Any]) -> Version:
    document = row["document"]
    if isinstance(document, str):  # pragma: no cover - psycopg decodes jsonb already
        document = json.loads(document)
    return Version(row["version"], document, row["digest"], row["action"], row["source"], row["created_at"])


def _hit(row: dict[str, Any]) -> SearchHit:
    similarity = max(0.0, min(1.0, float(row["similarity"])))
    fts_share = float(row["fts"]) / float(row["max_fts"]) if row["max_fts"] else 0.0
    score = similarity + (1.0 - similarity) * 0.3 * fts_share
    return SearchHit(section=row["section"], path=row["path"], text=row["text"], score=round(score, 4))
