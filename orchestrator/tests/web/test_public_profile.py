"""Visitors and the real profile server: the public fleet runs with FOLIO_AUDIENCE=public, so the
résumé, the twin's system prompt and the tools a visitor reaches carry no contact details and no
owner tool; the owner's token sees them."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from folio_core.testing import SAMPLE_PORTFOLIO
from folio_orchestrator.llm import FunctionModel, Message, ModelRequest

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
RESUME = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text(encoding="utf-8"))
EMAIL = RESUME["basics"]["email"]


async def test_a_visitor_gets_the_public_profile_and_the_owner_the_private_one(
    fleet_config: Any, web_settings: Any, serving: Any
) -> None:
    systems: list[str] = []

    def script(messages: list[Message], request: ModelRequest) -> str:
        systems.append(request.system or "")
        return "Hello."

    config = fleet_config({"profile": {"command": "folio-profile"}})
    with anyio.fail_after(180):
        async with serving(config, web_settings, FunctionModel(script, model_name="twin")) as served:
            _, secret = await served.service.tokens.create("owner", audience="owner")
            async with served.client() as visitor:
                card = (await visitor.get("/api/v1/owner")).json()
                public_resume = (await visitor.get("/api/v1/resume")).text
                public_tools = {t["name"] for t in (await visitor.get("/api/v1/tools")).json()["tools"]}
                cid = (await visitor.post("/api/v1/conversations")).json()["id"]
                async with visitor.stream(
                    "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "hi"}
                ) as r:
                    await r.aread()
            async with served.client(headers={"Authorization": f"Bearer {secret}"}) as owner:
                owner_resume = (await owner.get("/api/v1/resume")).text
                owner_tools = {t["name"] for t in (await owner.get("/api/v1/tools")).json()["tools"]}
                cid = (await owner.post("/api/v1/conversations")).json()["id"]
                async with owner.stream(
                    "POST", f"/api/v1/conversations/{cid}/messages", json={"content": "hi"}
                ) as r:
                    await r.aread()
    assert card == {"name": RESUME["basics"]["name"], "headline": RESUME["basics"]["label"]}
    assert EMAIL not in public_resume and RESUME["basics"]["name"] in public_resume
    assert EMAIL in owner_resume
    assert "profile__profile_update" in owner_tools and "profile__profile_update" not in public_tools
    assert "profile__profile_search" in public_tools
    assert len(systems) == 2
    assert EMAIL not in systems[0] and "a visitor" in systems[0]
    assert EMAIL in systems[1]
