"""One ``git log --numstat -z`` stream parsed in Python: commits with their files and line counts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# Fields separated by US, records started by RS; the subject last (it may hold anything but NUL).
LOG_FORMAT = "%x1e%H%x1f%P%x1f%aN%x1f%aE%x1f%at%x1f%ai%x1f%s"
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


def _commit(record: str) -> ParsedCommit | None:
    header, _, rest = record.partition("\0")
    parts = header.split("\x1f", 6)
    if len(parts) != 7:
        return None
    sha, parents, author, email, ts, iso, subject = parts
    commit = ParsedCommit(
        sha=sha,
        parents=len(parents.split()),
        author=author,
        email=email,
        timestamp=int(ts) if ts.isdigit() else 0,
        tz_minutes=_tz(iso),
        subject=subject,
    )
    tokens = rest.lstrip("\n").split("\0")
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token:
            continue
        added, _, tail = token.partition("\t")
        removed, _, path = tail.partition("\t")
        old: str | None = None
        if not path:  # a rename: the old and new paths follow as two tokens
            old = tokens[i] if i < len(tokens) else ""
            path = tokens[i + 1] if i + 1 < len(tokens) else old
            i += 2
        commit.files.append(FileChange(path, old, _count(added), _count(removed)))
    return commit


def parse_log(chunks: Iterable[bytes]) -> Iterator[ParsedCommit]:
    """Commits from the raw stream, as they arrive (a chunk boundary may fall anywhere)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        records = pending.split("\x1e")
        pending = records.pop()
        for record in records:
            if record:
                parsed = _commit(record)
                if parsed is not None:
                    yield parsed
    if pending:
        parsed = _commit(pending)
        if parsed is not None:
            yield parsed
