"""Fixtures of the web service's tests: a service over real test servers, served by a real uvicorn
on 127.0.0.1 (a socket bound before the server starts, so no test waits for it to listen)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO
from folio_orchestrator.config import FleetConfig
from folio_orchestrator.llm import ChatModel
from folio_orchestrator.web.app import ServeOptions, create_app
from folio_orchestrator.web.limits import LimitSettings
from folio_orchestrator.web.server import uvicorn_config
from folio_orchestrator.web.service import WebService


@dataclass
class Served:
    url: str
    service: WebService

    def client(self, **kwargs: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(base_url=self.url, timeout=60, **kwargs)


@pytest.fixture
def web_settings(tmp_path: Path, database_url: str) -> FolioSettings:
    return FolioSettings(
        data_dir=tmp_path / "data",
        portfolio_dir=SAMPLE_PORTFOLIO,
        database_url=database_url,
        log_level="warning",
        log_format="json",
    )


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


@asynccontextmanager
async def serve(
    config: FleetConfig,
    settings: FolioSettings,
    model: ChatModel | None,
    *,
    limits: LimitSettings | None = None,
    options: ServeOptions | None = None,
    **kwargs: Any,
) -> AsyncIterator[Served]:
    """A running ``folio serve`` app on a free loopback port."""
    service = WebService(config, settings, model, limits=limits, **kwargs)
    app = create_app(service, options)
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, timeout_graceful_shutdown=5))
    server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            try:
                await service.wait_started()
                yield Served(f"http://127.0.0.1:{port}", service)
            finally:
                server.should_exit = True
    finally:
        sock.close()


async def sse_events(response: httpx2.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a server-sent-events response, as they arrive."""
    event = "message"
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []


@pytest.fixture
def web_fleet(fleet_config: Callable[[dict[str, Any]], FleetConfig], peers: Any) -> FleetConfig:
    return fleet_config({"web": peers.script("web_server")})


@pytest.fixture
def serving() -> Callable[..., Any]:
    """``async with serving(config, settings, model, ...) as served``: see :func:`serve`."""
    return serve


@pytest.fixture
def sse() -> Callable[[httpx2.Response], AsyncIterator[tuple[str, dict[str, Any]]]]:
    return sse_events
