"""Sample repositories built deterministically with ``git fast-import`` (fixed authors, dates, a
merge, a bot, a rename and several languages), so the sample portfolio works on a fresh clone."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from folio_projects.gitcmd import git_env

OWNER = ("Ines Halvorsen", "ines.halvorsen@example.com")
PEER = ("Grace Hopper", "grace@example.com")
BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
_BASE = 1_704_103_200  # 2024-01-01T10:00:00Z
_DAY = 86_400


@dataclass
class Commit:
    author: tuple[str, str]
    when: int
    message: str
    files: dict[str, str | None] = field(default_factory=dict)  # None deletes
    renames: list[tuple[str, str]] = field(default_factory=list)
    tz: str = "+0100"
    merge_of: int | None = None  # index of a commit on the side branch
    branch: str = "main"


def _lines(n: int, fmt: str) -> str:
    return "".join(fmt.format(i=i) for i in range(n))


def sample_history() -> list[Commit]:
    """The 'analytics-demo' history: 10 commits, one merge, one bot commit, one rename."""
    py = '"""Demo."""\n\n' + _lines(6, "def f{i}(x):\n    if x > {i}:\n        return x\n    return {i}\n\n")
    rs = "// Parser.\n" + _lines(5, "fn p{i}(x: i32) -> i32 {{\n    if x > {i} {{ x }} else {{ {i} }}\n}}\n")
    extra = _lines(4, "X{i} = {i}\n")
    go = "package main\n\n// Entry point.\nfunc main() {\n\tfor i := 0; i < 3; i++ {\n\t}\n}\n"
    return [
        Commit(
            OWNER,
            _BASE,
            "Start the analytics demo",
            {"README.md": "# Demo\n\nAnalytics.\n", "src/core.py": py},
        ),
        Commit(OWNER, _BASE + 2 * _DAY, "Add the Rust parser", {"parser/lib.rs": rs}),
        Commit(PEER, _BASE + 9 * _DAY + 3600, "Add the Go command", {"cmd/main.go": go}, tz="-0500"),
        Commit(
            OWNER, _BASE + 12 * _DAY, "Move core into a package", renames=[("src/core.py", "demo/core.py")]
        ),
        Commit(
            BOT,
            _BASE + 20 * _DAY,
            "Bump serde from 1.0.1 to 1.0.2",
            {"Cargo.toml": '[dependencies]\nserde = "1.0.2"\n'},
        ),
        Commit(
            PEER,
            _BASE + 33 * _DAY,
            "Handle negative input",
            {"demo/extra.py": extra},
            branch="feature",
        ),
        Commit(OWNER, _BASE + 35 * _DAY, "Merge branch 'feature'", {"demo/extra.py": extra}, merge_of=5),
        Commit(
            OWNER,
            _BASE + 40 * _DAY + 7200,
            "Document the parser",
            {"docs/parser.md": "# Parser\n\nHow it works.\n"},
        ),
        Commit(OWNER, _BASE + 62 * _DAY, "Tune the parser", {"parser/lib.rs": rs + "fn extra() {}\n"}),
        Commit(PEER, _BASE + 70 * _DAY, "Add a vendored helper", {"vendor/helper.js": "var a = 1;\n"}),
    ]


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def fast_import_stream(history: list[Commit]) -> bytes:
    out: list[bytes] = []
    marks: dict[int, int] = {}
    tips: dict[str, int] = {}
    for i, c in enumerate(history):
        mark = i + 1
        marks[i] = mark
        who = f"{c.author[0]} <{c.author[1]}> {c.when} {c.tz}".encode()
        out.append(f"commit refs/heads/{c.branch}\nmark :{mark}\n".encode())
        out.append(b"author " + who + b"\ncommitter " + who + b"\n" + _data(c.message + "\n"))
        parent = tips.get(c.branch)
        if parent is None and c.branch != "main":
            parent = tips["main"]
        if parent is not None:
            out.append(f"from :{parent}\n".encode())
        if c.merge_of is not None:
            out.append(f"merge :{marks[c.merge_of]}\n".encode())
        for old, new in c.renames:
            out.append(f'R "{old}" "{new}"\n'.encode())
        for path, content in c.files.items():
            if content is None:
                out.append(f'D "{path}"\n'.encode())
            else:
                out.append(f'M 100644 inline "{path}"\n'.encode() + _data(content))
        out.append(b"\n")
        tips[c.branch] = mark
    return b"".join(out)


def build_repository(path: Path, history: list[Commit]) -> Path:
    """Create a bare repository at ``path`` holding ``history`` (replacing a half-built one)."""
    tmp = path.with_name(path.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    env = git_env()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(tmp)], env=env, check=True)
    subprocess.run(
        ["git", "-C", str(tmp), "fast-import", "--quiet", "--done"],
        input=fast_import_stream(history) + b"done\n",
        env=env,
        check=True,
        capture_output=True,
    )
    tmp.rename(path)
    return path


SAMPLES = {"analytics-demo": sample_history}


def ensure_sample(kind: str, path: Path) -> None:
    """Build the generated sample repository ``kind`` at ``path`` unless it exists."""
    if path.is_dir():
        return
    make = SAMPLES.get(kind)
    if make is None:
        return
    build_repository(path, make())
