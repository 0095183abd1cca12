"""The demo server through the SDK's in-memory Client, in both protocol eras and both audiences:
listing, permission (elicitation accept / decline / cancel, confirm: true, neither), bad input,
images, caching (process memory and Redis), progress, streamed output, cancellation, resources."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis
from mcp import Client, MCPError
from mcp.client import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ImageContent,
    LoggingMessageNotificationParams,
    ResourceUpdatedNotification,
    TextContent,
)

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO, tool_text
from folio_core.testing import call_fails as error
from folio_core.testing import call_ok as call
from folio_demo import sandbox as sb
from folio_demo.server import build_server

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
TRUCK = {"owners": {"a.py": ["ines"], "b.py": ["ines", "marek"], "c.py": ["marek"]}, "coverage": 0.5}
needs_namespace = pytest.mark.skipif(sb.tiers()["namespace"] is not None, reason="namespace tier unavailable")


def client(settings: FolioSettings, mode: str = "legacy", **kwargs: Any) -> Client:
    return Client(build_server(settings).mcp, mode=mode, **kwargs)


def answering(action: str, asked: list[str]) -> Any:
    async def elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if action == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action=action)  # type: ignore[arg-type]

    return elicit


# --- listing and showing ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_the_owner_lists_every_sample_demo_and_the_sandbox(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        listed = await call(c, "demo_list", {})
        tools = {t.name for t in (await c.list_tools()).tools}
    assert [d["name"] for d in listed["demos"]] == ["commit-chart", "edit-distance", "truck-factor"]
    assert listed["snippets"]["enabled"] is True and listed["sandbox"]["network"] == "off"
    assert tools == {
        "demo_list",
        "demo_show",
        "demo_run",
        "demo_run_snippet",
        "demo_snippets",
        "demo_explain",
    }


async def test_visitors_see_only_public_demos_and_no_snippet_tool(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings(audience="public")) as c:
        listed = await call(c, "demo_list", {})
        tools = {t.name for t in (await c.list_tools()).tools}
        hidden = await error(c, "demo_show", {"name": "edit-distance"})
        refused = await error(c, "demo_run", {"name": "edit-distance", "confirm": True})
    assert [d["name"] for d in listed["demos"]] == ["commit-chart", "truck-factor"]
    assert "demo_run_snippet" not in tools and listed["snippets"]["enabled"] is False
    assert "no demo named 'edit-distance'" in hidden and "no demo named" in refused


async def test_show_gives_schema_example_limits_and_source(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        shown = await call(c, "demo_show", {"name": "truck-factor"})
        source = await c.read_resource("demo://truck-factor/source")
        catalogue = json.loads((await c.read_resource("demo://catalogue")).contents[0].text)  # type: ignore[union-attr]
    assert [d["name"] for d in catalogue["demos"]] == ["commit-chart", "edit-distance", "truck-factor"]
    assert shown["input_schema"]["required"] == ["owners"] and shown["example_inputs"]["coverage"] == 0.5
    assert set(shown["files"]) == {"main.py", "truck.py"} and shown["limits"]["cpu_seconds"] == 2
    text = source.contents[0].text  # type: ignore[union-attr]
    assert "def truck_factor" in text and text.startswith("# Truck factor")


# --- permission ---------------------------------------------------------------------------------


@needs_namespace
@pytest.mark.parametrize("mode", ERAS)
async def test_with_elicitation_accepted_the_demo_runs_and_says_tier_and_limits(
    make_settings: Callable[..., FolioSettings], mode: str, runs_in: Callable[[], list[Any]]
) -> None:
    asked: list[str] = []
    async with client(make_settings(), mode, elicitation_callback=answering("accept", asked)) as c:
        result = await call(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK})
        run = json.loads((await c.read_resource(result["run_uri"])).contents[0].text)  # type: ignore[union-attr]
    assert len(asked) == 1 and "Network: off" in asked[0] and "wall clock 5 s" in asked[0]
    assert "truck factor: 2" in result["stdout"] and result["exit_code"] == 0
    assert (
        result["tier"] == "namespace" and result["limits"]["cpu_seconds"] == 2 and result["cached"] is False
    )
    assert run["status"] == "finished" and "truck factor: 2" in run["stdout"]
    assert runs_in() == [("demo", "truck-factor", "finished", False)]


@needs_namespace
@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(("action", "said"), [("decline", "declined"), ("cancel", "cancelled")])
async def test_declined_or_cancelled_nothing_runs(
    make_settings: Callable[..., FolioSettings],
    mode: str,
    action: str,
    said: str,
    runs_in: Callable[[], list[Any]],
) -> None:
    asked: list[str] = []
    async with client(make_settings(), mode, elicitation_callback=answering(action, asked)) as c:
        message = await error(c, "demo_run_snippet", {"code": "print('ran')"})
    assert asked and "print('ran')" in asked[0]
    assert f"The user {said}, so nothing ran" in message
    assert runs_in() == []


@needs_namespace
async def test_without_elicitation_confirm_true_is_needed(
    make_settings: Callable[..., FolioSettings], runs_in: Callable[[], list[Any]]
) -> None:
    async with client(make_settings()) as c:
        refused = await error(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK})
        assert runs_in() == []
        done = await call(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK, "confirm": True})
    assert "confirm: true" in refused and "Nothing ran" in refused and "Network: off" in refused
    assert done["exit_code"] == 0


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("demo_run", {"name": "no-such-demo", "confirm": True}, "no demo named 'no-such-demo'"),
        ("demo_run", {"name": "truck-factor", "inputs": {"owners": {}}, "confirm": True}, "inputs['owners']"),
        (
            "demo_run",
            {"name": "truck-factor", "inputs": {"owners": {"a": [1]}}, "confirm": True},
            "is not of type",
        ),
        (
            "demo_run",
            {"name": "truck-factor", "inputs": {"extra": 1, "owners": {"a": ["x"]}}, "confirm": True},
            "extra",
        ),
        ("demo_run_snippet", {"code": "", "confirm": True}, "empty"),
        ("demo_run_snippet", {"code": "x = 1\n" * 180_000, "confirm": True}, "larger than 256 KiB"),
        (
            "demo_run_snippet",
            {"code": "puts 1", "language": "ruby", "confirm": True},
            "unknown language 'ruby'",
        ),
    ],
)
async def test_bad_input_gets_a_clear_error_and_nothing_runs_or_asks(
    make_settings: Callable[..., FolioSettings],
    runs_in: Callable[[], list[Any]],
    tool: str,
    args: dict[str, Any],
    message: str,
) -> None:
    asked: list[str] = []
    async with client(make_settings(), elicitation_callback=answering("accept", asked)) as c:
        text = await error(c, tool, args)
    assert message in text, text
    assert asked == [] and runs_in() == []


# --- results, images, caching --------------------------------------------------------------------


@needs_namespace
async def test_the_chart_demo_returns_its_png_as_image_content(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        shown = await call(c, "demo_show", {"name": "commit-chart"})
        result = await c.call_tool(
            "demo_run", {"name": "commit-chart", "inputs": shown["example_inputs"], "confirm": True}
        )
    assert not result.is_error, tool_text(result)
    images = [b for b in result.content if isinstance(b, ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert base64.b64decode(images[0].data).startswith(b"\x89PNG")
    assert result.structured_content is not None
    assert result.structured_content["artefacts"][0]["name"] == "chart.png"


@needs_namespace
async def test_a_deterministic_demo_is_cached_per_inputs_and_not_asked_again(
    make_settings: Callable[..., FolioSettings], runs_in: Callable[[], list[Any]]
) -> None:
    asked: list[str] = []
    async with client(make_settings(), elicitation_callback=answering("accept", asked)) as c:
        first = await call(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK})
        second = await call(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK})
        other = await call(c, "demo_run", {"name": "truck-factor", "inputs": {**TRUCK, "coverage": 0.9}})
    assert first["cached"] is False and second["cached"] is True and other["cached"] is False
    assert second["stdout"] == first["stdout"] and second["run_id"] != first["run_id"]
    assert len(asked) == 2  # the cached run asked nothing, because nothing ran
    assert [row[2:] for row in runs_in()] == [("finished", False), ("finished", False)]


@needs_namespace
async def test_the_cache_lives_in_redis_when_configured(
    make_settings: Callable[..., FolioSettings], redis_url: str
) -> None:
    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter("folio:core:demo:run:*"):  # only this server's keys: others share the database
        r.delete(key)
    settings = make_settings(redis_url=redis_url)
    async with client(settings) as c:
        await call(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK, "confirm": True})
    keys = [k.decode() for k in r.keys("folio:core:demo:run:*")]
    assert len(keys) == 1 and 0 < r.pttl(keys[0]) <= 3600 * 1000
    async with client(settings) as c:  # a new server process would find it too
        again = await call(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK})
    assert again["cached"] is True
    for key in r.scan_iter("folio:core:demo:run:*"):
        r.delete(key)


# --- progress, streamed output, cancellation, subscriptions ----------------------------------------


@needs_namespace
@pytest.mark.parametrize("mode", ERAS)
async def test_progress_heartbeats_and_streamed_output_while_running(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    progress: list[tuple[float, str | None]] = []
    logs: list[tuple[str | None, Any]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logs.append((params.logger, params.data))

    code = "import sys, time\nprint('first', flush=True)\nprint('oops', file=sys.stderr, flush=True)\ntime.sleep(4.5)\nprint('last')"
    async with client(make_settings(), mode, logging_callback=on_log, log_level="info") as c:
        result = await call(
            c, "demo_run_snippet", {"code": code, "confirm": True}, progress_callback=on_progress
        )
    messages = [m or "" for _, m in progress]
    assert messages[0].startswith("preparing run") and messages[-1] == "collecting the output"
    assert sum(m.startswith("running: ") for m in messages) >= 2  # a heartbeat at least every 2 s
    values = [v for v, _ in progress]
    assert values == sorted(values)
    assert ("stdout", "first\n") in logs and ("stderr", "oops\n") in logs
    assert result["stdout"] == "first\nlast\n"


@needs_namespace
async def test_runs_beyond_the_free_sandboxes_wait_and_say_so(
    make_settings: Callable[..., FolioSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    import folio_demo.service

    monkeypatch.setattr(folio_demo.service, "MAX_CONCURRENT_RUNS", 1)
    first_printed = anyio.Event()
    messages: list[str] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        if params.data == "first\n":
            first_printed.set()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")

    first = "import time\nprint('first', flush=True)\ntime.sleep(5)"
    results: list[dict[str, Any]] = []
    async with (
        client(make_settings(), logging_callback=on_log, log_level="info") as c,
        anyio.create_task_group() as tg,
    ):

        async def run_first() -> None:
            results.append(await call(c, "demo_run_snippet", {"code": first, "confirm": True}))

        tg.start_soon(run_first)
        with anyio.fail_after(60):
            await first_printed.wait()
        second = await call(
            c,
            "demo_run_snippet",
            {"code": "print('second')", "confirm": True},
            progress_callback=on_progress,
        )
    assert second["stdout"] == "second\n" and results[0]["stdout"] == "first\n"
    assert any(m.startswith("waiting for a free sandbox: ") for m in messages)


@needs_namespace
async def test_cancelling_the_request_kills_the_run(
    make_settings: Callable[..., FolioSettings],
    leftovers: Callable[[str], list[int]],
    runs_in: Callable[[], list[Any]],
) -> None:
    pidns: list[str] = []
    printed = anyio.Event()

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        if params.logger == "stdout":
            pidns.append(str(params.data).split()[0])
            printed.set()

    code = "import os, time\nprint(os.readlink('/proc/self/ns/pid'), flush=True)\ntime.sleep(60)"
    async with client(make_settings(), logging_callback=on_log, log_level="info") as c:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: c.call_tool("demo_run_snippet", {"code": code, "confirm": True}))
            with anyio.fail_after(60):
                await printed.wait()
            tg.cancel_scope.cancel()
        with anyio.fail_after(30):
            while not runs_in() or runs_in()[0][2] == "running":
                await anyio.sleep(0.05)
        alive = await call(c, "demo_list", {})
    assert leftovers(pidns[0]) == []
    assert runs_in() == [("snippet", None, "cancelled", False)]
    assert alive["demos"]


@needs_namespace
async def test_subscribers_of_a_run_hear_of_it_while_it_runs(
    make_settings: Callable[..., FolioSettings],
) -> None:
    updated: list[str] = []
    run_id: list[str] = []
    started = anyio.Event()
    heard = anyio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        if message and message.startswith("preparing run"):
            run_id.append(message.split()[-1])
            started.set()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))
            heard.set()

    code = "import time\nprint('working', flush=True)\ntime.sleep(3)"
    async with client(make_settings(), message_handler=on_message) as c:
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                await started.wait()
                await c.subscribe_resource(f"demo://runs/{run_id[0]}")

            tg.start_soon(watch)
            result = await call(
                c, "demo_run_snippet", {"code": code, "confirm": True}, progress_callback=on_progress
            )
        with anyio.fail_after(30):
            await heard.wait()
        view = json.loads((await c.read_resource(result["run_uri"])).contents[0].text)  # type: ignore[union-attr]
    assert f"demo://runs/{run_id[0]}" in updated
    assert view["status"] == "finished" and view["stdout"] == "working\n"


@needs_namespace
async def test_listeners_of_a_run_hear_of_it_on_the_2026_path(
    make_settings: Callable[..., FolioSettings],
) -> None:
    run_id: list[str] = []
    heard: list[str] = []
    started, got = anyio.Event(), anyio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        if message and message.startswith("preparing run"):
            run_id.append(message.split()[-1])
            started.set()

    code = "import time\nprint('working', flush=True)\ntime.sleep(3)"
    async with client(make_settings(), "auto") as c:
        assert c.protocol_version == "2026-07-28"

        async def listen() -> None:
            await started.wait()
            async with c.listen(resource_subscriptions=[f"demo://runs/{run_id[0]}"]) as subscription:
                async for event in subscription:
                    heard.append(str(getattr(event, "uri", "")))
                    got.set()
                    return

        async with anyio.create_task_group() as tg:
            tg.start_soon(listen)
            await call(c, "demo_run_snippet", {"code": code, "confirm": True}, progress_callback=on_progress)
            with anyio.fail_after(30):
                await got.wait()
    assert heard == [f"demo://runs/{run_id[0]}"]


# --- snippets, explanations, prompts --------------------------------------------------------------


@pytest.mark.slow
async def test_snippets_are_found_by_meaning_with_their_location(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        found = await call(
            c, "demo_snippets", {"query": "how many authors can leave before files are orphaned"}
        )
        public = await call(c, "demo_snippets", {"query": "levenshtein edit distance", "limit": 20})
        charts = await call(c, "demo_snippets", {"query": "render a pie or bar chart as PNG image content"})
    top = next(s for s in found["snippets"] if s["demo"] == "truck-factor")
    assert top["location"].startswith("demos/truck-factor/truck.py:") and "def truck_factor" in top["code"]
    assert (
        found["snippets"][0]["code"].lstrip().startswith("def truck_factor")
    )  # the demo's or the repository's
    assert any(s["demo"] == "edit-distance" for s in public["snippets"])
    from_repo = charts["snippets"][0]
    assert from_repo["repository"] == "folio" and from_repo["location"].startswith(
        "folio/shared/src/folio_core/charts.py:"
    )
    async with client(make_settings(audience="public")) as c:
        visitor = await call(c, "demo_snippets", {"query": "levenshtein edit distance", "limit": 20})
    assert all(s["demo"] != "edit-distance" for s in visitor["snippets"])


async def test_explain_samples_when_it_can_and_returns_the_source_when_it_cannot(
    make_settings: Callable[..., FolioSettings],
) -> None:
    prompts: list[str] = []

    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        content = params.messages[0].content
        assert isinstance(content, TextContent)
        prompts.append(content.text)
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text="It estimates a truck factor."),
            model="scripted",
        )

    async with client(make_settings(), sampling_callback=sample) as c:
        sampled = await call(c, "demo_explain", {"name": "truck-factor", "audience": "a hiring manager"})
    async with client(make_settings()) as c:
        plain = await call(c, "demo_explain", {"name": "truck-factor"})
    assert sampled["explanation"] == "It estimates a truck factor." and "a hiring manager" in prompts[0]
    assert "def truck_factor" in prompts[0]
    assert plain["explanation"] is None and "def truck_factor" in plain["source"] and plain["instructions"]


async def test_the_tutorial_prompt_walks_through_a_demo(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as c:
        prompt = await c.get_prompt("demo_tutorial", {"name": "truck-factor"})
    text = prompt.messages[0].content.text  # type: ignore[union-attr]
    assert "demo_run" in text and "def truck_factor" in text and '"coverage": 0.5' in text


@needs_namespace
async def test_visitors_cannot_read_the_owners_runs(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as owner:
        ran = await call(owner, "demo_run_snippet", {"code": "print('private')", "confirm": True})
        assert "private" in (await owner.read_resource(ran["run_uri"])).contents[0].text  # type: ignore[union-attr]
    async with client(make_settings(audience="public")) as visitor:
        with pytest.raises(MCPError, match="no run"):
            await visitor.read_resource(ran["run_uri"])
        public = await call(visitor, "demo_run", {"name": "truck-factor", "inputs": TRUCK, "confirm": True})
        view = json.loads((await visitor.read_resource(public["run_uri"])).contents[0].text)  # type: ignore[union-attr]
    assert view["status"] == "finished"


@needs_namespace
async def test_visitor_snippets_when_enabled_run_under_the_visitor_limits(
    make_settings: Callable[..., FolioSettings], tmp_path: Path
) -> None:
    portfolio = tmp_path / "portfolio"
    (portfolio / "demos").mkdir(parents=True)
    (portfolio / "demos" / "settings.yaml").write_text("visitor_snippets: true\n")
    async with client(make_settings(audience="public", portfolio_dir=portfolio)) as c:
        result = await call(c, "demo_run_snippet", {"code": "print(6 * 7)", "confirm": True})
    assert result["stdout"] == "42\n" and result["limits"] == sb.VISITOR_LIMITS.as_dict()


async def test_without_any_sandbox_the_tools_refuse_and_nothing_runs(
    make_settings: Callable[..., FolioSettings],
    monkeypatch: pytest.MonkeyPatch,
    runs_in: Callable[[], list[Any]],
) -> None:
    monkeypatch.setattr(sb, "_namespace_problem", lambda: "the kernel refused new namespaces")
    monkeypatch.setattr(sb, "_interpreter_problem", lambda: "pydantic-monty is not installed")
    async with client(make_settings()) as c:
        listed = await call(c, "demo_list", {})
        snippet = await error(c, "demo_run_snippet", {"code": "print(1)", "confirm": True})
        demo = await error(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK, "confirm": True})
    assert listed["sandbox"]["tiers"] == {"namespace": False, "interpreter": False}
    assert "nothing ran" in snippet and "kernel refused" in snippet and "nothing ran" in demo
    assert runs_in() == []


async def test_with_only_the_interpreter_a_python_snippet_runs_there_and_a_multi_file_demo_is_refused(
    make_settings: Callable[..., FolioSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    if sb.tiers()["interpreter"] is not None:
        pytest.skip("interpreter tier unavailable")
    monkeypatch.setattr(sb, "_namespace_problem", lambda: "not Linux")
    async with client(make_settings()) as c:
        ran = await call(c, "demo_run_snippet", {"code": "print(sum(range(10)))", "confirm": True})
        javascript = await error(
            c, "demo_run_snippet", {"code": "console.log(1)", "language": "javascript", "confirm": True}
        )
        demo = await error(c, "demo_run", {"name": "truck-factor", "inputs": TRUCK, "confirm": True})
    assert ran["tier"] == "interpreter" and ran["stdout"] == "45\n"
    assert "Python only" in javascript and "several files" in demo


def test_the_sample_portfolio_has_no_demo_problems() -> None:
    from folio_demo.demos import load_catalogue

    catalogue = load_catalogue(SAMPLE_PORTFOLIO)
    assert catalogue.problems == () and len(catalogue.demos) == 3
