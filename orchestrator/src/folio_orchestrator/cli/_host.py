"""The fleet of one ``folio`` command, and what it answers when a server asks something.

While a command runs, a server may ask for an LLM sample or for the person's input. The answers
come from the chat's relays (:meth:`folio_orchestrator.chat.ChatHost.callbacks`), which load the
language-model adapters. They are set up on the first such request, not when the command starts:
a command whose servers ask nothing never imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.abc
import mcp_types as types
from mcp.client.context import ClientRequestContext

from folio_core.settings import FolioSettings
from folio_orchestrator.config import FleetConfig, ServerConfig
from folio_orchestrator.errors import FolioHostError
from folio_orchestrator.fleet import ClientCallbacks, Fleet

if TYPE_CHECKING:
    from folio_orchestrator.chat import ChatHost


class LazyRelays:
    """Each server's sampling and elicitation callbacks, backed by a :class:`ChatHost` built on
    the first request (its own fleet starts no server: it only lends its relays)."""

    def __init__(self, config: FleetConfig, settings: FolioSettings, tg: anyio.abc.TaskGroup) -> None:
        self.config = config
        self.settings = settings
        self._tg = tg
        self._host: ChatHost | None = None
        self._lock = anyio.Lock()

    @property
    def started(self) -> bool:
        return self._host is not None

    async def host(self) -> ChatHost:
        async with self._lock:
            if self._host is None:
                self._host = await self._tg.start(self._serve)
        return self._host

    async def _serve(self, *, task_status: anyio.abc.TaskStatus[ChatHost]) -> None:
        from folio_orchestrator.chat import ChatHost, terminal_options

        host = ChatHost(self.config, self.settings, terminal_options(None))
        async with host.running(history=False, start=[]):
            task_status.started(host)
            await anyio.sleep_forever()

    def callbacks(self, server: ServerConfig) -> ClientCallbacks:
        def forward(kind: Literal["sampling", "elicitation"]) -> Any:
            """A callback that starts the chat host on first use and hands the request to its relay."""

            async def call(context: ClientRequestContext, params: Any) -> Any:
                try:
                    callback = getattr((await self.host()).callbacks(server), kind)
                except FolioHostError as exc:
                    return types.ErrorData(code=types.INTERNAL_ERROR, message=str(exc))
                assert callback is not None
                return await callback(context, params)

            return call

        return ClientCallbacks(
            sampling=forward("sampling"),
            # as the chat declares it: every model adapter supports tools in sampling requests
            sampling_capabilities=types.SamplingCapability(tools=types.SamplingToolsCapability()),
            elicitation=forward("elicitation"),
        )


@asynccontextmanager
async def command_fleet(
    config: FleetConfig,
    settings: FolioSettings,
    names: list[str],
    spawned: Mapping[str, anyio.abc.Process] | None = None,
) -> AsyncIterator[Fleet]:
    """Start ``names`` (adopting the ``spawned`` processes), wait until each is ready or has failed."""
    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        relays = LazyRelays(config, settings, tg)
        try:
            command = Fleet(config, settings, start=names, callbacks=relays.callbacks, spawned=spawned)
            async with command as fleet:
                timeout = max((config.servers[n].options.start_timeout for n in names), default=0) + 10
                await fleet.wait_settled(names, timeout=timeout)
                yield fleet
        except Exception as exc:
            error = exc  # raised as itself below, not inside the task group's exception group
        finally:
            tg.cancel_scope.cancel()
    if error is not None:
        raise error
