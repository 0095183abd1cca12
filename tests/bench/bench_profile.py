"""Benchmark of the profile server:

* profile_search latency over 100 queries, through a real stdio MCP session;
* spawn-to-ready of ``folio-profile`` next to a trivial one-tool SDK server, measured in the
  same run, alternating, in both protocol eras: "handshake" is the client's connect returning,
  "first answer" is the first tool call answered (for folio-profile: database, migrations,
  portfolio check and embedding model ready);
* profile_update on the largest résumé the validation accepts (about 200,000 characters of JSON,
  ~1,800 search chunks), and how long oversized patches take to be answered (20,000 highlights in
  one array; a 1,000,000-character ``basics.name``; a small update after that name).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from folio_core.db.embedded import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
QUERIES = [
    "Kubernetes platform engineering",
    "on-call and incident response",
    "mentoring junior engineers",
    "event streaming with Kafka",
    "PostgreSQL performance tuning",
    "machine learning infrastructure",
    "cutting cloud costs",
    "data pipelines and ETL",
    "public speaking at conferences",
    "Go microservices",
    "developer experience and paved roads",
    "security and compliance",
    "observability with OpenTelemetry",
    "leading cross-team projects",
    "open source contributions",
    "languages spoken",
    "university degree",
    "awards and recognition",
    "Python async programming",
    "migrating legacy systems",
]


def largest_resume() -> dict[str, Any]:
    """The sample résumé grown to just under the validation's size limits (document, arrays, strings)."""
    doc: dict[str, Any] = json.loads((ROOT / "configs" / "portfolio" / "resume.json").read_text())
    work = doc["work"]
    i = 0
    while len(json.dumps(doc, ensure_ascii=False, separators=(",", ":"))) < 190_000 and len(work) < 200:
        work.append(
            {
                "name": f"Company {i}",
                "position": "Engineer",
                "startDate": "2001-01",
                "endDate": "2002-01",
                "summary": f"Worked on platform {i}. " + "Built and ran services for many teams. " * 4,
                "highlights": [
                    f"Delivered system {i}.{h}: " + "faster builds and safer deploys. " * 2 for h in range(8)
                ],
            }
        )
        i += 1
    return doc


async def timed_call(client: Client, tool: str, args: dict[str, Any]) -> tuple[float, bool]:
    started = time.perf_counter()
    result = await client.call_tool(tool, args)
    return time.perf_counter() - started, bool(result.is_error)


async def bench_update(profile: StdioServerParameters, env: dict[str, str], runs: int) -> dict[str, Any]:
    """profile_update on the largest accepted résumé, then oversized patches (answered: refused or not)."""
    big = largest_resume()
    path = Path(tempfile.mkdtemp(prefix="folio-bench-resume-")) / "large.json"
    path.write_text(json.dumps(big))
    # No portfolio file: the server must serve the imported résumé, not re-import the sample.
    env = {**env, "FOLIO_PORTFOLIO_DIR": str(path.parent)}
    profile = StdioServerParameters(command=profile.command, args=profile.args, env=env)
    command = [str(BIN / "folio-profile"), "import", "--yes", str(path)]
    started = time.perf_counter()
    done = await anyio.run_process(command, env={**os.environ, **env}, check=False)
    imported = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import of the large résumé failed: {done.stderr.decode()}")
    out: dict[str, Any] = {
        "large_resume_chars": len(json.dumps(big, ensure_ascii=False, separators=(",", ":"))),
        "large_resume_work_entries": len(big["work"]),
        "import_large_s": round(imported, 3),
    }
    highlights = [f"highlight {n}" for n in range(20_000)]
    with Path(os.devnull).open("w") as devnull:
        async with Client(stdio_client(profile, errlog=devnull), mode="legacy") as client:
            await client.call_tool("profile_history", {"limit": 1})
            latencies = []
            for n in range(runs):
                seconds, failed = await timed_call(
                    client,
                    "profile_update",
                    {"patch": {"basics": {"label": f"Engineer {n}"}}, "reason": "bench"},
                )
                if failed:
                    raise RuntimeError("profile_update failed on the large résumé")
                latencies.append(seconds)
            out["update_large"] = summary(latencies)
            project = copy.deepcopy(big["projects"][0])
            project["highlights"] = highlights
            seconds, failed = await timed_call(
                client,
                "profile_update",
                {"patch": {"projects": [project]}, "reason": "bench", "confirm": True},
            )
            out["update_20000_highlights"] = {"s": round(seconds, 3), "refused": failed}
            seconds, failed = await timed_call(
                client, "profile_update", {"patch": {"basics": {"name": "N" * 1_000_000}}, "reason": "bench"}
            )
            out["update_1m_char_name"] = {"s": round(seconds, 3), "refused": failed}
            seconds, failed = await timed_call(
                client, "profile_update", {"patch": {"basics": {"label": "After"}}, "reason": "bench"}
            )
            out["update_after_1m_char_name"] = {"s": round(seconds, 3), "refused": failed}
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "min_ms": round(min(values) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


async def spawn(
    params: StdioServerParameters, mode: str, tool: str, args: dict[str, Any]
) -> tuple[float, float]:
    with Path(os.devnull).open("w") as devnull:
        started = time.perf_counter()
        async with Client(stdio_client(params, errlog=devnull), mode=mode) as client:
            handshake = time.perf_counter() - started
            result = await client.call_tool(tool, args)
            first = time.perf_counter() - started
            if result.is_error:
                raise RuntimeError(f"{tool} failed during the benchmark: {result.content}")
    return handshake, first


async def bench_profile(runs: int, queries: int, updates: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="folio-bench-"))
    cluster = EmbeddedPostgres(data_dir)
    cold = time.perf_counter()
    cluster.start()  # the bench holds the embedded database, as another client would
    cluster_start = time.perf_counter() - cold
    env = {"FOLIO_DATA_DIR": str(data_dir), "FOLIO_PORTFOLIO_DIR": str(ROOT / "configs" / "portfolio")}
    profile = StdioServerParameters(command=str(BIN / "folio-profile"), args=[], env=env)
    trivial = StdioServerParameters(
        command=sys.executable, args=[str(Path(__file__).with_name("trivial_server.py"))]
    )
    results: dict[str, Any] = {"embedded_cluster_cold_start_s": round(cluster_start, 3)}
    try:
        # Warm-up: first import of the portfolio (embeds every chunk) and OS file caches.
        await spawn(profile, "legacy", "profile_history", {})
        await spawn(trivial, "legacy", "echo", {"text": "hi"})

        startup: dict[str, dict[str, list[float]]] = {}
        for mode in ("legacy", "auto"):
            samples: dict[str, list[float]] = {
                "profile_handshake": [],
                "profile_first": [],
                "trivial_handshake": [],
                "trivial_first": [],
            }
            for _ in range(runs):
                h, f = await spawn(trivial, mode, "echo", {"text": "hi"})
                samples["trivial_handshake"].append(h)
                samples["trivial_first"].append(f)
                h, f = await spawn(profile, mode, "profile_history", {"limit": 1})
                samples["profile_handshake"].append(h)
                samples["profile_first"].append(f)
            startup[mode] = samples
        results["startup"] = {
            mode: {
                **{key: summary(values) for key, values in samples.items()},
                "handshake_ratio": round(
                    statistics.median(samples["profile_handshake"])
                    / statistics.median(samples["trivial_handshake"]),
                    3,
                ),
                "first_answer_ratio": round(
                    statistics.median(samples["profile_first"]) / statistics.median(samples["trivial_first"]),
                    3,
                ),
            }
            for mode, samples in startup.items()
        }

        latencies: list[float] = []
        with Path(os.devnull).open("w") as devnull:
            async with Client(stdio_client(profile, errlog=devnull), mode="legacy") as client:
                await client.call_tool("profile_search", {"query": "warm-up", "limit": 5})
                for i in range(queries):
                    query = QUERIES[i % len(QUERIES)] + ("" if i < len(QUERIES) else f" {i}")
                    started = time.perf_counter()
                    result = await client.call_tool("profile_search", {"query": query, "limit": 5})
                    latencies.append(time.perf_counter() - started)
                    if result.is_error:
                        raise RuntimeError(f"profile_search failed: {result.content}")
        results["profile_search"] = summary(latencies)
        results["update"] = await bench_update(profile, env, updates)
    finally:
        cluster.stop()
    return results


def print_profile(results: dict[str, Any]) -> None:
    search = results["profile_search"]
    print("\nprofile server")
    print(f"  {'measure':<46} {'p50 ms':>9} {'p95 ms':>9}")
    print(
        f"  {'profile_search, 100 queries (stdio, limit 5)':<46} {search['p50_ms']:>9.1f} {search['p95_ms']:>9.1f}"
    )
    for mode, data in results["startup"].items():
        era = "2025-11-25" if mode == "legacy" else "2026-07-28"
        for kind in ("handshake", "first"):
            label = "handshake" if kind == "handshake" else "first answer"
            for server in ("trivial", "profile"):
                row = data[f"{server}_{kind}"]
                name = "folio-profile" if server == "profile" else "trivial SDK server"
                print(
                    f"  {f'spawn → {label}, {name} ({era})':<46} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f}"
                )
        print(
            f"  {'ratio (p50), handshake / first answer':<46} {data['handshake_ratio']:>9.3f} "
            f"{data['first_answer_ratio']:>9.3f}"
        )
    update = results["update"]
    large = update["update_large"]
    label = f"profile_update, {update['large_resume_chars']:,}-char résumé"
    print(f"  {label:<46} {large['p50_ms']:>9.1f} {large['p95_ms']:>9.1f}")
    print(f"  import of that résumé (folio-profile import): {update['import_large_s']:.2f} s")
    for key, what in (
        ("update_20000_highlights", "patch with 20,000 highlights"),
        ("update_1m_char_name", "patch with a 1,000,000-char basics.name"),
        ("update_after_1m_char_name", "small update after that patch"),
    ):
        row = update[key]
        verdict = "refused" if row["refused"] else "accepted"
        print(f"  {what}: {row['s']:.2f} s ({verdict})")
    print(f"  embedded PostgreSQL cold start: {results['embedded_cluster_cold_start_s']:.2f} s")


NAME = "profile"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("profile")
    group.add_argument("--profile-runs", type=int, default=10, help="spawns per server and era")
    group.add_argument("--profile-queries", type=int, default=100)
    group.add_argument(
        "--profile-updates", type=int, default=10, help="profile_update calls on a large résumé"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return await bench_profile(args.profile_runs, args.profile_queries, args.profile_updates)


def report(results: dict[str, Any]) -> None:
    print_profile(results)
