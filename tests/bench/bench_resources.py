"""Benchmark of the resources server (``make bench`` or ``--only resources``), in one run:

* initial indexing of ``--resources-docs`` generated Markdown documents (10 folders, 3–6
  paragraphs each, with front matter) with the local embedder, through ``Index.sync`` — what the
  server runs at start;
* incremental re-indexing after one edit: the watcher's path (``sync([path])``: one file read,
  hashed, chunked, embedded, written with its change-feed event) and a full re-sync (every file's
  status compared, one re-embedded);
* ``docs_search`` (queries never seen before, then repeated ones whose vectors come from the
  cache), ``docs_grep`` and ``docs_read`` p50/p95 at that size over stdio (the installed
  ``folio-resources``, legacy handshake);
* edit-to-notification latency: a subscribed document is edited on disk; the time until
  ``notifications/resources/updated`` reaches the client (watcher, re-index, commit, change
  feed, delivery);
* the reference ``@modelcontextprotocol/server-filesystem`` (installed from npm by this bench)
  over stdio on the same tree: ``search_files`` (file-name globs — it has no content search) and
  ``read_text_file``.

Aims: search p95 ≤ 20 ms, edit-to-notification ≤ 500 ms, re-indexing one edit ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import anyio
import psycopg
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import ResourceUpdatedNotification
from psycopg.conninfo import make_conninfo

from folio_core.db.embedded import EmbeddedPostgres

NAME = "resources"
BIN = Path(sys.executable).parent
REFERENCE_PACKAGE = "@modelcontextprotocol/server-filesystem@2026.8.31"

TOPICS = {
    "kubernetes": [
        "We moved {n} services to Kubernetes over {m} months without a customer-facing incident.",
        "Each cluster upgrade was rehearsed in staging twice before the production rollout.",
        "Argo CD keeps the last ten releases of every service, so a rollback takes a minute.",
        "Pod disruption budgets stopped node drains from taking down whole services.",
    ],
    "kafka": [
        "The event backbone carried {n} messages per second at peak during the migration.",
        "Dual writes ran for {m} weeks while consumers compared both clusters' offsets.",
        "Idempotent producers and transactional consumers kept payouts from being duplicated.",
        "Topic compaction keeps the latest state of every merchant account.",
    ],
    "observability": [
        "Pages per on-call week fell from {n} to {m} after alerting moved to error-budget burn rates.",
        "OpenTelemetry traces connect a slow checkout to the database query behind it.",
        "Every alert links to a dashboard and a runbook, or it is deleted.",
        "Latency p95 and p99 are tracked per endpoint against the service level objective.",
    ],
    "data": [
        "The nightly ETL over {n} GB finished in {m} minutes after the move to Spark on Kubernetes.",
        "Point-in-time joins removed label leakage from the training sets.",
        "Data contracts between producers and the warehouse caught schema changes before deploys.",
        "dbt models are tested for uniqueness and freshness on every change.",
    ],
    "mentoring": [
        "I mentored {n} engineers this year; {m} of them led their first design review.",
        "Pairing on incident reviews teaches more than any slide deck about reliability.",
        "A good RFC names the alternatives it rejected and why.",
        "New engineers ship a small change to production in their first week.",
    ],
    "platform": [
        "The developer portal lists {n} services with their owners, runbooks and dashboards.",
        "Golden-path templates create a repository, a pipeline and a database in {m} minutes.",
        "Teams adopt the paved road because it is faster, not because it is mandated.",
        "Platform roadmaps are planned with the product teams as customers.",
    ],
    "security": [
        "Secrets rotate every {n} days and no human reads production credentials.",
        "Pseudonymisation of patient data passed an ISO 27001 audit with no major findings.",
        "Dependency updates are merged automatically when the test suite passes.",
        "Access to production requires a ticket and expires after {m} hours.",
    ],
    "cost": [
        "Rightsizing the clusters saved {n} thousand euros a month.",
        "Spot instances run the batch jobs; interruptions are retried from checkpoints.",
        "Every team sees its cloud bill per service each Monday.",
        "Idle staging environments shut down at night and save {m} percent.",
    ],
}
QUERIES = [
    "how did paging load change after the alerting rework",
    "migrating the message broker without duplicates",
    "saving money on cloud infrastructure",
    "how quickly can a team create a new service",
    "leakage in machine learning training data",
    "rolling back a bad release",
    "helping junior engineers grow",
    "who can access production systems",
    "nightly batch processing duration",
    "tracing slow requests to the database",
]
WORDS = ["please", "in detail", "briefly", "for a recruiter", "again", "at Kestrel", "last year", "today",
         "in numbers", "overall", "mostly", "for the team", "in practice", "exactly", "roughly", "so far",
         "in short", "recently", "as a rule", "lately"]  # fmt: skip
GREP_PATTERNS = ["Kubernetes", "(?i)latency p9[59]", "deploy(s|ed|ment)?", "[0-9]{3} messages", "^# Note 7"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.5), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "n": len(values),
    }


def generate(root: Path, count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    topics = list(TOPICS)
    paths = []
    for i in range(count):
        folder = f"folder-{i % 10:02d}"
        main = topics[i % len(topics)]
        others = rng.sample(topics, 2)
        paragraphs = []
        for topic in [main, main, *others][: rng.randint(3, 6)]:
            sentences = rng.sample(TOPICS[topic], rng.randint(2, 4))
            paragraphs.append(
                " ".join(s.format(n=rng.randint(10, 900), m=rng.randint(2, 60)) for s in sentences)
            )
        public = "true" if i % 2 == 0 else "false"
        body = "\n\n".join(paragraphs)
        text = f"---\ntitle: Note {i} on {main}\npublic: {public}\n---\n# Note {i} on {main}\n\n{body}\n"
        path = root / folder / f"note-{i:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(f"{folder}/note-{i:04d}.md")
    return paths


def install_reference(where: Path) -> Path | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    subprocess.run(
        [
            npm,
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
            str(where),
            REFERENCE_PACKAGE,
        ],
        check=True,
        capture_output=True,
    )
    binary = where / "node_modules" / ".bin" / "mcp-server-filesystem"
    return binary if binary.exists() else None


async def timed_calls(
    client: Client, calls: list[tuple[str, dict[str, Any]]], warmup: int = 10
) -> list[float]:
    for name, arguments in calls[:warmup]:
        await client.call_tool(name, arguments)
    out = []
    for name, arguments in calls:
        t0 = time.perf_counter()
        result = await client.call_tool(name, arguments)
        out.append((time.perf_counter() - t0) * 1000)
        assert not result.is_error, (name, arguments, result.content)
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from mcp.shared.exceptions import MCPDeprecationWarning

    from folio_core.db.migrations import apply_migrations, package_migrations
    from folio_core.db.pool import open_pool
    from folio_core.embeddings import make_embedder
    from folio_core.settings import FolioSettings
    from folio_resources.index import Index
    from folio_resources.library import Library

    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)  # resources/subscribe, on purpose
    count = args.resources_docs
    runs = args.resources_runs
    work = Path(tempfile.mkdtemp(prefix="folio-bench-resources-"))
    portfolio = work / "portfolio"
    docs = portfolio / "docs"
    docs.mkdir(parents=True)
    paths = generate(docs, count)
    size_mb = sum(p.stat().st_size for p in docs.rglob("*.md")) / 1e6
    server = EmbeddedPostgres(work / "pg")
    admin = server.start()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(admin, dbname=name)
    results: dict[str, Any] = {"documents": count, "megabytes": round(size_mb, 2), "runs": runs}
    try:
        settings = FolioSettings(
            _env_file=None, database_url=url, data_dir=work / "data", portfolio_dir=portfolio
        )
        pool = await open_pool(url, max_size=4)
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_resources", package_migrations("folio_resources"))
        embedder = make_embedder("local")
        embedder.embed_documents(["warm up the model"])
        index = Index(pool, embedder, Library(settings))
        await index.prepare()
        report = await index.sync()
        async with pool.connection() as conn:
            chunks = (
                await (await conn.execute("SELECT count(*) AS n FROM docs.chunks")).fetchone() or {"n": 0}
            )["n"]
        results["initial_index"] = {
            "seconds": round(report.seconds, 2),
            "documents_per_s": round(len(report.indexed) / report.seconds, 1),
            "chunks": chunks,
        }
        one: list[float] = []
        full: list[float] = []
        for k in range(5):
            target = docs / paths[k * 7]
            target.write_text(target.read_text() + f"\nEdited once more ({k}): rollbacks take a minute.\n")
            edit = await index.sync([paths[k * 7]])
            assert edit.indexed == [paths[k * 7]]
            one.append(edit.seconds * 1000)
            target.write_text(target.read_text() + f"\nAnd again ({k}).\n")
            again = await index.sync()
            assert again.indexed == [paths[k * 7]] and again.unchanged == count - 1
            full.append(again.seconds * 1000)
        results["reindex_one_edit"] = {"watcher_path": summary(one), "full_resync": summary(full)}
        await pool.close()

        env = {
            "FOLIO_DATABASE_URL": url,
            "FOLIO_DATA_DIR": str(work / "data"),
            "FOLIO_PORTFOLIO_DIR": str(portfolio),
            "FOLIO_LOG_FORMAT": "json",
        }
        log_path = work / "server.log"
        updated: dict[str, float] = {}
        arrived = anyio.Event()

        async def on_message(message: Any) -> None:
            nonlocal arrived
            if isinstance(message, ResourceUpdatedNotification):
                updated.setdefault(message.params.uri, time.perf_counter())
                arrived.set()

        with log_path.open("w") as log:
            params = StdioServerParameters(command=str(BIN / "folio-resources"), args=[], env=env)
            async with Client(
                stdio_client(params, errlog=log), mode="legacy", message_handler=on_message
            ) as c:
                await c.call_tool("docs_list", {})
                with anyio.fail_after(120):
                    while "watching documents" not in log_path.read_text():
                        await anyio.sleep(0.05)
                rng = random.Random(5)
                # every query new (its vector is computed), then the same ten again (from the cache)
                search = await timed_calls(
                    c,
                    [
                        (
                            "docs_search",
                            {
                                "query": f"{QUERIES[i % len(QUERIES)]} {WORDS[i // len(QUERIES) % len(WORDS)]} {i}",
                                "limit": 5,
                            },
                        )
                        for i in range(runs)
                    ],
                    warmup=0,
                )
                repeated = await timed_calls(
                    c,
                    [("docs_search", {"query": QUERIES[i % len(QUERIES)], "limit": 5}) for i in range(runs)],
                )
                grep = await timed_calls(
                    c,
                    [
                        ("docs_grep", {"pattern": GREP_PATTERNS[i % len(GREP_PATTERNS)], "max_matches": 50})
                        for i in range(runs)
                    ],
                )
                read = await timed_calls(c, [("docs_read", {"path": rng.choice(paths)}) for _ in range(runs)])
                latencies = []
                for k in range(args.resources_edits):
                    path = paths[(100 + k * 13) % len(paths)]
                    uri = f"docs://{path}"
                    await c.subscribe_resource(uri)
                    arrived = anyio.Event()
                    target = docs / path
                    t0 = time.perf_counter()
                    target.write_text(target.read_text() + f"\nA live edit ({k}).\n")
                    with anyio.fail_after(30):
                        while uri not in updated:
                            await arrived.wait()
                            arrived = anyio.Event()
                    latencies.append((updated[uri] - t0) * 1000)
        results["folio"] = {
            "docs_search": summary(search),
            "docs_search_repeated": summary(repeated),
            "docs_grep": summary(grep),
            "docs_read": summary(read),
        }
        results["edit_to_notification"] = summary(latencies)

        reference = install_reference(work / "npm")
        if reference is None:
            results["reference"] = {"skipped": "npm not found"}
        else:
            params = StdioServerParameters(command=str(reference), args=[str(docs)])
            with (work / "reference.log").open("w") as log:
                async with Client(stdio_client(params, errlog=log), mode="legacy") as ref:
                    rng = random.Random(5)
                    globs = ["**/*0007*", "**/note-01*.md", "folder-03/*.md", "**/*.md", "**/*9.md"]
                    found = await timed_calls(
                        ref,
                        [
                            ("search_files", {"path": str(docs), "pattern": globs[i % len(globs)]})
                            for i in range(runs)
                        ],
                    )
                    texts = await timed_calls(
                        ref,
                        [("read_text_file", {"path": str(docs / rng.choice(paths))}) for _ in range(runs)],
                    )
            results["reference"] = {
                "package": REFERENCE_PACKAGE,
                "search_files": summary(found),
                "read_text_file": summary(texts),
            }
        results["aims"] = {
            "search_p95_le_20ms": results["folio"]["docs_search"]["p95_ms"] <= 20,
            "edit_to_notification_p95_le_500ms": results["edit_to_notification"]["p95_ms"] <= 500,
            "reindex_one_edit_p95_le_300ms": results["reindex_one_edit"]["watcher_path"]["p95_ms"] <= 300,
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("resources")
    group.add_argument("--resources-docs", type=int, default=1000, help="generated documents")
    group.add_argument("--resources-runs", type=int, default=200, help="calls per tool")
    group.add_argument("--resources-edits", type=int, default=20, help="edits timed to their notification")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return await bench(args)


def report(results: dict[str, Any]) -> None:
    initial = results["initial_index"]
    print(
        f"\nresources: {results['documents']:,} documents ({results['megabytes']} MB, {initial['chunks']:,} chunks), "
        f"{results['runs']} calls per tool"
    )
    print(
        f"initial indexing: {initial['seconds']} s ({initial['documents_per_s']} documents/s, local embedder)"
    )
    print(f"{'measure':<44} {'p50 ms':>9} {'p95 ms':>9}")
    rows = [
        ("re-index one edit (watcher path)", results["reindex_one_edit"]["watcher_path"]),
        ("re-index one edit (full re-sync)", results["reindex_one_edit"]["full_resync"]),
        ("folio docs_search, new queries (stdio)", results["folio"]["docs_search"]),
        ("folio docs_search, repeated queries (stdio)", results["folio"]["docs_search_repeated"]),
        ("folio docs_grep (stdio)", results["folio"]["docs_grep"]),
        ("folio docs_read (stdio)", results["folio"]["docs_read"]),
        ("edit → notifications/resources/updated", results["edit_to_notification"]),
    ]
    reference = results["reference"]
    if "search_files" in reference:
        rows += [
            ("reference search_files (names only, stdio)", reference["search_files"]),
            ("reference read_text_file (stdio)", reference["read_text_file"]),
        ]
    else:
        print(f"reference server: {reference['skipped']}")
    for label, row in rows:
        print(f"{label:<44} {row['p50_ms']:>9.2f} {row['p95_ms']:>9.2f}")
    for aim, met in results["aims"].items():
        print(f"aim {aim}: {'met' if met else 'NOT met'}")
