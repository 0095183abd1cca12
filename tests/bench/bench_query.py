"""Benchmark of the query server: ``query_sql``'s overhead over plain psycopg.

On the sample data plus 100,000 generated memories, the same SELECT runs (a) through plain psycopg
on a pooled connection, (b) through the query server's path without the MCP transport (parse,
classify, EXPLAIN for the risk, then the READ ONLY transaction as the reader role with timeouts,
streamed over the extended protocol) and (c) through the in-memory MCP client calling
``query_sql``. Two queries: a point lookup and an aggregate. p50/p95 over ``--query-runs`` runs.
Aim: (b) − (a) ≤ 3 ms at p95 for queries that need no confirmation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from folio_core.db.embedded import EmbeddedPostgres

NAME = "query"
ROOT = Path(__file__).resolve().parents[2]
QUERIES = {
    "point lookup": "SELECT id, content, kind, importance FROM memories WHERE id = 4242",
    "aggregate": "SELECT kind, count(*) AS n, avg(importance) AS importance FROM memories GROUP BY kind",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5), 3), "p95_ms": round(percentile(values, 0.95), 3)}


def generate(url: str, count: int) -> None:
    sys.path.insert(0, str(ROOT / "servers" / "query" / "tests"))
    from conftest import seed

    seed(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO memory.memories (content, content_hash, kind, tags, importance, public, embedding, "
            "embedding_model, created_at) SELECT 'Generated memory ' || g || ' about ' || "
            "(ARRAY['kubernetes', 'python', 'go', 'postgres'])[1 + g %% 4], md5('gen' || g), "
            "(ARRAY['fact', 'preference', 'event', 'note'])[1 + g %% 4], ARRAY['gen'], (g %% 100) / 100.0, "
            "g %% 3 = 0, ('[' || (g %% 7) / 7.0 || ',0.5,0.25,0.1,0.2,0.3,0.4,0.6]')::vector, 'bench', "
            "now() - make_interval(mins => g) FROM generate_series(1, %s) AS g",
            (count,),
        )
        conn.execute("ANALYZE memory.memories")


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from mcp import Client

    from folio_core.db.pool import open_pool
    from folio_core.settings import FolioSettings
    from folio_query.engine import Engine, Limits
    from folio_query.layer import OWNER_ROLE, OWNER_SCHEMA
    from folio_query.server import build_server

    runs = args.query_runs
    data_dir = Path(tempfile.mkdtemp(prefix="folio-bench-query-"))
    server = EmbeddedPostgres(data_dir)
    admin = server.start()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(admin, dbname=name)
    started = time.perf_counter()
    generate(url, args.query_memories)
    load_s = time.perf_counter() - started
    results: dict[str, Any] = {"memories": args.query_memories + 5, "runs": runs, "load_s": round(load_s, 2)}
    settings = FolioSettings(database_url=url, data_dir=data_dir / "data")
    try:
        async with Client(build_server(settings).mcp, mode="legacy") as client:
            await client.call_tool("query_sql", {"sql": "SELECT 1 AS warm"})
            pool = await open_pool(url, max_size=2)
            plain_url = make_conninfo(url, options=f"-c search_path={OWNER_SCHEMA},public")
            plain_pool = await open_pool(plain_url, max_size=2)
            engine = Engine(pool, role=OWNER_ROLE, schema=OWNER_SCHEMA, limits=Limits())
            views = {"memories"}
            from folio_query.classify import classify

            for label, sql in QUERIES.items():
                plain: list[float] = []
                served: list[float] = []
                mcp: list[float] = []
                for i in range(runs + 20):
                    t0 = time.perf_counter()
                    async with plain_pool.connection() as conn:
                        await (await conn.execute(sql)).fetchall()
                    t1 = time.perf_counter()
                    classified = classify(sql, views, schema=OWNER_SCHEMA)
                    estimate, outcome = await engine.run(classified, limit=200, allow_risky=False)
                    assert outcome is not None and estimate is not None and not estimate.risky(engine.limits)
                    t2 = time.perf_counter()
                    result = await client.call_tool("query_sql", {"sql": sql})
                    t3 = time.perf_counter()
                    assert not result.is_error
                    if i >= 20:
                        plain.append((t1 - t0) * 1000)
                        served.append((t2 - t1) * 1000)
                        mcp.append((t3 - t2) * 1000)
                overhead = [s - p for s, p in zip(served, plain, strict=True)]
                results[label] = {
                    "psycopg": summary(plain),
                    "query_sql_path": summary(served),
                    "query_sql_mcp": summary(mcp),
                    "overhead": {
                        "p50_ms": round(percentile(served, 0.5) - percentile(plain, 0.5), 3),
                        "p95_ms": round(percentile(served, 0.95) - percentile(plain, 0.95), 3),
                        "mean_ms": round(statistics.fmean(overhead), 3),
                    },
                    "aim_met": percentile(served, 0.95) - percentile(plain, 0.95) <= 3.0,
                }
            await pool.close()
            await plain_pool.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.stop()
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("query")
    group.add_argument("--query-memories", type=int, default=100_000, help="generated memories")
    group.add_argument("--query-runs", type=int, default=300, help="runs per query and path")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return await bench(args)


def report(results: dict[str, Any]) -> None:
    print(
        f"\nquery: {results['memories']:,} memories (generated in {results['load_s']} s), {results['runs']} runs"
    )
    print(f"{'query':<14} {'path':<26} {'p50 ms':>8} {'p95 ms':>8}")
    for label in QUERIES:
        row = results[label]
        for key, title in (
            ("psycopg", "plain psycopg"),
            ("query_sql_path", "query_sql (no transport)"),
            ("query_sql_mcp", "query_sql (in-memory MCP)"),
            ("overhead", "overhead over psycopg"),
        ):
            print(f"{label:<14} {title:<26} {row[key]['p50_ms']:>8.3f} {row[key]['p95_ms']:>8.3f}")
        print(f"{label:<14} aim ≤ 3 ms p95 overhead: {'met' if row['aim_met'] else 'NOT met'}")
