"""The demo server's MCP surface: thin typed wrappers over the catalogue, the sandbox and the service."""

import json
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import (
    ElicitationResult,
    Resolve,
)
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    CreateMessageResult,
    ToolAnnotations,
)
from pydantic import Field

from folio_core.db.migrations import package_migrations
from folio_core.mcp import (
    READ_ONLY,
    ConfirmForm,
    FolioServer,
    confirmation,
    sample_text,
)
from folio_core.settings import FolioSettings
from folio_demo import __version__
from folio_demo import sandbox as sb
from folio_demo.asking import (
    ask_explanation,
    check_snippet,
    describe_demo_run,
    describe_snippet,
    find_demo,
    inputs_of,
    language_of,
    require_permission,
    service_of,
    snippet_limits,
)
from folio_demo.demos import Catalogue, Demo, load_catalogue
from folio_demo.errors import DemoError
from folio_demo.execution import build_result, execute, limits_text
from folio_demo.service import DemoService
from folio_demo.uris import CATALOGUE, FEED_PREFIXES, RUN_TEMPLATE, SOURCE_TEMPLATE

INSTRUCTIONS = """\
The owner's curated demos and code snippets, run in a sandbox with the network off. Start with
demo_list; demo_show gives a demo's inputs and source. Running asks the user first (or needs
confirm: true after they agreed); results carry stdout, stderr, the sandbox tier and limits, and
any PNG the code drew."""

# Running sandboxed code changes nothing anyone else can see, so visitors may run public demos.
RUNS = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)

DemoName = Annotated[str, Field(min_length=1, max_length=64, description="A demo name from demo_list.")]
Confirm = Annotated[
    bool, Field(description="true only after the user agreed to run it (for clients that cannot ask).")
]


def _summary(demo: Demo) -> dict[str, Any]:
    return {
        "name": demo.name,
        "title": demo.title,
        "description": demo.description.strip(),
        "language": demo.language,
        "public": demo.public,
        "deterministic": demo.deterministic,
        "expected_seconds": demo.expected_seconds,
        "tags": list(demo.tags),
        "takes_inputs": bool(demo.input_schema.get("properties")),
    }


def build_server(settings: FolioSettings, catalogue: Catalogue | None = None) -> FolioServer:
    catalogue = catalogue if catalogue is not None else load_catalogue(settings.portfolio_dir)
    folio = FolioServer(
        "folio-demo",
        settings,
        version=__version__,
        instructions=INSTRUCTIONS,
        package="folio_demo",
        migrations=package_migrations("folio_demo"),
        feed_prefixes=FEED_PREFIXES,
        on_ready=DemoService.starter(catalogue),
    )
    mcp = folio.mcp
    snippets_allowed = not settings.is_public or catalogue.visitor_snippets

    def listing(service: DemoService) -> dict[str, Any]:
        available = sb.tiers()
        out: dict[str, Any] = {
            "demos": [_summary(d) for d in service.catalogue.visible(service.public)],
            "snippets": {
                "enabled": snippets_allowed,
                "languages": [lang for lang in sb.LANGUAGES if lang == "python" or sb._layout().node],
                "limits": snippet_limits(service).as_dict() if snippets_allowed else None,
            },
            "sandbox": {
                "tiers": {tier: problem is None for tier, problem in available.items()},
                "network": "off",
            },
        }
        if not service.public and service.catalogue.problems:
            out["problems"] = list(service.catalogue.problems)
        return out

    @folio.tool(annotations=READ_ONLY)
    async def demo_list(ctx: Context[Any, Any]) -> dict[str, Any]:
        """The curated demos (name, title, language, whether it takes inputs), whether snippets may run, and the sandbox."""
        return listing(await service_of(ctx))

    @folio.tool(annotations=READ_ONLY)
    async def demo_show(ctx: Context[Any, Any], name: DemoName) -> dict[str, Any]:
        """A demo's description, input schema with example inputs, limits and source files."""
        service = await service_of(ctx)
        demo = find_demo(service, name)
        return {
            **_summary(demo),
            "input_schema": demo.input_schema,
            "example_inputs": demo.example_inputs,
            "limits": demo.limits.as_dict(),
            "limits_text": limits_text(demo.limits),
            "entry": demo.entry,
            "files": demo.files,
            "project": demo.project,
            "source_uri": SOURCE_TEMPLATE.format(name=demo.name),
        }

    @folio.tool(annotations=RUNS)
    async def demo_run(
        ctx: Context[Any, Any],
        name: DemoName,
        decision: Annotated[ElicitationResult[ConfirmForm], confirmation(describe_demo_run)],
        inputs: Annotated[
            dict[str, Any] | None, Field(description="The demo's inputs (see demo_show); omit for none.")
        ] = None,
        confirm: Confirm = False,
    ) -> CallToolResult:
        """Run a curated demo in the sandbox (asks the user first); stdout, stderr, exit status, tier, limits and PNG images."""
        service = await service_of(ctx)
        demo = find_demo(service, name)
        values = inputs_of(demo, inputs)
        hit = await service.cached(demo, values)
        if hit is not None:
            record = service.new_run("demo", demo.name, demo.language, values)
            summary, artefacts = hit
            record.cached, record.status, record.stage, record.result = True, "finished", "done", summary
            return build_result(record, summary, artefacts)
        require_permission(decision, tool="demo_run")
        record = service.new_run("demo", demo.name, demo.language, values)
        result = await execute(
            service, ctx, record, demo.code, demo.language, demo.limits, files=demo.files, inputs=values
        )
        await service.remember(demo, values, result)
        return build_result(record, result.summary(), result.artefacts)

    if snippets_allowed:

        @folio.tool(annotations=RUNS)
        async def demo_run_snippet(
            ctx: Context[Any, Any],
            code: Annotated[
                str, Field(description="The program to run (up to 256 KiB); print results, save PNGs.")
            ],
            decision: Annotated[ElicitationResult[ConfirmForm], confirmation(describe_snippet)],
            language: Annotated[
                str, Field(max_length=40, description="python (default) or javascript.")
            ] = "python",
            confirm: Confirm = False,
        ) -> CallToolResult:
            """Run a code snippet in the sandbox, network off (asks the user first); stdout, stderr, exit status and PNG images."""
            service = await service_of(ctx)
            chosen = language_of(language)
            check_snippet(code)
            require_permission(decision, tool="demo_run_snippet")
            record = service.new_run("snippet", None, chosen, None)
            result = await execute(service, ctx, record, code, chosen, snippet_limits(service))
            return build_result(record, result.summary(), result.artefacts)

    @folio.tool(annotations=READ_ONLY)
    async def demo_snippets(
        ctx: Context[Any, Any],
        query: Annotated[str, Field(min_length=1, max_length=500, description="What the code should do.")],
        limit: Annotated[int, Field(ge=1, le=20)] = 5,
    ) -> dict[str, Any]:
        """Code snippets from the owner's demos, searched by meaning, each with its source location."""
        service = await service_of(ctx)
        if not query.strip():
            raise ToolError("the query is blank; describe the code you are looking for")
        found = await service.snippets.search(
            service.runtime.embedder, query, public=service.public, limit=limit
        )
        return {"query": query, "snippets": [s.as_dict(score) for score, s in found]}

    @folio.tool(annotations=READ_ONLY)
    async def demo_explain(
        ctx: Context[Any, Any],
        name: DemoName,
        explanation: Annotated[CreateMessageResult | None, Resolve(ask_explanation)],
        audience: Annotated[str, Field(min_length=1, max_length=100)] = "a recruiter",
    ) -> dict[str, Any]:
        """Explain a demo's code for an audience (the client's model writes it when it can sample)."""
        service = await service_of(ctx)
        demo = find_demo(service, name)
        text = sample_text(explanation)
        out: dict[str, Any] = {
            "name": demo.name,
            "title": demo.title,
            "audience": audience,
            "description": demo.description.strip(),
            "source": demo.source_markdown(),
            "explanation": text,
        }
        if text is None:
            out["instructions"] = (
                f"Explain this code to {audience} from the source above: what it does, how, and what it shows."
            )
        return out

    async def _ready() -> DemoService:
        return DemoService.of(await folio.ready_runtime())

    @mcp.resource(CATALOGUE, name="catalogue", mime_type="application/json")
    async def catalogue_resource() -> str:
        """The demos, whether snippets may run, and the sandbox tiers available here."""
        return json.dumps(listing(await _ready()), indent=2)

    @mcp.resource(SOURCE_TEMPLATE, name="source", mime_type="text/markdown")
    async def source(name: str) -> str:
        """A demo's description and every source file."""
        service = await _ready()
        try:
            return service.catalogue.get(name, service.public).source_markdown()
        except DemoError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc

    @mcp.resource(RUN_TEMPLATE, name="run", mime_type="application/json")
    async def run(run_id: str) -> str:
        """A run's status and output (updated while it runs, for subscribers)."""
        service = await _ready()
        if not (1 <= len(run_id) <= 64 and run_id.isalnum()):
            raise MCPError(INVALID_PARAMS, "a run id is the run_id a demo_run result gave")
        found = await service.read_run(run_id)
        if found is None:
            raise MCPError(INVALID_PARAMS, f"no run {run_id!r}; run ids come from demo_run results")
        return json.dumps(found, indent=2)

    @mcp.prompt()
    async def demo_tutorial(name: str) -> str:
        """Walk someone through a demo: what it does, its code, then running it with the example inputs."""
        service = await _ready()
        try:
            demo = service.catalogue.get(name[:64], service.public)
        except DemoError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        example = json.dumps(demo.example_inputs)
        return (
            f"Give a short tutorial on the demo {demo.name!r}. First say what it does and why it is interesting, "
            f"then walk through the code below step by step, then offer to run it: call demo_run with "
            f"name {demo.name!r} and inputs {example} (the user is asked before it runs), and explain the result.\n\n"
            f"{demo.source_markdown()}"
        )

    return folio


__all__ = ["build_server"]
