"""Presentation of the résumé: Markdown, dates, and the skills overview."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from folio_profile.models import KeywordUsage, SkillEntry, SkillsOverview
from folio_profile.resume import SECTIONS

__all__ = [
    "SECTION_TITLES",
    "format_date",
    "format_date_range",
    "parse_partial_date",
    "render_markdown",
    "skills_overview",
    "year_range",
]

SECTION_TITLES: Final = {
    "work": "Experience",
    "volunteer": "Volunteering",
    "education": "Education",
    "awards": "Awards",
    "certificates": "Certificates",
    "publications": "Publications",
    "skills": "Skills",
    "languages": "Languages",
    "interests": "Interests",
    "references": "References",
    "projects": "Projects",
}

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


# --------------------------------------------------------------------------- dates


def parse_partial_date(value: object) -> tuple[int, int | None, int | None] | None:
    """``"2021-03"`` → ``(2021, 3, None)``; None for anything that is not a real partial ISO date."""
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    return year, month, day


def format_date(value: object) -> str:
    """``"2021-03"`` or ``"2021-03-15"`` → ``"Mar 2021"``, ``"2021"`` → ``"2021"``; other text unchanged."""
    parsed = parse_partial_date(value)
    if parsed is None:
        return value.strip() if isinstance(value, str) else ""
    year, month, _ = parsed
    return f"{_MONTHS[month - 1]} {year}" if month else str(year)


def format_date_range(start: object, end: object) -> str:
    """``"Mar 2021 – present"``, ``"Jun 2015 – Dec 2017"``, ``"until Dec 2017"`` or ``""``.

    A missing end date means the entry is ongoing, as in JSON Resume.
    """
    first, last = format_date(start), format_date(end)
    if first and last:
        return first if first == last else f"{first} – {last}"
    if first:
        return f"{first} – present"
    return f"until {last}" if last else ""


def year_range(start: object, end: object) -> str:
    """Years only: ``"2019–2023"``, ``"2021–present"``, ``"2020"`` (same year), ``"until 2017"`` or ``""``."""
    first, last = parse_partial_date(start), parse_partial_date(end)
    if first and last:
        return str(first[0]) if first[0] == last[0] else f"{first[0]}–{last[0]}"
    if first:
        return f"{first[0]}–present"
    return f"until {last[0]}" if last else ""


def _month_index(value: object, *, end: bool) -> int | None:
    parsed = parse_partial_date(value)
    if parsed is None:
        return None
    year, month, _ = parsed
    return year * 12 + ((month or (12 if end else 1)) - 1)


def _merged_months(intervals: Iterable[tuple[int, int]]) -> int:
    """Number of months covered by inclusive month intervals, overlaps counted once."""
    total = 0
    current: tuple[int, int] | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1] + 1:
            if current is not None:
                total += current[1] - current[0] + 1
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0] + 1
    return total


# --------------------------------------------------------------------------- Markdown


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def _entries(doc: dict[str, Any], section: str) -> list[dict[str, Any]]:
    value = doc.get(section)
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def _link(text: str, url: str) -> str:
    if not url:
        return text
    target = f"<{url}>" if any(ch in url for ch in " ()") else url
    return f"[{text}]({target})"


def _bare_url(url: str) -> str:
    return re.sub(r"^[a-z]+://", "", url).rstrip("/")


def _join(parts: Iterable[str], sep: str = " · ") -> str:
    return sep.join(part for part in parts if part)


def _header(doc: dict[str, Any]) -> list[str]:
    basics = doc.get("basics")
    basics = basics if isinstance(basics, dict) else {}
    lines: list[str] = []
    name = _text(basics.get("name")) or "Résumé"
    lines += [f"# {name}", ""]
    if label := _text(basics.get("label")):
        lines += [f"**{label}**", ""]
    location = basics.get("location")
    place = ""
    if isinstance(location, dict):
        city = _text(location.get("city"))
        region = _text(location.get("region"))
        place = _join(
            [
                _text(location.get("address")).replace("\n", ", "),
                _join([_text(location.get("postalCode")), city], " "),
                region if region != city else "",
                _text(location.get("countryCode")),
            ],
            ", ",
        )
    url = _text(basics.get("url"))
    contact = _join(
        [
            _text(basics.get("email")),
            _text(basics.get("phone")),
            _link(_bare_url(url), url) if url else "",
            place,
        ]
    )
    if contact:
        lines += [contact, ""]
    profiles = []
    raw_profiles = basics.get("profiles")
    for profile in raw_profiles if isinstance(raw_profiles, list) else []:
        if not isinstance(profile, dict):
            continue
        network = _text(profile.get("network"))
        username = _text(profile.get("username"))
        profile_url = _text(profile.get("url"))
        shown = username or _bare_url(profile_url)
        if shown:
            profiles.append(_join([f"{network}:" if network else "", _link(shown, profile_url)], " "))
    if profiles:
        lines += [" · ".join(profiles), ""]
    if summary := _text(basics.get("summary")):
        lines += ["## Summary", "", summary, ""]
    return lines


def _entry_block(title: str, meta: list[str], body: list[str], bullets: list[str]) -> list[str]:
    lines = [f"### {title}"]
    if meta_line := _join(meta):
        lines.append(f"*{meta_line}*")
    lines.append("")
    for paragraph in body:
        if paragraph:
            lines += [paragraph, ""]
    if bullets:
        lines += [f"- {bullet}" for bullet in bullets] + [""]
    return lines


def _work_like(entry: dict[str, Any], org_key: str) -> list[str]:
    position = _text(entry.get("position"))
    org = _text(entry.get(org_key)) or _text(entry.get("company"))
    url = _text(entry.get("url"))
    org_shown = _link(org, url) if org else ""
    title = _join([position, org_shown], " — ") or "Untitled"
    meta = [format_date_range(entry.get("startDate"), entry.get("endDate")), _text(entry.get("location"))]
    description = _text(entry.get("description"))
    body = [f"*{description}*" if description else "", _text(entry.get("summary"))]
    return _entry_block(title, meta, body, _strings(entry.get("highlights")))


def _section_lines(doc: dict[str, Any], section: str) -> list[str]:
    entries = _entries(doc, section)
    lines: list[str] = []
    if section == "work":
        for entry in entries:
            lines += _work_like(entry, "name")
    elif section == "volunteer":
        for entry in entries:
            lines += _work_like(entry, "organization")
    elif section == "education":
        for entry in entries:
            degree = _join([_text(entry.get("studyType")), _text(entry.get("area"))], ", ")
            institution = _link(_text(entry.get("institution")), _text(entry.get("url")))
            title = _join([degree, institution], " — ") or "Untitled"
            meta = [
                format_date_range(entry.get("startDate"), entry.get("endDate")),
                _text(entry.get("score")),
            ]
            courses = _strings(entry.get("courses"))
            body = ["Courses: " + ", ".join(courses) if courses else ""]
            lines += _entry_block(title, meta, body, [])
    elif section == "awards":
        for entry in entries:
            title = _text(entry.get("title"))
            head = _join([f"**{title}**" if title else "", _text(entry.get("awarder"))], ", ")
            when = format_date(entry.get("date"))
            item = f"{head} ({when})" if when else head
            lines.append(_join([f"- {item}", _text(entry.get("summary"))], ": "))
    elif section == "certificates":
        for entry in entries:
            name = _link(_text(entry.get("name")), _text(entry.get("url")))
            head = _join([f"**{name}**" if name else "", _text(entry.get("issuer"))], ", ")
            when = format_date(entry.get("date"))
            lines.append(f"- {head} ({when})" if when else f"- {head}")
    elif section == "publications":
        for entry in entries:
            name = _link(_text(entry.get("name")), _text(entry.get("url")))
            head = _join([f"**{name}**" if name else "", _text(entry.get("publisher"))], ", ")
            when = format_date(entry.get("releaseDate"))
            item = f"{head} ({when})" if when else head
            lines.append(_join([f"- {item}", _text(entry.get("summary"))], ": "))
    elif section == "skills":
        for entry in entries:
            level = _text(entry.get("level"))
            head = f"**{_text(entry.get('name')) or 'Skill'}**" + (f" ({level})" if level else "")
            lines.append(_join([f"- {head}", ", ".join(_strings(entry.get("keywords")))], ": "))
    elif section == "languages":
        for entry in entries:
            language = _text(entry.get("language")) or "Language"
            lines.append(_join([f"- **{language}**", _text(entry.get("fluency"))], ": "))
    elif section == "interests":
        for entry in entries:
            name = _text(entry.get("name")) or "Interest"
            lines.append(_join([f"- **{name}**", ", ".join(_strings(entry.get("keywords")))], ": "))
    elif section == "references":
        for entry in entries:
            if reference := _text(entry.get("reference")):
                lines += [f"> {line}" if line else ">" for line in reference.splitlines()]
            if name := _text(entry.get("name")):
                lines.append(f"> — {name}")
            lines.append("")
    elif section == "projects":
        for entry in entries:
            title = _link(_text(entry.get("name")) or "Untitled project", _text(entry.get("url")))
            roles = ", ".join(_strings(entry.get("roles")))
            meta = [
                format_date_range(entry.get("startDate"), entry.get("endDate")),
                roles,
                _text(entry.get("entity")),
            ]
            keywords = ", ".join(_strings(entry.get("keywords")))
            body = [_text(entry.get("description")), f"**Keywords:** {keywords}" if keywords else ""]
            lines += _entry_block(title, meta, body, _strings(entry.get("highlights")))
    if lines and lines[-1] != "":
        lines.append("")
    return lines


def render_markdown(doc: dict[str, Any]) -> str:
    """The résumé as readable Markdown: name and headline, contact line (fields present only), summary,
    then every non-empty section in JSON Resume order with dates such as "Mar 2021 – present".

    It renders what it is given: pass ``redact_public(doc)`` for the public audience.
    """
    lines = _header(doc)
    for section in SECTIONS[1:]:
        body = _section_lines(doc, section)
        if body:
            lines += [f"## {SECTION_TITLES[section]}", "", *body]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- skills overview


@dataclass(frozen=True)
class _Text:
    section: str
    text: str
    interval: tuple[int, int] | None  # inclusive month indexes of a work entry


def _work_interval(entry: dict[str, Any], today: date) -> tuple[int, int] | None:
    start = _month_index(entry.get("startDate"), end=False)
    if start is None:
        return None
    end = _month_index(entry.get("endDate"), end=True)
    if end is None:
        end = today.year * 12 + today.month - 1
    return (start, end) if end >= start else None


def _mention_texts(doc: dict[str, Any], today: date) -> Iterator[_Text]:
    """The résumé's prose outside the skills section, by section, with work entries' date ranges."""
    fields: dict[str, tuple[str, ...]] = {
        "work": ("position", "summary", "description", "highlights"),
        "volunteer": ("position", "summary", "highlights"),
        "education": ("area", "studyType", "courses"),
        "awards": ("title", "summary"),
        "certificates": ("name",),
        "publications": ("name", "summary"),
        "projects": ("name", "description", "highlights", "keywords"),
    }
    basics = doc.get("basics")
    if isinstance(basics, dict):
        for key in ("label", "summary"):
            if text := _text(basics.get(key)):
                yield _Text("basics", text, None)
    for section in SECTIONS:
        keys = fields.get(section)
        if keys is None:
            continue
        for entry in _entries(doc, section):
            interval = _work_interval(entry, today) if section == "work" else None
            for key in keys:
                value = entry.get(key)
                for text in [_text(value), *_strings(value)]:
                    if text:
                        yield _Text(section, text, interval)


def _years(months: int) -> float:
    return round(months / 12, 1)


def skills_overview(doc: dict[str, Any], *, today: date | None = None) -> SkillsOverview:
    """The skills with their keywords, and where and for how long each keyword shows up.

    * ``keyword_index``: every skill keyword and skill name, lower-cased → the skills listing it.
    * ``keywords``: for each of those, the other sections whose text mentions it (whole-word match,
      see ``term_pattern``) and the years of the work entries mentioning it (date ranges merged;
      a missing end date counts up to ``today``, default the current date).
    * ``total_work_years``: the years covered by all dated work entries.
    """
    from folio_profile.matching import display_term, term_pattern  # not needed before the first call

    today = today or date.today()
    texts = list(_mention_texts(doc, today))
    skills = _entries(doc, "skills")

    index: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for skill in skills:
        name = _text(skill.get("name"))
        for term in [name, *_strings(skill.get("keywords"))]:
            key = " ".join(term.lower().split())
            if not key:
                continue
            owners = index.setdefault(key, [])
            if name and name not in owners:
                owners.append(name)
            spelling.setdefault(key, term)

    usage: dict[str, KeywordUsage] = {}
    intervals_of: dict[str, list[tuple[int, int]]] = {}
    sections_of: dict[str, set[str]] = {}
    for key in sorted(index):
        pattern = term_pattern(display_term(spelling[key]))
        hits = [text for text in texts if pattern.search(text.text)]
        intervals = sorted({text.interval for text in hits if text.interval is not None})
        sections = {text.section for text in hits}
        intervals_of[key] = intervals
        sections_of[key] = sections
        usage[key] = KeywordUsage(
            keyword=key,
            skills=index[key],
            sections=[s for s in SECTIONS if s in sections],
            work_years=_years(_merged_months(intervals)),
            first_year=intervals[0][0] // 12 if intervals else None,
            last_year=max(end for _, end in intervals) // 12 if intervals else None,
        )

    entries: list[SkillEntry] = []
    for skill in skills:
        name = _text(skill.get("name"))
        keywords = _strings(skill.get("keywords"))
        keys = {" ".join(term.lower().split()) for term in [name, *keywords]} - {""}
        intervals = [interval for key in keys for interval in intervals_of.get(key, [])]
        mentioned: set[str] = set()
        for key in keys:
            mentioned |= sections_of.get(key, set())
        level = _text(skill.get("level")) or None
        entries.append(
            SkillEntry(
                name=name,
                level=level,
                keywords=keywords,
                years=_years(_merged_months(intervals)),
                mentioned_in=[s for s in SECTIONS if s in mentioned],
            )
        )

    all_work = [iv for entry in _entries(doc, "work") if (iv := _work_interval(entry, today)) is not None]
    return SkillsOverview(
        skills=entries,
        keyword_index=index,
        keywords=list(usage.values()),
        total_work_years=_years(_merged_months(all_work)),
    )
