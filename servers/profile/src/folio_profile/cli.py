"""Command line of ``folio-profile``: the stdio server by default, ``import PATH`` to load a résumé."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from folio_core.process import start_process
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


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = start_process()
    if args.command == "import":
        sys.exit(anyio.run(_import, settings, args.path))
    from folio_profile.server import build_server

    build_server(settings).mcp.run()


async def _import(settings: FolioSettings, path: Path) -> int:
    from folio_core.db import migrated_pool
    from folio_core.embeddings import make_embedder
    from folio_profile.resume import ResumeInvalidError
    from folio_profile.store import ProfileStore

    async with migrated_pool(settings, "folio_profile", max_size=2) as pool:
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
    if outcome is None or not outcome.created:
        sys.stdout.write(f"{path}: unchanged (the current version already has this content)\n")
    else:
        sys.stdout.write(
            f"{path}: imported as version {outcome.version} ({len(outcome.changes)} values changed)\n"
        )
    return 0
