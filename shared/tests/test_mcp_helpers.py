"""folio_core.mcp through the SDK's in-memory Client, in both protocol eras."""

from typing import Annotated, Any

import anyio
import psycopg
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve, Sample
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ResourceUpdatedNotification,
    SamplingMessage,
    TextContent,
)

from folio_core.changefeed import notify
from folio_core.mcp import (
    READ_ONLY,
    ConfirmForm,
    FolioServer,
    can_sample,
    confirmation,
    require_confirmation,
    runtime_of,
    sample_text,
    write_annotations,
)
from folio_core.settings import FolioSettings

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]  # handshake era (2025-11-25) and 2026-07-28


def make_server(settings: FolioSettings) -> FolioServer:
    folio = FolioServer(
        "test-server",
        settings,
        version="0.0.1",
        instructions="test",
        package="folio_core_tests",
        migrations=[],
        feed_prefixes=("test://",),
    )

    async def describe(name: str) -> str | None:
        return None if name == "harmless" else f"This deletes {name} for good."

    @folio.tool(annotations=READ_ONLY)
    async def look(ctx: Context[Any, Any]) -> str:
        """A read-only tool."""
        runtime = await runtime_of(ctx)
        return f"ready on {runtime.settings.audience}"

    @folio.tool(annotations=write_annotations(destructive=True))
    async def delete_thing(
        name: str,
        decision: Annotated[ElicitationResult[ConfirmForm], confirmation(describe)],
        confirm: bool = False,
    ) -> str:
        """A destructive tool guarded by a confirmation."""
        approved = require_confirmation(decision, tool="delete_thing")
        return f"deleted {name} ({approved.how})"

    async def ask(ctx: Context[Any, Any], topic: str) -> Sample | None:
        if not can_sample(ctx):
            return None
        return Sample(
            [SamplingMessage(role="user", content=TextContent(type="text", text=f"one line on {topic}"))],
            max_tokens=50,
        )

    @folio.tool(annotations=READ_ONLY)
    async def summarise(topic: str, answer: Annotated[CreateMessageResult | None, Resolve(ask)]) -> str:
        """A tool that samples when it can."""
        return sample_text(answer) or f"no sampling: the caller summarises {topic}"

    @folio.tool(annotations=write_annotations(destructive=False))
    async def touch(uri: str, ctx: Context[Any, Any]) -> str:
        """Announce a change through the change feed."""
        runtime = await runtime_of(ctx)
        async with runtime.pool.connection() as conn, conn.transaction():
            await notify(conn, uri)
        return "ok"

    return folio


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> FolioSettings:
    return FolioSettings(database_url=database_url, data_dir=tmp_path)


def text(result: Any) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


async def accept_elicitation(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


async def decline_elicitation(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="decline")


async def answer_sampling(
    ctx: ClientRequestContext, params: CreateMessageRequestParams
) -> CreateMessageResult:
    prompt = params.messages[0].content
    assert isinstance(prompt, TextContent)
    return CreateMessageResult(
        role="assistant", content=TextContent(type="text", text=f"LLM says: {prompt.text}"), model="scripted"
    )


async def test_public_audience_registers_only_read_only_tools(database_url: str, tmp_path: Any) -> None:
    public = make_server(FolioSettings(database_url=database_url, data_dir=tmp_path, audience="public"))
    async with Client(public.mcp) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert names == {"look", "summarise"}
    assert set(public.skipped_tools) == {"delete_thing", "touch"}


async def test_owner_audience_registers_every_tool_with_annotations(settings: FolioSettings) -> None:
    async with Client(make_server(settings).mcp) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"look", "delete_thing", "summarise", "touch"}
        assert tools["delete_thing"].annotations is not None
        assert tools["delete_thing"].annotations.destructive_hint is True
        assert tools["look"].annotations is not None and tools["look"].annotations.read_only_hint is True
        # The resolved parameter is not part of the schema the model sees.
        assert set(tools["delete_thing"].input_schema["properties"]) == {"name", "confirm"}
        result = await client.call_tool("look", {})
    assert text(result) == "ready on owner"


@pytest.mark.parametrize("mode", ERAS)
async def test_confirmation_through_elicitation_when_the_client_can_ask(
    settings: FolioSettings, mode: str
) -> None:
    async with Client(
        make_server(settings).mcp, mode=mode, elicitation_callback=accept_elicitation
    ) as client:
        result = await client.call_tool("delete_thing", {"name": "notes"})
    assert not result.is_error, text(result)
    assert text(result) == "deleted notes (elicitation)"


@pytest.mark.parametrize("mode", ERAS)
async def test_declined_confirmation_changes_nothing(settings: FolioSettings, mode: str) -> None:
    async with Client(
        make_server(settings).mcp, mode=mode, elicitation_callback=decline_elicitation
    ) as client:
        result = await client.call_tool("delete_thing", {"name": "notes"})
    assert result.is_error
    assert "did not confirm" in text(result)


@pytest.mark.parametrize("mode", ERAS)
async def test_without_elicitation_confirm_true_is_required(settings: FolioSettings, mode: str) -> None:
    async with Client(make_server(settings).mcp, mode=mode) as client:
        refused = await client.call_tool("delete_thing", {"name": "notes"})
        approved = await client.call_tool("delete_thing", {"name": "notes", "confirm": True})
        harmless = await client.call_tool("delete_thing", {"name": "harmless"})
    assert refused.is_error
    assert "This deletes notes for good." in text(refused)
    assert "confirm: true" in text(refused)
    assert text(approved) == "deleted notes (argument)"
    assert text(harmless) == "deleted harmless (not-needed)"


@pytest.mark.parametrize("mode", ERAS)
async def test_sampling_when_available_and_a_plain_result_otherwise(
    settings: FolioSettings, mode: str
) -> None:
    server = make_server(settings)
    async with Client(server.mcp, mode=mode, sampling_callback=answer_sampling) as client:
        sampled = await client.call_tool("summarise", {"topic": "pgvector"})
    async with Client(make_server(settings).mcp, mode=mode) as client:
        plain = await client.call_tool("summarise", {"topic": "pgvector"})
    assert text(sampled) == "LLM says: one line on pgvector"
    assert text(plain) == "no sampling: the caller summarises pgvector"


async def test_handshake_era_subscribers_get_updates_from_any_writer(settings: FolioSettings) -> None:
    """A change NOTIFYed by another connection (another process's copy) reaches a subscribed client."""
    updates: list[str] = []
    got = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(message.params.uri)
            got.set()

    async with Client(make_server(settings).mcp, mode="legacy", message_handler=on_message) as client:
        assert text(await client.call_tool("look", {})) == "ready on owner"
        await client.subscribe_resource("test://thing/1")
        async with await psycopg.AsyncConnection.connect(
            str(settings.database_url.get_secret_value())
        ) as other:
            await notify(other, "test://thing/2")  # not subscribed
            await notify(other, "test://thing/1")
            await other.commit()
        with anyio.fail_after(60):
            await got.wait()
        await client.unsubscribe_resource("test://thing/1")
    assert updates == ["test://thing/1"]


async def test_2026_listeners_get_updates_from_any_writer(settings: FolioSettings) -> None:
    async with Client(make_server(settings).mcp, mode="auto") as client:
        assert client.protocol_version == "2026-07-28"
        assert text(await client.call_tool("look", {})) == "ready on owner"
        async with client.listen(resource_subscriptions=["test://thing/1"]) as subscription:
            result = await client.call_tool("touch", {"uri": "test://thing/1"})
            assert not result.is_error
            with anyio.fail_after(60):
                async for event in subscription:
                    assert getattr(event, "uri", None) == "test://thing/1"
                    break


async def test_a_failed_start_is_reported_to_the_model(tmp_path: Any) -> None:
    broken = FolioSettings(database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path)
    async with Client(make_server(broken).mcp) as client:
        result = await client.call_tool("look", {})
    assert result.is_error
    assert "Folio could not start" in text(result)
    assert "cannot connect to PostgreSQL" in text(result)
