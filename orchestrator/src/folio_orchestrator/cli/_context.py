"""What every ``folio`` command shares: settings, the fleet file, a fleet for the command's
duration, JSON output, and the one place where exceptions become messages and exit codes.

Exit codes: 0 success · 1 a server or tool failed (the message says which) · 2 usage, fleet
file or name errors.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from folio_core.settings import FolioSettings
    from folio_orchestrator.config import FleetConfig
    from folio_orchestrator.fleet import Fleet

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2
_DEFAULT_FLEET = Path("configs") / "fleet.json"  # config.DEFAULT_FLEET, without importing pydantic
_CHECKOUT_FLEET = Path(__file__).resolve().parents[4] / _DEFAULT_FLEET


def default_fleet() -> Path:
    """``configs/fleet.json`` in the working directory, else the one of this checkout."""
    if not _DEFAULT_FLEET.exists() and _CHECKOUT_FLEET.exists():
        return _CHECKOUT_FLEET
    return _DEFAULT_FLEET


@dataclass
class State:
    """What the ``folio`` group hands its commands. The settings (and the logging they configure)
    and the fleet file are read on first use, so ``folio CMD --help`` reads neither."""

    fleet_path: Path
    verbose: int = 0

    _settings: FolioSettings | None = field(default=None, repr=False)
    _config: FleetConfig | None = field(default=None, repr=False)

    @property
    def settings(self) -> FolioSettings:
        if self._settings is None:
            from folio_core.logging import configure_logging

            settings = settings_from_env()
            configure_logging(settings.model_copy(update={"log_level": cli_log_level(self.verbose)}))
            self._settings = settings
        return self._settings

    @property
    def config(self) -> FleetConfig:
        if self._config is None:
            from folio_orchestrator.config import load_fleet

            self._config = load_fleet(self.fleet_path)
        return self._config

    @asynccontextmanager
    async def fleet(self, start: Iterable[str] | None) -> AsyncIterator[Fleet]:
        """A fleet for one command: ``start`` these servers (``None``: every enabled one) and wait
        until each is ready or has failed."""
        from folio_orchestrator._spawn import prespawn

        config, settings = self.config, self.settings
        names = list(start) if start is not None else [s.name for s in config.enabled]
        # The servers start now and run their own start-up while this process loads the SDK.
        spawned = await prespawn(config, settings, names)
        try:
            from folio_orchestrator.cli._host import command_fleet

            quiet_sdk_deprecations()
            async with command_fleet(config, settings, names, spawned) as fleet:
                spawned = {}  # the fleet owns them now
                yield fleet
        finally:
            for process in spawned.values():  # not adopted (the SDK failed to load): do not leak them
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


def quiet_sdk_deprecations() -> None:
    """Folio relays sampling and handshake-era subscriptions on purpose (see DESIGN.md)."""
    import warnings

    from mcp.shared.exceptions import MCPDeprecationWarning

    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"folio: {message}", err=True)
    sys.exit(code)


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run one command's coroutine; turn Folio's errors into a message and an exit code."""
    import anyio

    from folio_orchestrator.errors import ConfigError, FolioHostError, RoutingError, ServerError

    try:
        return anyio.run(main)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    except RoutingError as exc:
        fail(str(exc), EXIT_USAGE)
    except ServerError as exc:
        fail(str(exc), EXIT_FAILED)
    except FolioHostError as exc:
        fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        fail("interrupted", 130)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def settings_from_env() -> FolioSettings:
    from pydantic import ValidationError

    from folio_core.settings import FolioSettings

    try:
        return FolioSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        fail(f"FOLIO_{where.upper()}: {error['msg']}", EXIT_USAGE)


def cli_log_level(verbose: int) -> str:
    if verbose >= 2:
        return "debug"
    if verbose == 1:
        return "info"
    return os.environ.get("FOLIO_LOG_LEVEL", "warning").lower()
