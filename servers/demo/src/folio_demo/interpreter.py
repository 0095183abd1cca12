"""The interpreter tier: pydantic-monty, a Python interpreter written in Rust, in a worker process.

Each run gets a pool of its own; leaving it (at the end, at a limit, or on cancellation) ends the
worker, and the run waits until it has gone. The interpreter has no filesystem, network,
environment, subprocess or ctypes to offer; limits are its heap and execution time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import anyio

from folio_demo.sandbox import Limits, Output, OutputCallback, RunResult

_interpreter_lock: anyio.Lock | None = None


def _spawn_lock() -> anyio.Lock:
    global _interpreter_lock
    if _interpreter_lock is None:
        _interpreter_lock = anyio.Lock()
    return _interpreter_lock


def _children() -> set[int]:
    """Live (not zombie) child processes of this process."""
    found = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(parent) == me and state != "Z":
            found.add(int(entry.name))
    return found


async def _gone(pids: set[int]) -> None:
    """Wait (briefly) for ``pids`` to end, then SIGKILL what is left: the pool stops its worker
    without waiting for it."""
    for _ in range(100):
        pids &= _children()
        if not pids:
            return
        await anyio.sleep(0.01)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def run_interpreter(
    code: str, limits: Limits, inputs: Any, on_output: OutputCallback | None
) -> RunResult:
    """pydantic-monty in a worker process of a pool made for this run: leaving the pool (at the end,
    at a limit, or on cancellation) ends the worker, so nothing outlives the call."""
    import pydantic_monty as monty

    output = Output(limits.output_bytes, on_output)
    seen = {"stdout": 0, "stderr": 0}
    token = anyio.lowlevel.current_token()

    def printed(stream: str, text: str) -> None:  # called on the pool's I/O thread
        seen[stream] += len(text)
        anyio.from_thread.run(output.add, stream, text, token=token)

    exit_code, error, timed_out = 0, None, False
    started = time.perf_counter()
    pool = monty.AsyncMonty(min_processes=1, max_processes=1, request_timeout=limits.wall_seconds + 1)
    async with _spawn_lock():  # so the worker that appears is this run's
        before = _children()
        await pool.__aenter__()
        workers = _children() - before
    try:
        session_limits: monty.ResourceLimits = {
            "max_feed_duration_secs": min(limits.cpu_seconds, limits.wall_seconds),
            "max_memory": limits.memory_mb * 1024 * 1024,
            "max_total_sleep_secs": limits.wall_seconds,
        }
        async with pool.checkout(limits=session_limits) as session:
            try:
                await session.feed_run(
                    code, inputs={"inputs": inputs if inputs is not None else {}}, print_callback=printed
                )
            except monty.MontyRuntimeError as exc:
                exit_code, error = 1, str(exc)
                timed_out = "TimeoutError" in error.split(":", 1)[0]
            except monty.MontySyntaxError as exc:
                exit_code, error = 1, str(exc)
            except monty.MontyCrashedError as exc:
                exit_code, error, timed_out = 1, f"the interpreter stopped: {exc}", True
    finally:
        with anyio.CancelScope(shield=True):
            await pool.__aexit__(None, None, None)
            await _gone(workers)
    if error is not None:
        seen["stderr"] += len(error) + 1
        await output.add("stderr", error + "\n")
    return RunResult(
        tier="interpreter",
        language="python",
        limits=limits,
        exit_code=exit_code,
        signal=None,
        killed="cpu_time" if timed_out else None,
        stdout=output.text("stdout"),
        stderr=output.text("stderr"),
        stdout_truncated=seen["stdout"] > limits.output_bytes,
        stderr_truncated=seen["stderr"] > limits.output_bytes,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
