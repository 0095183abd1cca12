"""Serving an MCP server over stdio: the SDK's transport, fed only lines it can read.

Every line from stdin passes :func:`folio_core.mcp.jsonrpc.screen_line` first. Well-formed
messages reach the SDK's ``stdio_server`` unchanged; the rest are answered here, through the
same writer the server's own replies take, so every request gets an answer.

Reading happens on a daemon thread, from a private duplicate of fd 0 while fd 0 itself points
at the null device (as the SDK does when it reads stdin: handlers and child processes that read
stdin get EOF instead of protocol bytes). A daemon thread blocked on the pipe does not keep the
process alive: SIGTERM ends the server even while its client holds stdin open, and the exit
hooks (which let go of the embedded PostgreSQL) still run.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any, cast

import anyio
import anyio.from_thread
import anyio.lowlevel
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import ErrorData, JSONRPCError

from folio_core.mcp.jsonrpc import Refusal, screen_line

if TYPE_CHECKING:
    from mcp.shared._stream_protocols import WriteStream

log = structlog.get_logger(__name__)

_BUFFERED_LINES = 16


@contextmanager
def _claimed_stdin() -> Iterator[IO[bytes]]:
    """The wire as a private binary file; fd 0 points at the null device until the block ends."""
    stdin = sys.stdin
    try:
        if stdin is None or stdin.buffer.fileno() != 0 or sys.platform == "win32":
            raise OSError("stdin is not fd 0")
        import fcntl

        wire = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    except (OSError, ValueError, AttributeError):
        # No descriptor to divert (an embedded interpreter, a test's replaced stdin): read in place.
        yield stdin.buffer
        return
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    try:
        # closefd=False: the reading thread may still block on it after the server is done.
        yield os.fdopen(wire, "rb", closefd=False)
    finally:
        os.dup2(wire, 0)


class ScreenedLines:
    """What the SDK's transport iterates over instead of stdin: only lines it can read.

    The refused lines' answers wait in a buffer until :meth:`answer` writes them; at the end of
    input, iteration stops only once every answer is written.
    """

    def __init__(self, wire: IO[bytes]) -> None:
        self._wire = wire
        self._lines: tuple[MemoryObjectSendStream[bytes], MemoryObjectReceiveStream[bytes]]
        self._lines = anyio.create_memory_object_stream[bytes](_BUFFERED_LINES)
        self._refusals: tuple[MemoryObjectSendStream[Refusal], MemoryObjectReceiveStream[Refusal]]
        self._refusals = anyio.create_memory_object_stream[Refusal](_BUFFERED_LINES)
        self._answered = anyio.Event()
        self._started = False

    def _read(self, token: anyio.lowlevel.EventLoopToken) -> None:
        """The reading thread: hand each raw line to the event loop, then the end of input."""
        send = self._lines[0]
        try:
            while line := self._wire.readline():
                anyio.from_thread.run(send.send, line, token=token)
        except Exception as exc:  # the loop is gone, or the pipe broke: either way, input ends
            log.debug("stdin reader stopped", error=str(exc))
        finally:
            with suppress(Exception):  # the loop may be gone already
                anyio.from_thread.run_sync(send.close, token=token)

    def __aiter__(self) -> ScreenedLines:
        if not self._started:
            self._started = True
            reader = threading.Thread(
                target=self._read, args=(anyio.lowlevel.current_token(),), name="stdin", daemon=True
            )
            reader.start()
        return self

    async def __anext__(self) -> str:
        receive = self._lines[1]
        while True:
            try:
                raw = await receive.receive()
            except anyio.EndOfStream:
                self._refusals[0].close()
                await self._answered.wait()
                raise StopAsyncIteration from None
            screened = screen_line(raw.decode("utf-8", errors="replace"))
            if screened.forward is not None:
                return screened.forward
            for refusal in screened.replies:
                log.info("refused a message", code=refusal.code, id=refusal.id, reason=refusal.message)
                await self._refusals[0].send(refusal)
            if screened.dropped is not None:
                log.warning("dropped a message", reason=screened.dropped)

    async def answer(self, write_stream: WriteStream[SessionMessage]) -> None:
        """Write the refused lines' answers, until input ends (or the writer closes)."""
        try:
            async with self._refusals[1] as refusals:
                async for refusal in refusals:
                    error = ErrorData(code=refusal.code, message=refusal.message)
                    await write_stream.send(
                        SessionMessage(JSONRPCError(jsonrpc="2.0", id=refusal.id, error=error))
                    )
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            log.debug("the writer closed before every refusal was answered")
        finally:
            self._answered.set()


async def serve_stdio(server: MCPServer[Any]) -> None:
    """Run ``server`` over this process's stdin and stdout until stdin ends."""
    lowlevel = server._lowlevel_server
    with _claimed_stdin() as wire:
        lines = ScreenedLines(wire)
        # The SDK iterates ``stdin`` with ``async for``, which is all ScreenedLines offers.
        async with (
            stdio_server(stdin=cast("anyio.AsyncFile[str]", lines)) as (read_stream, write_stream),
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(lines.answer, write_stream)
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
            tg.cancel_scope.cancel()


__all__ = ["ScreenedLines", "serve_stdio"]
