"""The profile server's MCP surface: thin typed wrappers over the store and the domain modules."""

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve, Sample
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CreateMessageResult, ModelPreferences
from pydantic import Field

from folio_core.db.migrations import package_migrations
from folio_core.mcp import (
    READ_ONLY,
    ConfirmForm,
    FolioServer,
    can_sample,
    client_label,
    confirmation,
    require_confirmation,
    runtime_of,
    sample_text,
    text_sample,
    write_annotations,
)
from folio_core.settings import FolioSettings
from folio_profile import __version__, prompts
from folio_profile.models import MAX_DESCRIPTION_CHARS, JobFit
from folio_profile.patch import destructive_changes, diff, merge_patch, summarise_changes
from folio_profile.render import render_markdown, skills_overview
from folio_profile.results import HistoryEntry, HistoryResult, SearchResults, SectionResult, WriteResult
from folio_profile.resume import (
    SECTIONS,
    ResumeInvalidError,
    UnknownSectionError,
    get_section,
    validate_resume,
)
from folio_profile.service import ProfileService, as_tool_errors
from folio_profile.uris import FEED_PREFIXES, RESUME_JSON, RESUME_MD, SKILLS, VERSION_TEMPLATE

INSTRUCTIONS = """\
The owner's professional profile: their résumé (JSON Resume), skills and experience.
Use profile_search to find evidence for a question, profile_get for whole sections,
profile_match_job to assess fit with a job description. Cite the JSON paths of the evidence you use."""

Query = Annotated[str, Field(min_length=1, max_length=1000, description="What to look for, in plain words.")]
Limit = Annotated[int, Field(ge=1, le=50, description="How many hits to return (1–50).")]
Reason = Annotated[str, Field(min_length=1, max_length=500, description="Why this change is made (audited).")]
Confirm = Annotated[
    bool,
    Field(
        description="Set to true only after the user agreed to a destructive change you described to them."
    ),
]


async def _service(ctx: Context[Any, Any]) -> ProfileService:
    return ProfileService.of(await runtime_of(ctx))


async def _describe_update(patch: dict[str, Any], ctx: Context[Any, Any]) -> str | None:
    service = await _service(ctx)
    current = await service.current()
    proposed = merge_patch(current.document, patch)
    issues = validate_resume(proposed)
    if issues:
        raise ToolError(str(ResumeInvalidError(issues)) + "\nFix the patch and call profile_update again.")
    lost = destructive_changes(diff(current.document, proposed))
    if not lost:
        return None
    return f"This update removes or empties information in the résumé:\n{summarise_changes(lost)}"


async def _describe_rollback(version: int, ctx: Context[Any, Any]) -> str | None:
    service = await _service(ctx)
    current = await service.current()
    target = await service.version(version)
    changes = diff(current.document, target.document)
    if not changes:
        return None
    return (
        f"Roll the résumé back from version {current.version} to the content of version {version}. "
        f"This changes:\n{summarise_changes(changes)}"
    )


async def _fit(description: str, ctx: Context[Any, Any]) -> JobFit:
    from folio_profile.matching import check_description  # loaded on first use, not at start-up

    try:
        check_description(description)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    service = await _service(ctx)
    await service.current()
    from folio_profile.fit import job_fit

    with as_tool_errors():
        return await job_fit(service.store, description, public_only=service.public)


async def _ask_narrative(ctx: Context[Any, Any], fit: Annotated[JobFit, Resolve(_fit)]) -> Sample | None:
    if not can_sample(ctx):
        return None
    from folio_profile.matching import narrative_prompt

    service = await _service(ctx)
    name = (await service.document()).get("basics", {}).get("name", "the candidate")
    return text_sample(
        narrative_prompt(fit, name),
        max_tokens=500,
        system_prompt="You write short, honest assessments of a candidate's fit for a job, citing evidence.",
        temperature=0.3,
        model_preferences=ModelPreferences(intelligence_priority=0.6, speed_priority=0.4, cost_priority=0.3),
    )


def build_server(settings: FolioSettings) -> FolioServer:
    folio = FolioServer(
        "folio-profile",
        settings,
        version=__version__,
        instructions=INSTRUCTIONS,
        package="folio_profile",
        migrations=package_migrations("folio_profile"),
        feed_prefixes=FEED_PREFIXES,
        on_ready=ProfileService.start,
    )
    mcp = folio.mcp

    @folio.tool(annotations=READ_ONLY)
    async def profile_get(
        ctx: Context[Any, Any],
        section: Annotated[
            str | None, Field(description=f"One of: {', '.join(SECTIONS)}. Omit for the whole résumé.")
        ] = None,
    ) -> SectionResult:
        """Get the résumé, or one section of it (work, skills, projects …)."""
        service = await _service(ctx)
        current = await service.current()
        document = await service.visible(current.document)
        if section is None:
            return SectionResult(version=current.version, section=None, content=document)
        try:
            content = get_section(document, section)
        except UnknownSectionError as exc:
            raise ToolError(str(exc.args[0])) from exc
        return SectionResult(version=current.version, section=section, content=content)

    @folio.tool(annotations=READ_ONLY)
    async def profile_search(ctx: Context[Any, Any], query: Query, limit: Limit = 5) -> SearchResults:
        """Search the résumé by meaning and keywords; each hit has its section, text, score and JSON path."""
        service = await _service(ctx)
        current = await service.current()
        with as_tool_errors():
            hits = await service.store.search(query, limit, public_only=service.public)
        return SearchResults(query=query, version=current.version, hits=hits)

    @folio.tool(annotations=READ_ONLY)
    async def profile_match_job(
        description: Annotated[
            str, Field(description=f"The job description (at most {MAX_DESCRIPTION_CHARS:,} characters).")
        ],
        fit: Annotated[JobFit, Resolve(_fit)],
        narrative: Annotated[CreateMessageResult | None, Resolve(_ask_narrative)],
    ) -> JobFit:
        """Assess fit with a job: each requirement scored with résumé evidence, an overall score and the gaps."""
        return fit.model_copy(update={"narrative": sample_text(narrative)})

    @folio.tool(annotations=READ_ONLY)
    async def profile_history(
        ctx: Context[Any, Any],
        limit: Annotated[int, Field(ge=1, le=100, description="How many entries, newest first.")] = 10,
    ) -> HistoryResult:
        """The audited history of résumé versions: who changed what, when and why."""
        service = await _service(ctx)
        entries = await service.store.history(limit)
        current = await service.store.current()
        return HistoryResult(
            current_version=current.version if current else None,
            # Who changed the résumé and why is the owner's business, not a visitor's.
            entries=[HistoryEntry.from_audit(e, private=not service.public) for e in entries],
        )

    @folio.tool(annotations=write_annotations(destructive=True))
    async def profile_update(
        ctx: Context[Any, Any],
        patch: Annotated[
            dict[str, Any],
            Field(
                description="A JSON Merge Patch (RFC 7396) on the résumé: null removes a key, arrays are replaced."
            ),
        ],
        reason: Reason,
        decision: Annotated[ElicitationResult[ConfirmForm], confirmation(_describe_update)],
        confirm: Confirm = False,
    ) -> WriteResult:
        """Change the résumé with a JSON Merge Patch; changes that remove information need confirmation."""
        approved = require_confirmation(decision, tool="profile_update")
        service = await _service(ctx)
        outcome = await service.write(lambda s: s.update(patch, reason=reason, client=client_label(ctx)))
        return WriteResult.of(outcome, confirmed_by=approved.how)

    @folio.tool(annotations=write_annotations(destructive=True, idempotent=True))
    async def profile_rollback(
        ctx: Context[Any, Any],
        version: Annotated[int, Field(ge=1, description="The version whose content to restore.")],
        decision: Annotated[ElicitationResult[ConfirmForm], confirmation(_describe_rollback)],
        reason: Reason = "rollback",
        confirm: Confirm = False,
    ) -> WriteResult:
        """Restore an earlier version's content as a new version (history is kept); needs confirmation."""
        approved = require_confirmation(decision, tool="profile_rollback")
        service = await _service(ctx)
        outcome = await service.write(lambda s: s.rollback(version, reason=reason, client=client_label(ctx)))
        return WriteResult.of(outcome, confirmed_by=approved.how)

    async def _ready() -> ProfileService:
        return ProfileService.of(await folio.ready_runtime())

    @mcp.resource(RESUME_JSON, name="resume.json", mime_type="application/json")
    async def resume_json() -> str:
        """The current résumé as JSON Resume."""
        return await (await _ready()).resource_json()

    @mcp.resource(RESUME_MD, name="resume.md", mime_type="text/markdown")
    async def resume_md() -> str:
        """The current résumé rendered as Markdown."""
        service = await _ready()
        return render_markdown(await service.document())

    @mcp.resource(SKILLS, name="skills", mime_type="application/json")
    async def skills() -> str:
        """Skills with levels and keywords, and where the résumé shows each keyword."""
        service = await _ready()
        return skills_overview(await service.document()).model_dump_json(indent=2)

    if not settings.is_public:  # earlier versions hold what the owner has since removed

        @mcp.resource(VERSION_TEMPLATE, name="version", mime_type="application/json")
        async def version_resource(n: str) -> str:
            """One earlier version of the résumé."""
            service = await _ready()
            return await service.version_json(n, VERSION_TEMPLATE.format(n=n))

    @mcp.prompt()
    async def profile_introduce(
        audience: Annotated[str, Field(description="Who the introduction is for.")] = "a recruiter",
        length: Annotated[
            Literal["short", "medium", "long"], Field(description="short, medium or long")
        ] = "short",
    ) -> str:
        """Introduce the owner to someone, in their own voice, from the résumé."""
        service = await _ready()
        return prompts.introduce(render_markdown(await service.document()), audience, length)

    @mcp.prompt()
    async def profile_cover_letter(job_description: str) -> str:
        """Draft a cover letter for a job, grounded in the résumé."""
        if len(job_description) > MAX_DESCRIPTION_CHARS or not job_description.strip():
            raise MCPError(INVALID_PARAMS, f"job_description must be 1–{MAX_DESCRIPTION_CHARS:,} characters")
        service = await _ready()
        return prompts.cover_letter(render_markdown(await service.document()), job_description)

    @mcp.prompt()
    async def profile_interview_prep(role: str) -> str:
        """Prepare the owner for an interview for a role: likely questions and answers from their experience."""
        service = await _ready()
        return prompts.interview_prep(render_markdown(await service.document()), role)

    return folio


__all__ = ["build_server"]
