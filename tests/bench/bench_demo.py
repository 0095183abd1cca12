"""Benchmark of the demo server's sandbox (``make bench``).

In one run:

* a ``print(1)`` snippet round trip per sandbox tier, spawn to result (``sandbox.run``): the
  namespace tier (``unshare`` + the namespace's first process + the code's interpreter) and the
  interpreter tier (pydantic-monty);
* the same code with plain ``python -c 'print(1)'`` (spawn to exit), and the namespace tier's
  overhead over it;
* a curated demo (``truck-factor``) round trip through the in-memory MCP client, cold (inputs
  never seen, so it runs) and cached.

p50/p95 over ``--demo-runs`` runs after a few warm-up runs. Aims: namespace tier ≤ 150 ms p50 for
``print(1)``; a cached demo ≤ 10 ms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import psycopg
from psycopg.conninfo import make_conninfo

from folio_core.db.embedded import EmbeddedPostgres

NAME = "demo"
ROOT = Path(__file__).resolve().parents[2]
WARM_UP = 3
OWNERS = {"a.py": ["ines"], "b.py": ["ines", "marek"], "c.py": ["marek"], "d.py": ["aiko"]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5), 2), "p95_ms": round(percentile(values, 0.95), 2)}


async def timed(runs: int, once: Callable[[int], Awaitable[None]]) -> list[float]:
    times = []
    for i in range(runs + WARM_UP):
        t0 = time.perf_counter()
        await once(i)
        if i >= WARM_UP:
            times.append((time.perf_counter() - t0) * 1000)
    return times


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from mcp import Client

    from folio_core.settings import FolioSettings
    from folio_core.testing import SAMPLE_PORTFOLIO
    from folio_demo import sandbox as sb
    from folio_demo.server import build_server

    runs = args.demo_runs
    results: dict[str, Any] = {"runs": runs, "tiers": {k: v is None for k, v in sb.tiers().items()}}

    async def plain(_: int) -> None:
        done = await anyio.run_process([sys.executable, "-I", "-S", "-c", "print(1)"], env={})
        assert done.stdout == b"1\n"

    results["plain_python_c"] = summary(await timed(runs, plain))
    for tier in ("namespace", "interpreter"):
        if sb.tiers()[tier] is not None:
            results[tier] = {"unavailable": sb.tiers()[tier]}
            continue

        async def once(_: int, tier: Any = tier) -> None:
            result = await sb.run("print(1)", "python", tier=tier)
            assert result.stdout == "1\n", result.stderr

        results[tier] = summary(await timed(runs, once))
    if "p50_ms" in results.get("namespace", {}):
        results["namespace_overhead"] = {
            "p50_ms": round(results["namespace"]["p50_ms"] - results["plain_python_c"]["p50_ms"], 2),
            "p95_ms": round(results["namespace"]["p95_ms"] - results["plain_python_c"]["p95_ms"], 2),
        }
        results["namespace_aim_met"] = results["namespace"]["p50_ms"] <= 150

    data_dir = Path(tempfile.mkdtemp(prefix="folio-bench-demo-"))
    server = EmbeddedPostgres(data_dir)
    admin = server.start()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(admin, dbname=name)
    settings = FolioSettings(
        _env_file=None, database_url=url, data_dir=data_dir / "data", portfolio_dir=SAMPLE_PORTFOLIO
    )
    try:
        async with Client(build_server(settings).mcp, mode="legacy") as client:

            async def call(inputs: dict[str, Any], cached: bool) -> None:
                result = await client.call_tool(
                    "demo_run", {"name": "truck-factor", "inputs": inputs, "confirm": True}
                )
                assert not result.is_error and result.structured_content is not None
                assert result.structured_content["cached"] is cached

            async def cold(i: int) -> None:
                await call({"owners": OWNERS, "coverage": 0.5 + i * 1e-6}, cached=False)

            async def cached(_: int) -> None:
                await call({"owners": OWNERS, "coverage": 0.25}, cached=True)

            await call({"owners": OWNERS, "coverage": 0.25}, cached=False)
            results["demo_cold"] = summary(await timed(runs, cold))
            results["demo_cached"] = summary(await timed(runs, cached))
            results["demo_cached_aim_met"] = results["demo_cached"]["p50_ms"] <= 10
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.stop()
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("demo")
    group.add_argument("--demo-runs", type=int, default=30, help="runs per sandbox tier and demo path")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return await bench(args)


def report(results: dict[str, Any]) -> None:
    print(f"\ndemo: {results['runs']} runs each (after {WARM_UP} warm-up runs)")
    print(f"{'path':<44} {'p50 ms':>8} {'p95 ms':>8}")
    rows = [
        ("namespace", "print(1), namespace tier (spawn to result)"),
        ("interpreter", "print(1), interpreter tier (pydantic-monty)"),
        ("plain_python_c", "print(1), plain python -c (spawn to exit)"),
        ("namespace_overhead", "namespace tier over plain python -c"),
        ("demo_cold", "truck-factor demo via MCP, cold"),
        ("demo_cached", "truck-factor demo via MCP, cached"),
    ]
    for key, title in rows:
        row = results.get(key, {})
        if "p50_ms" in row:
            print(f"{title:<44} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f}")
        elif row:
            print(f"{title:<44} unavailable: {row.get('unavailable')}")
    if "namespace_aim_met" in results:
        print(f"aim namespace print(1) ≤ 150 ms p50: {'met' if results['namespace_aim_met'] else 'NOT met'}")
    print(f"aim cached demo ≤ 10 ms p50: {'met' if results['demo_cached_aim_met'] else 'NOT met'}")
