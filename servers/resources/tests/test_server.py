"""The resources server through the SDK's in-memory Client: reading, listing, search, grep, the
escape corpus through every tool and resources/read in both audiences, confirmation, sampling,
and files that are broken, huge or vanish."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from mcp import Client, MCPError
from mcp.client import ClientRequestContext
from mcp.types import (
    BlobResourceContents,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    TextContent,
    TextResourceContents,
)

from folio_core.settings import FolioSettings
from folio_core.testing import call_fails as error
from folio_core.testing import call_ok as call
from folio_core.testing import tool_text
from folio_resources.errors import NOT_FOUND, shown
from folio_resources.server import build_server

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
SECRET = "OUTSIDE-SECRET-7f3a"
PRIVATE_DOCS = ["working-with-me.md", "notes/on-call-handbook.txt", "notes/compensation-history.md"]
PUBLIC_DOCS = [
    "about.md",
    "case-study-runway.md",
    "public/point-in-time-features.pdf",
    "public/reading-list.txt",
    "public/slo-alerting.html",
    "talk-kafka-msk-migration.md",
    "writing/migrations-nobody-notices.md",
]
ESCAPES = [
    "../outside.txt",
    "../../etc/passwd",
    "notes/../../outside.txt",
    "public/../../outside.txt",
    "/etc/passwd",
    "//etc/passwd",
    "~/outside.txt",
    "..\\outside.txt",
    "notes\\..\\..\\outside.txt",
    "．．/outside.txt",
    "notes/．．/．．/outside.txt",
    "‥/outside.txt",
    "%2e%2e/outside.txt",
    "..%2foutside.txt",
    "./about.md",
    "notes//on-call-handbook.txt",
    "link-out.txt",
    "link-dir/outside.txt",
    "link-dangling.txt",
    "link-chain.txt",
    "link-inside.md",
    "link-sibling/salary.md",
    "../docs-private/salary.md",
    "docs-private/salary.md",
    ".env",
    "prod.env",
    ".git/config",
    ".private-todo.md",
    "drafts/unfinished-post.md",
    "scratch.tmp",
    "missing.md",
    "a" * 300,
]


def client(settings: FolioSettings, mode: str = "legacy", **kwargs: Any) -> Client:
    return Client(build_server(settings).mcp, mode=mode, **kwargs)


@pytest.fixture
def hostile(docs_dir: Path, tmp_path: Path) -> Path:
    """The sample documents plus everything a path-safety bug would expose."""
    outside = tmp_path / "outside.txt"
    outside.write_text(f"{SECRET} outside the root\n")
    sibling = tmp_path / "portfolio" / "docs-private"
    sibling.mkdir()
    (sibling / "salary.md").write_text(f"# {SECRET}\n")
    (docs_dir / "link-out.txt").symlink_to(outside)
    (docs_dir / "link-dir").symlink_to(tmp_path)
    (docs_dir / "link-dangling.txt").symlink_to(tmp_path / "nothing")
    (docs_dir / "link-chain.txt").symlink_to(docs_dir / "link-out.txt")
    (docs_dir / "link-inside.md").symlink_to(docs_dir / "about.md")
    (docs_dir / "link-sibling").symlink_to(sibling)
    (docs_dir / ".env").write_text(f"TOKEN={SECRET}\n")
    (docs_dir / "prod.env").write_text(f"TOKEN={SECRET}\n")
    (docs_dir / ".git").mkdir()
    (docs_dir / ".git" / "config").write_text(f"[core] {SECRET}\n")
    (docs_dir / "drafts" / "unfinished-post.md").write_text(f"---\npublic: true\n---\n{SECRET}\n")
    (docs_dir / "scratch.tmp").write_text(SECRET)
    (docs_dir / ".private-todo.md").write_text(SECRET)
    return docs_dir


def _no_leak(text: str, tmp_path: Path) -> None:
    assert SECRET not in text
    assert str(tmp_path) not in text


@pytest.mark.parametrize("audience", ["owner", "public"])
async def test_no_escape_or_excluded_path_is_read_listed_or_searched_by_any_tool(
    make_settings: Callable[..., FolioSettings], hostile: Path, tmp_path: Path, audience: str
) -> None:
    corpus = ESCAPES + ([*PRIVATE_DOCS, "notes", "notes/"] if audience == "public" else [])
    async with client(make_settings(audience=audience)) as c:
        for path in corpus:
            expected = NOT_FOUND.format(path=shown(path))
            for tool, args in [
                ("docs_read", {"path": path, "confirm": True}),
                ("docs_info", {"path": path}),
                ("docs_summarize", {"path": path, "confirm": True}),
                ("docs_list", {"path": path}),
                ("docs_grep", {"pattern": ".", "path": path}),
            ]:
                message = await error(c, tool, args)
                assert message.endswith(expected), (tool, path, message)
                _no_leak(message, tmp_path)
            for scheme in ("docs://", "docs-raw://"):
                for uri in {scheme + path, scheme + quote(path, safe="")}:
                    with pytest.raises(MCPError) as caught:
                        await c.read_resource(uri)
                    assert caught.value.code == -32602, (uri, caught.value.message)
                    _no_leak(caught.value.message + str(caught.value.data), tmp_path)
            with pytest.raises(MCPError):
                await c.subscribe_resource("docs://" + quote(path, safe="/"))
            with pytest.raises(MCPError) as prompt:
                await c.get_prompt("docs_compare", {"path_a": "about.md", "path_b": path})
            assert prompt.value.code == -32602 and prompt.value.message == expected
        listed = {d["path"] for d in (await call(c, "docs_list"))["documents"]}
        resources = {r.uri for r in (await c.list_resources()).resources}
        hits = (await call(c, "docs_search", {"query": f"{SECRET} outside salary token", "limit": 50}))[
            "hits"
        ]
        grep = await call(c, "docs_grep", {"pattern": "OUTSIDE|TOKEN|salary", "max_matches": 500})
        notice = (await call(c, "docs_search", {"query": "notice period at Kestrel", "limit": 50}))["hits"]
    visible = set(PUBLIC_DOCS) | (set() if audience == "public" else set(PRIVATE_DOCS))
    assert listed == visible
    assert resources == {"docs://" + p for p in visible}
    assert {h["path"] for h in hits} <= visible and {h["path"] for h in notice} <= visible
    assert all(SECRET not in h["snippet"] for h in hits)
    assert all(SECRET not in m["text"] for m in grep["matches"])
    if audience == "public":
        assert not {h["path"] for h in notice + hits} & set(PRIVATE_DOCS)
        assert not {m["path"] for m in grep["matches"]} & set(PRIVATE_DOCS)


@pytest.mark.parametrize("mode", ERAS)
async def test_documents_are_read_as_text_and_binaries_as_blobs(
    make_settings: Callable[..., FolioSettings], docs_dir: Path, mode: str
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    (docs_dir / "public" / "diagram.png").write_bytes(png)
    pdf = (docs_dir / "public" / "point-in-time-features.pdf").read_bytes()
    async with client(make_settings(), mode) as c:
        md = await call(c, "docs_read", {"path": "about.md", "length": 120})
        rest = await call(c, "docs_read", {"path": "about.md", "offset": md["next_offset"]})
        html = (await c.read_resource("docs://public/slo-alerting.html")).contents[0]
        pdf_text = (await c.read_resource("docs://public/point-in-time-features.pdf")).contents[0]
        pdf_raw = (await c.read_resource("docs-raw://public/point-in-time-features.pdf")).contents[0]
        image = (await c.read_resource("docs://public/diagram.png")).contents[0]
        binary = await error(c, "docs_read", {"path": "public/diagram.png"})
        past = await error(c, "docs_read", {"path": "about.md", "offset": 999_999})
        info = await call(c, "docs_info", {"path": "public/point-in-time-features.pdf"})
        folder = await error(c, "docs_list", {"path": "about.md"})
    assert md["front_matter"]["visibility"] == "public" and len(md["text"]) == 120
    assert md["text"] + rest["text"] == (docs_dir / "about.md").read_text().split("---\n", 2)[2]
    assert rest["next_offset"] is None and md["total_characters"] == rest["total_characters"]
    assert isinstance(html, TextResourceContents) and "tracking-pixel" not in html.text
    assert isinstance(pdf_text, TextResourceContents) and "As-of joins" in pdf_text.text
    assert isinstance(pdf_raw, BlobResourceContents) and base64.b64decode(pdf_raw.blob) == pdf
    assert pdf_raw.mime_type == "application/pdf"
    assert isinstance(image, BlobResourceContents) and base64.b64decode(image.blob) == png
    assert image.mime_type == "image/png"
    assert "is binary (image/png" in binary and "docs://public/diagram.png" in binary
    assert "past the end" in past
    assert (
        info["pages"] == 2
        and info["indexed"]
        and info["raw_uri"] == "docs-raw://public/point-in-time-features.pdf"
    )
    assert "is a document, not a folder" in folder


async def test_listing_is_paginated_in_path_order_on_both_paths(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    (docs_dir / "many").mkdir()
    for i in range(70):
        (docs_dir / "many" / f"note-{i:03d}.txt").write_text(f"Note number {i}.\n")
    async with client(make_settings()) as c:
        first = await call(c, "docs_list", {"path": "many"})
        second = await call(c, "docs_list", {"path": "many", "cursor": first["next_cursor"]})
        bad = await error(c, "docs_list", {"cursor": "%%%not-ours"})
        top = await call(c, "docs_list")
        pages = [await c.list_resources()]
        while pages[-1].next_cursor:
            pages.append(await c.list_resources(cursor=pages[-1].next_cursor))
    paths = [d["path"] for d in first["documents"] + second["documents"]]
    assert first["folders"] == [] and "folders" in second
    assert len(first["documents"]) == 50 and second["next_cursor"] is None
    assert paths == [f"many/note-{i:03d}.txt" for i in range(70)]
    uris = [r.uri for page in pages for r in page.resources]
    assert len(pages) == 2 and len(uris) == 70 + len(PUBLIC_DOCS) + len(PRIVATE_DOCS)
    assert uris == sorted(uris) and len(set(uris)) == len(uris)
    resource = next(r for page in pages for r in page.resources if r.uri == "docs://about.md")
    assert resource.title == "About Ines Halvorsen" and resource.mime_type == "text/markdown"
    assert resource.size == (docs_dir / "about.md").stat().st_size
    assert resource.annotations is not None and resource.annotations.last_modified
    assert "cursor" in bad
    assert top["folders"] == [
        {"path": "many", "documents": 70},
        {"path": "notes", "documents": 2},
        {"path": "public", "documents": 3},
        {"path": "writing", "documents": 1},
    ]


async def test_search_hits_carry_the_document_a_location_and_a_snippet(
    make_settings: Callable[..., FolioSettings],
) -> None:
    async with client(make_settings(), "auto") as c:
        found = await call(c, "docs_search", {"query": "as-of join for training sets", "limit": 3})
        empty = await error(c, "docs_search", {"query": "   "})
    top = found["hits"][0]
    assert top["path"] == "public/point-in-time-features.pdf"
    assert top["location"].startswith("page 2") and "as-of join" in top["snippet"].lower()
    assert top["uri"] == "docs://public/point-in-time-features.pdf"
    assert "query is empty" in empty


async def test_grep_is_bounded_skips_binaries_and_explains_bad_patterns(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    (docs_dir / "public" / "data.bin").write_bytes(b"\x00Kestrel\x00" * 10)
    (docs_dir / "aaa.txt").write_text("a" * 60 + "!\n")  # exponential for a backtracking engine
    async with client(make_settings()) as c:
        kestrel = await call(c, "docs_grep", {"pattern": "Kestrel", "max_matches": 3})
        folder = await call(c, "docs_grep", {"pattern": "(?i)burn rate", "path": "notes", "context": 1})
        nasty = await call(c, "docs_grep", {"pattern": "^(a+)+$", "max_matches": 5})
        near = await call(c, "docs_grep", {"pattern": "^(a+)+!$", "max_matches": 5})
        invalid = await error(c, "docs_grep", {"pattern": "(unclosed"})
        everything = await call(c, "docs_grep", {"pattern": "Kestrel", "max_matches": 500})
    assert len(kestrel["matches"]) == 3 and kestrel["truncated"]
    assert [m["path"] for m in folder["matches"]] == ["notes/on-call-handbook.txt"]
    match = folder["matches"][0]
    assert match["before"] == ["Alerting rules we keep"] and "burn rates" in match["text"]
    assert nasty["matches"] == [] and [m["path"] for m in near["matches"]] == ["aaa.txt"]
    assert "not a valid regular expression" in invalid
    assert "public/data.bin" not in {m["path"] for m in everything["matches"]}
    assert not everything["truncated"]


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_a_document_marked_confirm_asks_the_user_first(
    make_settings: Callable[..., FolioSettings], mode: str, answer: str
) -> None:
    questions: list[str] = []

    async def elicit(ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        questions.append(params.message)
        if answer == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    path = "notes/compensation-history.md"
    async with client(make_settings(), mode, elicitation_callback=elicit) as c:
        result = await c.call_tool("docs_read", {"path": path})
        plain = await call(c, "docs_read", {"path": "about.md", "length": 10})
        hits = (await call(c, "docs_search", {"query": "compensation salary expectations"}))["hits"]
        with pytest.raises(MCPError) as refused:
            await c.read_resource("docs://" + path)
    assert len(questions) == 1 and path in questions[0]  # about.md asked nothing
    assert plain["text"]
    if answer == "accept":
        assert not result.is_error and "EUR 118,000" in (result.structured_content or {})["text"]
    else:
        assert result.is_error and "did not confirm" in tool_text(result)
    hit = next(h for h in hits if h["path"] == path)
    assert "EUR" not in hit["snippet"] and "withheld" in hit["snippet"]
    assert "docs_read" in refused.value.message


async def test_without_elicitation_confirm_true_is_the_way_in(
    make_settings: Callable[..., FolioSettings],
) -> None:
    path = "notes/compensation-history.md"
    async with client(make_settings()) as c:
        refused = await error(c, "docs_read", {"path": path})
        read = await call(c, "docs_read", {"path": path, "confirm": True})
        summary_refused = await error(c, "docs_summarize", {"path": path})
    assert "confirm: true" in refused and "EUR" not in refused
    assert "EUR 118,000" in read["text"]
    assert "confirm: true" in summary_refused


async def test_summaries_come_from_the_clients_model_or_as_text_within_a_budget(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    asked: list[str] = []

    async def sample(ctx: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        content = params.messages[0].content
        assert isinstance(content, TextContent)
        asked.append(content.text)
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text="Ines moved 140 services."),
            model="scripted",
        )

    (docs_dir / "long.txt").write_text("A long line of notes.\n" * 5000)
    async with client(make_settings(), sampling_callback=sample) as c:
        sampled = await call(c, "docs_summarize", {"path": "writing/migrations-nobody-notices.md"})
    async with client(make_settings(), "auto") as c:
        plain = await call(c, "docs_summarize", {"path": "long.txt"})
    assert sampled["summary"] == "Ines moved 140 services." and "140 services" in asked[0]
    assert plain["summary"] is None and plain["truncated"] and len(plain["text"]) == 24_000
    assert plain["total_characters"] == len("A long line of notes.\n") * 5000


async def test_broken_huge_binary_named_and_vanished_files_fail_alone(
    make_settings: Callable[..., FolioSettings], docs_dir: Path
) -> None:
    pdf = (docs_dir / "public" / "point-in-time-features.pdf").read_bytes()
    (docs_dir / "broken.pdf").write_bytes(pdf[: len(pdf) // 3])
    (docs_dir / "fake.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    with (docs_dir / "huge.txt").open("wb") as f:
        f.truncate(2 * 1024**3)
    (docs_dir / "soon-gone.md").write_text("# Here for a moment\n")
    async with client(make_settings()) as c:
        listed = {d["path"]: d for d in (await call(c, "docs_list"))["documents"]}
        broken = await error(c, "docs_read", {"path": "broken.pdf"})
        fake = await error(c, "docs_read", {"path": "fake.md"})
        huge = await error(c, "docs_read", {"path": "huge.txt"})
        (docs_dir / "soon-gone.md").unlink()
        gone = await error(c, "docs_read", {"path": "soon-gone.md"})
        still = await call(c, "docs_read", {"path": "about.md", "length": 20})
        found = await call(c, "docs_search", {"query": "Runway developer platform"})
    assert "not a readable PDF" in broken and "has a Markdown name but holds binary data" in fake
    assert "2.0 GB" in huge and "at most 50.0 MB" in huge
    assert gone.endswith(NOT_FOUND.format(path=shown("soon-gone.md")))
    assert (
        listed["broken.pdf"]["kind"] == "unreadable"
        and "not a readable PDF" in listed["broken.pdf"]["problem"]
    )
    assert listed["huge.txt"]["size"] == 2 * 1024**3
    assert still["text"] and found["hits"]


async def test_extra_roots_are_served_under_their_folder_name(
    make_settings: Callable[..., FolioSettings], tmp_path: Path, docs_dir: Path
) -> None:
    (docs_dir / "talks").mkdir()  # a root named like an entry of docs/ is skipped, not shadowing it
    (docs_dir / "talks" / "old.md").write_text("# An older talk\n")
    (docs_dir / "public").rename(docs_dir / "open")  # so that a root may be called public
    talks = tmp_path / "more" / "talks"
    talks.mkdir(parents=True)
    (tmp_path / "slides").mkdir()
    (tmp_path / "slides" / "deck.md").write_text("---\npublic: true\n---\n# Slides\n")
    (talks / "pycon.md").write_text(
        "---\npublic: true\n---\n# PyCon notes\n\nFeature stores and time travel.\n"
    )
    named_public = tmp_path / "elsewhere" / "public"  # not the portfolio's docs/public/
    named_public.mkdir(parents=True)
    (named_public / "draft.md").write_text("# Not public for being in a folder called public\n")
    roots = os.pathsep.join(
        [str(talks), str(tmp_path / "missing"), str(named_public), str(tmp_path / "slides")]
    )
    async with client(make_settings(docs_roots=roots)) as c:
        read = await call(c, "docs_read", {"path": "talks/old.md"})
        listed = await call(c, "docs_list", {"path": "talks"})
        deck = await call(c, "docs_read", {"path": "slides/deck.md"})
        owner_sees = await call(c, "docs_info", {"path": "public/draft.md"})
    async with client(make_settings(docs_roots=roots, audience="public")) as c:
        hidden = await error(c, "docs_read", {"path": "public/draft.md"})
        shown_deck = await call(c, "docs_read", {"path": "slides/deck.md"})
    assert read["text"].startswith("# An older talk")  # docs/talks, not the skipped root
    assert [d["path"] for d in listed["documents"]] == ["talks/old.md"]
    assert deck["text"].startswith("# Slides") and shown_deck["text"] == deck["text"]
    assert owner_sees["public"] is False and "no readable document" in hidden


@pytest.mark.parametrize("mode", ERAS)
async def test_prompts_brief_with_citations_and_compare_two_documents(
    make_settings: Callable[..., FolioSettings], mode: str
) -> None:
    async with client(make_settings(audience="public"), mode) as c:
        brief = await c.get_prompt("docs_brief", {"topic": "on-call pages and alerting"})
        compare = await c.get_prompt("docs_compare", {"path_a": "about.md", "path_b": "case-study-runway.md"})
        with pytest.raises(MCPError) as private:
            await c.get_prompt("docs_compare", {"path_a": "about.md", "path_b": "working-with-me.md"})
    text = brief.messages[0].content
    assert isinstance(text, TextContent) and "public/slo-alerting.html" in text.text and "[1]" in text.text
    assert "notes/on-call-handbook.txt" not in text.text  # private
    body = compare.messages[0].content
    assert isinstance(body, TextContent) and "=== case-study-runway.md ===" in body.text
    assert (
        private.value.code == -32602
        and "no readable document at 'working-with-me.md'" in private.value.message
    )


async def test_paths_are_completed_for_the_templates_and_prompts(
    make_settings: Callable[..., FolioSettings],
) -> None:
    from mcp.types import PromptReference, ResourceTemplateReference

    async with client(make_settings(audience="public")) as c:
        await call(c, "docs_list")
        template = await c.complete(
            ResourceTemplateReference(type="ref/resource", uri="docs://{+path}"),
            {"name": "path", "value": "pub"},
        )
        prompt = await c.complete(
            PromptReference(type="ref/prompt", name="docs_compare"), {"name": "path_b", "value": ""}
        )
        other = await c.complete(
            PromptReference(type="ref/prompt", name="docs_brief"), {"name": "topic", "value": "k"}
        )
    assert template.completion.values == [
        "public/point-in-time-features.pdf",
        "public/reading-list.txt",
        "public/slo-alerting.html",
    ]
    assert set(prompt.completion.values) == set(PUBLIC_DOCS)  # nothing private
    assert other.completion.values == []


async def test_a_portfolio_without_documents_is_served_empty(
    make_settings: Callable[..., FolioSettings], tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    async with client(make_settings(portfolio_dir=tmp_path / "empty")) as c:
        listed = await call(c, "docs_list")
        found = await call(c, "docs_search", {"query": "anything"})
        missing = await error(c, "docs_read", {"path": "about.md"})
    assert listed["documents"] == [] and listed["folders"] == [] and found["hits"] == []
    assert "no readable document at 'about.md'" in missing


async def test_a_folder_swapped_for_a_link_after_indexing_is_not_followed(
    make_settings: Callable[..., FolioSettings], docs_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside-notes"
    outside.mkdir()
    (outside / "on-call-handbook.txt").write_text(f"{SECRET}\n")
    async with client(make_settings()) as c:
        before = await call(c, "docs_read", {"path": "notes/on-call-handbook.txt"})
        (docs_dir / "notes").rename(tmp_path / "moved-notes")
        (docs_dir / "notes").symlink_to(outside)
        refused = await error(c, "docs_read", {"path": "notes/on-call-handbook.txt"})
        info = await error(c, "docs_info", {"path": "notes/on-call-handbook.txt"})
        with pytest.raises(MCPError) as resource:
            await c.read_resource("docs://notes/on-call-handbook.txt")
        folder = await error(c, "docs_list", {"path": "notes"})
        grep = await call(c, "docs_grep", {"pattern": "OUTSIDE"})
    assert "Acknowledge within five minutes" in before["text"]
    for message in (refused, info, resource.value.message):
        assert message.endswith(NOT_FOUND.format(path=shown("notes/on-call-handbook.txt")))
        _no_leak(message, tmp_path)
    assert folder.endswith(NOT_FOUND.format(path=shown("notes")))
    assert grep["matches"] == []


async def test_a_repeated_query_takes_its_vector_from_the_shared_cache(
    make_settings: Callable[..., FolioSettings],
) -> None:
    import hashlib

    import numpy as np

    from folio_core.embeddings import LOCAL_MODEL_NAME

    folio = build_server(make_settings())
    key = f"docs:query-vector:{LOCAL_MODEL_NAME}:{hashlib.sha256(b'paved roads').hexdigest()}"
    async with Client(folio.mcp, mode="legacy") as c:
        first = await call(c, "docs_search", {"query": "paved roads"})
        assert folio.runtime is not None
        cached = await folio.runtime.cache.get(key)
        assert cached is not None
        # a different vector under the key proves the next search reads it instead of embedding
        other = folio.runtime.embedder.embed_query("compensation history and salary")
        await folio.runtime.cache.set(key, np.asarray(other, dtype=np.float32).tobytes())
        second = await call(c, "docs_search", {"query": "paved roads"})
    expected = folio.runtime.embedder.embed_query("paved roads")
    assert np.allclose(np.frombuffer(cached, dtype=np.float32), expected, atol=1e-6)
    assert first["hits"] != second["hits"]
