"""The fleet file: its three shapes, expansion, command resolution, environments, and errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import REPO_ROOT
from folio_orchestrator.config import (
    expand,
    load_fleet,
    parse_fleet,
    resolve_command,
    scripts_dir,
    server_environment,
)
from folio_orchestrator.errors import ConfigError

BIN = Path(sys.executable).parent


def write(tmp_path: Path, data: Any, name: str = "fleet.json") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_claude_desktop_shape_keeps_order_and_resolves_venv_commands(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "mcpServers": {
                "time": {"command": "mcp-server-time", "args": ["--local-timezone", "UTC"]},
                "profile": {"command": "folio-profile", "env": {"FOLIO_AUDIENCE": "public"}},
            }
        },
    )
    fleet = load_fleet(path, environ={"PATH": "/usr/bin:/bin"})
    assert fleet.shape == "claude"
    assert list(fleet.servers) == ["time", "profile"]
    time = fleet.servers["time"]
    assert time.command == str(scripts_dir() / "mcp-server-time") and time.command_found
    assert time.args == ("--local-timezone", "UTC")
    assert fleet.servers["profile"].env == {"FOLIO_AUDIENCE": "public"}
    assert fleet.servers["profile"].is_folio_server and not time.is_folio_server


def test_vscode_shape_reads_type_env_file_and_cwd(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    write(tmp_path, "# comment\nTOKEN=from-file\nSHARED=file\n", ".vscode/server.env")
    path = write(
        tmp_path,
        {
            "inputs": [],
            "servers": {
                "t": {
                    "type": "stdio",
                    "command": "python",
                    "args": ["${workspaceFolder}/x.py"],
                    "envFile": "server.env",
                    "env": {"SHARED": "entry", "PORT": 8080},
                    "cwd": "../work",
                }
            },
        },
        ".vscode/mcp.json",
    )
    fleet = load_fleet(path, environ={})
    server = fleet.servers["t"]
    assert fleet.shape == "vscode"
    assert server.args == (f"{tmp_path}/x.py",)
    assert dict(server.env) == {"TOKEN": "from-file", "SHARED": "entry", "PORT": "8080"}
    assert server.cwd == (tmp_path / "work").resolve()
    assert server.command == str(scripts_dir() / "python")


def test_cursor_shape_is_recognised_by_its_directory(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"mcpServers": {"t": {"type": "stdio", "command": "mcp-server-time"}}}, ".cursor/mcp.json"
    )
    assert load_fleet(path, environ={}).shape == "cursor"


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("x-${A}-y", {"A": "1"}, "x-1-y"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": ""}, "fallback"),
        ("${A:-fallback}", {"A": "set"}, "set"),
        ("${A:-}", {}, ""),
        ("${env:A}", {"A": "vs"}, "vs"),
        ("${A}", {"A": ""}, ""),
        ("${A}${B}", {"A": "a", "B": "b"}, "ab"),
        ("no vars $A {A}", {}, "no vars $A {A}"),
        ("${workspaceFolder}/p", {}, "/ws/p"),
    ],
)
def test_expansion(text: str, environ: dict[str, str], expected: str) -> None:
    assert expand(text, environ, workspace=Path("/ws")) == expected


def test_user_home_expands() -> None:
    assert expand("${userHome}", {}, workspace=Path("/")) == str(Path.home())


@pytest.mark.parametrize(
    ("servers", "server", "field", "words"),
    [
        ({"a": {"args": []}}, "a", "command", "is required"),
        ({"a": {"command": 3}}, "a", "command", "non-empty string"),
        ({"a": {"command": "x", "args": "--flag"}}, "a", "args", "list of strings"),
        ({"a": {"command": "x", "args": [1]}}, "a", "args", "list of strings"),
        ({"a": {"command": "x", "env": ["A=1"]}}, "a", "env", "object of strings"),
        ({"a": {"command": "x", "env": {"A": {"nested": 1}}}}, "a", "env.A", "must be a string"),
        (
            {"a": {"command": "x", "env": {"KEY": "${MISSING_VAR}"}}},
            "a",
            "env.KEY",
            "${MISSING_VAR} is not set",
        ),
        ({"a": {"command": "${NOPE}"}}, "a", "command", "is not set"),
        ({"a": {"command": "x", "args": ["ok", "${NOPE}"]}}, "a", "args[1]", "is not set"),
        ({"a": {"command": "x", "env": {"K": "${bad name}"}}}, "a", "env.K", "cannot expand"),
        ({"a": {"command": "x", "cwd": "/no/such/dir"}}, "a", "cwd", "no such directory"),
        ({"a": {"command": "x", "envFile": "missing.env"}}, "a", "envFile", "no such file"),
        ({"a": {"command": "x", "folio": {"timeout": -1}}}, "a", "folio.timeout", "greater than 0"),
        ({"a": {"command": "x", "folio": {"tmeout": 5}}}, "a", "folio.tmeout", "unknown setting"),
        ({"a": {"command": "x", "folio": {"mode": "2025-11-25"}}}, "a", "folio.mode", "auto"),
        (
            {"a": {"command": "x", "folio": {"sampling": {"policy": "yes"}}}},
            "a",
            "folio.sampling.policy",
            "auto",
        ),
        (
            {"a": {"command": "x", "folio": {"restart": {"max_deaths": 0}}}},
            "a",
            "folio.restart.max_deaths",
            "greater than or equal to 1",
        ),
        ({"a": {"command": "x", "folio": []}}, "a", "folio", "must be an object"),
        ({"a": {"url": "https://example.com/mcp"}}, "a", "url", "only stdio"),
        ({"a": {"type": "http", "url": "https://example.com/mcp"}}, "a", "type", "only stdio"),
        ({"a": "folio-profile"}, "a", None, "must be an object"),
    ],
)
def test_invalid_entries_name_the_file_the_server_and_the_field(
    tmp_path: Path, servers: dict[str, Any], server: str, field: str | None, words: str
) -> None:
    path = write(tmp_path, {"mcpServers": servers})
    with pytest.raises(ConfigError) as caught:
        load_fleet(path, environ={})
    error = caught.value
    assert (error.path, error.server, error.field) == (path, server, field)
    message = str(error)
    assert str(path) in message and f"server {server!r}" in message and words in message
    if field is not None:
        assert f"field {field!r}" in message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"servers": {}, "mcpServers": {}}', "keep one"),
        ('{"other": {}}', "no 'mcpServers' object"),
        ('{"mcpServers": []}', "mapping server names"),
    ],
)
def test_invalid_files_name_the_file(tmp_path: Path, content: str, words: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError, match=words) as caught:
        load_fleet(path, environ={})
    assert str(path) in str(caught.value)


def test_a_missing_fleet_file_says_how_to_choose_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--fleet or FOLIO_FLEET"):
        load_fleet(tmp_path / "nope.json")


def test_a_disabled_remote_entry_is_kept_disabled(tmp_path: Path) -> None:
    path = write(tmp_path, {"mcpServers": {"r": {"url": "https://x/mcp", "folio": {"enabled": False}}}})
    fleet = load_fleet(path, environ={})
    assert fleet.enabled == [] and not fleet.servers["r"].options.enabled


def test_commands_resolve_venv_first_then_path_then_relative_to_the_file(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "my-server"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert resolve_command("my-server", tmp_path, {"PATH": str(tool.parent)}) == (str(tool), True)
    assert resolve_command("./bin/my-server", tmp_path, {}) == (str(tool), True)
    assert resolve_command("folio-profile", tmp_path, {"PATH": ""}) == (str(BIN / "folio-profile"), True)
    assert resolve_command("no-such-server-xyz", tmp_path, {"PATH": str(tmp_path)}) == (
        "no-such-server-xyz",
        False,
    )


def test_folio_servers_get_the_orchestrators_settings_and_others_do_not(tmp_path: Path) -> None:
    fleet = parse_fleet(
        {
            "mcpServers": {
                "profile": {"command": "folio-profile", "env": {"FOLIO_AUDIENCE": "public"}},
                "time": {"command": "mcp-server-time", "env": {"TZ": "UTC"}},
                "custom": {"command": "python", "folio": {"folio_settings": True}},
            }
        },
        tmp_path / "fleet.json",
    )
    settings = FolioSettings(
        database_url="postgresql://u:secret@db/folio",
        redis_url="redis://cache:6379/0",
        data_dir=tmp_path / "data",
        portfolio_dir=tmp_path / "portfolio",
        embedder="local",
        log_level="debug",
    )
    profile = server_environment(fleet.servers["profile"], settings, {})
    assert profile["FOLIO_DATABASE_URL"] == "postgresql://u:secret@db/folio"
    assert profile["FOLIO_REDIS_URL"] == "redis://cache:6379/0"
    assert profile["FOLIO_DATA_DIR"] == str(tmp_path / "data")
    assert profile["FOLIO_PORTFOLIO_DIR"] == str(tmp_path / "portfolio")
    assert profile["FOLIO_LOG_LEVEL"] == "debug"
    assert profile["FOLIO_AUDIENCE"] == "public"  # the entry wins
    assert server_environment(fleet.servers["time"], settings, {}) == {"TZ": "UTC"}  # no secrets leak
    assert "FOLIO_DATABASE_URL" in server_environment(fleet.servers["custom"], settings, {})


def test_the_openai_key_reaches_folio_servers_only_with_the_openai_embedder(tmp_path: Path) -> None:
    fleet = parse_fleet({"mcpServers": {"p": {"command": "folio-profile"}}}, tmp_path / "f.json")
    environ = {"OPENAI_API_KEY": "sk-test"}
    local = FolioSettings(data_dir=tmp_path, embedder="local")
    remote = FolioSettings(data_dir=tmp_path, embedder="openai:text-embedding-3-small")
    assert "OPENAI_API_KEY" not in server_environment(fleet.servers["p"], local, environ)
    assert server_environment(fleet.servers["p"], remote, environ)["OPENAI_API_KEY"] == "sk-test"


def test_the_default_fleet_file_runs_every_folio_server_that_exists() -> None:
    fleet = load_fleet(REPO_ROOT / "configs" / "fleet.json")
    assert fleet.shape == "claude"
    profile = fleet.servers["profile"]
    assert profile.command == str(BIN / "folio-profile") and profile.command_found and profile.is_folio_server
    for server in fleet.servers.values():
        assert server.command_as_written.startswith("folio-")
        assert server.env == {}  # the orchestrator passes its own settings; no database URL in the file
