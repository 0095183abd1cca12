"""The projects server's MCP surface: thin typed wrappers over the service and the analytics."""

import functools
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve, Sample
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CreateMessageResult, ImageContent
from pydantic import Field

from folio_core.db.migrations import package_migrations
from folio_core.mcp import (
    READ_ONLY,
    ConfirmForm,
    FolioServer,
    can_sample,
    confirmation,
    require_confirmation,
    runtime_of,
    sample_text,
    text_sample,
    write_annotations,
)
from folio_core.settings import FolioSettings
from folio_projects import __version__
from folio_projects import analytics as an
from folio_projects.report import insights, markdown, summary_line
from folio_projects.service import CONFIRM_ABOVE, ProjectsService, parse_when
from folio_projects.uris import FEED_PREFIXES, PORTFOLIO, REPORT_TEMPLATE, STATS_TEMPLATE

INSTRUCTIONS = """\
Analytics of the owner's git repositories: what they built, in which languages, for how long,
and how healthy it is. Start with projects_list; numbers leave out merges and bot commits unless asked."""

RepoName = Annotated[
    str, Field(min_length=1, max_length=64, description="A repository name from projects_list.")
]
OptionalRepo = Annotated[
    str | None,
    Field(min_length=1, max_length=64, description="A repository from projects_list; omit for all."),
]
DateText = Annotated[str | None, Field(max_length=40, description="ISO 8601 date, e.g. 2024-01-31.")]


async def _service(ctx: Context[Any, Any]) -> ProjectsService:
    return ProjectsService.of(await runtime_of(ctx))


async def _names(service: ProjectsService, repo: str | None) -> list[str]:
    return await service.ready(service.repositories(repo), skip_broken=repo is None)


async def stats_of(service: ProjectsService, names: list[str], **kw: Any) -> dict[str, Any]:
    key = "stats:" + ":".join(f"{k}={v}" for k, v in sorted(kw.items()))
    return await service.cached(key, names, lambda: an.stats(service.pool, names, **kw))  # type: ignore[no-any-return]


async def _everything(
    service: ProjectsService, name: str
) -> tuple[dict[str, Any], list[Any], dict[str, Any], list[Any]]:
    s = await stats_of(service, [name])
    langs = await service.cached("languages", [name], lambda: an.languages(service.pool, [name]))
    bus = await service.cached("bus", [name], lambda: an.bus_factor(service.pool, name))
    hot = await service.hotspots(name)
    return s, langs, bus, hot


async def _describe_scan(repo: str | None, full: bool, ctx: Context[Any, Any]) -> str | None:
    if not full:
        return None
    service = await _service(ctx)
    big = [
        (r.name, n)
        for r in service.repositories(repo)
        if (n := await service.stored_commits(r.name)) > CONFIRM_ABOVE
    ]
    if not big:
        return None
    what = ", ".join(f"{name} ({n:,} commits)" for name, n in big)
    return f"A full rescan re-reads the whole history of {what}; it can take a while."


async def _insight_numbers(repo: str, ctx: Context[Any, Any]) -> dict[str, Any]:
    service = await _service(ctx)
    (name,) = await _names(service, repo)
    s, langs, bus, hot = await _everything(service, name)
    return {
        "repo": name,
        "facts": insights(s, langs, bus, hot),
        "stats": s,
        "languages": langs,
        "bus_factor": bus,
        "hotspots": hot[:5],
    }


async def _ask_narrative(
    ctx: Context[Any, Any], numbers: Annotated[dict[str, Any], Resolve(_insight_numbers)]
) -> Sample | None:
    if not can_sample(ctx):
        return None
    prompt = (
        f"Write a short narrative (under 150 words) about the repository {numbers['repo']} from these facts:\n"
        + "\n".join(f"- {f}" for f in numbers["facts"])
    )
    return text_sample(
        prompt,
        max_tokens=400,
        system_prompt="You describe software projects honestly, from the numbers given.",
        temperature=0.3,
    )


def build_server(settings: FolioSettings) -> FolioServer:
    folio = FolioServer(
        "folio-projects",
        settings,
        version=__version__,
        instructions=INSTRUCTIONS,
        package="folio_projects",
        migrations=package_migrations("folio_projects"),
        feed_prefixes=FEED_PREFIXES,
        on_ready=ProjectsService.start,
    )
    mcp = folio.mcp

    @folio.tool(annotations=READ_ONLY)
    async def projects_list(ctx: Context[Any, Any]) -> dict[str, Any]:
        """Every configured repository with a one-line summary: languages, commits, first/last commit, the owner's share."""
        service = await _service(ctx)
        out: list[dict[str, Any]] = []
        for repo in service.repositories(None):
            try:
                (name,) = await _names(service, repo.name)
            except ToolError as exc:
                out.append({"name": repo.name, "error": str(exc)})
                continue
            s = await stats_of(service, [name])
            langs = await service.cached(
                "languages", [name], functools.partial(an.languages, service.pool, [name])
            )
            identities = service.portfolio.names or service.portfolio.emails
            share = s["owner_commits"] / s["commits"] if s["commits"] and identities else None
            out.append(
                {
                    "name": name,
                    "description": repo.description,
                    "tags": list(repo.tags),
                    "public": repo.public,
                    "commits": s["commits"],
                    "first_commit": s["first_commit"],
                    "last_commit": s["last_commit"],
                    "languages": [lang["language"] for lang in langs[:5]],
                    "owner_share": share,
                    "summary": summary_line(name, s, langs, share),
                }
            )
        return {"repositories": out}

    @folio.tool(annotations=READ_ONLY)
    async def projects_stats(
        ctx: Context[Any, Any],
        repo: OptionalRepo = None,
        since: DateText = None,
        until: DateText = None,
        author: Annotated[
            str | None,
            Field(
                min_length=1, max_length=200, description="Author name or e-mail (exact, case-insensitive)."
            ),
        ] = None,
        include_merges: bool = False,
        include_bots: bool = False,
    ) -> dict[str, Any]:
        """Commits, active days, lines added/removed, by author, month, weekday and hour (merges and bots excluded by default)."""
        start, end = parse_when(since, "since"), parse_when(until, "until")
        if start and end and start >= end:
            raise ToolError("since must be before until")
        service = await _service(ctx)
        names = await _names(service, repo)
        s = await stats_of(
            service,
            names,
            since=start,
            until=end,
            author=author,
            include_merges=include_merges,
            include_bots=include_bots,
        )
        return {"repositories": names, **s}

    @folio.tool(annotations=READ_ONLY)
    async def projects_contributors(ctx: Context[Any, Any], repo: OptionalRepo = None) -> dict[str, Any]:
        """Authors with commits, lines, first/last commit and files owned (degree of authorship)."""
        service = await _service(ctx)
        names = await _names(service, repo)
        people = await service.cached("contributors", names, lambda: an.contributors(service.pool, names))
        return {"repositories": names, "contributors": people}

    @folio.tool(annotations=READ_ONLY)
    async def projects_languages(ctx: Context[Any, Any], repo: OptionalRepo = None) -> dict[str, Any]:
        """Lines of code per language at HEAD (code, comment, blank), generated and vendored files excluded."""
        service = await _service(ctx)
        names = await _names(service, repo)
        langs = await service.cached("languages", names, lambda: an.languages(service.pool, names))
        return {"repositories": names, "languages": langs}

    @folio.tool(annotations=READ_ONLY)
    async def projects_hotspots(
        ctx: Context[Any, Any], repo: RepoName, limit: Annotated[int, Field(ge=1, le=100)] = 10
    ) -> dict[str, Any]:
        """Files ranked by changes × complexity, with their numbers (renames followed)."""
        service = await _service(ctx)
        (name,) = await _names(service, repo)
        return {"repository": name, "hotspots": await service.hotspots(name, limit)}

    @folio.tool(annotations=READ_ONLY)
    async def projects_bus_factor(ctx: Context[Any, Any], repo: RepoName) -> dict[str, Any]:
        """The truck factor (Avelino et al., degree of authorship) with the authors and files behind it."""
        service = await _service(ctx)
        (name,) = await _names(service, repo)
        bus = await service.cached("bus", [name], lambda: an.bus_factor(service.pool, name))
        return {"repository": name, **bus}

    @folio.tool(annotations=READ_ONLY)
    async def projects_activity(
        ctx: Context[Any, Any], repo: OptionalRepo = None, period: Literal["week", "month"] = "month"
    ) -> dict[str, Any]:
        """Commits and lines per week or month."""
        service = await _service(ctx)
        names = await _names(service, repo)
        rows = await service.cached(
            f"activity:{period}", names, lambda: an.activity(service.pool, names, period)
        )
        return {"repositories": names, "period": period, "activity": rows}

    @folio.tool(annotations=READ_ONLY)
    async def projects_chart(
        ctx: Context[Any, Any],
        chart: Literal["activity", "languages", "contributors", "hotspots"],
        repo: OptionalRepo = None,
    ) -> ImageContent:
        """A PNG chart of activity, languages, contributors or hotspots."""
        from folio_core.charts import Chart, ChartError, Series, render_image

        service = await _service(ctx)
        names = await _names(service, repo)
        label = repo or "portfolio"
        if chart == "activity":
            rows = await an.activity(service.pool, names, "month")
            spec = Chart(
                "bar",
                f"Commits per month: {label}",
                [r["period"] for r in rows],
                [Series("commits", [r["commits"] for r in rows])],
            )
        elif chart == "languages":
            langs = (await an.languages(service.pool, names))[:12]
            spec = Chart(
                "barh",
                f"Code lines per language: {label}",
                [lang["language"] for lang in langs],
                [Series("code", [lang["code"] for lang in langs])],
            )
        elif chart == "contributors":
            people = (await an.stats(service.pool, names))["by_author"][:15]
            spec = Chart(
                "barh",
                f"Commits per author: {label}",
                [p["author"] for p in people],
                [Series("commits", [p["commits"] for p in people])],
            )
        else:
            if repo is None:
                raise ToolError("a hotspots chart is for one repository; pass repo")
            hot = await service.hotspots(names[0], 15)
            spec = Chart(
                "barh",
                f"Hotspots: {label}",
                [h["path"] for h in hot],
                [Series("score", [h["score"] for h in hot])],
            )
        try:
            return await render_image(spec)
        except ChartError as exc:
            raise ToolError(f"nothing to chart for {label}: {exc}") from exc

    @folio.tool(annotations=READ_ONLY)
    async def projects_evidence(
        ctx: Context[Any, Any],
        skill: Annotated[
            str, Field(min_length=1, max_length=100, description="A skill, language or topic, e.g. Rust.")
        ],
    ) -> dict[str, Any]:
        """Commits, files and languages that show a skill, with dates."""
        service = await _service(ctx)
        names = await _names(service, None)
        wanted = skill.strip()
        found = await service.cached(
            f"evidence:{wanted.lower()}", names, lambda: an.evidence(service.pool, names, wanted)
        )
        return {"repositories": names, **found}

    @folio.tool(annotations=READ_ONLY)
    async def projects_insights(
        repo: RepoName,
        numbers: Annotated[dict[str, Any], Resolve(_insight_numbers)],
        narrative: Annotated[CreateMessageResult | None, Resolve(_ask_narrative)],
    ) -> dict[str, Any]:
        """Trends and notable facts about a repository; a short narrative when the client can sample."""
        del repo  # read by the resolvers
        return {**numbers, "narrative": sample_text(narrative)}

    @folio.tool(annotations=write_annotations(destructive=False, idempotent=True))
    async def projects_scan(
        ctx: Context[Any, Any],
        decision: Annotated[ElicitationResult[ConfirmForm], confirmation(_describe_scan)],
        repo: OptionalRepo = None,
        full: Annotated[
            bool, Field(description="Re-read the whole history instead of only new commits.")
        ] = False,
        confirm: Annotated[
            bool, Field(description="true only after the user agreed to a long full rescan.")
        ] = False,
    ) -> dict[str, Any]:
        """Scan repositories now (only new commits unless full); reports progress and can be cancelled."""
        require_confirmation(decision, tool="projects_scan")
        service = await _service(ctx)
        results = []
        for r in service.repositories(repo):

            async def progress(done: int, total: int, name: str = r.name) -> None:
                await ctx.report_progress(done, total, f"{name}: {done:,} of {total:,} commits")

            result = await service.refresh(r, full=full, progress=progress)
            results.append(
                {
                    "repository": result.repo,
                    "head": result.head,
                    "new_commits": result.new_commits,
                    "rewritten": result.rewritten,
                    "changed": result.changed,
                }
            )
        return {"scans": results}

    async def _ready() -> ProjectsService:
        return ProjectsService.of(await folio.ready_runtime())

    async def _one(repo: str) -> tuple[ProjectsService, str]:
        service = await _ready()
        try:
            (name,) = await _names(service, repo)
        except ToolError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        return service, name

    @mcp.resource(PORTFOLIO, name="portfolio", mime_type="application/json")
    async def portfolio() -> str:
        """Summary of every repository."""
        import json

        service = await _ready()
        out = []
        for repo in service.portfolio.visible(service.public):
            try:
                (name,) = await _names(service, repo.name)
            except ToolError as exc:
                out.append({"name": repo.name, "error": str(exc)})
                continue
            s = await stats_of(service, [name])
            out.append(
                {
                    "name": name,
                    "description": repo.description,
                    "commits": s["commits"],
                    "first_commit": s["first_commit"],
                    "last_commit": s["last_commit"],
                }
            )
        return json.dumps({"repositories": out}, indent=2)

    @mcp.resource(REPORT_TEMPLATE, name="report", mime_type="text/markdown")
    async def report(repo: str) -> str:
        """A readable report on one repository."""
        service, name = await _one(repo)
        s, langs, bus, hot = await _everything(service, name)
        return markdown(name, service.portfolio.get(name, service.public).description, s, langs, bus, hot)

    @mcp.resource(STATS_TEMPLATE, name="stats", mime_type="application/json")
    async def stats_json(repo: str) -> str:
        """The numbers of one repository as JSON."""
        import json

        service, name = await _one(repo)
        s, langs, bus, hot = await _everything(service, name)
        return json.dumps(
            {"repository": name, "stats": s, "languages": langs, "bus_factor": bus, "hotspots": hot[:10]},
            indent=2,
        )

    @mcp.prompt()
    async def projects_report(repo: str, audience: str = "a recruiter") -> str:
        """Write a report on a repository for an audience, from its computed numbers."""
        service, name = await _one(repo)
        s, langs, bus, hot = await _everything(service, name)
        body = markdown(name, service.portfolio.get(name, service.public).description, s, langs, bus, hot)
        return (
            f"Write a report on the repository {name} for {audience[:200]}. Use only these numbers:\n\n{body}"
        )

    @mcp.prompt()
    async def projects_retrospective(repo: str, period: str = "month") -> str:
        """A retrospective of a repository's activity per week or month."""
        if period not in ("week", "month"):
            raise MCPError(INVALID_PARAMS, "period must be 'week' or 'month'")
        service, name = await _one(repo)
        rows = await an.activity(service.pool, [name], period)
        table = "\n".join(
            f"- {r['period']}: {r['commits']} commits, +{r['added']}/-{r['removed']}" for r in rows
        )
        return f"Run a retrospective of {name} per {period}: what went well, what slowed down, what to change.\n\n{table}"

    return folio


__all__ = ["build_server"]
