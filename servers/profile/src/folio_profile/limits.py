"""How large a résumé may be: the whole document, each text, each array and object, the nesting.

A résumé is read whole by every tool and cut into search chunks on every write, so its size is
bounded where it enters (``profile_update`` and imports): a 20,000-item array or a megabyte name is
refused with its JSON path instead of making every later call slow. The limits are far above any
real résumé (the sample portfolio's is 15,000 characters).
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = [
    "MAX_ARRAY_ITEMS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_CHARS",
    "MAX_EMAIL_CHARS",
    "MAX_KEY_CHARS",
    "MAX_OBJECT_KEYS",
    "MAX_STRING_CHARS",
    "MAX_URL_CHARS",
    "document_chars",
    "size_problems",
]

MAX_DOCUMENT_CHARS: Final = 200_000
"""The whole résumé as compact JSON."""
MAX_STRING_CHARS: Final = 5_000
"""Any one text (a summary, a highlight, a name …)."""
MAX_ARRAY_ITEMS: Final = 200
"""Entries of any one list (work entries, highlights, keywords …)."""
MAX_OBJECT_KEYS: Final = 100
MAX_KEY_CHARS: Final = 100
MAX_DEPTH: Final = 10
"""Nesting of objects and arrays (JSON Resume itself needs 4)."""
MAX_EMAIL_CHARS: Final = 254
MAX_URL_CHARS: Final = 2_048

_MAX_PROBLEMS: Final = 50

Problem = tuple[list[str | int], str]


def document_chars(doc: object) -> int:
    """The length of ``doc`` as compact JSON, the measure of :data:`MAX_DOCUMENT_CHARS`."""
    return len(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str))


def size_problems(doc: Any) -> list[Problem]:
    """Where ``doc`` exceeds a limit: ``(path parts, message)`` pairs, at most 50, in document order."""
    problems: list[Problem] = []
    chars = document_chars(doc)
    if chars > MAX_DOCUMENT_CHARS:
        problems.append(([], f"the résumé is {chars:,} characters of JSON; at most {MAX_DOCUMENT_CHARS:,}"))
    _walk(doc, [], 0, problems)
    return problems[:_MAX_PROBLEMS]


def _walk(node: Any, path: list[str | int], depth: int, problems: list[Problem]) -> None:
    if len(problems) >= _MAX_PROBLEMS:
        return
    if isinstance(node, str):
        if len(node) > MAX_STRING_CHARS:
            problems.append((path, f"a text of {len(node):,} characters; at most {MAX_STRING_CHARS:,}"))
        return
    if not isinstance(node, dict | list):
        return
    if depth >= MAX_DEPTH:
        problems.append((path, f"nested more than {MAX_DEPTH} levels deep"))
        return
    if isinstance(node, list):
        if len(node) > MAX_ARRAY_ITEMS:
            problems.append((path, f"a list of {len(node):,} entries; at most {MAX_ARRAY_ITEMS:,}"))
        for index, item in enumerate(node[:MAX_ARRAY_ITEMS]):
            _walk(item, [*path, index], depth + 1, problems)
        return
    if len(node) > MAX_OBJECT_KEYS:
        problems.append((path, f"an object with {len(node):,} keys; at most {MAX_OBJECT_KEYS:,}"))
    for count, (key, value) in enumerate(node.items()):
        if count >= MAX_OBJECT_KEYS:
            break
        if len(key) > MAX_KEY_CHARS:
            problems.append((path, f"a key of {len(key):,} characters; at most {MAX_KEY_CHARS:,}"))
            continue
        _walk(value, [*path, key], depth + 1, problems)
