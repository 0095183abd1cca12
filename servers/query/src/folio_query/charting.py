"""A query result drawn with folio-core's chart helper."""

from __future__ import annotations

import math
from typing import Any, cast

from mcp.server.mcpserver.exceptions import ToolError

from folio_query.models import QueryResult


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    return None


async def chart_of(result: QueryResult, kind: str, x: str, ys: list[str], title: str) -> tuple[Any, str]:
    """The image content and a one-line summary; ``ToolError`` when the columns do not fit."""
    from folio_core.charts import Chart, ChartError, ChartKind, Series, render_image

    names = [c.name for c in result.columns]
    if not ys or len(ys) > 12:
        raise ToolError("y names one to twelve numeric columns of the result.")
    missing = [c for c in [x, *ys] if c not in names]
    if missing:
        raise ToolError(f"The result has no column {missing[0]!r}; its columns are: {', '.join(names)}.")
    if not result.rows:
        raise ToolError("The query returned no rows, so there is nothing to draw; widen it first.")
    xi = names.index(x)
    xs_raw = [row[xi] for row in result.rows]
    numeric_x = kind in ("line", "scatter") and all(_number(v) is not None for v in xs_raw)
    xs: list[str | float] = [_number(v) or 0.0 for v in xs_raw] if numeric_x else [str(v) for v in xs_raw]
    series = []
    for y in ys:
        yi = names.index(y)
        values = [_number(row[yi]) for row in result.rows]
        if any(v is None for v in values):
            raise ToolError(
                f"Column {y!r} must hold numbers in every row (it has text or NULLs); cast or COALESCE it in SQL."
            )
        series.append(Series(name=y, values=[v for v in values if v is not None]))
    chart = Chart(
        kind=cast("ChartKind", kind),
        title=title or f"{', '.join(ys)} by {x}",
        x=xs,
        series=series,
        x_label=x,
        y_label=ys[0] if len(ys) == 1 else "",
    )
    try:
        image = await render_image(chart)
    except ChartError as exc:
        raise ToolError(str(exc)) from exc
    summary = (
        f"A {kind} chart of {', '.join(ys)} over {x} from {result.row_count} row(s)"
        + (" (the result was truncated)" if result.truncated else "")
        + f". SQL: {result.sql}"
    )
    return image, summary
