"""`make setup`'s npm step: installs only when the lock changed, and never leaves a broken tree."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "setup_interop.sh"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the parts of the checkout the script reads."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts")
    interop = tmp_path / "tests" / "interop"
    interop.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO_ROOT / "tests" / "interop" / name, interop)
    return tmp_path


def run_setup(checkout: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", str(checkout / "scripts" / "setup_interop.sh")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "npm_config_update_notifier": "false"},
    )


def test_setups_at_once_leave_one_whole_tree_an_unchanged_lock_installs_nothing_and_a_new_one_swaps(
    checkout: Path,
) -> None:
    first, second = run_setup(checkout), run_setup(checkout)
    outputs = [p.communicate()[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert sum("Installing" in out for out in outputs) == 1, outputs  # the other waited, then found it done

    modules = checkout / "tests" / "interop" / "node_modules"
    for command in ("mcp-server-everything", "mcp-server-memory"):
        assert (modules / ".bin" / command).exists(), command
    link = modules.readlink()
    tree = (modules / ".bin").resolve()

    third = run_setup(checkout)
    out = third.communicate()[0]
    assert third.returncode == 0 and out == ""
    assert modules.readlink() == link and (modules / ".bin").resolve() == tree

    # A changed lock: a new tree is swapped in and the old one removed.
    package = checkout / "tests" / "interop" / "package.json"
    package.write_text(package.read_text().replace('"private": true', '"private": true, "version": "0.0.1"'))
    fourth = run_setup(checkout)
    out = fourth.communicate()[0]
    assert fourth.returncode == 0 and "Installing" in out
    assert modules.readlink() != link
    assert (modules / ".bin" / "mcp-server-everything").exists()
    assert not (modules.parent / link).exists()
