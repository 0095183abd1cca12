"""One ``git log --numstat -z`` stream parsed in Python: commits with their files and line counts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# Every field ends with NUL, which no name, e-mail or subject can hold; a commit starts with a
# token of RS + its hash. Then, with -z, the numstat entries follow as NUL-separated tokens.
LOG_FORMAT = "%x1e%H%x00%P%x00%aN%x00%aE%x00%at%x00%ai%x00%s%x00"
LOG_ARGS = (
    "log",
    "-z",
    "-M",
    "--numstat",
    "--no-color",
    "--no-textconv",
    "--no-ext-diff",
    "--use-mailmap",
    f"--format={LOG_FORMAT}",
)


@dataclass
class FileChange:
    path: str
    old_path: str | None
    added: int
    removed: int


@dataclass
class ParsedCommit:
    sha: str
    parents: int
    author: str
    email: str
    timestamp: int
    tz_minutes: int
    subject: str
    files: list[FileChange] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


def _tz(iso: str) -> int:
    zone = iso.rsplit(" ", 1)[-1]
    try:
        sign = -1 if zone[0] == "-" else 1
        return sign * (int(zone[1:3]) * 60 + int(zone[3:5]))
    except (ValueError, IndexError):
        return 0


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0  # '-' for binary files


_START = re.compile(r"\x1e(?:[0-9a-f]{40}|[0-9a-f]{64})")


def _tokens(chunks: Iterable[bytes]) -> Iterator[str]:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        parts = pending.split("\0")
        pending = parts.pop()
        yield from parts
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def parse_log(chunks: Iterable[bytes]) -> Iterator[ParsedCommit]:
    """Commits from the raw stream, as they arrive (a chunk boundary may fall anywhere).

    The header's fields are taken by position between NULs, so a subject or a name holding any
    separator character cannot cut a commit short or start a false one."""
    tokens = _tokens(chunks)
    commit: ParsedCommit | None = None
    for token in tokens:
        if _START.fullmatch(token):
            if commit is not None:
                yield commit
            parents, author, email, ts, iso, subject = (next(tokens, "") for _ in range(6))
            commit = ParsedCommit(
                sha=token[1:],
                parents=len(parents.split()),
                author=author,
                email=email,
                timestamp=int(ts) if ts.isdigit() else 0,
                tz_minutes=_tz(iso),
                subject=subject,
            )
            continue
        entry = token.lstrip("\n")
        if commit is None or not entry:
            continue
        added, _, tail = entry.partition("\t")
        removed, tab, path = tail.partition("\t")
        if not tab:
            continue  # not a numstat entry
        old: str | None = None
        if not path:  # a rename: the old and new paths follow as two tokens
            old = next(tokens, "")
            path = next(tokens, "") or old
        commit.files.append(FileChange(path, old, _count(added), _count(removed)))
    if commit is not None:
        yield commit
