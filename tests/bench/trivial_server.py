"""The baseline for start-up benchmarks: a one-tool SDK server with nothing else."""

from mcp.server import MCPServer

mcp = MCPServer("trivial", version="0.0.1")


@mcp.tool()
async def echo(text: str) -> str:
    """Return the text."""
    return text


if __name__ == "__main__":
    mcp.run()
