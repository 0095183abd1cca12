"""One behavioural suite for MemoryCache and RedisCache (the machine's Redis, database 15)."""

import socket
import uuid
from collections.abc import AsyncIterator, Callable

import anyio
import pytest
import redis.asyncio as aioredis

from folio_core.cache import Cache, CacheError, MemoryCache, RedisCache, make_cache
from folio_core.settings import FolioSettings

pytestmark = pytest.mark.anyio

CacheFactory = Callable[[str], Cache]


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[CacheFactory]:
    """Build caches of one kind; every namespace gets a unique suffix and is cleared afterwards."""
    created: list[Cache] = []
    suffix = uuid.uuid4().hex[:8]

    def factory(namespace: str) -> Cache:
        ns = f"test-{namespace}-{suffix}"
        cache: Cache = MemoryCache(ns) if request.param == "memory" else RedisCache(redis_url, ns)
        created.append(cache)
        return cache

    yield factory
    for cache in created:
        await cache.clear()
        await cache.aclose()


async def test_get_set_delete(make: CacheFactory) -> None:
    cache = make("basic")
    assert await cache.get("missing") is None
    await cache.set("k", b"v1")
    assert await cache.get("k") == b"v1"
    await cache.set("k", b"v2")
    assert await cache.get("k") == b"v2"
    await cache.delete("k")
    assert await cache.get("k") is None
    await cache.delete("never-set")  # no error


async def test_bytes_round_trip(make: CacheFactory) -> None:
    cache = make("bytes")
    every_byte = bytes(range(256))
    big = uuid.uuid4().bytes * 65536  # 1 MiB
    await cache.set("all", every_byte)
    await cache.set("empty", b"")
    await cache.set("big", big)
    await cache.set("unicode key é/ü:*", "héllo".encode())
    assert await cache.get("all") == every_byte
    assert await cache.get("empty") == b""
    assert await cache.get("big") == big
    assert await cache.get("unicode key é/ü:*") == "héllo".encode()
    assert isinstance(await cache.get("all"), bytes)


async def expired(cache: Cache, key: str) -> None:
    """Wait until ``key`` has expired (an event, whatever the machine's speed)."""
    with anyio.fail_after(30):
        while await cache.get(key) is not None:
            await anyio.sleep(0.01)


async def test_ttl_expiry(make: CacheFactory) -> None:
    cache = make("ttl")
    await cache.set("short", b"x", ttl=0.2)
    await cache.set("forever", b"y")
    assert await cache.get("short") == b"x"
    remaining = await cache.ttl("short")
    assert remaining is not None and 0 < remaining <= 0.2
    await expired(cache, "short")
    assert await cache.ttl("short") is None
    assert await cache.get("forever") == b"y"
    assert await cache.ttl("forever") is None
    # set again without a ttl: the key no longer expires
    await cache.set("short", b"x", ttl=30)
    await cache.set("short", b"z")
    assert await cache.ttl("short") is None
    assert await cache.get("short") == b"z"


async def test_incr(make: CacheFactory) -> None:
    cache = make("incr")
    assert await cache.incr("n") == 1
    assert await cache.incr("n", 5) == 6
    assert await cache.incr("n", -2) == 4
    assert await cache.get("n") == b"4"
    assert await cache.incr("other", 10) == 10


async def test_incr_atomic_under_concurrency(make: CacheFactory) -> None:
    cache = make("race")
    results: list[int] = []

    async def bump() -> None:
        results.append(await cache.incr("hits"))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(bump)
    assert sorted(results) == list(range(1, 51))
    assert await cache.get("hits") == b"50"


async def test_incr_ttl_applies_when_key_is_new(make: CacheFactory) -> None:
    cache = make("window")
    assert await cache.incr("budget", ttl=30) == 1
    assert await cache.incr("budget", ttl=3000) == 2  # does not push the expiry back
    remaining = await cache.ttl("budget")
    assert remaining is not None and remaining <= 30
    assert await cache.incr("short", ttl=0.05) == 1
    await expired(cache, "short")
    assert await cache.incr("short", ttl=30) == 1  # a new window


async def test_clear_drops_only_its_own_namespace(make: CacheFactory) -> None:
    mine, theirs, starry = make("mine"), make("theirs"), make("m*")
    for cache in (mine, theirs, starry):
        await cache.set("a", b"1")
        await cache.set("b", b"2")
    await mine.clear()
    assert await mine.get("a") is None
    assert await mine.get("b") is None
    assert await theirs.get("a") == b"1"
    assert await starry.get("b") == b"2"
    await mine.set("a", b"again")  # still usable after clear
    assert await mine.get("a") == b"again"
    # a namespace with glob characters clears exactly itself
    await starry.clear()
    assert await starry.get("a") is None
    assert await mine.get("a") == b"again"
    assert await theirs.get("b") == b"2"


async def test_redis_is_shared_between_instances_and_namespaced(redis_url: str) -> None:
    ns = f"test-shared-{uuid.uuid4().hex[:8]}"
    one, two = RedisCache(redis_url, ns), RedisCache(redis_url, ns)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        await one.set("k", b"v")
        assert await two.get("k") == b"v"
        assert await raw.get(f"folio:{ns}:k") == b"v"
        await raw.set(f"unrelated:{ns}:k", b"keep", px=5000)
        await one.clear()
        assert await two.get("k") is None
        assert await raw.get(f"unrelated:{ns}:k") == b"keep"
    finally:
        await raw.delete(f"unrelated:{ns}:k")
        await one.clear()
        await one.aclose()
        await two.aclose()
        await raw.aclose()


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache("lru", max_entries=2)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.get("a") == b"1"  # a is now the most recently used
    await cache.set("c", b"3")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"
    assert await cache.get("c") == b"3"


async def test_make_cache_chooses_backend(redis_url: str) -> None:
    memory = make_cache(FolioSettings(_env_file=None), namespace="ns1")  # type: ignore[call-arg]
    assert isinstance(memory, MemoryCache)
    assert memory.namespace == "ns1"
    await memory.aclose()

    ns = f"test-make-{uuid.uuid4().hex[:8]}"
    remote = make_cache(FolioSettings(_env_file=None, redis_url=redis_url), namespace=ns)  # type: ignore[call-arg]
    try:
        assert isinstance(remote, RedisCache)
        assert remote.namespace == ns
        await remote.set("k", b"v")
        check = RedisCache(redis_url, ns)
        assert await check.get("k") == b"v"  # really in Redis, not in process memory
        await check.aclose()
    finally:
        await remote.clear()
        await remote.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_redis_unreachable_raises_cache_error() -> None:
    cache = RedisCache(f"redis://:redis-s3cret@127.0.0.1:{_closed_port()}/0", "down")
    try:
        with anyio.fail_after(60):
            for call in (cache.get("k"), cache.set("k", b"v"), cache.incr("k"), cache.clear()):
                with pytest.raises(CacheError) as excinfo:
                    await call
                message = str(excinfo.value)
                assert "Redis is unreachable" in message
                assert "FOLIO_REDIS_URL" in message
                assert "redis-s3cret" not in message
    finally:
        await cache.aclose()
