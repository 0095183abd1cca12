# ruff: noqa: ASYNC221  (a sequential benchmark: git runs while nothing else is awaited)
"""Benchmark of the projects server's scanner and analytics on a synthetic history.

A repository of ``--projects-commits`` commits (default 50,000) by 50 authors over 5,000 files is
built with ``git fast-import``; in one run: the floor (``git log --numstat --no-merges``), a full
scan stored in PostgreSQL, an incremental scan after 10 new commits, each analysis's p50/p95 on
the scanned data (the functions behind the tools, cold first call and warm cached calls are
shown separately), and pydriller (installed into a throwaway venv with ``uv``) iterating the
first ``--projects-pydriller`` commits, extrapolated per commit.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from folio_core.db.embedded import EmbeddedPostgres

NAME = "projects"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--projects-commits", type=int, default=50_000)
    parser.add_argument("--projects-pydriller", type=int, default=500)


def _stream(n: int, start: int = 0, parent: str | None = None) -> bytes:
    rng = random.Random(42 + start)
    out: list[bytes] = []
    for i in range(start, start + n):
        a = rng.randrange(50)
        when = 1_600_000_000 + i * 600
        who = f"Author {a} <a{a}@example.com> {when} +0000".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(b"author " + who + b"\ncommitter " + who + b"\n")
        msg = f"change {i}\n".encode()
        out.append(b"data %d\n%s" % (len(msg), msg))
        if i == start and parent:
            out.append(f"from {parent}\n".encode())
        for _ in range(rng.randint(1, 4)):
            f = rng.randrange(5000)
            body = "".join(f"line {j} of {i}\n" for j in range(rng.randint(1, 30))).encode()
            out.append(
                f"M 100644 inline src/m{f % 50}/f{f}.py\n".encode() + b"data %d\n" % len(body) + body + b"\n"
            )
        out.append(b"\n")
    return b"".join(out)


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from folio_core.db.migrations import apply_migrations, package_migrations
    from folio_core.db.pool import open_pool
    from folio_projects import analytics as an
    from folio_projects.gitcmd import git_env
    from folio_projects.portfolio import Portfolio, Repository
    from folio_projects.scan import scan_repository

    tmp = Path(tempfile.mkdtemp(prefix="folio-bench-projects-"))
    repo = tmp / "repo.git"
    env = git_env()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], env=env, check=True)
    t = time.perf_counter()
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"],
        input=_stream(args.projects_commits),
        env=env,
        check=True,
    )
    build = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run(
        ["git", "-C", str(repo), "log", "--numstat", "--no-merges", "--format=%H %aN %at"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    floor = time.perf_counter() - t
    cluster = EmbeddedPostgres(tmp / "pg")
    url = cluster.start()
    results: dict[str, Any] = {"commits": args.projects_commits, "build_s": build, "floor_s": floor}
    try:
        pool = await open_pool(url)
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_projects", package_migrations("folio_projects"))
        r = Repository("bench", repo)
        t = time.perf_counter()
        await scan_repository(pool, r, Portfolio())
        results["full_scan_s"] = time.perf_counter() - t
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        subprocess.run(
            ["git", "-C", str(repo), "fast-import", "--quiet"],
            input=_stream(10, args.projects_commits, head),
            env=env,
            check=True,
        )
        t = time.perf_counter()
        inc = await scan_repository(pool, r, Portfolio())
        results["incremental_s"] = time.perf_counter() - t
        results["incremental_commits"] = inc.new_commits
        tools = {
            "stats": lambda: an.stats(pool, ["bench"]),
            "stats(author)": lambda: an.stats(pool, ["bench"], author="Author 7"),
            "activity": lambda: an.activity(pool, ["bench"], "month"),
            "languages": lambda: an.languages(pool, ["bench"]),
            "hotspots": lambda: an.hotspots(pool, "bench", 10),
            "bus_factor": lambda: an.bus_factor(pool, "bench"),
            "contributors": lambda: an.contributors(pool, ["bench"]),
            "evidence": lambda: an.evidence(pool, ["bench"], "Python"),
        }
        timings: dict[str, dict[str, float]] = {}
        for name, fn in tools.items():
            xs = []
            for _ in range(7):
                t = time.perf_counter()
                await fn()
                xs.append(time.perf_counter() - t)
            timings[name] = {"p50_ms": _pct(xs, 0.5) * 1000, "p95_ms": _pct(xs, 0.95) * 1000}
        results["tools_uncached"] = timings
        await pool.close()
        results["tools_mcp"] = await _tools_through_mcp(url, tmp, repo)
    finally:
        cluster.stop()
    venv = tmp / "venv"
    try:
        uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
        subprocess.run([*uv, "venv", "-q", str(venv)], check=True)
        subprocess.run(
            [*uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "pydriller"], check=True
        )
        code = (
            "import sys,time\nfrom pydriller import Repository\nt=time.perf_counter();n=0\n"
            "for c in Repository(sys.argv[1], order='reverse').traverse_commits():\n"
            "    _=[m.added_lines for m in c.modified_files];n+=1\n"
            "    if n>=int(sys.argv[2]): break\nprint(time.perf_counter()-t)\n"
        )
        clone = tmp / "clone"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], env=env, check=True)
        out = subprocess.run(
            [str(venv / "bin" / "python"), "-c", code, str(clone), str(args.projects_pydriller)],
            capture_output=True,
            text=True,
            check=True,
        )
        per = float(out.stdout.strip()) / args.projects_pydriller
        results["pydriller_estimated_s"] = per * args.projects_commits
    except (subprocess.CalledProcessError, FileNotFoundError, ValueError) as exc:
        results["pydriller_error"] = str(exc)
    shutil.rmtree(tmp, ignore_errors=True)
    return results


TOOL_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("projects_list", {}),
    ("projects_stats", {"repo": "bench"}),
    ("projects_stats", {"repo": "bench", "author": "Author 7"}),
    ("projects_activity", {"repo": "bench", "period": "month"}),
    ("projects_languages", {"repo": "bench"}),
    ("projects_contributors", {"repo": "bench"}),
    ("projects_hotspots", {"repo": "bench"}),
    ("projects_bus_factor", {"repo": "bench"}),
    ("projects_evidence", {"skill": "Python"}),
    ("projects_insights", {"repo": "bench"}),
]


async def _tools_through_mcp(url: str, tmp: Path, repo: Path, calls: int = 20) -> dict[str, dict[str, float]]:
    """Each tool through the in-memory MCP client on the scanned repository: the first call (which
    computes and caches the numbers of this scan) and p50/p95 over the calls that follow."""
    from mcp import Client

    from folio_core.settings import FolioSettings
    from folio_projects.server import build_server

    portfolio = tmp / "portfolio"
    portfolio.mkdir()
    (portfolio / "projects.yaml").write_text(f"repositories:\n  - {{name: bench, path: {repo}}}\n")
    settings = FolioSettings(
        _env_file=None, database_url=url, data_dir=tmp / "data", portfolio_dir=portfolio, log_level="warning"
    )
    out: dict[str, dict[str, float]] = {}
    async with Client(build_server(settings).mcp, mode="legacy") as client:
        for tool, arguments in TOOL_CALLS:
            label = tool + ("(author)" if "author" in arguments else "")
            xs = []
            for _ in range(calls + 1):
                t = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                xs.append(time.perf_counter() - t)
                if result.is_error:
                    raise RuntimeError(f"{tool} failed: {result.content}")
            warm = xs[1:]
            out[label] = {
                "first_ms": xs[0] * 1000,
                "p50_ms": _pct(warm, 0.5) * 1000,
                "p95_ms": _pct(warm, 0.95) * 1000,
            }
    return out


def report(results: dict[str, Any]) -> None:
    floor = results["floor_s"]
    print(f"projects: {results['commits']:,} commits (built in {results['build_s']:.1f} s)")
    print(f"  git log --numstat floor   {floor:8.2f} s")
    print(
        f"  full scan, stored         {results['full_scan_s']:8.2f} s  ({results['full_scan_s'] / floor:.2f}x floor; aim <= 2x)"
    )
    print(
        f"  incremental (+{results['incremental_commits']})        {results['incremental_s'] * 1000:8.0f} ms (aim <= 300 ms)"
    )
    if "pydriller_estimated_s" in results:
        p = results["pydriller_estimated_s"]
        print(
            f"  pydriller (extrapolated)  {p:8.1f} s  (scan is {p / results['full_scan_s']:.0f}x faster; aim >= 30x)"
        )
    else:
        print(f"  pydriller: {results.get('pydriller_error')}")
    print("  analyses, computed each time (no cache):")
    for name, t in results["tools_uncached"].items():
        print(f"    {name:<26}  p50 {t['p50_ms']:7.1f} ms  p95 {t['p95_ms']:7.1f} ms")
    print("  tools through MCP (first call computes this scan's numbers; then cached; aim p95 <= 50 ms):")
    for name, t in results.get("tools_mcp", {}).items():
        print(
            f"    {name:<26}  first {t['first_ms']:7.1f} ms  p50 {t['p50_ms']:6.1f} ms  p95 {t['p95_ms']:6.1f} ms"
        )
