"""folio-projects over stdio answers every generated bad input cleanly (folio-core's shared harness)."""

import sys
from pathlib import Path

import pytest

from folio_core.testing_fuzz import fuzz_stdio_server
from folio_projects.errors import InvalidInputError
from folio_projects.gitcmd import check_ref

COMMAND = Path(sys.executable).parent / "folio-projects"


@pytest.mark.anyio
@pytest.mark.slow
async def test_every_generated_bad_input_gets_a_clean_answer(
    database_url: str, tmp_path: Path, portfolio_dir: Path
) -> None:
    env = {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(portfolio_dir),
    }
    report = await fuzz_stdio_server([str(COMMAND)], env)
    assert report.failures == [], report.summary()


def test_revisions_and_paths_that_look_like_options_are_refused() -> None:
    for bad in ("-p", "--output=/tmp/x", "", "a\x00b"):
        with pytest.raises(InvalidInputError, match="must not be empty or start with '-'"):
            check_ref(bad)
    assert check_ref("main") == "main"
