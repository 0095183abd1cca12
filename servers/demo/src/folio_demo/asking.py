"""What the demo tools ask before acting: the user's permission to run code (elicitation, or
``confirm: true`` where the client cannot ask) and the client's model for an explanation.

The describing resolvers validate everything first, so bad input is refused before anyone is
asked, and a cached result (which runs nothing) is not asked about. This module does not use
``from __future__ import annotations``: the SDK inspects the resolvers' ``Annotated`` parameters.
"""

import json
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import AcceptedElicitation, CancelledElicitation, ElicitationResult, Sample

from folio_core.mcp import ConfirmForm, Decision, can_sample, runtime_of, text_sample
from folio_demo import sandbox as sb
from folio_demo.demos import Demo, validate_inputs
from folio_demo.errors import DemoError
from folio_demo.execution import describe_run
from folio_demo.service import DemoService


async def service_of(ctx: Context[Any, Any]) -> DemoService:
    return DemoService.of(await runtime_of(ctx))


def find_demo(service: DemoService, name: str) -> Demo:
    try:
        return service.catalogue.get(name, service.public)
    except DemoError as exc:
        raise ToolError(str(exc)) from exc


def inputs_of(demo: Demo, inputs: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return validate_inputs(demo, inputs)
    except DemoError as exc:
        raise ToolError(str(exc)) from exc


def language_of(language: str) -> sb.Language:
    if language not in sb.LANGUAGES:
        raise ToolError(
            f"unknown language {language[:20]!r}; use one of {', '.join(sb.LANGUAGES)}. Nothing ran."
        )
    return language


def snippet_limits(service: DemoService) -> sb.Limits:
    c = service.catalogue
    return c.visitor_snippet_limits if service.public else c.snippet_limits


def check_snippet(code: str) -> None:
    try:
        sb.check_code(code)
    except sb.SandboxError as exc:
        raise ToolError(f"{exc}. Nothing ran.") from exc


async def describe_demo_run(name: str, inputs: dict[str, Any] | None, ctx: Context[Any, Any]) -> str | None:
    service = await service_of(ctx)
    demo = find_demo(service, name)
    values = inputs_of(demo, inputs)
    if await service.cached(demo, values) is not None:
        return None  # a cached result runs nothing
    shown = json.dumps(values)
    shown = shown if len(shown) <= 300 else shown[:299] + "…"
    what = f"the demo {demo.title!r} ({demo.language}, {len(demo.files)} file(s)) with inputs {shown}"
    return describe_run(what, demo.language, demo.limits)


async def describe_snippet(code: str, language: str, ctx: Context[Any, Any]) -> str | None:
    service = await service_of(ctx)
    chosen = language_of(language)
    check_snippet(code)
    lines = code.strip().splitlines()
    preview = "\n".join(lines[:8]) + ("\n…" if len(lines) > 8 else "")
    what = f"a {chosen} snippet of {len(lines)} line(s):\n{preview}\n"
    return describe_run(what, chosen, snippet_limits(service))


def require_permission(outcome: ElicitationResult[ConfirmForm], *, tool: str) -> Decision:
    """The user's answer, or ``ToolError`` saying that nothing ran and what to do next."""
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        decision = data if isinstance(data, Decision) else Decision(bool(data.confirm), "elicitation")
    else:
        decision = Decision(
            False, "elicitation", "cancelled" if isinstance(outcome, CancelledElicitation) else None
        )
    if decision.approved:
        return decision
    if decision.how == "unavailable":
        raise ToolError(
            f"Running code needs the user's permission. {decision.summary} Your client cannot ask the user "
            f"directly, so show them this and, only if they agree, call {tool} again with confirm: true. "
            "Nothing ran."
        )
    if decision.summary == "cancelled":
        raise ToolError(f"The user cancelled, so nothing ran. Do not retry {tool} unless they ask.")
    raise ToolError(f"The user declined, so nothing ran. Do not retry {tool} unless they ask.")


async def ask_explanation(name: str, audience: str, ctx: Context[Any, Any]) -> Sample | None:
    if not can_sample(ctx):
        return None
    service = await service_of(ctx)
    demo = find_demo(service, name)
    prompt = (
        f"Explain this demo's code to {audience[:100]} in under 200 words: what it does, how, and what "
        f"it shows about its author's skills.\n\n{demo.source_markdown()}"
    )
    return text_sample(
        prompt,
        max_tokens=600,
        system_prompt="You explain code clearly and accurately, only from the source given.",
        temperature=0.3,
    )
