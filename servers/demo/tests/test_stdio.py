"""The installed ``folio-demo`` command over stdio, in both eras: a curated demo runs after
confirm: true, and a snippet printing its environment sees none of the server's (the database URL
and an API key are in the server process's environment)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from folio_core.testing import SAMPLE_PORTFOLIO, tool_text
from folio_demo import sandbox as sb

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.skipif(sb.tiers()["namespace"] is not None, reason="namespace tier unavailable"),
]

COMMAND = Path(sys.executable).parent / "folio-demo"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_over_stdio_a_demo_runs_and_the_servers_secrets_stay_out(
    database_url: str, tmp_path: Path, mode: str
) -> None:
    env = {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO),
        "ANTHROPIC_API_KEY": "sk-ant-do-not-leak",
    }
    params = StdioServerParameters(command=str(COMMAND), args=[], env=env)
    async with Client(params, mode=mode) as c:
        shown = await c.call_tool("demo_show", {"name": "truck-factor"})
        assert not shown.is_error, tool_text(shown)
        assert shown.structured_content is not None
        example = shown.structured_content["example_inputs"]
        ran = await c.call_tool("demo_run", {"name": "truck-factor", "inputs": example, "confirm": True})
        assert not ran.is_error, tool_text(ran)
        assert ran.structured_content is not None
        assert "truck factor: 2" in ran.structured_content["stdout"]
        leak = await c.call_tool(
            "demo_run_snippet",
            {"code": "import os\nprint(sorted(os.environ.items()))", "confirm": True},
        )
        assert not leak.is_error, tool_text(leak)
        assert leak.structured_content is not None
        seen = leak.structured_content["stdout"]
        assert "sk-ant" not in seen and "postgres" not in seen and "FOLIO" not in seen
        assert "PATH" in seen
