"""Reading files inside a root folder without ever leaving it, whatever path a client sends.

A path from a client is split into components and checked lexically first (:func:`split_relative`):
no absolute paths, ``..``, backslashes, NUL or control characters, no component that Unicode
compatibility folding turns into a dot name or a separator (fullwidth ``．．``), no hidden names.
Then it is opened one component at a time with ``os.open(name, dir_fd=parent, O_NOFOLLOW)``
(:class:`SafeRoot`): a symbolic link anywhere on the way fails the open, and a directory swapped
for a link between two opens fails it too, because each step starts from the descriptor of the
directory opened before. What is read is read from the opened descriptor, so a file replaced
after the check is not the one served.

Every refusal is the same :class:`PathRefused`, whatever the reason (outside, missing, a link,
excluded), and its message never contains a path: callers word their own, from the path the
client sent.

:class:`SafeRoot` also decides what is *excluded*: hidden names (``.git``, ``.env`` …), ``.env``-like
files (``prod.env``, ``env.local``) and whatever the ``.gitignore`` files along the way exclude.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

Parts = tuple[str, ...]

MAX_PATH_CHARS = 1024
MAX_DEPTH = 32
MAX_COMPONENT_CHARS = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENV_LIKE = re.compile(r"(^|\.)env($|\.)", re.IGNORECASE)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class PathRefused(Exception):
    """The path is not a readable entry inside the root (the reason is deliberately not given)."""

    def __init__(self) -> None:
        super().__init__("refused")


def split_relative(text: str) -> Parts:
    """The components of a relative path, or :class:`PathRefused`. ``""`` is the root itself."""
    if len(text) > MAX_PATH_CHARS or _CONTROL.search(text) or "\\" in text:
        raise PathRefused
    if text.startswith("/") or text.startswith("~"):
        raise PathRefused
    text = text.rstrip("/") if text != "/" else ""
    if not text:
        return ()
    parts = tuple(text.split("/"))
    if len(parts) > MAX_DEPTH:
        raise PathRefused
    for part in parts:
        folded = unicodedata.normalize("NFKC", part)
        if not part or len(part) > MAX_COMPONENT_CHARS:
            raise PathRefused
        for form in (part, folded):
            if form in (".", "..") or form.startswith(".") or "/" in form or "\\" in form:
                raise PathRefused
            if _CONTROL.search(form):
                raise PathRefused
    return parts


def is_env_like(name: str) -> bool:
    """``.env``, ``prod.env``, ``env.local`` and the like: environment files that hold secrets."""
    return bool(_ENV_LIKE.search(name))


def is_hidden(name: str) -> bool:
    return name.startswith(".")


@dataclass(frozen=True)
class Entry:
    """A directory entry found by :meth:`SafeRoot.walk` or :meth:`SafeRoot.listdir`."""

    parts: Parts
    is_dir: bool
    stat: os.stat_result

    @property
    def path(self) -> str:
        return "/".join(self.parts)


class SafeRoot:
    """One root folder, opened component by component; nothing outside it is reachable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # .gitignore rules per directory, keyed by the file's identity so an edit is seen
        self._ignores: dict[Parts, tuple[tuple[int, int, int], pathspec.GitIgnoreSpec | None]] = {}

    # ------------------------------------------------------------------ opening

    def _open_root(self) -> int:
        try:
            return os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise PathRefused from exc

    def _open_dir(self, parts: Parts) -> int:
        """A descriptor of the directory at ``parts`` (no link followed on the way)."""
        fd = self._open_root()
        try:
            for part in parts:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except OSError as exc:
            os.close(fd)
            raise PathRefused from exc
        return fd

    def open_file(self, parts: Parts) -> tuple[int, os.stat_result]:
        """A descriptor of the regular file at ``parts`` and its status; the caller closes it."""
        if not parts:
            raise PathRefused
        parent = self._open_dir(parts[:-1])
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=parent)
        except OSError as exc:
            raise PathRefused from exc
        finally:
            os.close(parent)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise PathRefused
        return fd, info

    def read_file(self, parts: Parts, max_bytes: int) -> tuple[bytes, os.stat_result]:
        """The bytes of the file at ``parts`` (at most ``max_bytes``: more raises ``FileTooLarge``)."""
        fd, info = self.open_file(parts)
        try:
            if info.st_size > max_bytes:
                raise FileTooLargeError(info.st_size, max_bytes)
            chunks: list[bytes] = []
            total = 0
            while True:
                try:
                    block = os.read(fd, 1 << 20)
                except OSError as exc:
                    if exc.errno == errno.EAGAIN:
                        raise PathRefused from exc
                    raise
                if not block:
                    break
                total += len(block)
                if total > max_bytes:  # it grew while being read
                    raise FileTooLargeError(total, max_bytes)
                chunks.append(block)
            return b"".join(chunks), info
        finally:
            os.close(fd)

    def stat_entry(self, parts: Parts) -> os.stat_result:
        """The status of the entry at ``parts`` (file or directory), links not followed."""
        if not parts:
            fd = self._open_root()
            try:
                return os.fstat(fd)
            finally:
                os.close(fd)
        parent = self._open_dir(parts[:-1])
        try:
            info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except OSError as exc:
            raise PathRefused from exc
        finally:
            os.close(parent)
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            raise PathRefused
        return info

    # --------------------------------------------------------------- exclusions

    def _ignore_rules(self, directory: Parts) -> pathspec.GitIgnoreSpec | None:
        try:
            fd, info = self.open_file((*directory, ".gitignore"))
        except PathRefused:
            self._ignores.pop(directory, None)
            return None
        try:
            key = (info.st_ino, info.st_size, info.st_mtime_ns)
            cached = self._ignores.get(directory)
            if cached is not None and cached[0] == key:
                return cached[1]
            raw = os.read(fd, min(info.st_size, 1 << 20))
        finally:
            os.close(fd)
        lines = raw.decode("utf-8", errors="replace").splitlines()
        spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        self._ignores[directory] = (key, spec)
        return spec

    def excluded(self, parts: Parts, *, is_dir: bool) -> bool:
        """Whether the entry at ``parts`` is not a document: hidden, env-like or git-ignored
        (by a ``.gitignore`` in any directory above it, within the root)."""
        if any(is_hidden(name) or is_env_like(name) for name in parts):
            return True
        for depth in range(len(parts)):  # the .gitignore of each folder on the way, read once
            rules = self._ignore_rules(parts[:depth])
            if rules is None:
                continue
            for end in range(depth + 1, len(parts) + 1):  # every entry below that folder
                entry_is_dir = is_dir if end == len(parts) else True
                relative = "/".join(parts[depth:end]) + ("/" if entry_is_dir else "")
                if rules.match_file(relative):
                    return True
        return False

    def check(self, parts: Parts, *, is_dir: bool) -> None:
        """Raise :class:`PathRefused` when ``parts`` is excluded."""
        if self.excluded(parts, is_dir=is_dir):
            raise PathRefused

    # ------------------------------------------------------------------ listing

    def listdir(self, parts: Parts) -> list[Entry]:
        """The visible regular files and directories directly in ``parts`` (links left out)."""
        fd = self._open_dir(parts)
        try:
            found: list[Entry] = []
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        continue
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # vanished meanwhile
                    is_dir = stat.S_ISDIR(info.st_mode)
                    if not (is_dir or stat.S_ISREG(info.st_mode)):
                        continue
                    child = (*parts, entry.name)
                    try:
                        split_relative("/".join(child))
                    except PathRefused:
                        continue  # a name no client could ask for (control characters, too long)
                    if self.excluded(child, is_dir=is_dir):
                        continue
                    found.append(Entry(child, is_dir, info))
        finally:
            os.close(fd)
        return sorted(found, key=lambda e: e.parts)

    def walk(self, parts: Parts = (), *, max_entries: int = 100_000) -> Iterator[Entry]:
        """Every visible regular file below ``parts``, directory by directory, at most ``max_entries``."""
        count = 0
        stack = [parts]
        while stack:
            directory = stack.pop()
            try:
                entries = self.listdir(directory)
            except PathRefused:
                continue  # removed or replaced meanwhile
            subdirs = []
            for entry in entries:
                if entry.is_dir:
                    if len(entry.parts) < MAX_DEPTH:
                        subdirs.append(entry.parts)
                    continue
                count += 1
                if count > max_entries:
                    return
                yield entry
            stack.extend(reversed(subdirs))


class FileTooLargeError(Exception):
    """A file is larger than the reader accepts."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes; at most {limit}")
        self.size = size
        self.limit = limit


__all__ = [
    "Entry",
    "FileTooLargeError",
    "PathRefused",
    "SafeRoot",
    "is_env_like",
    "is_hidden",
    "split_relative",
]
