"""The default fleet file (every Folio server that exists) through ``folio``, on a test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from folio_core.testing import REPO_ROOT, SAMPLE_PORTFOLIO

pytestmark = pytest.mark.slow

FOLIO = Path(sys.executable).parent / "folio"


def test_the_default_fleet_serves_the_profile(folio_cli: Any, database_url: str) -> None:
    env = {
        "FOLIO_DATABASE_URL": database_url
    }  # the test database reaches the server through the orchestrator
    fleet = str(REPO_ROOT / "configs" / "fleet.json")
    found = folio_cli(
        "--fleet", fleet, "call", "profile__profile_search", '{"query": "Kafka", "limit": 2}', env=env
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert hits and any("kafka" in hit["text"].lower() for hit in hits)

    servers = folio_cli("--fleet", fleet, "servers", "--json", env=env)
    status = {s["name"]: s for s in json.loads(servers.stdout)}
    assert status["profile"]["state"] == "ready" and status["profile"]["era"] == "2026-07-28"
    assert status["profile"]["counts"]["tools"] >= 4 and status["profile"]["counts"]["prompts"] == 3
    assert "resources.subscribe" in status["profile"]["capabilities"]

    prompt = folio_cli(
        "--fleet", fleet, "prompt", "profile__profile_interview_prep", "role=Platform lead", env=env
    )
    assert prompt.returncode == 0, prompt.stderr
    assert "Platform lead" in prompt.stdout


@pytest.mark.anyio
async def test_a_change_made_by_one_folio_reaches_another_folio_following_the_resource(
    tmp_path: Path, database_url: str
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO),
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_FLEET": str(REPO_ROOT / "configs" / "fleet.json"),
    }
    follow = [str(FOLIO), "read", "profile://resume.md", "--follow", "--count", "1"]
    async with await anyio.open_process(follow, env=env, cwd=tmp_path) as follower:
        assert follower.stderr is not None and follower.stdout is not None
        with anyio.fail_after(60):
            said = b""
            async for chunk in follower.stderr:
                said += chunk
                if b"folio: following profile://resume.md" in said:
                    break
            patch = json.dumps({"patch": {"basics": {"label": "Changed by another folio"}}, "reason": "test"})
            update = await anyio.run_process(
                [str(FOLIO), "call", "profile__profile_update", patch], env=env, cwd=tmp_path, check=False
            )
            assert update.returncode == 0, update.stderr.decode()
            output = b""
            async for chunk in follower.stdout:
                output += chunk
            assert await follower.wait() == 0
    text = output.decode()
    before, _, after = text.partition("--- updated: profile://resume.md")
    assert "Changed by another folio" not in before and "Changed by another folio" in after


def test_folio_runs_from_anywhere_in_the_checkout(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(FOLIO), "config", "claude", "--server", "profile"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no configs/fleet.json here: the checkout's is used
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)["mcpServers"]["profile"]
    assert entry["command"] == str(FOLIO.parent / "folio-profile")
    assert Path(entry["command"]).is_file()
