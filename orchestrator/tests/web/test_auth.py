"""Tokens (hashed in PostgreSQL, with audience and expiry), the owner audience, and limits shared by
two replicas through the real Redis."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import anyio
import pytest
from pydantic import SecretStr

from folio_core.settings import FolioSettings
from folio_orchestrator.llm import FunctionModel, Message, ModelRequest, tool_call
from folio_orchestrator.web.limits import LimitSettings
from folio_orchestrator.web.tokens import TokenError, TokenStore, hash_token, parse_duration

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def script(messages: list[Message], request: ModelRequest) -> Any:
    last = messages[-1]
    if last.role == "user" and not last.results:
        if last.text.startswith("use "):
            return tool_call(last.text[4:], {})
        return f"You said: {last.text}"
    return "The tool said: " + " | ".join(r.content for r in last.results)


def model() -> FunctionModel:
    return FunctionModel(script, model_name="twin")


def test_durations() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration(" 12h ") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    for bad in ("", "0d", "10", "-1d", "3y"):
        with pytest.raises(TokenError, match="not a duration"):
            parse_duration(bad)


async def test_owner_tokens_see_the_owner_fleet_and_refused_tokens_get_401(
    web_fleet: Any, web_settings: FolioSettings, serving: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with anyio.fail_after(120):
        async with serving(web_fleet, web_settings, model()) as served:
            store: TokenStore = served.service.tokens
            _, secret = await store.create("laptop", audience="owner", expires_in=timedelta(days=1))
            _, expired = await store.create("old", audience="owner", expires_in=timedelta(seconds=-1))
            _, public_secret = await store.create("demo", audience="public")
            revoked_token, revoked = await store.create("lost", audience="owner")
            await store.revoke(str(revoked_token.id)[:8])
            auth = {"Authorization": f"Bearer {secret}"}
            async with served.client(headers=auth) as client:
                tools = {t["name"] for t in (await client.get("/api/v1/tools")).json()["tools"]}
                called = await client.post("/api/v1/tools/web__forget_everything", json={"arguments": {}})
                looked = await client.post("/api/v1/tools/web__lookup", json={"arguments": {"topic": "x"}})
                created = (await client.post("/api/v1/conversations")).json()
            async with served.client() as visitor:
                foreign = await visitor.get(f"/api/v1/conversations/{created['id']}")
                refused = {
                    name: (await visitor.get("/api/v1/tools", headers={"Authorization": value})).status_code
                    for name, value in {
                        "expired": f"Bearer {expired}",
                        "revoked": f"Bearer {revoked}",
                        "unknown": "Bearer folio_" + secrets.token_urlsafe(32),
                        "basic": "Basic dXNlcjpwYXNz",
                        "empty": "Bearer",
                    }.items()
                }
                www = (
                    await visitor.get("/api/v1/tools", headers={"Authorization": f"Bearer {revoked}"})
                ).headers
                public_tools = {
                    t["name"]
                    for t in (
                        await visitor.get(
                            "/api/v1/tools", headers={"Authorization": f"Bearer {public_secret}"}
                        )
                    ).json()["tools"]
                }
            listed = {t.name: t for t in await store.list()}
            async with served.service.history.pool.connection() as conn:
                hashes = [
                    r["token_hash"]
                    for r in await (await conn.execute("SELECT token_hash FROM host.api_tokens")).fetchall()
                ]
    assert "web__forget_everything" in tools
    assert called.status_code == 200 and called.json()["structuredContent"] == {"result": "forgotten"}
    assert looked.json()["structuredContent"] == {"result": "notes on x (audience unset)"}
    assert created["audience"] == "owner"
    assert foreign.status_code == 404
    assert refused == dict.fromkeys(refused, 401)
    assert www["www-authenticate"].startswith("Bearer")
    assert "web__forget_everything" not in public_tools and "web__lookup" in public_tools
    assert listed["lost"].revoked_at is not None and listed["laptop"].revoked_at is None
    assert listed["laptop"].last_used_at is not None and listed["demo"].audience == "public"
    assert hash_token(secret) in hashes and secret not in hashes
    captured = capsys.readouterr()
    for value in (secret, expired, revoked, public_secret):
        assert value not in captured.out and value not in captured.err


def test_the_tokens_command_creates_lists_and_revokes(folio_cli: Any, database_url: str) -> None:
    env = {"FOLIO_DATABASE_URL": database_url}
    created = folio_cli("tokens", "create", "--name", "ci", "--expires", "1h", "--json", env=env)
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert token["token"].startswith("folio_") and token["audience"] == "owner" and token["expires_at"]
    plain = folio_cli(
        "tokens", "create", "--name", "page", "--audience", "public", "--expires", "never", env=env
    )
    assert plain.returncode == 0 and plain.stdout.strip().startswith("folio_")
    assert "shown only now" in plain.stderr
    bad = folio_cli("tokens", "create", "--name", "x", "--expires", "soon", env=env)
    assert bad.returncode == 2 and "not a duration" in bad.stderr
    listed = folio_cli("tokens", "list", env=env)
    assert listed.returncode == 0 and "ci" in listed.stdout and "page" in listed.stdout
    assert token["token"] not in listed.stdout
    revoked = folio_cli("tokens", "revoke", token["id"][:8], env=env)
    assert revoked.returncode == 0 and token["id"] in revoked.stdout
    after = json.loads(folio_cli("tokens", "list", "--json", env=env).stdout)
    assert {t["name"]: t["revoked_at"] is not None for t in after} == {"ci": True, "page": False}
    missing = folio_cli("tokens", "revoke", "ffffffff", env=env)
    assert missing.returncode == 2 and "no token id starts with" in missing.stderr


async def test_two_replicas_share_conversations_and_rate_limits_through_redis(
    web_fleet: Any, web_settings: FolioSettings, serving: Any, sse: Any
) -> None:
    settings = web_settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:6379/0")})
    limits = LimitSettings(requests_per_minute=6)
    cookie = {"folio_visitor": secrets.token_urlsafe(24)}
    namespace = f"serve-test-{secrets.token_hex(6)}"  # the replicas share it; other runs do not
    with anyio.fail_after(180):
        async with (
            serving(
                web_fleet, settings, model(), limits=limits, audiences=["public"], cache_namespace=namespace
            ) as one,
            serving(
                web_fleet, settings, model(), limits=limits, audiences=["public"], cache_namespace=namespace
            ) as two,
            one.client(cookies=cookie) as a,
            two.client(cookies=cookie) as b,
        ):
            cid = (await a.post("/api/v1/conversations")).json()["id"]
            async with b.stream("POST", f"/api/v1/conversations/{cid}/messages", json={"content": "hi"}) as r:
                events = [e async for e in sse(r)]
            stored = await a.get(f"/api/v1/conversations/{cid}")
            statuses = [(await (a if i % 2 else b).get("/api/v1/tools")).status_code for i in range(4)]
    assert events[-1][1]["text"] == "You said: hi"
    assert [m["role"] for m in stored.json()["messages"]] == ["user", "assistant"]
    # 3 requests before, then 4: the 7th request of the minute is refused, on whichever replica
    assert statuses == [200, 200, 200, 429]


async def test_the_concurrency_cap_refuses_a_second_stream(
    web_fleet: Any, web_settings: FolioSettings, serving: Any, sse: Any
) -> None:
    limits = LimitSettings(concurrent=1)
    with anyio.fail_after(120):
        async with (
            serving(web_fleet, web_settings, model(), limits=limits) as served,
            served.client() as client,
        ):
            first = (await client.post("/api/v1/conversations")).json()["id"]
            second = (await client.post("/api/v1/conversations")).json()["id"]
            async with client.stream(
                "POST", f"/api/v1/conversations/{first}/messages", json={"content": "use web__introduce"}
            ) as r:
                async for event, data in sse(r):
                    if event == "elicitation":
                        busy = await client.post(
                            f"/api/v1/conversations/{second}/messages", json={"content": "hi"}
                        )
                        same = await client.post(
                            f"/api/v1/conversations/{first}/messages", json={"content": "hi"}
                        )
                        await client.post(
                            f"/api/v1/conversations/{first}/elicitations/{data['id']}",
                            json={"action": "decline"},
                        )
            after = await client.post(f"/api/v1/conversations/{second}/messages", json={"content": "hi"})
    assert busy.status_code == 429 and busy.headers["retry-after"]
    assert same.status_code == 429
    assert after.status_code == 200


async def test_a_form_answered_on_the_other_replica_reaches_the_streaming_one(
    web_fleet: Any, web_settings: FolioSettings, serving: Any, sse: Any
) -> None:
    settings = web_settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:6379/0")})
    namespace = f"serve-test-{secrets.token_hex(6)}"
    cookie = {"folio_visitor": secrets.token_urlsafe(24)}
    events: list[tuple[str, dict[str, Any]]] = []
    with anyio.fail_after(180):
        async with (
            serving(web_fleet, settings, model(), audiences=["public"], cache_namespace=namespace) as one,
            serving(web_fleet, settings, model(), audiences=["public"], cache_namespace=namespace) as two,
            one.client(cookies=cookie) as a,
            two.client(cookies=cookie) as b,
            two.client() as stranger,
        ):
            cid = (await a.post("/api/v1/conversations")).json()["id"]
            async with a.stream(
                "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "use web__introduce"}
            ) as r:
                async for event, data in sse(r):
                    events.append((event, data))
                    if event == "elicitation":
                        url = f"/api/v1/conversations/{cid}/elicitations/{data['id']}"
                        foreign = await stranger.post(
                            url, json={"action": "accept", "content": {"name": "Eve"}}
                        )
                        invalid = await b.post(
                            url, json={"action": "accept", "content": {"role": "engineer"}}
                        )
                        answered = await b.post(url, json={"action": "accept", "content": {"name": "Bo"}})
    assert foreign.status_code == 404
    assert invalid.status_code == 422
    assert answered.status_code == 200
    assert events[-1][1]["text"] == 'The tool said: {"result":"hello Bo, recruiter"}'


async def test_a_visitors_conversation_is_capped_in_length_and_model_tokens(
    web_fleet: Any, web_settings: FolioSettings, serving: Any, sse: Any
) -> None:
    with anyio.fail_after(120):
        async with (
            serving(
                web_fleet, web_settings, model(), limits=LimitSettings(conversation_messages=2)
            ) as served,
            served.client() as client,
        ):
            cid = (await client.post("/api/v1/conversations")).json()["id"]
            async with client.stream(
                "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "one"}
            ) as r:
                first = [e async for e in sse(r)]
            second = await client.post(f"/api/v1/conversations/{cid}/messages", json={"content": "two"})
        async with (
            serving(web_fleet, web_settings, model(), limits=LimitSettings(tokens_per_minute=1)) as served,
            served.client() as client,
        ):
            cid = (await client.post("/api/v1/conversations")).json()["id"]
            async with client.stream(
                "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "one"}
            ) as r:
                spent = [e async for e in sse(r)]
            refused = await client.post(f"/api/v1/conversations/{cid}/messages", json={"content": "two"})
            stored = (await client.get(f"/api/v1/conversations/{cid}")).json()
    assert first[-1][1]["stopped"] == "answered"
    assert second.status_code == 409 and "as long as it can be" in second.json()["error"]["message"]
    assert spent[-1][1]["stopped"] == "answered" and spent[-1][1]["tokens"] > 1
    assert refused.status_code == 429 and "model-token limit" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]  # nothing half-stored
