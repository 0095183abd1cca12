"""Lines of code per language at HEAD (code / comment / blank) and a complexity estimate per file.

Files are read from git's object store (``ls-tree`` + ``cat-file --batch``), never from the working
copy; generated and vendored files are left out. Counts are cached by blob id, so a rescan reads
only the files that changed. Complexity is a cyclomatic estimate: 1 + the decision points
(branches, loops, boolean operators, handlers) on code lines.
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
_DECISIONS = re.compile(r"\b(if|elif|for|while|case|catch|except|match)\b|&&|\|\|")
_CODE_LANGUAGES = {
    "Python",
    "Rust",
    "Go",
    "JavaScript",
    "TypeScript",
    "Java",
    "Kotlin",
    "C",
    "C++",
    "C#",
    "Swift",
    "Ruby",
    "Shell",
}
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class FileCount:
    path: str
    language: str
    code: int
    comment: int
    blank: int
    complexity: int
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
    code = comment = blank = decisions = 0
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
            if language in _CODE_LANGUAGES:
                decisions += len(_DECISIONS.findall(line))
    complexity = 1 + decisions if language in _CODE_LANGUAGES else 0
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
        data = _git(repo, ["cat-file", "--batch"], "".join(f"{blob}\n" for _, blob in wanted).encode())
        pos = 0
        for path, blob in wanted:
            end = data.index(b"\n", pos)
            header = data[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] != b"blob":
                continue
            length = int(header[2])
            counted = count_lines(path, blob, data[pos : pos + length])
            pos += length + 1
            if counted is not None:
                out.append(counted)
    return out
