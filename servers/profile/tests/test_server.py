"""The profile server through the SDK's in-memory Client: every tool, resource and prompt."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.client import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ResourceUpdatedNotification,
    TextContent,
)

from folio_core.settings import FolioSettings
from folio_core.testing import call_fails as error
from folio_core.testing import call_ok as call
from folio_core.testing import tool_text
from folio_profile.server import build_server

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
JOB = """\
Senior Platform Engineer

About us: we are a fast-growing company that loves its customers.

Requirements:
- 5+ years of experience with Kubernetes in production
- Strong Python or Go
- Experience running PostgreSQL at scale
- Experience with Kafka or another event streaming platform

Nice to have:
- Experience with COBOL mainframes
- Familiarity with Rust

Benefits: free snacks, 30 days of holiday.
"""


def client(settings: FolioSettings, mode: str = "legacy", **kwargs: Any) -> Client:
    return Client(build_server(settings).mcp, mode=mode, **kwargs)


@pytest.mark.parametrize("mode", ERAS)
async def test_lists_every_tool_resource_and_prompt(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        resources = {r.uri for r in (await c.list_resources()).resources}
        templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
        prompts = {p.name for p in (await c.list_prompts()).prompts}
    assert set(tools) == {
        "profile_get",
        "profile_search",
        "profile_match_job",
        "profile_history",
        "profile_update",
        "profile_rollback",
    }
    for name in ("profile_get", "profile_search", "profile_match_job", "profile_history"):
        annotations = tools[name].annotations
        assert annotations is not None and annotations.read_only_hint is True, name
    for name in ("profile_update", "profile_rollback"):
        annotations = tools[name].annotations
        assert annotations is not None and annotations.destructive_hint is True, name
    assert tools["profile_match_job"].input_schema["required"] == ["description"]
    assert "fit" not in tools["profile_match_job"].input_schema["properties"]
    assert tools["profile_search"].output_schema is not None
    assert resources == {"profile://resume.json", "profile://resume.md", "profile://skills"}
    assert templates == {"profile://versions/{n}"}
    assert prompts == {"profile_introduce", "profile_cover_letter", "profile_interview_prep"}


async def test_start_imports_the_portfolio_and_get_returns_it(
    make_settings: Callable[..., FolioSettings], sample_resume: dict[str, Any]
) -> None:
    async with client(make_settings()) as c:
        whole = await call(c, "profile_get", {})
        work = await call(c, "profile_get", {"section": "work"})
        history = await call(c, "profile_history", {})
    assert whole["version"] == 1
    assert whole["content"]["basics"]["email"] == sample_resume["basics"]["email"]
    assert work["content"] == sample_resume["work"]
    assert history["current_version"] == 1
    assert history["entries"][0]["action"] == "import"


async def test_unknown_section_lists_the_valid_ones(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as c:
        message = await error(c, "profile_get", {"section": "hobbies"})
    assert "hobbies" in message
    for section in ("basics", "work", "skills", "projects"):
        assert section in message


@pytest.mark.parametrize("mode", ERAS)
async def test_search_finds_paraphrased_evidence_with_paths(
    make_settings: Callable[..., FolioSettings], sample_resume: dict[str, Any], mode: str
) -> None:
    async with client(make_settings(), mode) as c:
        result = await call(c, "profile_search", {"query": "container orchestration", "limit": 5})
    hits = result["hits"]
    assert 1 <= len(hits) <= 5
    assert all(0 <= h["score"] <= 1 for h in hits)
    assert any("kubernetes" in h["text"].lower() for h in hits), hits
    first = hits[0]
    assert first["path"].startswith("$.")
    assert first["section"] in sample_resume


async def test_search_input_is_validated(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as c:
        empty = await error(c, "profile_search", {"query": ""})
        too_many = await error(c, "profile_search", {"query": "python", "limit": 500})
    assert "query" in empty
    assert "limit" in too_many


async def test_match_job_without_sampling_returns_the_structured_fit(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        fit = await call(c, "profile_match_job", {"description": JOB})
    texts = [r["requirement"]["text"] for r in fit["requirements"]]
    assert any("Kubernetes" in t for t in texts)
    assert not any("snacks" in t for t in texts)
    assert fit["narrative"] is None
    assert 0 < fit["overall_score"] <= 1
    kubernetes = next(r for r in fit["requirements"] if "Kubernetes" in r["requirement"]["text"])
    assert kubernetes["verdict"] in {"strong", "partial"}
    assert kubernetes["evidence"] and kubernetes["evidence"][0]["path"].startswith("$.")
    assert any("COBOL" in gap for gap in fit["gaps"])


@pytest.mark.parametrize("mode", ERAS)
async def test_match_job_adds_a_narrative_when_the_client_samples(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    asked: list[CreateMessageRequestParams] = []

    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        asked.append(params)
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text="A strong platform fit."),
            model="scripted",
        )

    async with client(make_settings(), mode, sampling_callback=sample) as c:
        fit = await call(c, "profile_match_job", {"description": JOB})
    assert fit["narrative"] == "A strong platform fit."
    prompt = asked[-1].messages[0].content
    assert isinstance(prompt, TextContent) and "Kubernetes" in prompt.text


async def test_match_job_refuses_an_overlong_description(make_settings: Callable[..., FolioSettings]) -> None:
    async with client(make_settings()) as c:
        message = await error(c, "profile_match_job", {"description": "x" * 20_001})
    assert "20,000" in message or "20000" in message


@pytest.mark.parametrize("mode", ERAS)
async def test_a_safe_update_applies_without_confirmation(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    patch = {"basics": {"label": "Principal Engineer"}}
    async with client(make_settings(), mode) as c:
        result = await call(c, "profile_update", {"patch": patch, "reason": "promotion"})
        basics = await call(c, "profile_get", {"section": "basics"})
        history = await call(c, "profile_history", {"limit": 1})
    assert result["version"] == 2 and result["created"] is True
    assert result["confirmed_by"] == "not-needed"
    assert result["changes"] == [
        {
            "op": "replace",
            "path": "$.basics.label",
            "old": result["changes"][0]["old"],
            "new": "Principal Engineer",
        }
    ]
    assert basics["content"]["label"] == "Principal Engineer"
    entry = history["entries"][0]
    assert entry["action"] == "update" and entry["reason"] == "promotion" and entry["changes"] == 1
    assert entry["client"]  # the in-memory client identifies itself


async def test_a_destructive_update_needs_confirm_true_without_elicitation(
    make_settings: Callable[..., FolioSettings],
) -> None:
    patch = {"awards": None}
    async with client(make_settings()) as c:
        refused = await error(c, "profile_update", {"patch": patch, "reason": "tidy"})
        unchanged = await call(c, "profile_get", {"section": "awards"})
        done = await call(c, "profile_update", {"patch": patch, "reason": "tidy", "confirm": True})
        after = await call(c, "profile_get", {"section": "awards"})
    assert "$.awards" in refused and "confirm: true" in refused
    assert unchanged["content"]
    assert done["confirmed_by"] == "argument" and done["version"] == 2
    assert after["content"] == []


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_a_destructive_update_is_confirmed_through_elicitation(
    make_settings: Callable[..., FolioSettings], mode: str, answer: str
) -> None:
    questions: list[str] = []

    async def elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        questions.append(params.message)
        if answer == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    async with client(make_settings(), mode, elicitation_callback=elicit) as c:
        result = await c.call_tool("profile_update", {"patch": {"awards": None}, "reason": "tidy"})
        history = await call(c, "profile_history", {})
    assert questions and "$.awards" in questions[0]
    if answer == "accept":
        assert not result.is_error and result.structured_content is not None
        assert result.structured_content["confirmed_by"] == "elicitation"
        assert history["current_version"] == 2
    else:
        assert result.is_error and "did not confirm" in tool_text(result)
        assert history["current_version"] == 1


async def test_an_invalid_patch_names_the_failing_paths_and_changes_nothing(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        message = await error(
            c,
            "profile_update",
            {"patch": {"basics": {"email": "not-an-email"}, "work": "nope"}, "reason": "x"},
        )
        history = await call(c, "profile_history", {})
    assert "$.basics.email" in message and "$.work" in message
    assert history["current_version"] == 1


async def test_rollback_restores_old_content_as_a_new_version(
    make_settings: Callable[..., FolioSettings], sample_resume: dict[str, Any]
) -> None:
    async with client(make_settings()) as c:
        await call(c, "profile_update", {"patch": {"basics": {"label": "Changed"}}, "reason": "r"})
        refused = await error(c, "profile_rollback", {"version": 1})
        missing = await error(c, "profile_rollback", {"version": 9, "confirm": True})
        done = await call(c, "profile_rollback", {"version": 1, "reason": "undo", "confirm": True})
        basics = await call(c, "profile_get", {"section": "basics"})
        history = await call(c, "profile_history", {})
        old = await c.read_resource("profile://versions/2")
    assert "confirm: true" in refused and "$.basics.label" in refused
    assert "existing versions: 1–2" in missing
    assert done["version"] == 3 and done["previous_version"] == 2
    assert basics["content"]["label"] == sample_resume["basics"]["label"]
    assert [e["action"] for e in history["entries"]] == ["rollback", "update", "import"]
    assert history["entries"][0]["reason"] == "undo"
    assert json.loads(old.contents[0].text)["basics"]["label"] == "Changed"  # type: ignore[union-attr]


async def test_resources_show_the_current_resume(
    make_settings: Callable[..., FolioSettings], sample_resume: dict[str, Any]
) -> None:
    async with client(make_settings()) as c:
        as_json = (await c.read_resource("profile://resume.json")).contents[0]
        as_md = (await c.read_resource("profile://resume.md")).contents[0]
        skills = (await c.read_resource("profile://skills")).contents[0]
        version = (await c.read_resource("profile://versions/1")).contents[0]
        with pytest.raises(MCPError) as missing:
            await c.read_resource("profile://versions/7")
    assert json.loads(as_json.text) == sample_resume  # type: ignore[union-attr]
    assert as_md.mime_type == "text/markdown"
    assert sample_resume["basics"]["name"] in as_md.text  # type: ignore[union-attr]
    names = [s["name"] for s in json.loads(skills.text)["skills"]]  # type: ignore[union-attr]
    assert names == [s["name"] for s in sample_resume["skills"]]
    assert json.loads(version.text) == sample_resume  # type: ignore[union-attr]
    assert "existing versions: 1" in missing.value.message


@pytest.mark.parametrize("mode", ERAS)
async def test_prompts_embed_the_resume(make_settings: Callable[..., FolioSettings], mode: str) -> None:
    async with client(make_settings(), mode) as c:
        intro = await c.get_prompt("profile_introduce", {"audience": "a hiring manager", "length": "medium"})
        letter = await c.get_prompt("profile_cover_letter", {"job_description": JOB})
        prep = await c.get_prompt("profile_interview_prep", {"role": "Staff Engineer"})
    for result, needle in (
        (intro, "a hiring manager"),
        (letter, "Kubernetes in production"),
        (prep, "Staff Engineer"),
    ):
        content = result.messages[0].content
        assert isinstance(content, TextContent)
        assert needle in content.text
        assert "Ines Halvorsen" in content.text


async def test_public_audience_hides_contact_details_and_write_tools(
    make_settings: Callable[..., FolioSettings], sample_resume: dict[str, Any]
) -> None:
    basics = sample_resume["basics"]
    secrets = [basics["email"], basics["phone"], basics["location"]["address"]]
    async with client(make_settings(audience="public")) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        seen = [
            json.dumps(await call(c, "profile_get", {})),
            json.dumps(await call(c, "profile_history", {})),
            json.dumps(
                await call(c, "profile_search", {"query": "email phone contact address", "limit": 50})
            ),
            (await c.read_resource("profile://resume.json")).contents[0].text,  # type: ignore[union-attr]
            (await c.read_resource("profile://resume.md")).contents[0].text,  # type: ignore[union-attr]
            str((await c.get_prompt("profile_introduce", {})).messages[0].content),
            str((await c.get_prompt("profile_cover_letter", {"job_description": JOB})).messages[0].content),
        ]
    assert "profile_update" not in tools and "profile_rollback" not in tools
    assert {"profile_get", "profile_search", "profile_match_job", "profile_history"} <= tools
    for text in seen:
        for secret in secrets:
            assert secret not in text
    assert basics["name"] in seen[0]
    history = json.loads(seen[1])["entries"][0]
    assert history["action"] == "import" and history["client"] is None and history["reason"] is None


async def test_an_edited_portfolio_file_is_imported_at_the_next_start(
    make_settings: Callable[..., FolioSettings], portfolio: Path
) -> None:
    settings = make_settings()
    async with client(settings) as c:
        assert (await call(c, "profile_history", {}))["current_version"] == 1
    async with client(settings) as c:  # unchanged file: no new version
        assert (await call(c, "profile_history", {}))["current_version"] == 1
    resume = json.loads((portfolio / "resume.json").read_text())
    resume["basics"]["label"] = "Edited on disk"
    (portfolio / "resume.json").write_text(json.dumps(resume))
    async with client(settings) as c:
        history = await call(c, "profile_history", {})
        basics = await call(c, "profile_get", {"section": "basics"})
    assert history["current_version"] == 2 and history["entries"][0]["action"] == "import"
    assert basics["content"]["label"] == "Edited on disk"


async def test_an_invalid_portfolio_file_is_reported_and_nothing_is_lost(
    make_settings: Callable[..., FolioSettings], portfolio: Path
) -> None:
    settings = make_settings()
    async with client(settings) as c:
        await call(c, "profile_history", {})
    (portfolio / "resume.json").write_text(json.dumps({"basics": {"email": 42}}))
    async with client(settings) as c:
        basics = await call(c, "profile_get", {"section": "basics"})
    assert basics["version"] == 1 and basics["content"]["name"] == "Ines Halvorsen"


async def test_without_any_resume_tools_explain_how_to_import_one(
    make_settings: Callable[..., FolioSettings], tmp_path: Path
) -> None:
    empty = tmp_path / "empty-portfolio"
    empty.mkdir()
    async with client(make_settings(portfolio_dir=empty)) as c:
        message = await error(c, "profile_get", {})
        with pytest.raises(MCPError) as resource_error:
            await c.read_resource("profile://resume.json")
    assert "folio-profile import" in message
    assert "folio-profile import" in resource_error.value.message


@pytest.mark.parametrize("mode", ERAS)
async def test_subscribers_hear_about_updates(make_settings: Callable[..., FolioSettings], mode: str) -> None:
    settings = make_settings()
    heard: list[str] = []
    got = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(message.params.uri)
            if message.params.uri == "profile://resume.md":
                got.set()

    async with client(settings, mode, message_handler=on_message) as c:
        await call(c, "profile_history", {})
        if mode == "legacy":
            await c.subscribe_resource("profile://resume.md")
            await call(c, "profile_update", {"patch": {"basics": {"label": "New"}}, "reason": "r"})
            with anyio.fail_after(30):
                await got.wait()
        else:
            async with c.listen(resource_subscriptions=["profile://resume.md", "profile://skills"]) as sub:
                await call(c, "profile_update", {"patch": {"basics": {"label": "New"}}, "reason": "r"})
                with anyio.fail_after(30):
                    async for event in sub:
                        heard.append(str(getattr(event, "uri", "")))
                        break
    assert "profile://resume.md" in heard


async def test_the_public_audience_has_no_earlier_versions(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings()) as c:
        await call(
            c,
            "profile_update",
            {"patch": {"basics": {"summary": "Removed later: the Orca project."}}, "reason": "r"},
        )
        await call(c, "profile_update", {"patch": {"basics": {"summary": "Now public."}}, "reason": "r"})
    async with client(make_settings(audience="public")) as c:
        templates = (await c.list_resource_templates()).resource_templates
        with pytest.raises(MCPError) as refused:
            await c.read_resource("profile://versions/2")
        seen = [
            json.dumps(await call(c, "profile_get", {})),
            json.dumps(await call(c, "profile_history", {})),
            json.dumps((await call(c, "profile_search", {"query": "Orca project", "limit": 50}))["hits"]),
        ]
    assert templates == []
    assert "profile://versions/2" in refused.value.message
    for text in seen:
        assert "Orca" not in text
    assert "Now public." in seen[0]


@pytest.mark.parametrize(
    ("patch", "path", "words"),
    [
        ({"work": [{"name": "Acme", "highlights": [f"h{i}" for i in range(20_000)]}]}, "$.work[0].highlights",
         "a list of 20,000 entries; at most 200"),
        ({"basics": {"name": "N" * 1_000_000}}, "$.basics.name", "a text of 1,000,000 characters; at most 5,000"),
        ({"basics": {"url": "javascript:alert(1)"}}, "$.basics.url", "is not a valid absolute URI"),
        ({"basics": {"profiles": [{"url": "data:text/html,hi"}]}}, "$.basics.profiles[0].url", "absolute URI"),
        ({"basics": {"email": "a" * 1_000_000 + "@example.com"}}, "$.basics.email", "a text of 1,000,012"),
        ({"basics": {"email": "x" * 300 + "@example.com"}}, "$.basics.email", "at most 254"),
        ({"basics": {"image": "javascript:alert(1)"}}, "$.basics.image", "image address"),
        ({"meta": {"x": {"y": [[[[[[[[[["deep"]]]]]]]]]]}}}, "$.meta.x.y[0][0][0][0][0][0][0]", "nested more than 10"),
    ],
)  # fmt: skip
async def test_oversized_or_unsafe_values_are_refused_with_path_and_limit(
    make_settings: Callable[..., FolioSettings], patch: dict[str, Any], path: str, words: str
) -> None:
    async with client(make_settings()) as c:
        message = await error(c, "profile_update", {"patch": patch, "reason": "x", "confirm": True})
        history = await call(c, "profile_history", {})
    assert f"{path}: " in message and words in message, message
    assert history["current_version"] == 1


async def test_urls_of_the_web_and_mailto_are_accepted(make_settings: Callable[..., FolioSettings]) -> None:
    patch = {"basics": {"url": "mailto:ines@example.org", "image": "portrait.jpg"}}
    async with client(make_settings()) as c:
        done = await call(c, "profile_update", {"patch": patch, "reason": "x"})
    assert done["version"] == 2


async def test_former_contact_details_left_in_text_are_scrubbed_for_the_public(
    make_settings: Callable[..., FolioSettings], sample_resume: dict[str, Any]
) -> None:
    basics = sample_resume["basics"]
    old_email, old_phone, old_address = basics["email"], basics["phone"], basics["location"]["address"]
    summary = f"Reach me at {old_email} or {old_phone}; office at {old_address}. Built the Kestrel ledger."
    patch = {
        "basics": {
            "email": "new@example.org",
            "phone": "+31 6 9999 0000",
            "location": {"address": "Nieuwe 1"},
        },
        "work": [{**sample_resume["work"][0], "summary": summary}, *sample_resume["work"][1:]],
    }
    async with client(make_settings()) as c:
        await call(c, "profile_update", {"patch": patch, "reason": "moved", "confirm": True})
        owner_hits = await call(c, "profile_search", {"query": "Kestrel ledger reach me", "limit": 50})
    assert any(old_email in hit["text"] for hit in owner_hits["hits"])  # the owner's own text is kept
    async with client(make_settings(audience="public")) as c:
        search = await call(c, "profile_search", {"query": "Kestrel ledger reach me", "limit": 50})
        by_email = (await call(c, "profile_search", {"query": old_email, "limit": 50}))["hits"]
        seen = [
            json.dumps(await call(c, "profile_get", {}), ensure_ascii=False),
            json.dumps(await call(c, "profile_get", {"section": "work"}), ensure_ascii=False),
            json.dumps(search, ensure_ascii=False),
            json.dumps(by_email, ensure_ascii=False),
            (await c.read_resource("profile://resume.json")).contents[0].text,  # type: ignore[union-attr]
            (await c.read_resource("profile://resume.md")).contents[0].text,  # type: ignore[union-attr]
            str((await c.get_prompt("profile_introduce", {})).messages[0].content),
            str((await c.get_prompt("profile_interview_prep", {"role": "CTO"})).messages[0].content),
        ]
    for text in seen:
        for secret in (old_email, old_phone, old_address, "new@example.org", "Nieuwe 1"):
            assert secret not in text
    scrubbed = [hit for hit in search["hits"] if "Kestrel ledger" in hit["text"]]
    assert scrubbed and "[redacted]" in scrubbed[0]["text"]
    assert "[redacted]" in seen[1]


async def test_a_portfolio_file_that_is_not_a_resume_is_reported_once(
    make_settings: Callable[..., FolioSettings], portfolio: Path
) -> None:
    (portfolio / "resume.json").write_text(json.dumps({"hello": "world"}))
    async with client(make_settings()) as c:
        message = await error(c, "profile_get", {})
    assert "folio-profile import" in message
    assert "none of the JSON Resume sections" in message
    assert message.count("is not a valid JSON Resume") == 1, message
