"""folio-demo: the owner's curated demos and code snippets, run in a real sandbox."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """``folio-demo`` serves MCP over stdio."""
    from folio_core.process import start_process
    from folio_demo.server import build_server

    del argv
    build_server(start_process()).mcp.run()
