"""The installed ``folio-query`` command over stdio: a query, the attack corpus's worst case, and a
saved query announced across two processes (one saves, the other is subscribed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ResourceUpdatedNotification

from folio_core.testing import tool_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

COMMAND = Path(sys.executable).parent / "folio-query"


def params(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=str(COMMAND), args=[], env=env)


async def test_two_processes_a_saved_query_is_announced_across_them(seeded_url: str) -> None:
    env = {"FOLIO_DATABASE_URL": seeded_url}
    updates: list[str] = []
    got = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            got.set()

    async with (
        Client(params(env), mode="legacy", message_handler=on_message) as watcher,
        Client(params(env), mode="auto") as writer,
    ):
        result = await writer.call_tool("query_sql", {"sql": "SELECT count(*) AS n FROM memories"})
        assert not result.is_error, tool_text(result)
        assert result.structured_content is not None and result.structured_content["rows"] == [[5]]
        stacked = await writer.call_tool("query_sql", {"sql": "SELECT 1; DROP TABLE memory.memories"})
        assert stacked.is_error and "one-statement" in tool_text(stacked)
        saved = await writer.call_tool(
            "query_save", {"name": "tools", "sql": "SELECT tool FROM host_tool_calls"}
        )
        assert not saved.is_error, tool_text(saved)
        await watcher.subscribe_resource("query://saved/tools")
        await watcher.read_resource("query://saved/tools")  # its runtime (and change feed) is up
        updated = await writer.call_tool(
            "query_save", {"name": "tools", "sql": "SELECT DISTINCT tool FROM host_tool_calls ORDER BY tool"}
        )
        assert not updated.is_error, tool_text(updated)
        with anyio.fail_after(60):
            await got.wait()
        assert updates == ["query://saved/tools"]
        body = await watcher.read_resource("query://saved/tools")
        assert "DISTINCT" in body.contents[0].text  # type: ignore[union-attr]
