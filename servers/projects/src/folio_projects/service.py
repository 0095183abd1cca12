"""Glue between the runtime, the portfolio, the scanner and the analytics: auto-refresh and caching.

Every tool first brings its repositories up to date (one ``git rev-parse`` each; an incremental
scan when HEAD moved), then reads numbers cached per repository generation, so a new commit
invalidates exactly what it changes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import structlog
from mcp.server.mcpserver.exceptions import ToolError

from folio_core.mcp import Runtime
from folio_core.settings import env_number
from folio_projects.errors import ProjectsError
from folio_projects.portfolio import Portfolio, Repository, load_portfolio
from folio_projects.samples import ensure_sample

log = structlog.get_logger(__name__)

WATCH_SECONDS = max(0.0, env_number("FOLIO_PROJECTS_WATCH_SECONDS", 5.0))
"""How often each scanned repository's HEAD is compared with the stored one (0: never)."""

CONFIRM_ABOVE = 10_000
"""A full rescan of a repository with more stored commits than this asks for confirmation."""


@contextmanager
def as_tool_errors() -> Iterator[None]:
    try:
        yield
    except ProjectsError as exc:
        raise ToolError(str(exc)) from exc


def parse_when(value: str | None, what: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ToolError(
            f"{what} {value[:40]!r} is not a date; use ISO 8601, e.g. 2024-01-31 or 2024-01-31T12:00"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class ProjectsService:
    STATE_KEY = "projects"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.public = runtime.settings.is_public
        self.portfolio: Portfolio = Portfolio()
        self.problem: str | None = None
        self._locks: dict[str, anyio.Lock] = {}

    @classmethod
    async def start(cls, runtime: Runtime) -> None:
        service = cls(runtime)
        runtime.state[cls.STATE_KEY] = service
        try:
            service.portfolio = load_portfolio(service.settings.portfolio_dir, service.settings.data_dir)
        except (ProjectsError, ValueError, OSError) as exc:
            service.problem = f"projects.yaml could not be read: {exc}"
            log.error("portfolio rejected", error=str(exc))
        for repo in service.portfolio.repositories:
            if repo.generated:
                await anyio.to_thread.run_sync(ensure_sample, repo.generated, repo.path)
        await service.record_metadata()
        if WATCH_SECONDS > 0:
            runtime.start_background("projects-ref-watcher", service.watch_refs)

    async def watch_refs(self) -> None:
        """Scan a repository as soon as its HEAD moves (a commit, a pull, a force-push), so that
        subscribers hear of new commits without asking. Only repositories scanned before are
        followed: the first scan of a repository happens when it is first asked about."""
        from folio_projects.gitcmd import head

        while True:
            await anyio.sleep(WATCH_SECONDS)
            async with self.pool.connection() as conn:
                rows = await (
                    await conn.execute("SELECT name, head FROM projects.repositories WHERE head IS NOT NULL")
                ).fetchall()
            stored = {r["name"]: r["head"] for r in rows}
            for repo in self.portfolio.visible(self.public):
                if repo.name not in stored or not repo.path.is_dir():
                    continue
                try:
                    tip = await anyio.to_thread.run_sync(head, repo.path)
                    if tip != stored[repo.name]:
                        await self.refresh(repo)
                except (ToolError, ProjectsError) as exc:
                    log.warning("watched repository not scanned", repo=repo.name, error=str(exc))

    async def record_metadata(self) -> None:
        """Store what projects.yaml says of each repository (one no longer listed is not public) and
        the language of each file extension."""
        from folio_projects.languages import LANGUAGES
        from folio_projects.scan import upsert_repository

        async with self.pool.connection() as conn, conn.transaction():
            for repo in self.portfolio.repositories:
                await upsert_repository(conn, repo)
            await conn.execute(
                "UPDATE projects.repositories SET public = false WHERE NOT (name = ANY(%s))",
                ([r.name for r in self.portfolio.repositories],),
            )
            await conn.execute(
                "INSERT INTO projects.extensions (extension, language) SELECT * FROM unnest(%s::text[], %s::text[]) "
                "ON CONFLICT (extension) DO UPDATE SET language = EXCLUDED.language",
                (list(LANGUAGES), [spec[0] for spec in LANGUAGES.values()]),
            )

    @classmethod
    def of(cls, runtime: Runtime) -> ProjectsService:
        service = runtime.state.get(cls.STATE_KEY)
        if not isinstance(service, ProjectsService):  # pragma: no cover - set by start()
            raise ToolError("the projects server is not initialised")
        return service

    @property
    def pool(self) -> Any:
        return self.runtime.pool

    def repositories(self, name: str | None) -> list[Repository]:
        visible = self.portfolio.visible(self.public)
        if name is None:
            if not visible:
                raise ToolError(
                    self.problem
                    or f"no repositories are configured; add them to {self.settings.portfolio_dir}/projects.yaml"
                )
            return list(visible)
        with as_tool_errors():
            return [self.portfolio.get(name, self.public)]

    async def refresh(self, repo: Repository, *, full: bool = False, progress: Any = None) -> Any:
        from folio_projects.scan import scan_repository

        lock = self._locks.setdefault(repo.name, anyio.Lock())
        async with lock:
            with as_tool_errors():
                return await scan_repository(self.pool, repo, self.portfolio, full=full, progress=progress)

    async def ready(self, repos: list[Repository], *, skip_broken: bool = False) -> list[str]:
        """Bring ``repos`` up to date; the names of those that scanned. A broken repository is an
        error, or (for portfolio-wide questions, ``skip_broken``) left out."""
        names = []
        for repo in repos:
            try:
                await self.refresh(repo)
            except ToolError as exc:
                if not skip_broken:
                    raise
                log.warning("repository left out", repo=repo.name, error=str(exc))
                continue
            names.append(repo.name)
        if not names:
            raise ToolError("no configured repository could be read; check the paths in projects.yaml")
        return names

    async def generation(self, names: list[str]) -> str:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT name, generation FROM projects.repositories WHERE name = ANY(%s) ORDER BY name",
                    (names,),
                )
            ).fetchall()
        return ",".join(f"{r['name']}:{r['generation']}" for r in rows)

    async def cached(self, key: str, names: list[str], compute: Callable[[], Awaitable[Any]]) -> Any:
        full_key = f"projects:{key}:{await self.generation(names)}"
        hit = await self.runtime.cache.get(full_key)
        if hit is not None:
            return json.loads(hit)
        value = await compute()
        await self.runtime.cache.set(full_key, json.dumps(value, default=str).encode(), ttl=86_400)
        return json.loads(json.dumps(value, default=str))

    async def stored_commits(self, name: str) -> int:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT count(*) AS n FROM projects.commits WHERE repo = %s", (name,))
            ).fetchone()
        return int(row["n"]) if row else 0

    async def hotspots(self, name: str, limit: int = 50) -> list[dict[str, Any]]:
        """Hotspots of a repository whose candidates' complexity has been measured (cached up to 50)."""
        from folio_projects import analytics as an
        from folio_projects.complexity import measure_hotspot_candidates

        with as_tool_errors():
            repo = self.portfolio.get(name, self.public)

        async def compute(n: int) -> list[dict[str, Any]]:
            await measure_hotspot_candidates(self.pool, name, repo.path, n)
            return await an.hotspots(self.pool, name, n)

        if limit > 50:
            return await compute(limit)
        hot: list[dict[str, Any]] = await self.cached("hot", [name], lambda: compute(50))
        return hot[:limit]
