"""A process killed (SIGKILL) in the middle of an import loses nothing committed.

The import is stopped at each stage by ``FOLIO_FAULT_PAUSE`` (see ``folio_profile.faults``) and killed
when it says so on stderr: the test waits for that line, not for a time, so it kills at the same
point on any machine.
"""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from folio_profile.chunks import chunk_resume
from folio_profile.faults import STAGES

pytestmark = pytest.mark.slow

COMMAND = Path(sys.executable).parent / "folio-profile"


def large_variant(resume: dict[str, Any], seed: int) -> dict[str, Any]:
    """The sample résumé plus many unique work entries: hundreds of chunks to embed and insert."""
    doc = copy.deepcopy(resume)
    for i in range(40):
        doc["work"].append(
            {
                "name": f"Company {seed}-{i}",
                "position": "Engineer",
                "startDate": "2001-01",
                "endDate": "2002-01",
                "highlights": [f"Variant {seed}: built system {i}.{h} for team {h * i}" for h in range(6)],
            }
        )
    return doc


def check_consistent(url: str) -> list[int]:
    """Every version is whole: its document, all its chunks and its audit row. Returns the versions."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        versions = conn.execute("SELECT version, document FROM profile.versions ORDER BY version").fetchall()
        numbers = [v["version"] for v in versions]
        assert numbers == list(range(1, len(numbers) + 1))
        for row in versions:
            chunks = conn.execute(
                "SELECT count(*) AS n FROM profile.chunks WHERE version = %s AND owner", (row["version"],)
            ).fetchone()
            audit = conn.execute(
                "SELECT count(*) AS n FROM profile.audit WHERE version = %s", (row["version"],)
            ).fetchone()
            assert chunks is not None and chunks["n"] == len(chunk_resume(row["document"])), row["version"]
            assert audit is not None and audit["n"] == 1, row["version"]
    return numbers


def wait_for_pause(process: subprocess.Popen[str], stage: str) -> None:
    """Read the process's stderr until it logs that it paused at ``stage`` (FOLIO_FAULT_PAUSE)."""
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "paused for fault injection" and event.get("stage") == stage:
            return
    raise AssertionError(f"the import never paused at {stage!r}; it said:\n{''.join(seen)}")


def import_command(path: Path) -> list[str]:
    return [str(COMMAND), "import", "--yes", str(path)]


@pytest.mark.parametrize("stage", STAGES)
def test_an_import_killed_at_each_stage_never_leaves_a_partial_version(
    database_url: str, tmp_path: Path, sample_resume: dict[str, Any], stage: str
) -> None:
    env = {"PATH": str(COMMAND.parent), "FOLIO_DATABASE_URL": database_url, "FOLIO_DATA_DIR": str(tmp_path)}
    first = tmp_path / "first.json"
    first.write_text(json.dumps(sample_resume))
    done = subprocess.run(import_command(first), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_consistent(database_url) == [1]

    variant = tmp_path / "variant.json"
    variant.write_text(json.dumps(large_variant(sample_resume, 1)))
    process = subprocess.Popen(
        import_command(variant),
        env={**env, "FOLIO_FAULT_PAUSE": stage},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    safety_net = threading.Timer(120, process.kill)  # only if the pause never comes
    safety_net.start()
    try:
        wait_for_pause(process, stage)
        # paused (inside the write transaction for the last two stages): nothing is visible yet
        assert check_consistent(database_url) == [1]
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    finally:
        safety_net.cancel()
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    assert check_consistent(database_url) == [1]

    # The killed writer held the write lock; the next import takes it and writes a whole version.
    done = subprocess.run(import_command(variant), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "imported as version 2" in done.stdout
    assert check_consistent(database_url) == [1, 2]


def test_without_fault_injection_the_pause_points_do_nothing(
    database_url: str, tmp_path: Path, sample_resume: dict[str, Any]
) -> None:
    env = {
        "PATH": str(COMMAND.parent),
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path),
        "FOLIO_FAULT_PAUSE": "no-such-stage",
    }
    path = tmp_path / "resume.json"
    path.write_text(json.dumps(large_variant(sample_resume, 2)))
    done = subprocess.run(import_command(path), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "paused for fault injection" not in done.stderr
    assert check_consistent(database_url) == [1]
