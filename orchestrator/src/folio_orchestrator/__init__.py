"""folio-orchestrator: the MCP host that runs Folio's fleet of servers, and the `folio` CLI."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    raise SystemExit("folio is not implemented yet")
