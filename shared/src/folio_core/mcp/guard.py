"""The SDK's ``MCPServer`` with Folio's edge checks, so no server needs code of its own for them.

- Every tool call's arguments pass :func:`folio_core.validation.find_input_problem` before the
  tool runs: NUL characters, unpaired surrogates, non-finite or oversize numbers and absurd
  nesting come back as a tool error naming the argument, instead of reaching PostgreSQL.
- ``prompts/get`` checks the prompt's name and arguments itself: an unknown prompt, a missing,
  unknown, non-text or invalid argument is ``MCPError`` -32602 naming it, in both protocol eras
  (the SDK answers code 0 or a bare -32603 there).
- Resource URIs pass the same text rule.
- A request whose handler raises something other than ``MCPError`` gets -32603 with the method
  named, never code 0.
- ``run()`` serves stdio through :mod:`folio_core.mcp.stdio`, which answers the lines the SDK's
  transport would drop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.lowlevel.server import LifespanResultT
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts import Prompt
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    InputRequiredResult,
)
from pydantic import ValidationError

from folio_core.mcp.stdio import serve_stdio
from folio_core.validation import find_input_problem, show_text, text_problem

log = structlog.get_logger(__name__)

_SHOWN_NAME_CHARS = 80


def _names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none"


def _validation_error(exc: BaseException) -> ValidationError | None:
    """The pydantic error an SDK wrapper exception was raised from, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ValidationError):
            return seen
        seen = seen.__cause__
    return None


def _argument_error(prompt: Prompt, error: ValidationError) -> MCPError | None:
    """-32602 naming the argument, if ``error`` is the prompt's own argument validation."""
    declared = {argument.name for argument in prompt.arguments or []}
    first = error.errors(include_url=False, include_input=False)[0]
    argument = str(first["loc"][0]) if first["loc"] else ""
    if argument not in declared:
        return None
    return MCPError(
        INVALID_PARAMS,
        f"Prompt {prompt.name}: the argument {argument!r} is invalid: {first['msg']}.",
        data={"prompt": prompt.name, "argument": argument},
    )


def _check_prompt_arguments(prompt: Prompt, arguments: Mapping[str, Any]) -> None:
    declared = {argument.name: argument for argument in prompt.arguments or []}
    for name in arguments:
        if name not in declared:
            raise MCPError(
                INVALID_PARAMS,
                f"Prompt {prompt.name} has no argument {show_text(name)}; its arguments: {_names(declared)}.",
                data={"prompt": prompt.name, "argument": show_text(name)[1:-1]},
            )
    for argument in declared.values():
        if argument.required and argument.name not in arguments:
            about = f" ({argument.description})" if argument.description else ""
            raise MCPError(
                INVALID_PARAMS,
                f"Prompt {prompt.name} needs the argument {argument.name!r}{about}; send it in arguments.",
                data={"prompt": prompt.name, "argument": argument.name},
            )
    for name, value in arguments.items():
        if not isinstance(value, str):
            continue  # refused on the wire by _answer_with_codes, else by the prompt's own validation
        if (found := text_problem(value)) is not None:
            problem, fix = found
            raise MCPError(
                INVALID_PARAMS,
                f"Prompt {prompt.name}: the argument {name!r} {problem}; {fix}.",
                data={"prompt": prompt.name, "argument": name},
            )


async def _answer_with_codes(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Requests are answered with a real JSON-RPC code, whatever the handler raised."""
    if ctx.method == "prompts/get" and isinstance(ctx.params, Mapping):
        # Before the SDK's own params validation, whose message names nothing.
        arguments = ctx.params.get("arguments")
        if isinstance(arguments, Mapping):
            for name, value in arguments.items():
                if not isinstance(value, str):
                    raise MCPError(
                        INVALID_PARAMS,
                        f"The prompt argument {show_text(str(name))} must be text (prompt arguments are strings).",
                        data={"argument": show_text(str(name))[1:-1]},
                    )
    if ctx.request_id is None:
        return await call_next(ctx)
    try:
        return await call_next(ctx)
    except (MCPError, ValidationError):
        raise
    except Exception as exc:
        log.exception("request failed", method=ctx.method)
        raise MCPError(INTERNAL_ERROR, f"Internal error while handling {ctx.method}") from exc


class GuardedMCPServer(MCPServer[LifespanResultT]):
    """``MCPServer`` that applies Folio's edge checks to every tool, prompt and resource."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lowlevel_server.middleware.append(_answer_with_codes)

    async def run_stdio_async(self) -> None:
        """Serve stdio with every line screened (what ``run()`` starts)."""
        await serve_stdio(self)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[LifespanResultT, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        if self._tool_manager.get_tool(name) is None:
            tools = _names(tool.name for tool in self._tool_manager.list_tools())
            raise ToolError(
                f"Unknown tool: {show_text(name, _SHOWN_NAME_CHARS)}. This server's tools: {tools}."
            )
        if (problem := find_input_problem(arguments)) is not None:
            raise ToolError(f"Invalid arguments for {name}: {problem.message}")
        return await super().call_tool(name, arguments, context)

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[LifespanResultT, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        prompt = self._prompt_manager.get_prompt(name)
        if prompt is None:
            prompts = _names(p.name for p in self._prompt_manager.list_prompts())
            raise MCPError(
                INVALID_PARAMS,
                f"Unknown prompt: {show_text(name, _SHOWN_NAME_CHARS)}. This server's prompts: {prompts}.",
                data={"prompt": show_text(name, _SHOWN_NAME_CHARS)[1:-1]},
            )
        _check_prompt_arguments(prompt, arguments or {})
        try:
            return await super().get_prompt(name, arguments, context)
        except MCPError:
            raise
        except Exception as exc:
            invalid = _validation_error(exc)
            if invalid is not None and (refusal := _argument_error(prompt, invalid)) is not None:
                raise refusal from exc
            log.error("prompt failed", prompt=name, exc_info=exc)
            raise MCPError(INTERNAL_ERROR, f"Error rendering prompt {name}") from exc

    async def read_resource(
        self, uri: Any, context: Context[LifespanResultT, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        if (found := text_problem(str(uri))) is not None:
            problem, fix = found
            raise MCPError(
                INVALID_PARAMS, f"The resource URI {problem}; {fix}.", data={"uri": show_text(str(uri))}
            )
        return await super().read_resource(uri, context)


__all__ = ["GuardedMCPServer"]
