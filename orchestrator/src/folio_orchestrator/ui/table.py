"""Plain-text tables: columns padded to their widest cell, long cells cut with an ellipsis."""

from __future__ import annotations

from collections.abc import Sequence


def _cut(text: str, width: int | None) -> str:
    text = " ".join(str(text).split())
    if width is not None and len(text) > width:
        return text[: max(1, width - 1)] + "…"
    return text


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_width: dict[int, int] | None = None
) -> str:
    """Render rows under headers. ``max_width`` maps a column index to its widest allowed cell."""
    limits = max_width or {}
    cells = [[_cut(str(c), limits.get(i)) for i, c in enumerate(row)] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.upper().ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.extend("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells)
    return "\n".join(lines)
