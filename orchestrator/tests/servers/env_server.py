"""A server that shows the environment it was started with."""

import os

from mcp.server import MCPServer

mcp = MCPServer("env", version="0.0.1")


@mcp.tool()
async def environ() -> dict[str, str]:
    """The server's environment variables."""
    return dict(os.environ)


if __name__ == "__main__":
    mcp.run()
