"""The ``docs`` schema follows the files: incremental indexing by content hash, hybrid search, grep.

A sync compares every visible file's size and modification time with its row; only files whose
status changed are read, and only those whose content hash changed are extracted, chunked and
embedded again. Each document is written in its own transaction under an advisory lock on its
path, together with ``NOTIFY folio_events`` for its URI (and :data:`folio_resources.uris.LIST_CHANGED` when a
document appears or goes), so every server process — this one and other clients' copies — tells
its subscribers once the row is committed.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import numpy as np
import structlog
from psycopg import sql
from psycopg.types.json import Jsonb

from folio_core.cache import Cache
from folio_core.changefeed import notify_many
from folio_core.db import Connection, Pool
from folio_core.embeddings import Embedder
from folio_resources.chunks import Chunk, chunk_document, embedding_text
from folio_resources.errors import DocsError, NotFoundError
from folio_resources.library import Document, FileInfo, Library, doc_uri
from folio_resources.uris import list_changed_uri

log = structlog.get_logger(__name__)

_FTS_SQL = """
WITH words AS (
    -- any of the query's words counts (OR), so keywords help without being required
    SELECT replace(websearch_to_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery AS some
)
SELECT c.path, c.ord, c.location, c.text, c.public, d.title, d.confirm FROM (
    SELECT path, ord, location, text, public, ts_rank(tsv, words.some) AS rank FROM docs.chunks, words
    WHERE tsv @@ words.some AND (public OR NOT %(public_only)s)
    ORDER BY rank DESC, path, ord LIMIT %(n)s
) c JOIN docs.documents d USING (path) ORDER BY c.rank DESC, c.path, c.ord
"""


_RRF_K = 60
_CANDIDATES = 40
_EMBED_BATCH = 64
_EMBED_THREADS = 2
_ANALYZE_AFTER = 50
_QUERY_VECTOR_TTL = 7 * 86_400


@dataclass
class SyncReport:
    seen: int = 0
    indexed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Hit:
    path: str
    title: str | None
    location: str
    text: str
    score: float
    similarity: float
    public: bool
    confirm: bool


@dataclass(frozen=True)
class _Prepared:
    info: FileInfo
    document: Document | None
    problem: str | None
    chunks: list[Chunk]


class VectorSpace:
    """SQL fragments for the configured embedder's vectors (a literal dimension and model)."""

    def __init__(self, embedder: Embedder) -> None:
        self.name = embedder.name
        self.dim = embedder.dim
        self.vector_type = sql.SQL("vector({})").format(sql.Literal(self.dim))
        self.column = sql.SQL("(embedding::{})").format(self.vector_type)
        self.predicate = sql.SQL("embedding_model = {}").format(sql.Literal(self.name))

    def create_indexes(self) -> list[sql.Composed]:
        """One HNSW index over every chunk of this embedder, one over the public chunks only (so a
        public search gets its nearest neighbours from the index, not a post-filtered few)."""
        digest = hashlib.sha256(f"{self.name}:{self.dim}".encode()).hexdigest()[:10]
        return [
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON docs.chunks USING hnsw ({} vector_cosine_ops) WHERE {}"
            ).format(sql.Identifier(name), self.column, predicate)
            for name, predicate in (
                (f"chunks_hnsw_{digest}", self.predicate),
                (f"chunks_hnsw_public_{digest}", sql.SQL("{} AND public").format(self.predicate)),
            )
        ]


class Index:
    def __init__(self, pool: Pool, embedder: Embedder, library: Library, cache: Cache | None = None) -> None:
        self.pool = pool
        self.embedder = embedder
        self.cache = cache
        """Where query vectors are kept (Folio's shared cache: Redis, or process memory)."""
        self.library = library
        self.space = VectorSpace(embedder)
        self._lock = anyio.Lock()
        self.progress = (0, 0)
        """(documents done, documents to look at) of the sync running now."""

    async def prepare(self) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('folio:docs:schema'))")
            for statement in self.space.create_indexes():
                await conn.execute(statement)

    # ------------------------------------------------------------------ writing

    async def stored_status(self) -> dict[str, tuple[int, int]]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute("SELECT path, size, mtime_ns FROM docs.documents")).fetchall()
        return {r["path"]: (r["size"], r["mtime_ns"]) for r in rows}

    async def sync(self, paths: Iterable[str] | None = None) -> SyncReport:
        """Bring the index up to date with the files (all of them, or just ``paths``)."""
        started = time.perf_counter()
        async with self._lock:
            report = SyncReport()
            stored = await self.stored_status()
            if paths is None:
                found = await anyio.to_thread.run_sync(self.library.walk)
                current = dict(found)
                gone = [p for p in stored if p not in current]
            else:
                current = {}
                gone = []
                for path in dict.fromkeys(paths):
                    try:
                        current[path] = self.library.stat(path)
                    except NotFoundError:
                        if path in stored:
                            gone.append(path)
                        else:  # a folder: what is below it
                            prefix = path.rstrip("/") + "/"
                            gone.extend(p for p in stored if p.startswith(prefix))
                            for sub, info in await anyio.to_thread.run_sync(self.library.walk):
                                if sub.startswith(prefix):
                                    current[sub] = info
            report.seen = len(current)
            changed = [
                info for path, info in current.items() if stored.get(path) != (info.size, info.mtime_ns)
            ]
            report.unchanged = len(current) - len(changed)
            self.progress = (report.unchanged, len(current))
            for batch_start in range(0, len(changed), 32):
                batch = changed[batch_start : batch_start + 32]
                prepared = [await anyio.to_thread.run_sync(self._prepare, info) for info in batch]
                vectors = await self._embed(prepared)
                for item, item_vectors in zip(prepared, vectors, strict=True):
                    if await self._write(item, item_vectors, is_new=item.info.path not in stored):
                        report.indexed.append(item.info.path)
                self.progress = (report.unchanged + batch_start + len(batch), len(current))
            for path in gone:
                if await self._delete(path):
                    report.removed.append(path)
            if len(report.indexed) + len(report.removed) >= _ANALYZE_AFTER:
                async with self.pool.connection() as conn:  # fresh statistics: the planner picks the
                    await conn.execute("ANALYZE docs.documents, docs.chunks")  # public HNSW index
            report.seconds = time.perf_counter() - started
        if report.indexed or report.removed:
            log.info(
                "documents indexed",
                indexed=len(report.indexed),
                removed=len(report.removed),
                unchanged=report.unchanged,
                seconds=round(report.seconds, 3),
            )
        return report

    def _prepare(self, info: FileInfo) -> _Prepared:
        try:
            document = self.library.read(info.path, check_audience=False)
        except NotFoundError:
            return _Prepared(info, None, "vanished", [])
        except DocsError as exc:
            return _Prepared(info, None, str(exc), [])
        return _Prepared(document.info, document, None, chunk_document(document.extracted))

    async def _embed(self, prepared: Sequence[_Prepared]) -> list[np.ndarray]:
        texts: list[str] = []
        for item in prepared:
            title = item.document.extracted.title if item.document else None
            texts.extend(embedding_text(title, chunk) for chunk in item.chunks)
        vectors = np.zeros((0, self.embedder.dim), dtype=np.float32)
        if texts:
            # Up to _EMBED_THREADS groups at once: the local model runs one thread per call, and
            # onnxruntime sessions may be shared between threads, so a bulk index uses every core.
            step = max(1, min(_EMBED_BATCH, -(-len(texts) // _EMBED_THREADS)))
            groups = [texts[i : i + step] for i in range(0, len(texts), step)]
            parts: list[np.ndarray] = [np.zeros((0, self.embedder.dim), dtype=np.float32)] * len(groups)
            limiter = anyio.CapacityLimiter(_EMBED_THREADS)

            async def embed(n: int) -> None:
                parts[n] = await anyio.to_thread.run_sync(
                    self.embedder.embed_documents, groups[n], limiter=limiter
                )

            async with anyio.create_task_group() as tg:
                for n in range(len(groups)):
                    tg.start_soon(embed, n)
            vectors = np.concatenate(parts)
        out = []
        pos = 0
        for item in prepared:
            out.append(vectors[pos : pos + len(item.chunks)])
            pos += len(item.chunks)
        return out

    async def _write(self, item: _Prepared, vectors: np.ndarray, *, is_new: bool) -> bool:
        """Store one document; False when its stored content was already the same."""
        info, document = item.info, item.document
        if document is None and item.problem == "vanished":
            return await self._delete(info.path)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"folio:docs:{info.path}",))
            row = await (
                await conn.execute("SELECT content_hash FROM docs.documents WHERE path = %s", (info.path,))
            ).fetchone()
            digest = document.digest if document else None
            if row is not None and digest is not None and row["content_hash"] == digest:
                await conn.execute(
                    "UPDATE docs.documents SET size = %s, mtime_ns = %s WHERE path = %s",
                    (info.size, info.mtime_ns, info.path),
                )
                return False
            await conn.execute("DELETE FROM docs.chunks WHERE path = %s", (info.path,))
            await self._upsert(conn, item)
            if document is not None and item.chunks:
                public = document.public
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO docs.chunks (path, ord, start_offset, end_offset, location, text, public,"
                        " embedding, embedding_model) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        [
                            (
                                info.path,
                                c.ord,
                                c.start,
                                c.end,
                                c.location,
                                c.text,
                                public,
                                v,
                                self.embedder.name,
                            )
                            for c, v in zip(item.chunks, vectors, strict=True)
                        ],
                    )
            uris = [doc_uri(info.path)]
            if row is None or is_new:
                uris.append(list_changed_uri(document is not None and document.public))
            await notify_many(conn, uris)
        return True

    async def _upsert(self, conn: Connection, item: _Prepared) -> None:
        info, document = item.info, item.document
        if document is None:
            values: tuple[Any, ...] = (
                info.path, "unreadable", "application/octet-stream", None, info.size, info.mtime_ns,
                None, False, False, Jsonb({}), None, item.problem, 0,
            )  # fmt: skip
        else:
            ex = document.extracted
            problem = "; ".join(ex.warnings) or None
            values = (
                info.path, ex.kind, ex.mime, ex.title, info.size, info.mtime_ns, document.digest,
                document.public, ex.confirm, Jsonb(ex.meta), ex.text, problem, len(item.chunks),
            )  # fmt: skip
        await conn.execute(
            """
            INSERT INTO docs.documents (path, kind, mime, title, size, mtime_ns, content_hash, public, confirm,
                                        meta, text, problem, chunk_count, indexed_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
            ON CONFLICT (path) DO UPDATE SET kind = EXCLUDED.kind, mime = EXCLUDED.mime, title = EXCLUDED.title,
                size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, content_hash = EXCLUDED.content_hash,
                public = EXCLUDED.public, confirm = EXCLUDED.confirm, meta = EXCLUDED.meta, text = EXCLUDED.text,
                problem = EXCLUDED.problem, chunk_count = EXCLUDED.chunk_count, indexed_at = now()
            """,
            values,
        )

    async def _delete(self, path: str) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"folio:docs:{path}",))
            row = await (
                await conn.execute("DELETE FROM docs.documents WHERE path = %s RETURNING public", (path,))
            ).fetchone()
            if row is None:
                return False
            await notify_many(conn, [doc_uri(path), list_changed_uri(row["public"])])
        return True

    # ------------------------------------------------------------------ reading

    async def listing(
        self, prefix: str, after: str | None, limit: int, public_only: bool
    ) -> list[dict[str, Any]]:
        """Indexed documents under ``prefix`` in path order, after the cursor ``after``."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """
                    SELECT path, kind, mime, title, size, mtime_ns, public, confirm, problem, chunk_count
                    FROM docs.documents
                    WHERE path LIKE %s AND (%s::text IS NULL OR path > %s) AND (public OR NOT %s)
                    ORDER BY path COLLATE "C" LIMIT %s
                    """,
                    (like, after, after, public_only, limit),
                )
            ).fetchall()
        return [dict(r) for r in rows]

    async def folders(self, prefix: str, public_only: bool) -> list[dict[str, Any]]:
        """The folders directly under ``prefix`` that hold indexed documents, with their counts."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%/%"
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """
                    SELECT name, count(*)::int AS documents FROM (
                        SELECT split_part(substr(path, %s), '/', 1) AS name
                        FROM docs.documents WHERE path LIKE %s AND (public OR NOT %s)
                    ) below GROUP BY name ORDER BY name COLLATE "C"
                    """,
                    (len(prefix) + 1, like, public_only),
                )
            ).fetchall()
        return [dict(r) for r in rows]

    async def row(self, path: str) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            found = await (
                await conn.execute(
                    "SELECT path, kind, mime, title, size, mtime_ns, content_hash, public, confirm, meta, problem,"
                    " chunk_count, indexed_at, char_length(text) AS chars FROM docs.documents WHERE path = %s",
                    (path,),
                )
            ).fetchone()
        return dict(found) if found is not None else None

    async def search(self, query: str, limit: int, public_only: bool) -> list[Hit]:
        """The best chunk of each of the ``limit`` best documents: semantic and full-text candidates
        fused by reciprocal rank. The full-text candidates are fetched while the query is embedded."""
        found: dict[str, Any] = {}

        async def embed() -> None:
            found["vector"] = await self.query_vector(query)

        async with self.pool.connection() as conn:
            async with anyio.create_task_group() as tg:
                tg.start_soon(embed)
                words = await (
                    await conn.execute(
                        _FTS_SQL, {"text": query, "public_only": public_only, "n": _CANDIDATES}
                    )
                ).fetchall()
            semantic = await (
                await conn.execute(self._semantic_sql(public_only), {"q": found["vector"], "n": _CANDIDATES})
            ).fetchall()
        fused: dict[tuple[str, int], dict[str, Any]] = {}
        for ranked, kind in ((semantic, "sem"), (words, "fts")):
            for rank, row in enumerate(ranked, 1):
                entry = fused.setdefault((row["path"], row["ord"]), {**row, "score": 0.0, "similarity": 0.0})
                entry["score"] += 1.0 / (_RRF_K + rank)
                if kind == "sem":
                    entry["similarity"] = float(row["similarity"])
        ordered = sorted(fused.values(), key=lambda r: (-r["score"], r["path"], r["ord"]))
        hits: list[Hit] = []
        seen: set[str] = set()
        for r in ordered:
            if r["path"] in seen:
                continue  # the best chunk of each document
            seen.add(r["path"])
            hits.append(
                Hit(
                    r["path"],
                    r["title"],
                    r["location"],
                    r["text"],
                    r["score"],
                    r["similarity"],
                    r["public"],
                    r["confirm"],
                )
            )
            if len(hits) >= limit:
                break
        return hits

    async def query_vector(self, query: str) -> np.ndarray:
        """The query's vector, from the shared cache when this query was embedded before."""
        key = f"docs:query-vector:{self.embedder.name}:{hashlib.sha256(query.encode()).hexdigest()}"
        if self.cache is not None:
            hit = await self.cache.get(key)
            if hit is not None and len(hit) == 4 * self.embedder.dim:
                return np.frombuffer(hit, dtype=np.float32)
        vector = await anyio.to_thread.run_sync(self.embedder.embed_query, query)
        if self.cache is not None:
            await self.cache.set(key, np.asarray(vector, dtype=np.float32).tobytes(), ttl=_QUERY_VECTOR_TTL)
        return vector

    def _semantic_sql(self, public_only: bool) -> sql.Composed:
        audience = sql.SQL(" AND public" if public_only else "")  # a literal, to match the partial index
        return sql.SQL(
            """
            SELECT c.path, c.ord, c.location, c.text, c.public, d.title, d.confirm, c.similarity FROM (
                SELECT path, ord, location, text, public, 1 - ({col} <=> %(q)s::{vt}) AS similarity,
                       {col} <=> %(q)s::{vt} AS distance
                FROM docs.chunks WHERE {pred}{audience}
                ORDER BY {col} <=> %(q)s::{vt} LIMIT %(n)s
            ) c JOIN docs.documents d USING (path) ORDER BY c.distance
            """
        ).format(
            col=self.space.column, vt=self.space.vector_type, pred=self.space.predicate, audience=audience
        )

    async def grep(
        self, pattern: str, paths_like: str, public_only: bool, max_matches: int
    ) -> list[dict[str, Any]]:
        """Lines of extracted text matching a POSIX regular expression (PostgreSQL's engine: no
        catastrophic backtracking, bounded by a statement timeout)."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SET LOCAL statement_timeout = '5s'")
            rows = await (
                await conn.execute(
                    """
                    WITH hit AS (  -- documents with a match anywhere (one regex run per document)
                        SELECT path, text, confirm FROM docs.documents
                        WHERE text IS NOT NULL AND path LIKE %s AND (public OR NOT %s) AND text ~ %s
                    )
                    SELECT hit.path, hit.confirm, l.n::int AS line, l.text
                    FROM hit, LATERAL unnest(string_to_array(hit.text, E'\n')) WITH ORDINALITY AS l(text, n)
                    WHERE l.text ~ %s
                    ORDER BY hit.path COLLATE "C", l.n LIMIT %s
                    """,
                    (paths_like, public_only, line_mode(pattern), pattern, max_matches + 1),
                )
            ).fetchall()
        return [dict(r) for r in rows]

    async def text_of(self, path: str) -> str | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT text FROM docs.documents WHERE path = %s", (path,))
            ).fetchone()
        return row["text"] if row is not None else None


_EMBEDDED_OPTIONS = re.compile(r"\A\(\?([bceimnpqstwx]+)\)")


def line_mode(pattern: str) -> str:
    """``pattern`` made newline-sensitive (PostgreSQL's ``n`` option: ``^``, ``$`` and ``.`` work
    per line), so matching a whole text finds what matching its lines one by one would."""
    found = _EMBEDDED_OPTIONS.match(pattern)
    if found is None:
        return "(?n)" + pattern
    return f"(?{found.group(1)}n)" + pattern[found.end() :]


def snippet(text: str, query: str, width: int = 240) -> str:
    """A window of ``text`` around the first of the query's words it contains."""
    words = [w for w in re.findall(r"\w{3,}", query.lower())]
    lower = text.lower()
    positions = [p for w in words if (p := lower.find(w)) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = " ".join(text[start : start + width].split())
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")
