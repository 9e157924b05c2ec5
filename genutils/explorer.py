"""Explorers: a slider over a chapter's sweep that switches the figure and the numbers beside it.

`explore(values, draw)` draws one frame per swept value (``draw(value, ax)``), renders each to a PNG and
returns an ipywidgets box: a slider ``jslink``-ed to a ``Stack`` of the pre-rendered images (and to a
second ``Stack`` of the numbers, if ``numbers`` is given). The links live in the browser, so the
explorer works the same in JupyterLab with a kernel and in the static HTML book without one: the
executed notebook stores the widget state (nbclient and papermill save it by default) and the book
embeds it with the vendored widget manager.

Every frame shares the axis limits of all frames (``same_limits``), so moving the slider shows the
data change, not the axes.
"""
from __future__ import annotations

import html
import io
import math
import numbers as _numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["Explorer", "explore", "frame_label", "numbers_html"]


def frame_label(value: Any) -> str:
    """How a swept value reads on the slider: ``0.25``, ``1e-05``, ``300``, or ``str(value)``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, _numbers.Integral):
        return str(int(value))
    if isinstance(value, _numbers.Real):
        return f"{float(value):g}"
    return str(value)


def _fmt(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, _numbers.Real):
        return html.escape(str(x))
    if isinstance(x, _numbers.Integral):
        return str(int(x))
    x = float(x)
    return "n/a" if math.isnan(x) else f"{x:.4g}"


def numbers_html(numbers: Any) -> str:
    """The numbers shown beside a frame as an HTML table: a DataFrame, a Series, a mapping (name → value),
    or a string of HTML (used as it is)."""
    import pandas as pd

    if numbers is None:
        return ""
    if isinstance(numbers, str):
        return numbers
    if isinstance(numbers, pd.Series):
        numbers = numbers.to_dict()
    if isinstance(numbers, Mapping):
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_fmt(v)}</td></tr>" for k, v in numbers.items())
        return f'<table class="genbook-explorer-numbers">{rows}</table>'
    if isinstance(numbers, pd.DataFrame):
        return numbers.to_html(classes="genbook-explorer-numbers", border=0, float_format=lambda v: f"{v:.4g}",
                               index=not isinstance(numbers.index, pd.RangeIndex))
    raise TypeError(f"numbers(value) must return a DataFrame, a Series, a mapping or an HTML string, "
                    f"not {type(numbers).__name__}")


def _union_limits(axes_per_frame: list[list[Any]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Per axes position, the x and y limits that contain every frame's (data-driven) limits."""
    limits = []
    for position in zip(*axes_per_frame):
        xs = [ax.get_xlim() for ax in position]
        ys = [ax.get_ylim() for ax in position]
        x = (min(min(a) for a in xs), max(max(a) for a in xs))
        y = (min(min(a) for a in ys), max(max(a) for a in ys))
        # keep an axis that a frame drew inverted the right way round
        if xs[0][0] > xs[0][1]:
            x = x[::-1]
        if ys[0][0] > ys[0][1]:
            y = y[::-1]
        limits.append((x, y))
    return limits


def _render(values: Sequence[Any], draw: Callable[..., Any], *, ncols: int, width: float, height: float,
            dpi: int, same_limits: bool, title: Callable[[Any], str] | None) -> tuple[list[bytes], list]:
    """Draw every frame, align their axes, and return (PNG bytes per frame, the shared limits)."""
    figures, axes_per_frame = [], []
    try:
        for value in values:
            fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), layout="constrained",
                                     squeeze=False)
            figures.append(fig)
            axes = list(axes.ravel())
            axes_per_frame.append(axes)
            draw(value, axes[0] if ncols == 1 else axes)
            if title is not None:
                fig.suptitle(title(value))
        limits = _union_limits(axes_per_frame) if same_limits else []
        pngs = []
        for fig, axes in zip(figures, axes_per_frame):
            for ax, (x, y) in zip(axes, limits):
                ax.set_xlim(x)
                ax.set_ylim(y)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi)
            pngs.append(buf.getvalue())
        return pngs, limits
    finally:
        for fig in figures:  # closed before the cell ends, so the inline backend shows none of them twice
            plt.close(fig)


def _widgets():
    import ipywidgets

    return ipywidgets


class Explorer:
    """Marker base; the real class is built on first use so that importing genutils needs no ipywidgets."""


_EXPLORER_CLASS = None


def _explorer_class():
    global _EXPLORER_CLASS
    if _EXPLORER_CLASS is None:
        w = _widgets()

        class _Explorer(w.VBox, Explorer):
            """The explorer box (an ipywidgets VBox): `.slider`, `.figures`, `.tables`, `.values`, `.limits`."""

            def __repr__(self) -> str:
                shown = ", ".join(frame_label(v) for v in self.values[:6]) + (" ..." if len(self.values) > 6 else "")
                return (f"Explorer over {self.label}: {len(self.values)} frames ({shown}); move the slider in "
                        f"JupyterLab or in the HTML book")

        _EXPLORER_CLASS = _Explorer
    return _EXPLORER_CLASS


def explore(values: Iterable[Any], draw: Callable[..., Any], *, label: str = "value",
            numbers: Callable[[Any], Any] | None = None, title: Callable[[Any], str] | None = None,
            ncols: int = 1, width: float = 6.0, height: float = 4.0, dpi: int = 80, same_limits: bool = True,
            start: int | None = None, play: bool = False) -> Explorer:
    """An explorer over `values`: a slider that switches between pre-rendered figures (and numbers).

    `draw(value, ax)` draws the frame of one swept value into `ax` (a list of `ncols` axes when
    `ncols` > 1); `numbers(value)`, if given, returns what is shown beside it (a DataFrame, a Series,
    a mapping name → number, or HTML). `label` names the swept quantity on the slider; `title(value)`
    titles each frame. With `same_limits` every frame gets the axis limits that contain all frames.
    `start` is the index shown first (default: the first value); `play` adds a play button that
    steps through the frames. Returns the widget box; as a cell's last expression it is displayed.
    Everything it links is linked in the browser, so it works without a kernel once the notebook
    (with its widget state) is rendered.
    """
    values = list(values)
    if not values:
        raise ValueError("explore needs at least one value to sweep over")
    labels = [frame_label(v) for v in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"explore: two swept values read the same on the slider ({', '.join(labels)})")
    if ncols < 1:
        raise ValueError("ncols must be at least 1")
    start = 0 if start is None else int(start)
    if not 0 <= start < len(values):
        raise ValueError(f"start must index one of the {len(values)} values, got {start}")
    pngs, limits = _render(values, draw, ncols=ncols, width=width, height=height, dpi=dpi,
                           same_limits=same_limits, title=title)

    w = _widgets()
    figures = w.Stack([w.Image(value=png, format="png", layout=w.Layout(max_width="100%", height="auto"))
                       for png in pngs], selected_index=start)
    slider = w.SelectionSlider(options=[(lab, i) for i, lab in enumerate(labels)], index=start,
                               description=label, continuous_update=True,
                               style={"description_width": "initial"}, layout=w.Layout(width="min(36rem, 95%)"))
    controls: list[Any] = [slider]
    links = [w.jslink((slider, "index"), (figures, "selected_index"))]
    if play:
        player = w.Play(min=0, max=len(values) - 1, value=start, interval=700, description="play",
                        layout=w.Layout(width="auto"))
        links.append(w.jslink((player, "value"), (slider, "index")))
        controls.insert(0, player)
    body: list[Any] = [figures]
    tables = None
    if numbers is not None:
        tables = w.Stack([w.HTML(numbers_html(numbers(v))) for v in values], selected_index=start,
                         layout=w.Layout(margin="0 0 0 1em", align_self="center"))
        links.append(w.jslink((slider, "index"), (tables, "selected_index")))
        body.append(tables)
    box = _explorer_class()([w.HBox(controls), w.HBox(body, layout=w.Layout(flex_flow="row wrap"))])
    box.add_class("genbook-explorer")
    box.slider, box.figures, box.tables, box.links = slider, figures, tables, links
    box.values, box.label, box.limits, box.pngs = values, label, limits, pngs
    return box
