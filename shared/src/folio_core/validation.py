"""Checks of untrusted input shared by every Folio server (resource ids, tool and prompt arguments).

One rule each, so every server refuses the same bad input with the same kind of message.

:func:`find_input_problem` is the edge rule for any JSON-shaped value a client sends: text must
be valid Unicode without NUL characters (PostgreSQL stores neither), numbers must be finite and
fit in 64 bits, and structures may nest only so deep. ``FolioServer`` applies it to every tool
call, prompt and resource read; the stdio layer uses it to explain a request it cannot hand on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

_ASCII_ID = re.compile(r"[1-9][0-9]{0,17}")

MAX_DEPTH = 32
"""How deeply arrays and objects may nest inside one argument (a résumé needs about 5)."""
MAX_INTEGER = 2**63 - 1
"""The largest integer magnitude accepted (PostgreSQL's bigint)."""

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_SHOWN_KEY_CHARS = 40
_SHOWN_PATH_CHARS = 80


def parse_positive_id(text: str) -> int | None:
    """A positive whole number written in ASCII digits, or ``None``.

    ``str.isdigit()`` accepts superscripts (``²``) that ``int()`` rejects, and ``int()`` reads
    other scripts' digits (``٣٤`` is 34): neither is an id anyone wrote on purpose.
    """
    if _ASCII_ID.fullmatch(text) is None:
        return None
    return int(text)


@dataclass(frozen=True)
class InputProblem:
    """What is wrong with one value of an input, where it is, and what to send instead."""

    path: str
    """Where the value is, e.g. ``patch.work[0].name`` (empty for the input itself)."""
    problem: str
    fix: str

    @property
    def message(self) -> str:
        where = self.path or "the value"
        if len(where) > _SHOWN_PATH_CHARS:
            where = where[: _SHOWN_PATH_CHARS - 1] + "…"
        return f"{where} {self.problem}; {self.fix}."


def text_problem(text: str) -> tuple[str, str] | None:
    """``(problem, fix)`` if ``text`` cannot be stored as text, else ``None``."""
    found = _BAD_CHARACTER.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return (
            "contains a NUL character (\\u0000)",
            "send the text without NUL characters (text cannot contain them)",
        )
    return (
        f"contains an unpaired surrogate (\\u{ord(found.group()):04x}), which is not a character",
        "send valid Unicode: write the character itself, or both halves of its surrogate pair",
    )


def show_text(text: str, limit: int = _SHOWN_KEY_CHARS) -> str:
    """``text`` quoted for a message: escaped to ASCII (no NUL or surrogate reaches the wire), cut short."""
    shown = json.dumps(text[:limit])
    return shown if len(text) <= limit else shown[:-1] + '…"'


def _child_path(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if isinstance(key, str) and _NAME.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{show_text(str(key))}]"


def _scalar_problem(value: object) -> tuple[str, str] | None:
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if -MAX_INTEGER <= value <= MAX_INTEGER:
            return None
        return (
            f"is an integer beyond ±{MAX_INTEGER}",
            "send a smaller number (or the digits as text, if it is an identifier)",
        )
    if isinstance(value, float) and not math.isfinite(value):
        return (
            "is not a finite number (NaN, Infinity, or too large to represent, like 1e999999)",
            "send a finite number",
        )
    return None


def find_input_problem(value: object, path: str = "", *, max_depth: int = MAX_DEPTH) -> InputProblem | None:
    """The first problem in ``value`` (depth first, in order), or ``None`` if it is fine to store.

    Looks at strings (values and object keys), numbers and nesting; types and ranges are the
    schema's business. Iterative, so any depth is examined without recursion.
    """
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth >= max_depth:
                return InputProblem(
                    where, f"nests deeper than {max_depth} levels", "send a flatter structure"
                )
            if isinstance(item, Mapping):
                children: list[tuple[object, str, int]] = []
                for key, child in item.items():
                    if isinstance(key, str) and (found := text_problem(key)) is not None:
                        problem, fix = found
                        return InputProblem(where, f"has a key {show_text(key)} that {problem}", fix)
                    children.append((child, _child_path(where, key), depth + 1))
            else:
                children = [(child, _child_path(where, i), depth + 1) for i, child in enumerate(item)]
            stack.extend(reversed(children))
        elif (found := _scalar_problem(item)) is not None:
            return InputProblem(where, *found)
    return None


__all__ = [
    "MAX_DEPTH",
    "MAX_INTEGER",
    "InputProblem",
    "find_input_problem",
    "parse_positive_id",
    "show_text",
    "text_problem",
]
