"""The resources server's MCP surface: thin typed wrappers over the documents service."""

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve, Sample
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    CreateMessageResult,
    PromptReference,
    ResourceTemplateReference,
)
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
)
from folio_core.settings import FolioSettings
from folio_resources import __version__
from folio_resources.errors import DocsError
from folio_resources.live import install_live
from folio_resources.service import DocsService
from folio_resources.uris import FEED_PREFIXES

INSTRUCTIONS = """\
The owner's documents (write-ups, talks, design notes, papers) as resources docs://{path}.
Start with docs_search for a question or docs_list to browse; read with docs_read. Cite documents
by their path."""

SUMMARY_BUDGET_TOKENS = 6_000
_CHARS_PER_TOKEN = 4

DocPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        description="A document path from docs_list or docs_search, e.g. about.md.",
    ),
]
Confirm = Annotated[
    bool,
    Field(description="true only after the user agreed to read a document that asks for confirmation."),
]


async def _service(ctx: Context[Any, Any]) -> DocsService:
    return DocsService.of(await runtime_of(ctx))


async def _describe_read(path: str, ctx: Context[Any, Any]) -> str | None:
    document = await (await _service(ctx)).read(path)
    if not document.extracted.confirm:
        return None
    return f"The owner asks to be asked before the document {path} is read."


async def _ask_summary(
    path: str,
    ctx: Context[Any, Any],
    decision: Annotated[ElicitationResult[ConfirmForm], confirmation(_describe_read)],
) -> Sample | None:
    require_confirmation(decision, tool="docs_summarize")
    if not can_sample(ctx):
        return None
    service = await _service(ctx)
    text = service.text_of(await service.read(path))[: SUMMARY_BUDGET_TOKENS * _CHARS_PER_TOKEN]
    prompt = (
        f"Summarise this document ({path}) in at most 200 words, keeping names, dates and numbers:\n\n{text}"
    )
    return text_sample(
        prompt,
        max_tokens=500,
        system_prompt="You summarise documents faithfully; you add nothing that is not in them.",
        temperature=0.2,
    )


def _prompt_error(exc: Exception) -> MCPError:
    return MCPError(INVALID_PARAMS, str(exc))


def build_server(settings: FolioSettings) -> FolioServer:
    holder: dict[str, FolioServer] = {}

    async def on_feed_event(uri: str) -> None:
        runtime = holder["folio"].runtime
        service = runtime.state.get(DocsService.STATE_KEY) if runtime is not None else None
        if isinstance(service, DocsService):
            await service.feed_event(uri)

    folio = FolioServer(
        "folio-resources",
        settings,
        version=__version__,
        instructions=INSTRUCTIONS,
        package="folio_resources",
        migrations=package_migrations("folio_resources"),
        feed_prefixes=FEED_PREFIXES,
        on_ready=DocsService.start,
        on_feed_event=on_feed_event,
    )
    holder["folio"] = folio
    mcp = folio.mcp
    install_live(folio)

    @folio.tool(annotations=READ_ONLY)
    async def docs_list(
        ctx: Context[Any, Any],
        path: Annotated[
            str | None,
            Field(max_length=1024, description="A folder to list, e.g. talks; omit for every document."),
        ] = None,
        cursor: Annotated[
            str | None, Field(max_length=2048, description="next_cursor from the previous page.")
        ] = None,
    ) -> dict[str, Any]:
        """The documents under a folder (path, title, type, size, modification time), 50 a page, in path order; on the first page also the folders directly inside it."""
        return await (await _service(ctx)).listing(path, cursor)

    @folio.tool(annotations=READ_ONLY)
    async def docs_read(
        ctx: Context[Any, Any],
        path: DocPath,
        decision: Annotated[ElicitationResult[ConfirmForm], confirmation(_describe_read)],
        offset: Annotated[int, Field(ge=0, le=10_000_000, description="First character to return.")] = 0,
        length: Annotated[
            int, Field(ge=1, le=100_000, description="How many characters to return.")
        ] = 20_000,
        confirm: Confirm = False,
    ) -> dict[str, Any]:
        """A document's text (Markdown, text, HTML without scripts, PDF text) from offset, with its front matter."""
        require_confirmation(decision, tool="docs_read")
        service = await _service(ctx)
        return service.read_text(await service.read(path), offset, length)

    @folio.tool(annotations=READ_ONLY)
    async def docs_info(ctx: Context[Any, Any], path: DocPath) -> dict[str, Any]:
        """A document's metadata: type, size, modification time, pages, front matter, index state."""
        return await (await _service(ctx)).info(path)

    @folio.tool(annotations=READ_ONLY)
    async def docs_search(
        ctx: Context[Any, Any],
        query: Annotated[str, Field(min_length=1, max_length=1000, description="A question or keywords.")],
        limit: Annotated[int, Field(ge=1, le=50)] = 5,
    ) -> dict[str, Any]:
        """Hybrid semantic + full-text search over the documents; each hit has the document, a location and a snippet."""
        if not query.strip():
            raise ToolError("the query is empty; send a question or some keywords")
        return await (await _service(ctx)).search(query, limit)

    @folio.tool(annotations=READ_ONLY)
    async def docs_grep(
        ctx: Context[Any, Any],
        pattern: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="A regular expression (POSIX ARE, as in PostgreSQL); start with (?i) to ignore case.",
            ),
        ],
        path: Annotated[
            str | None, Field(max_length=1024, description="A document or folder to search in; omit for all.")
        ] = None,
        max_matches: Annotated[int, Field(ge=1, le=500)] = 50,
        context: Annotated[int, Field(ge=0, le=10, description="Lines of context before and after.")] = 0,
    ) -> dict[str, Any]:
        """Lines of the documents' extracted text matching a regular expression (binaries skipped)."""
        return await (await _service(ctx)).grep(pattern, path, max_matches, context)

    @folio.tool(annotations=READ_ONLY)
    async def docs_summarize(
        ctx: Context[Any, Any],
        path: DocPath,
        summary: Annotated[CreateMessageResult | None, Resolve(_ask_summary)],
        confirm: Confirm = False,
    ) -> dict[str, Any]:
        """A summary by the client's model when it can sample; otherwise the text (within a token budget) to summarise."""
        del confirm  # read by the confirmation resolver
        service = await _service(ctx)
        document = await service.read(path)
        written = sample_text(summary)
        if written is not None:
            return {"path": path, "summary": written, "summarised_by": "the client's model"}
        text = service.text_of(document)
        budget = SUMMARY_BUDGET_TOKENS * _CHARS_PER_TOKEN
        return {
            "path": path,
            "summary": None,
            "instructions": "Summarise this text for the user; it is the document's beginning if truncated.",
            "text": text[:budget],
            "truncated": len(text) > budget,
            "total_characters": len(text),
        }

    @mcp.prompt()
    async def docs_brief(topic: str) -> str:
        """What do my documents say about a topic, with citations."""
        service = DocsService.of(await folio.ready_runtime())
        if not topic.strip():
            raise MCPError(INVALID_PARAMS, "topic is empty; name what the brief is about")
        hits = (await service.search(topic[:1000], 8))["hits"]
        if not hits:
            material = "(no document matched)"
        else:
            material = "\n\n".join(
                f"[{i}] {h['path']} — {h['title'] or h['path']}, {h['location']}:\n{h['snippet']}"
                for i, h in enumerate(hits, 1)
            )
        return (
            f"Write a brief on what the owner's documents say about {topic[:200]}. Use only the excerpts "
            "below, cite each claim with its number and path, say where the documents disagree or are "
            "silent, and read a document with docs_read when an excerpt is not enough.\n\n" + material
        )

    @mcp.prompt()
    async def docs_compare(path_a: str, path_b: str) -> str:
        """Compare two documents: what they share, where they differ."""
        service = DocsService.of(await folio.ready_runtime())
        texts = []
        for path in (path_a, path_b):
            try:
                document = await anyio.to_thread.run_sync(service.library.read, path)
            except DocsError as exc:
                raise _prompt_error(exc) from exc
            if document.extracted.confirm:
                raise MCPError(
                    INVALID_PARAMS, f"{path} asks for confirmation before it is read; use docs_read"
                )
            if document.extracted.text is None:
                raise MCPError(INVALID_PARAMS, f"{path} is binary and has no text to compare")
            texts.append(document.extracted.text[:20_000])
        return (
            f"Compare the documents {path_a} and {path_b}: what they agree on, where they differ "
            "(facts, dates, numbers, emphasis), and what one covers that the other does not. Quote briefly "
            f"and cite the path.\n\n=== {path_a} ===\n{texts[0]}\n\n=== {path_b} ===\n{texts[1]}"
        )

    @mcp.completion()  # type: ignore[no-untyped-call, untyped-decorator]  # the SDK leaves it unannotated
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        """Document paths for the docs:// templates and the prompts' path arguments."""
        del context
        wants_path = (isinstance(ref, ResourceTemplateReference) and argument.name == "path") or (
            isinstance(ref, PromptReference) and argument.name in ("path_a", "path_b")
        )
        if not wants_path:
            return None
        service = DocsService.of(await folio.ready_runtime())
        rows = await service.index.listing(argument.value[:1024], None, 21, service.public_only)
        values = [r["path"] for r in rows if service.library.allowed(r["path"])][:20]
        return Completion(values=values, has_more=len(rows) > 20)

    @mcp.resource("docs://{+path}", name="document", mime_type="text/plain")
    async def document(path: str) -> str:
        """A document's text (Markdown, plain text, HTML readable text, PDF text); binaries as blobs."""
        raise MCPError(INVALID_PARAMS, "served by the resources/read handler")  # pragma: no cover

    @mcp.resource("docs-raw://{+path}", name="document-bytes", mime_type="application/octet-stream")
    async def document_bytes(path: str) -> bytes:
        """A document's original bytes (PDFs, images …) as a blob, up to the size limit."""
        raise MCPError(INVALID_PARAMS, "served by the resources/read handler")  # pragma: no cover

    return folio


__all__ = ["build_server"]
