"""The profile schema: immutable résumé versions, their search chunks, and the audit trail.

Every write (import, update, rollback) adds a version in one transaction together with its
chunks, its audit row and the change-feed notifications, so a process killed mid-write leaves
either the whole new version or nothing (``FOLIO_FAULT_PAUSE``, see :mod:`folio_profile.faults`,
stops a write at each stage so that tests can kill it there). History is never rewritten: a
rollback is a new version equal to an old one.

Each imported file's digest is remembered under its own path, so the portfolio file is imported
at start only when it changed since it was last imported, whatever was imported from elsewhere.

Search chunks come in two audiences: the owner's (the document's own text) and the public's (the
text of the document redacted with every private value the owner has ever had, see
:func:`folio_profile.resume.private_values`); a chunk whose text is the same for both is one row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
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
from folio_profile.faults import pause_point
from folio_profile.models import Change, SearchHit
from folio_profile.patch import diff, merge_patch
from folio_profile.resume import (
    SECTIONS,
    ResumeInvalidError,
    ResumeIssue,
    load_resume,
    private_values,
    redact_public,
    resume_digest,
    validate_resume,
)
from folio_profile.uris import RESUME_JSON, RESUME_MD, SKILLS, version_uri

log = structlog.get_logger(__name__)

_WRITE_LOCK = "folio:profile:write"
_IMPORT_KEY_PREFIX = "import_digest:"  # + the resolved path of the imported file
_LEGACY_IMPORT_KEY = "last_import_digest"  # one digest for every file, before per-path keys
_INDEX_FORMAT_KEY = "index_format"
_INDEX_FORMAT = 2  # 2: separate public chunks, scrubbed of former private values
_FIRST_EMBEDDING_BATCH = 256
_RRF_K = 60
_SEARCH_SQL = """
WITH words AS (
    -- any of the query's words counts (OR), so keywords help without being required
    SELECT replace(websearch_to_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery AS query
), candidates AS (
    SELECT section, path, text, embedding <=> %(q)s AS dist, ts_rank_cd(tsv, words.query) AS fts
    FROM profile.chunks, words
    WHERE version = %(v)s AND embedding_model = %(m)s
      AND CASE WHEN %(public_only)s THEN public ELSE owner END
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
class ImportPlan:
    """A file read and validated for import, with what importing it would change."""

    path: Path
    document: dict[str, Any]
    digest: str
    base_version: int | None
    changes: list[Change]
    seen_before: bool
    """The file holds what was last imported from it (the start-up import then skips it)."""


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
    owner: list[bool]
    public: list[bool]
    vectors: np.ndarray


class ProfileStore:
    def __init__(self, pool: Pool, embedder: Embedder) -> None:
        self.pool = pool
        self.embedder = embedder
        # private values of every stored version up to _private_through (versions are immutable)
        self._private: set[str] = set()
        self._private_through = 0

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

    async def private_values(self) -> frozenset[str]:
        """Every e-mail, phone number and street address the owner has had, in any stored version."""
        async with self.pool.connection() as conn:
            return await self._private_values(conn)

    async def _private_values(self, conn: Connection) -> frozenset[str]:
        rows = await (
            await conn.execute(
                "SELECT version, document FROM profile.versions WHERE version > %s ORDER BY version",
                (self._private_through,),
            )
        ).fetchall()
        for row in rows:
            self._private |= private_values(row["document"])
            self._private_through = max(self._private_through, row["version"])
        return frozenset(self._private)

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

    async def plan_import(self, path: Path) -> ImportPlan:
        """Read and validate ``path`` and compare it with the current version; writes nothing.

        Raises :class:`ResumeInvalidError` for a file that is not a résumé, including a valid JSON
        object that has none of the JSON Resume sections (``{"hello": "world"}``).
        """
        await pause_point("start")
        path = path.expanduser().resolve()
        document = await anyio.to_thread.run_sync(load_resume, path)
        if not any(section in document for section in SECTIONS):
            issue = ResumeIssue(
                "$", f"none of the JSON Resume sections ({', '.join(SECTIONS[:4])} …) is present"
            )
            raise ResumeInvalidError([issue], str(path))
        digest = resume_digest(document)
        async with self.pool.connection() as conn:
            current = await self._current(conn)
            rows = await (
                await conn.execute(
                    "SELECT key, value FROM profile.meta WHERE key = ANY(%s)",
                    ([_import_key(path), _LEGACY_IMPORT_KEY],),
                )
            ).fetchall()
        remembered = {row["key"]: row["value"] for row in rows}
        last = remembered.get(_import_key(path), remembered.get(_LEGACY_IMPORT_KEY))
        return ImportPlan(
            path=path,
            document=document,
            digest=digest,
            base_version=current.version if current else None,
            changes=diff(current.document if current else {}, document),
            seen_before=last == digest,
        )

    async def apply_import(
        self, plan: ImportPlan, *, client: str | None, strict: bool = True
    ) -> WriteOutcome:
        """Write ``plan`` as a new version (or just remember its digest when nothing changed).

        ``strict``: refuse with :class:`ConcurrentWriteError` when the résumé changed since the plan
        was made (its changes were shown to someone who confirmed them).
        """

        def make(current: dict[str, Any] | None, version: int | None) -> dict[str, Any]:
            if strict and version != plan.base_version:
                raise ConcurrentWriteError(
                    f"the résumé changed (now version {version}) while this import was being confirmed; "
                    "run the import again"
                )
            return plan.document

        return await self._write(
            make,
            action="import",
            source=str(plan.path),
            reason=f"imported {plan.path.name}",
            client=client,
            import_digest=(_import_key(plan.path), plan.digest),
        )

    async def import_file(self, path: Path, *, client: str | None = None) -> WriteOutcome | None:
        """Import ``path`` unless it holds what was last imported from it (then None): the start-up import."""
        plan = await self.plan_import(path)
        if plan.seen_before:
            return None
        return await self.apply_import(plan, client=client, strict=False)

    async def update(self, patch: dict[str, Any], *, reason: str, client: str | None) -> WriteOutcome:
        def apply(current: dict[str, Any] | None, _version: int | None) -> dict[str, Any]:
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
            lambda _current, _version: target.document,
            action="rollback",
            source=f"version {version}",
            reason=reason,
            client=client,
        )

    async def reindex(self) -> int:
        """Rebuild the current version's chunks when another model made them or they predate the
        current chunk format; return how many chunks were stale."""
        async with self.pool.connection() as conn:
            current = await self._current(conn)
            if current is None:
                return 0
            stale = await (
                await conn.execute(
                    "SELECT count(*) AS n FROM profile.chunks WHERE version = %s AND embedding_model <> %s",
                    (current.version, self.embedder.name),
                )
            ).fetchone()
            stale_count = int(stale["n"]) if stale else 0
            old_format = await self._meta(conn, _INDEX_FORMAT_KEY) != _INDEX_FORMAT
            also = await self._private_values(conn)
        if stale_count == 0 and not old_format:
            return 0
        indexed = await self._index(current.document, also, current.version)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_WRITE_LOCK,))
            latest = await self._current(conn)
            if latest is not None and latest.version == current.version:
                await conn.execute("DELETE FROM profile.chunks WHERE version = %s", (current.version,))
                await self._insert_chunks(conn, current.version, indexed)
            await self._set_meta(conn, _INDEX_FORMAT_KEY, _INDEX_FORMAT)
        log.info(
            "profile re-indexed",
            version=current.version,
            model=self.embedder.name,
            chunks=len(indexed.chunks),
        )
        return stale_count or len(indexed.chunks)

    async def _write(
        self,
        make: Callable[[dict[str, Any] | None, int | None], dict[str, Any]],
        *,
        action: str,
        source: str | None,
        reason: str | None,
        client: str | None,
        import_digest: tuple[str, str] | None = None,
    ) -> WriteOutcome:
        for _attempt in range(5):
            async with self.pool.connection() as conn:
                current = await self._current(conn)
                also = await self._private_values(conn)
            document = make(current.document if current else None, current.version if current else None)
            issues = validate_resume(document)
            if issues:
                raise ResumeInvalidError(issues)
            changes = diff(current.document if current else {}, document)
            if current is not None and not changes:
                if import_digest is not None:  # the file changed back to what is current: remember it
                    async with self.pool.connection() as conn:
                        await self._set_meta(conn, *import_digest)
                return WriteOutcome(current.version, current.version, [], created=False)
            indexed = await self._index(document, also, current.version if current else None)
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_WRITE_LOCK,))
                latest = await self._current(conn)
                if (latest.version if latest else None) != (current.version if current else None):
                    continue  # someone else wrote meanwhile: recompute on top of their version
                if import_digest is not None:
                    await self._set_meta(conn, *import_digest)
                await self._set_meta(conn, _INDEX_FORMAT_KEY, _INDEX_FORMAT)
                version = (current.version if current else 0) + 1
                await conn.execute(
                    """INSERT INTO profile.versions (version, document, digest, action, source)
                       VALUES (%s, %s, %s, %s, %s)""",
                    (version, Jsonb(document), resume_digest(document), action, source),
                )
                await pause_point("transaction")
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
                await pause_point("commit")
            log.info("profile version written", version=version, action=action, changes=len(changes))
            return WriteOutcome(version, current.version if current else None, changes, created=True)
        raise ConcurrentWriteError("the profile kept changing under this write; try again")

    @staticmethod
    async def _meta(conn: Connection, key: str) -> Any:
        row = await (await conn.execute("SELECT value FROM profile.meta WHERE key = %s", (key,))).fetchone()
        return row["value"] if row else None

    @staticmethod
    async def _set_meta(conn: Connection, key: str, value: Any) -> None:
        await conn.execute(
            """INSERT INTO profile.meta (key, value) VALUES (%s, %s)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (key, Jsonb(value)),
        )

    async def _known_vectors(self, texts: list[str], base_version: int | None) -> dict[str, np.ndarray]:
        """Vectors already made for ``texts``: first from ``base_version``'s chunks (an update changes
        few of them; read by the primary key), then, for the rest, from any version's chunks."""
        known: dict[str, np.ndarray] = {}
        wanted = set(texts)
        async with self.pool.connection() as conn:
            if base_version is not None and wanted:
                cursor = await conn.execute(
                    "SELECT text, embedding FROM profile.chunks WHERE version = %s AND embedding_model = %s",
                    (base_version, self.embedder.name),
                    binary=True,  # vectors as binary: parsing their text form costs more than the query
                )
                for row in await cursor.fetchall():
                    if row["text"] in wanted:
                        known[row["text"]] = row["embedding"].to_numpy().astype(np.float32)
            rest = [t for t in wanted if t not in known]
            if rest:
                cursor = await conn.execute(
                    """SELECT DISTINCT ON (text) text, embedding FROM profile.chunks
                       WHERE embedding_model = %s AND text = ANY(%s)""",
                    (self.embedder.name, rest),
                    binary=True,
                )
                for row in await cursor.fetchall():
                    known[row["text"]] = row["embedding"].to_numpy().astype(np.float32)
        return known

    async def _index(
        self, document: dict[str, Any], also: Iterable[str], base_version: int | None
    ) -> _Indexed:
        """The chunks of ``document`` for the owner, and for the public the chunks of the document
        redacted with ``also`` (former private values) too; identical ones are one row."""
        owners = chunk_resume(document)
        publics = chunk_resume(redact_public(document, also))
        public_keys = {(c.path, c.part, c.text) for c in publics}
        owner_keys = {(c.path, c.part, c.text) for c in owners}
        chunks = [*owners, *(c for c in publics if (c.path, c.part, c.text) not in owner_keys)]
        owner = [True] * len(owners) + [False] * (len(chunks) - len(owners))
        public = [(c.path, c.part, c.text) in public_keys for c in chunks]
        texts = [c.text for c in chunks]
        known = await self._known_vectors(texts, base_version)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            first = missing[:_FIRST_EMBEDDING_BATCH]
            known.update(
                zip(first, await anyio.to_thread.run_sync(self.embedder.embed_documents, first), strict=True)
            )
            await pause_point("embedding")
            rest = missing[_FIRST_EMBEDDING_BATCH:]
            if rest:
                fresh = await anyio.to_thread.run_sync(self.embedder.embed_documents, rest)
                known.update(zip(rest, fresh, strict=True))
        vectors = (
            np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.embedder.dim), np.float32)
        )
        return _Indexed(chunks, owner, public, vectors)

    async def _insert_chunks(self, conn: Connection, version: int, indexed: _Indexed) -> None:
        async with conn.cursor() as cur:
            await cur.executemany(
                """INSERT INTO profile.chunks
                       (version, ord, section, path, text, owner, public, embedding, embedding_model)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (version, i, c.section, c.path, c.text, own, pub, vec, self.embedder.name)
                    for i, (c, own, pub, vec) in enumerate(
                        zip(indexed.chunks, indexed.owner, indexed.public, indexed.vectors, strict=True)
                    )
                ],
            )


def _import_key(path: Path) -> str:
    return _IMPORT_KEY_PREFIX + str(path)


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
