"""Markdown rendering, date formatting and the skills overview."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from folio_profile.models import TOTAL_YEARS_KEY
from folio_profile.render import (
    format_date,
    format_date_range,
    parse_partial_date,
    render_markdown,
    skills_overview,
    year_range,
)
from folio_profile.resume import load_resume, redact_public

SAMPLE = Path(__file__).resolve().parents[3] / "configs" / "portfolio" / "resume.json"


@pytest.fixture
def sample() -> dict[str, Any]:
    return load_resume(SAMPLE)


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-03", "Mar 2021"),
        ("2021-03-15", "Mar 2021"),
        ("2019", "2019"),
        ("2020-12", "Dec 2020"),
        ("", ""),
        (None, ""),
        ("sometime", "sometime"),
        ("2021-02-30", "2021-02-30"),
    ],
)
def test_format_date(value: object, expected: str) -> None:
    assert format_date(value) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2021-03", None, "Mar 2021 – present"),
        ("2015-06", "2017-12", "Jun 2015 – Dec 2017"),
        ("2020", "2020", "2020"),
        (None, "2017-12", "until Dec 2017"),
        (None, None, ""),
    ],
)
def test_format_date_range(start: object, end: object, expected: str) -> None:
    assert format_date_range(start, end) == expected


def test_year_range_and_parsing() -> None:
    assert year_range("2019-04", "2023-01-31") == "2019–2023"
    assert year_range("2021-03", None) == "2021–present"
    assert year_range("2020-01", "2020-12") == "2020"
    assert year_range(None, None) == ""
    assert parse_partial_date("2024-02-29") == (2024, 2, 29)
    assert parse_partial_date("2023-02-29") is None
    assert parse_partial_date(2023) is None


# ---------------------------------------------------------------- Markdown


def test_sample_renders_as_a_readable_markdown_resume(sample: dict[str, Any]) -> None:
    md = render_markdown(sample)
    lines = md.splitlines()
    assert lines[0] == "# Ines Halvorsen"
    assert lines[2] == "**Staff Software Engineer — Platform, Data & ML Infrastructure**"
    assert lines[4].startswith("ines.halvorsen@example.com · +31 6 5550 1847 · [ines-halvorsen.example.com]")
    assert (
        "### Staff Software Engineer, Platform — [Kestrel Payments](https://kestrel-payments.example.com)"
        in md
    )
    assert "*Mar 2021 – present · Amsterdam, NL (hybrid)*" in md
    assert "*Jun 2015 – Dec 2017 · Rotterdam, NL*" in md
    assert "- **Python** (Expert): FastAPI, asyncio, pandas, NumPy, pytest, Django, scikit-learn" in md
    assert "- **Norwegian**: Native speaker" in md
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Experience",
        "## Volunteering",
        "## Education",
        "## Awards",
        "## Certificates",
        "## Publications",
        "## Skills",
        "## Languages",
        "## Interests",
        "## References",
        "## Projects",
    ]
    for highlight in sample["work"][1]["highlights"]:
        assert f"- {highlight}" in lines
    assert "None" not in md and "[]" not in md
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_public_rendering_has_no_contact_details(sample: dict[str, Any]) -> None:
    md = render_markdown(redact_public(sample))
    assert sample["basics"]["email"] not in md
    assert sample["basics"]["phone"] not in md
    assert "Voorbeeldstraat" not in md
    assert "## References" not in md
    assert (
        md.splitlines()[4] == "[ines-halvorsen.example.com](https://ines-halvorsen.example.com) · Utrecht, NL"
    )


def test_minimal_resume_renders_only_what_is_present() -> None:
    assert render_markdown({"basics": {"name": "Ada Lovelace"}}) == "# Ada Lovelace\n"
    assert render_markdown({}) == "# Résumé\n"
    md = render_markdown(
        {
            "basics": {"name": "Zoë", "email": "z@example.com"},
            "work": [],
            "skills": [{"name": "Rust"}],
            "projects": [{"name": "λ-calc", "startDate": "2020-05"}],
        }
    )
    assert md == (
        "# Zoë\n\nz@example.com\n\n## Skills\n\n- **Rust**\n\n"
        "## Projects\n\n### λ-calc\n*May 2020 – present*\n"
    )


# ---------------------------------------------------------------- skills overview

OVERVIEW_DOC: dict[str, Any] = {
    "work": [
        {
            "name": "Old Co",
            "position": "Engineer",
            "startDate": "2019-01",
            "endDate": "2020-12",
            "highlights": ["Wrote Python services."],
        },
        {
            "name": "New Co",
            "position": "Senior Engineer",
            "startDate": "2020-07",
            "summary": "Kafka pipelines in python; Go CLIs.",
        },
    ],
    "projects": [{"name": "Tool", "description": "A Kafka exporter", "keywords": ["Kubernetes"]}],
    "skills": [
        {"name": "Python", "level": "Expert", "keywords": ["asyncio"]},
        {"name": "Streaming", "keywords": ["Kafka", "Kubernetes", "go"]},
        {"name": "Infra", "keywords": ["Kubernetes"]},
    ],
}


def test_skills_overview_indexes_keywords_and_measures_years() -> None:
    overview = skills_overview(OVERVIEW_DOC, today=date(2022, 12, 15))
    assert overview.keyword_index == {
        "python": ["Python"],
        "asyncio": ["Python"],
        "streaming": ["Streaming"],
        "kafka": ["Streaming"],
        "kubernetes": ["Streaming", "Infra"],
        "go": ["Streaming"],
        "infra": ["Infra"],
    }
    usage = {u.keyword: u for u in overview.keywords}
    assert [u.keyword for u in overview.keywords] == sorted(usage)
    # Python: Jan 2019 – Dec 2022 (the two jobs overlap and merge) = 48 months
    assert usage["python"].work_years == 4.0
    assert (usage["python"].first_year, usage["python"].last_year) == (2019, 2022)
    assert usage["python"].sections == ["work"]
    # Kafka: Jul 2020 – Dec 2022 = 30 months, also in a project
    assert usage["kafka"].work_years == 2.5
    assert usage["kafka"].sections == ["work", "projects"]
    assert usage["kubernetes"].work_years == 0.0 and usage["kubernetes"].sections == ["projects"]
    assert usage["asyncio"].sections == [] and usage["asyncio"].first_year is None
    assert usage["go"].work_years == 2.5  # "Go CLIs" matches the lower-case keyword
    assert overview.total_work_years == 4.0
    skills = {s.name: s for s in overview.skills}
    assert skills["Python"].level == "Expert" and skills["Python"].years == 4.0
    assert skills["Streaming"].level is None and skills["Streaming"].years == 2.5
    assert skills["Streaming"].mentioned_in == ["work", "projects"]
    assert skills["Infra"].years == 0.0


def test_skills_overview_feeds_the_matcher() -> None:
    overview = skills_overview(OVERVIEW_DOC, today=date(2022, 12, 15))
    assert overview.skill_keywords() == {
        "python",
        "asyncio",
        "streaming",
        "kafka",
        "kubernetes",
        "go",
        "infra",
    }
    assert overview.years_by_keyword() == {"python": 4.0, "kafka": 2.5, "go": 2.5, TOTAL_YEARS_KEY: 4.0}


def test_sample_skills_overview_is_consistent(sample: dict[str, Any]) -> None:
    overview = skills_overview(sample, today=date(2025, 6, 1))
    assert [s.name for s in overview.skills] == [s["name"] for s in sample["skills"]]
    assert overview.keyword_index["kubernetes"] == ["Platform Engineering"]
    years = overview.years_by_keyword()
    # Sep 2012 – May 2025, no gaps between jobs
    assert years[TOTAL_YEARS_KEY] == 12.8
    assert years["python"] == 11.8
    assert years["kafka"] > years["terraform"] > 0
    assert "pytorch" not in years  # a listed skill never mentioned at work


def test_skills_overview_of_a_resume_without_skills() -> None:
    overview = skills_overview({"basics": {"name": "A"}}, today=date(2024, 1, 1))
    assert overview.skills == [] and overview.keyword_index == {} and overview.keywords == []
    assert overview.years_by_keyword() == {TOTAL_YEARS_KEY: 0.0}
