"""Resource change delivery on both protocol paths, fed by the database change feed.

* 2026-07-28 clients open ``subscriptions/listen`` streams; the server's ``SubscriptionBus`` fans a
  ``ResourceUpdated`` event out to them.
* Handshake-era clients call ``resources/subscribe``; the SDK's ``MCPServer`` has no handler for it,
  so :class:`ResourceNotifier` registers one and sends ``notifications/resources/updated`` to every
  subscribed connection.

Writes never notify clients directly: they ``NOTIFY folio_events`` in their transaction, and every
server process (this one and other clients' copies) turns the event into notifications here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import structlog
from mcp.server import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

log = structlog.get_logger(__name__)


class ResourceNotifier:
    """Tracks handshake-era subscriptions and delivers resource updates on both paths."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        # uri -> {connection identity: session}; a session's standalone channel outlives its request.
        self._subscribers: dict[str, dict[int, Any]] = {}
        self.delivered = 0

    def install(self, server: MCPServer[Any]) -> None:
        """Register ``resources/subscribe`` and ``resources/unsubscribe`` on ``server``."""
        lowlevel = server._lowlevel_server  # the SDK documents this as the way to add these handlers
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, self._on_subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._on_unsubscribe)

    @staticmethod
    def _connection_key(session: Any) -> int:
        return id(getattr(session, "_connection", session))

    async def _on_subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        self._subscribers.setdefault(str(params.uri), {})[self._connection_key(ctx.session)] = ctx.session
        log.debug("resource subscribed", uri=params.uri)
        return EmptyResult()

    async def _on_unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        subscribers = self._subscribers.get(str(params.uri), {})
        subscribers.pop(self._connection_key(ctx.session), None)
        return EmptyResult()

    def subscriber_count(self, uri: str) -> int:
        return len(self._subscribers.get(uri, {}))

    async def deliver(self, uri: str) -> None:
        """Tell every subscriber of ``uri``, on both paths, that it changed."""
        await self.bus.publish(ResourceUpdated(uri=uri))
        for key, session in list(self._subscribers.get(uri, {}).items()):
            try:
                await session.send_resource_updated(uri)
            except Exception as exc:  # a closed connection: forget it, keep serving the others
                log.debug("dropping resource subscriber", uri=uri, error=repr(exc))
                self._subscribers.get(uri, {}).pop(key, None)
        self.delivered += 1

    async def follow(
        self,
        url: str,
        prefixes: tuple[str, ...],
        *,
        on_event: Callable[[str], Awaitable[None]] | None = None,
        started: Callable[[], None] | None = None,
    ) -> None:
        """Deliver every change-feed event under ``prefixes`` until cancelled; reconnect on errors."""
        from folio_core.changefeed import ChangeFeed  # the database driver loads after the handshake

        delay = 0.5
        while True:
            try:
                async with ChangeFeed(url, prefixes=prefixes) as feed:
                    delay = 0.5
                    if started is not None:
                        started()
                        started = None
                    async for uri in feed:
                        if on_event is not None:
                            await on_event(uri)
                        await self.deliver(uri)
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as exc:
                log.warning("change feed interrupted; reconnecting", error=str(exc), retry_in=delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, 30.0)
