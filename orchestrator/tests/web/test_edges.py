"""Malformed input at every endpoint that takes a body or a path parameter: each gets a clear 4xx
with the error's JSON shape, never a 5xx, and the service keeps answering."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"[1, 2, 3]",
    b'"a string"',
    b"42",
    b"{",
    b'{"content": null}',
    b'{"content": 12}',
    b'{"content": ["a"]}',
    b'{"content": {"nested": true}}',
    b'{"content": ""}',
    b'{"action": 1}',
    b'{"action": "accept", "content": "text"}',
    b'{"action": "accept", "content": [1]}',
    b'{"arguments": []}',
    b'{"arguments": "x"}',
    b'{"arguments": {"topic": 5}}',
    b"\xff\xfe\x00garbage",
    '{"content": "\ud800"}'.encode("utf-8", "surrogatepass"),
    b'{"content": "' + b"\\u0000" * 10 + b'"}',
    b"[" * 5000 + b"]" * 5000,
]


async def test_malformed_bodies_and_paths_get_clear_client_errors(
    web_fleet: Any, web_settings: Any, serving: Any
) -> None:
    from folio_orchestrator.llm import FunctionModel

    model = FunctionModel(lambda messages, request: "ok", model_name="twin")
    statuses: dict[tuple[str, int], int] = {}
    with anyio.fail_after(180):
        async with serving(web_fleet, web_settings, model) as served, served.client() as client:
            cid = (await client.post("/api/v1/conversations")).json()["id"]
            targets = [
                f"/api/v1/conversations/{cid}/messages",
                f"/api/v1/conversations/{cid}/elicitations/none",
                "/api/v1/tools/web__lookup",
                "/api/v1/tools/no__such_tool",
                "/api/v1/conversations/not-a-uuid/messages",
                "/api/v1/conversations/%00/messages",
            ]
            for target in targets:
                for i, body in enumerate(BODIES):
                    response = await client.post(
                        target, content=body, headers={"content-type": "application/json"}
                    )
                    statuses[(target, i)] = response.status_code
                    if response.status_code >= 400:
                        error = response.json()["error"]
                        assert error["status"] == response.status_code and error["message"]
            methods = {
                "get_messages": (await client.get(f"/api/v1/conversations/{cid}/messages")).status_code,
                "delete_tools": (await client.delete("/api/v1/tools")).status_code,
                "unknown_static": (await client.get("/static/../pyproject.toml")).status_code,
                "unknown_static_type": (await client.get("/static/app.py")).status_code,
            }
            still = await client.get("/healthz")
    assert all(400 <= s < 500 or s == 200 for s in statuses.values()), {
        k: v for k, v in statuses.items() if v >= 500
    }
    # what succeeds: calls of the lookup tool (which validates its own arguments and answers
    # is_error), and the one body whose "content" is a real question
    ok = {k for k, v in statuses.items() if v == 200}
    question = BODIES.index(b'{"action": "accept", "content": "text"}')
    assert {k for k in ok if k[0] != "/api/v1/tools/web__lookup"} == {(targets[0], question)}
    assert methods["get_messages"] == 405 and methods["delete_tools"] == 405
    assert methods["unknown_static"] == 404 and methods["unknown_static_type"] == 404
    assert still.status_code == 200
