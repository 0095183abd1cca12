"""folio-query: read-only SQL and plain-language questions over Folio's own data."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """``folio-query`` serves MCP over stdio."""
    import sys

    from folio_core.process import start_process

    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("serve",):
        sys.stderr.write("usage: folio-query [serve]\nServes MCP over stdio.\n")
        sys.exit(2)
    settings = start_process()
    from folio_query.server import build_server

    build_server(settings).mcp.run()
