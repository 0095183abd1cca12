"""Cutting the résumé into self-contained search passages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from folio_profile.chunks import MAX_CHUNK_CHARS, Chunk, chunk_resume
from folio_profile.resume import SECTIONS, load_resume, redact_public, resolve_path

SAMPLE = Path(__file__).resolve().parents[3] / "configs" / "portfolio" / "resume.json"


@pytest.fixture
def sample() -> dict[str, Any]:
    return load_resume(SAMPLE)


def squash(text: str) -> str:
    return " ".join(text.split())


def test_every_chunk_path_resolves_to_its_source(sample: dict[str, Any]) -> None:
    chunks = chunk_resume(sample)
    assert len(chunks) > 60
    for chunk in chunks:
        source = resolve_path(sample, chunk.path)
        assert chunk.path.startswith(f"$.{chunk.section}")
        if isinstance(source, str):
            # the text ends with the source value, after its context prefix
            assert chunk.text.endswith(squash(source)), chunk
        else:
            assert isinstance(source, dict)
            for key in ("name", "position", "institution", "title", "language", "organization"):
                if isinstance(source.get(key), str) and source[key]:
                    assert squash(source[key]) in chunk.text, (chunk, key)


def test_every_highlight_and_entry_gets_a_chunk(sample: dict[str, Any]) -> None:
    chunk_paths = {chunk.path for chunk in chunk_resume(sample)}
    for section in SECTIONS[1:]:
        for i, entry in enumerate(sample[section]):
            if section == "references":
                assert f"$.references[{i}].reference" in chunk_paths
                continue
            assert f"$.{section}[{i}]" in chunk_paths
            if section in ("work", "projects"):
                for j in range(len(entry["highlights"])):
                    assert f"$.{section}[{i}].highlights[{j}]" in chunk_paths
    assert {"$.basics", "$.basics.summary"} <= chunk_paths


def test_work_highlight_chunk_carries_company_role_and_years(sample: dict[str, Any]) -> None:
    by_path = {chunk.path: chunk for chunk in chunk_resume(sample)}
    assert by_path["$.work[0].highlights[3]"].text == (
        "At Kestrel Payments as Staff Software Engineer, Platform (2021–present): "
        + sample["work"][0]["highlights"][3]
    )
    assert by_path["$.work[2].highlights[0]"].text.startswith(
        "At Tidewater Logistics as Senior Software Engineer (2015–2017): Wrote the route-planning service"
    )
    assert by_path["$.work[2].highlights[0]"].section == "work"


def test_other_chunk_formats(sample: dict[str, Any]) -> None:
    by_path = {chunk.path: chunk.text for chunk in chunk_resume(sample)}
    assert by_path["$.skills[1]"] == (
        "Skill: Python (Expert): FastAPI, asyncio, pandas, NumPy, pytest, Django, scikit-learn"
    )
    assert by_path["$.languages[2]"] == "Language: Dutch — Professional working proficiency (C1)"
    assert by_path["$.interests[0]"] == "Interest: Sailing: dinghy racing, navigation, weather routing"
    assert by_path["$.certificates[0]"] == (
        "Certificate: Certified Kubernetes Administrator (CKA), issued by The Linux Foundation (Apr 2022)"
    )
    assert by_path["$.awards[1]"].startswith("Award: Best Workshop Paper from Workshop on Data Management")
    assert by_path["$.projects[1].highlights[0]"] == (
        "In project lagwatch (2019–present): 1,100 GitHub stars and 40 contributors."
    )
    assert by_path["$.education[0]"].startswith(
        "Education: MSc in Computer Science (Distributed Systems) at Noordhaven University of Technology "
        "(2010–2012): Result: cum laude. Courses: Distributed Algorithms"
    )
    assert by_path["$.basics.summary"].startswith(
        "About Ines Halvorsen (Staff Software Engineer — Platform, Data & ML Infrastructure): Staff engineer"
    )


def test_chunks_come_in_resume_order_and_are_deterministic(sample: dict[str, Any]) -> None:
    chunks = chunk_resume(sample)
    assert chunks == chunk_resume(json.loads(json.dumps(sample)))
    order = [SECTIONS.index(chunk.section) for chunk in chunks]
    assert order == sorted(order)
    work_paths = [chunk.path for chunk in chunks if chunk.section == "work"]
    assert work_paths[:3] == ["$.work[0]", "$.work[0].highlights[0]", "$.work[0].highlights[1]"]


def test_chunks_never_contain_contact_details(sample: dict[str, Any]) -> None:
    text = "\n".join(chunk.text for chunk in chunk_resume(sample))
    basics = sample["basics"]
    for secret in (basics["email"], basics["phone"], basics["location"]["address"], "3511 AB"):
        assert secret not in text
    assert "Based in Utrecht, NL" in text


def test_public_chunks_lack_the_reference(sample: dict[str, Any]) -> None:
    private = {(c.path, c.part, c.text) for c in chunk_resume(sample)}
    public = {(c.path, c.part, c.text) for c in chunk_resume(redact_public(sample))}
    assert public < private
    assert {path for path, _, _ in private - public} == {"$.references[0].reference"}


def test_long_text_is_split_on_sentences_into_numbered_parts() -> None:
    sentences = [
        f"Sentence number {i} talks about distributed systems and data pipelines." for i in range(60)
    ]
    summary = " ".join(sentences)
    doc = {"basics": {"name": "Ada", "summary": summary}}
    parts = [chunk for chunk in chunk_resume(doc) if chunk.path == "$.basics.summary"]
    assert len(parts) > 3
    assert [chunk.part for chunk in parts] == list(range(len(parts)))
    prefix = "About Ada: "
    bodies = []
    for chunk in parts:
        assert len(chunk.text) <= MAX_CHUNK_CHARS
        assert chunk.text.startswith(prefix)
        body = chunk.text[len(prefix) :]
        assert body.endswith("pipelines.")  # cut between sentences
        bodies.append(body)
    assert " ".join(bodies) == summary


def test_a_single_overlong_sentence_is_cut_between_words() -> None:
    highlight = " ".join(["word"] * 400)
    doc = {"work": [{"name": "Acme", "highlights": [highlight]}]}
    parts = [chunk for chunk in chunk_resume(doc) if chunk.path == "$.work[0].highlights[0]"]
    assert len(parts) == 3
    assert all(len(chunk.text) <= MAX_CHUNK_CHARS for chunk in parts)
    assert sum(chunk.text.count("word") for chunk in parts) == 400


def test_minimal_and_empty_resumes() -> None:
    assert chunk_resume({}) == []
    assert chunk_resume({"basics": {}, "work": [], "skills": [{}]}) == [
        Chunk(section="skills", path="$.skills[0]", text="Skill: skill", part=0)
    ]
    assert chunk_resume({"basics": {"name": "Zoë"}}) == [Chunk("basics", "$.basics", "Zoë.", 0)]


def test_entries_with_missing_fields_still_read_well() -> None:
    doc = {
        "work": [{"position": "Consultant", "highlights": ["Shipped things.", "", 3]}],
        "projects": [{"name": "Solo", "highlights": ["Did it."]}],
    }
    texts = {chunk.path: chunk.text for chunk in chunk_resume(doc)}
    assert texts == {
        "$.work[0]": "Consultant",
        "$.work[0].highlights[0]": "As Consultant: Shipped things.",
        "$.projects[0]": "Project: Solo",
        "$.projects[0].highlights[0]": "In project Solo: Did it.",
    }
