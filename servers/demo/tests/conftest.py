"""Fixtures: the containment proof every destructive payload waits for, and a sample portfolio."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO
from folio_demo import sandbox as sb

# Run inside the sandbox before anything destructive: prints what the code can see of the world.
CONTAINMENT_PROBE = r"""
import json, os
seen = {
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "uid": os.getuid(),
    "pidns": os.readlink("/proc/self/ns/pid"),
    "netns": os.readlink("/proc/self/ns/net"),
    "mntns": os.readlink("/proc/self/ns/mnt"),
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "interfaces": [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]],
    "lo_flags": open("/sys/class/net/lo/flags").read().strip() if os.path.exists("/sys/class/net/lo/flags") else None,
    "host_files": {path: os.path.exists(path) for path in __HOST_PATHS__},
}
print(json.dumps(seen))
"""


def host_paths() -> list[str]:
    """Paths that exist on the host and must not exist inside."""
    here = str(Path(__file__).resolve())
    candidates = ["/etc/passwd", "/etc/hostname", "/home", "/var", here, str(Path.home() / ".bashrc")]
    return [p for p in candidates if Path(p).exists()]


def containment_problems(seen: dict[str, object]) -> list[str]:
    host = {
        "pidns": str(Path("/proc/self/ns/pid").readlink()),
        "netns": str(Path("/proc/self/ns/net").readlink()),
        "mntns": str(Path("/proc/self/ns/mnt").readlink()),
    }
    problems = []
    for key, value in host.items():
        if seen[key] == value:
            problems.append(f"the code shares the host's {key}")
    processes = seen["processes"]
    assert isinstance(processes, list)
    if not (seen["ppid"] == 1 and set(processes) <= {1, 2, 3}):
        problems.append(f"the code is not alone in its own PID namespace: {processes}")
    if seen["interfaces"] != ["lo"]:
        problems.append(f"the code sees network interfaces {seen['interfaces']}")
    files = seen["host_files"]
    assert isinstance(files, dict)
    visible = [path for path, present in files.items() if present]
    if visible:
        problems.append(f"the code sees host files {visible}")
    if os.geteuid() == 0 and seen["uid"] == 0:
        problems.append("the code runs as root")
    return problems


async def prove_containment(limits: sb.Limits = sb.OWNER_LIMITS) -> dict[str, object]:
    """Run the probe in the namespace tier with ``limits``; fail the test unless it is contained."""
    problem = sb.tiers()["namespace"]
    if problem is not None:
        pytest.skip(f"namespace tier unavailable: {problem}")
    code = CONTAINMENT_PROBE.replace("__HOST_PATHS__", repr(host_paths()))
    result = await sb.run(code, "python", limits, tier="namespace")
    assert result.exit_code == 0, result.stderr
    seen = json.loads(result.stdout)
    problems = containment_problems(seen)
    if problems:
        pytest.fail("NOT CONTAINED, destructive payload not run: " + "; ".join(problems))
    return seen


def processes_in_namespace(pidns: str) -> list[int]:
    """Host processes (still) in the PID namespace ``pidns`` (as the code reported it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if str((entry / "ns" / "pid").readlink()) == pidns:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


Prove = Callable[..., Awaitable[dict[str, object]]]


@pytest.fixture
def prove() -> Prove:
    """``await prove(limits)``: the probe, run in the same sandbox configuration as the payload."""
    return prove_containment


@pytest.fixture
def leftovers() -> Callable[[str], list[int]]:
    return processes_in_namespace


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., FolioSettings]:
    def make(**overrides: Any) -> FolioSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "portfolio_dir": SAMPLE_PORTFOLIO,
        }
        values.update(overrides)
        return FolioSettings(_env_file=None, **values)

    return make


def run_rows(url: str) -> list[tuple[Any, ...]]:
    """Every row of demo.runs: (kind, demo, status, cached)."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT kind, demo, status, cached FROM demo.runs ORDER BY started_at").fetchall()


@pytest.fixture
def runs_in(database_url: str) -> Callable[[], list[tuple[Any, ...]]]:
    return lambda: run_rows(database_url)


@pytest.fixture
def probe() -> tuple[str, Callable[[dict[str, object]], list[str]]]:
    """The containment probe's code and the check of what it printed (for runs through the MCP layer)."""
    return CONTAINMENT_PROBE.replace("__HOST_PATHS__", repr(host_paths())), containment_problems
