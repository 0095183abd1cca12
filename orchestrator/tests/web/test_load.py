"""A bounded load test against 127.0.0.1 only: 200 visitors at once, each with a fresh
conversation, a scripted model; every answer arrives whole and the process does not grow from
one round to the next."""

from __future__ import annotations

import gc
import resource
import secrets
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from folio_orchestrator.llm import FunctionModel, Message, ModelRequest, tool_call
from folio_orchestrator.web.limits import LimitSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
VISITORS = 200


def script(messages: list[Message], request: ModelRequest) -> Any:
    last = messages[-1]
    if last.role == "user" and not last.results:
        return tool_call("web__lookup", {"topic": last.text})
    return "Found: " + last.results[0].content


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


async def visit(client: httpx2.AsyncClient, n: int) -> str:
    headers = {"Cookie": f"folio_visitor={secrets.token_urlsafe(24)}"}
    created = await client.post("/api/v1/conversations", headers=headers)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    done = ""
    async with client.stream(
        "POST", f"/api/v1/conversations/{cid}/messages", json={"content": f"topic {n}"}, headers=headers
    ) as r:
        assert r.status_code == 200
        event = ""
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "done":
                done = line
    return done


async def test_two_hundred_visitors_at_once_are_all_answered_and_memory_stays_flat(
    web_fleet: Any, web_settings: Any, serving: Any
) -> None:
    limits = LimitSettings(requests_per_minute_per_address=100_000, requests_per_minute=100)
    pool = httpx2.Limits(max_connections=VISITORS + 20, max_keepalive_connections=VISITORS)
    model = FunctionModel(script, model_name="twin")
    rounds: list[float] = []
    with anyio.fail_after(280):
        async with (
            serving(web_fleet, web_settings, model, limits=limits, audiences=["public"]) as served,
            served.client(limits=pool) as client,
        ):
            for _ in range(3):
                answers: list[str] = []

                async def one(n: int, answers: list[str] = answers) -> None:
                    answers.append(await visit(client, n))

                async with anyio.create_task_group() as tg:
                    for n in range(VISITORS):
                        tg.start_soon(one, n)
                assert len(answers) == VISITORS
                assert all('"stopped": "answered"' in a for a in answers)
                gc.collect()
                rounds.append(rss_mb())
            health = await client.get("/healthz")
            metrics = (await client.get("/metrics")).text
    assert health.status_code == 200
    assert f'folio_turns_total{{audience="public",stopped="answered"}} {VISITORS * 3}' in metrics
    assert "folio_streams_open 0" in metrics
    # the first round warms caches and pools up; the later ones must not keep growing
    assert rounds[2] - rounds[1] < 25, rounds
