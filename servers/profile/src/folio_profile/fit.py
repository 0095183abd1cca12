"""Job fit: the requirements of a description, each searched in the résumé and assessed."""

from __future__ import annotations

from typing import Any

from folio_profile.errors import NoProfileError
from folio_profile.matching import assess, extract_requirements, summarise_fit, term_groups
from folio_profile.models import JobFit, RequirementFit
from folio_profile.projects import project_evidence
from folio_profile.render import skills_overview
from folio_profile.store import ProfileStore

EVIDENCE_PER_REQUIREMENT = 5


async def job_fit(store: ProfileStore, description: str, *, public_only: bool) -> JobFit:
    """Score every requirement of ``description`` against the current résumé (no LLM involved)."""
    current = await store.current()
    if current is None:
        raise NoProfileError("no résumé has been imported yet")
    requirements = extract_requirements(description)
    if not requirements:
        return summarise_fit([])
    overview = skills_overview(current.document)
    keywords = overview.skill_keywords()
    years = overview.years_by_keyword()
    hits = await store.search_many(
        [r.text for r in requirements], EVIDENCE_PER_REQUIREMENT, public_only=public_only
    )
    fits = [assess(req, found, keywords, years) for req, found in zip(requirements, hits, strict=True)]
    terms = [[t for group in term_groups(req.text, keywords) for t in group] for req in requirements]
    shown = await project_evidence(store.pool, [t for ts in terms for t in ts], public_only=public_only)
    return summarise_fit([_with_projects(fit, ts, shown) for fit, ts in zip(fits, terms, strict=True)])


def _with_projects(fit: RequirementFit, terms: list[str], shown: dict[str, list[Any]]) -> RequirementFit:
    """Cite the repositories behind the requirement's terms; the score stays the résumé's."""
    cited = [e for term in dict.fromkeys(t.lower() for t in terms) for e in shown.get(term, [])]
    if not cited:
        return fit
    best = cited[0]
    note = f" Projects: {best.commits} commit(s) on {best.term} in {best.repo}"
    if best.first_commit and best.last_commit:
        note += f" ({best.first_commit[:7]} – {best.last_commit[:7]})"
    return fit.model_copy(update={"project_evidence": cited, "rationale": fit.rationale + note + "."})
