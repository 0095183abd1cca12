"""folio-resources: the owner's documents as browsable, searchable, live MCP resources."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """``folio-resources`` serves MCP over stdio."""
    from folio_core.process import start_process
    from folio_resources.server import build_server

    del argv
    build_server(start_process()).mcp.run()
