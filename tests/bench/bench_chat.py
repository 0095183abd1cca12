"""Benchmark of the chat (``folio_orchestrator.chat`` / ``agent``): what the orchestrator itself
adds to a chat turn, with a scripted model that answers instantly so that only Folio's time remains.

* per turn: the model calls one trivial tool, then answers with text (two model requests, one
  tool call over stdio); wall time of ``agent.turn()`` minus the model's own time (the time spent
  inside the model's stream, measured around each event it yields), p50/p95, with the history
  written to PostgreSQL (as ``folio chat`` does) and without, in alternating chunks;
* time to first token: from ``agent.turn()`` to the first ``TextDelta`` reaching the event sink,
  with a model that streams its answer at once; raw, and minus the model's own time before it.

The fleet is a trivial one-tool SDK server plus ``folio-profile`` (whose résumé is in the system
prompt and whose tools are offered, as in a real chat), on an embedded PostgreSQL the benchmark holds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any

from bench_profile import summary  # the benchmarks' shared p50/p95 summary (tests/bench is on sys.path)

from folio_core.db.embedded import EmbeddedPostgres
from folio_core.settings import FolioSettings
from folio_orchestrator.agent import Agent, AgentEvent
from folio_orchestrator.chat import ChatHost, ChatOptions
from folio_orchestrator.config import parse_fleet
from folio_orchestrator.llm import (
    FunctionModel,
    Message,
    ModelRequest,
    StreamEvent,
    TextDelta,
    ToolSpec,
    tool_call,
)

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = Path(__file__).with_name("trivial_server.py")

NAME = "chat"


class TimedModel(FunctionModel):
    """A FunctionModel that adds up the time spent inside its own stream (``model_seconds``)."""

    model_seconds = 0.0

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int = 2048,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        inner = super().stream(
            messages, system=system, tools=tools, max_tokens=max_tokens, temperature=temperature, stop=stop
        )
        try:
            while True:
                started = time.perf_counter()
                try:
                    event = await anext(inner)
                except StopAsyncIteration:
                    return
                finally:
                    self.model_seconds += time.perf_counter() - started
                yield event
        finally:
            await inner.aclose()


def one_tool_then_answer(messages: list[Message], request: ModelRequest) -> Any:
    if messages[-1].role == "user":
        return tool_call("trivial__echo", {"text": "ping"})
    return "The tool said " + messages[-1].results[0].content


def answer_at_once(messages: list[Message], request: ModelRequest) -> str:
    return "Hello! I am the twin, answering at once."


async def timed_turns(agent: Agent, model: TimedModel, count: int) -> list[float]:
    """Orchestrator seconds per turn (wall minus model), each turn in a fresh context."""
    out = []
    for _ in range(count):
        agent.messages.clear()  # same context size every turn (the conversation row is reused)
        model.model_seconds = 0.0
        started = time.perf_counter()
        result = await agent.turn("Ping the trivial tool")
        wall = time.perf_counter() - started
        if result.stopped != "answered" or result.steps != 2:
            raise RuntimeError(f"unexpected turn: {result}")
        out.append(wall - model.model_seconds)
    return out


async def first_tokens(agent: Agent, model: TimedModel, count: int) -> tuple[list[float], list[float]]:
    """Seconds from ``turn()`` to the first TextDelta at the sink: raw, and minus the model's time."""
    raw: list[float] = []
    own: list[float] = []
    for _ in range(count):
        agent.messages.clear()
        model.model_seconds = 0.0
        seen: dict[str, float] = {}

        def sink(event: AgentEvent, seen: dict[str, float] = seen) -> None:
            if isinstance(event, TextDelta) and "at" not in seen:
                seen["at"] = time.perf_counter()
                seen["model"] = model.model_seconds

        started = time.perf_counter()
        await agent.turn("Hello", sink)
        raw.append(seen["at"] - started)
        own.append(seen["at"] - started - seen["model"])
    return raw, own


async def bench(settings: FolioSettings, directory: Path, turns: int, chunks: int) -> dict[str, Any]:
    config = parse_fleet(
        {
            "mcpServers": {
                "trivial": {"command": sys.executable, "args": [str(TRIVIAL)]},
                "profile": {"command": "folio-profile"},
            }
        },
        directory / "chat-fleet.json",
    )
    turn_model = TimedModel(one_tool_then_answer, model_name="instant")
    host = ChatHost(config, settings, ChatOptions(model=turn_model))
    async with host.running():
        bad = [s for s in host.fleet.status() if s.state.value != "ready"]
        if bad:
            raise RuntimeError(f"servers did not start: {[(s.name, s.reason, s.stderr_tail) for s in bad]}")
        with_history = await host.new_conversation()
        without_history = Agent(
            turn_model, with_history.tools, system=with_history.system, history=None, conversation=None
        )
        tools = len(with_history.tools.tool_specs())
        for agent in (with_history, without_history):  # warm-up
            await timed_turns(agent, turn_model, 10)
        history_times: list[float] = []
        bare_times: list[float] = []
        per_chunk = max(1, turns // chunks)
        for _ in range(chunks):  # alternate, so that load from elsewhere hits both alike
            history_times += await timed_turns(with_history, turn_model, per_chunk)
            bare_times += await timed_turns(without_history, turn_model, per_chunk)

        text_model = TimedModel(answer_at_once, model_name="instant-text")
        await host.use_model(text_model)
        streaming = await host.new_conversation()
        await first_tokens(streaming, text_model, 10)  # warm-up
        ttft_raw, ttft_own = await first_tokens(streaming, text_model, turns)
    return {
        "tools_offered": tools,
        "system_prompt_chars": len(with_history.system),
        "turn_with_history": summary(history_times),
        "turn_without_history": summary(bare_times),
        "first_token_raw": summary(ttft_raw),
        "first_token_orchestrator": summary(ttft_own),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("chat")
    group.add_argument("--chat-turns", type=int, default=100, help="measured turns per variant")
    group.add_argument("--chat-chunks", type=int, default=5, help="alternating chunks of turns")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="folio-bench-chat-"))
    cluster = EmbeddedPostgres(directory / "data")
    url = cluster.start()  # the bench holds the embedded database, as another client would
    settings = FolioSettings(
        data_dir=directory / "data",
        portfolio_dir=ROOT / "configs" / "portfolio",
        database_url=url,
        log_level="warning",
    )
    try:
        return await bench(settings, directory, args.chat_turns, args.chat_chunks)
    finally:
        cluster.stop()


def report(results: dict[str, Any]) -> None:
    print(
        f"\nchat (orchestrator time, scripted zero-latency model; {results['tools_offered']} tools offered, "
        f"system prompt {results['system_prompt_chars']:,} chars)"
    )
    print(f"  {'measure':<62} {'p50 ms':>9} {'p95 ms':>9}")
    rows = [
        ("turn: 2 model steps + 1 stdio tool call, history written", results["turn_with_history"]),
        ("turn: the same, no history", results["turn_without_history"]),
        ("first token: turn() → first TextDelta at the sink (raw)", results["first_token_raw"]),
        ("first token: the same minus the model's own time", results["first_token_orchestrator"]),
    ]
    for label, row in rows:
        print(f"  {label:<62} {row['p50_ms']:>9.2f} {row['p95_ms']:>9.2f}")
    history_cost = results["turn_with_history"]["p50_ms"] - results["turn_without_history"]["p50_ms"]
    print(f"  {'history writes per turn (p50 difference)':<62} {history_cost:>9.2f}")
