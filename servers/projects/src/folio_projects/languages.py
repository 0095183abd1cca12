"""Lines of code per language at HEAD (code / comment / blank).

Files are read from git's object store (``ls-tree`` + ``cat-file --batch``), never from the working
copy; generated and vendored files are left out. Counts are cached by blob id, so a rescan reads
only the files that changed. Complexity is left for :mod:`folio_projects.complexity` to measure
when it is asked for (NULL until then; 0 for languages without functions).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from folio_projects.errors import GitError
from folio_projects.gitcmd import git_command, git_env

# extension -> (language, line comment markers, block comment (start, end) or None)
_C = ("//",), ("/*", "*/")
LANGUAGES: dict[str, tuple[str, tuple[str, ...], tuple[str, str] | None]] = {
    ".py": ("Python", ("#",), None),
    ".rs": ("Rust", *_C),
    ".go": ("Go", *_C),
    ".js": ("JavaScript", *_C),
    ".mjs": ("JavaScript", *_C),
    ".ts": ("TypeScript", *_C),
    ".tsx": ("TypeScript", *_C),
    ".java": ("Java", *_C),
    ".kt": ("Kotlin", *_C),
    ".c": ("C", *_C),
    ".h": ("C", *_C),
    ".cc": ("C++", *_C),
    ".cpp": ("C++", *_C),
    ".hpp": ("C++", *_C),
    ".cs": ("C#", *_C),
    ".swift": ("Swift", *_C),
    ".rb": ("Ruby", ("#",), None),
    ".sh": ("Shell", ("#",), None),
    ".sql": ("SQL", ("--",), ("/*", "*/")),
    ".yaml": ("YAML", ("#",), None),
    ".yml": ("YAML", ("#",), None),
    ".toml": ("TOML", ("#",), None),
    ".json": ("JSON", (), None),
    ".md": ("Markdown", (), None),
    ".html": ("HTML", (), ("<!--", "-->")),
    ".css": ("CSS", (), ("/*", "*/")),
    ".tf": ("HCL", ("#", "//"), ("/*", "*/")),
}
NAMES = {"Dockerfile": ("Dockerfile", ("#",), None), "Makefile": ("Makefile", ("#",), None)}
_VENDORED = re.compile(r"(^|/)(vendor|vendored|third_party|node_modules|dist|build|\.venv)/")
_GENERATED_NAMES = re.compile(r"(\.min\.(js|css)$|\.lock$|-lock\.json$|_pb2\.py$|\.pb\.go$|(^|/)go\.sum$)")
_GENERATED_MARK = re.compile(rb"(@generated|Code generated .* DO NOT EDIT|DO NOT EDIT)")
MEASURED_LANGUAGES = frozenset(
    {"Python", "Rust", "Go", "JavaScript", "TypeScript", "Java", "Kotlin", "C", "C++", "C#", "Swift", "Ruby"}
)
"""Languages whose cyclomatic complexity lizard measures (see complexity.py)."""
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class FileCount:
    path: str
    language: str
    code: int
    comment: int
    blank: int
    complexity: int | None  # None: not measured yet
    blob: str


def language_of(path: str) -> tuple[str, tuple[str, ...], tuple[str, str] | None] | None:
    p = PurePosixPath(path)
    return NAMES.get(p.name) or LANGUAGES.get(p.suffix.lower())


def excluded(path: str) -> bool:
    return bool(_VENDORED.search(path) or _GENERATED_NAMES.search(path))


def count_lines(path: str, blob: str, data: bytes) -> FileCount | None:
    spec = language_of(path)
    if spec is None or b"\0" in data[:8000] or _GENERATED_MARK.search(data[:2000]):
        return None
    language, markers, block = spec
    code = comment = blank = 0
    in_block = False
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line:
            blank += 1
        elif in_block:
            comment += 1
            if block and block[1] in line:
                in_block = False
        elif block and line.startswith(block[0]):
            comment += 1
            in_block = block[1] not in line[len(block[0]) :]
        elif markers and line.startswith(markers):
            comment += 1
        else:
            code += 1
    complexity = None if language in MEASURED_LANGUAGES else 0  # measured on demand (complexity.py)
    return FileCount(path, language, code, comment, blank, complexity, blob)


def _git(repo: Path, args: list[str], stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        git_command(repo, args),
        env=git_env(),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git failed on {repo.name}: {message[-1] if message else proc.returncode}")
    return proc.stdout


def count_head(repo: Path, head: str, known: dict[str, FileCount]) -> list[FileCount]:
    """Every counted file at ``head``; ``known`` maps blob ids already counted to their counts."""
    listing = _git(repo, ["ls-tree", "-r", "-z", "--long", "--full-tree", "--end-of-options", head]).decode(
        "utf-8", "replace"
    )
    wanted: list[tuple[str, str]] = []
    out: list[FileCount] = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        if len(fields) != 4 or fields[1] != "blob" or excluded(path) or language_of(path) is None:
            continue
        blob, size = fields[2], fields[3]
        if size.isdigit() and int(size) > MAX_BYTES:
            continue
        if blob in known:
            k = known[blob]
            out.append(FileCount(path, k.language, k.code, k.comment, k.blank, k.complexity, blob))
        else:
            wanted.append((path, blob))
    if wanted:
        for (path, blob), data in zip(wanted, read_blobs(repo, [b for _, b in wanted]), strict=True):
            counted = None if data is None else count_lines(path, blob, data)
            if counted is not None:
                out.append(counted)
    return out


def read_blobs(repo: Path, blobs: list[str]) -> list[bytes | None]:
    """The contents of ``blobs`` from git's object store (None for one that is not a blob)."""
    data = _git(repo, ["cat-file", "--batch"], "".join(f"{blob}\n" for blob in blobs).encode())
    out: list[bytes | None] = []
    pos = 0
    for _ in blobs:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] != b"blob":
            out.append(None)
            continue
        length = int(header[2])
        out.append(data[pos : pos + length])
        pos += length + 1
    return out
