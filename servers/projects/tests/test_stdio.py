"""The installed ``folio-projects`` command over stdio, as a client config runs it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from folio_core.testing import tool_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

COMMAND = Path(sys.executable).parent / "folio-projects"


async def test_the_console_script_serves_the_sample_portfolio(
    database_url: str, tmp_path: Path, portfolio_dir: Path
) -> None:
    env = {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(portfolio_dir),
    }
    async with Client(StdioServerParameters(command=str(COMMAND), args=[], env=env), mode="legacy") as c:
        assert c.server_info is not None and c.server_info.name == "folio-projects"
        result = await c.call_tool("projects_stats", {"repo": "analytics-demo"})
        assert not result.is_error, tool_text(result)
        assert result.structured_content is not None and result.structured_content["commits"] == 8
