"""Benchmark of the orchestrator's fleet (``folio_orchestrator.Fleet``), in one run:

* fleet start-up: every Folio server of ``configs/fleet.json`` that is enabled, next to a fleet
  of the same number of trivial one-tool SDK servers (spawn → every server ready: handshake,
  era detection and all listings), and the time to shut each fleet down;
* a trivial tool call through the orchestrator next to the same call on a direct SDK ``Client``
  (same server, same era), p50/p95 and their ratio, measured in alternating chunks;
* calls per second with 50 calls in flight, through the orchestrator and direct.

The Folio servers share one embedded PostgreSQL that the benchmark holds, in a fresh directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from bench_profile import summary  # the benchmarks' shared p50/p95 summary (tests/bench is on sys.path)
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from folio_core.db.embedded import EmbeddedPostgres
from folio_core.settings import FolioSettings
from folio_orchestrator.config import FleetConfig, load_fleet, parse_fleet
from folio_orchestrator.fleet import Fleet, ServerState

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = Path(__file__).with_name("trivial_server.py")

NAME = "fleet"


def trivial_fleet(count: int, directory: Path) -> FleetConfig:
    servers = {f"trivial{i}": {"command": sys.executable, "args": [str(TRIVIAL)]} for i in range(count)}
    return parse_fleet({"mcpServers": servers}, directory / "trivial-fleet.json")


async def start_fleet(config: FleetConfig, settings: FolioSettings) -> tuple[float, float, float]:
    """Seconds from entering the fleet until every server is ready, and to shut it down; and the
    CPU seconds the servers had used when the last became ready (their start-up work, which
    other load on the machine does not inflate the way it inflates the wall clock)."""
    started = time.perf_counter()
    async with Fleet(config, settings) as fleet:
        await fleet.wait_settled(timeout=120)
        ready = time.perf_counter() - started
        cpu = sum(cpu_seconds(s.pid) for s in fleet.status() if s.pid is not None)
        bad = [s for s in fleet.status() if s.state not in (ServerState.READY, ServerState.DISABLED)]
        if bad:
            raise RuntimeError(f"servers did not start: {[(s.name, s.reason, s.stderr_tail) for s in bad]}")
        closing = time.perf_counter()
    return ready, time.perf_counter() - closing, cpu


async def bench_startup(runs: int, settings: FolioSettings, directory: Path) -> dict[str, Any]:
    folio = load_fleet(ROOT / "configs" / "fleet.json")
    names = [s.name for s in folio.enabled]
    trivial = trivial_fleet(len(names), directory)
    await start_fleet(folio, settings)  # warm-up: migrations, first import, OS caches
    await start_fleet(trivial, settings)
    samples: dict[str, list[float]] = {
        f"{kind}_{what}": [] for kind in ("folio", "trivial") for what in ("ready", "stop", "cpu")
    }
    for _ in range(runs):
        for kind, config in (("trivial", trivial), ("folio", folio)):
            ready, stop, cpu = await start_fleet(config, settings)
            samples[f"{kind}_ready"].append(ready)
            samples[f"{kind}_stop"].append(stop)
            samples[f"{kind}_cpu"].append(cpu)
    return {
        "servers": names,
        **{key: summary(values) for key, values in samples.items()},
        "ready_ratio": round(
            statistics.median(samples["folio_ready"]) / statistics.median(samples["trivial_ready"]), 3
        ),
        "cpu_ratio": round(
            statistics.median(samples["folio_cpu"]) / statistics.median(samples["trivial_cpu"]), 3
        ),
    }


async def measure(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        out.append(time.perf_counter() - started)
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def direct_server_pid(exclude: int | None) -> int:
    """The trivial server the direct Client spawned (the SDK does not expose its pid)."""
    me = os.getpid()
    for child in Path(f"/proc/{me}/task/{me}/children").read_text().split():
        pid = int(child)
        if pid != exclude and "trivial_server.py" in Path(f"/proc/{pid}/cmdline").read_text():
            return pid
    raise RuntimeError("the direct client's server process was not found")


async def throughput(
    call: Callable[[], Awaitable[Any]], total: int, in_flight: int, server_pid: int
) -> tuple[float, float]:
    """Calls per second, and CPU milliseconds per call (this process + the server): the CPU
    figure holds when other load on the machine slows the wall clock."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    cpu_before = time.process_time() + cpu_seconds(server_pid)
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(in_flight):
            tg.start_soon(worker)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() + cpu_seconds(server_pid) - cpu_before
    return total / elapsed, cpu / total * 1000


async def bench_calls(
    settings: FolioSettings, directory: Path, calls: int, chunks: int, in_flight: int, concurrent_calls: int
) -> dict[str, Any]:
    config = trivial_fleet(1, directory)
    params = StdioServerParameters(command=sys.executable, args=[str(TRIVIAL)])
    with Path(os.devnull).open("w") as devnull:
        async with Fleet(config, settings) as fleet, Client(stdio_client(params, errlog=devnull)) as direct:
            await fleet.wait_settled(timeout=60)
            era = fleet.supervisors["trivial0"].protocol_version
            fleet_pid = fleet.supervisors["trivial0"].pid
            assert fleet_pid is not None
            direct_pid = direct_server_pid(exclude=fleet_pid)
            if era != direct.protocol_version:
                raise RuntimeError(f"eras differ: fleet {era}, direct {direct.protocol_version}")

            async def via_fleet() -> Any:
                return await fleet.call_tool("trivial0__echo", {"text": "hello"})

            async def via_client() -> Any:
                return await direct.call_tool("echo", {"text": "hello"})

            for call in (via_fleet, via_client):  # warm-up
                await measure(call, 200)
            fleet_times: list[float] = []
            direct_times: list[float] = []
            per_chunk = max(1, calls // chunks)
            for _ in range(chunks):  # alternate, so that load from elsewhere hits both sides alike
                fleet_times += await measure(via_fleet, per_chunk)
                direct_times += await measure(via_client, per_chunk)
            fleet_runs: list[tuple[float, float]] = []
            direct_runs: list[tuple[float, float]] = []
            for _ in range(3):
                fleet_runs.append(await throughput(via_fleet, concurrent_calls, in_flight, fleet_pid))
                direct_runs.append(await throughput(via_client, concurrent_calls, in_flight, direct_pid))
    fleet_summary, direct_summary = summary(fleet_times), summary(direct_times)
    return {
        "era": era,
        "sequential": {
            "orchestrator": fleet_summary,
            "direct": direct_summary,
            "p50_ratio": round(fleet_summary["p50_ms"] / direct_summary["p50_ms"], 3),
            "p95_ratio": round(fleet_summary["p95_ms"] / direct_summary["p95_ms"], 3),
        },
        "concurrent": {
            "in_flight": in_flight,
            "calls_per_run": concurrent_calls,
            "orchestrator_calls_per_s": round(statistics.median(r for r, _ in fleet_runs)),
            "direct_calls_per_s": round(statistics.median(r for r, _ in direct_runs)),
            "orchestrator_cpu_ms_per_call": round(statistics.median(c for _, c in fleet_runs), 3),
            "direct_cpu_ms_per_call": round(statistics.median(c for _, c in direct_runs), 3),
            "orchestrator_runs": [round(r) for r, _ in fleet_runs],
            "direct_runs": [round(r) for r, _ in direct_runs],
            "cpus": os.cpu_count(),
            "load_average_after": os.getloadavg(),
        },
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fleet")
    group.add_argument("--fleet-runs", type=int, default=5, help="fleet start-ups per kind")
    group.add_argument("--fleet-calls", type=int, default=2000, help="sequential calls per side")
    group.add_argument("--fleet-chunks", type=int, default=10, help="alternating chunks of sequential calls")
    group.add_argument("--fleet-in-flight", type=int, default=50, help="concurrent calls")
    group.add_argument("--fleet-concurrent-calls", type=int, default=3000, help="calls per throughput run")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="folio-bench-fleet-"))
    cluster = EmbeddedPostgres(directory / "data")
    cluster.start()  # the bench holds the embedded database, as another client would
    settings = FolioSettings(
        data_dir=directory / "data", portfolio_dir=ROOT / "configs" / "portfolio", log_level="warning"
    )
    try:
        startup = await bench_startup(args.fleet_runs, settings, directory)
        calls = await bench_calls(
            settings,
            directory,
            args.fleet_calls,
            args.fleet_chunks,
            args.fleet_in_flight,
            args.fleet_concurrent_calls,
        )
    finally:
        cluster.stop()
    return {"startup": startup, "calls": calls}


def report(results: dict[str, Any]) -> None:
    startup, calls = results["startup"], results["calls"]
    n = len(startup["servers"])
    print(f"\nfleet (orchestrator) — Folio servers: {', '.join(startup['servers'])}")
    print(f"  {'measure':<58} {'p50 ms':>9} {'p95 ms':>9}")
    rows = [
        (f"start-up → all ready, {n} Folio server(s)", startup["folio_ready"]),
        (f"start-up → all ready, {n} trivial SDK server(s)", startup["trivial_ready"]),
        (f"shutdown, {n} Folio server(s)", startup["folio_stop"]),
        (f"shutdown, {n} trivial SDK server(s)", startup["trivial_stop"]),
    ]
    seq = calls["sequential"]
    rows += [
        (f"trivial call via the orchestrator ({calls['era']})", seq["orchestrator"]),
        (f"trivial call via a direct SDK Client ({calls['era']})", seq["direct"]),
    ]
    for label, row in rows:
        print(f"  {label:<58} {row['p50_ms']:>9.2f} {row['p95_ms']:>9.2f}")
    print(
        f"  {f'servers CPU until all ready, {n} Folio / {n} trivial (ms)':<58} "
        f"{startup['folio_cpu']['p50_ms']:>9.0f} {startup['trivial_cpu']['p50_ms']:>9.0f}"
    )
    print(f"  {'start-up ratio (p50), Folio / trivial (aim ≤ 1.15)':<58} {startup['ready_ratio']:>9.3f}")
    print(f"  {'  the same in CPU (contention-proof)':<58} {startup['cpu_ratio']:>9.3f}")
    print(
        f"  {'call ratio, orchestrator / direct (aim ≤ 1.10)':<58} {seq['p50_ratio']:>9.3f} {seq['p95_ratio']:>9.3f}"
    )
    conc = calls["concurrent"]
    print(f"  {'calls/s with ' + str(conc['in_flight']) + ' in flight':<58} {'orch.':>9} {'direct':>9}")
    print(
        f"  {'  median of 3 runs (aim ≥ 1,200 via the orchestrator)':<58} "
        f"{conc['orchestrator_calls_per_s']:>9} {conc['direct_calls_per_s']:>9}"
    )
    print(
        f"  {'  CPU ms per call, host + server (contention-proof)':<58} "
        f"{conc['orchestrator_cpu_ms_per_call']:>9.3f} {conc['direct_cpu_ms_per_call']:>9.3f}"
    )
    ceiling = (conc["cpus"] or 1) * 1000 / conc["orchestrator_cpu_ms_per_call"]
    print(f"  {'  ceiling on an idle machine, all CPUs (calls/s)':<58} {ceiling:>9.0f}")
