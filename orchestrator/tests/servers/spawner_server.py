"""A server that starts a helper process of its own and, on a graceful exit, leaves it behind."""

import subprocess
import sys

from mcp.server import MCPServer

helper = subprocess.Popen(["sleep", "600"])  # same process group as the server
sys.stderr.write(f"helper pid {helper.pid}\n")
sys.stderr.flush()
mcp = MCPServer("spawner", version="0.0.1")


@mcp.tool()
async def helper_pid() -> int:
    """The helper's process id."""
    return helper.pid


if __name__ == "__main__":
    mcp.run()
