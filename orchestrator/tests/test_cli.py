"""The ``folio`` command as a user runs it: output, JSON, exit codes, messages."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from folio_core.testing import REPO_ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def test_servers_shows_a_crash_loop_and_why(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    path = fleet_file(
        {
            "ok": peers.script("slow_server"),
            "broken": peers.script("exits_at_start", restart={"max_deaths": 2}),
            "off": peers.script("slow_server", enabled=False, note="not today"),
        }
    )
    table = folio_cli("--fleet", str(path), "servers")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "ERA",
        "STATE",
        "PID",
        "RESTARTS",
        "TOOLS",
        "RESOURCES",
        "PROMPTS",
        "CAPABILITIES",
    ]
    ok, broken, off = (line.split() for line in lines[1:4])
    assert ok[:3] == ["ok", "2026-07-28", "ready"] and ok[3].isdigit() and ok[4:6] == ["0", "4"]
    assert broken[:5] == ["broken", "-", "failed", "-", "1"]
    assert off[:3] == ["off", "-", "disabled"]
    assert "broken: crash loop: 2 deaths within 60 s" in table.stdout
    assert "exited with code 3 at start-up" in table.stdout
    assert "| fatal: the frobnicator is not configured (set FROB_URL)" in table.stdout
    assert "off: not today" in table.stdout

    as_json = folio_cli("--fleet", str(path), "servers", "--json")
    assert as_json.returncode == 0, as_json.stderr
    servers = {s["name"]: s for s in json.loads(as_json.stdout)}
    assert servers["ok"]["state"] == "ready" and servers["ok"]["counts"]["tools"] == 4
    assert servers["ok"]["server_info"] == {"name": "slow", "version": "0.0.1"}
    assert servers["broken"]["state"] == "failed" and "crash loop" in servers["broken"]["reason"]
    assert servers["broken"]["stderr_tail"] == ["fatal: the frobnicator is not configured (set FROB_URL)"]


def test_call_prints_structured_results_and_fails_clearly(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    path = fleet_file(
        {
            "slow": peers.script("slow_server"),
            "hanging": peers.script("slow_server", timeout=0.5),
            "noisy": peers.script("garbage_server"),
        }
    )
    echoed = folio_cli("--fleet", str(path), "call", "slow__echo", '{"text": "hé"}')
    assert (echoed.returncode, echoed.stdout) == (0, '{\n  "result": "hé"\n}\n'), echoed.stderr

    from_stdin = folio_cli("--fleet", str(path), "call", "noisy__echo", "-", input='{"text": "piped"}')
    assert (from_stdin.returncode, from_stdin.stdout) == (0, "piped\n"), from_stdin.stderr

    raw = folio_cli("--fleet", str(path), "call", "slow__echo", '{"text": "x"}', "--json")
    assert json.loads(raw.stdout)["structuredContent"] == {"result": "x"}

    tool_error = folio_cli("--fleet", str(path), "call", "slow__echo", '{"text": 5}')
    assert tool_error.returncode == 1 and tool_error.stdout == ""
    assert "the tool reported an error" in tool_error.stderr

    timeout = folio_cli("--fleet", str(path), "call", "hanging__hang", "{}")
    assert timeout.returncode == 1
    assert (
        "server 'hanging': tools/call 'hang' timed out after 0.5 s (cancelled on the server)"
        in timeout.stderr
    )

    unknown = folio_cli("--fleet", str(path), "call", "slow__ech0", "{}")
    assert unknown.returncode == 2 and "did you mean slow__echo" in unknown.stderr

    for bad, words in (("{", "not valid JSON"), ("[1]", "must be a JSON object")):
        rejected = folio_cli("--fleet", str(path), "call", "slow__echo", bad)
        assert rejected.returncode == 2 and words in rejected.stderr


def test_a_call_starts_only_the_server_it_needs(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    path = fleet_file({"slow": peers.script("slow_server"), "broken": peers.script("exits_at_start")})
    done = folio_cli("--fleet", str(path), "call", "slow__echo", '{"text": "alone"}')
    assert done.returncode == 0, done.stderr
    assert "broken" not in done.stderr and "frobnicator" not in done.stderr


def test_an_invalid_fleet_file_names_file_server_and_field(folio_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(
        json.dumps({"mcpServers": {"profile": {"command": "folio-profile", "folio": {"timeout": "soon"}}}})
    )
    done = folio_cli("--fleet", str(path), "tools")
    assert done.returncode == 2
    assert done.stderr.startswith(f"folio: {path}: server 'profile', field 'folio.timeout': ")
    env_chosen = folio_cli("servers", env={"FOLIO_FLEET": str(tmp_path / "missing.json")})
    assert env_chosen.returncode == 2 and "missing.json: no such fleet file" in env_chosen.stderr


def test_prompts_and_resources_are_addressed_by_server(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    path = fleet_file({"dyn": peers.script("dynamic_server"), "slow": peers.script("slow_server")})
    listed = folio_cli("--fleet", str(path), "resources")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[:3] == ["dyn", "dyn://counter", "text/plain"]
    read = folio_cli("--fleet", str(path), "read", "dyn://counter")
    assert (read.returncode, read.stdout) == (0, "0\n"), read.stderr
    chosen = folio_cli("--fleet", str(path), "read", "dyn://counter", "--server", "slow")
    assert chosen.returncode == 1 and "server 'slow': error -32602" in chosen.stderr
    nobody = folio_cli("--fleet", str(path), "read", "other://x")
    assert nobody.returncode == 2 and "no ready server offers 'other://x'" in nobody.stderr
    bad_arg = folio_cli("--fleet", str(path), "prompt", "dyn__x", "novalue")
    assert bad_arg.returncode == 2 and "key=value" in bad_arg.stderr


def test_config_prints_entries_with_absolute_commands(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any
) -> None:
    path = fleet_file(
        {
            "profile": {"command": "folio-profile", "env": {"EXTRA": "1", "API_TOKEN": "t0ken"}},
            "time": peers.time(),
            "off": {"command": "folio-memory", "folio": {"enabled": False}},
        }
    )
    env = {"FOLIO_DATABASE_URL": "postgresql://u:pw@db/folio", "FOLIO_AUDIENCE": "public"}
    claude = folio_cli("--fleet", str(path), "config", "claude", env=env)
    assert claude.returncode == 0, claude.stderr
    document = json.loads(claude.stdout)
    assert list(document["mcpServers"]) == ["profile", "time"]
    profile = document["mcpServers"]["profile"]
    assert profile["command"] == str(BIN / "folio-profile")
    assert profile["env"]["FOLIO_PORTFOLIO_DIR"] == str(REPO_ROOT / "configs" / "portfolio")
    assert profile["env"]["FOLIO_AUDIENCE"] == "public" and profile["env"]["EXTRA"] == "1"
    assert profile["env"]["FOLIO_DATABASE_URL"] == "***" and profile["env"]["API_TOKEN"] == "***"
    assert "--show-secrets" in claude.stderr and "Claude Desktop" in claude.stderr
    assert document["mcpServers"]["time"] == {"command": str(BIN / "mcp-server-time")}

    vscode = folio_cli(
        "--fleet", str(path), "config", "vscode", "--server", "profile", "--show-secrets", env=env
    )
    entry = json.loads(vscode.stdout)["servers"]["profile"]
    assert entry["type"] == "stdio" and entry["env"]["FOLIO_DATABASE_URL"] == "postgresql://u:pw@db/folio"

    cursor = folio_cli("--fleet", str(path), "config", "cursor", "--server", "time")
    assert json.loads(cursor.stdout) == {"mcpServers": {"time": {"command": str(BIN / "mcp-server-time")}}}
    missing = folio_cli("--fleet", str(path), "config", "cursor", "--server", "nope")
    assert missing.returncode == 2 and "no server named 'nope'" in missing.stderr


def test_doctor_reports_each_failure_with_its_fix(
    folio_cli: Any, fleet_file: Callable[..., Path], peers: Any, database_url: str, redis_url: str
) -> None:
    path = fleet_file(
        {
            "time": peers.time(),
            "everything": peers.everything(),
            "broken": peers.script("exits_at_start", restart={"max_deaths": 1}),
            "ghost": {"command": "no-such-server-xyz", "folio": {"restart": {"max_deaths": 1}}},
        }
    )
    env = {"FOLIO_DATABASE_URL": database_url, "FOLIO_REDIS_URL": "redis://127.0.0.1:1/0"}
    done = folio_cli("--fleet", str(path), "doctor", "--json", env=env)
    assert done.returncode == 1, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert checks["python"]["status"] == "ok"
    assert checks["fleet file"]["status"] == "ok" and "4 servers, 4 enabled" in checks["fleet file"]["detail"]
    assert checks["database"]["status"] == "ok" and "pgvector" in checks["database"]["detail"]
    assert checks["redis"]["status"] == "fail" and "FOLIO_REDIS_URL" in checks["redis"]["fix"]
    keys = checks["model keys"]
    assert keys["status"] == "warn" and "ANTHROPIC_API_KEY" in keys["fix"]
    assert "--model test" in keys["fix"] and "FOLIO_MODEL=openai:" in keys["fix"]  # no key needed for these
    assert checks["node"]["status"] == "ok" and "everything" in checks["node"]["detail"]
    assert checks["server time"]["status"] == "ok" and "2026-07-28" in checks["server time"]["detail"]
    assert checks["server everything"]["status"] == "ok"
    broken = checks["server broken"]
    assert (
        broken["status"] == "fail"
        and "exited with code 3" in broken["detail"]
        and "FROB_URL" in broken["detail"]
    )
    assert "by hand" in broken["fix"]
    ghost = checks["server ghost"]
    assert ghost["status"] == "fail" and "command not found" in ghost["detail"] and "install" in ghost["fix"]

    healthy = folio_cli(
        "--fleet",
        str(
            fleet_file(
                {
                    "time": peers.time(),
                    "profile": {"command": "folio-profile"},
                    "projects": {"command": "folio-projects"},
                },
                "healthy.json",
            )
        ),
        "doctor",
        env={"FOLIO_DATABASE_URL": database_url, "FOLIO_REDIS_URL": redis_url, "ANTHROPIC_API_KEY": "x"},
    )
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "✓ server profile" in healthy.stdout and "✓ server projects" in healthy.stdout
    assert "✓ git " in healthy.stdout and "for projects" in healthy.stdout
    assert "✓ redis" in healthy.stdout and "- node" in healthy.stdout and "everything works" in healthy.stdout


def test_doctor_fails_git_that_is_missing_or_too_old(tmp_path: Path) -> None:
    from folio_orchestrator.config import load_fleet
    from folio_orchestrator.doctor import check_git

    (tmp_path / "fleet.json").write_text(json.dumps({"mcpServers": {"p": {"command": "folio-projects"}}}))
    fleet = load_fleet(tmp_path / "fleet.json", {})
    old = tmp_path / "old-git"
    old.write_text("#!/bin/sh\necho git version 2.20.1\n")
    old.chmod(0o755)
    too_old = check_git(fleet, str(old))
    assert (
        too_old.status == "fail"
        and "2.20.1 is too old for p" in too_old.detail
        and "2.24" in (too_old.fix or "")
    )
    missing = check_git(fleet, str(tmp_path / "no-git"))
    assert missing.status == "fail" and "not runnable" in missing.detail
    assert check_git(fleet).status == "ok"
    (tmp_path / "fleet.json").write_text(json.dumps({"mcpServers": {"q": {"command": "folio-query"}}}))
    assert check_git(load_fleet(tmp_path / "fleet.json", {})).status == "skip"


def test_the_command_table_of_help_matches_each_commands_own_help() -> None:
    import importlib

    from folio_orchestrator.cli import COMMANDS, folio

    assert set(COMMANDS) == set(folio.list_commands(None))  # type: ignore[arg-type]
    for name, (module, attribute, short_help) in COMMANDS.items():
        command = getattr(importlib.import_module(f"folio_orchestrator.cli.{module}"), attribute)
        assert command.name == name
        assert command.get_short_help_str(limit=1000) == short_help, name


def test_version_and_help_import_neither_the_sdk_nor_pydantic(tmp_path: Path) -> None:
    import subprocess

    probe = (
        "import sys\n"
        "from folio_orchestrator import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('mcp', 'mcp_types', 'pydantic', 'anyio', 'structlog') if m in sys.modules)\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    for args in (["--version"], ["--help"], ["call", "--help"], ["doctor", "--help"], ["config", "--help"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path, check=False
        )
        assert "heavy: []" in done.stderr, (args, done.stderr)
        assert "Usage: folio" in done.stdout or "folio, version" in done.stdout


def test_config_outside_the_checkout_names_directories_that_exist(folio_cli: Any, tmp_path: Path) -> None:
    fleet = str(REPO_ROOT / "configs" / "fleet.json")
    data = tmp_path / "my-data"
    done = folio_cli(
        "--fleet", fleet, "config", "claude", env={"FOLIO_PORTFOLIO_DIR": None, "FOLIO_DATA_DIR": str(data)}
    )
    assert done.returncode == 0, done.stderr
    servers = json.loads(done.stdout)["mcpServers"]
    # the names of the fleet file, in its order, as the README shows
    assert list(servers) == list(json.loads(Path(fleet).read_text())["mcpServers"])
    assert list(servers)[:2] == ["profile", "memory"]
    for entry in servers.values():
        # run from tmp_path, where there is no configs/portfolio: the checkout's, beside its fleet file
        assert entry["env"]["FOLIO_PORTFOLIO_DIR"] == str(REPO_ROOT / "configs" / "portfolio")
        assert entry["env"]["FOLIO_DATA_DIR"] == str(data)  # the same database as this folio
    assert "warning" not in done.stderr

    (tmp_path / "fleet.json").write_text(
        json.dumps({"mcpServers": {"profile": {"command": "folio-profile"}}})
    )
    lonely = folio_cli(
        "--fleet", str(tmp_path / "fleet.json"), "config", "claude", env={"FOLIO_PORTFOLIO_DIR": None}
    )
    assert lonely.returncode == 0, lonely.stderr
    shown = json.loads(lonely.stdout)["mcpServers"]["profile"]["env"]["FOLIO_PORTFOLIO_DIR"]
    assert f"warning: profile: FOLIO_PORTFOLIO_DIR={shown} does not exist" in lonely.stderr
    assert "FOLIO_DATA_DIR" in json.loads(lonely.stdout)["mcpServers"]["profile"]["env"]


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A PostgreSQL URL whose host accepts connections and never answers (a black hole)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"postgresql://folio:pw@127.0.0.1:{listener.getsockname()[1]}/folio"
    finally:
        listener.close()


def test_an_unreachable_database_fails_the_servers_in_doctor_and_calls_with_a_clear_error(
    folio_cli: Any, fleet_file: Callable[..., Path], silent_database: str
) -> None:
    path = str(fleet_file({"profile": {"command": "folio-profile"}}))
    env = {"FOLIO_DATABASE_URL": silent_database}
    done = folio_cli("--fleet", path, "doctor", "--json", env=env)
    assert done.returncode == 1, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert checks["database"]["status"] == "fail" and "connection timeout" in checks["database"]["detail"]
    profile = checks["server profile"]
    assert profile["status"] == "fail" and "cannot serve its tools" in profile["detail"]
    assert "cannot connect to PostgreSQL: connection timeout expired" in profile["detail"]

    # without a connect timeout the start-up would hang and the call would wait it out
    called = folio_cli("--fleet", path, "call", "profile__profile_get", '{"section": "basics"}', env=env)
    assert called.returncode == 1
    assert "Folio could not start: cannot connect to PostgreSQL: connection timeout expired" in called.stderr
