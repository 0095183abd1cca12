"""The owner's documents across the roots: which paths exist, who may see them, and their content.

Paths are the client's view: ``talks/kafka.md`` in the portfolio's ``docs/`` folder, and
``<folder name>/…`` for every extra root (``FOLIO_DOCS_ROOTS``). A client's roots never widen this.
Every read goes through :class:`folio_core.safepath.SafeRoot`; every refusal, whatever its cause
(outside, excluded, private to a public caller, missing, a link), is the same
:class:`~folio_resources.errors.NotFoundError`.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_mod
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import structlog

from folio_core.safepath import Entry, FileTooLargeError, Parts, PathRefused, SafeRoot, split_relative
from folio_core.settings import FolioSettings
from folio_resources.errors import ExtractionError, NotFoundError, TooLargeError
from folio_resources.extract import Extracted, extract

log = structlog.get_logger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Larger files are listed but not read (text or blob)."""
CACHE_ENTRIES = 64
CACHE_FILE_BYTES = 2 * 1024 * 1024
"""Extractions of files up to this size are kept (at most CACHE_ENTRIES of them)."""
SCHEME = "docs://"
RAW_SCHEME = "docs-raw://"
PUBLIC_FOLDER = "public"


def doc_uri(path: str) -> str:
    return SCHEME + quote(path, safe="/")


def raw_uri(path: str) -> str:
    return RAW_SCHEME + quote(path, safe="/")


def path_of_uri(uri: str) -> str | None:
    """The document path a ``docs://`` URI names (percent-decoded once), or None for another URI."""
    if not uri.startswith(SCHEME):
        return None
    return unquote(uri[len(SCHEME) :], errors="strict")


@dataclass(frozen=True)
class Root:
    name: str
    """The path prefix ('' for the portfolio's docs folder)."""
    safe: SafeRoot


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    mtime_ns: int
    inode: int

    @property
    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Document:
    """A document read now: its file status, bytes, digest and extraction."""

    info: FileInfo
    data: bytes
    digest: str
    extracted: Extracted
    in_public_folder: bool

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def public(self) -> bool:
        return self.in_public_folder or self.extracted.public


def _info(path: str, st: os.stat_result) -> FileInfo:
    return FileInfo(path, st.st_size, st.st_mtime_ns, st.st_ino)


class Library:
    """The document roots, read safely; a small cache of extractions keyed by file identity."""

    def __init__(self, settings: FolioSettings) -> None:
        self.public_only = settings.is_public
        self.roots: list[Root] = [Root("", SafeRoot(settings.portfolio_dir / "docs"))]
        for raw in (settings.docs_roots or "").split(os.pathsep):
            if not raw.strip():
                continue
            folder = Path(raw.strip()).expanduser().resolve()
            name = folder.name
            try:
                split_relative(name)
            except PathRefused:
                log.warning("document root skipped: its folder name cannot be a path prefix")
                continue
            if any(r.name == name for r in self.roots):
                log.warning("document root skipped: another root has the same folder name", name=name)
                continue
            if os.path.lexists(self.roots[0].safe.path / name):
                log.warning("document root skipped: docs/ has an entry of the same name", name=name)
                continue
            self.roots.append(Root(name, SafeRoot(folder)))
        self._cache: OrderedDict[tuple[str, int, int, int], Document] = OrderedDict()
        self._cache_lock = threading.Lock()  # reads run in worker threads (tools and the indexer)

    @property
    def root_paths(self) -> list[Path]:
        return [r.safe.path for r in self.roots]

    # ------------------------------------------------------------- addressing

    def locate(self, path: str) -> tuple[Root, Parts]:
        """The root and components of a client path, or NotFoundError (lexical checks only)."""
        try:
            parts = split_relative(path)
        except PathRefused:
            raise NotFoundError(path) from None
        if parts and len(self.roots) > 1:
            for root in self.roots[1:]:
                if parts[0] == root.name:
                    return root, parts[1:]
        return self.roots[0], parts

    def path_of(self, root: Root, parts: Parts) -> str:
        return "/".join((root.name, *parts) if root.name else parts)

    def in_public_folder(self, path: str) -> bool:
        """Under the portfolio's ``docs/public/`` (an extra root called ``public`` is not that)."""
        try:
            root, parts = self.locate(path)
        except NotFoundError:
            return False
        return root is self.roots[0] and len(parts) > 1 and parts[0] == PUBLIC_FOLDER

    def shadowed(self, root: Root, parts: Parts) -> bool:
        """An entry of the main root hidden by an extra root of the same name."""
        return root is self.roots[0] and bool(parts) and any(r.name == parts[0] for r in self.roots[1:])

    def allowed(self, path: str, *, is_dir: bool = False) -> bool:
        """Whether ``path`` passes the lexical and exclusion rules (not whether it exists)."""
        try:
            root, parts = self.locate(path)
        except NotFoundError:
            return False
        return not self.shadowed(root, parts) and not root.safe.excluded(parts, is_dir=is_dir)

    # ---------------------------------------------------------------- reading

    def stat(self, path: str) -> FileInfo:
        root, parts = self.locate(path)
        try:
            root.safe.check(parts, is_dir=False)
            fd, st = root.safe.open_file(parts)
            os.close(fd)
        except PathRefused:
            raise NotFoundError(path) from None
        return _info(path, st)

    def read(self, path: str, *, check_audience: bool = True) -> Document:
        """Read and extract the document at ``path`` (NotFoundError, TooLargeError, ExtractionError)."""
        root, parts = self.locate(path)
        if self.shadowed(root, parts):
            raise NotFoundError(path)
        try:
            root.safe.check(parts, is_dir=False)
            data, st = root.safe.read_file(parts, MAX_FILE_BYTES)
        except PathRefused:
            raise NotFoundError(path) from None
        except FileTooLargeError as exc:
            if check_audience and self.public_only and not self.in_public_folder(path):
                raise NotFoundError(path) from None  # its front matter cannot be read to tell
            raise TooLargeError(
                f"{path} is {_size(exc.size)}; documents of at most {_size(MAX_FILE_BYTES)} are read"
            ) from None
        key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is None:
            name = parts[-1]
            try:
                extracted = extract(name, data)
            except ExtractionError:
                if check_audience and self.public_only and not self.in_public_folder(path):
                    raise NotFoundError(path) from None
                raise
            cached = Document(
                _info(path, st),
                data,
                hashlib.sha256(data).hexdigest(),
                extracted,
                self.in_public_folder(path),
            )
            if len(data) <= CACHE_FILE_BYTES:
                with self._cache_lock:
                    self._cache[key] = cached
                    while len(self._cache) > CACHE_ENTRIES:
                        self._cache.popitem(last=False)
        if check_audience and self.public_only and not cached.public:
            raise NotFoundError(path)
        return cached

    # ---------------------------------------------------------------- listing

    def walk(self) -> list[tuple[str, FileInfo]]:
        """Every visible file of every root (audience not applied: that needs the content)."""
        out: list[tuple[str, FileInfo]] = []
        for root in self.roots:
            for entry in root.safe.walk():
                if self.shadowed(root, entry.parts):
                    continue
                path = self.path_of(root, entry.parts)
                out.append((path, _info(path, entry.stat)))
        return out

    def listdir(self, path: str) -> list[Entry]:
        """The visible entries directly in the folder at ``path`` (NotFoundError if it is none)."""
        root, parts = self.locate(path)
        try:
            root.safe.check(parts, is_dir=True)
            entries = root.safe.listdir(parts)
        except PathRefused:
            raise NotFoundError(path) from None
        return [e for e in entries if not self.shadowed(root, e.parts)]

    def is_dir(self, path: str) -> bool:
        root, parts = self.locate(path)
        try:
            return stat_mod.S_ISDIR(root.safe.stat_entry(parts).st_mode)
        except PathRefused:
            return False

    def relative(self, absolute: Path) -> str | None:
        """The client path of a file the watcher reported, or None when it is in no root."""
        for root in sorted(self.roots, key=lambda r: -len(str(r.safe.path))):
            try:
                rel = absolute.relative_to(root.safe.path)
            except ValueError:
                continue
            parts = rel.parts
            if not parts:
                return None
            return self.path_of(root, tuple(parts))
        return None


def _size(n: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} bytes"
