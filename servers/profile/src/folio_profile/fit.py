"""Job fit: the requirements of a description, each searched in the résumé and assessed."""

from __future__ import annotations

from folio_profile.errors import NoProfileError
from folio_profile.matching import assess, extract_requirements, summarise_fit
from folio_profile.models import JobFit
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
    return summarise_fit(
        [assess(req, found, keywords, years) for req, found in zip(requirements, hits, strict=True)]
    )
