"""Rate limits and a concurrency cap, per visitor or token, in the shared cache.

The counters live in :mod:`folio_core.cache`: Redis when ``FOLIO_REDIS_URL`` is set (so every
replica sees the same counts), else in process. A window opens with the first request it counts
and lasts a minute (or a day); a refused request learns how many seconds are left in it.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from folio_core.cache import Cache


class Limited(Exception):
    """A limit was reached; ``retry_after`` seconds until it resets."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class LimitSettings:
    requests_per_minute: int = 60
    tokens_per_minute: int = 20_000
    tokens_per_day: int = 200_000
    requests_per_minute_per_address: int = 240
    """Visitors behind one client address together (a visitor who drops the cookie is still counted)."""
    concurrent: int = 4
    """Turns (streams) one visitor or token may run at once."""
    conversation_messages: int = 200
    """A visitor's conversation stops taking questions after this many stored messages."""
    conversation_cost_usd: float = 0.50
    """… or once its model usage has cost this much."""


LIMIT_VARIABLES = {
    "requests_per_minute": "FOLIO_SERVE_REQUESTS_PER_MINUTE",
    "requests_per_minute_per_address": "FOLIO_SERVE_REQUESTS_PER_MINUTE_PER_ADDRESS",
    "tokens_per_minute": "FOLIO_SERVE_TOKENS_PER_MINUTE",
    "tokens_per_day": "FOLIO_SERVE_TOKENS_PER_DAY",
    "concurrent": "FOLIO_SERVE_CONCURRENT",
    "conversation_messages": "FOLIO_SERVE_CONVERSATION_MESSAGES",
    "conversation_cost_usd": "FOLIO_SERVE_CONVERSATION_COST_USD",
}
"""The visitors' limits, from the environment (``folio serve``)."""


def limits_from_env(environ: Mapping[str, str]) -> LimitSettings:
    """The visitors' limits with the ``FOLIO_SERVE_*`` variables that are set; ``ValueError``
    names a variable whose value is not a positive number."""
    values: dict[str, Any] = {}
    for name, variable in LIMIT_VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        kind = float if name == "conversation_cost_usd" else int
        try:
            value = kind(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise ValueError(f"{variable}={raw!r} must be a positive number")
        values[name] = value
    return LimitSettings(**values)


MINUTE = 60
DAY = 86400


class Limiter:
    def __init__(self, cache: Cache, settings: LimitSettings, owner: LimitSettings | None = None) -> None:
        self.cache = cache
        self.settings = settings
        self.owner = owner or settings

    def _for(self, audience: str) -> LimitSettings:
        return self.owner if audience == "owner" else self.settings

    async def _left(self, key: str, window: int) -> int:
        ttl = await self.cache.ttl(key)
        return math.ceil(ttl) if ttl is not None and ttl > 0 else window

    async def hit(self, who: str, audience: str = "public", *, per_address: bool = False) -> None:
        """Count one request of ``who``; :class:`Limited` past the per-minute limit. A window opens
        with ``who``'s first request and lasts a minute (so no count is split by the clock)."""
        limits = self._for(audience)
        limit = limits.requests_per_minute_per_address if per_address else limits.requests_per_minute
        key = f"req:{who}"
        count = await self.cache.incr(key, ttl=MINUTE)
        if count > limit:
            raise Limited(
                f"more than {limit} requests a minute; wait a little", await self._left(key, MINUTE)
            )

    async def check_tokens(self, who: str, audience: str = "public") -> None:
        """:class:`Limited` when ``who`` used up its model tokens for the minute or the day."""
        limits = self._for(audience)
        for key, limit, window, name in (
            (f"tok-m:{who}", limits.tokens_per_minute, MINUTE, "a minute"),
            (f"tok-d:{who}", limits.tokens_per_day, DAY, "a day"),
        ):
            used = await self.cache.get(key)
            if used is not None and int(used) >= limit:
                raise Limited(
                    f"the model-token limit of {limit} {name} is used up", await self._left(key, window)
                )

    async def charge_tokens(self, who: str, tokens: int) -> None:
        if tokens <= 0:
            return
        await self.cache.incr(f"tok-m:{who}", tokens, ttl=MINUTE)
        await self.cache.incr(f"tok-d:{who}", tokens, ttl=DAY)

    @asynccontextmanager
    async def slot(self, who: str, audience: str = "public") -> AsyncIterator[None]:
        """Hold one of ``who``'s concurrent turns; :class:`Limited` when all are taken."""
        limits = self._for(audience)
        key = f"conc:{who}"
        count = await self.cache.incr(key, ttl=3600)
        try:
            if count > limits.concurrent:
                raise Limited(f"{limits.concurrent} answers are already streaming for you; wait for one", 2)
            yield
        finally:
            await self.cache.incr(key, -1, ttl=3600)

    @asynccontextmanager
    async def conversation_lock(self, conversation: str) -> AsyncIterator[bool]:
        """True when this is the only turn running in ``conversation`` (across replicas)."""
        key = f"turn:{conversation}"
        count = await self.cache.incr(key, ttl=900)
        try:
            yield count == 1
        finally:
            await self.cache.incr(key, -1, ttl=900)
