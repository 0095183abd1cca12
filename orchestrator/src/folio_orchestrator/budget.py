"""Token budgets for servers' sampling requests: per request and per hour, per server.

Counts live in the cache (Redis when ``FOLIO_REDIS_URL`` is set, so every orchestrator replica
shares them; process memory otherwise). The hourly budget is a sliding window approximated from
two fixed one-hour buckets: what the current hour used plus the previous hour's use weighted by
how much of it still lies inside the last 60 minutes.

A request first *reserves* its worst case (prompt estimate + ``max_tokens``) atomically, so two
concurrent requests cannot both slip under the limit; when the answer arrives the reservation is
*settled* to the tokens really used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from folio_core.cache import Cache

HOUR = 3600.0


class BudgetExceededError(Exception):
    """A sampling request would exceed its server's budget; the message says which and by how much."""


@dataclass(frozen=True)
class Budget:
    """Limits for one server; ``None`` means unlimited."""

    tokens_per_request: int | None = None
    tokens_per_hour: int | None = None


@dataclass(frozen=True)
class Reservation:
    server: str
    bucket: int
    tokens: int


class BudgetKeeper:
    def __init__(self, cache: Cache, *, clock: Callable[[], float] = time.time) -> None:
        self._cache = cache
        self._clock = clock

    @staticmethod
    def _key(server: str, bucket: int) -> str:
        return f"sampling-tokens:{server}:{bucket}"

    async def _bucket_value(self, server: str, bucket: int) -> int:
        raw = await self._cache.get(self._key(server, bucket))
        return int(raw) if raw is not None else 0

    async def used_last_hour(self, server: str) -> float:
        """Tokens used by ``server`` in the last 60 minutes (sliding-window estimate)."""
        now = self._clock()
        bucket = int(now // HOUR)
        current = await self._bucket_value(server, bucket)
        previous = await self._bucket_value(server, bucket - 1)
        elapsed = (now % HOUR) / HOUR
        return current + previous * (1.0 - elapsed)

    async def reserve(self, server: str, budget: Budget, tokens: int) -> Reservation:
        """Reserve ``tokens`` for a request of ``server`` or raise :class:`BudgetExceededError`."""
        if budget.tokens_per_request is not None and tokens > budget.tokens_per_request:
            raise BudgetExceededError(
                f"sampling request from {server!r} needs up to {tokens:,} tokens, over its per-request "
                f"budget of {budget.tokens_per_request:,}; ask for fewer max_tokens or a shorter prompt"
            )
        bucket = int(self._clock() // HOUR)
        if budget.tokens_per_hour is None:
            await self._cache.incr(self._key(server, bucket), tokens, ttl=2 * HOUR)
            return Reservation(server, bucket, tokens)
        # The value incr returns is this request's own place in line: concurrent requests each see
        # a distinct total, so exactly those that fit are granted.
        current = await self._cache.incr(self._key(server, bucket), tokens, ttl=2 * HOUR)
        previous = await self._bucket_value(server, bucket - 1)
        used = current + previous * (1.0 - (self._clock() % HOUR) / HOUR)
        if used > budget.tokens_per_hour:
            await self._cache.incr(self._key(server, bucket), -tokens, ttl=2 * HOUR)
            already = used - tokens
            raise BudgetExceededError(
                f"sampling request from {server!r} needs up to {tokens:,} tokens, but the server has used "
                f"{already:,.0f} of its {budget.tokens_per_hour:,} tokens per hour; try again later or raise "
                "its budget in the fleet file"
            )
        return Reservation(server, bucket, tokens)

    async def settle(self, reservation: Reservation, used_tokens: int) -> None:
        """Replace the reserved worst case by the tokens really used."""
        delta = used_tokens - reservation.tokens
        if delta:
            await self._cache.incr(self._key(reservation.server, reservation.bucket), delta, ttl=2 * HOUR)

    async def release(self, reservation: Reservation) -> None:
        """The request did not happen (refused, failed before any token): give the tokens back."""
        await self.settle(reservation, 0)
