"""genutils.explorer (gu.explore): frames, shared limits, browser-side links, and the widget state that a
real kernel run stores in the notebook (what the HTML book embeds)."""
import io
import json

import matplotlib
import nbformat
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from genutils import explorer as ex  # noqa: E402


def _png_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(png)).size


def test_one_frame_per_value_linked_in_the_browser():
    xs = np.linspace(0, 1, 11)
    box = ex.explore([1, 2, 3], lambda a, ax: ax.plot(xs, a * xs), label="slope",
                     numbers=lambda a: {"slope": a, "end": a * xs[-1]}, width=4, height=3, dpi=50)
    assert isinstance(box, ex.Explorer)
    assert len(box.figures.children) == 3 and len(box.tables.children) == 3
    assert box.slider.options == (("1", 0), ("2", 1), ("3", 2)) and box.slider.index == 0
    assert box.figures.selected_index == 0 and box.tables.selected_index == 0
    # front-end links: slider index -> image stack and -> numbers stack (no Python callback)
    pairs = {(lk.source[0], lk.source[1], lk.target[0], lk.target[1]) for lk in box.links}
    assert (box.slider, "index", box.figures, "selected_index") in pairs
    assert (box.slider, "index", box.tables, "selected_index") in pairs
    assert all(type(lk).__name__ == "Link" for lk in box.links)
    # each frame is a PNG of the asked size (4 x 3 inches at 50 dpi), and the frames differ
    assert {_png_size(png) for png in box.pngs} == {(200, 150)}
    assert len(set(box.pngs)) == 3
    assert "<td>3</td>" in box.tables.children[2].value and "slope" in box.tables.children[2].value
    assert repr(box).startswith("Explorer over slope: 3 frames (1, 2, 3)")
    assert not plt.get_fignums(), "the frames' figures are closed (the inline backend would show them)"


def test_frames_share_the_union_of_their_limits():
    box = ex.explore([1.0, 10.0], lambda a, ax: ax.plot([0, 1], [0, a]), dpi=20)
    (xlim, ylim), = box.limits
    lo, hi = ylim
    # matplotlib pads data limits by 5 %: y data spans [0, 1] and [0, 10], so the union is [-0.5, 10.5]
    assert lo == pytest.approx(-0.5) and hi == pytest.approx(10.5)
    assert xlim == pytest.approx((-0.05, 1.05))
    unshared = ex.explore([1.0, 10.0], lambda a, ax: ax.plot([0, 1], [0, a]), dpi=20, same_limits=False)
    assert unshared.limits == []


def test_several_panels_start_and_play():
    def draw(v, axes):
        assert len(axes) == 2
        axes[0].plot([0, 1], [0, v])
        axes[1].plot([0, 1], [v, 0])

    box = ex.explore([0.5, 2, 8], draw, ncols=2, start=2, play=True, label="α", dpi=20)
    assert len(box.limits) == 2 and box.slider.index == 2 and box.figures.selected_index == 2
    assert any(lk.source[1] == "value" and lk.target == (box.slider, "index") for lk in box.links)
    assert box.tables is None


def test_labels_and_numbers():
    assert [ex.frame_label(v) for v in (0.25, 1e-5, 300, np.int64(7), np.float32(0.5), "adam", True)] == \
        ["0.25", "1e-05", "300", "7", "0.5", "adam", "True"]
    import pandas as pd

    assert ex.numbers_html({"x": 1 / 3, "n": 4, "z": float("nan")}).count("<tr>") == 3
    assert "0.3333" in ex.numbers_html(pd.Series({"x": 1 / 3}))
    assert "<table" in ex.numbers_html(pd.DataFrame({"a": [1.23456789]}))
    assert ex.numbers_html("<b>raw</b>") == "<b>raw</b>"
    with pytest.raises(TypeError, match="numbers"):
        ex.numbers_html(3.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"values": []}, "at least one value"),
    ({"values": [1, 1.0]}, "read the same"),
    ({"values": [1, 2], "start": 2}, "start"),
    ({"values": [1, 2], "ncols": 0}, "ncols"),
])
def test_bad_arguments_fail_before_drawing(kwargs, message):
    calls = []
    with pytest.raises(ValueError, match=message):
        ex.explore(draw=lambda v, ax: calls.append(v), **kwargs)
    assert not calls


def test_a_failing_draw_leaves_no_figure_open():
    def draw(v, ax):
        if v == 2:
            raise RuntimeError("boom")
        ax.plot([0, 1])

    with pytest.raises(RuntimeError, match="boom"):
        ex.explore([1, 2, 3], draw)
    assert not plt.get_fignums()


def test_a_kernel_run_stores_the_widget_state(tmp_path):
    """Executed by nbclient (as papermill does for the book), the notebook carries the state of every model
    the explorer uses, images as buffers: what the HTML book embeds to work without a kernel."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import genutils as gu\n"
        "gu.explore([1, 2], lambda a, ax: ax.plot([0, a]), label='a', numbers=lambda a: {'a': a}, dpi=20)"))
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    names = [m["model_name"] for m in state.values()]
    assert names.count("ImageModel") == 2 and names.count("StackModel") == 2 and names.count("LinkModel") == 2
    assert "SelectionSliderModel" in names
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert all(m["buffers"] and m["buffers"][0]["path"] == ["value"] for m in images)
    outputs = nb.cells[0].outputs
    view = outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] in state, "the displayed box is in the stored state"
    assert outputs[0]["data"]["text/plain"].startswith("Explorer over a: 2 frames")
    json.dumps(nb.metadata["widgets"])  # JSON-serializable, as nbformat writes it
