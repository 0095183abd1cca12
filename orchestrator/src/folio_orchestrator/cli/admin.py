"""``folio doctor`` and ``folio config``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from folio_orchestrator.cli._context import EXIT_FAILED, State, echo_json, run

if TYPE_CHECKING:
    from folio_orchestrator.doctor import Check

CLIENTS = ("claude", "vscode", "cursor")  # clients.CLIENTS, without importing the fleet's modules

_MARK = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def doctor_command(state: State, as_json: bool) -> None:
    """Check Python, the database and pgvector, Redis, model keys, Node, and that each server starts."""
    from folio_orchestrator.cli._context import quiet_sdk_deprecations
    from folio_orchestrator.doctor import run_doctor

    quiet_sdk_deprecations()

    async def main() -> list[Check]:
        return await run_doctor(state.fleet_path, state.settings)

    checks = run(main)
    if as_json:
        echo_json([c.as_json() for c in checks])
    else:
        for check in checks:
            click.echo(f"{_MARK[check.status]} {check.name:<18} {check.detail}")
            if check.fix and check.status in ("fail", "warn"):
                click.echo(f"  {'':<18} fix: {check.fix}")
        failed = sum(c.status == "fail" for c in checks)
        click.echo(f"\n{failed} problem(s) found" if failed else "\neverything works")
    if any(c.status == "fail" for c in checks):
        raise SystemExit(EXIT_FAILED)


@click.command("config")
@click.argument("client", type=click.Choice(CLIENTS))
@click.option("--server", default=None, help="Only this server of the fleet.")
@click.option("--show-secrets", is_flag=True, help="Print secret values (database URL, keys) instead of ***.")
@click.pass_obj
def config_command(state: State, client: str, server: str | None, show_secrets: bool) -> None:
    """Print the fleet's servers as entries for CLIENT's config file, ready to paste."""
    from folio_orchestrator.clients import client_config

    async def main() -> Any:
        return client_config(state.config, state.settings, client, server=server, show_secrets=show_secrets)  # type: ignore[arg-type]

    result = run(main)
    for note in result.notes:
        click.echo(f"# {note}", err=True)
    echo_json(result.document)
