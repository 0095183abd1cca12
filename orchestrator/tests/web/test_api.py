"""``folio serve`` over real HTTP: a real uvicorn on 127.0.0.1, a real fleet of test servers, the
real history database, and a scripted model (FunctionModel)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from folio_orchestrator.llm import FunctionModel, Message, ModelRequest, tool_call
from folio_orchestrator.web.limits import LimitSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def script(messages: list[Message], request: ModelRequest) -> Any:
    """Calls the tool the question names (``use web__x {json}``), then answers with its result."""
    last = messages[-1]
    if last.role == "user" and not last.results:
        text = last.text
        if text.startswith("use "):
            name, _, args = text[4:].partition(" ")
            return tool_call(name, json.loads(args) if args else {})
        return f"You said: {text}"
    return "The tool said: " + " | ".join(r.content for r in last.results)


def model() -> FunctionModel:
    return FunctionModel(script, model_name="twin")


async def collect(client: Any, sse: Any, cid: str, question: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    async with client.stream(
        "POST", f"/api/v1/conversations/{cid}/messages", json={"content": question}
    ) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        async for event in sse(r):
            events.append(event)
    return events


async def test_health_ready_metrics_openapi(web_fleet: Any, web_settings: Any, serving: Any) -> None:
    with anyio.fail_after(120):
        async with serving(web_fleet, web_settings, model()) as served, served.client() as client:
            assert (await client.get("/healthz")).json() == {"ok": True}
            ready = (await client.get("/readyz")).json()
            assert ready["ok"] and ready["database"]
            assert ready["fleets"] == {"public": {"web": "ready"}, "owner": {"web": "ready"}}
            spec = (await client.get("/api/v1/openapi.json")).json()
            assert spec["openapi"].startswith("3.1")
            assert "/api/v1/conversations/{cid}/messages" in spec["paths"]
            await client.get("/api/v1/tools")
            text = (await client.get("/metrics")).text
    assert "# TYPE folio_http_requests_total counter" in text
    assert 'folio_http_requests_total{method="GET",route="/api/v1/tools",status="200"} 1' in text
    assert 'folio_fleet_server_ready{audience="public",server="web"} 1' in text
    assert 'folio_http_request_seconds_bucket{route="/healthz",le="+Inf"} 1' in text


async def test_a_conversation_streams_tokens_tool_steps_and_an_image_and_is_stored(
    web_fleet: Any, web_settings: Any, serving: Any, sse: Any
) -> None:
    with anyio.fail_after(120):
        async with serving(web_fleet, web_settings, model()) as served, served.client() as client:
            created = await client.post("/api/v1/conversations")
            assert created.status_code == 201
            cid = created.json()["id"]
            assert created.json()["audience"] == "public"
            events = await collect(client, sse, cid, "use web__chart")
            more = await collect(client, sse, cid, "and hello there")
            stored = (await client.get(f"/api/v1/conversations/{cid}")).json()
            metrics = (await client.get("/metrics")).text
    kinds = [e for e, _ in events]
    assert kinds[0] == "tool_call" and kinds[-1] == "done"
    call = events[0][1]
    assert call["name"] == "web__chart"
    result = next(d for e, d in events if e == "tool_result")
    assert result["server"] == "web" and result["tool"] == "chart" and result["outcome"] == "ok"
    assert result["images"][0]["mime_type"] == "image/png" and result["images"][0]["data"]
    tokens = "".join(d["text"] for e, d in events if e == "token")
    assert tokens == "The tool said: skills chart\n[image]"
    assert events[-1][1]["stopped"] == "answered"
    assert "".join(d["text"] for e, d in more if e == "token") == "You said: and hello there"
    roles = [m["role"] for m in stored["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    assert stored["title"] == "use web__chart"
    assert stored["tool_calls"][0]["tool"] == "chart"
    assert 'folio_tool_calls_total{outcome="ok",server="web"} 1' in metrics
    assert (
        'folio_llm_tokens_total{direction="input",model="test:twin"}' in metrics
        or "folio_llm_tokens_total{" in metrics
    )


async def test_progress_and_an_elicitation_form_answered_through_the_api(
    web_fleet: Any, web_settings: Any, serving: Any, sse: Any
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    with anyio.fail_after(120):
        async with serving(web_fleet, web_settings, model()) as served, served.client() as client:
            cid = (await client.post("/api/v1/conversations")).json()["id"]
            events += await collect(client, sse, cid, 'use web__steps {"count": 3}')
            async with client.stream(
                "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "use web__introduce"}
            ) as r:
                async for event, data in sse(r):
                    events.append((event, data))
                    if event == "elicitation":
                        assert data["mode"] == "form" and data["message"] == "Who is asking?"
                        assert set(data["schema"]["properties"]) == {"name", "role", "newsletter"}
                        url = f"/api/v1/conversations/{cid}/elicitations/{data['id']}"
                        bad = await client.post(
                            url, json={"action": "accept", "content": {"role": "recruiter"}}
                        )
                        assert (
                            bad.status_code == 422 and "'name' is required" in bad.json()["error"]["message"]
                        )
                        wrong = await client.post(
                            url, json={"action": "accept", "content": {"name": "Ada", "role": "cto"}}
                        )
                        assert wrong.status_code == 422
                        ok = await client.post(
                            url, json={"action": "accept", "content": {"name": "Ada", "role": "engineer"}}
                        )
                        assert ok.status_code == 200
                        again = await client.post(url, json={"action": "decline"})
                        assert again.status_code == 404
    progress = [d for e, d in events if e == "progress"]
    assert [p["progress"] for p in progress] == [1, 2, 3] and progress[-1]["total"] == 3
    assert progress[0]["message"] == "step 1"
    assert progress[0]["call_id"] == events[0][1]["id"]
    answers = [d["text"] for e, d in events if e == "done"]
    assert answers == [
        'The tool said: {"result":"did 3 steps"}',
        'The tool said: {"result":"hello Ada, engineer"}',
    ]


async def test_visitors_get_read_only_tools_and_only_their_own_conversations(
    web_fleet: Any, web_settings: Any, serving: Any, sse: Any
) -> None:
    with anyio.fail_after(120):
        async with (
            serving(web_fleet, web_settings, model()) as served,
            served.client() as alice,
            served.client() as bob,
        ):
            tools = (await alice.get("/api/v1/tools")).json()["tools"]
            names = {t["name"] for t in tools}
            cid = (await alice.post("/api/v1/conversations")).json()["id"]
            denied = await bob.get(f"/api/v1/conversations/{cid}")
            denied_post = await bob.post(f"/api/v1/conversations/{cid}/messages", json={"content": "hi"})
            owner_tool = await alice.post("/api/v1/tools/web__forget_everything", json={"arguments": {}})
            lookup = await alice.post("/api/v1/tools/web__lookup", json={"arguments": {"topic": "kafka"}})
            events = await collect(alice, sse, cid, "use web__forget_everything")
            unknown = await alice.get("/api/v1/conversations/00000000-0000-0000-0000-000000000000")
            not_uuid = await alice.get("/api/v1/conversations/nope")
    assert "web__lookup" in names and "web__forget_everything" not in names
    assert denied.status_code == 404 and denied_post.status_code == 404
    assert owner_tool.status_code == 404
    assert lookup.status_code == 200
    assert lookup.json()["structuredContent"] == {"result": "notes on kafka (audience unset)"}
    result = next(d for e, d in events if e == "tool_result")
    assert result["is_error"] and "there is no tool" in result["content"]
    assert unknown.status_code == 404 and not_uuid.status_code == 404


async def test_bad_bodies_huge_messages_and_limits(
    web_fleet: Any, web_settings: Any, serving: Any, sse: Any
) -> None:
    limits = LimitSettings(requests_per_minute=8)
    with anyio.fail_after(120):
        async with (
            serving(web_fleet, web_settings, model(), limits=limits) as served,
            served.client() as client,
        ):
            cid = (await client.post("/api/v1/conversations")).json()["id"]
            url = f"/api/v1/conversations/{cid}/messages"
            malformed = await client.post(
                url, content=b"{not json", headers={"content-type": "application/json"}
            )
            empty = await client.post(url, json={"content": "   "})
            huge = await client.post(url, content=b'{"content": "' + b"x" * (10 * 1024 * 1024) + b'"}')
            long_question = await client.post(url, json={"content": "y" * 9000})
            statuses = [(await client.get("/api/v1/tools")).status_code for _ in range(6)]
            limited = await client.get("/api/v1/tools")
            health = await client.get("/healthz")
    assert malformed.status_code == 400 and "not JSON" in malformed.json()["error"]["message"]
    assert empty.status_code == 422
    assert huge.status_code == 413
    assert long_question.status_code == 413
    assert statuses[:2] == [200, 200] and 429 in statuses
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert health.status_code == 200  # operations are never limited


async def test_a_client_that_disconnects_mid_stream_keeps_what_was_committed(
    web_fleet: Any, web_settings: Any, serving: Any, sse: Any
) -> None:
    with anyio.fail_after(120):
        async with serving(web_fleet, web_settings, model(), elicitation_timeout=60) as served:
            async with served.client() as client:
                cid = (await client.post("/api/v1/conversations")).json()["id"]
                await collect(client, sse, cid, "first question")
                async with client.stream(
                    "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "use web__introduce"}
                ) as r:
                    async for event, _ in sse(r):
                        if event == "elicitation":
                            break  # leave while the server waits for the form
            async with served.client() as again:
                again.cookies = client.cookies
                # the cancelled turn is stored: its question, the call, and a result for the call
                await served.service.wait_turns_ended(2)
                stored = (await again.get(f"/api/v1/conversations/{cid}")).json()
                after = await collect(again, sse, cid, "still there?")
    roles = [m["role"] for m in stored["messages"]]
    assert roles[:2] == ["user", "assistant"] and roles[2:5] == ["user", "assistant", "tool"]
    assert stored["messages"][4]["content"]["content"][0]["is_error"] is True
    assert [d["text"] for e, d in after if e == "done"] == ["You said: still there?"]
