from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from folio_core.settings import FolioSettings

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/bin:/bin:/usr/local/bin",
}


def git(
    repo: Path,
    *args: str,
    when: int = 1_710_000_000,
    who: str = "Ines Halvorsen <ines.halvorsen@example.com>",
) -> str:
    name, email = who.rsplit(" <", 1)
    env = {
        **GIT_ENV,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email.rstrip(">"),
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email.rstrip(">"),
        "GIT_AUTHOR_DATE": f"{when} +0000",
        "GIT_COMMITTER_DATE": f"{when} +0000",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


PORTFOLIO = """\
identities: {names: [Ines Halvorsen], emails: [ines.halvorsen@example.com]}
repositories:
  - {name: analytics-demo, path: "generated:analytics-demo", public: true, description: The demo}
  - {name: work, path: work, description: A private working copy}
  - {name: gone, path: does-not-exist}
"""


@pytest.fixture(autouse=True)
def no_ref_watcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process servers do not follow refs unless a test asks: a background scan would race the
    scans a test drives itself."""
    monkeypatch.setattr("folio_projects.service.WATCH_SECONDS", 0.0)


@pytest.fixture
def portfolio_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "portfolio"
    (folder / "work").mkdir(parents=True)
    (folder / "projects.yaml").write_text(PORTFOLIO)
    work = folder / "work"
    git(work, "init", "-q", "-b", "main")
    (work / "app.py").write_text("def main():\n    return 1\n")
    git(work, "add", "app.py")
    git(work, "commit", "-qm", "First")
    return folder


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path, portfolio_dir: Path) -> Callable[..., FolioSettings]:
    def make(**overrides: Any) -> FolioSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "portfolio_dir": portfolio_dir,
        }
        values.update(overrides)
        return FolioSettings(_env_file=None, **values)

    return make
