"""Fixtures of the orchestrator's tests: test servers (real subprocesses), fleets, fleet files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import REPO_ROOT, SAMPLE_PORTFOLIO
from folio_orchestrator.config import FleetConfig, parse_fleet
from folio_orchestrator.history import PACKAGE, History

SERVERS = Path(__file__).resolve().parent / "servers"
EVERYTHING = REPO_ROOT / "tests" / "interop" / "node_modules" / ".bin" / "mcp-server-everything"
FOLIO = Path(sys.executable).parent / "folio"


class Peers:
    """Fleet entries for the servers the tests run."""

    servers_dir = SERVERS
    everything_path = EVERYTHING
    folio = FOLIO

    @staticmethod
    def script(name: str, **folio: Any) -> dict[str, Any]:
        """One of the test servers (tests/servers/<name>.py), run by this interpreter."""
        entry: dict[str, Any] = {"command": sys.executable, "args": [str(SERVERS / f"{name}.py")]}
        if folio:
            entry["folio"] = folio
        return entry

    @staticmethod
    def everything(**folio: Any) -> dict[str, Any]:
        """@modelcontextprotocol/server-everything (npm), over stdio."""
        entry: dict[str, Any] = {"command": str(EVERYTHING), "args": ["stdio"]}
        if folio:
            entry["folio"] = folio
        return entry

    @staticmethod
    def time(**folio: Any) -> dict[str, Any]:
        """mcp-server-time (PyPI)."""
        entry: dict[str, Any] = {"command": "mcp-server-time"}
        if folio:
            entry["folio"] = folio
        return entry

    @staticmethod
    def gone(pid: int) -> bool:
        """No live process with this id, and no process group led by it."""
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            pass
        else:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                state = "?"
            if state != "Z":  # a zombie is dead, only not reaped yet by whoever adopted it
                return False
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        return False


@pytest.fixture
def peers() -> type[Peers]:
    return Peers


@pytest.fixture
def settings(tmp_path: Path) -> FolioSettings:
    return FolioSettings(data_dir=tmp_path / "data", portfolio_dir=SAMPLE_PORTFOLIO, log_level="info")


@pytest.fixture
def fleet_config(tmp_path: Path) -> Callable[[dict[str, Any]], FleetConfig]:
    def make(servers: dict[str, Any]) -> FleetConfig:
        return parse_fleet({"mcpServers": servers}, tmp_path / "fleet.json")

    return make


@pytest.fixture
def fleet_file(tmp_path: Path) -> Callable[..., Path]:
    def write(servers: dict[str, Any], name: str = "fleet.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"mcpServers": servers}))
        return path

    return write


@pytest.fixture
def folio_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``folio`` command, with a private data directory, in ``tmp_path``
    (``env`` adds variables; a value of None removes one)."""

    def run(
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "FOLIO_DATA_DIR": str(tmp_path / "data"),
            "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO),
        }
        for key, value in (env or {}).items():  # None: leave the variable unset
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        return subprocess.run(
            [str(FOLIO), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
            input=input,
            timeout=timeout,
            check=False,
        )

    return run


__all__ = ["REPO_ROOT"]


@pytest.fixture
async def history(database_url: str) -> AsyncIterator[History]:
    """The host schema on a fresh database."""
    from folio_core.db import migrated_pool

    async with migrated_pool(FolioSettings(database_url=database_url), PACKAGE) as pool:
        yield History(pool)
