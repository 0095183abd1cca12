"""folio-memory: long-term memory with semantic recall, history and a knowledge graph."""

from __future__ import annotations

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """``folio-memory`` serves MCP over stdio; ``import-jsonl PATH`` and ``reembed`` manage the data."""
    from folio_memory.cli import run

    run(argv)
