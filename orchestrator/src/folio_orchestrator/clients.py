"""Entries for MCP clients' own config files (``folio config claude|vscode|cursor``).

Each entry runs one server of the fleet on its own, the way the fleet runs it: the absolute
command resolved on this machine, its arguments, and its environment (for Folio servers, the
``FOLIO_*`` settings that differ from a server's defaults, plus the portfolio directory).
Secret-looking values are masked unless asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from folio_core.logging import redact
from folio_core.settings import FolioSettings
from folio_orchestrator.config import FleetConfig, ServerConfig, folio_environment, with_default_portfolio
from folio_orchestrator.errors import RoutingError

Client = Literal["claude", "vscode", "cursor"]
CLIENTS: tuple[Client, ...] = ("claude", "vscode", "cursor")
WHERE = {
    "claude": "Claude Desktop: claude_desktop_config.json (Settings → Developer → Edit Config)",
    "vscode": "VS Code: .vscode/mcp.json in a workspace, or the user mcp.json (MCP: Open User Configuration)",
    "cursor": "Cursor: ~/.cursor/mcp.json, or .cursor/mcp.json in a project",
}
_SECRET_SETTINGS = ("FOLIO_DATABASE_URL", "FOLIO_REDIS_URL")


@dataclass
class ClientConfig:
    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _folio_env(settings: FolioSettings) -> dict[str, str]:
    """The portfolio and data directories (a client may run with another working directory or
    user data directory: it would see no résumé, or another database), and the settings that
    differ from a server's defaults."""
    ours = folio_environment(settings)
    env = {key: ours[key] for key in ("FOLIO_PORTFOLIO_DIR", "FOLIO_DATA_DIR")}
    for name in (
        "audience",
        "embedder",
        "log_level",
        "database_url",
        "redis_url",
        "openai_base_url",
    ):
        key = f"FOLIO_{name.upper()}"
        default = FolioSettings.model_fields[name].get_default(call_default_factory=True)
        if isinstance(default, Path):
            default = default.expanduser().resolve()
        if key in ours and getattr(settings, name) != default:
            env[key] = ours[key]
    return env


def _entry(
    server: ServerConfig, settings: FolioSettings, client: Client, show_secrets: bool, notes: list[str]
) -> dict[str, Any]:
    env: dict[str, str] = _folio_env(settings) if server.is_folio_server else {}
    env.update(server.env)
    portfolio = env.get("FOLIO_PORTFOLIO_DIR")
    if portfolio is not None and not Path(portfolio).is_dir():
        notes.append(
            f"warning: {server.name}: FOLIO_PORTFOLIO_DIR={portfolio} does not exist, so the server will find "
            "no résumé there; set FOLIO_PORTFOLIO_DIR to your portfolio directory (the one with resume.json)"
        )
    if not show_secrets:
        masked = redact(env)
        for key in _SECRET_SETTINGS:
            if key in masked:
                masked[key] = "***"
        hidden = sorted(k for k in env if masked[k] != env[k])
        if hidden:
            notes.append(
                f"{server.name}: masked {', '.join(hidden)} (use --show-secrets to print the values)"
            )
        env = masked
    if not server.command_found:
        notes.append(f"{server.name}: {server.command_as_written!r} was not found on this machine")
    entry: dict[str, Any] = {}
    if client == "vscode":
        entry["type"] = "stdio"
    entry["command"] = server.command
    if server.args:
        entry["args"] = list(server.args)
    if env:
        entry["env"] = env
    if server.cwd is not None:
        if client == "vscode":
            entry["cwd"] = str(server.cwd)
        else:
            notes.append(
                f"{server.name}: this client has no working-directory setting; it runs in {server.cwd}"
            )
    return entry


def client_config(
    fleet: FleetConfig,
    settings: FolioSettings,
    client: Client,
    *,
    server: str | None = None,
    show_secrets: bool = False,
) -> ClientConfig:
    """The document to paste into ``client``'s config: every enabled server, or one."""
    if server is not None:
        if server not in fleet.servers:
            raise RoutingError(
                f"no server named {server!r} in {fleet.path} (servers: {', '.join(fleet.servers)})"
            )
        chosen: Mapping[str, ServerConfig] = {server: fleet.servers[server]}
    else:
        chosen = {s.name: s for s in fleet.enabled}
    settings = with_default_portfolio(settings, fleet)
    notes: list[str] = []
    entries = {name: _entry(s, settings, client, show_secrets, notes) for name, s in chosen.items()}
    key = "servers" if client == "vscode" else "mcpServers"
    notes.insert(0, f"paste into {WHERE[client]}")
    return ClientConfig({key: entries}, notes)
