"""Pydantic models returned by the profile tools (they become the tools' MCP output schemas)."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "TOTAL_YEARS_KEY",
    "Change",
    "JobFit",
    "KeywordUsage",
    "Requirement",
    "RequirementFit",
    "SearchHit",
    "SkillEntry",
    "SkillsOverview",
]

MAX_DESCRIPTION_CHARS: Final = 20_000
"""The longest job description profile_match_job and profile_cover_letter accept."""

TOTAL_YEARS_KEY = "*"
"""Key of :meth:`SkillsOverview.years_by_keyword` holding the total years of work experience."""

Importance = Literal["must", "nice"]
Verdict = Literal["strong", "partial", "gap"]
ChangeOp = Literal["add", "remove", "replace"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchHit(_Model):
    section: str = Field(description="Résumé section the text comes from, e.g. 'work' or 'projects'.")
    path: str = Field(
        description="JSONPath of the source value in the résumé, e.g. '$.work[0].highlights[2]'."
    )
    text: str = Field(description="The matching text, self-contained (it carries its own context).")
    score: float = Field(description="Relevance from 0 (unrelated) to 1 (exact match).")


class Requirement(_Model):
    text: str = Field(description="One requirement statement taken from the job description.")
    importance: Importance = Field(
        description="'must' for required qualifications, 'nice' for preferred / bonus / nice-to-have ones."
    )
    years: int | None = Field(
        default=None, description="Minimum years of experience the requirement asks for, when it states one."
    )


class ProjectEvidence(_Model):
    repo: str = Field(description="The repository (as in projects_list).")
    term: str = Field(description="The requirement's technology term this evidence shows, e.g. 'Rust'.")
    commits: int = Field(
        description="The owner's commits (merges, bots and reformats left out) naming the term or touching its files."
    )
    lines_of_code: int | None = Field(
        default=None,
        description="Lines of code in that language at the repository's HEAD, when it is a language.",
    )
    first_commit: str | None = Field(default=None, description="Date of the first such commit (YYYY-MM-DD).")
    last_commit: str | None = Field(default=None, description="Date of the last such commit (YYYY-MM-DD).")


class RequirementFit(_Model):
    requirement: Requirement = Field(description="The requirement being assessed.")
    score: float = Field(description="How well the résumé meets it, from 0 to 1.")
    verdict: Verdict = Field(description="'strong' (score ≥ 0.75), 'partial' (≥ 0.45) or 'gap'.")
    evidence: list[SearchHit] = Field(description="Up to three résumé passages supporting the assessment.")
    matched_keywords: list[str] = Field(
        description="Technology terms of the requirement that the résumé's skills or evidence also name."
    )
    rationale: str = Field(description="One line explaining the score.")
    project_evidence: list[ProjectEvidence] = Field(
        default_factory=list,
        description="What the owner's analysed git repositories show of the requirement's terms (projects server data).",
    )


class JobFit(_Model):
    overall_score: float = Field(
        description="Weighted mean of the requirement scores (must-haves count twice), from 0 to 1."
    )
    requirements: list[RequirementFit] = Field(
        description="Assessment of every requirement, in posting order."
    )
    gaps: list[str] = Field(description="Requirements the résumé does not show, must-haves first.")
    strengths: list[str] = Field(description="Requirements the résumé meets best, strongest first.")
    narrative: str | None = Field(
        default=None, description="A short prose assessment written by an LLM, when one was available."
    )


class Change(_Model):
    op: ChangeOp = Field(description="'add', 'remove' or 'replace'.")
    path: str = Field(description="JSONPath of the changed value, e.g. '$.work[1].endDate'.")
    old: Any = Field(default=None, description="The value before the change (absent for 'add').")
    new: Any = Field(default=None, description="The value after the change (absent for 'remove').")


class SkillEntry(_Model):
    name: str = Field(description="Skill name as written in the résumé.")
    level: str | None = Field(default=None, description="Stated level, e.g. 'Expert', if any.")
    keywords: list[str] = Field(description="The skill's keywords as written in the résumé.")
    years: float = Field(
        description="Years of work experience (merged date ranges) whose entries mention the skill or one "
        "of its keywords."
    )
    mentioned_in: list[str] = Field(
        description="Résumé sections other than 'skills' that mention the skill or one of its keywords."
    )


class KeywordUsage(_Model):
    keyword: str = Field(description="A skill keyword or skill name, lower-cased.")
    skills: list[str] = Field(description="Names of the skills that list this keyword (or are named so).")
    sections: list[str] = Field(description="Résumé sections other than 'skills' whose text mentions it.")
    work_years: float = Field(description="Years of work experience (merged date ranges) mentioning it.")
    first_year: int | None = Field(default=None, description="First year of a work entry mentioning it.")
    last_year: int | None = Field(default=None, description="Last year of a work entry mentioning it.")


class SkillsOverview(_Model):
    skills: list[SkillEntry] = Field(description="The résumé's skills, in résumé order.")
    keyword_index: dict[str, list[str]] = Field(
        description="Lower-cased keyword (and skill name) → names of the skills listing it."
    )
    keywords: list[KeywordUsage] = Field(description="Where and for how long each keyword was used, sorted.")
    total_work_years: float = Field(description="Years covered by the work section (overlaps merged).")

    def skill_keywords(self) -> set[str]:
        """Every lower-cased skill keyword and skill name (the ``skill_keywords`` argument of ``assess``)."""
        return set(self.keyword_index)

    def years_by_keyword(self) -> dict[str, float]:
        """Work years per lower-cased keyword (only those used at work), plus the total under ``"*"``."""
        years = {usage.keyword: usage.work_years for usage in self.keywords if usage.work_years > 0}
        years[TOTAL_YEARS_KEY] = self.total_work_years
        return years
