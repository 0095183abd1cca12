"""folio-profile: the owner's résumé as an MCP server (JSON Resume, skills search, job fit)."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """``folio-profile`` serves MCP over stdio; ``folio-profile import PATH`` imports a résumé."""
    from folio_profile.cli import run

    run(argv)
