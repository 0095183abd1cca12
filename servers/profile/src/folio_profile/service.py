"""Glue between the runtime and the store: start-up import, audience filtering, error wording.

Domain errors become ``ToolError`` for tools (the model reads the message) and ``MCPError`` for
resources and prompts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import structlog
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR

from folio_core.mcp import Runtime
from folio_core.validation import parse_positive_id
from folio_profile.errors import ConcurrentWriteError, NoProfileError, VersionNotFoundError
from folio_profile.resume import ResumeInvalidError, redact_public

if TYPE_CHECKING:  # the store (numpy, psycopg) loads after the handshake
    from folio_profile.store import ProfileStore, Version, WriteOutcome

log = structlog.get_logger(__name__)


@contextmanager
def as_tool_errors() -> Iterator[None]:
    """Turn domain errors into ``ToolError`` messages the model can act on."""
    from folio_core.embeddings import EmbeddingError

    try:
        yield
    except (
        NoProfileError,
        VersionNotFoundError,
        ResumeInvalidError,
        ConcurrentWriteError,
        EmbeddingError,
    ) as exc:
        raise ToolError(str(exc)) from exc


class ProfileService:
    STATE_KEY = "profile"

    def __init__(self, runtime: Runtime) -> None:
        from folio_profile.store import ProfileStore

        self.settings = runtime.settings
        self.store = ProfileStore(runtime.pool, runtime.embedder)
        self.public = runtime.settings.is_public
        self.import_error: str | None = None

    @classmethod
    async def start(cls, runtime: Runtime) -> None:
        """Runs once the database is ready: re-index if the model changed, import the portfolio."""
        service = cls(runtime)
        runtime.state[cls.STATE_KEY] = service
        await service.store.reindex()
        path = runtime.settings.resume_path
        if not path.exists():
            log.info("no resume.json in the portfolio directory", path=str(path))
            return
        try:
            outcome = await service.store.import_file(path, client="folio-profile (start-up)")
        except ResumeInvalidError as exc:
            # Keep serving the last good version; tell whoever asks what is wrong with the file.
            service.import_error = str(exc)
            log.error("portfolio résumé rejected", path=str(path), error=str(exc))
            return
        if outcome is not None and outcome.created:
            log.info("portfolio résumé imported", path=str(path), version=outcome.version)

    @classmethod
    def of(cls, runtime: Runtime) -> ProfileService:
        service = runtime.state.get(cls.STATE_KEY)
        if not isinstance(service, ProfileService):  # pragma: no cover - set by start()
            raise ToolError("the profile server is not initialised")
        return service

    async def visible(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document as this audience may see it: for the public, without contact details, and
        with every e-mail, phone and street address the owner has ever had scrubbed from the text."""
        if not self.public:
            return document
        return redact_public(document, await self.store.private_values())

    def _missing(self) -> str:
        message = (
            "no résumé has been imported yet; import one with `folio-profile import PATH` "
            f"or put resume.json in {self.settings.portfolio_dir}"
        )
        return f"{message}. {self.import_error}" if self.import_error else message

    async def current(self) -> Version:
        """The current version, or ``ToolError`` when there is none."""
        version = await self.store.current()
        if version is None:
            raise ToolError(self._missing())
        return version

    async def version(self, number: int) -> Version:
        with as_tool_errors():
            return await self.store.get_version(number)

    async def write(self, action: Callable[[ProfileStore], Awaitable[WriteOutcome]]) -> WriteOutcome:
        with as_tool_errors():
            return await action(self.store)

    # Resources and prompts report problems as protocol errors.

    async def document(self) -> dict[str, Any]:
        version = await self.store.current()
        if version is None:
            raise MCPError(INTERNAL_ERROR, self._missing())
        return await self.visible(version.document)

    async def resource_json(self) -> str:
        return json.dumps(await self.document(), indent=2, ensure_ascii=False)

    async def version_json(self, number: str, uri: str) -> str:
        parsed = parse_positive_id(number)
        if parsed is None:
            raise ResourceNotFoundError(f"{uri}: a version is a positive whole number (ASCII digits)")
        try:
            version = await self.store.get_version(parsed)
        except VersionNotFoundError as exc:
            raise ResourceNotFoundError(f"{uri}: {exc}") from exc
        return json.dumps(await self.visible(version.document), indent=2, ensure_ascii=False)
