"""The resources server's domain operations over the library and the index, and the live parts:
the file watcher that keeps the index current and the list-changed delivery on both paths."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.subscriptions import ResourcesListChanged

from folio_core.mcp import Runtime
from folio_resources.errors import DocsError, NotFoundError, NotTextError, shown
from folio_resources.library import Document, Library, doc_uri, raw_uri
from folio_resources.uris import LIST_CHANGED

if TYPE_CHECKING:  # the index (numpy, the database driver) loads after the handshake
    from folio_resources.index import Hit, SyncReport

log = structlog.get_logger(__name__)

PAGE_SIZE = 50
INITIAL_WAIT_S = 30.0
"""How long a listing or search waits for the start-up index before answering with partial results."""
DEBOUNCE_MS = 300
STEP_MS = 30
WITHHELD = "[withheld: the owner asks to be asked before this document is read; use docs_read]"


def encode_cursor(path: str) -> str:
    return base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ToolError("the cursor is not one this server gave; call docs_list without a cursor") from None


def modified_iso(mtime_ns: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC).isoformat(timespec="seconds")


class DocsService:
    STATE_KEY = "docs"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.public_only = runtime.settings.is_public
        self.library = Library(runtime.settings)
        from folio_resources.index import Index

        self.index = Index(runtime.pool, runtime.embedder, self.library, runtime.cache)
        self.last_sync: SyncReport | None = None
        self.watching = anyio.Event()
        self.indexed = anyio.Event()
        """Set when the start-up sync has finished (or failed)."""
        self.index_problem: str | None = None

    @classmethod
    async def start(cls, runtime: Runtime) -> None:
        """Serve at once; the watcher starts first (no change is missed), then the start-up sync."""
        service = cls(runtime)
        await service.index.prepare()
        runtime.state[cls.STATE_KEY] = service
        runtime.start_background("docs-watcher", service.watch)
        runtime.start_background("docs-initial-sync", service._initial_sync)

    async def _initial_sync(self) -> None:
        with anyio.move_on_after(60):  # the watcher first, so that nothing changed meanwhile is missed
            await self.watching.wait()
        try:
            self.last_sync = await self.index.sync()
        except Exception as exc:
            self.index_problem = f"the documents could not be indexed: {exc}"
            log.error("start-up indexing failed", error=str(exc))
        finally:
            self.indexed.set()

    async def index_state(self) -> dict[str, Any] | None:
        """None once the start-up index is complete; otherwise how far it got (after a short wait)."""
        with anyio.move_on_after(INITIAL_WAIT_S):
            await self.indexed.wait()
        if self.index_problem is not None:
            raise ToolError(self.index_problem)
        if self.indexed.is_set():
            return None
        done, total = self.index.progress
        return {
            "complete": False,
            "documents_indexed": done,
            "documents_found": total,
            "note": "the documents are still being indexed; results are partial, try again shortly",
        }

    @classmethod
    def of(cls, runtime: Runtime) -> DocsService:
        service = runtime.state.get(cls.STATE_KEY)
        if not isinstance(service, DocsService):  # pragma: no cover - set by start()
            raise ToolError("the resources server is not initialised")
        return service

    # ------------------------------------------------------------------- live

    async def watch(self) -> None:
        """Follow the roots' files until cancelled: each batch of changes re-indexes what changed.

        The notify thread is set up (every folder watched) before :attr:`watching` is set, so a
        change made after that is never missed.
        """
        import threading

        from watchfiles._rust_notify import RustNotify  # watchfiles' own watcher, without its async wrapper

        roots = [str(p) for p in self.library.root_paths if p.is_dir()]
        if not roots:
            log.warning("no document folder exists; nothing to watch")
            self.watching.set()
            return
        stop = threading.Event()
        try:
            notify = RustNotify(roots, False, False, 300, True, True)
        except Exception as exc:  # e.g. the inotify watch limit: serve without live updates
            log.error("the document folders cannot be watched; changes show after a restart", error=str(exc))
            self.watching.set()
            return
        self.watching.set()
        log.info("watching documents", roots=len(roots))
        try:
            while True:
                changes = await anyio.to_thread.run_sync(
                    notify.watch, DEBOUNCE_MS, STEP_MS, 0, stop, abandon_on_cancel=True
                )
                if isinstance(changes, str):  # 'stop' or 'signal'
                    return
                await self._changed({Path(p) for _, p in changes})
        except Exception as exc:  # a watcher failure must not take the server down
            log.error("watching the documents failed; changes show after a restart", error=str(exc))
        finally:
            stop.set()  # the notify thread returns within a step and is dropped with `notify`

    async def _changed(self, files: set[Path]) -> None:
        full = any(p.name == ".gitignore" for p in files)
        paths = [rel for p in files if (rel := self.library.relative(p)) is not None]
        try:
            report = await self.index.sync(None if full else paths)
        except Exception as exc:  # keep watching whatever one batch did
            log.error("re-indexing failed", error=str(exc))
            return
        self.last_sync = report

    async def feed_event(self, uri: str) -> None:
        """A change-feed event: the list changed → list_changed on both paths."""
        if not uri.startswith(LIST_CHANGED):
            return
        if self.public_only and not uri.endswith("public"):
            return  # a private document came or went: nothing a public caller may notice
        await self.runtime.notifier.bus.publish(ResourcesListChanged())
        sessions: dict[int, Any] = self.runtime.state.setdefault("docs.sessions", {})
        for key, session in list(sessions.items()):
            try:
                await session.send_resource_list_changed()
            except Exception as exc:  # a closed connection: forget it
                log.debug("dropping session", error=repr(exc))
                sessions.pop(key, None)

    # ------------------------------------------------------------------ reading

    async def read(self, path: str) -> Document:
        """The document at ``path`` for this caller (read and extracted in a worker thread)."""
        try:
            return await anyio.to_thread.run_sync(self.library.read, path)
        except DocsError as exc:
            raise ToolError(str(exc)) from exc

    async def may_watch(self, uri: str) -> bool:
        """Whether a caller may subscribe to ``uri``: an existing document it may read."""
        from folio_resources.library import path_of_uri

        try:
            path = path_of_uri(uri)
        except UnicodeError:
            return False
        if path is None:
            return False
        try:
            await anyio.to_thread.run_sync(self.library.read, path)
        except DocsError:
            return False
        return True

    async def listing(self, path: str | None, cursor: str | None, limit: int = PAGE_SIZE) -> dict[str, Any]:
        prefix = ""
        if path not in (None, "", "/"):
            assert path is not None
            if not self.library.allowed(path, is_dir=True) or not self.library.is_dir(path):
                if self.library.allowed(path) and await self._visible_row(path) is not None:
                    raise ToolError(f"{shown(path)} is a document, not a folder; call docs_info or docs_read")
                raise ToolError(str(NotFoundError(path)))
            prefix = path.strip("/") + "/"
        after = decode_cursor(cursor) if cursor else None
        state = await self.index_state()
        rows = await self.index.listing(prefix, after, limit + 1, self.public_only)
        docs = []
        for r in rows[:limit]:
            if not self.library.allowed(r["path"]):
                continue  # excluded since it was indexed (a .gitignore edit not yet synced)
            docs.append(self.describe_row(r))
        more = len(rows) > limit
        folders: list[dict[str, Any]] = []
        if after is None:
            for f in await self.index.folders(prefix, self.public_only):
                path_of_folder = prefix + f["name"]
                if self.library.allowed(path_of_folder, is_dir=True):
                    folders.append({"path": path_of_folder, "documents": f["documents"]})
        if prefix and not docs and not folders and after is None and self.public_only and state is None:
            assert path is not None
            raise ToolError(str(NotFoundError(path)))  # a folder of private documents: not even its name
        out: dict[str, Any] = {
            "folder": prefix.rstrip("/") or "/",
            "folders": folders,
            "documents": docs,
            "next_cursor": encode_cursor(rows[limit - 1]["path"]) if more else None,
        }
        if state is not None:
            out["indexing"] = state
        return out

    def describe_row(self, r: dict[str, Any]) -> dict[str, Any]:
        out = {
            "path": r["path"],
            "uri": doc_uri(r["path"]),
            "title": r["title"],
            "kind": r["kind"],
            "mime_type": r["mime"],
            "size": r["size"],
            "modified": modified_iso(r["mtime_ns"]),
        }
        if not self.public_only:
            out["public"] = r["public"]
        if r.get("confirm"):
            out["asks_confirmation"] = True
        if r.get("problem"):
            out["problem"] = r["problem"]
        return out

    async def _visible_row(self, path: str) -> dict[str, Any] | None:
        row = await self.index.row(path)
        if row is None or (self.public_only and not row["public"]) or not self.library.allowed(path):
            return None
        return row

    async def info(self, path: str) -> dict[str, Any]:
        document = await self.read(path)
        await self.index_state()
        ex = document.extracted
        row = await self.index.row(path)
        out: dict[str, Any] = {
            "path": path,
            "uri": doc_uri(path),
            "title": ex.title,
            "kind": ex.kind,
            "mime_type": ex.mime,
            "size": document.info.size,
            "modified": modified_iso(document.info.mtime_ns),
            "sha256": document.digest,
            "characters": len(ex.text) if ex.text is not None else None,
            "pages": len(ex.pages) or None,
            "front_matter": ex.meta,
            "asks_confirmation": ex.confirm,
            "indexed": row is not None and row["content_hash"] == document.digest,
            "chunks": row["chunk_count"] if row is not None else 0,
            "warnings": list(ex.warnings),
        }
        if not self.public_only:
            out["public"] = document.public
        if ex.kind in ("pdf", "binary"):
            out["raw_uri"] = raw_uri(path)
        return out

    def text_of(self, document: Document) -> str:
        ex = document.extracted
        if ex.text is None:
            raise ToolError(
                str(
                    NotTextError(
                        f"{document.path} is binary ({ex.mime}, {document.info.size:,} bytes) and has no text; "
                        f"read it as the resource {doc_uri(document.path)} (a blob)"
                    )
                )
            )
        return ex.text

    def read_text(self, document: Document, offset: int, length: int) -> dict[str, Any]:
        text = self.text_of(document)
        if offset > len(text):
            raise ToolError(
                f"offset {offset:,} is past the end: {document.path} has {len(text):,} characters"
            )
        piece = text[offset : offset + length]
        end = offset + len(piece)
        ex = document.extracted
        return {
            "path": document.path,
            "uri": doc_uri(document.path),
            "title": ex.title,
            "mime_type": ex.mime,
            "front_matter": ex.meta,
            "offset": offset,
            "total_characters": len(text),
            "text": piece,
            "next_offset": end if end < len(text) else None,
            "warnings": list(ex.warnings),
        }

    # ------------------------------------------------------------------ search

    async def search(self, query: str, limit: int) -> dict[str, Any]:
        from folio_resources.index import snippet

        state = await self.index_state()
        hits = await self.index.search(query, limit * 2, self.public_only)
        out = []
        for hit in hits:
            if not self._still_visible(hit):
                continue
            withheld = hit.confirm
            out.append(
                {
                    "path": hit.path,
                    "uri": doc_uri(hit.path),
                    "title": hit.title,
                    "location": hit.location,
                    "snippet": WITHHELD if withheld else snippet(hit.text, query),
                    "score": round(hit.score, 5),
                }
            )
            if len(out) >= limit:
                break
        return {"query": query, "hits": out, **({"indexing": state} if state is not None else {})}

    def _still_visible(self, hit: Hit) -> bool:
        if self.public_only and not hit.public:
            return False
        return self.library.allowed(hit.path)

    async def grep(self, pattern: str, path: str | None, max_matches: int, context: int) -> dict[str, Any]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ToolError(f"the pattern is not a valid regular expression: {exc}") from exc
        like = "%"
        if path not in (None, "", "/"):
            assert path is not None
            if self.library.allowed(path) and await self._visible_row(path) is not None:
                like = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            elif self.library.allowed(path, is_dir=True) and self.library.is_dir(path):
                prefix = path.strip("/") + "/"
                if self.public_only and not await self.index.listing(prefix, None, 1, True):
                    raise ToolError(str(NotFoundError(path)))  # a folder of private documents
                like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            else:
                raise ToolError(str(NotFoundError(path)))
        from psycopg import errors as pg_errors

        state = await self.index_state()

        try:
            rows = await self.index.grep(pattern, like, self.public_only, max_matches)
        except pg_errors.InvalidRegularExpression as exc:
            raise ToolError(f"the pattern is not a regular expression this search accepts: {exc}") from exc
        except pg_errors.QueryCanceled as exc:
            raise ToolError("the pattern took too long to match; use a simpler or more specific one") from exc
        truncated = len(rows) > max_matches
        rows = rows[:max_matches]
        texts: dict[str, list[str]] = {}
        allowed: dict[str, bool] = {}
        matches = []
        for r in rows:
            if r["path"] not in allowed:
                allowed[r["path"]] = self.library.allowed(r["path"])
            if not allowed[r["path"]]:
                continue
            withheld = r["confirm"]
            match: dict[str, Any] = {
                "path": r["path"],
                "uri": doc_uri(r["path"]),
                "line": r["line"],
                "text": WITHHELD if withheld else r["text"][:500],
            }
            if context and not withheld:
                if r["path"] not in texts:
                    texts[r["path"]] = (await self.index.text_of(r["path"]) or "").split("\n")
                lines = texts[r["path"]]
                i = r["line"] - 1
                match["before"] = [line[:500] for line in lines[max(0, i - context) : i]]
                match["after"] = [line[:500] for line in lines[i + 1 : i + 1 + context]]
            matches.append(match)
        out: dict[str, Any] = {"pattern": pattern, "matches": matches, "truncated": truncated}
        if state is not None:
            out["indexing"] = state
        return out
