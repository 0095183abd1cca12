"""The ``folio`` command: one sub-command per noun, ``--json`` on every listing."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from folio_core.logging import configure_logging
from folio_orchestrator import __version__
from folio_orchestrator.cli._context import State, cli_log_level, default_fleet, settings_from_env
from folio_orchestrator.cli.admin import config_command, doctor_command
from folio_orchestrator.cli.chat import ask_command, chat_command, history_group, usage_command
from folio_orchestrator.cli.inspect import (
    call_command,
    prompt_command,
    prompts_command,
    read_command,
    resources_command,
    servers_command,
    tools_command,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--fleet",
    "fleet_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="FOLIO_FLEET",
    default=None,
    help="The fleet file [env FOLIO_FLEET; default: configs/fleet.json].",
)
@click.option("-v", "--verbose", count=True, help="Log more on stderr (-v info, -vv debug).")
@click.version_option(__version__, prog_name="folio")
@click.pass_context
def folio(ctx: click.Context, fleet_path: Path | None, verbose: int) -> None:
    """Folio's MCP host: run the fleet of servers, list and call what they offer, diagnose."""
    settings = settings_from_env()
    configure_logging(settings.model_copy(update={"log_level": cli_log_level(verbose)}))
    ctx.obj = State(fleet_path=fleet_path if fleet_path is not None else default_fleet(), settings=settings)


for command in (
    servers_command,
    tools_command,
    call_command,
    resources_command,
    read_command,
    prompts_command,
    prompt_command,
    doctor_command,
    config_command,
    chat_command,
    ask_command,
    history_group,
    usage_command,
):
    folio.add_command(command)


def main(argv: list[str] | None = None) -> None:
    # Folio relays sampling and handshake-era subscriptions on purpose (see DESIGN.md).
    from mcp.shared.exceptions import MCPDeprecationWarning

    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    folio.main(args=argv, prog_name="folio")
