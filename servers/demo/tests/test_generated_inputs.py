"""folio-demo over stdio answers every generated bad input cleanly (folio-core's shared harness)."""

import sys
from pathlib import Path

import pytest

from folio_core.testing_fuzz import fuzz_stdio_server

COMMAND = Path(sys.executable).parent / "folio-demo"


@pytest.mark.anyio
@pytest.mark.slow
async def test_every_generated_bad_input_gets_a_clean_answer(database_url: str, tmp_path: Path) -> None:
    env = {"FOLIO_DATABASE_URL": database_url, "FOLIO_DATA_DIR": str(tmp_path / "data")}
    report = await fuzz_stdio_server([str(COMMAND)], env)
    assert report.failures == [], report.summary()
