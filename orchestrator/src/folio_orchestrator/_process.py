"""A stdio transport that knows its process: pid, exit status, the tail of its stderr.

The SDK's ``stdio_client`` exposes none of these, and a supervisor needs all three: the pid for
``folio servers``, the exit status and the last stderr lines to explain a death, and an event that
fires the moment the server goes away. This module spawns the server the way ``stdio_client``
does (its own session and process group, the SDK's minimal inherited environment plus the given
one) and follows the same shutdown sequence: close stdin, wait, SIGTERM the group, wait,
SIGKILL. One difference: when the server exits on its own but leaves members of its process group
behind, they are terminated too, so a fleet never leaves a child process behind.

Lines on stdout that are not JSON-RPC are not passed to the session: they are counted, logged and
kept in the stderr tail (marked), and the connection carries on.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import anyio
import anyio.abc
import anyio.lowlevel
import mcp_types as types
import structlog
from mcp.client._transport import TransportStreams
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.message import SessionMessage

from folio_orchestrator._spawn import ProcessSpec, open_server

log = structlog.get_logger(__name__)

STDERR_LINES = 200
MAX_LINE_BYTES = 64 * 1024 * 1024  # one JSON-RPC message; a tools/list can be large
_STDERR_LINE_MAX = 4000
_GRACE = 2.0  # seconds to exit after stdin closes, and again after SIGTERM
_FLUSH = 0.5  # seconds for the writer to flush accepted messages at shutdown


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"


class ServerProcess:
    """One run of one server. :meth:`transport` spawns it and is what ``mcp.Client`` enters."""

    def __init__(
        self,
        spec: ProcessSpec,
        *,
        name: str,
        stderr_lines: int = STDERR_LINES,
        spawned: anyio.abc.Process | None = None,
    ) -> None:
        self.spec = spec
        self._spawned = spawned  # already started from ``spec`` (see _spawn.prespawn)
        self.name = name
        self.pid: int | None = None
        self.returncode: int | None = None
        self.garbage_lines = 0
        self._stderr: deque[str] = deque(maxlen=stderr_lines)
        self.closed = anyio.Event()  # the connection is gone: stdout ended or stdin broke
        self.exited = anyio.Event()  # the process has exited and was reaped
        self.stderr_done = anyio.Event()  # stderr reached end of file
        self._stderr_added = anyio.Event()  # set (and replaced) at each new stderr line
        self._process: anyio.abc.Process | None = None

    def stderr_tail(self, lines: int = 10) -> list[str]:
        return list(self._stderr)[-lines:] if lines > 0 else []

    def _stderr_line(self, line: str) -> None:
        self._stderr.append(line)
        added, self._stderr_added = self._stderr_added, anyio.Event()
        added.set()

    async def wait_stderr(self, text: str) -> None:
        """Return once a line of the stderr tail contains ``text`` (it may be there already)."""
        while not any(text in line for line in self._stderr):
            await self._stderr_added.wait()

    async def wait_exit_details(self, timeout: float = 0.5) -> None:
        """Give a dying process a moment to be reaped and its last stderr lines to be read."""
        with anyio.move_on_after(timeout):
            await self.exited.wait()
            await self.stderr_done.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group now (start-up timeouts; tests)."""
        if self.pid is not None and self.returncode is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    @asynccontextmanager
    async def transport(self) -> AsyncIterator[TransportStreams]:
        process, self._spawned = self._spawned, None
        if process is None:
            process = await open_server(self.spec)
        # No await between the spawn and the task group: a cancellation there would leak the process.
        self._process = process
        self.pid = process.pid
        read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
        writer_done = anyio.Event()

        async def stdout_reader() -> None:
            assert process.stdout is not None
            pending = bytearray()
            scanned = 0
            delivering = True
            try:
                async with read_writer:
                    async for chunk in process.stdout:
                        pending += chunk
                        while (end := pending.find(b"\n", scanned)) >= 0:
                            line = bytes(pending[:end])
                            del pending[: end + 1]
                            scanned = 0
                            if not delivering or not line.strip():
                                continue
                            message = self._parse(line)
                            if message is None:
                                continue
                            try:
                                await read_writer.send(message)
                            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                                delivering = False  # the session is gone: drain so the server can exit
                        scanned = len(pending)
                        if len(pending) > MAX_LINE_BYTES:
                            self._garbage(bytes(pending[:200]), "a line longer than the limit")
                            pending.clear()
                            scanned = 0
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                pass
            finally:
                self.closed.set()

        async def stdin_writer() -> None:
            assert process.stdin is not None
            try:
                async with write_reader:
                    async for message in write_reader:
                        data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                        await process.stdin.send(data.encode() + b"\n")
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                # The server stopped reading: end the session's stream so no request hangs.
                self.closed.set()
                await read_writer.aclose()
            finally:
                writer_done.set()

        async def stderr_reader() -> None:
            assert process.stderr is not None
            pending = bytearray()
            try:
                async for chunk in process.stderr:
                    pending += chunk
                    *lines, rest = pending.split(b"\n")
                    pending = bytearray(rest)
                    if len(pending) > _STDERR_LINE_MAX:
                        lines.append(bytearray(pending))
                        pending.clear()
                    for raw in lines:
                        self._stderr_line(raw.decode(errors="replace").rstrip()[:_STDERR_LINE_MAX])
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                pass
            finally:
                if pending:
                    self._stderr_line(pending.decode(errors="replace").rstrip()[:_STDERR_LINE_MAX])
                self.stderr_done.set()

        async def waiter() -> None:
            self.returncode = await process.wait()
            self.exited.set()

        async def shutdown() -> None:
            read_stream.close()
            write_stream.close()
            with anyio.move_on_after(_FLUSH):
                await writer_done.wait()
            await self._stop(process)
            for stream in (read_stream, write_stream, read_writer, write_reader):
                await stream.aclose()
            await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tg:
            tg.start_soon(stdout_reader)
            tg.start_soon(stdin_writer)
            tg.start_soon(stderr_reader)
            tg.start_soon(waiter)
            try:
                yield read_stream, write_stream
            finally:
                # Shielded and bounded: a cancelled caller can neither leak the process nor hang on it.
                with anyio.CancelScope(shield=True):
                    await shutdown()
                tg.cancel_scope.cancel()

    def _parse(self, line: bytes) -> SessionMessage | None:
        try:
            return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
        except ValueError:
            self._garbage(line, "not a JSON-RPC message")
            return None

    def _garbage(self, line: bytes, why: str) -> None:
        self.garbage_lines += 1
        text = line[:200].decode(errors="replace")
        self._stderr_line(f"[stdout, {why}] {text}")
        if self.garbage_lines <= 3 or self.garbage_lines % 100 == 0:
            log.warning("server wrote to stdout outside the protocol", server=self.name, line=text, why=why)

    async def _stop(self, process: anyio.abc.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await process.stdin.aclose()
        if not await _exited_within(process, _GRACE):
            await terminate_posix_process_tree(process, _GRACE)
            if not await _exited_within(process, _GRACE):
                log.warning("server survived SIGKILL; abandoning it", server=self.name, pid=process.pid)
        elif _group_alive(process.pid):
            # The server is gone but left members of its process group behind.
            await terminate_posix_process_tree(process, _GRACE)
        self.returncode = process.returncode
        with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await process.stdout.aclose()
        if process.stderr is not None:
            with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await process.stderr.aclose()
        with anyio.move_on_after(_GRACE):
            await process.aclose()


async def _exited_within(process: anyio.abc.Process, timeout: float) -> bool:
    # Poll returncode rather than wait(): on asyncio, wait() also waits for the pipes to close,
    # and a grandchild holding them would make an exited server look hung.
    with anyio.move_on_after(timeout):
        while process.returncode is None:  # noqa: ASYNC110 - no event fires on exit alone
            await anyio.sleep(0.01)
        return True
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
