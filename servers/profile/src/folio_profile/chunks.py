"""The résumé cut into self-contained passages for semantic search.

Each :class:`Chunk` is one meaningful unit (a work highlight, a skill, a publication …) whose text
carries its own context, so that it reads well alone in a search result::

    $.basics                      Ines Halvorsen — Staff Software Engineer. Based in Utrecht, NL. …
    $.basics.summary              About Ines Halvorsen (Staff Software Engineer): <summary>
    $.work[0]                     Staff Engineer at Kestrel Payments (2021–present), Amsterdam: <summary> …
    $.work[0].highlights[2]       At Kestrel Payments as Staff Engineer (2021–present): <highlight>
    $.skills[1]                   Skill: Python (Expert): FastAPI, asyncio, pandas
    $.projects[0].highlights[1]   In project Runway (2021–2023): <highlight>

``path`` is the JSONPath of the source value (a string for summaries and highlights, an object for
whole entries). When a chunk's source is a string, its text ends with that string (whitespace runs
collapsed to single spaces). Text longer than :data:`MAX_CHUNK_CHARS` is split on sentence boundaries
into several chunks with the same path, numbered by ``part`` from 0, each repeating the context prefix.

Contact details (e-mail, phone, street address, postal code) never appear in chunk text. References are
chunked: to know which chunks the public may see, compare with ``chunk_resume(redact_public(doc))``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from folio_profile.render import format_date, year_range
from folio_profile.resume import PathPart, format_path

__all__ = ["MAX_CHUNK_CHARS", "Chunk", "chunk_resume"]

MAX_CHUNK_CHARS: Final = 800
_MIN_BODY_CHARS: Final = 200
_MAX_HEAD_CHARS: Final = 300
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Chunk:
    """One searchable passage: its résumé section, the JSONPath of its source, its text and part number."""

    section: str
    path: str
    text: str
    part: int = 0


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [text for item in value if (text := _clean(item))]


def _indexed(value: object) -> list[tuple[int, str]]:
    """(index, text) of the non-empty strings of a list, keeping their original indexes."""
    if not isinstance(value, list):
        return []
    return [(j, text) for j, item in enumerate(value) if (text := _clean(item))]


def _join(parts: Iterable[str], sep: str = ", ") -> str:
    return sep.join(part for part in parts if part)


def _paren(text: str) -> str:
    return f" ({text})" if text else ""


def _split(body: str, budget: int) -> list[str]:
    """Pieces of ``body`` no longer than ``budget``, cut between sentences (or words, if need be)."""
    if len(body) <= budget:
        return [body]
    units: list[str] = []
    for sentence in _SENTENCE_END.split(body):
        while len(sentence) > budget:
            cut = sentence.rfind(" ", 0, budget + 1)
            cut = cut if cut > 0 else budget
            units.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        if sentence:
            units.append(sentence)
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 1 + len(unit) > budget:
            pieces.append(current)
            current = unit
        else:
            current = f"{current} {unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


class _Builder:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []

    def add(self, section: str, path: Iterable[PathPart], head: str, body: str = "") -> None:
        """Add ``head: body`` (or ``head`` alone when there is no body), split if too long."""
        head = _clean(head)
        body = _clean(body)
        where = format_path(path)
        if not body:
            head, body = "", head
        if not body:
            return
        if len(head) > _MAX_HEAD_CHARS:
            head = head[: _MAX_HEAD_CHARS - 1].rstrip() + "…"
        prefix = f"{head}: " if head else ""
        budget = max(_MIN_BODY_CHARS, MAX_CHUNK_CHARS - len(prefix))
        for n, piece in enumerate(_split(body, budget)):
            self.chunks.append(Chunk(section, where, prefix + piece, n))


def _entries(doc: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    value = doc.get(section)
    if not isinstance(value, list):
        return []
    return [(i, entry) for i, entry in enumerate(value) if isinstance(entry, dict)]


def _basics(doc: dict[str, Any], out: _Builder) -> None:
    basics = doc.get("basics")
    if not isinstance(basics, dict):
        return
    name = _clean(basics.get("name"))
    label = _clean(basics.get("label"))
    sentences = [_join([name, label], " — ")]
    location = basics.get("location")
    if isinstance(location, dict):
        city = _clean(location.get("city"))
        region = _clean(location.get("region"))
        place = _join([city, region if region != city else "", _clean(location.get("countryCode"))])
        if place:
            sentences.append(f"Based in {place}")
    if url := _clean(basics.get("url")):
        sentences.append(f"Website: {url}")
    profiles = []
    raw_profiles = basics.get("profiles")
    for profile in raw_profiles if isinstance(raw_profiles, list) else []:
        if isinstance(profile, dict):
            network = _clean(profile.get("network"))
            handle = _clean(profile.get("username")) or _clean(profile.get("url"))
            profiles.append(_join([network, _paren(handle).strip()], " "))
    if profiles := [p for p in profiles if p]:
        sentences.append("Profiles: " + ", ".join(profiles))
    headline = ". ".join(s for s in sentences if s)
    if headline:
        out.add("basics", ["basics"], headline + ".")
    if summary := _clean(basics.get("summary")):
        about = f"About {name}{_paren(label)}" if name else "About me"
        out.add("basics", ["basics", "summary"], about, summary)


def _work(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "work"):
        company = _clean(entry.get("name")) or _clean(entry.get("company"))
        position = _clean(entry.get("position"))
        years = year_range(entry.get("startDate"), entry.get("endDate"))
        role = _join([position, f"at {company}" if company else ""], " ") or "Work experience"
        location = _clean(entry.get("location"))
        head = role + _paren(years) + (f", {location}" if location else "")
        description = _clean(entry.get("description"))
        body = _join(
            [_clean(entry.get("summary")), f"About {company}: {description}" if description else ""], " "
        )
        out.add("work", ["work", i], head, body)
        if company:
            context = f"At {company}" + (f" as {position}" if position else "")
        else:
            context = f"As {position}" if position else "At work"
        context += _paren(years)
        for j, text in _indexed(entry.get("highlights")):
            out.add("work", ["work", i, "highlights", j], context, text)


def _volunteer(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "volunteer"):
        organization = _clean(entry.get("organization"))
        position = _clean(entry.get("position")) or "volunteer"
        years = year_range(entry.get("startDate"), entry.get("endDate"))
        head = f"Volunteering as {position}" + (f" at {organization}" if organization else "") + _paren(years)
        highlights = _strings(entry.get("highlights"))
        body = _join(
            [_clean(entry.get("summary")), "Highlights: " + "; ".join(highlights) if highlights else ""], " "
        )
        out.add("volunteer", ["volunteer", i], head, body)


def _education(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "education"):
        degree = _join([_clean(entry.get("studyType")), _clean(entry.get("area"))], " in ")
        institution = _clean(entry.get("institution"))
        head = "Education: " + (_join([degree, f"at {institution}" if institution else ""], " ") or "studies")
        head += _paren(year_range(entry.get("startDate"), entry.get("endDate")))
        courses = _strings(entry.get("courses"))
        score = _clean(entry.get("score"))
        body = _join(
            [f"Result: {score}." if score else "", "Courses: " + ", ".join(courses) if courses else ""], " "
        )
        out.add("education", ["education", i], head, body)


def _awards(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "awards"):
        awarder = _clean(entry.get("awarder"))
        head = "Award: " + (_clean(entry.get("title")) or "award") + (f" from {awarder}" if awarder else "")
        head += _paren(format_date(entry.get("date")))
        out.add("awards", ["awards", i], head, _clean(entry.get("summary")))


def _certificates(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "certificates"):
        issuer = _clean(entry.get("issuer"))
        head = "Certificate: " + (_clean(entry.get("name")) or "certificate")
        head += (f", issued by {issuer}" if issuer else "") + _paren(format_date(entry.get("date")))
        out.add("certificates", ["certificates", i], head)


def _publications(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "publications"):
        name = _clean(entry.get("name"))
        head = f"Publication: “{name}”" if name else "Publication"
        head += _paren(_join([_clean(entry.get("publisher")), format_date(entry.get("releaseDate"))]))
        out.add("publications", ["publications", i], head, _clean(entry.get("summary")))


def _skills(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "skills"):
        head = "Skill: " + (_clean(entry.get("name")) or "skill") + _paren(_clean(entry.get("level")))
        out.add("skills", ["skills", i], head, ", ".join(_strings(entry.get("keywords"))))


def _languages(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "languages"):
        language = _clean(entry.get("language"))
        if language:
            fluency = _clean(entry.get("fluency"))
            head = f"Language: {language}" + (f" — {fluency}" if fluency else "")
            out.add("languages", ["languages", i], head)


def _interests(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "interests"):
        name = _clean(entry.get("name"))
        keywords = ", ".join(_strings(entry.get("keywords")))
        if name or keywords:
            out.add("interests", ["interests", i], f"Interest: {name or 'interest'}", keywords)


def _references(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "references"):
        name = _clean(entry.get("name"))
        reference = _clean(entry.get("reference"))
        if reference:
            head = f"Reference from {name}" if name else "Reference"
            out.add("references", ["references", i, "reference"], head, reference)


def _projects(doc: dict[str, Any], out: _Builder) -> None:
    for i, entry in _entries(doc, "projects"):
        name = _clean(entry.get("name")) or "untitled"
        years = year_range(entry.get("startDate"), entry.get("endDate"))
        kind = _clean(entry.get("type"))
        entity = _clean(entry.get("entity"))
        roles = ", ".join(_strings(entry.get("roles")))
        details = _join(
            [
                years,
                _join([kind, f"for {entity}" if entity else ""], " "),
                f"roles: {roles}" if roles else "",
            ],
            "; ",
        )
        keywords = ", ".join(_strings(entry.get("keywords")))
        url = _clean(entry.get("url"))
        body = _join(
            [
                _clean(entry.get("description")),
                f"Keywords: {keywords}." if keywords else "",
                f"Link: {url}" if url else "",
            ],
            " ",
        )
        out.add("projects", ["projects", i], f"Project: {name}{_paren(details)}", body)
        context = f"In project {name}{_paren(years)}"
        for j, text in _indexed(entry.get("highlights")):
            out.add("projects", ["projects", i, "highlights", j], context, text)


_SECTION_BUILDERS: Final = (
    _basics,
    _work,
    _volunteer,
    _education,
    _awards,
    _certificates,
    _publications,
    _skills,
    _languages,
    _interests,
    _references,
    _projects,
)


def chunk_resume(doc: dict[str, Any]) -> list[Chunk]:
    """The résumé's searchable passages, in résumé order (sections as in ``SECTIONS``, entries in order,
    an entry before its highlights). Deterministic: the same document always gives the same chunks."""
    out = _Builder()
    for build in _SECTION_BUILDERS:
        build(doc, out)
    return out.chunks
