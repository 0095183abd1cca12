"""A process killed (SIGKILL) in the middle of an import loses nothing committed."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from folio_profile.chunks import chunk_resume

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
                "SELECT count(*) AS n FROM profile.chunks WHERE version = %s", (row["version"],)
            ).fetchone()
            audit = conn.execute(
                "SELECT count(*) AS n FROM profile.audit WHERE version = %s", (row["version"],)
            ).fetchone()
            assert chunks is not None and chunks["n"] == len(chunk_resume(row["document"])), row["version"]
            assert audit is not None and audit["n"] == 1, row["version"]
    return numbers


def test_killing_imports_midway_never_leaves_a_partial_version(
    database_url: str, tmp_path: Path, sample_resume: dict[str, Any]
) -> None:
    env = {"PATH": str(COMMAND.parent), "FOLIO_DATABASE_URL": database_url, "FOLIO_DATA_DIR": str(tmp_path)}
    first = tmp_path / "first.json"
    first.write_text(json.dumps(sample_resume))
    done = subprocess.run([str(COMMAND), "import", str(first)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_consistent(database_url) == [1]

    killed = 0
    for attempt, delay in enumerate((0.6, 1.0, 1.4, 1.8, 2.2, 2.8)):
        path = tmp_path / f"variant-{attempt}.json"
        path.write_text(json.dumps(large_variant(sample_resume, attempt)))
        process = subprocess.Popen(
            [str(COMMAND), "import", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)  # the kill lands at a different stage each time: start-up, embedding, writing
        process.send_signal(signal.SIGKILL)
        if process.wait(timeout=30) == -signal.SIGKILL:
            killed += 1
        check_consistent(database_url)
    assert killed >= 3, "the imports finished before they could be killed; make the variant larger"

    last = tmp_path / "last.json"
    last.write_text(json.dumps(large_variant(sample_resume, 99)))
    before = check_consistent(database_url)
    done = subprocess.run([str(COMMAND), "import", str(last)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_consistent(database_url) == [*before, before[-1] + 1]
