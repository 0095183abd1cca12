"""The installed ``folio-resources`` command over stdio, as a client config runs it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from folio_core.testing import tool_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

COMMAND = Path(sys.executable).parent / "folio-resources"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_console_script_serves_the_sample_documents(
    database_url: str, tmp_path: Path, portfolio_dir: Path, mode: str
) -> None:
    env = {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(portfolio_dir),
        "FOLIO_AUDIENCE": "public",
    }
    async with Client(StdioServerParameters(command=str(COMMAND), args=[], env=env), mode=mode) as c:
        assert c.server_info is not None and c.server_info.name == "folio-resources"
        result = await c.call_tool("docs_search", {"query": "SLO alerting cut on-call pages"})
        resources = await c.list_resources()
        text = await c.read_resource("docs://public/point-in-time-features.pdf")
        tools = {t.name for t in (await c.list_tools()).tools}
    assert not result.is_error, tool_text(result)
    assert result.structured_content is not None
    assert result.structured_content["hits"][0]["path"] == "public/slo-alerting.html"
    uris = {r.uri for r in resources.resources}
    assert "docs://about.md" in uris and "docs://working-with-me.md" not in uris
    assert "As-of joins" in text.contents[0].text  # type: ignore[union-attr]
    assert tools == {"docs_list", "docs_read", "docs_search", "docs_grep", "docs_info", "docs_summarize"}
