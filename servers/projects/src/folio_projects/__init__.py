"""folio-projects: analytics of the owner's git repositories (read-only, incremental scans)."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """``folio-projects`` serves MCP over stdio."""
    from folio_core.process import start_process
    from folio_projects.server import build_server

    del argv
    build_server(start_process()).mcp.run()
