"""Running ``git`` safely on a configured repository: nothing from the repository runs, nothing is written.

* No system or global configuration (``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL=/dev/null``), no
  hooks, no textconv or external diff, no fsmonitor, no pager, no terminal prompts, no lazy fetch.
* Revisions and paths never reach git as options: a value starting with ``-`` is refused, and
  ``--end-of-options`` / ``--`` separate them from the flags.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from folio_projects.errors import GitError, InvalidInputError, NotARepositoryError

HARDENING = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.pager=cat",
    "-c", "diff.external=",
    "-c", "core.sshCommand=false",
    "-c", "protocol.allow=never",
    "-c", "safe.directory=*",
)  # fmt: skip

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_TERMINAL_PROMPT="0",
        GIT_NO_LAZY_FETCH="1",
        GIT_OPTIONAL_LOCKS="0",  # a read never takes the index lock (nothing written)
        LC_ALL="C",
    )
    return env


def check_ref(value: str, what: str = "revision") -> str:
    """A revision or path given by the model or read from the repository, refused if it is an option."""
    if not value or value.startswith("-") or "\x00" in value or len(value) > 500:
        raise InvalidInputError(f"{what} {value[:60]!r} is not valid: it must not be empty or start with '-'")
    return value


def git_command(repo: Path, args: Sequence[str]) -> list[str]:
    return ["git", *HARDENING, "-C", str(repo), *args]


def run_git(repo: Path, args: Sequence[str], *, check: bool = True) -> str:
    proc = subprocess.run(
        git_command(repo, args), env=git_env(), capture_output=True, stdin=subprocess.DEVNULL, check=False
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git failed on {repo.name}: {message[-1] if message else proc.returncode}")
    return proc.stdout.decode("utf-8", "replace")


def stream_git(repo: Path, args: Sequence[str]) -> Iterator[bytes]:
    """Chunks of git's stdout; GitError if git fails (the repository vanished, a bad revision)."""
    proc = subprocess.Popen(
        git_command(repo, args),
        env=git_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        while chunk := proc.stdout.read(1 << 20):
            yield chunk
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        if proc.wait() != 0:
            raise GitError(f"git failed on {repo.name}: {err.splitlines()[-1] if err else proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def resolve_repository(path: Path, name: str) -> Path:
    """The repository at ``path`` (a working copy or a bare repository), or NotARepositoryError.

    Messages name the repository, never its path (paths stay out of what the model sees)."""
    if not path.is_dir():
        raise NotARepositoryError(
            f"repository {name!r}: its path does not exist or is not a directory; fix it in projects.yaml"
        )
    proc = subprocess.run(
        git_command(path, ["rev-parse", "--git-dir"]),
        env=git_env(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise NotARepositoryError(
            f"repository {name!r}: its path is not a git repository; fix it in projects.yaml"
        )
    return path


def head(repo: Path) -> str | None:
    """The commit HEAD points to, or None in a repository without commits."""
    proc = subprocess.run(
        git_command(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", "HEAD^{commit}"]),
        env=git_env(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        if not repo.is_dir():
            raise NotARepositoryError(f"repository {repo.name!r} disappeared")
        return None
    sha = proc.stdout.decode().strip()
    if not _SHA.match(sha):  # pragma: no cover - git answers a hash or fails
        raise GitError(f"unexpected answer from git rev-parse: {sha[:80]!r}")
    return sha


def is_ancestor(repo: Path, old: str, new: str) -> bool:
    proc = subprocess.run(
        git_command(
            repo, ["merge-base", "--is-ancestor", "--end-of-options", check_ref(old), check_ref(new)]
        ),
        env=git_env(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return proc.returncode == 0
