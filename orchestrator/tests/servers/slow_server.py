"""A server for fault tests: answers, hangs, or works slowly on demand; reports cancellations on stderr."""

import os
import sys

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations

mcp = MCPServer("slow", version="0.0.1")
READ_ONLY = ToolAnnotations(readOnlyHint=True)  # so that the offline test model calls them


@mcp.tool(annotations=READ_ONLY)
async def echo(text: str) -> str:
    """Return the text."""
    return text


@mcp.tool(annotations=READ_ONLY)
async def pid() -> int:
    """The server's process id."""
    return os.getpid()


@mcp.tool(annotations=READ_ONLY)
async def hang(tag: str = "hang") -> str:
    """Never answer; say on stderr when the call is cancelled."""
    try:
        await anyio.sleep_forever()
    finally:
        sys.stderr.write(f"cancelled: {tag}\n")
        sys.stderr.flush()
    return "unreachable"


@mcp.tool(annotations=READ_ONLY)
async def slow(seconds: float, ctx: Context) -> str:
    """Report progress every 50 ms for ``seconds``, then answer."""
    steps = max(1, int(seconds / 0.05))
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        await anyio.sleep(0.05)
    return f"slept {seconds}"


if __name__ == "__main__":
    sys.stderr.write(f"slow server started, pid {os.getpid()}\n")
    sys.stderr.flush()
    mcp.run()
