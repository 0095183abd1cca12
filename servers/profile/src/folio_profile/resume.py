"""The owner's résumé as a JSON Resume 1.0.0 document: validation, loading, sections, redaction.

Everything here is pure: a résumé is the plain ``dict`` produced by ``json.loads``. Locations
inside a résumé are written as JSONPath strings (``$.work[2].startDate``, ``$['odd key']``); the
helpers :func:`format_path`, :func:`parse_path` and :func:`resolve_path` convert between the
string form and the document.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.resources
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from folio_profile.limits import MAX_EMAIL_CHARS, MAX_URL_CHARS, size_problems

if TYPE_CHECKING:  # jsonschema loads on first validation, after the server's handshake
    from jsonschema import Draft7Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

__all__ = [
    "PRIVATE_PATHS",
    "SECTIONS",
    "PathPart",
    "ResumeInvalidError",
    "ResumeIssue",
    "UnknownSectionError",
    "format_path",
    "get_section",
    "is_email",
    "load_resume",
    "parse_path",
    "parse_resume",
    "private_values",
    "redact_public",
    "resolve_path",
    "resume_digest",
    "resume_schema",
    "validate_resume",
]

SECTIONS: Final[tuple[str, ...]] = (
    "basics",
    "work",
    "volunteer",
    "education",
    "awards",
    "certificates",
    "publications",
    "skills",
    "languages",
    "interests",
    "references",
    "projects",
)
"""The résumé sections, in the order JSON Resume documents them (``$schema`` and ``meta`` excluded)."""

PRIVATE_PATHS: Final[tuple[str, ...]] = (
    "$.basics.email",
    "$.basics.phone",
    "$.basics.location.address",
    "$.basics.location.postalCode",
    "$.references",
    "$..email",
    "$..phone",
    "$..mobile",
    "$..telephone",
    "$..fax",
)
"""What :func:`redact_public` withholds from the ``public`` audience (``$..x``: key ``x`` anywhere).

In addition, any remaining text that repeats a withheld e-mail address or phone number has that
value replaced by ``[redacted]``.
"""

_SCHEMA_RESOURCE: Final = "jsonresume.schema.json"
_CONTACT_KEYS: Final = frozenset({"email", "phone", "mobile", "telephone", "fax"})
_REDACTED: Final = "[redacted]"
_MAX_LISTED_ISSUES: Final = 10
# shorter private values are withheld where keyed but not searched for in free text
_MIN_SCRUBBED_CHARS: Final = 5

PathPart = str | int


# --------------------------------------------------------------------------- paths

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


def format_path(parts: Iterable[PathPart]) -> str:
    """Write keys and indexes as a JSONPath: ``["work", 2, "startDate"]`` → ``$.work[2].startDate``.

    Keys that are not plain identifiers are written in bracket form with single quotes (``$['$schema']``).
    """
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


def parse_path(path: str) -> list[PathPart]:
    """Inverse of :func:`format_path`. Raises ``ValueError`` on anything it would not produce."""
    if not path.startswith("$"):
        raise ValueError(f"a JSONPath starts with '$': {path!r}")
    parts: list[PathPart] = []
    pos = 1
    while pos < len(path):
        match = _PATH_TOKEN.match(path, pos)
        if match is None:
            raise ValueError(f"cannot parse JSONPath {path!r} at position {pos}")
        name, index, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(re.sub(r"\\(.)", r"\1", quoted))
        pos = match.end()
    return parts


def resolve_path(doc: Any, path: str) -> Any:
    """The value at ``path`` inside ``doc``; ``KeyError`` when it does not exist."""
    node = doc
    for part in parse_path(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise KeyError(f"{path}: no element {part}")
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"{path}: no key {part!r}")
            node = node[part]
    return node


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class ResumeIssue:
    """One problem in a résumé: where (a JSONPath such as ``$.work[2].startDate``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ResumeInvalidError(ValueError):
    """The résumé is not valid JSON or not a valid JSON Resume document; ``issues`` says where and why."""

    def __init__(self, issues: Iterable[ResumeIssue], source: str | None = None) -> None:
        self.issues: list[ResumeIssue] = list(issues)
        self.source = source
        super().__init__(self._describe())

    def _describe(self) -> str:
        what = self.source or "the résumé"
        count = len(self.issues)
        lines = [f"{what} is not a valid JSON Resume document ({count} issue{'s' if count != 1 else ''}):"]
        lines += [str(issue) for issue in self.issues[:_MAX_LISTED_ISSUES]]
        if count > _MAX_LISTED_ISSUES:
            lines.append(f"… and {count - _MAX_LISTED_ISSUES} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._describe()


# local part: no spaces, quotes, brackets or separators; domain: dot-separated labels of letters,
# digits and inner hyphens, ending in an alphabetic top-level label
_EMAIL = re.compile(
    r"(?P<local>[^\s@\"(),:;<>\[\]\\]{1,64})@(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63})"
)
_URI_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_WEB_SCHEMES: Final = frozenset({"http", "https"})
# the shape the schema's pattern allows; the format check adds calendar validity (no 30 February)
_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12][0-9]|3[01]))?)?")

_FORMAT_NAMES: Final = {
    "email": "e-mail address",
    "uri": "absolute URI (https://… or http://…, or mailto: and an e-mail address)",
    "image-ref": "image address (https://… or http://…, or a relative path)",
    "partial-date": "calendar date",
}


def is_email(value: str) -> bool:
    """An e-mail address of the usual shape (``name@example.org``), at most 254 characters."""
    if len(value) > MAX_EMAIL_CHARS:
        return False
    match = _EMAIL.fullmatch(value)
    if match is None:
        return False
    local = match["local"]
    return not (local.startswith(".") or local.endswith(".") or ".." in local)


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or is_email(value)


def _is_web_url(value: str) -> bool:
    if not value or len(value) > MAX_URL_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in _WEB_SCHEMES and bool(parts.hostname)


def _is_uri(value: object) -> bool:
    """A web address (http, https) or ``mailto:`` an e-mail address; no other scheme (``javascript:``)."""
    if not isinstance(value, str):
        return True
    if value[:7].lower() == "mailto:":
        return is_email(value[7:])
    return _is_web_url(value)


def _is_image_ref(value: object) -> bool:
    """A web address, or a path without a scheme (``portrait.jpg``)."""
    if not isinstance(value, str):
        return True
    if _URI_SCHEME.match(value) and value[1:3] not in {":/", ":\\"}:  # C:/… is a Windows path
        return _is_web_url(value)
    return len(value) <= MAX_URL_CHARS and not any(ord(ch) < 32 for ch in value)


def _is_partial_date(value: object) -> bool:
    """Calendar validity of a date that already matched the pattern (the pattern reports shape errors)."""
    if not isinstance(value, str):
        return True
    match = _PARTIAL_DATE.fullmatch(value)
    if match is None:
        return True
    year, month, day = match.groups()
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    from jsonschema import FormatChecker

    checker = FormatChecker()
    checker.checks("email")(_is_email)
    checker.checks("uri")(_is_uri)
    checker.checks("image-ref")(_is_image_ref)
    checker.checks("partial-date")(_is_partial_date)
    return checker


@functools.cache
def _schema_text() -> str:
    return importlib.resources.files("folio_profile").joinpath(_SCHEMA_RESOURCE).read_text(encoding="utf-8")


@functools.cache
def _validator() -> Draft7Validator:
    from jsonschema import Draft7Validator

    schema = json.loads(_schema_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_format_checker())


def resume_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) résumés are validated against (a fresh copy on every call)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _preview(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(error: ValidationError) -> str:
    kind = error.validator
    if kind == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"expected {wanted}, got {_json_type(error.instance)} {_preview(error.instance, 40)}"
    if kind == "format":
        name = _FORMAT_NAMES.get(str(error.validator_value), str(error.validator_value))
        longest = MAX_EMAIL_CHARS if error.validator_value == "email" else MAX_URL_CHARS
        if isinstance(error.instance, str) and len(error.instance) > longest:
            return f"{len(error.instance):,} characters is too long for an {name}; at most {longest:,}"
        return f"{_preview(error.instance)} is not a valid {name}"
    if kind == "pattern" and isinstance(error.schema, dict) and error.schema.get("format") == "partial-date":
        return f"{_preview(error.instance)} is not an ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD)"
    message = str(error.message)
    return message if len(message) <= 200 else message[:199] + "…"


def _path_sort_key(path: Iterable[PathPart]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path)


def validate_resume(doc: object) -> list[ResumeIssue]:
    """Every way ``doc`` departs from JSON Resume 1.0.0, sorted by path (empty when valid).

    Checks the sizes first (see :mod:`folio_profile.limits`: a résumé over a limit gets only those
    issues), then the structure and types, e-mail addresses, URLs (http and https; ``mailto:`` an
    address) and dates (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, and a real calendar date). Unknown
    extra properties are allowed, as the format does.
    """
    if not isinstance(doc, dict):
        return [ResumeIssue("$", f"a résumé must be a JSON object, got {_json_type(doc)}")]
    too_large = size_problems(doc)
    if too_large:
        ordered = sorted(too_large, key=lambda problem: _path_sort_key(problem[0]))
        return [ResumeIssue(format_path(parts), message) for parts, message in ordered]
    found: dict[tuple[tuple[tuple[int, int, str], ...], str], ResumeIssue] = {}
    for error in _validator().iter_errors(doc):
        parts = list(error.absolute_path)
        issue = ResumeIssue(format_path(parts), _message(error))
        found.setdefault((_path_sort_key(parts), issue.message), issue)
    return [found[key] for key in sorted(found)]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_resume(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse and validate résumé JSON text; raises :class:`ResumeInvalidError`."""
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        issue = ResumeIssue("$", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        raise ResumeInvalidError([issue], source) from exc
    except ValueError as exc:
        raise ResumeInvalidError([ResumeIssue("$", f"invalid JSON: {exc}")], source) from exc
    issues = validate_resume(doc)
    if issues:
        raise ResumeInvalidError(issues, source)
    result: dict[str, Any] = doc
    return result


def load_resume(path: Path) -> dict[str, Any]:
    """Read, parse and validate a JSON Resume file.

    Raises :class:`ResumeInvalidError` for text that is not UTF-8, not JSON (the issue at ``$`` gives the
    line and column) or not a valid résumé; ``OSError`` (e.g. ``FileNotFoundError``) propagates unchanged.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        issue = ResumeIssue("$", f"the file is not UTF-8 text (invalid byte at offset {exc.start})")
        raise ResumeInvalidError([issue], str(path)) from exc
    return parse_resume(text, str(path))


def resume_digest(doc: object) -> str:
    """SHA-256 (hex) of the canonical JSON form: key order and whitespace do not change it."""
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- sections


class UnknownSectionError(KeyError):
    """A section name that JSON Resume does not define; the message lists the valid ones."""

    def __init__(self, section: str) -> None:
        self.section = section
        self.message = f"unknown résumé section {section!r}; valid sections are: {', '.join(SECTIONS)}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def get_section(doc: dict[str, Any], section: str) -> Any:
    """A copy of one section of the résumé.

    A valid section the document lacks is empty: ``{}`` for ``basics``, ``[]`` for the others.
    Raises :class:`UnknownSectionError` for names outside :data:`SECTIONS`.
    """
    if section not in SECTIONS:
        raise UnknownSectionError(section)
    default: Any = {} if section == "basics" else []
    return copy.deepcopy(doc.get(section, default))


# --------------------------------------------------------------------------- redaction


def _strip_contact_keys(node: Any, removed: list[str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key.lower() in _CONTACT_KEYS:
                if isinstance(value, str) and value.strip():
                    removed.append(value.strip())
                continue
            out[key] = _strip_contact_keys(value, removed)
        return out
    if isinstance(node, list):
        return [_strip_contact_keys(item, removed) for item in node]
    return node


def private_values(doc: object) -> set[str]:
    """The owner's private values in ``doc``: every keyed e-mail address and phone number, anywhere,
    and the street address (and each of its lines that has a number).

    :func:`redact_public` withholds these where they are keyed and scrubs them from free text; values
    from earlier versions are passed to it as ``also`` so that an old address left in a summary is
    scrubbed as well.
    """
    found: list[str] = []
    _strip_contact_keys(doc, found)
    basics = doc.get("basics") if isinstance(doc, dict) else None
    location = basics.get("location") if isinstance(basics, dict) else None
    address = location.get("address") if isinstance(location, dict) else None
    if isinstance(address, str) and address.strip():
        found.append(address.strip())
        # each street line too, but not a line without a number (a town: "Utrecht" stays readable)
        found += [line.strip() for line in address.splitlines() if any(ch.isdigit() for ch in line)]
    return {value for value in found if len(value) >= _MIN_SCRUBBED_CHARS}


def _scrub_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    alternatives: list[str] = []
    for secret in sorted(set(secrets), key=len, reverse=True):
        alternatives.append(re.escape(secret))
        digits = re.sub(r"\D", "", secret)
        if "@" not in secret and len(digits) >= 6:
            # the same phone number written with other separators
            alternatives.append(r"\+?" + r"[\s().\-/]*".join(digits))
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _scrub(node: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(node, str):
        return pattern.sub(_REDACTED, node)
    if isinstance(node, dict):
        return {key: _scrub(value, pattern) for key, value in node.items()}
    if isinstance(node, list):
        return [_scrub(item, pattern) for item in node]
    return node


def redact_public(doc: dict[str, Any], also: Iterable[str] = ()) -> dict[str, Any]:
    """A deep copy of ``doc`` fit for the ``public`` audience (see :data:`PRIVATE_PATHS`).

    Removes e-mail addresses and phone numbers wherever they are keyed, the street address and postal
    code, and the ``references`` section (the names and words of private people); withheld e-mail,
    phone and street address values repeated in free text become ``[redacted]``, and so do the values
    in ``also`` (the owner's former ones, see :func:`private_values`). The input is never modified.
    """
    removed = [*private_values(doc), *also]
    result: dict[str, Any] = _strip_contact_keys(doc, [])
    result.pop("references", None)
    basics = result.get("basics")
    if isinstance(basics, dict):
        location = basics.get("location")
        if isinstance(location, dict):
            location.pop("address", None)
            location.pop("postalCode", None)
    pattern = _scrub_pattern(removed)
    if pattern is not None:
        result = _scrub(result, pattern)
    return copy.deepcopy(result)
