"""The numbers behind every tool, computed from the stored history (SQL plus a little Python).

By default merges, bot commits and configured reformat commits are left out; flags bring them
back. Authorship (files owned, truck factor) follows renames and uses the degree-of-authorship
model of Fritz et al. as applied by Avelino et al. (2016) to the truck factor.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from folio_core.db.pool import Pool

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _where(
    repos: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    author: str | None,
    merges: bool,
    bots: bool,
    alias: str = "c",
) -> tuple[str, list[Any]]:
    clauses = [f"{alias}.repo = ANY(%s)"]
    params: list[Any] = [repos]
    if not merges:
        clauses.append(f"NOT {alias}.is_merge")
    if not bots:
        clauses.append(f"NOT {alias}.is_bot")
    clauses.append(f"NOT {alias}.is_reformat")
    if since is not None:
        clauses.append(f"{alias}.authored_at >= %s")
        params.append(since)
    if until is not None:
        clauses.append(f"{alias}.authored_at < %s")
        params.append(until)
    if author is not None:
        clauses.append(f"({alias}.author ILIKE %s OR {alias}.email ILIKE %s)")
        params += [author, author]
    return " AND ".join(clauses), params


LOCAL = "(c.authored_at AT TIME ZONE 'UTC' + make_interval(mins => c.tz_minutes))"


async def stats(
    pool: Pool,
    repos: list[str],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    author: str | None = None,
    include_merges: bool = False,
    include_bots: bool = False,
) -> dict[str, Any]:
    where, params = _where(repos, since, until, author, include_merges, include_bots)
    async with pool.connection() as conn:
        total = await (
            await conn.execute(
                f"SELECT count(*) AS commits, count(*) FILTER (WHERE is_owner) AS owner_commits, count(DISTINCT {LOCAL}::date) AS active_days, "
                f"coalesce(sum(added), 0) AS added, coalesce(sum(removed), 0) AS removed, "
                f"min(authored_at) AS first, max(authored_at) AS last FROM projects.commits c WHERE {where}",
                params,
            )
        ).fetchone()
        by_author = await (
            await conn.execute(
                f"SELECT author, count(*) AS commits, sum(added) AS added, sum(removed) AS removed "
                f"FROM projects.commits c WHERE {where} GROUP BY author ORDER BY commits DESC, author LIMIT 50",
                params,
            )
        ).fetchall()
        by_month = await (
            await conn.execute(
                f"SELECT to_char({LOCAL}, 'YYYY-MM') AS month, count(*) AS commits, sum(added) AS added, sum(removed) AS removed "
                f"FROM projects.commits c WHERE {where} GROUP BY 1 ORDER BY 1",
                params,
            )
        ).fetchall()
        by_wd = await (
            await conn.execute(
                f"SELECT extract(isodow FROM {LOCAL})::int AS d, extract(hour FROM {LOCAL})::int AS h, count(*) AS n "
                f"FROM projects.commits c WHERE {where} GROUP BY 1, 2",
                params,
            )
        ).fetchall()
    weekday = dict.fromkeys(WEEKDAYS, 0)
    hour = {h: 0 for h in range(24)}
    for r in by_wd:
        weekday[WEEKDAYS[r["d"] - 1]] += r["n"]
        hour[r["h"]] += r["n"]
    assert total is not None
    return {
        "commits": total["commits"],
        "owner_commits": total["owner_commits"],
        "active_days": total["active_days"],
        "lines_added": int(total["added"]),
        "lines_removed": int(total["removed"]),
        "first_commit": total["first"].isoformat() if total["first"] else None,
        "last_commit": total["last"].isoformat() if total["last"] else None,
        "by_author": [{**r, "added": int(r["added"]), "removed": int(r["removed"])} for r in by_author],
        "by_month": [{**r, "added": int(r["added"]), "removed": int(r["removed"])} for r in by_month],
        "by_weekday": weekday,
        "by_hour": {str(h): n for h, n in hour.items()},
    }


async def activity(pool: Pool, repos: list[str], period: str) -> list[dict[str, Any]]:
    where, params = _where(repos, None, None, None, False, False)
    fmt = 'IYYY-"W"IW' if period == "week" else "YYYY-MM"
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                f"SELECT to_char(date_trunc('{period}', c.authored_at AT TIME ZONE 'UTC'), '{fmt}') AS period, "
                f"count(*) AS commits, sum(added) AS added, sum(removed) AS removed "
                f"FROM projects.commits c WHERE {where} GROUP BY 1 ORDER BY 1",
                params,
            )
        ).fetchall()
    return [{**r, "added": int(r["added"]), "removed": int(r["removed"])} for r in rows]


async def languages(pool: Pool, repos: list[str]) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT language, count(*) AS files, sum(code) AS code, sum(comment) AS comment, sum(blank) AS blank "
                "FROM projects.files WHERE repo = ANY(%s) GROUP BY language ORDER BY sum(code) DESC, language",
                (repos,),
            )
        ).fetchall()
    return [{k: (int(v) if k != "language" else v) for k, v in r.items()} for r in rows]


async def file_history(
    pool: Pool, repo: str
) -> tuple[dict[str, dict[str, list[int]]], dict[str, str], dict[str, int]]:
    """Per file at HEAD: per author [first authorship, deliveries], first author, and churn (lines).

    Renames are followed: a file's history before a rename counts for its new path."""
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT f.path, f.old_path, f.added + f.removed AS lines, c.author FROM projects.file_changes f "
                "JOIN projects.commits c USING (repo, sha) WHERE f.repo = %s AND NOT c.is_bot AND NOT c.is_merge "
                "AND NOT c.is_reformat ORDER BY c.authored_at, c.sha, f.seq",
                (repo,),
            )
        ).fetchall()
        current = {
            r["path"]
            for r in await (
                await conn.execute("SELECT path FROM projects.files WHERE repo = %s", (repo,))
            ).fetchall()
        }
    # resolve every historical path to the path it has at HEAD (walk renames from newest to oldest)
    alias: dict[str, str] = {}
    for r in reversed(rows):
        if r["old_path"] and r["old_path"] != r["path"]:
            alias.setdefault(str(r["old_path"]), alias.get(r["path"], str(r["path"])))
    authors: dict[str, dict[str, list[int]]] = defaultdict(dict)
    first: dict[str, str] = {}
    churn: dict[str, int] = defaultdict(int)
    for r in rows:
        path: str = alias.get(r["path"], str(r["path"]))
        if path not in current:
            continue
        entry = authors[path].setdefault(r["author"], [0, 0])
        if path not in first:
            first[path] = r["author"]
            entry[0] = 1
        else:
            entry[1] += 1
        churn[path] += r["lines"]
    return authors, first, churn


def degree_of_authorship(per_author: dict[str, list[int]]) -> dict[str, float]:
    total = sum(fa + dl for fa, dl in per_author.values())
    out = {}
    for author, (fa, dl) in per_author.items():
        others = total - fa - dl
        out[author] = 3.293 + 1.098 * fa + 0.164 * dl - 0.321 * math.log(1 + others)
    return out


def owners(per_file: dict[str, dict[str, list[int]]]) -> dict[str, list[str]]:
    """The authors of each file: normalised DOA above 0.75 and absolute DOA of at least 3.293."""
    out: dict[str, list[str]] = {}
    for path, per_author in per_file.items():
        doa = degree_of_authorship(per_author)
        best = max(doa.values())
        out[path] = sorted(a for a, v in doa.items() if v / best > 0.75 and v >= 3.293)
    return out


def truck_factor(file_owners: dict[str, list[str]]) -> tuple[int, list[str], int]:
    """Greedy removal of the top author until more than half of the files have no author left."""
    files = {p: set(a) for p, a in file_owners.items() if a}
    n = len(file_owners)
    removed: list[str] = []
    if n == 0:
        return 0, removed, 0
    while True:
        orphaned = sum(1 for a in files.values() if not a)
        if orphaned > n / 2:
            return len(removed), removed, n
        coverage: dict[str, int] = defaultdict(int)
        for a in files.values():
            for author in a:
                coverage[author] += 1
        if not coverage:
            return len(removed), removed, n
        top = min(coverage, key=lambda k: (-coverage[k], k))
        removed.append(top)
        for a in files.values():
            a.discard(top)


async def contributors(pool: Pool, repos: list[str]) -> list[dict[str, Any]]:
    where, params = _where(repos, None, None, None, False, False)
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                f"SELECT author, min(email) AS email, count(*) AS commits, sum(added) AS added, sum(removed) AS removed, "
                f"min(authored_at) AS first, max(authored_at) AS last, bool_or(is_owner) AS is_owner "
                f"FROM projects.commits c WHERE {where} GROUP BY author ORDER BY commits DESC, author",
                params,
            )
        ).fetchall()
    owned: dict[str, int] = defaultdict(int)
    for repo in repos:
        per_file, _, _ = await file_history(pool, repo)
        for authors in owners(per_file).values():
            for a in authors:
                owned[a] += 1
    return [
        {
            "author": r["author"],
            "email": r["email"],
            "commits": r["commits"],
            "lines_added": int(r["added"]),
            "lines_removed": int(r["removed"]),
            "first_commit": r["first"].isoformat(),
            "last_commit": r["last"].isoformat(),
            "files_owned": owned.get(r["author"], 0),
            "is_owner": r["is_owner"],
        }
        for r in rows
    ]


async def hotspots(pool: Pool, repo: str, limit: int) -> list[dict[str, Any]]:
    per_file, _, churn = await file_history(pool, repo)
    async with pool.connection() as conn:
        files = await (
            await conn.execute(
                "SELECT path, language, code, complexity FROM projects.files WHERE repo = %s", (repo,)
            )
        ).fetchall()
    out = []
    for f in files:
        changes = sum(fa + dl for fa, dl in per_file.get(f["path"], {}).values())
        score = changes * max(f["complexity"] or 1, 1)
        out.append(
            {
                "path": f["path"],
                "language": f["language"],
                "changes": changes,
                "churn_lines": churn.get(f["path"], 0),
                "code_lines": f["code"],
                "complexity": f["complexity"],
                "score": score,
            }
        )
    out.sort(key=lambda h: (-h["score"], -h["churn_lines"], h["path"]))
    return out[:limit]


async def bus_factor(pool: Pool, repo: str) -> dict[str, Any]:
    per_file, _, _ = await file_history(pool, repo)
    file_owners = owners(per_file)
    tf, authors, n = truck_factor(file_owners)
    at_risk = sorted(p for p, a in file_owners.items() if a and set(a) <= set(authors))
    return {
        "truck_factor": tf,
        "authors": authors,
        "files_considered": n,
        "files_only_they_own": at_risk[:50],
    }


async def evidence(pool: Pool, repos: list[str], skill: str, limit: int = 20) -> dict[str, Any]:
    from folio_projects.languages import LANGUAGES

    like = f"%{skill}%"
    # files of the language named by the skill count as evidence too (Rust: every *.rs change)
    patterns = [like] + [f"%{ext}" for ext, spec in LANGUAGES.items() if spec[0].lower() == skill.lower()]
    where, params = _where(repos, None, None, None, False, False)
    async with pool.connection() as conn:
        langs = await (
            await conn.execute(
                "SELECT repo, language, count(*) AS files, sum(code) AS code FROM projects.files "
                "WHERE repo = ANY(%s) AND language ILIKE %s GROUP BY repo, language ORDER BY sum(code) DESC",
                (repos, skill),
            )
        ).fetchall()
        files = await (
            await conn.execute(
                "SELECT repo, path, language, code FROM projects.files WHERE repo = ANY(%s) AND (path ILIKE %s OR language ILIKE %s) "
                "ORDER BY code DESC, path LIMIT %s",
                (repos, like, skill, limit),
            )
        ).fetchall()
        commits = await (
            await conn.execute(
                f"SELECT c.repo, c.sha, c.author, c.authored_at, c.subject, c.is_owner FROM projects.commits c WHERE {where} "
                f"AND (c.subject ILIKE %s OR EXISTS (SELECT 1 FROM projects.file_changes f WHERE f.repo = c.repo AND f.sha = c.sha "
                f"AND f.path ILIKE ANY(%s))) ORDER BY c.authored_at DESC LIMIT %s",
                [*params, like, patterns, limit],
            )
        ).fetchall()
    return {
        "skill": skill,
        "languages": [{**r, "code": int(r["code"])} for r in langs],
        "files": files,
        "commits": [{**r, "authored_at": r["authored_at"].isoformat()} for r in commits],
    }
