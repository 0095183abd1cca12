"""Edits to the résumé: JSON Merge Patch (RFC 7396), structural diffs and what a change would lose.

All functions are pure: inputs are never modified and results share no mutable state with them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any, Final

from folio_profile.models import Change
from folio_profile.resume import PathPart, format_path

__all__ = ["destructive_changes", "diff", "is_destructive", "merge_patch", "summarise_changes"]

_PREVIEW_CHARS: Final = 70


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON Merge Patch and return the result.

    An object patch merges key by key: ``null`` removes the key, an object recurses, anything else
    (arrays included) replaces the value whole. A patch that is not an object replaces the target.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _same(a: Any, b: Any) -> bool:
    """JSON equality: unlike ``==``, ``true`` differs from ``1`` and ``1`` from ``1.0`` is still equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _diff(old: Any, new: Any, path: list[PathPart], out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            if key not in new:
                out.append(Change(op="remove", path=format_path([*path, key]), old=copy.deepcopy(value)))
            else:
                _diff(value, new[key], [*path, key], out)
        for key, value in new.items():
            if key not in old:
                out.append(Change(op="add", path=format_path([*path, key]), new=copy.deepcopy(value)))
        return
    if isinstance(old, list) and isinstance(new, list):
        common = min(len(old), len(new))
        for index in range(common):
            _diff(old[index], new[index], [*path, index], out)
        for index in range(common, len(old)):
            out.append(Change(op="remove", path=format_path([*path, index]), old=copy.deepcopy(old[index])))
        for index in range(common, len(new)):
            out.append(Change(op="add", path=format_path([*path, index]), new=copy.deepcopy(new[index])))
        return
    if not _same(old, new):
        out.append(
            Change(op="replace", path=format_path(path), old=copy.deepcopy(old), new=copy.deepcopy(new))
        )


def diff(old: Any, new: Any) -> list[Change]:
    """What changed from ``old`` to ``new``, leaf by leaf.

    Objects are compared key by key (removed keys in ``old``'s order, then added keys in ``new``'s);
    arrays element by element by index, a length change showing as ``add`` or ``remove`` changes at
    the tail. A value whose type changed (e.g. a string that became an array) is one ``replace``.
    Equal documents give ``[]``.
    """
    out: list[Change] = []
    _diff(old, new, [], out)
    return out


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def is_destructive(change: Change) -> bool:
    """Whether applying ``change`` loses information (see :func:`destructive_changes`)."""
    if change.op == "remove":
        return True
    if change.op != "replace" or _is_empty(change.old):
        return False
    if _is_empty(change.new):
        return True
    # a non-empty object or array replaced by something of another shape loses its structure
    return isinstance(change.old, dict | list) and type(change.old) is not type(change.new)


def destructive_changes(changes: Sequence[Change]) -> list[Change]:
    """The changes that lose information, in their original order.

    These are removals (of keys, and of array elements, i.e. any array that shrinks), replacements of a
    non-empty value by an empty one (``null``, ``""``, ``[]``, ``{}``), and replacements of a non-empty
    object or array by a value of another type.
    """
    return [change for change in changes if is_destructive(change)]


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def _describe(change: Change) -> str:
    if change.op == "add":
        return f"add {change.path} = {_preview(change.new)}"
    if change.op == "remove":
        return f"remove {change.path} (was {_preview(change.old)})"
    return f"replace {change.path}: {_preview(change.old)} → {_preview(change.new)}"


def summarise_changes(changes: Sequence[Change], limit: int = 20) -> str:
    """A human-readable account of ``changes`` for a confirmation prompt.

    A count line (how many added, removed, replaced, and how many lose information), then one line per
    change up to ``limit`` (destructive ones first and marked ``[loses data]``), then "… and N more".
    """
    if not changes:
        return "No changes."
    counts = {op: sum(1 for change in changes if change.op == op) for op in ("add", "replace", "remove")}
    destructive = [change for change in changes if is_destructive(change)]
    parts = [f"{counts['add']} added", f"{counts['replace']} replaced", f"{counts['remove']} removed"]
    noun = "change" if len(changes) == 1 else "changes"
    header = f"{len(changes)} {noun} ({', '.join(parts)})"
    if destructive:
        header += f"; {len(destructive)} lose{'s' if len(destructive) == 1 else ''} information"
    ordered = destructive + [change for change in changes if not is_destructive(change)]
    shown = ordered[: max(limit, 0)]
    lines = [header + ":"]
    for change in shown:
        mark = " [loses data]" if is_destructive(change) else ""
        lines.append(f"- {_describe(change)}{mark}")
    if len(ordered) > len(shown):
        lines.append(f"… and {len(ordered) - len(shown)} more")
    return "\n".join(lines)
