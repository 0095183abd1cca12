"""Sampling budgets, in process memory and on the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
import pytest

from folio_core.cache import Cache, MemoryCache, RedisCache
from folio_orchestrator.budget import HOUR, Budget, BudgetExceededError, BudgetKeeper

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Cache]:
    backend: Cache
    if request.param == "memory":
        backend = MemoryCache("budget-test")
    else:
        backend = RedisCache(redis_url, f"budget-test-{uuid.uuid4().hex[:8]}")
    yield backend
    await backend.clear()
    await backend.aclose()


async def test_per_request_budget_refuses_with_the_numbers(cache: Cache) -> None:
    keeper = BudgetKeeper(cache, clock=Clock(10 * HOUR))
    with pytest.raises(
        BudgetExceededError, match=r"up to 5,000 tokens, over its per-request budget of 4,000"
    ):
        await keeper.reserve("profile", Budget(tokens_per_request=4000), 5000)
    assert await keeper.used_last_hour("profile") == 0


async def test_hourly_budget_counts_settled_use_and_slides(cache: Cache) -> None:
    clock = Clock(10 * HOUR + 0.5 * HOUR)
    keeper = BudgetKeeper(cache, clock=clock)
    budget = Budget(tokens_per_hour=1000)
    first = await keeper.reserve("memory", budget, 600)
    await keeper.settle(first, 300)  # the answer was shorter than its max_tokens
    assert await keeper.used_last_hour("memory") == 300
    second = await keeper.reserve("memory", budget, 600)
    await keeper.settle(second, 600)
    with pytest.raises(BudgetExceededError, match="has used 900 of its 1,000 tokens per hour"):
        await keeper.reserve("memory", budget, 200)
    assert await keeper.used_last_hour("memory") == 900  # a refused request leaves no trace
    # other servers have their own budget
    await keeper.reserve("profile", budget, 900)
    # 45 minutes into the next hour only a quarter of the previous hour still counts
    clock.now = 11 * HOUR + 0.75 * HOUR
    assert await keeper.used_last_hour("memory") == pytest.approx(225)
    await keeper.reserve("memory", budget, 700)


async def test_concurrent_reservations_never_overshoot(cache: Cache) -> None:
    keeper = BudgetKeeper(cache, clock=Clock(5 * HOUR))
    budget = Budget(tokens_per_hour=1000)
    granted: list[int] = []
    refused: list[int] = []

    async def ask(i: int) -> None:
        try:
            await keeper.reserve("everything", budget, 100)
        except BudgetExceededError:
            refused.append(i)
        else:
            granted.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(25):
            tg.start_soon(ask, i)
    assert len(granted) == 10 and len(refused) == 15
    assert await keeper.used_last_hour("everything") == 1000


async def test_release_gives_tokens_back(cache: Cache) -> None:
    keeper = BudgetKeeper(cache, clock=Clock(7 * HOUR))
    reservation = await keeper.reserve("time", Budget(), 500)
    assert await keeper.used_last_hour("time") == 500
    await keeper.release(reservation)
    assert await keeper.used_last_hour("time") == 0
