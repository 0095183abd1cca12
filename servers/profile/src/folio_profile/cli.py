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
    imp = sub.add_parser(
        "import",
        help="import a JSON Resume file as a new version",
        description="Import a JSON Resume file as a new version. When the file would remove or empty "
        "information in the current résumé, the changes are listed and you are asked to confirm "
        "(without a terminal, the import is refused unless --yes is given).",
    )
    imp.add_argument("path", type=Path, help="a JSON Resume file (resume.json)")
    imp.add_argument(
        "-y", "--yes", action="store_true", help="import even if information is lost, without asking"
    )
    return parser


def run(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = start_process()
    if args.command == "import":
        sys.exit(anyio.run(_import, settings, args.path, args.yes))
    from folio_profile.server import build_server

    build_server(settings).mcp.run()


def _confirm(question: str) -> bool:
    """Ask on the terminal (the question on stderr: stdout is for results); True for y/yes."""
    sys.stderr.write(question)
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


async def _import(settings: FolioSettings, path: Path, yes: bool) -> int:
    from folio_core.db import migrated_pool
    from folio_core.embeddings import make_embedder
    from folio_profile.errors import ConcurrentWriteError
    from folio_profile.patch import destructive_changes, summarise_changes
    from folio_profile.resume import ResumeInvalidError
    from folio_profile.store import ProfileStore

    async with migrated_pool(settings, "folio_profile", max_size=2) as pool:
        store = ProfileStore(pool, make_embedder(settings.embedder, openai_base_url=settings.openai_base_url))
        try:
            plan = await store.plan_import(path)
        except FileNotFoundError:
            sys.stderr.write(f"folio-profile: no such file: {path}\n")
            return 2
        except ResumeInvalidError as exc:
            sys.stderr.write(f"folio-profile: {exc}\n")
            return 1
        lost = destructive_changes(plan.changes)
        if lost and not yes:
            what = (
                f"folio-profile: importing {path} removes or empties information in the current résumé "
                f"(version {plan.base_version}):\n{summarise_changes(lost)}\n"
            )
            if not sys.stdin.isatty():
                sys.stderr.write(f"{what}Nothing was imported. Pass --yes to import it anyway.\n")
                return 1
            if not await anyio.to_thread.run_sync(_confirm, f"{what}Import it anyway? [y/N] "):
                sys.stderr.write("folio-profile: nothing was imported\n")
                return 1
        try:
            outcome = await store.apply_import(plan, client="folio-profile import")
        except (ResumeInvalidError, ConcurrentWriteError) as exc:
            sys.stderr.write(f"folio-profile: {exc}\n")
            return 1
    if not outcome.created:
        sys.stdout.write(f"{path}: unchanged (the current version already has this content)\n")
    else:
        sys.stdout.write(
            f"{path}: imported as version {outcome.version} ({len(outcome.changes)} values changed)\n"
        )
    return 0
