"""Charts as PNG images, shared by every server that draws one (projects, query, demo).

The plotting library (matplotlib, with its Agg backend) is imported on the first chart, never
at server start: a stdio server must answer its handshake before loading it. Figures are built
with the object API (no pyplot global state), so charts drawn from worker threads do not share
anything, and the PNG carries no timestamp or version, so the same data gives the same bytes.

A chart that cannot be drawn (no points, lengths that differ, values that are not finite, too
many points) raises :class:`ChartError` with a message the calling model can act on.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mcp.types import ImageContent

ChartKind = Literal["bar", "barh", "line", "scatter", "pie"]
CHART_KINDS: tuple[ChartKind, ...] = ("bar", "barh", "line", "scatter", "pie")

MAX_POINTS = 5_000
"""Points per series: more would not be readable, and drawing them costs seconds."""
MAX_SERIES = 12
MAX_CATEGORY_LABELS = 60
"""Category axes with more labels than this show every n-th label only."""

_PALETTE = (
    "#2563eb",
    "#f97316",
    "#16a34a",
    "#dc2626",
    "#9333ea",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
    "#7c3aed",
    "#0d9488",
)


class ChartError(ValueError):
    """The data cannot be drawn as asked; the message says what to send instead."""


@dataclass(frozen=True)
class Series:
    """One named row of values, drawn against the chart's x values."""

    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Chart:
    """What to draw. ``x`` holds category labels (bar, barh, pie) or numbers/labels (line, scatter)."""

    kind: ChartKind
    title: str
    x: Sequence[str | float]
    series: Sequence[Series]
    x_label: str = ""
    y_label: str = ""
    stacked: bool = False
    """Bars of several series stacked instead of side by side."""
    size: tuple[float, float] = field(default=(8.0, 4.5))
    """Inches; at :data:`DPI` that is 800 x 450 pixels."""


DPI = 100


def _check(chart: Chart) -> None:
    if chart.kind not in CHART_KINDS:
        raise ChartError(f"unknown chart kind {chart.kind!r}; use one of {', '.join(CHART_KINDS)}")
    if not chart.series:
        raise ChartError("there is nothing to draw: give at least one series of values")
    if len(chart.series) > MAX_SERIES:
        raise ChartError(f"{len(chart.series)} series are too many to read; draw at most {MAX_SERIES}")
    n = len(chart.x)
    if n == 0:
        raise ChartError("there is nothing to draw: the data has no rows")
    if n > MAX_POINTS:
        raise ChartError(f"{n} points are too many to draw; aggregate to at most {MAX_POINTS} rows first")
    for s in chart.series:
        if len(s.values) != n:
            raise ChartError(
                f"series {s.name!r} has {len(s.values)} values for {n} x values; give one value per x"
            )
        for v in s.values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ChartError(
                    f"series {s.name!r} holds {v!r}, which is not a finite number; plot numbers only"
                )
    if chart.kind == "pie":
        if len(chart.series) != 1:
            raise ChartError("a pie chart shows one series; pick one or use a bar chart")
        if any(v < 0 for v in chart.series[0].values):
            raise ChartError("a pie chart cannot show negative values; use a bar chart")
        if sum(chart.series[0].values) <= 0:
            raise ChartError("a pie chart needs a positive total; every value is zero")
    if chart.kind == "scatter":
        for x in chart.x:
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                raise ChartError(
                    f"a scatter chart needs numeric x values, got {x!r}; use a bar or line chart"
                )


def _figure(size: tuple[float, float]) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def render_png(chart: Chart) -> bytes:
    """Draw ``chart`` and return the PNG bytes (same data, same bytes)."""
    _check(chart)
    fig = _figure(chart.size)
    ax = fig.add_subplot()
    labels = [str(x) for x in chart.x]
    positions = list(range(len(labels)))
    many = len(chart.series) > 1
    if chart.kind == "pie":
        values = list(chart.series[0].values)
        colors = [_PALETTE[i % len(_PALETTE)] for i in range(len(values))]
        ax.pie(values, labels=labels, colors=colors, autopct="%1.0f%%", startangle=90, counterclock=False)
        ax.set_aspect("equal")
    elif chart.kind in ("bar", "barh"):
        width = 0.8 if chart.stacked or not many else 0.8 / len(chart.series)
        base = [0.0] * len(labels)
        for i, s in enumerate(chart.series):
            offset = 0.0 if chart.stacked or not many else (i - (len(chart.series) - 1) / 2) * width
            at = [p + offset for p in positions]
            values = [float(v) for v in s.values]
            color = _PALETTE[i % len(_PALETTE)]
            if chart.kind == "bar":
                ax.bar(at, values, width, bottom=base if chart.stacked else None, label=s.name, color=color)
            else:
                ax.barh(at, values, width, left=base if chart.stacked else None, label=s.name, color=color)
            if chart.stacked:
                base = [b + v for b, v in zip(base, values, strict=True)]
        step = max(1, math.ceil(len(labels) / MAX_CATEGORY_LABELS))
        ticks = positions[::step]
        if chart.kind == "bar":
            ax.set_xticks(
                ticks,
                [labels[t] for t in ticks],
                rotation=45 if len(labels) > 8 else 0,
                ha="right" if len(labels) > 8 else "center",
            )
        else:
            ax.set_yticks(ticks, [labels[t] for t in ticks])
            ax.invert_yaxis()
    else:
        numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in chart.x)
        xs: list[Any] = [float(x) for x in chart.x] if numeric else positions
        for i, s in enumerate(chart.series):
            color = _PALETTE[i % len(_PALETTE)]
            if chart.kind == "line":
                ax.plot(xs, list(s.values), label=s.name, color=color, marker="o" if len(xs) <= 40 else None)
            else:
                ax.scatter(xs, list(s.values), label=s.name, color=color, s=18)
        if not numeric:
            step = max(1, math.ceil(len(labels) / MAX_CATEGORY_LABELS))
            ticks = positions[::step]
            ax.set_xticks(
                ticks,
                [labels[t] for t in ticks],
                rotation=45 if len(labels) > 8 else 0,
                ha="right" if len(labels) > 8 else "center",
            )
    ax.set_title(chart.title)
    if chart.kind != "pie":
        ax.set_xlabel(chart.x_label)
        ax.set_ylabel(chart.y_label)
        ax.grid(axis="y" if chart.kind != "barh" else "x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        if many:
            ax.legend(frameon=False)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def image_content(png: bytes) -> ImageContent:
    """PNG bytes as MCP image content, ready to return from a tool."""
    import base64

    from mcp.types import ImageContent

    return ImageContent(type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png")


async def render_image(chart: Chart) -> ImageContent:
    """Draw ``chart`` in a worker thread (drawing takes tens of milliseconds) as image content."""
    import anyio

    png = await anyio.to_thread.run_sync(render_png, chart)
    return image_content(png)
