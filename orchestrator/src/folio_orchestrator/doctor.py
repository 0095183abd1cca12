"""``folio doctor``: is everything Folio needs on this machine working? Each failure says the fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import anyio

from folio_core.settings import FolioSettings
from folio_orchestrator.config import FleetConfig, ServerConfig, load_fleet
from folio_orchestrator.errors import ConfigError, RemoteError, ServerError
from folio_orchestrator.fleet import Fleet, ServerState

Status = Literal["ok", "warn", "fail", "skip"]
MODEL_KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")
MIN_NODE = 18


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if (3, 11) <= sys.version_info[:2] <= (3, 12):
        return Check("python", "ok", f"{version} ({sys.executable})")
    return Check(
        "python",
        "fail",
        f"{version}: Folio supports Python 3.11 and 3.12 (the embedded PostgreSQL has wheels for those)",
        "install Python 3.12 (uv python install 3.12) and re-run make setup",
    )


async def _pgvector_on(url: str) -> str | None:
    """The available pgvector version on that server (None when it has none)."""
    from folio_core.db.pool import connect

    conn = await connect(url)
    try:
        row = await (
            await conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
        ).fetchone()
        return None if row is None else str(row["default_version"])
    finally:
        await conn.close()


@asynccontextmanager
async def held_database(settings: FolioSettings) -> AsyncIterator[Check]:
    """Check the database and pgvector; an embedded cluster stays up for the checks that follow."""
    from folio_core.db.embedded import EmbeddedDatabaseError, embedded_postgres
    from folio_core.db.pool import DatabaseError

    cluster = None
    try:
        if settings.database_url is not None:
            where = "FOLIO_DATABASE_URL"
            url = settings.database_url.get_secret_value()
        else:
            where = f"embedded PostgreSQL in {settings.data_dir}"
            cluster = embedded_postgres(settings.data_dir)
            url = await anyio.to_thread.run_sync(cluster.start)
        version = await _pgvector_on(url)
    except (EmbeddedDatabaseError, DatabaseError, OSError) as exc:
        fix = (
            "check that the server in FOLIO_DATABASE_URL is running and reachable, or unset it to use the "
            "embedded PostgreSQL"
            if settings.database_url is not None
            else "run `make clean-db` and retry; if it persists, set FOLIO_DATABASE_URL to a PostgreSQL "
            "server with pgvector"
        )
        yield Check("database", "fail", f"{where}: {str(exc).splitlines()[0]}", fix)
    else:
        if version is None:
            yield Check(
                "database",
                "fail",
                f"{where}: reachable, but the server has no pgvector extension",
                "install pgvector on that server (e.g. the pgvector/pgvector Docker image) "
                "or unset FOLIO_DATABASE_URL to use the embedded PostgreSQL, which includes it",
            )
        else:
            yield Check("database", "ok", f"{where}: reachable, pgvector {version} available")
    finally:
        if cluster is not None:
            await anyio.to_thread.run_sync(cluster.release)


async def check_redis(settings: FolioSettings) -> Check:
    if settings.redis_url is None:
        return Check("redis", "skip", "not configured: caches live in each process's memory")
    import redis.asyncio as redis

    client: Any = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        return Check(
            "redis",
            "fail",
            f"FOLIO_REDIS_URL: {type(exc).__name__}: {exc}",
            "start Redis, fix FOLIO_REDIS_URL, or unset it to cache in process memory",
        )
    finally:
        await client.aclose()
    return Check("redis", "ok", "FOLIO_REDIS_URL answers PING")


def check_model_keys(settings: FolioSettings, environ: Mapping[str, str]) -> Check:
    present = [k for k in MODEL_KEYS if environ.get(k)]
    if settings.embedder.startswith("openai:") and "OPENAI_API_KEY" not in present:
        return Check(
            "model keys",
            "fail",
            f"FOLIO_EMBEDDER={settings.embedder} needs OPENAI_API_KEY, which is not set",
            "export OPENAI_API_KEY=… or set FOLIO_EMBEDDER=local",
        )
    if not present:
        if environ.get("FOLIO_MODEL"):
            return Check("model keys", "ok", f"no API key set; FOLIO_MODEL={environ['FOLIO_MODEL']}")
        return Check(
            "model keys",
            "warn",
            "neither ANTHROPIC_API_KEY nor OPENAI_API_KEY is set (the chat needs a model; tools work without)",
            "export ANTHROPIC_API_KEY=… (or OPENAI_API_KEY=…); or a local OpenAI-compatible server, "
            "no key needed: export FOLIO_MODEL=openai:llama3.1@http://localhost:11434/v1 (Ollama, vLLM, "
            "LM Studio …); or try the chat offline with `folio chat --model test`",
        )
    return Check("model keys", "ok", f"{', '.join(present)} set")


def uses_node(server: ServerConfig) -> bool:
    """npx/node/npm commands, and scripts whose shebang runs node (node_modules/.bin/…)."""
    name = Path(server.command).name
    if name in ("node", "npx", "npm", "pnpm", "yarn", "bunx"):
        return True
    try:
        with Path(server.command).open("rb") as fh:
            first = fh.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"node" in first


def check_node(fleet: FleetConfig) -> Check:
    users = [s.name for s in fleet.enabled if uses_node(s)]
    if not users:
        return Check("node", "skip", "no npm-based server in the fleet")
    fix = f"install Node.js {MIN_NODE + 2}+ (https://nodejs.org) so that `node` is on PATH"
    try:
        out = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return Check("node", "fail", f"`node` is not runnable; needed by {', '.join(users)}", fix)
    match = re.match(r"v(\d+)", out.strip())
    if match is None or int(match.group(1)) < MIN_NODE:
        return Check("node", "fail", f"node {out.strip()} is too old for {', '.join(users)}", fix)
    return Check("node", "ok", f"node {out.strip()} for {', '.join(users)}")


def _server_fix(server: ServerConfig, reason: str) -> str:
    command = " ".join([server.command, *server.args])
    if not server.command_found or "command not found" in reason:
        return (
            f"install {server.command_as_written!r} (make setup installs Folio's servers and the npm peers) "
            f"or fix 'command' of {server.name!r} in the fleet file"
        )
    if "did not become ready" in reason:
        return f'raise "folio": {{"start_timeout": …}} for {server.name!r}, or run `{command}` by hand to see why'
    return f'run `{command}` by hand to see the error, or disable it with "folio": {{"enabled": false}}'


_NOT_STARTED = ("Folio could not start", "Folio is still starting", "runtime is unavailable")


async def _serving(fleet: Fleet, server: ServerConfig) -> str | None:
    """Why a ready Folio server cannot serve its tools (None: it can).

    Answering the handshake and the listings proves little: a Folio server does its real
    start-up (database, migrations, portfolio) afterwards. Reading its first resource waits for
    that start-up and reports how it went.
    """
    supervisor = fleet.supervisor(server.name)
    if not server.is_folio_server or not supervisor.resources:
        return None
    uri = sorted(r.uri for r in supervisor.resources)[0]
    try:
        await fleet.read_resource(uri, server=server.name)
    except RemoteError as exc:
        if any(marker in exc.remote_message for marker in _NOT_STARTED):
            return exc.remote_message
    except ServerError as exc:
        return str(exc)
    return None


async def check_servers(fleet_config: FleetConfig, settings: FolioSettings) -> list[Check]:
    enabled = fleet_config.enabled
    if not enabled:
        return [
            Check("servers", "warn", "no enabled server in the fleet file", "enable one in the fleet file")
        ]
    names = [s.name for s in enabled]
    timeout = max(s.options.start_timeout for s in enabled) + 10
    checks = []
    async with Fleet(fleet_config, settings, start=names) as fleet:
        await fleet.wait_settled(names, timeout=timeout)
        unable: dict[str, str | None] = {}

        async def probe(server: ServerConfig) -> None:
            unable[server.name] = await _serving(fleet, server)

        async with anyio.create_task_group() as tg:
            for server in enabled:
                if fleet.supervisor(server.name).state == ServerState.READY:
                    tg.start_soon(probe, server)
        for status in fleet.status():
            server = fleet_config.servers[status.name]
            label = f"server {status.name}"
            if status.state == ServerState.DISABLED:
                checks.append(
                    Check(
                        label,
                        "skip",
                        "disabled in the fleet file" + (f": {status.reason}" if status.reason else ""),
                    )
                )
            elif status.state == ServerState.READY and unable.get(status.name):
                checks.append(
                    Check(
                        label,
                        "fail",
                        f"answers MCP but cannot serve its tools: {unable[status.name]}",
                        "fix the database check above (FOLIO_DATABASE_URL), or run "
                        f"`{' '.join([server.command, *server.args])}` with FOLIO_LOG_LEVEL=debug to see why",
                    )
                )
            elif status.state == ServerState.READY:
                era = (
                    status.protocol_version
                    if status.era == status.protocol_version
                    else f"{status.era} era ({status.protocol_version})"
                )
                detail = (
                    f"{era}, {status.tools} tools, "
                    f"{status.resources + status.templates} resources, {status.prompts} prompts"
                )
                checks.append(Check(label, "ok", detail))
            else:
                reason = status.reason or status.state.value
                tail = "".join(f"\n    | {line}" for line in status.stderr_tail[-5:])
                checks.append(Check(label, "fail", f"{reason}{tail}", _server_fix(server, reason)))
    return checks


MIN_GIT = (2, 24)
"""folio-projects passes --end-of-options before every revision (git 2.24 and later)."""


def check_git(fleet: FleetConfig, git: str = "git") -> Check:
    users = [s.name for s in fleet.enabled if Path(s.command).name == "folio-projects"]
    if not users:
        return Check("git", "skip", "no folio-projects server in the fleet")
    fix = f"install git {MIN_GIT[0]}.{MIN_GIT[1]} or later so that `git` is on PATH"
    try:
        out = subprocess.run(
            [git, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return Check("git", "fail", f"`git` is not runnable; needed by {', '.join(users)}", fix)
    match = re.search(r"(\d+)\.(\d+)", out)
    if match is None or (int(match.group(1)), int(match.group(2))) < MIN_GIT:
        return Check("git", "fail", f"{out.strip()} is too old for {', '.join(users)}", fix)
    return Check("git", "ok", f"{out.strip()} for {', '.join(users)}")


async def run_doctor(
    fleet_path: Path, settings: FolioSettings, environ: Mapping[str, str] | None = None
) -> list[Check]:
    env = os.environ if environ is None else environ
    checks = [check_python()]
    fleet: FleetConfig | None
    try:
        fleet = load_fleet(fleet_path, env)
    except ConfigError as exc:
        checks.append(
            Check("fleet file", "fail", str(exc), "fix the field named above (see orchestrator/README.md)")
        )
        fleet = None
    else:
        enabled = len(fleet.enabled)
        checks.append(
            Check("fleet file", "ok", f"{fleet.path}: {len(fleet.servers)} servers, {enabled} enabled")
        )
    async with held_database(settings) as database:
        checks.append(database)
        checks.append(await check_redis(settings))
        checks.append(check_model_keys(settings, env))
        if fleet is not None:
            checks.append(check_node(fleet))
            checks.append(check_git(fleet))
            checks.extend(await check_servers(fleet, settings))
    return checks
