"""Typed text → JSON value, per field. Pure functions: they return the value or an :class:`Invalid`.

:func:`parse_answer` is the entry point (it handles the empty answer: default, left out, or
"required"); the per-kind functions below it check one kind of field. Messages are written for
the person at the keyboard: "must be between 1 and 10", "choose 1–3 of: …".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Final, Literal
from urllib.parse import urlsplit

from folio_orchestrator.forms._schema import Choice, FormField, FormValue


@dataclass(frozen=True)
class Invalid:
    """Why a typed answer was refused; the form shows it and asks again."""

    message: str


class _Omitted(Enum):
    OMITTED = "omitted"


OMITTED: Final = _Omitted.OMITTED
"""The answer to an optional field left empty: the key is left out of the content."""

Answer = FormValue | Literal[_Omitted.OMITTED]


def parse_answer(field: FormField, text: str) -> Answer | Invalid:
    """Parse what the person typed for ``field``. Empty keeps the default or leaves the field out."""
    if field.secret is None or field.kind != "text":
        text = text.strip()
    if text == "":
        if field.default is not None:
            return field.default
        if not field.required:
            return OMITTED
        if field.kind == "multi" and not field.min_items:
            return []
        return Invalid("required: please type a value")
    match field.kind:
        case "text":
            return parse_text(field, text)
        case "integer" | "number":
            return parse_number(field, text)
        case "boolean":
            return parse_boolean(text)
        case "choice":
            return parse_choice(field, text)
        case "multi":
            return parse_choices(field, text)


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})")


def parse_text(field: FormField, text: str) -> str | Invalid:
    """A string: length bounds, format (email, uri, date, date-time) and pattern."""
    n = len(text)
    low, high = field.min_length, field.max_length
    if (low is not None and n < low) or (high is not None and n > high):
        return Invalid(f"must be {_length_phrase(low, high)} (you typed {n})")
    match field.format:
        case "email":
            if not _EMAIL.fullmatch(text):
                return Invalid("must be an email address like name@example.com")
        case "uri":
            if not _is_uri(text):
                return Invalid("must be a full URI like https://example.com/page")
        case "date":
            if not _DATE.fullmatch(text) or _iso_date(text) is None:
                return Invalid("must be a date like 2024-05-31 (YYYY-MM-DD)")
        case "date-time":
            if not _DATE_TIME.fullmatch(text) or _iso_datetime(text) is None:
                return Invalid("must be a date and time with a time zone, like 2024-05-31T14:30:00Z")
    if field.pattern is not None and not re.search(field.pattern, text):
        return Invalid(f"must match the pattern {field.pattern}")
    return text


def _is_uri(text: str) -> bool:
    if any(c.isspace() for c in text) or ":" not in text:
        return False
    scheme, rest = text.split(":", 1)
    if not _SCHEME.fullmatch(scheme) or not rest:
        return False
    if scheme.lower() in ("http", "https", "ftp", "ws", "wss"):
        try:
            return bool(urlsplit(text).hostname)
        except ValueError:
            return False
    return True


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _iso_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None


_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_number(field: FormField, text: str) -> int | float | Invalid:
    """An integer or a number, within the field's bounds."""
    text = text.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text) else text
    value: int | float
    if field.kind == "integer":
        if _INTEGER.fullmatch(text):
            value = int(text)
        elif _NUMBER.fullmatch(text) and float(text).is_integer():
            value = int(float(text))
        else:
            return Invalid("must be a whole number, like 42")
    else:
        if not _NUMBER.fullmatch(text):
            return Invalid("must be a number, like 3.14")
        value = int(text) if _INTEGER.fullmatch(text) else float(text)
        if not math.isfinite(value):
            return Invalid("must be a finite number")
    if not _in_bounds(field, value):
        return Invalid(f"must be {_bounds_phrase(field)}")
    return value


def _in_bounds(field: FormField, value: float) -> bool:
    return not (
        (field.minimum is not None and value < field.minimum)
        or (field.maximum is not None and value > field.maximum)
        or (field.exclusive_minimum is not None and value <= field.exclusive_minimum)
        or (field.exclusive_maximum is not None and value >= field.exclusive_maximum)
    )


_YES = frozenset({"y", "yes", "true", "t", "1", "on"})
_NO = frozenset({"n", "no", "false", "f", "0", "off"})


def parse_boolean(text: str) -> bool | Invalid:
    """y/yes/true/1 or n/no/false/0."""
    word = text.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return Invalid("answer y (yes) or n (no)")


def parse_choice(field: FormField, text: str) -> str | Invalid:
    """One option: its exact value, its number in the list, or its label (any case)."""
    chosen = _find_choice(field.choices, text)
    if chosen is None:
        return Invalid(f"choose one of: {_options_phrase(field.choices)}")
    return chosen.value


def parse_choices(field: FormField, text: str) -> list[str] | Invalid:
    """Several options, comma-separated (numbers, values or labels); duplicates count once."""
    picked: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        chosen = _find_choice(field.choices, part)
        if chosen is None:
            return Invalid(f"{part!r} is not an option; {_multi_phrase(field)}")
        if chosen.value not in picked:
            picked.append(chosen.value)
    low, high = field.min_items, field.max_items
    if (low is not None and len(picked) < low) or (high is not None and len(picked) > high):
        return Invalid(_multi_phrase(field))
    return picked


def _find_choice(choices: tuple[Choice, ...], text: str) -> Choice | None:
    text = text.strip()
    for c in choices:
        if c.value == text:
            return c
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1]
    by_label = [c for c in choices if c.label.casefold() == text.casefold()]
    return by_label[0] if len(by_label) == 1 else None


# --- phrases shared by the messages above and the form's hints ------------------------------


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _length_phrase(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low} characters" if low == high else f"{low}–{high} characters"
    if low is not None:
        return f"at least {low} character{'s' if low != 1 else ''}"
    return f"at most {high} characters"


def _bounds_phrase(field: FormField) -> str:
    low, high = field.minimum, field.maximum
    if low is not None and high is not None:
        return f"between {_num(low)} and {_num(high)}"
    parts = []
    if low is not None:
        parts.append(f"at least {_num(low)}")
    if field.exclusive_minimum is not None:
        parts.append(f"more than {_num(field.exclusive_minimum)}")
    if high is not None:
        parts.append(f"at most {_num(high)}")
    if field.exclusive_maximum is not None:
        parts.append(f"less than {_num(field.exclusive_maximum)}")
    return " and ".join(parts) or "a number"


def _options_phrase(choices: tuple[Choice, ...]) -> str:
    return ", ".join(f"{i}) {c.label}" for i, c in enumerate(choices, 1))


def _count_phrase(low: int | None, high: int | None) -> str:
    low = low or 0
    if high is None:
        return f"at least {low}" if low else "any number"
    if low == high:
        return str(low)
    return f"{low}–{high}" if low else f"up to {high}"


def _multi_phrase(field: FormField) -> str:
    return f"choose {_count_phrase(field.min_items, field.max_items)} of: {_options_phrase(field.choices)}"


_FORMAT_HINTS = {
    "email": "an email address (name@example.com)",
    "uri": "a URI (https://…)",
    "date": "a date (YYYY-MM-DD)",
    "date-time": "a date and time with zone (2024-05-31T14:30:00Z)",
}


def type_hint(field: FormField) -> str:
    """What the field expects, in a few words: "a whole number between 1 and 100"."""
    match field.kind:
        case "text":
            hint = _FORMAT_HINTS.get(field.format or "", "text")
            if field.format is not None and field.format not in _FORMAT_HINTS:
                hint = f"text (format {field.format}, not checked here)"
            if field.min_length is not None or field.max_length is not None:
                hint += f", {_length_phrase(field.min_length, field.max_length)}"
            if field.pattern is not None:
                hint += f", matching {field.pattern}"
            return hint
        case "integer" | "number":
            noun = "a whole number" if field.kind == "integer" else "a number"
            bounds = _bounds_phrase(field)
            return noun if bounds == "a number" else f"{noun} {bounds}"
        case "boolean":
            return "y or n"
        case "choice":
            return "one option: type its number or its value"
        case "multi":
            count = _count_phrase(field.min_items, field.max_items)
            return f"choose {count}: numbers or values, separated by commas"


def show_value(field: FormField, value: FormValue) -> str:
    """A value as the person reads it: labels for choices, yes/no, hidden secrets."""
    if field.secret is not None:
        return "•" * 8 + " (hidden)"
    labels = {c.value: c.label for c in field.choices}
    match value:
        case bool():
            return "yes" if value else "no"
        case list():
            return ", ".join(_choice_text(v, labels) for v in value) or "(none)"
        case str() if field.kind == "choice":
            return _choice_text(value, labels)
        case _:
            return _num(value) if isinstance(value, int | float) else value


def _choice_text(value: str, labels: dict[str, str]) -> str:
    label = labels.get(value, value)
    return label if label == value else f"{label} ({value})"
