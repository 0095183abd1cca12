"""folio-memory over stdio answers every generated bad input cleanly (folio-core's shared harness)."""

import base64
import sys
from pathlib import Path

import pytest

from folio_core.testing_fuzz import fuzz_stdio_server
from folio_memory.errors import InvalidInputError
from folio_memory.graph import decode_cursor, encode_cursor

COMMAND = Path(sys.executable).parent / "folio-memory"


@pytest.mark.anyio
@pytest.mark.slow
async def test_every_generated_bad_input_gets_a_clean_answer(database_url: str, tmp_path: Path) -> None:
    env = {"FOLIO_DATABASE_URL": database_url, "FOLIO_DATA_DIR": str(tmp_path / "data")}
    report = await fuzz_stdio_server([str(COMMAND)], env)
    assert report.failures == [], report.summary()


def test_a_read_graph_cursor_that_decodes_to_nul_is_refused_before_the_database() -> None:
    # Valid base64 whose text the database cannot hold: generated inputs rarely hit it.
    with pytest.raises(InvalidInputError, match="call read_graph without a cursor"):
        decode_cursor(base64.urlsafe_b64encode(b"a\x00b").decode())
    assert decode_cursor(encode_cursor("Maya")) == "Maya"
