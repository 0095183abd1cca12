"""A small FolioServer whose tools, prompts and resource need no database (for folio-core's tests).

Run as a script, it serves stdio like a server's ``main``: ``python tiny_server.py``. With
``TINY_WITH_A_BUG=1`` it also has a tool that crashes on any valid input;
with ``TINY_DIES_ON_A_CALL=1``, a tool that ends the process.
"""

import os
from typing import Annotated, Any, Literal

from pydantic import Field

from folio_core.mcp import READ_ONLY, FolioServer, write_annotations
from folio_core.process import start_process
from folio_core.settings import FolioSettings


def build(settings: FolioSettings) -> FolioServer:
    folio = FolioServer(
        "tiny",
        settings,
        version="0.0.1",
        instructions="A test server.",
        package="folio_core_tests",
        migrations=[],
        feed_prefixes=("tiny://",),
    )
    mcp = folio.mcp

    @folio.tool(annotations=READ_ONLY)
    async def echo(
        text: Annotated[str, Field(max_length=200, description="What to echo.")],
        times: Annotated[int, Field(ge=1, le=3)] = 1,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Echo the text."""
        return " ".join([text] * times)

    @folio.tool(annotations=write_annotations(destructive=False))
    async def store(items: list[dict[str, Any]], weight: float = 1.0) -> int:
        """Pretend to store items (counts them)."""
        return len(items)

    if os.environ.get("TINY_WITH_A_BUG") == "1":

        @folio.tool(annotations=READ_ONLY)
        async def crash(text: str = "") -> str:
            """A tool with a bug: whatever passes validation crashes it."""
            raise RuntimeError(f"unhandled input {text!r}")

    if os.environ.get("TINY_DIES_ON_A_CALL") == "1":

        @folio.tool(annotations=READ_ONLY)
        async def leave() -> str:
            """A tool that ends the process."""
            os._exit(3)

    @mcp.prompt()
    async def greet(
        name: Annotated[str, Field(description="Whom to greet.")],
        tone: Literal["warm", "dry"] = "warm",
    ) -> str:
        """Greet someone."""
        return f"Say hello to {name}, {tone}ly."

    @mcp.prompt()
    async def broken() -> str:
        """A prompt that fails inside."""
        raise RuntimeError("failed reading /var/secret/file")

    @mcp.resource("tiny://hello", mime_type="text/plain")
    async def hello() -> str:
        """A greeting."""
        return "hello"

    return folio


if __name__ == "__main__":
    build(start_process()).mcp.run()
