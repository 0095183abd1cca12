"""Benchmark of ``folio serve`` with a scripted zero-latency model, against 127.0.0.1 only.

* time to first token: the in-process chat (``Agent.turn`` on the same fleet, history written)
  against ``POST /api/v1/conversations/{id}/messages`` until its first ``token`` event; the
  added time is the HTTP figure minus the in-process one (p50 and p95 of each);
* a tool call through the ``/mcp`` gateway (the SDK's Streamable HTTP client, 2026-07-28 era)
  against the same call on the fleet's stdio session (the route ``folio call`` takes, without
  its process start);
* sustained chat turns per second, with ``--serve-visitors`` visitors asking at once, each turn a
  fresh conversation, streamed to the end;
* SSE streams held by one replica: ``--serve-streams`` visitors whose answers wait on a form
  (an elicitation), all open at once, then answered and finished.
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from bench_profile import summary  # the benchmarks' shared p50/p95 summary (tests/bench is on sys.path)
from mcp import Client

from folio_core.db.embedded import EmbeddedPostgres
from folio_core.settings import FolioSettings
from folio_orchestrator.agent import Agent, AgentEvent
from folio_orchestrator.chat import FleetTools
from folio_orchestrator.config import parse_fleet
from folio_orchestrator.llm import FunctionModel, Message, ModelRequest, TextDelta, tool_call
from folio_orchestrator.web.app import create_app
from folio_orchestrator.web.limits import LimitSettings
from folio_orchestrator.web.server import uvicorn_config
from folio_orchestrator.web.service import Principal, WebService

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = Path(__file__).with_name("trivial_server.py")
WEB_SERVER = ROOT / "orchestrator" / "tests" / "servers" / "web_server.py"
NAME = "serve"


def script(messages: list[Message], request: ModelRequest) -> Any:
    last = messages[-1]
    if last.role == "user" and not last.results:
        if last.text == "wait for a form":
            return tool_call("web__introduce")
        return "Hello from the twin: a short answer, streamed word by word."
    return "Done: " + " | ".join(r.content for r in last.results)


@asynccontextmanager
async def served(service: WebService) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    server = uvicorn.Server(uvicorn_config(create_app(service), backlog=1024))
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            await service.wait_started()
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


def visitor() -> dict[str, str]:
    return {"Cookie": f"folio_visitor={secrets.token_urlsafe(24)}"}


async def first_token_http(client: httpx2.AsyncClient, cid: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    first = None
    async with client.stream(
        "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "hello"}, headers=headers
    ) as r:
        async for line in r.aiter_lines():
            if first is None and line == "event: token":
                first = time.perf_counter() - started
    assert first is not None
    return first


async def one_turn(client: httpx2.AsyncClient) -> None:
    headers = visitor()
    cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
    async with client.stream(
        "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "hello"}, headers=headers
    ) as r:
        async for line in r.aiter_lines():
            if line == "event: done":
                return
    raise AssertionError("the stream ended without done")


async def bench(settings: FolioSettings, directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    config = parse_fleet(
        {
            "mcpServers": {
                "trivial": {"command": "python", "args": [str(TRIVIAL)]},
                "web": {"command": "python", "args": [str(WEB_SERVER)]},
            }
        },
        directory / "fleet.json",
    )
    model = FunctionModel(script, model_name="scripted")
    limits = LimitSettings(
        requests_per_minute=10**9,
        requests_per_minute_per_address=10**9,
        tokens_per_minute=10**12,
        tokens_per_day=10**12,
        concurrent=10**6,
        conversation_messages=10**6,
        conversation_cost_usd=10.0**6,
    )
    service = WebService(config, settings, model, audiences=["public"], limits=limits)
    results: dict[str, Any] = {}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with served(service) as url:
        host = service.hosts["public"]
        fleet = host.fleet
        limits_pool = httpx2.Limits(max_connections=args.serve_streams + 50, max_keepalive_connections=100)
        async with httpx2.AsyncClient(base_url=url, timeout=120, limits=limits_pool) as client:
            # --- time to first token: in process vs over HTTP (alternating) ---
            headers = visitor()
            cid = ""
            conversation = await service.create_conversation(Principal.visitor("bench"))
            local, remote = [], []
            for i in range(args.serve_turns + 5):
                agent = Agent(
                    model,
                    FleetTools(fleet),
                    system=service._systems["public"],
                    history=service.history,
                    conversation=conversation,
                    messages=[],
                )
                seen: dict[str, float] = {}
                started = time.perf_counter()

                def sink(event: AgentEvent, seen: dict[str, float] = seen, started: float = started) -> None:
                    if isinstance(event, TextDelta) and "t" not in seen:
                        seen["t"] = time.perf_counter() - started

                await agent.turn("hello", sink)
                if i % 10 == 0:  # a conversation of at most ten turns, as a visitor's would be
                    cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
                http = await first_token_http(client, cid, headers)
                if i >= 5:  # warm-up
                    local.append(seen["t"])
                    remote.append(http)
            added = [r - lo for r, lo in zip(remote, local, strict=True)]
            results["first_token_in_process"] = summary(local)
            results["first_token_http"] = summary(remote)
            results["first_token_added"] = {
                "p50_ms": round((statistics.median(remote) - statistics.median(local)) * 1000, 2),
                "p95_ms": round((summary(remote)["p95_ms"] - summary(local)["p95_ms"]), 2),
                "paired_p50_ms": round(statistics.median(added) * 1000, 2),
            }

            # --- a tool call: gateway (Streamable HTTP) vs the fleet's stdio session ---
            stdio, gateway = [], []
            async with Client(f"{url}/mcp", mode="2026-07-28") as mcp_client:
                for i in range(args.serve_calls + 10):
                    started = time.perf_counter()
                    await fleet.call_tool("web__lookup", {"topic": "hi"})
                    direct = time.perf_counter() - started
                    started = time.perf_counter()
                    result = await mcp_client.call_tool("web__lookup", {"topic": "hi"})
                    through = time.perf_counter() - started
                    assert not result.is_error
                    if i >= 10:
                        stdio.append(direct)
                        gateway.append(through)
            results["tool_call_stdio"] = summary(stdio)
            results["tool_call_gateway"] = summary(gateway)
            results["gateway_over_stdio_p50"] = round(
                statistics.median(gateway) / statistics.median(stdio), 2
            )

            # --- sustained turns per second ---
            count = args.serve_visitors * 3
            semaphore = anyio.Semaphore(args.serve_visitors)

            async def limited() -> None:
                async with semaphore:
                    await one_turn(client)

            started = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(count):
                    tg.start_soon(limited)
            seconds = time.perf_counter() - started
            results["turns_per_second"] = {
                "visitors": args.serve_visitors,
                "turns": count,
                "seconds": round(seconds, 2),
                "per_second": round(count / seconds, 1),
            }

            # --- streams held at once (each waits on a form), then answered ---
            held = 0
            all_open = anyio.Event()
            done = 0

            async def waiting_stream() -> None:
                nonlocal held, done
                headers = visitor()
                cid = (await client.post("/api/v1/conversations", headers=headers)).json()["id"]
                async with client.stream(
                    "POST",
                    f"/api/v1/conversations/{cid}/messages",
                    json={"content": "wait for a form"},
                    headers=headers,
                ) as r:
                    event = ""
                    async for line in r.aiter_lines():
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:") and event == "elicitation":
                            eid = json.loads(line[5:])["id"]
                            held += 1
                            if held == args.serve_streams:
                                all_open.set()
                            await all_open.wait()
                            answer = await client.post(
                                f"/api/v1/conversations/{cid}/elicitations/{eid}",
                                json={"action": "accept", "content": {"name": "Ada"}},
                                headers=headers,
                            )
                            assert answer.status_code == 200
                        elif event == "done" and line.startswith("data:"):
                            done += 1

            started = time.perf_counter()
            with anyio.fail_after(600):
                async with anyio.create_task_group() as tg:
                    for _ in range(args.serve_streams):
                        tg.start_soon(waiting_stream)
            results["streams_held"] = {
                "streams": args.serve_streams,
                "held_at_once": held,
                "finished": done,
                "seconds": round(time.perf_counter() - started, 2),
            }
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results["max_rss_mb"] = {"before": round(rss_before / 1024, 1), "after": round(rss_after / 1024, 1)}
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--serve-turns", type=int, default=100, help="first-token samples")
    parser.add_argument("--serve-calls", type=int, default=200, help="gateway/stdio tool-call samples")
    parser.add_argument("--serve-visitors", type=int, default=50, help="visitors asking at once")
    parser.add_argument("--serve-streams", type=int, default=200, help="SSE streams held at once")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="folio-bench-serve-"))
    cluster = EmbeddedPostgres(directory / "data")
    url = cluster.start()
    settings = FolioSettings(
        data_dir=directory / "data",
        portfolio_dir=ROOT / "configs" / "portfolio",
        database_url=url,
        log_level="warning",
    )
    try:
        return await bench(settings, directory, args)
    finally:
        cluster.stop()


def report(results: dict[str, Any]) -> None:
    print("\nserve (scripted zero-latency model, 127.0.0.1)")
    print(f"  {'measure':<58} {'p50 ms':>9} {'p95 ms':>9}")
    for label, key in (
        ("first token, in-process chat", "first_token_in_process"),
        ("first token, POST …/messages (SSE)", "first_token_http"),
        ("first token, added by HTTP", "first_token_added"),
        ("tool call, fleet stdio session", "tool_call_stdio"),
        ("tool call, /mcp gateway (Streamable HTTP)", "tool_call_gateway"),
    ):
        row = results[key]
        print(f"  {label:<58} {row['p50_ms']:>9} {row['p95_ms']:>9}")
    print(f"  gateway / stdio (p50): {results['gateway_over_stdio_p50']}×")
    t = results["turns_per_second"]
    print(f"  sustained: {t['per_second']} turns/s ({t['turns']} turns, {t['visitors']} visitors at once)")
    s = results["streams_held"]
    print(
        f"  streams held at once: {s['held_at_once']}/{s['streams']}, finished {s['finished']} in {s['seconds']} s"
    )
    print(f"  max RSS: {results['max_rss_mb']['before']} → {results['max_rss_mb']['after']} MB")
