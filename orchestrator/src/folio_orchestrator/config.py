"""The fleet file: which servers to run, how, and with which environment.

Three shapes are read, so a user can point ``folio`` at the file their MCP client already uses:

* Claude Desktop and Cursor: ``{"mcpServers": {name: {command, args, env, cwd}}}`` (Cursor adds
  ``type`` and ``envFile``);
* VS Code: ``{"servers": {name: {type: "stdio", command, args, env, envFile, cwd}}, "inputs": …}``.

Folio's own per-server settings sit under a ``folio`` key of the entry (see :class:`FolioOptions`);
MCP clients ignore it. Strings in ``command``, ``args``, ``env``, ``cwd`` and ``envFile`` expand
``${VAR}``, ``${VAR:-default}``, ``${env:VAR}``, ``${userHome}`` and ``${workspaceFolder}``.

A bare ``command`` (no slash) is looked up in the orchestrator's own environment's script
directory first (the virtualenv's ``bin/``, where ``folio-profile`` and ``mcp-server-time`` live),
then on ``PATH``; a relative path is relative to the fleet file's directory. The resolved absolute
path is what the fleet spawns and what ``folio config`` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from folio_core.settings import FolioSettings
from folio_orchestrator.errors import ConfigError

ConnectMode = Literal["auto", "legacy", "2026-07-28"]
SamplingPolicy = Literal["auto", "ask", "deny"]
Shape = Literal["claude", "vscode", "cursor"]

FLEET_ENV_VAR = "FOLIO_FLEET"
DEFAULT_FLEET = Path("configs") / "fleet.json"


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RestartPolicy(_Options):
    """Restart with exponential backoff; stop after ``max_deaths`` deaths within ``window`` seconds."""

    max_deaths: int = Field(default=5, ge=1, description="deaths within the window that make a crash loop")
    window: float = Field(default=60.0, gt=0, description="seconds over which deaths are counted")
    backoff_initial: float = Field(default=0.1, ge=0, description="delay before the first restart (s)")
    backoff_max: float = Field(default=30.0, ge=0, description="longest delay between restarts (s)")


class SamplingBudget(_Options):
    """Tokens one server may spend through sampling (``None``: unlimited); see ``budget.Budget``."""

    tokens_per_request: int | None = Field(default=None, ge=1)
    tokens_per_hour: int | None = Field(default=None, ge=1)


class SamplingOptions(_Options):
    """How the relay answers this server's sampling requests (used by the chat)."""

    policy: SamplingPolicy = "ask"
    budget: SamplingBudget = SamplingBudget()


class FolioOptions(_Options):
    """The ``folio`` key of a fleet entry."""

    enabled: bool = True
    lazy: bool = Field(default=False, description="start on first use instead of with the fleet")
    timeout: float = Field(default=60.0, gt=0, description="per-request timeout (s)")
    start_timeout: float = Field(default=30.0, gt=0, description="spawn → ready, handshake and listings (s)")
    mode: ConnectMode = Field(
        default="auto", description="auto: discover 2026-07-28, else handshake; legacy: handshake only"
    )
    folio_settings: bool | None = Field(
        default=None,
        description="pass the orchestrator's FOLIO_* settings; default: when the command is a folio-* program",
    )
    restart: RestartPolicy = RestartPolicy()
    sampling: SamplingOptions = SamplingOptions()
    note: str | None = None


@dataclass(frozen=True)
class ServerConfig:
    """One server of the fleet, validated, expanded and with its command resolved."""

    name: str
    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    options: FolioOptions = field(default_factory=FolioOptions)
    command_as_written: str = ""
    command_found: bool = True

    @property
    def is_folio_server(self) -> bool:
        if self.options.folio_settings is not None:
            return self.options.folio_settings
        return Path(self.command_as_written or self.command).name.startswith("folio-")


@dataclass(frozen=True)
class FleetConfig:
    """The whole fleet file. ``servers`` keeps the file's order."""

    path: Path
    shape: Shape
    servers: Mapping[str, ServerConfig]

    @property
    def enabled(self) -> list[ServerConfig]:
        return [s for s in self.servers.values() if s.options.enabled]


# --- expansion ---------------------------------------------------------------------------------

_VAR = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _ExpansionError(ValueError):
    pass


def expand(value: str, environ: Mapping[str, str], *, workspace: Path) -> str:
    """Expand ``${VAR}``, ``${VAR:-default}``, ``${env:VAR}``, ``${userHome}``, ``${workspaceFolder}``."""

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "userHome":
            return str(Path.home())
        if body == "workspaceFolder":
            return str(workspace)
        name, sep, default = body.partition(":-")
        if name.startswith("env:"):
            name = name[4:]
        if not _NAME.match(name):
            raise _ExpansionError(
                f"cannot expand {match.group(0)}: write ${{VAR}}, ${{VAR:-default}} or ${{env:VAR}}"
            )
        found = environ.get(name)
        if found:
            return found
        if sep:
            return default
        if found is not None:  # set but empty
            return found
        raise _ExpansionError(f"{match.group(0)} is not set (set {name}, or write ${{{name}:-default}})")

    return _VAR.sub(one, value)


# --- commands ----------------------------------------------------------------------------------


def scripts_dir() -> Path:
    """The ``bin/`` of the environment the orchestrator runs in (a virtualenv's, usually)."""
    return Path(sysconfig.get_path("scripts"))


def resolve_command(command: str, base_dir: Path, environ: Mapping[str, str]) -> tuple[str, bool]:
    """The absolute path of ``command`` and whether it exists (see the module docstring)."""
    if "/" in command:
        path = Path(command).expanduser()
        if not path.is_absolute():
            path = (base_dir / path).resolve()
        return str(path), path.is_file() and os.access(path, os.X_OK)
    local = scripts_dir() / command
    if local.is_file() and os.access(local, os.X_OK):
        return str(local), True
    found = shutil.which(command, path=environ.get("PATH", os.defpath))
    if found is not None:
        return str(Path(found).absolute()), True
    return command, False


# --- parsing -----------------------------------------------------------------------------------


def _workspace_of(path: Path) -> Path:
    parent = path.parent
    return parent.parent if parent.name in (".vscode", ".cursor") else parent


def _read_env_file(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


class _EntryParser:
    def __init__(self, path: Path, name: str, environ: Mapping[str, str]) -> None:
        self.path = path
        self.name = name
        self.environ = environ
        self.workspace = _workspace_of(path)

    def fail(self, field: str | None, message: str) -> ConfigError:
        return ConfigError(self.path, message, server=self.name, field=field)

    def string(self, entry: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
        value = entry.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is required (the program that runs the server)")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"must be a non-empty string, not {json.dumps(value)}")
        return self.expand(key, value)

    def expand(self, field: str, value: str) -> str:
        try:
            return expand(value, self.environ, workspace=self.workspace)
        except _ExpansionError as exc:
            raise self.fail(field, str(exc)) from None

    def parse(self, entry: object, shape: Shape) -> ServerConfig:
        if not isinstance(entry, dict):
            raise self.fail(None, f"must be an object with a 'command', not {type(entry).__name__}")
        options = self.options(entry.get("folio"))
        kind = entry.get("type", "stdio")
        if kind != "stdio" or "url" in entry:
            if not options.enabled:
                return ServerConfig(self.name, command="", options=options, command_found=False)
            raise self.fail(
                "type" if kind != "stdio" else "url",
                "only stdio servers are supported (this entry is a remote server); "
                'disable it with "folio": {"enabled": false}',
            )
        command = self.string(entry, "command", required=True)
        assert command is not None
        args_raw = entry.get("args", [])
        if not isinstance(args_raw, list) or not all(isinstance(a, str) for a in args_raw):
            raise self.fail("args", f"must be a list of strings, not {json.dumps(args_raw)}")
        args = tuple(self.expand(f"args[{i}]", a) for i, a in enumerate(args_raw))
        env: dict[str, str] = {}
        env_file = self.string(entry, "envFile")
        if env_file is not None:
            env_path = Path(env_file).expanduser()
            if not env_path.is_absolute():
                env_path = self.path.parent / env_path
            if not env_path.is_file():
                raise self.fail("envFile", f"no such file: {env_path}")
            env.update(_read_env_file(env_path))
        env_raw = entry.get("env", {})
        if not isinstance(env_raw, dict):
            raise self.fail("env", f"must be an object of strings, not {json.dumps(env_raw)}")
        for key, value in env_raw.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise self.fail(f"env.{key}", f"must be a string, not {json.dumps(value)}")
            env[key] = self.expand(f"env.{key}", str(value))
        cwd_raw = self.string(entry, "cwd")
        cwd = None
        if cwd_raw is not None:
            cwd = Path(cwd_raw).expanduser()
            if not cwd.is_absolute():
                cwd = (self.path.parent / cwd).resolve()
            if options.enabled and not cwd.is_dir():
                raise self.fail("cwd", f"no such directory: {cwd}")
        base = cwd if cwd is not None else self.path.parent
        resolved, found = resolve_command(command, base, self.environ)
        return ServerConfig(
            name=self.name,
            command=resolved,
            args=args,
            env=env,
            cwd=cwd,
            options=options,
            command_as_written=command,
            command_found=found,
        )

    def options(self, raw: object) -> FolioOptions:
        if raw is None:
            return FolioOptions()
        if not isinstance(raw, dict):
            raise self.fail("folio", f"must be an object, not {json.dumps(raw)}")
        try:
            return FolioOptions.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in ("folio", *error["loc"]))
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown setting (known: {', '.join(_known_fields(error['loc']))})"
            raise self.fail(where, message) from None


def _known_fields(loc: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = FolioOptions
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return list(model.model_fields)


def parse_fleet(data: object, path: Path, environ: Mapping[str, str] | None = None) -> FleetConfig:
    """Validate the decoded JSON of a fleet file (``path`` is for messages and relative paths)."""
    env = os.environ if environ is None else environ
    if not isinstance(data, dict):
        raise ConfigError(path, "must be a JSON object with an 'mcpServers' (or VS Code 'servers') object")
    if "mcpServers" in data and "servers" in data:
        raise ConfigError(path, "has both 'mcpServers' and 'servers': keep one", field="servers")
    shape: Shape
    if "mcpServers" in data:
        key = "mcpServers"
        entries = data["mcpServers"]
        shape = "cursor" if path.parent.name == ".cursor" else "claude"
    elif "servers" in data:
        key, entries, shape = "servers", data["servers"], "vscode"
    else:
        raise ConfigError(path, "has no 'mcpServers' object (Claude Desktop, Cursor) or 'servers' (VS Code)")
    if not isinstance(entries, dict):
        raise ConfigError(path, "must be an object mapping server names to entries", field=key)
    servers: dict[str, ServerConfig] = {}
    for name, entry in entries.items():
        if not name.strip():
            raise ConfigError(path, "server names must not be empty", field=key)
        servers[name] = _EntryParser(path, name, env).parse(entry, shape)
    return FleetConfig(path=path, shape=shape, servers=servers)


def load_fleet(path: Path, environ: Mapping[str, str] | None = None) -> FleetConfig:
    """Read and validate a fleet file; :class:`ConfigError` names what is wrong and where."""
    path = path.expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "no such fleet file (choose one with --fleet or FOLIO_FLEET)") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read the fleet file: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            path, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return parse_fleet(data, path, environ)


def default_fleet_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$FOLIO_FLEET``, else ``configs/fleet.json`` in the working directory."""
    env = os.environ if environ is None else environ
    chosen = env.get(FLEET_ENV_VAR)
    return Path(chosen) if chosen else DEFAULT_FLEET


# --- environments ------------------------------------------------------------------------------

_PASSED_THROUGH = ("OPENAI_API_KEY",)

# How a program on this machine reaches the network: trusted CA bundles (a TLS-inspecting proxy),
# proxies, and private package indexes (uvx, npx and pip fetch packages at start-up). Every
# server gets these from the orchestrator's environment, as it would in the user's shell; the
# SDK's minimal environment (HOME, PATH, SHELL, TERM, USER, LOGNAME) has none of them.
NETWORK_VARIABLES = tuple(
    name
    for base in (
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_TRUSTED_HOST",
        "PIP_CERT",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "UV_NATIVE_TLS",
        "UV_INSECURE_HOST",
        "NPM_CONFIG_REGISTRY",
        "NPM_CONFIG_CAFILE",
    )
    for name in (base, base.lower())
)


def network_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of :data:`NETWORK_VARIABLES` that are set in ``environ``."""
    return {name: environ[name] for name in NETWORK_VARIABLES if environ.get(name)}


def folio_environment(settings: FolioSettings) -> dict[str, str]:
    """The ``FOLIO_*`` variables a Folio server needs to see what the orchestrator sees."""
    env = {
        "FOLIO_DATA_DIR": str(settings.data_dir),
        "FOLIO_PORTFOLIO_DIR": str(settings.portfolio_dir),
        "FOLIO_AUDIENCE": settings.audience,
        "FOLIO_EMBEDDER": settings.embedder,
        "FOLIO_LOG_LEVEL": settings.log_level,
        "FOLIO_LOG_FORMAT": "json",  # stderr is a pipe; the orchestrator shows its lines
    }
    if settings.database_url is not None:
        env["FOLIO_DATABASE_URL"] = settings.database_url.get_secret_value()
    if settings.redis_url is not None:
        env["FOLIO_REDIS_URL"] = settings.redis_url.get_secret_value()
    if settings.openai_base_url is not None:
        env["FOLIO_OPENAI_BASE_URL"] = settings.openai_base_url
    return env


def with_default_portfolio(settings: FolioSettings, fleet: FleetConfig) -> FolioSettings:
    """The settings, with the ``portfolio`` directory beside the fleet file as the portfolio when
    ``FOLIO_PORTFOLIO_DIR`` is unset and the working directory has no ``configs/portfolio`` (so
    the checkout's fleet file, run from elsewhere, brings the checkout's sample portfolio)."""
    if "portfolio_dir" in settings.model_fields_set or settings.portfolio_dir.is_dir():
        return settings
    beside = fleet.path.parent / "portfolio"
    if not beside.is_dir():
        return settings
    return settings.model_copy(update={"portfolio_dir": beside.resolve()})


def server_environment(
    server: ServerConfig, settings: FolioSettings, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What the server process gets on top of the SDK's minimal environment (HOME, PATH, …).

    Every server gets the network variables of the orchestrator's environment (CA bundles,
    proxies, package indexes: :data:`NETWORK_VARIABLES`); Folio servers also get the
    orchestrator's settings (and the OpenAI key when the embedder needs it), and no other
    server sees those. What the entry lists wins.
    """
    outer = os.environ if environ is None else environ
    env = network_environment(outer)
    if server.is_folio_server:
        env.update(folio_environment(settings))
        if settings.embedder.startswith("openai:"):
            env.update({k: outer[k] for k in _PASSED_THROUGH if k in outer})
    env.update(server.env)
    return env
