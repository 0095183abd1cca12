"""folio-orchestrator: the MCP host that runs Folio's fleet of servers, and the ``folio`` CLI.

The public surface: load a fleet file (:func:`load_fleet`), run it (:class:`Fleet`), call tools
by their routed names (:class:`Router`), and the errors they raise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from folio_orchestrator.config import FleetConfig, FolioOptions, ServerConfig, load_fleet
    from folio_orchestrator.errors import (
        CallTimeout,
        ConfigError,
        FolioHostError,
        RemoteError,
        RoutingError,
        ServerDied,
        ServerError,
        ServerUnavailable,
    )
    from folio_orchestrator.fleet import (
        ClientCallbacks,
        Fleet,
        FleetEvent,
        ServerState,
        ServerStatus,
        Supervisor,
    )
    from folio_orchestrator.routing import Route, Router

_EXPORTS = {
    "FleetConfig": "config",
    "FolioOptions": "config",
    "ServerConfig": "config",
    "load_fleet": "config",
    "CallTimeout": "errors",
    "ConfigError": "errors",
    "FolioHostError": "errors",
    "RemoteError": "errors",
    "RoutingError": "errors",
    "ServerDied": "errors",
    "ServerError": "errors",
    "ServerUnavailable": "errors",
    "ClientCallbacks": "fleet",
    "Fleet": "fleet",
    "FleetEvent": "fleet",
    "ServerState": "fleet",
    "ServerStatus": "fleet",
    "Supervisor": "fleet",
    "Route": "routing",
    "Router": "routing",
}

__all__ = [
    "CallTimeout",
    "ClientCallbacks",
    "ConfigError",
    "Fleet",
    "FleetConfig",
    "FleetEvent",
    "FolioHostError",
    "FolioOptions",
    "RemoteError",
    "Route",
    "Router",
    "RoutingError",
    "ServerConfig",
    "ServerDied",
    "ServerError",
    "ServerState",
    "ServerStatus",
    "ServerUnavailable",
    "Supervisor",
    "load_fleet",
    "main",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'folio_orchestrator' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"folio_orchestrator.{module}"), name)


def main(argv: list[str] | None = None) -> None:
    """The ``folio`` command."""
    from folio_orchestrator.cli import main as cli_main

    cli_main(argv)
