"""One run as the client sees it: progress while preparing, running (a heartbeat every couple of
seconds) and collecting; stdout and stderr as log messages; the result as structured content with
the PNGs as images. Cancelling the request kills the run."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import anyio
import structlog
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent

from folio_demo import sandbox as sb
from folio_demo.service import DemoService, RunRecord

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 2.0


def limits_text(limits: sb.Limits) -> str:
    return (
        f"CPU {limits.cpu_seconds:g} s, wall clock {limits.wall_seconds:g} s, memory {limits.memory_mb} MB, "
        f"{limits.processes} processes, {limits.open_files} open files, files up to {limits.file_size_mb} MB, "
        f"output {limits.output_bytes // 1024} KiB per stream"
    )


def tier_text(language: sb.Language) -> str:
    try:
        tier = sb.choose_tier(language)
    except sb.SandboxUnavailable as exc:
        raise ToolError(str(exc)) from exc
    if tier == "namespace":
        return "a fresh Linux namespace sandbox (own processes and filesystem view, read-only runtime)"
    return "the pydantic-monty interpreter (no files, no imports of the OS)"


def describe_run(what: str, language: sb.Language, limits: sb.Limits) -> str:
    return (
        f"This will run {what} in {tier_text(language)}. Network: off. Your files, environment and "
        f"secrets are not visible to it. Limits: {limits_text(limits)}."
    )


def build_result(
    record: RunRecord, summary: Mapping[str, Any], artefacts: list[sb.Artefact]
) -> CallToolResult:
    structured = {"run_id": record.id, "run_uri": record.uri, "cached": record.cached, **summary}
    content: list[ContentBlock] = [TextContent(type="text", text=json.dumps(structured, indent=2))]
    for artefact in artefacts:
        content.append(
            ImageContent(
                type="image", data=base64.b64encode(artefact.data).decode(), mime_type=artefact.mime_type
            )
        )
    return CallToolResult(content=content, structured_content=structured, is_error=False)


async def execute(
    service: DemoService,
    ctx: Context[Any, Any],
    record: RunRecord,
    code: str,
    language: sb.Language,
    limits: sb.Limits,
    *,
    files: Mapping[str, str] | None = None,
    inputs: Any = None,
) -> sb.RunResult:
    """Run in the sandbox with progress and streamed output; the record follows along."""
    total = limits.wall_seconds + 1.0
    await ctx.report_progress(0.0, total, f"preparing run {record.id}")
    await service.record_start(record)
    await service.announce(record)
    started = anyio.current_time()

    async def on_output(stream: str, text: str) -> None:
        (record.stdout if stream == "stdout" else record.stderr).append(text)
        try:
            await ctx.log("info" if stream == "stdout" else "warning", text, logger_name=stream)
        except Exception as exc:  # a client that went away must not stop the run's bookkeeping
            log.debug("output not delivered", error=repr(exc))

    async def heartbeat() -> None:
        while True:
            await anyio.sleep(HEARTBEAT_SECONDS)
            elapsed = anyio.current_time() - started
            await ctx.report_progress(
                min(elapsed, limits.wall_seconds),
                total,
                f"{record.stage}: {elapsed:.0f} s of at most {limits.wall_seconds:g} s",
            )
            await service.announce(record)

    try:
        record.stage = "running"
        await ctx.report_progress(0.1, total, "running")
        failure: sb.SandboxError | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            try:
                if service.slots.value == 0:
                    record.stage = "waiting for a free sandbox"
                async with service.slots:
                    record.stage = "running"
                    result = await sb.run(
                        code, language, limits, files=files, inputs=inputs, on_output=on_output
                    )
            except sb.SandboxError as exc:  # re-raised below, not inside the task group's exception group
                failure = exc
            finally:
                tg.cancel_scope.cancel()
        if failure is not None:
            raise failure
        record.stage = "collecting"
        await ctx.report_progress(limits.wall_seconds, total, "collecting the output")
        record.result = result.summary()
        record.status = "finished"
        return result
    except anyio.get_cancelled_exc_class():
        record.status, record.error = "cancelled", "the request was cancelled; the run was killed"
        raise
    except sb.SandboxError as exc:
        record.status, record.error = "failed", str(exc)
        raise ToolError(f"{exc}. Nothing else ran.") from exc
    finally:
        record.stage = "done"
        with anyio.CancelScope(shield=True):
            try:
                await service.record_end(record)
                await service.announce(record)
            except Exception as exc:
                log.warning("run record not written", run=record.id, error=str(exc))
