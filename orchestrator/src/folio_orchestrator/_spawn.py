"""Spawning a server process, without the MCP SDK.

A ``folio`` command starts its servers before it imports the SDK (most of its own start-up), so
that each server's start-up runs alongside. The environment is the SDK's minimal inherited one
(``mcp.client.stdio.get_default_environment`` on POSIX, which Folio runs on) plus the given one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.abc

from folio_core.settings import FolioSettings
from folio_orchestrator.config import FleetConfig, server_environment, with_default_portfolio

INHERITED = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")


@dataclass(frozen=True)
class ProcessSpec:
    """What to run. ``env`` is added to the SDK's minimal inherited environment (HOME, PATH, …)."""

    command: str
    args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None


def inherited_environment() -> dict[str, str]:
    return {k: v for k in INHERITED if (v := os.environ.get(k)) is not None and not v.startswith("()")}


async def open_server(spec: ProcessSpec) -> anyio.abc.Process:
    """Start the server in its own session and process group, with pipes for stdio."""
    return await anyio.open_process(
        [spec.command, *spec.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=inherited_environment() | dict(spec.env),
        cwd=spec.cwd,
        start_new_session=True,
    )


def fleet_specs(config: FleetConfig, settings: FolioSettings) -> dict[str, ProcessSpec]:
    """Each server's process, exactly as :class:`~folio_orchestrator.fleet.Fleet` runs it."""
    settings = with_default_portfolio(settings, config)
    return {
        name: ProcessSpec(server.command, server.args, server_environment(server, settings), server.cwd)
        for name, server in config.servers.items()
    }


async def prespawn(
    config: FleetConfig, settings: FolioSettings, names: Iterable[str]
) -> dict[str, anyio.abc.Process]:
    """Start these servers now; the fleet adopts them. One that cannot start is left to the fleet,
    which reports why."""
    specs = fleet_specs(config, settings)
    spawned: dict[str, anyio.abc.Process] = {}
    for name in names:
        server = config.servers[name]
        if not server.options.enabled or not server.command_found:
            continue
        try:
            spawned[name] = await open_server(specs[name])
        except OSError:
            continue
    return spawned
