"""The compose topology without Docker: two `folio serve` processes on two ports over one
PostgreSQL (the embedded one) and the local Redis serve one visitor's conversation interchangeably
and share its rate limit."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest

from folio_core.testing import SAMPLE_PORTFOLIO

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
FOLIO = Path(sys.executable).parent / "folio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def folio_serve(fleet: Path, env: dict[str, str], tmp: Path) -> AsyncIterator[str]:
    """A `folio serve` process; yields its URL once it says it is listening."""
    port = free_port()
    process: anyio.abc.Process = await anyio.open_process(
        [
            str(FOLIO),
            "--fleet",
            str(fleet),
            "serve",
            "--port",
            str(port),
            "--model",
            "test",
            "--audience",
            "public",
        ],
        env=env,
        cwd=tmp,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        buffer = b""
        while b"folio serve: listening on" not in buffer:
            chunk = await process.stderr.receive()
            buffer += chunk
        lines.append(buffer.decode(errors="replace"))

        async def drain() -> None:  # keep reading so the server never blocks on a full pipe
            assert process.stderr is not None
            async for chunk in process.stderr:
                lines.append(chunk.decode(errors="replace"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            yield f"http://127.0.0.1:{port}"
            process.terminate()
            with anyio.fail_after(30):
                await process.wait()
            tg.cancel_scope.cancel()
    except anyio.EndOfStream:
        raise AssertionError("folio serve exited before listening:\n" + "".join(lines)) from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_two_serve_processes_share_the_conversation_and_the_limits(
    fleet_file: Any, peers: Any, database_url: str, tmp_path: Path
) -> None:
    fleet = fleet_file({"profile": peers.script("resume_server")})
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO),
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_REDIS_URL": "redis://127.0.0.1:6379/0",
        "FOLIO_SERVE_REQUESTS_PER_MINUTE": "6",
        "FOLIO_LOG_LEVEL": "info",
        "FOLIO_ALLOW_MODEL_REQUESTS": "0",
    }
    cookie = {"folio_visitor": secrets.token_urlsafe(24)}
    with anyio.fail_after(180):
        async with (
            folio_serve(fleet, env, tmp_path) as one,
            folio_serve(fleet, env, tmp_path) as two,
            httpx2.AsyncClient(base_url=one, cookies=cookie, timeout=60) as a,
            httpx2.AsyncClient(base_url=two, cookies=cookie, timeout=60) as b,
        ):
            card = (await a.get("/api/v1/owner")).json()
            cid = (await a.post("/api/v1/conversations")).json()["id"]
            async with b.stream("POST", f"/api/v1/conversations/{cid}/messages", json={"content": "hi"}) as r:
                body = "".join([chunk async for chunk in r.aiter_text()])
            stored = (await a.get(f"/api/v1/conversations/{cid}")).json()
            statuses = [(await (a if i % 2 else b).get("/api/v1/tools")).status_code for i in range(4)]
            ready = [(await c.get("/readyz")).json()["ok"] for c in (a, b)]
    assert card["name"] and card["name"] != "the owner"
    assert "event: done" in body and '"stopped": "answered"' in body
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]
    assert statuses == [200, 200, 429, 429]
    assert ready == [True, True]


def test_serve_refuses_a_malformed_limit_before_starting_anything(folio_cli: Any) -> None:
    bad = folio_cli("serve", "--port", "1", env={"FOLIO_SERVE_CONCURRENT": "many"})
    assert bad.returncode == 2
    assert "FOLIO_SERVE_CONCURRENT='many' must be a positive number" in bad.stderr
    shown = folio_cli("serve", "--help")
    assert shown.returncode == 0 and "--allowed-host" in shown.stdout and "--audience" in shown.stdout
