"""Running the app on uvicorn with ``TCP_NODELAY`` on every connection.

uvicorn's h11 protocol writes a response's head and body separately; without ``TCP_NODELAY``
(the accepted sockets do not get it here) the second small write waits for the peer's delayed
ACK, which adds about 40 ms to every keep-alive request and to every SSE event after the first.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """A uvicorn config for ``app``: no stdlib log config of its own, no access log (the app logs
    each request), the lifespan on, and ``TCP_NODELAY``."""
    defaults: dict[str, Any] = {
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "http": NoDelayH11Protocol,
    }
    return uvicorn.Config(app, **{**defaults, **options})
