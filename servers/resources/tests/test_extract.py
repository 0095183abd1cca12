"""Extraction per format, MIME detection, chunk locations: plain functions, no server."""

from __future__ import annotations

import pytest

from folio_core.testing import SAMPLE_PORTFOLIO
from folio_resources.chunks import chunk_document
from folio_resources.errors import ExtractionError
from folio_resources.extract import detect, extract

DOCS = SAMPLE_PORTFOLIO / "docs"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_markdown_front_matter_is_metadata_and_not_text() -> None:
    ex = extract(
        "note.md", b"---\ntitle: Hello\npublic: true\ndate: 2024-05-14\n---\n# Heading\n\nBody text.\n"
    )
    assert ex.kind == "markdown" and ex.mime == "text/markdown"
    assert ex.meta == {"title": "Hello", "public": True, "date": "2024-05-14"}
    assert ex.public and not ex.confirm and ex.title == "Hello"
    assert ex.text is not None and "title:" not in ex.text and ex.text.startswith("# Heading")


def test_public_and_confirm_come_from_the_sample_front_matter() -> None:
    about = extract("about.md", (DOCS / "about.md").read_bytes())
    private = extract("working-with-me.md", (DOCS / "working-with-me.md").read_bytes())
    essay = extract("m.md", (DOCS / "writing" / "migrations-nobody-notices.md").read_bytes())
    money = extract("c.md", (DOCS / "notes" / "compensation-history.md").read_bytes())
    assert about.public and essay.public and not private.public and not money.public
    assert money.confirm and not about.confirm


def test_broken_front_matter_is_reported_and_the_document_stays_private() -> None:
    ex = extract("bad.md", b"---\ntitle: [unclosed\npublic: true\n---\nText\n")
    assert not ex.public and ex.meta == {}
    assert ex.warnings and "not valid YAML" in ex.warnings[0]
    assert ex.text == "Text\n"
    listed = extract("list.md", b"---\n- a\n- b\n---\nText\n")
    assert "not a mapping" in listed.warnings[0] and not listed.public


def test_a_markdown_title_falls_back_to_the_first_heading() -> None:
    assert extract("t.md", b"Intro\n\n## Second level\n").title == "Second level"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("binary.md", PNG, "has a Markdown name but holds binary data"),
        ("latin.txt", "caf\u00e9".encode("latin-1"), "is not UTF-8 text"),
        ("fake.pdf", b"just text pretending", "has a PDF name but is not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "is not a readable PDF"),
        ("page.html", b"<p>\x00\x01\x02</p>", "holds binary data"),
    ],
)
def test_files_that_are_not_what_their_name_says_get_a_clear_error(
    name: str, data: bytes, message: str
) -> None:
    with pytest.raises(ExtractionError, match=message):
        extract(name, data)


def test_a_truncated_copy_of_the_sample_pdf_is_refused_clearly() -> None:
    data = (DOCS / "public" / "point-in-time-features.pdf").read_bytes()
    with pytest.raises(ExtractionError, match="not a readable PDF"):
        extract("cut.pdf", data[: len(data) // 3])


def test_pdf_text_pages_and_title_come_from_the_sample() -> None:
    ex = extract("p.pdf", (DOCS / "public" / "point-in-time-features.pdf").read_bytes())
    assert ex.kind == "pdf" and ex.mime == "application/pdf"
    assert ex.title == "Point-in-time correct features without a feature platform"
    assert ex.text is not None and len(ex.pages) == 2
    assert "inflated the area under the curve (AUC) by 0.07" in " ".join(ex.text.split())
    second = ex.text[ex.pages[1] :]
    assert second.startswith("2. As-of joins")
    chunks = chunk_document(ex)
    assert any(c.location.startswith("page 2") for c in chunks)


def test_html_keeps_readable_text_and_drops_scripts_styles_and_noscript() -> None:
    ex = extract("slo.html", (DOCS / "public" / "slo-alerting.html").read_bytes())
    assert ex.kind == "html" and ex.title == "From 31 pages a week to 9: SLO-based alerting at Kestrel"
    assert ex.text is not None
    assert "Pages per on-call week fell from 31 to 9" in " ".join(ex.text.split())
    for hidden in ("tracking-pixel", "injected text", "font-family", "enable JavaScript"):
        assert hidden not in ex.text
    assert "## What we changed" in ex.text


def test_mime_types_are_detected_from_name_and_bytes() -> None:
    assert detect("a.txt", b"hello") == ("text", "text/plain")
    assert detect("photo.png", PNG) == ("binary", "image/png")
    assert detect("no-suffix", b"%PDF-1.7 ...") == ("pdf", "application/pdf")
    assert detect("README", b"plain words") == ("text", "text/plain")
    assert detect("blob.bin", b"\x00\x01") == ("binary", "application/octet-stream")
    assert extract("photo.png", PNG).text is None


def test_chunks_cover_the_text_with_sections_as_locations() -> None:
    text = "# Title\n\n" + "\n\n".join(f"## Part {i}\n\n" + ("word " * 120) for i in range(4))
    chunks = chunk_document(extract("long.md", text.encode()))
    assert len(chunks) >= 3
    assert all(c.text.strip() for c in chunks)
    assert chunks[-1].location.startswith("section “Part 3”")
    assert [c.ord for c in chunks] == list(range(len(chunks)))
