"""The log parser on real git output: renames, binaries, merges, time zones, hostile subjects, and
a stream cut at every possible byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

from folio_projects.gitcmd import git_command, git_env
from folio_projects.logparse import LOG_ARGS, parse_log

from .conftest import git


def raw_log(repo: Path) -> bytes:
    return subprocess.run(
        git_command(repo, [*LOG_ARGS, "--end-of-options", "HEAD", "--"]),
        env=git_env(),
        capture_output=True,
        check=True,
    ).stdout


def make_history(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.py").write_text("one\ntwo\nthree\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "Start\ttabbed – naïve ünïcode", when=1_700_000_000)
    git(repo, "checkout", "-qb", "side")
    (repo / "side.txt").write_text("side\n")
    git(repo, "add", "side.txt")
    git(repo, "commit", "-qm", "Side", when=1_700_000_100)
    git(repo, "checkout", "-q", "main")
    git(repo, "mv", "a.py", "b.py")
    git(repo, "commit", "-qm", "Rename a to b", when=1_700_000_200)
    message = repo.parent / "msg.txt"
    message.write_bytes(b"Hostile \x1e" + b"0" * 40 + b"\x1fsubject\x1f with separators")
    (repo / "b.py").write_text("one\ntwo\nthree\nfour\n")
    git(repo, "commit", "-qa", "-F", str(message), when=1_700_000_300)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge side", "side", when=1_700_000_400)


def test_real_history_parses_into_exact_commits(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    make_history(repo)
    commits = list(parse_log([raw_log(repo)]))
    by_subject = {c.subject: c for c in commits}
    assert len(commits) == 5
    start = by_subject["Start\ttabbed – naïve ünïcode"]
    assert sorted((f.path, f.added, f.removed) for f in start.files) == [("a.py", 3, 0), ("logo.png", 0, 0)]
    assert start.timestamp == 1_700_000_000 and start.tz_minutes == 0 and start.parents == 0  # the root
    renamed = by_subject["Rename a to b"].files
    assert [(f.path, f.old_path, f.added, f.removed) for f in renamed] == [("b.py", "a.py", 0, 0)]
    hostile = next(c for c in commits if c.subject.startswith("Hostile"))
    assert hostile.subject == "Hostile \x1e" + "0" * 40 + "\x1fsubject\x1f with separators"
    assert [(f.path, f.added) for f in hostile.files] == [("b.py", 1)]  # the separator did not cut the record
    merge = by_subject["Merge side"]
    assert merge.parents == 2 and merge.files == []
    shas = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "HEAD"], capture_output=True, text=True, check=True
    )
    assert [c.sha for c in commits] == shas.stdout.split()


def test_a_stream_cut_anywhere_parses_the_same(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    make_history(repo)
    data = raw_log(repo)
    whole = [(c.sha, c.subject, c.files) for c in parse_log([data])]
    for cut in range(1, len(data)):
        pieces = [data[:cut], data[cut:]]
        assert [(c.sha, c.subject, c.files) for c in parse_log(pieces)] == whole, cut
    one_byte = [data[i : i + 1] for i in range(len(data))]  # also splits every UTF-8 sequence
    assert [(c.sha, c.subject, c.files) for c in parse_log(one_byte)] == whole


def test_time_zones_are_read_from_the_author_date(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for zone, name in (("-0530", "west"), ("+0945", "east")):
        (repo / f"{name}.txt").write_text(name)
        git(repo, "add", f"{name}.txt")
        subprocess.run(
            ["git", "-C", str(repo), "commit", "-qm", name],
            env={
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": "/dev/null",
                "PATH": "/usr/bin:/bin",
                "GIT_AUTHOR_NAME": "A",
                "GIT_AUTHOR_EMAIL": "a@example.com",
                "GIT_COMMITTER_NAME": "A",
                "GIT_COMMITTER_EMAIL": "a@example.com",
                "GIT_AUTHOR_DATE": f"1700000000 {zone}",
                "GIT_COMMITTER_DATE": f"1700000000 {zone}",
            },
            check=True,
        )
    zones = {c.subject: c.tz_minutes for c in parse_log([raw_log(repo)])}
    assert zones == {"west": -330, "east": 585}
