"""Command line of ``folio-memory``: the stdio server by default, ``import-jsonl PATH`` to import a
memory file of ``@modelcontextprotocol/server-memory``, ``reembed`` after changing the embedder."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import anyio

from folio_core.logging import configure_logging
from folio_core.settings import FolioSettings

if TYPE_CHECKING:
    from folio_core.db import Pool


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


def _terminate(signum: int, _frame: object) -> NoReturn:
    # Exit through the interpreter so atexit hooks (the embedded database handle) run.
    raise SystemExit(128 + signum)


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = FolioSettings()
    configure_logging(settings)
    signal.signal(signal.SIGTERM, _terminate)
    if args.command == "import-jsonl":
        sys.exit(anyio.run(_import, settings, args.path))
    if args.command == "reembed":
        sys.exit(anyio.run(_reembed, settings))
    from folio_memory.server import build_server

    build_server(settings).mcp.run()


@asynccontextmanager
async def _pool(settings: FolioSettings) -> AsyncIterator[Pool]:
    from folio_core.db import apply_migrations, open_pool, package_migrations, resolve_database_url

    pool = await open_pool(await resolve_database_url(settings), max_size=2)
    try:
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_memory", package_migrations("folio_memory"))
        yield pool
    finally:
        await pool.close()


async def _import(settings: FolioSettings, path: Path) -> int:
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
    async with _pool(settings) as pool:
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
    from folio_core.embeddings import make_embedder
    from folio_memory.store import MemoryStore

    embedder = make_embedder(settings.embedder, openai_base_url=settings.openai_base_url)
    async with _pool(settings) as pool:
        count = await MemoryStore(pool, embedder).reembed()
    sys.stdout.write(f"re-embedded {count} texts with {embedder.name}\n")
    return 0
