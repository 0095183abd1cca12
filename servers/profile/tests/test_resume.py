"""Validation, loading, sections and public redaction of JSON Resume documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from folio_profile.resume import (
    PRIVATE_PATHS,
    SECTIONS,
    ResumeInvalidError,
    ResumeIssue,
    UnknownSectionError,
    format_path,
    get_section,
    is_email,
    load_resume,
    parse_path,
    private_values,
    redact_public,
    resolve_path,
    resume_digest,
    resume_schema,
    validate_resume,
)

SAMPLE = Path(__file__).resolve().parents[3] / "configs" / "portfolio" / "resume.json"


@pytest.fixture
def sample() -> dict[str, Any]:
    return load_resume(SAMPLE)


def paths(issues: list[ResumeIssue]) -> list[str]:
    return [issue.path for issue in issues]


# ---------------------------------------------------------------- the sample portfolio


def test_sample_resume_validates(sample: dict[str, Any]) -> None:
    assert validate_resume(sample) == []
    assert sample["basics"]["name"] == "Ines Halvorsen"


def test_sample_resume_is_rich_enough_for_every_server(sample: dict[str, Any]) -> None:
    assert 4 <= len(sample["work"]) <= 5
    assert all(3 <= len(job["highlights"]) <= 6 for job in sample["work"])
    assert len(sample["education"]) == 2
    assert len(sample["awards"]) == 2
    assert len(sample["certificates"]) == 2
    assert 2 <= len(sample["publications"]) <= 3
    assert 7 <= len(sample["skills"]) <= 9
    assert all(skill["level"] and 4 <= len(skill["keywords"]) <= 8 for skill in sample["skills"])
    assert len(sample["languages"]) == 3 and all(lang["fluency"] for lang in sample["languages"])
    assert len(sample["interests"]) == 3 and all(i["keywords"] for i in sample["interests"])
    assert len(sample["references"]) == 1
    assert 4 <= len(sample["projects"]) <= 5
    for project in sample["projects"]:
        assert {"description", "highlights", "keywords", "url", "roles", "startDate"} <= project.keys()
    location = sample["basics"]["location"]
    assert {"address", "postalCode", "city", "countryCode", "region"} <= location.keys()
    assert sample["volunteer"] and sample["basics"]["profiles"]


def test_sample_documents_have_front_matter_and_one_is_private() -> None:
    # the top-level write-ups; hidden files are deliberately not documents (the resources server skips them)
    docs = sorted(p for p in (SAMPLE.parent / "docs").glob("*.md") if not p.name.startswith("."))
    assert 3 <= len(docs) <= 4
    visibilities = []
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        assert text.startswith("---\ntitle: ")
        front, body = text[4:].split("\n---\n", 1)
        fields = dict(line.split(": ", 1) for line in front.splitlines())
        assert fields["tags"].startswith("[") and fields["tags"].endswith("]")
        visibilities.append(fields["visibility"])
        assert 300 <= len(body.split()) <= 800, doc.name
    assert visibilities.count("private") == 1
    assert set(visibilities) == {"public", "private"}


def test_schema_is_draft7_and_allows_additional_properties() -> None:
    schema = resume_schema()
    assert schema["$schema"].startswith("http://json-schema.org/draft-07/schema")
    assert schema["additionalProperties"] is True
    assert set(SECTIONS) | {"$schema", "meta"} == set(schema["properties"])
    assert SECTIONS[0] == "basics" and SECTIONS[-1] == "projects" and "meta" not in SECTIONS


# ---------------------------------------------------------------- broken résumés


def test_wrong_types_are_reported_at_their_paths(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["work"][0]["highlights"] = "one long string"
    doc["skills"][3]["keywords"] = [1, 2]
    doc["languages"] = {"language": "Norwegian"}
    issues = validate_resume(doc)
    assert paths(issues) == [
        "$.languages",
        "$.skills[3].keywords[0]",
        "$.skills[3].keywords[1]",
        "$.work[0].highlights",
    ]
    assert issues[0].message.startswith("expected array, got object")
    assert issues[1].message == "expected string, got number 1"
    assert issues[3].message == 'expected array, got string "one long string"'


def test_bad_email_and_url_are_reported(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["basics"]["email"] = "ines at example dot com"
    doc["basics"]["profiles"][1]["url"] = "linkedin.com/in/ines"
    issues = validate_resume(doc)
    assert paths(issues) == ["$.basics.email", "$.basics.profiles[1].url"]
    assert "e-mail address" in issues[0].message
    assert "absolute URI" in issues[1].message


@pytest.mark.parametrize(
    "good", ["ines@example.org", "zoe+cv@sub.example.co.uk", "o'neil@example.ie", "jürgen@bücher.de"]
)
def test_ordinary_email_addresses_are_accepted(good: str) -> None:
    assert is_email(good)


@pytest.mark.parametrize(
    "bad",
    [
        "ines at example dot com",
        "ines@localhost",
        "a@b.c",
        ".ines@example.org",
        "in..es@example.org",
        "in es@example.org",
        "<ines@example.org>",
        "ines@-example.org",
        "ines@example.123",
        "x" * 65 + "@example.org",
        "x@" + "d" * 250 + ".org",
    ],
)
def test_malformed_or_oversized_email_addresses_are_refused(bad: str) -> None:
    assert not is_email(bad)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://ines.example/cv", True),
        ("http://example.org", True),
        ("mailto:ines@example.org", True),
        ("MAILTO:ines@example.org", True),
        ("mailto:not an address", False),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<b>hi</b>", False),
        ("ftp://files.example.org/cv.pdf", False),
        ("https://", False),
        ("https://exa mple.org", False),
        ("https://example.org/" + "a" * 2_100, False),
        ("//example.org/page", False),
    ],
)
def test_urls_must_be_web_addresses_or_mailto(sample: dict[str, Any], url: str, ok: bool) -> None:
    doc = copy.deepcopy(sample)
    doc["basics"]["url"] = url
    assert (paths(validate_resume(doc)) == []) is ok


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("portrait.jpg", True),
        ("https://ines.example/me.png", True),
        ("javascript:x()", False),
        ("data:x", False),
    ],
)
def test_the_portrait_is_a_web_address_or_a_path(sample: dict[str, Any], image: str, ok: bool) -> None:
    doc = copy.deepcopy(sample)
    doc["basics"]["image"] = image
    assert (paths(validate_resume(doc)) == []) is ok


def test_size_limits_name_the_path_and_the_limit(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["basics"]["summary"] = "s" * 5_001
    doc["skills"][0]["keywords"] = ["k"] * 201
    doc["meta"] = {f"k{i}": 1 for i in range(101)}
    doc["interests"] = [{"x" * 101: 1}]
    issues = validate_resume(doc)
    assert [str(i) for i in issues] == [
        "$.basics.summary: a text of 5,001 characters; at most 5,000",
        "$.interests[0]: a key of 101 characters; at most 100",
        "$.meta: an object with 101 keys; at most 100",
        "$.skills[0].keywords: a list of 201 entries; at most 200",
    ]


def test_the_whole_document_is_bounded(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["publications"] = [{"name": f"P{i}", "summary": "word " * 900} for i in range(60)]
    doc["volunteer"] = [{"organization": f"V{i}", "summary": "word " * 900} for i in range(60)]
    issues = validate_resume(doc)
    assert issues and issues[0].path == "$"
    assert "characters of JSON; at most 200,000" in issues[0].message


def test_values_at_the_limits_are_accepted(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["basics"]["summary"] = "s" * 5_000
    doc["skills"][0]["keywords"] = [f"k{i}" for i in range(200)]
    doc["basics"]["email"] = "x" * 64 + "@" + "d" * 60 + ".example.org"
    assert validate_resume(doc) == []


@pytest.mark.parametrize("bad", ["March 2021", "2021/03", "21-03", "2021-13", "2021-03-1", "2021-03-32"])
def test_malformed_dates_are_reported(sample: dict[str, Any], bad: str) -> None:
    doc = copy.deepcopy(sample)
    doc["work"][1]["startDate"] = bad
    issues = validate_resume(doc)
    assert paths(issues) == ["$.work[1].startDate"]
    assert "ISO 8601" in issues[0].message


def test_impossible_calendar_dates_are_reported(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["awards"][0]["date"] = "2023-02-30"
    doc["publications"][1]["releaseDate"] = "2024-02-29"  # a leap day: valid
    assert [(i.path, i.message) for i in validate_resume(doc)] == [
        ("$.awards[0].date", '"2023-02-30" is not a valid calendar date')
    ]


@pytest.mark.parametrize("doc", [[], "resume", None, 42, True])
def test_non_object_top_level_is_one_issue_at_root(doc: object) -> None:
    issues = validate_resume(doc)
    assert len(issues) == 1
    assert issues[0].path == "$"
    assert "must be a JSON object" in issues[0].message


def test_issues_are_sorted_by_path_with_numeric_indexes() -> None:
    doc: dict[str, Any] = {"work": [{"startDate": "2020-01"} for _ in range(12)]}
    doc["work"][10]["startDate"] = "soon"
    doc["work"][2]["startDate"] = "later"
    doc["basics"] = {"email": "nope"}
    assert paths(validate_resume(doc)) == ["$.basics.email", "$.work[2].startDate", "$.work[10].startDate"]


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "resume.json"
    path.write_text('{\n  "basics": {\n    "name": "Ada",,\n  }\n}\n', encoding="utf-8")
    with pytest.raises(ResumeInvalidError) as caught:
        load_resume(path)
    [issue] = caught.value.issues
    assert issue.path == "$"
    assert issue.message.startswith("invalid JSON at line 3, column 19:")
    assert str(path) in str(caught.value)


def test_non_utf8_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "resume.json"
    path.write_bytes(b'{"basics": {"name": "\xff"}}')
    with pytest.raises(ResumeInvalidError) as caught:
        load_resume(path)
    assert caught.value.issues[0].message.startswith("the file is not UTF-8")


def test_nan_is_not_accepted_as_json(tmp_path: Path) -> None:
    path = tmp_path / "resume.json"
    path.write_text('{"basics": {"name": "A", "x": NaN}}', encoding="utf-8")
    with pytest.raises(ResumeInvalidError, match="NaN"):
        load_resume(path)


def test_invalid_resume_file_raises_with_all_issues(tmp_path: Path, sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    doc["basics"]["email"] = "x"
    doc["work"][0]["endDate"] = "tomorrow"
    path = tmp_path / "resume.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ResumeInvalidError) as caught:
        load_resume(path)
    assert paths(caught.value.issues) == ["$.basics.email", "$.work[0].endDate"]
    lines = str(caught.value).splitlines()
    assert "(2 issues)" in lines[0]
    assert lines[1].startswith('$.basics.email: "x"')
    assert lines[2].startswith('$.work[0].endDate: "tomorrow"')
    assert isinstance(caught.value, ValueError)


def test_error_message_lists_at_most_ten_issues() -> None:
    error = ResumeInvalidError([ResumeIssue(f"$.work[{i}]", "bad") for i in range(14)])
    lines = str(error).splitlines()
    assert lines[0] == "the résumé is not a valid JSON Resume document (14 issues):"
    assert lines[1:11] == [f"$.work[{i}]: bad" for i in range(10)]
    assert lines[11] == "… and 4 more"
    assert len(error.issues) == 14


# ---------------------------------------------------------------- other valid résumés


def test_minimal_resumes_are_valid(tmp_path: Path) -> None:
    assert validate_resume({}) == []
    assert validate_resume({"basics": {"name": "Ada Lovelace"}}) == []
    path = tmp_path / "tiny.json"
    path.write_text('\ufeff{"basics": {"name": "Ada Lovelace"}}', encoding="utf-8")  # BOM tolerated
    assert load_resume(path) == {"basics": {"name": "Ada Lovelace"}}


def test_unusual_but_valid_resume_is_accepted() -> None:
    doc = {
        "$schema": "https://example.org/schema.json",
        "basics": {
            "name": "Zoë Ñúñez-Østergård 王小明",
            "label": "Ingénieure — données",
            "email": "zoe+cv@sub.example.co.uk",
            "url": "https://zoë.example",
            "location": {"city": "Zürich", "countryCode": "CH"},
            "profiles": [],
            "pronouns": "she/her",
        },
        "work": [{"name": "Ünïcode GmbH", "startDate": "2020", "highlights": []}],
        "volunteer": [],
        "education": [{"institution": "ETH", "startDate": "2010-09-01", "endDate": "2014"}],
        "skills": [{"name": "Rust", "keywords": []}, {}],
        "projects": [{"name": "🚀", "keywords": ["λ"], "customField": {"nested": [1, 2, 3]}}],
        "meta": {"version": "v1", "lastModified": "yesterday", "theme": "elegant"},
        "x-extension": True,
    }
    assert validate_resume(doc) == []


# ---------------------------------------------------------------- digest and sections


def test_digest_ignores_key_order_and_whitespace(sample: dict[str, Any]) -> None:
    reordered = json.loads(json.dumps(sample, sort_keys=True, indent=4))
    assert resume_digest(reordered) == resume_digest(sample)
    assert len(resume_digest(sample)) == 64
    changed = copy.deepcopy(sample)
    changed["basics"]["label"] += "!"
    assert resume_digest(changed) != resume_digest(sample)
    assert resume_digest({"a": "é"}) != resume_digest({"a": "e"})


def test_get_section_returns_a_copy(sample: dict[str, Any]) -> None:
    work = get_section(sample, "work")
    assert work == sample["work"]
    work[0]["name"] = "Changed"
    assert sample["work"][0]["name"] == "Kestrel Payments"


def test_absent_valid_sections_are_empty() -> None:
    assert get_section({}, "basics") == {}
    assert get_section({}, "projects") == []
    assert get_section({"basics": {"name": "A"}}, "references") == []


def test_unknown_section_lists_the_valid_ones(sample: dict[str, Any]) -> None:
    with pytest.raises(UnknownSectionError) as caught:
        get_section(sample, "jobs")
    assert isinstance(caught.value, KeyError)
    message = str(caught.value)
    assert message.startswith("unknown résumé section 'jobs'")
    assert message.endswith(", ".join(SECTIONS))
    with pytest.raises(UnknownSectionError):
        get_section(sample, "meta")


# ---------------------------------------------------------------- redaction


def test_redact_public_removes_every_contact_detail(sample: dict[str, Any]) -> None:
    public = redact_public(sample)
    dumped = json.dumps(public, ensure_ascii=False)
    for secret in (
        sample["basics"]["email"],
        sample["basics"]["phone"],
        sample["basics"]["location"]["address"],
        sample["basics"]["location"]["postalCode"],
        sample["references"][0]["name"],
    ):
        assert secret not in dumped
    assert "references" not in public
    assert public["basics"]["location"] == {"city": "Utrecht", "countryCode": "NL", "region": "Utrecht"}
    assert public["basics"]["name"] == "Ines Halvorsen"
    assert public["work"] == sample["work"]
    assert public["basics"]["profiles"] == sample["basics"]["profiles"]


def test_redact_public_does_not_mutate_its_input(sample: dict[str, Any]) -> None:
    before = copy.deepcopy(sample)
    public = redact_public(sample)
    assert sample == before
    public["work"][0]["highlights"].append("x")
    public["basics"]["name"] = "Someone else"
    assert sample == before


def test_redact_public_removes_contact_keys_anywhere_and_repeats_in_text() -> None:
    doc = {
        "basics": {
            "name": "Ada",
            "email": "ada@example.com",
            "phone": "+44 20 7946 0958",
            "summary": "Write to ADA@example.com or call +442079460958 (or 020-7946-0958).",
        },
        "work": [{"name": "Acme", "email": "boss@acme.example", "Phone": "555-0100-999", "position": "Dev"}],
        "references": [{"name": "Bob Private", "reference": "Great", "email": "bob@example.com"}],
        "projects": [{"name": "P", "contact": {"mobile": "+1 202 555 0182"}}],
    }
    public = redact_public(doc)
    dumped = json.dumps(public)
    for secret in ("ada@example.com", "ADA@example.com", "boss@acme.example", "555-0100-999",
                   "Bob Private", "202 555 0182", "+442079460958"):  # fmt: skip
        assert secret not in dumped
    assert public["work"] == [{"name": "Acme", "position": "Dev"}]
    assert public["basics"]["summary"].startswith("Write to [redacted] or call [redacted] (")
    assert public["projects"] == [{"name": "P", "contact": {}}]


def test_private_values_collects_every_contact_value_and_the_street_address(sample: dict[str, Any]) -> None:
    found = private_values(sample)
    basics = sample["basics"]
    assert {basics["email"], basics["phone"], basics["location"]["address"]} <= found
    assert basics["location"]["postalCode"] not in found
    assert private_values({"basics": {"phone": "112"}}) == set()  # too short to search free text for
    lines = private_values({"basics": {"location": {"address": "Flat 4b\nHoofdstraat 12\nUtrecht"}}})
    assert lines == {"Flat 4b\nHoofdstraat 12\nUtrecht", "Flat 4b", "Hoofdstraat 12"}


def test_redact_public_scrubs_former_values_passed_as_also() -> None:
    doc = {
        "basics": {"name": "Ada", "email": "ada@new.example", "location": {"address": "Main St 1"}},
        "work": [{"summary": "Mail ada@OLD.example, visit Old Road 9 or Main St 1; call +44 20 7946 0958."}],
    }
    public = redact_public(doc, also={"ada@old.example", "Old Road 9", "+44 (20) 7946-0958"})
    assert public["work"][0]["summary"] == "Mail [redacted], visit [redacted] or [redacted]; call [redacted]."
    assert redact_public(doc)["work"][0]["summary"].startswith(
        "Mail ada@OLD.example, visit Old Road 9 or [redacted]"
    )


def test_private_paths_document_what_is_withheld() -> None:
    assert {"$.basics.email", "$.basics.phone", "$.basics.location.address", "$.references"} <= set(
        PRIVATE_PATHS
    )
    assert "$.basics.location.postalCode" in PRIVATE_PATHS


# ---------------------------------------------------------------- JSONPath helpers


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        ([], "$"),
        (["work", 2, "startDate"], "$.work[2].startDate"),
        (["$schema"], "$['$schema']"),
        (["a b", "it's", "c\\d"], "$['a b']['it\\'s']['c\\\\d']"),
    ],
)
def test_paths_round_trip(parts: list[str | int], text: str) -> None:
    assert format_path(parts) == text
    assert parse_path(text) == parts


def test_resolve_path_finds_values_and_rejects_missing_ones(sample: dict[str, Any]) -> None:
    assert resolve_path(sample, "$.work[0].highlights[1]") == sample["work"][0]["highlights"][1]
    assert resolve_path(sample, "$") is sample
    with pytest.raises(KeyError):
        resolve_path(sample, "$.work[99]")
    with pytest.raises(KeyError):
        resolve_path(sample, "$.basics.nothing")
    with pytest.raises(ValueError):
        parse_path("work[0]")
