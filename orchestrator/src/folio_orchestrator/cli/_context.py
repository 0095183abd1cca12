"""What every ``folio`` command shares: settings, the fleet file, a fleet for the command's
duration, JSON output, and the one place where exceptions become messages and exit codes.

Exit codes: 0 success · 1 a server or tool failed (the message says which) · 2 usage, fleet
file or name errors.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import anyio
import click

from folio_core.settings import FolioSettings
from folio_orchestrator.config import DEFAULT_FLEET, FleetConfig, load_fleet
from folio_orchestrator.errors import ConfigError, FolioHostError, RoutingError, ServerError
from folio_orchestrator.fleet import Fleet

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2
_CHECKOUT_FLEET = Path(__file__).resolve().parents[4] / DEFAULT_FLEET


def default_fleet() -> Path:
    """``configs/fleet.json`` in the working directory, else the one of this checkout."""
    if not DEFAULT_FLEET.exists() and _CHECKOUT_FLEET.exists():
        return _CHECKOUT_FLEET
    return DEFAULT_FLEET


@dataclass
class State:
    fleet_path: Path
    settings: FolioSettings

    _config: FleetConfig | None = None

    @property
    def config(self) -> FleetConfig:
        if self._config is None:
            self._config = load_fleet(self.fleet_path)
        return self._config

    @asynccontextmanager
    async def fleet(self, start: Iterable[str] | None) -> AsyncIterator[Fleet]:
        """A fleet for one command: ``start`` these servers (``None``: every enabled one) and wait
        until each is ready or has failed."""
        from folio_orchestrator.chat import ChatHost, terminal_options

        config = self.config
        names = list(start) if start is not None else [s.name for s in config.enabled]
        # Servers may ask for an LLM sample or for the person's input while a command runs.
        host = ChatHost(config, self.settings, terminal_options(None))
        async with host.running(history=False, start=names):
            yield host.fleet


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"folio: {message}", err=True)
    sys.exit(code)


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run one command's coroutine; turn Folio's errors into a message and an exit code."""
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

    try:
        return FolioSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        fail(f"FOLIO_{field.upper()}: {error['msg']}", EXIT_USAGE)


def cli_log_level(verbose: int) -> str:
    if verbose >= 2:
        return "debug"
    if verbose == 1:
        return "info"
    return os.environ.get("FOLIO_LOG_LEVEL", "warning").lower()
