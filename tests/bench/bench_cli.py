"""Benchmark of the ``folio`` command as a person runs it, in one run (alternating, medians):

* ``python -c pass``: the interpreter alone, the floor every command stands on;
* ``folio --version`` and ``folio --help``: click and nothing else (aim: ≤ 150 ms over the floor);
* ``folio call profile__profile_get``: a whole command — start, spawn the profile server, its
  start-up (database pool, migrations, portfolio check), the call, shutdown — next to the
  fleet's own start-up of that server (spawn → ready, in process; aim: the command ≤ 1.5× it).

Each row also gives the CPU time used (the command and the servers it waited for), which holds
when other load on the machine stretches the wall clock.

The embedded PostgreSQL is held by the benchmark (as a running client would hold it), in a
fresh data directory, so the figures do not include starting the database.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_fleet import start_fleet  # tests/bench is on sys.path
from bench_profile import summary

from folio_core.db.embedded import EmbeddedPostgres
from folio_core.settings import FolioSettings
from folio_orchestrator.config import FleetConfig, load_fleet

NAME = "cli"
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CALL = ["call", "profile__profile_get", '{"section": "basics"}']


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and every process it waited for (its servers)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, _children_cpu() - cpu


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cli")
    group.add_argument("--cli-runs", type=int, default=7, help="runs of each command")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="folio-bench-cli-"))
    data = directory / "data"
    cluster = EmbeddedPostgres(data)
    cluster.start()
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", str(directory)),
        "FOLIO_DATA_DIR": str(data),
        "FOLIO_PORTFOLIO_DIR": str(ROOT / "configs" / "portfolio"),
    }
    settings = FolioSettings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data,
        portfolio_dir=ROOT / "configs" / "portfolio",
        log_level="warning",
    )
    fleet = load_fleet(ROOT / "configs" / "fleet.json")
    profile_only = FleetConfig(fleet.path, fleet.shape, {"profile": fleet.servers["profile"]})
    commands = {
        "python_pass": [sys.executable, "-c", "pass"],
        "version": [str(BIN / "folio"), "--version"],
        "help": [str(BIN / "folio"), "--help"],
        "call": [str(BIN / "folio"), *CALL],
    }
    keys = [*commands, "fleet_startup_profile"]
    samples: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}
    try:
        timed(commands["call"], env)  # warm-up: migrations, the résumé import, OS caches
        await start_fleet(profile_only, settings)
        for _ in range(args.cli_runs):
            for key, argv in commands.items():
                wall, used = timed(argv, env)
                samples[key].append(wall)
                cpu[key].append(used)
            host = time.process_time()
            ready, _, servers = await start_fleet(profile_only, settings)
            samples["fleet_startup_profile"].append(ready)
            cpu["fleet_startup_profile"].append(time.process_time() - host + servers)
    finally:
        cluster.stop()
    wall_p50 = {k: statistics.median(v) for k, v in samples.items()}
    cpu_p50 = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        **{k: summary(v) for k, v in samples.items()},
        "cpu_p50_ms": {k: round(v * 1000, 1) for k, v in cpu_p50.items()},
        "version_over_python_ms": round((wall_p50["version"] - wall_p50["python_pass"]) * 1000, 1),
        "help_over_python_ms": round((wall_p50["help"] - wall_p50["python_pass"]) * 1000, 1),
        "call_over_fleet_startup": round(wall_p50["call"] / wall_p50["fleet_startup_profile"], 3),
        "cpu_call_over_fleet_startup": round(cpu_p50["call"] / cpu_p50["fleet_startup_profile"], 3),
    }


def report(results: dict[str, Any]) -> None:
    print("\nthe folio command (embedded database held by the benchmark)")
    print(f"  {'measure':<58} {'p50 ms':>9} {'p95 ms':>9} {'CPU ms':>9}")
    rows = [
        ("python -c pass", "python_pass"),
        ("folio --version", "version"),
        ("folio --help", "help"),
        ("folio call profile__profile_get (whole command)", "call"),
        ("fleet start-up of the profile server (spawn → ready)", "fleet_startup_profile"),
    ]
    for label, key in rows:
        print(
            f"  {label:<58} {results[key]['p50_ms']:>9.1f} {results[key]['p95_ms']:>9.1f} "
            f"{results['cpu_p50_ms'][key]:>9.1f}"
        )
    print(
        f"  {'folio --version over python -c pass (aim ≤ 150 ms)':<58} {results['version_over_python_ms']:>9.1f}"
    )
    print(f"  {'folio --help over python -c pass':<58} {results['help_over_python_ms']:>9.1f}")
    print(
        f"  {'folio call / fleet start-up of its server (aim ≤ 1.5)':<58} {results['call_over_fleet_startup']:>9.3f}"
    )
    print(f"  {'  the same in CPU (contention-proof)':<58} {results['cpu_call_over_fleet_startup']:>9.3f}")
