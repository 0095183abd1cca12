"""Benchmark of the memory server (``make bench`` or ``--only memory``):

* recall latency (p50/p95) at 1k, 10k and 100k memories through ``MemoryStore.recall`` — the SQL
  and fusion ``memory_recall`` runs — with the query vector given (database + ranking), and at
  the largest size once more including the query embedding;
* recall@10 of the HNSW index against exact search: the vector top 10 alone, and the fused top 10
  of ``memory_recall`` with ``exact=True`` as the reference;
* local embedding throughput (all-MiniLM-L6-v2, ONNX, this machine);
* the reference ``@modelcontextprotocol/server-memory`` ``search_nodes`` at 10k entities next to
  Folio's ``memory_recall`` at 10k memories, both over stdio with the same queries;
* write throughput: ``--memory-write-processes`` real ``folio-memory`` processes spawned over stdio
  against one database of the embedded cluster, ``--memory-write-in-flight`` ``memory_remember``
  calls in flight across them, distinct sentences (plus a share written by two processes at once,
  which must end as one memory reinforced); remembers per second over the whole run and the
  latency of each call.

Corpus: ``--memory-real`` sentences are generated from templates about a person's life and work
and embedded with the local model. The remaining vectors up to 100k are synthetic but realistic:
each is a random convex combination of 2–3 real sentence vectors plus Gaussian noise
(σ = 0.03 per dimension), re-normalised, so vectors cluster like real memories do; its text is the
first parent's sentence with a serial number. Queries are held-out template sentences (never
stored), embedded with the real model.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import psycopg
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from psycopg.conninfo import make_conninfo

from folio_core.db import apply_migrations, open_pool, package_migrations
from folio_core.db.embedded import EmbeddedPostgres
from folio_core.embeddings import make_embedder
from folio_memory.store import MemoryStore
from folio_memory.text import content_hash
from folio_memory.vectors import VECTOR_TABLES, VectorSpace, claim_embedder

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REFERENCE = ROOT / "tests" / "interop" / "node_modules" / ".bin" / "mcp-server-memory"
NAME = "memory"

SUBJECTS = [
    "Maya",
    "She",
    "Her manager",
    "Her partner Tomás",
    "Her team",
    "The user",
    "Her daughter Zara",
    "Rui",
]
VERBS = [
    "prefers",
    "is learning",
    "mentioned",
    "wants to try",
    "finished",
    "is worried about",
    "recommended",
    "started using",
    "gave a talk on",
    "dislikes",
    "booked",
    "is reading about",
    "migrated to",
    "cancelled",
]
OBJECTS = [
    "Kubernetes operators",
    "the Go generics proposal",
    "a vegetarian ramen place in Alfama",
    "rock climbing on weekends",
    "the payments reconciliation service",
    "Neovim plugins",
    "a half marathon in March",
    "PostgreSQL logical replication",
    "the quarterly planning offsite",
    "Spanish lessons on Duolingo",
    "a cello concert at the Gulbenkian",
    "Terraform modules",
    "incident response runbooks",
    "the Berlin office move",
    "a split ergonomic keyboard",
    "science fiction by Ted Chiang",
    "black double espresso",
    "GopherCon EU in Berlin",
    "code review guidelines",
    "the observability stack with Grafana",
    "a dentist appointment",
    "penicillin allergy",
    "Kafka consumer lag alerts",
    "the school enrolment for Zara",
    "cycling to work",
    "a salary negotiation",
    "remote work on Fridays",
    "a trip to the Azores",
    "the Rust borrow checker",
    "Google Cloud Spanner costs",
    "mentoring junior engineers",
    "a board game night",
    "the cat knocking over plants",
]
TAILS = [
    "",
    " last week",
    " yesterday",
    " for the next quarter",
    " with the team",
    " again",
    " since January",
    " after the outage",
    " before the holidays",
    " every other Thursday",
]


def sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}."
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
    }


def synthetic(
    real: np.ndarray, texts: list[str], count: int, start: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    parents = rng.integers(0, len(real), size=(count, 3))
    weights = rng.dirichlet([1.0, 1.0, 1.0], size=count).astype(np.float32)
    weights[rng.random(count) < 0.5, 2] = 0.0  # half of them mix only two sentences
    vectors = np.einsum("nk,nkd->nd", weights, real[parents]) + rng.normal(
        0, 0.03, (count, real.shape[1])
    ).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    names = [f"{texts[p]} (#{start + i})" for i, p in enumerate(parents[:, 0])]
    return vectors.astype(np.float32), names


async def load(url: str, model: str, vectors: np.ndarray, contents: list[str], rng: random.Random) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    kinds = ["fact", "preference", "event", "note"]
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.cursor() as cur:
        async with cur.copy(
            "COPY memory.memories (content, content_hash, kind, tags, importance, embedding, embedding_model, created_at, valid_from) FROM STDIN"
        ) as copy:
            for content, vector in zip(contents, vectors, strict=True):
                created = now - timedelta(days=rng.random() * 730)
                literal = "[" + ",".join(f"{x:.6f}" for x in vector) + "]"
                await copy.write_row(
                    (
                        content,
                        content_hash(content),
                        rng.choice(kinds),
                        "{}",
                        round(rng.random(), 2),
                        literal,
                        model,
                        created,
                        created,
                    )
                )
        await conn.commit()
    return time.perf_counter() - started


async def build_indexes(url: str, space: VectorSpace) -> float:
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 2")
        for table in VECTOR_TABLES:
            await conn.execute(space.create_index(table))
        await conn.execute("ANALYZE memory.memories")
    return time.perf_counter() - started


async def measure(
    store: MemoryStore, queries: list[str], qvectors: np.ndarray, *, with_embedding: bool = False
) -> dict[str, Any]:
    for q, v in zip(queries[:10], qvectors[:10], strict=True):  # warm-up
        await store.recall(q, 10, vector=v)
    latencies: list[float] = []
    for q, v in zip(queries, qvectors, strict=True):
        started = time.perf_counter()
        await store.recall(q, 10, vector=None if with_embedding else v)
        latencies.append(time.perf_counter() - started)
    return summary(latencies)


async def recall_at_10(store: MemoryStore, queries: list[str], qvectors: np.ndarray) -> dict[str, float]:
    vector_sql = "SELECT id FROM memory.memories WHERE {pred} ORDER BY {order} LIMIT 10"
    space = store.space
    from psycopg import sql

    fused_overlap, vector_overlap = [], []
    async with store.pool.connection() as conn:
        await conn.execute("SELECT set_config('hnsw.ef_search', '100', false)")
        for v in qvectors:
            approx = await (
                await conn.execute(
                    sql.SQL(vector_sql).format(pred=space.predicate(), order=space.distance()), {"q": v}
                )
            ).fetchall()
            exact = await (
                await conn.execute(
                    sql.SQL(vector_sql).format(
                        pred=space.predicate(), order=sql.SQL("({}) + 0").format(space.distance())
                    ),
                    {"q": v},
                )
            ).fetchall()
            vector_overlap.append(
                len({r["id"] for r in approx} & {r["id"] for r in exact}) / max(1, len(exact))
            )
    for q, v in zip(queries, qvectors, strict=True):
        approx_hits = await store.recall(q, 10, vector=v, touch=False)
        exact_hits = await store.recall(q, 10, vector=v, exact=True, touch=False)
        truth = {h.memory.id for h in exact_hits}
        fused_overlap.append(len({h.memory.id for h in approx_hits} & truth) / max(1, len(truth)))
    return {
        "vector_top10": round(statistics.mean(vector_overlap), 4),
        "fused_top10": round(statistics.mean(fused_overlap), 4),
    }


async def stdio_latency(
    params: StdioServerParameters, tool: str, queries: list[str], key: str
) -> dict[str, Any]:
    latencies: list[float] = []
    sizes: list[int] = []
    with Path(os.devnull).open("w") as devnull:
        async with Client(stdio_client(params, errlog=devnull), mode="legacy") as client:
            for q in queries[:3]:
                await client.call_tool(tool, {key: q} | ({"limit": 10} if tool == "memory_recall" else {}))
            for q in queries:
                args: dict[str, Any] = {key: q} | ({"limit": 10} if tool == "memory_recall" else {})
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                latencies.append(time.perf_counter() - started)
                if result.is_error:
                    raise RuntimeError(f"{tool} failed: {result.content}")
                sizes.append(len(json.dumps(result.structured_content)))
    return {**summary(latencies), "answer_chars_p50": int(statistics.median(sizes))}


def reference_file(path: Path, texts: list[str], count: int, rng: random.Random) -> None:
    with path.open("w") as fh:
        for i in range(count):
            observations = [rng.choice(texts) for _ in range(3)]
            fh.write(
                json.dumps(
                    {
                        "type": "entity",
                        "name": f"Entity {i}",
                        "entityType": rng.choice(["person", "project", "event", "topic"]),
                        "observations": observations,
                    }
                )
                + "\n"
            )
        for i in range(count):
            fh.write(
                json.dumps(
                    {
                        "type": "relation",
                        "from": f"Entity {i}",
                        "to": f"Entity {rng.randrange(count)}",
                        "relationType": "relates to",
                    }
                )
                + "\n"
            )


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(parent: int, name: str | None = None) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and (name is None or name.encode() in cmdline):
            found.append(int(stat.parent.name))
    return found


def _cpu_now(postmaster: int) -> dict[str, float]:
    """CPU seconds so far: the server processes, the PostgreSQL backends, this (client) process."""
    return {
        "servers": sum(_cpu_seconds(p) for p in _children(os.getpid(), "folio-memory")),
        "postgres": sum(_cpu_seconds(p) for p in [postmaster, *_children(postmaster)]),
        "client": time.process_time(),
    }


async def sample_waits(url: str, waits: dict[str, int], done: Any) -> None:
    """What the server processes' database sessions are doing, sampled every 20 ms: running (CPU),
    or waiting, and on what (``Lock:advisory`` is a write lock, ``Lock:object`` the NOTIFY queue
    lock, ``IO:WALSync`` a commit's flush, ``Client:ClientRead`` waiting for the process)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while not done():
            rows = await (
                await conn.execute(
                    """SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS what, count(*)
                       FROM pg_stat_activity
                       WHERE datname = current_database() AND pid <> pg_backend_pid()
                         AND state IN ('active', 'idle in transaction') AND query NOT LIKE 'LISTEN%%'
                       GROUP BY 1"""
                )
            ).fetchall()
            for what, n in rows:
                waits[what] = waits.get(what, 0) + int(n)
            await anyio.sleep(0.02)


async def write_throughput(
    admin: str, data_dir: Path, postmaster: int, args: argparse.Namespace
) -> dict[str, Any]:
    """``memory_remember`` from several stdio processes at once into one fresh database."""
    dbname = f"bench_writes_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = make_conninfo(admin, dbname=dbname)
    processes, in_flight, total = args.memory_write_processes, args.memory_write_in_flight, args.memory_writes
    texts = [f"{t[:-1]} (note {i})." for i, t in enumerate(sentences(total, seed=11))]
    shared = max(1, total // 20)  # 5 %: the same text sent by two processes at once
    env = {"FOLIO_DATABASE_URL": url, "FOLIO_DATA_DIR": str(data_dir), "FOLIO_LOG_LEVEL": "warning"}
    params = StdioServerParameters(command=str(BIN / "folio-memory"), args=[], env=env)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    jobs: list[tuple[int, str]] = [(i % processes, t) for i, t in enumerate(texts[shared:])]
    jobs += [(p, t) for t in texts[:shared] for p in (0, 1 % processes)]
    random.Random(3).shuffle(jobs)
    queues: list[list[str]] = [[t for p, t in jobs if p == n] for n in range(processes)]
    try:
        with Path(os.devnull).open("w") as devnull:
            async with contextlib.AsyncExitStack() as stack:
                clients = [
                    await stack.enter_async_context(
                        Client(stdio_client(params, errlog=devnull), mode="legacy")
                    )
                    for _ in range(processes)
                ]
                for client in clients:  # started: migrated, model loaded
                    await client.call_tool("memory_recall", {"query": "warm-up"})

                async def worker(client: Client, queue: list[str]) -> None:
                    while queue:
                        text = queue.pop()
                        started = time.perf_counter()
                        result = await client.call_tool("memory_remember", {"content": text})
                        latencies.append(time.perf_counter() - started)
                        if result.is_error or result.structured_content is None:
                            raise RuntimeError(f"memory_remember failed: {result.content}")
                        status = result.structured_content["status"]
                        statuses[status] = statuses.get(status, 0) + 1

                per_process = max(1, in_flight // processes)
                waits: dict[str, int] = {}
                cpu_before = _cpu_now(postmaster)
                started = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for client, queue in zip(clients, queues, strict=True):
                        for _ in range(per_process):
                            tg.start_soon(worker, client, queue)
                    tg.start_soon(sample_waits, url, waits, lambda: len(latencies) >= len(jobs))
                elapsed = time.perf_counter() - started
                cpu_after = _cpu_now(postmaster)
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT content_hash), coalesce(sum(reinforced_count), 0) FROM memory.memories"
            ).fetchone()
        assert row is not None
        stored, distinct, reinforced = (int(v) for v in row)
        if stored != total or distinct != total or reinforced != shared:
            raise RuntimeError(
                f"writes went wrong: {stored} memories ({distinct} distinct, {reinforced} reinforcements) "
                f"for {total} texts of which {shared} were sent twice"
            )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return {
        "processes": processes,
        "in_flight": per_process * processes,
        "calls": len(latencies),
        "seconds": round(elapsed, 2),
        "per_second": round(len(latencies) / elapsed, 1),
        "statuses": statuses,
        "latency": summary(latencies),
        "cpu_ms_per_call": {
            k: round((cpu_after[k] - cpu_before[k]) * 1000 / len(latencies), 2) for k in cpu_before
        },
        "load_average_after": os.getloadavg(),
        "backend_samples": dict(sorted(waits.items(), key=lambda kv: -kv[1])),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    parts = set(args.memory_parts.split(","))
    sizes = [int(s) for s in args.memory_sizes.split(",")] if "recall" in parts else []
    rng = random.Random(7)
    nrng = np.random.default_rng(7)
    data_dir = Path(tempfile.mkdtemp(prefix="folio-bench-memory-"))
    cluster = EmbeddedPostgres(data_dir)
    admin = cluster.start()
    dbname = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = make_conninfo(admin, dbname=dbname)
    embedder = make_embedder("local")
    results: dict[str, Any] = {
        "method": "synthetic vectors: convex combinations of 2–3 real sentence vectors + N(0, 0.03) noise, normalised"
    }
    try:
        if "writes" in parts:
            postmaster = int((cluster.pgdata / "postmaster.pid").read_text().split()[0])
            results["writes"] = await write_throughput(admin, data_dir, postmaster, args)
            print("  memory bench: writes done", file=sys.stderr)
        if not sizes:
            return results
        texts = sentences(args.memory_real + args.memory_queries, seed=1)
        corpus_texts, queries = texts[: args.memory_real], texts[args.memory_real :]
        embedder.embed_documents(["warm-up"])
        started = time.perf_counter()
        real = embedder.embed_documents(corpus_texts)
        elapsed = time.perf_counter() - started
        results["embedding"] = {
            "texts": len(corpus_texts),
            "seconds": round(elapsed, 2),
            "per_second": round(len(corpus_texts) / elapsed, 1),
        }
        single = []
        for q in queries[:50]:
            t = time.perf_counter()
            embedder.embed_query(q)
            single.append(time.perf_counter() - t)
        results["embedding"]["single_query"] = summary(single)
        qvectors = embedder.embed_documents(queries)

        pool = await open_pool(url, max_size=4)
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_memory", package_migrations("folio_memory"))
            await claim_embedder(conn, embedder)
        store = MemoryStore(pool, embedder)
        space = VectorSpace.of(embedder)
        loaded = 0
        results["sizes"] = {}
        for size in sizes:
            count = size - loaded
            if loaded == 0:
                take = min(count, len(real))
                vectors, contents = real[:take], list(corpus_texts[:take])
                if count > take:
                    extra_v, extra_c = synthetic(real, corpus_texts, count - take, take, nrng)
                    vectors, contents = np.vstack([vectors, extra_v]), contents + extra_c
            else:
                vectors, contents = synthetic(real, corpus_texts, count, loaded, nrng)
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                for table in VECTOR_TABLES:  # bulk load first, then build the index (as a re-index would)
                    await conn.execute(space.drop_index(table))
            load_s = await load(url, embedder.name, vectors, contents, rng)
            index_s = await build_indexes(url, space)
            loaded = size
            row: dict[str, Any] = {"load_s": round(load_s, 1), "hnsw_build_s": round(index_s, 1)}
            row["recall_sql"] = await measure(store, queries, qvectors)
            row["recall_at_10"] = await recall_at_10(store, queries[:100], qvectors[:100])
            if size == sizes[-1]:
                row["recall_with_query_embedding"] = await measure(
                    store, queries[:100], qvectors[:100], with_embedding=True
                )
            if size == args.memory_reference_size:
                folio = StdioServerParameters(
                    command=str(BIN / "folio-memory"),
                    args=[],
                    env={"FOLIO_DATABASE_URL": url, "FOLIO_DATA_DIR": str(data_dir)},
                )
                row["folio_recall_stdio"] = await stdio_latency(
                    folio, "memory_recall", queries[: args.memory_stdio_queries], "query"
                )
                ref_file = data_dir / "reference.jsonl"
                reference_file(ref_file, corpus_texts, size, rng)
                reference = StdioServerParameters(
                    command=str(REFERENCE), args=[], env={"MEMORY_FILE_PATH": str(ref_file)}
                )
                ref_queries = [
                    q.split()[-1].rstrip(".") if i % 2 else " ".join(q.split()[2:4])
                    for i, q in enumerate(queries[: args.memory_stdio_queries])
                ]
                row["reference_search_nodes_stdio"] = await stdio_latency(
                    reference, "search_nodes", ref_queries, "query"
                )
                row["speedup_p50"] = round(
                    row["reference_search_nodes_stdio"]["p50_ms"] / row["folio_recall_stdio"]["p50_ms"], 1
                )
            results["sizes"][str(size)] = row
            print(f"  memory bench: {size:,} memories done", file=sys.stderr)
        await pool.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        cluster.stop()
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("memory")
    group.add_argument("--memory-sizes", default="1000,10000,100000", help="comma-separated memory counts")
    group.add_argument("--memory-real", type=int, default=3000, help="sentences embedded with the real model")
    group.add_argument("--memory-queries", type=int, default=200)
    group.add_argument("--memory-stdio-queries", type=int, default=50)
    group.add_argument("--memory-reference-size", type=int, default=10000)
    group.add_argument("--memory-parts", default="writes,recall", help="writes and/or recall")
    group.add_argument(
        "--memory-writes", type=int, default=2000, help="memory_remember calls in the write run"
    )
    group.add_argument("--memory-write-processes", type=int, default=4)
    group.add_argument(
        "--memory-write-in-flight", type=int, default=16, help="calls in flight, all processes"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return await bench(args)


def report(results: dict[str, Any]) -> None:
    print("\nmemory server")
    if "writes" in results:
        w = results["writes"]
        print(
            f"  writes: {w['per_second']:.0f} memory_remember/s from {w['processes']} stdio processes, "
            f"{w['in_flight']} in flight ({w['calls']} calls in {w['seconds']} s; {w['statuses']}); "
            f"per call p50 {w['latency']['p50_ms']:.1f} ms, p95 {w['latency']['p95_ms']:.1f} ms"
        )
        cpu = w["cpu_ms_per_call"]
        print(
            f"  CPU per call: servers {cpu['servers']:.1f} ms, PostgreSQL {cpu['postgres']:.1f} ms, "
            f"benchmark client {cpu['client']:.1f} ms (load average after: "
            f"{', '.join(f'{x:.1f}' for x in w['load_average_after'])})"
        )
        samples = w["backend_samples"]
        total = max(1, sum(samples.values()))
        print(
            "  busy database sessions, sampled: "
            + ", ".join(f"{what} {n / total:.0%}" for what, n in list(samples.items())[:5])
        )
    if "embedding" not in results:
        return
    emb = results["embedding"]
    print(
        f"  local embedding: {emb['per_second']:.0f} texts/s ({emb['texts']} sentences in {emb['seconds']} s); "
        f"one query p50 {emb['single_query']['p50_ms']:.1f} ms, p95 {emb['single_query']['p95_ms']:.1f} ms"
    )
    print(
        f"  {'memories':>9} {'load s':>7} {'HNSW s':>7} {'recall p50':>11} {'recall p95':>11} {'R@10 vec':>9} {'R@10 fused':>11}"
    )
    for size, row in results["sizes"].items():
        r = row["recall_sql"]
        print(
            f"  {int(size):>9,} {row['load_s']:>7.1f} {row['hnsw_build_s']:>7.1f} {r['p50_ms']:>9.2f}ms {r['p95_ms']:>9.2f}ms "
            f"{row['recall_at_10']['vector_top10']:>9.3f} {row['recall_at_10']['fused_top10']:>11.3f}"
        )
    for size, row in results["sizes"].items():
        if "recall_with_query_embedding" in row:
            e = row["recall_with_query_embedding"]
            print(
                f"  recall incl. query embedding at {int(size):,}: p50 {e['p50_ms']:.2f} ms, p95 {e['p95_ms']:.2f} ms"
            )
        if "folio_recall_stdio" in row:
            f, ref = row["folio_recall_stdio"], row["reference_search_nodes_stdio"]
            print(
                f"  over stdio at {int(size):,}: folio memory_recall p50 {f['p50_ms']:.1f} ms / p95 {f['p95_ms']:.1f} ms "
                f"({f['answer_chars_p50']:,} chars); reference search_nodes p50 {ref['p50_ms']:.1f} ms / p95 {ref['p95_ms']:.1f} ms "
                f"({ref['answer_chars_p50']:,} chars); {row['speedup_p50']}× faster"
            )
    print(f"  vectors: {results['method']}")
