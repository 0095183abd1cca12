"""Command line of ``folio-memory``: the stdio server by default, ``import-jsonl PATH`` to import a
memory file of ``@modelcontextprotocol/server-memory``, ``reembed`` after changing the embedder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from folio_core.process import start_process
from folio_core.settings import FolioSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="folio-memory",
        description="Long-term memory as an MCP server. With no command, serves MCP over stdio.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve MCP over stdio (the default)")
    imp = sub.add_parser(
        "import-jsonl",
        help="import a memory file (JSON lines) written by @modelcontextprotocol/server-memory",
    )
    imp.add_argument("path", type=Path, help="the reference server's memory.jsonl (MEMORY_FILE_PATH)")
    sub.add_parser("reembed", help="re-embed every stored text with the configured embedder (FOLIO_EMBEDDER)")
    return parser


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = start_process()
    if args.command == "import-jsonl":
        sys.exit(anyio.run(_import, settings, args.path))
    if args.command == "reembed":
        sys.exit(anyio.run(_reembed, settings))
    from folio_memory.server import build_server

    build_server(settings).mcp.run()


async def _import(settings: FolioSettings, path: Path) -> int:
    from folio_core.db import migrated_pool
    from folio_core.embeddings import EmbedderMismatchError, make_embedder
    from folio_memory.jsonl import JsonlError, read_jsonl
    from folio_memory.service import import_reference_graph
    from folio_memory.vectors import VectorSpace, claim_embedder, ensure_vector_indexes

    try:
        graph = read_jsonl(path.expanduser())
    except FileNotFoundError:
        sys.stderr.write(f"folio-memory: no such file: {path}\n")
        return 2
    except JsonlError as exc:
        sys.stderr.write(f"folio-memory: {exc}\n")
        return 1
    embedder = make_embedder(settings.embedder, openai_base_url=settings.openai_base_url)
    async with migrated_pool(settings, "folio_memory", max_size=2) as pool:
        try:
            async with pool.connection() as conn:
                await claim_embedder(conn, embedder)
                await ensure_vector_indexes(conn, VectorSpace.of(embedder))
        except EmbedderMismatchError as exc:
            sys.stderr.write(f"folio-memory: {exc}\n")
            return 1
        summary = await import_reference_graph(pool, embedder, graph)
    sys.stdout.write(
        f"{path}: {summary.entities_created} entities created, {summary.observations_added} observations "
        f"added to existing entities, {summary.relations_created} relations created "
        f"({len(graph.entities)} entities and {len(graph.relations)} relations in the file)\n"
    )
    return 0


async def _reembed(settings: FolioSettings) -> int:
    from folio_core.db import migrated_pool
    from folio_core.embeddings import make_embedder
    from folio_memory.store import MemoryStore

    embedder = make_embedder(settings.embedder, openai_base_url=settings.openai_base_url)
    async with migrated_pool(settings, "folio_memory", max_size=2) as pool:
        count = await MemoryStore(pool, embedder).reembed()
    sys.stdout.write(f"re-embedded {count} texts with {embedder.name}\n")
    return 0
