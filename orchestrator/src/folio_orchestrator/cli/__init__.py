"""The ``folio`` command: one sub-command per noun, ``--json`` on every listing.

Each sub-command's module is imported when that command runs, not before: ``folio --version``
and ``folio --help`` import click and nothing else, and ``folio call`` never loads the chat's
language-model adapters.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from folio_orchestrator import __version__
from folio_orchestrator.cli._context import State, default_fleet, quiet_sdk_deprecations

# name → (module, attribute, the command's short help for ``folio --help``; a test keeps it in
# step with the command's docstring)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ask": ("chat", "ask_command", "Ask one question (one turn, for scripts)."),
    "call": (
        "inspect",
        "call_command",
        "Call the tool NAME with ARGUMENTS, a JSON object ('-' reads it from stdin).",
    ),
    "chat": (
        "chat",
        "chat_command",
        "Talk with the owner's digital twin, with the whole fleet as its tools.",
    ),
    "config": (
        "admin",
        "config_command",
        "Print the fleet's servers as entries for CLIENT's config file, ready to paste.",
    ),
    "doctor": (
        "admin",
        "doctor_command",
        "Check Python, the database and pgvector, Redis, model keys, Node, and that each server starts.",
    ),
    "history": ("chat", "history_group", "Past conversations: list, show, resume."),
    "prompt": ("inspect", "prompt_command", "Render the prompt NAME with key=value ARGUMENTS."),
    "prompts": (
        "inspect",
        "prompts_command",
        "List the prompts of the fleet, by exposed name (<server>__<prompt>).",
    ),
    "read": (
        "inspect",
        "read_command",
        "Read the resource URI (the server is found from the URI; --server to choose).",
    ),
    "resources": (
        "inspect",
        "resources_command",
        "List the resources and resource templates of the fleet, by server.",
    ),
    "serve": (
        "serve",
        "serve_command",
        "Serve the chat page, the HTTP API (/api/v1) and the MCP gateway (/mcp) over HTTP.",
    ),
    "servers": ("inspect", "servers_command", "Start every enabled server and show how each one is doing."),
    "tokens": (
        "serve",
        "tokens_group",
        "Bearer tokens for the owner's API, gateway and page: create, list, revoke.",
    ),
    "tools": (
        "inspect",
        "tools_command",
        "List the tools of the fleet, by the names the fleet exposes (<server>__<tool>).",
    ),
    "usage": (
        "chat",
        "usage_command",
        "Model tokens and estimated cost, by model, by requesting server and by day.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; ``--help`` lists them from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, attribute, _ = found
        command: click.Command = getattr(
            importlib.import_module(f"folio_orchestrator.cli.{module}"), attribute
        )
        if "mcp" in sys.modules:  # the chat's commands load the SDK with their module
            quiet_sdk_deprecations()
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # as click lays it out, from the table instead of the imported commands
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit))
            for name in sorted(COMMANDS)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    # The settings (and the logging they configure) are read when a command first needs them.
    ctx.obj = State(fleet_path=fleet_path if fleet_path is not None else default_fleet(), verbose=verbose)


def main(argv: list[str] | None = None) -> None:
    folio.main(args=argv, prog_name="folio")
