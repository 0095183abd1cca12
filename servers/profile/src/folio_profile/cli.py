"""Command line of ``folio-profile``: the stdio server by default, ``import PATH`` to load a résumé."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import NoReturn

import anyio

from folio_core.logging import configure_logging
from folio_core.settings import FolioSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="folio-profile",
        description="The owner's résumé as an MCP server. With no command, serves MCP over stdio.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve MCP over stdio (the default)")
    imp = sub.add_parser("import", help="import a JSON Resume file as a new version")
    imp.add_argument("path", type=Path, help="a JSON Resume file (resume.json)")
    return parser


def _terminate(signum: int, _frame: object) -> NoReturn:
    # Exit through the interpreter so atexit hooks (the embedded database handle) run.
    raise SystemExit(128 + signum)


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = FolioSettings()
    configure_logging(settings)
    signal.signal(signal.SIGTERM, _terminate)
    if args.command == "import":
        sys.exit(anyio.run(_import, settings, args.path))
    from folio_profile.server import build_server

    build_server(settings).mcp.run()


async def _import(settings: FolioSettings, path: Path) -> int:
    from folio_core.db import apply_migrations, open_pool, package_migrations, resolve_database_url
    from folio_core.embeddings import make_embedder
    from folio_profile.resume import ResumeInvalidError
    from folio_profile.store import ProfileStore

    out = sys.stdout
    url = await resolve_database_url(settings)
    pool = await open_pool(url, max_size=2)
    try:
        async with pool.connection() as conn:
            await apply_migrations(conn, "folio_profile", package_migrations("folio_profile"))
        store = ProfileStore(pool, make_embedder(settings.embedder, openai_base_url=settings.openai_base_url))
        try:
            outcome = await store.import_file(
                path.expanduser().resolve(), client="folio-profile import", force=True
            )
        except FileNotFoundError:
            sys.stderr.write(f"folio-profile: no such file: {path}\n")
            return 2
        except ResumeInvalidError as exc:
            sys.stderr.write(f"folio-profile: {path} is not a valid JSON Resume:\n{exc}\n")
            return 1
    finally:
        await pool.close()
    if outcome is None or not outcome.created:
        out.write(f"{path}: unchanged (the current version already has this content)\n")
    else:
        out.write(f"{path}: imported as version {outcome.version} ({len(outcome.changes)} values changed)\n")
    return 0
