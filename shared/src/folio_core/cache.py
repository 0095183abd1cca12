"""One cache interface: Redis when ``FOLIO_REDIS_URL`` is set, process memory otherwise.

Values are bytes; callers serialise. Keys are namespaced (``folio:<namespace>:<key>``) so several
Folio deployments can share one Redis without colliding.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Any, Protocol

import anyio

from folio_core.settings import FolioSettings


class CacheError(RuntimeError):
    """The cache backend is unreachable or misconfigured."""


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires; ``None`` when it is missing or never expires."""
        ...

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add ``amount`` atomically and return the new value; ``ttl`` applies when the key is new."""
        ...

    async def clear(self) -> None:
        """Drop every key of this cache's namespace."""
        ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """An in-process LRU cache with per-key expiry."""

    def __init__(self, namespace: str = "default", *, max_entries: int = 10_000) -> None:
        self.namespace = namespace
        self._max = max_entries
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._lock = anyio.Lock()

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        expires = time.monotonic() + ttl if ttl is not None else None
        self._data[key] = (bytes(value), expires)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def ttl(self, key: str) -> float | None:
        if self._live(key) is None:
            return None
        expires = self._data[key][1]
        return None if expires is None else max(0.0, expires - time.monotonic())

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        async with self._lock:
            current = self._live(key)
            if current is None:
                value = amount
                await self.set(key, str(value).encode(), ttl=ttl)
            else:
                value = int(current) + amount
                self._data[key] = (str(value).encode(), self._data[key][1])
            return value

    async def clear(self) -> None:
        self._data.clear()

    async def aclose(self) -> None:
        self._data.clear()


class RedisCache:
    """The same interface on Redis (shared by every process and replica)."""

    def __init__(self, url: str, namespace: str = "default") -> None:
        import redis.asyncio as redis

        self.namespace = namespace
        self._prefix = f"folio:{namespace}:"
        self._client: Any = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import redis.exceptions

        try:
            return await getattr(self._client, method)(*args, **kwargs)
        except redis.exceptions.ConnectionError as exc:
            raise CacheError(f"Redis is unreachable ({exc}); check FOLIO_REDIS_URL or unset it") from exc

    async def ping(self) -> None:
        await self._call("ping")

    async def get(self, key: str) -> bytes | None:
        value = await self._call("get", self._key(key))
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        px = max(1, int(ttl * 1000)) if ttl is not None else None
        await self._call("set", self._key(key), value, px=px)

    async def delete(self, key: str) -> None:
        await self._call("delete", self._key(key))

    async def ttl(self, key: str) -> float | None:
        remaining = int(await self._call("pttl", self._key(key)))
        return remaining / 1000 if remaining >= 0 else None  # -2: missing, -1: no expiry

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        full = self._key(key)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incrby(full, amount)
            if ttl is not None:
                pipe.pexpire(full, max(1, int(ttl * 1000)), nx=True)
            try:
                results = await pipe.execute()
            except Exception as exc:
                import redis.exceptions

                if isinstance(exc, redis.exceptions.ConnectionError):
                    raise CacheError(f"Redis is unreachable ({exc}); check FOLIO_REDIS_URL") from exc
                raise
        return int(results[0])

    async def clear(self) -> None:
        # SCAN MATCH is a glob: escape the namespace so "a*" or "a[1]" cannot match other namespaces.
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._prefix) + "*"
        cursor = 0
        while True:
            cursor, keys = await self._call("scan", cursor, match=pattern, count=500)
            if keys:
                await self._call("delete", *keys)
            if cursor == 0:
                break

    async def aclose(self) -> None:
        await self._client.aclose()


def make_cache(settings: FolioSettings, namespace: str = "default") -> Cache:
    """Redis when configured, process memory otherwise."""
    if settings.redis_url is not None:
        return RedisCache(settings.redis_url.get_secret_value(), namespace)
    return MemoryCache(namespace)
