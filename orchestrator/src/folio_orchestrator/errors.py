"""The orchestrator's exception tree. Only the CLI turns these into a message and an exit code.

    FolioHostError
    ├── ConfigError            the fleet file is unreadable or invalid (names file, server, field)
    ├── RoutingError           no server offers that tool / prompt / resource
    └── ServerError            something went wrong on one server (``.server`` names it)
        ├── ServerUnavailable  not running: disabled, crash-looping, or did not become ready in time
        ├── ServerDied         the server process exited while the request was in flight
        ├── CallTimeout        the request took longer than its timeout (it was cancelled on the server)
        └── RemoteError        the server answered with a JSON-RPC error (``.code``, ``.message``)

A tool that *fails* (``CallToolResult.is_error``) is not an exception: it is a normal result that
the caller (the CLI, or the model in the chat) reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class FolioHostError(Exception):
    """Base class of every error the orchestrator raises on purpose."""


class ConfigError(FolioHostError):
    """The fleet file is invalid. The message names the file, the server and the field."""

    def __init__(
        self, path: Path | str, message: str, *, server: str | None = None, field: str | None = None
    ):
        self.path = Path(path)
        self.server = server
        self.field = field
        self.detail = message
        where = str(self.path)
        if server is not None:
            where += f": server {server!r}"
        if field is not None:
            where += f", field {field!r}" if server is not None else f": field {field!r}"
        super().__init__(f"{where}: {message}")


class RoutingError(FolioHostError):
    """A name or URI that no server of the fleet offers."""


def _tail_text(stderr_tail: Sequence[str]) -> str:
    if not stderr_tail:
        return ""
    lines = "\n".join(f"  | {line}" for line in stderr_tail)
    return f"\nlast lines of its stderr:\n{lines}"


class ServerError(FolioHostError):
    """A failure attributable to one server of the fleet."""

    def __init__(self, server: str, message: str, *, stderr_tail: Sequence[str] = ()) -> None:
        self.server = server
        self.reason = message
        self.stderr_tail = list(stderr_tail)
        super().__init__(f"server {server!r}: {message}{_tail_text(self.stderr_tail)}")


class ServerUnavailable(ServerError):
    """The server is not running and will not be soon (disabled, crash loop, start-up timeout)."""


class ServerDied(ServerError):
    """The server process exited while a request to it was in flight."""

    def __init__(
        self, server: str, message: str, *, exit_code: int | None = None, stderr_tail: Sequence[str] = ()
    ) -> None:
        self.exit_code = exit_code
        super().__init__(server, message, stderr_tail=stderr_tail)


class CallTimeout(ServerError):
    """The request exceeded its timeout; the orchestrator cancelled it on the server."""

    def __init__(self, server: str, what: str, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(server, f"{what} timed out after {seconds:g} s (cancelled on the server)")


class RemoteError(ServerError):
    """The server answered the request with a JSON-RPC error."""

    def __init__(self, server: str, code: int, message: str, data: object = None) -> None:
        self.code = code
        self.remote_message = message
        self.data = data
        super().__init__(server, f"error {code}: {message}")
