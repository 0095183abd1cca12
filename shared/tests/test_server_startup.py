"""When a Folio server does its slow start-up: after the client has connected, not during it."""

from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context

from folio_core.mcp import READ_ONLY, FolioServer, runtime_of
from folio_core.settings import FolioSettings

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]  # handshake era (2025-11-25) and 2026-07-28


def make_server(database_url: str, tmp_path: Any) -> FolioServer:
    folio = FolioServer(
        "startup-test",
        FolioSettings(_env_file=None, database_url=database_url, data_dir=tmp_path),  # type: ignore[call-arg]
        version="0.0.1",
        instructions="test",
        package="folio_core_startup_tests",
        migrations=[],
        feed_prefixes=("test://",),
    )

    @folio.tool(annotations=READ_ONLY)
    async def look(ctx: Context[Any, Any]) -> str:
        """A tool that needs the runtime."""
        runtime = await runtime_of(ctx)
        return f"ready on {runtime.settings.audience}"

    return folio


@pytest.mark.parametrize("mode", ERAS)
async def test_connecting_and_listing_do_not_start_the_runtime_a_call_does(
    database_url: str, tmp_path: Any, mode: str
) -> None:
    folio = make_server(database_url, tmp_path)
    async with Client(folio.mcp, mode=mode) as client:
        await client.list_tools()
        await client.list_resources()
        await client.list_resource_templates()
        await client.list_prompts()
        assert folio.runtime is not None
        assert not folio.runtime._kick.is_set()  # nothing asked for the runtime yet
        with anyio.fail_after(60):
            result = await client.call_tool("look", {})
        assert not result.is_error and folio.runtime._kick.is_set()


@pytest.mark.parametrize("mode", ERAS)
async def test_the_runtime_starts_by_itself_once_the_client_has_connected(
    database_url: str, tmp_path: Any, mode: str
) -> None:
    folio = make_server(database_url, tmp_path)
    async with Client(folio.mcp, mode=mode) as client:
        await client.list_tools()
        assert folio.runtime is not None
        with anyio.fail_after(60):
            await folio.runtime._ready.wait()
        assert folio.runtime._failure is None and not folio.runtime._kick.is_set()
