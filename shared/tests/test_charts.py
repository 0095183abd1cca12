"""The shared chart helper draws real PNGs and refuses data it cannot draw with a usable message."""

import base64
import struct
import subprocess
import sys

import pytest

from folio_core.charts import Chart, ChartError, Series, image_content, render_image, render_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("kind", ["bar", "barh", "line", "pie"])
def test_each_kind_draws_an_800_by_450_png(kind: str) -> None:
    chart = Chart(kind=kind, title="Commits", x=["Jan", "Feb", "Mar"], series=[Series("commits", [3, 5, 2])])  # type: ignore[arg-type]
    assert _size(render_png(chart)) == (800, 450)


def test_scatter_and_several_stacked_series() -> None:
    scatter = Chart(kind="scatter", title="t", x=[1.0, 2.5, 4.0], series=[Series("y", [1, 4, 9])])
    assert _size(render_png(scatter))[0] == 800
    stacked = Chart(
        kind="bar", title="t", x=["a", "b"], series=[Series("x", [1, 2]), Series("y", [3, 4])], stacked=True
    )
    assert render_png(stacked) != render_png(
        Chart(kind="bar", title="t", x=["a", "b"], series=[Series("x", [1, 2]), Series("y", [3, 4])])
    )


def test_the_same_data_gives_the_same_bytes_and_other_data_other_bytes() -> None:
    one = Chart(kind="line", title="Weekly", x=["w1", "w2"], series=[Series("lines", [10, 20])])
    other = Chart(kind="line", title="Weekly", x=["w1", "w2"], series=[Series("lines", [10, 21])])
    assert render_png(one) == render_png(one)
    assert render_png(one) != render_png(other)


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (Chart(kind="bar", title="t", x=[], series=[Series("s", [])]), "no rows"),
        (Chart(kind="bar", title="t", x=["a"], series=[]), "at least one series"),
        (Chart(kind="bar", title="t", x=["a", "b"], series=[Series("s", [1])]), "one value per x"),
        (Chart(kind="line", title="t", x=["a"], series=[Series("s", [float("nan")])]), "not a finite number"),
        (Chart(kind="pie", title="t", x=["a", "b"], series=[Series("s", [1, -1])]), "negative"),
        (Chart(kind="scatter", title="t", x=["a"], series=[Series("s", [1])]), "numeric x values"),
        (Chart(kind="donut", title="t", x=["a"], series=[Series("s", [1])]), "use one of"),  # type: ignore[arg-type]
        (Chart(kind="bar", title="t", x=list(range(5001)), series=[Series("s", [1] * 5001)]), "aggregate"),
    ],
)
def test_data_that_cannot_be_drawn_is_refused_with_what_to_do(chart: Chart, message: str) -> None:
    with pytest.raises(ChartError, match=message):
        render_png(chart)


@pytest.mark.anyio
async def test_render_image_is_mcp_image_content() -> None:
    image = await render_image(Chart(kind="bar", title="t", x=["a"], series=[Series("s", [1])]))
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(PNG_SIGNATURE)
    assert image_content(b"x").data == "eA=="


def test_importing_the_helper_does_not_import_the_plotting_library() -> None:
    code = "import sys, folio_core.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
