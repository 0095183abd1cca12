"""Era-portable ways for a tool to ask the client: confirmations and LLM samples.

Both go through the SDK's resolvers (``Annotated[T, Resolve(fn)]``), which work in the handshake
era (a request on the back-channel) and in 2026-07-28 (an ``InputRequiredResult`` round trip).
Both have a path for clients that lack the capability (Claude Desktop has neither):

* a confirmation falls back to an explicit ``confirm: true`` argument and is refused without it;
* a sample falls back to ``None``: the tool returns its structured result and lets the calling
  model do the reasoning.

This module deliberately does not use ``from __future__ import annotations``: the resolvers made
here carry real ``Annotated`` objects that the SDK inspects at registration.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import (
    AcceptedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
    Sample,
)
from mcp.types import CreateMessageResult, ModelPreferences, SamplingMessage, TextContent
from pydantic import BaseModel, Field


def can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether the client declared form elicitation."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def client_label(ctx: Context[Any, Any]) -> str | None:
    """'name version' of the calling client (for audit trails), when it said who it is."""
    params = ctx.request_context.session.client_params
    info = params.client_info if params is not None else None
    if info is None:
        return None
    return f"{info.name} {info.version}".strip()


def can_sample(ctx: Context[Any, Any]) -> bool:
    """Whether the client declared sampling."""
    caps = ctx.client_capabilities
    return caps is not None and caps.sampling is not None


def text_sample(
    prompt: str,
    *,
    system_prompt: str,
    max_tokens: int,
    temperature: float,
    model_preferences: ModelPreferences | None = None,
) -> Sample:
    """A sampling request of one user message of text (what a resolver returns to ask the client's model)."""
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
        max_tokens=max_tokens,
        system_prompt=system_prompt,
        temperature=temperature,
        model_preferences=model_preferences,
    )


def sample_text(result: CreateMessageResult | None) -> str | None:
    """The text of a sampling result, or None when there is none."""
    if result is None:
        return None
    content = result.content
    blocks = content if isinstance(content, list) else [content]
    text = "".join(block.text for block in blocks if isinstance(block, TextContent)).strip()
    return text or None


class ConfirmForm(BaseModel):
    """The form shown to the person when a tool asks for confirmation."""

    confirm: bool = Field(description="Go ahead with this change?")


HowDecided = Literal["not-needed", "argument", "elicitation", "unavailable"]


@dataclass(frozen=True)
class Decision:
    """Whether a guarded action may proceed, and how that was decided."""

    approved: bool
    how: HowDecided
    summary: str | None = None


Describe = Callable[..., Awaitable[str | None]]


def confirmation(describe: Describe) -> Resolve:
    """A resolver for a ``confirm: bool`` guarded tool.

    ``describe`` is itself a resolver (it may take tool arguments by name and the ``Context``)
    returning a description of what the action would lose, or ``None`` when nothing needs
    confirming. The tool annotates its parameter as
    ``Annotated[ElicitationResult[ConfirmForm], confirmation(describe)]`` and passes it to
    :func:`require_confirmation`.
    """

    async def ask_confirmation(
        confirm: bool,
        ctx: Context[Any, Any],
        summary: Annotated[str | None, Resolve(describe)],
    ) -> Elicit[ConfirmForm] | Decision:
        if summary is None:
            return Decision(True, "not-needed")
        if confirm:
            return Decision(True, "argument", summary)
        if not can_elicit(ctx):
            return Decision(False, "unavailable", summary)
        return Elicit(f"{summary}\n\nGo ahead?", ConfirmForm)

    # Closures of one factory share a qualified name; give each a distinct, stable wire key.
    ask_confirmation.__qualname__ = f"confirmation[{getattr(describe, '__qualname__', 'describe')}]"
    return Resolve(ask_confirmation)


def require_confirmation(outcome: ElicitationResult[ConfirmForm], *, tool: str) -> Decision:
    """Turn the resolver's outcome into a :class:`Decision`, or raise ``ToolError`` if refused."""
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        decision = data if isinstance(data, Decision) else Decision(bool(data.confirm), "elicitation")
    else:
        decision = Decision(False, "elicitation")
    if decision.approved:
        return decision
    if decision.how == "unavailable":
        raise ToolError(
            f"This needs the user's confirmation: {decision.summary} Your client cannot ask the user "
            f"directly, so show them this and, only if they agree, call {tool} again with confirm: true. "
            "Nothing was changed."
        )
    raise ToolError(f"The user did not confirm, so nothing was changed. Do not retry {tool} unless they ask.")
