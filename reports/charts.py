"""Charts for the PDF reports: matplotlib on its Agg canvas, PNG bytes (reports.pdf.png_data_uri
embeds them).

Figures are built with `matplotlib.figure.Figure` and never through pyplot: pyplot keeps every
figure in a global registry (a worker building reports all day would grow) and is not safe
across threads. The layout engine keeps titles, tick labels and legends inside the image.
"""

import io
import math
import textwrap
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Colour-blind safe (Okabe-Ito), in the order series take them.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = {"family": "DejaVu Sans", "size": 9}
DPI = 150
WIDTH_IN = 9.0  # about the width of an A4 page's text at the size the PDF shows it
LABEL_WIDTH = 28  # characters before a category label wraps


def _figure(height: float) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style(axes, title: str) -> None:
    axes.set_title(textwrap.fill(title, 90), loc="left", fontdict={**FONT, "size": 11})
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=FONT["size"])


def _thousands(value: float, _position=None) -> str:
    return f"{value:,.0f}".replace(",", ".")  # Indonesian grouping: 1.234.567


def _wrap(label: str) -> str:
    return textwrap.fill(str(label), LABEL_WIDTH, max_lines=2, placeholder="…")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def bar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    horizontal: bool = False,
    stacked: bool = False,
) -> bytes:
    """Bars for each label, one colour per series (stacked, or side by side)."""
    count = max(len(labels), 1)
    if horizontal:
        bars = count * (1 if stacked else len(series))
        height = min(max(1.2 + 0.3 * bars, 1.8), 9.0)
    else:
        height = 3.6
    figure = _figure(height)
    axes = figure.add_subplot()
    _style(axes, title)
    positions = list(range(len(labels)))
    names = list(series)
    width = 0.8 if stacked or len(names) == 1 else 0.8 / len(names)
    base = [0.0] * len(labels)
    for index, name in enumerate(names):
        values = [float(v or 0) for v in series[name]]
        colour = PALETTE[index % len(PALETTE)]
        if stacked:
            offsets = positions
        else:
            shift = (index - (len(names) - 1) / 2) * width
            offsets = [p + shift for p in positions]
        if horizontal:
            axes.barh(
                offsets,
                values,
                height=width,
                left=base if stacked else None,
                color=colour,
                label=name,
            )
        else:
            axes.bar(
                offsets,
                values,
                width=width,
                bottom=base if stacked else None,
                color=colour,
                label=name,
            )
        if stacked:
            base = [b + v for b, v in zip(base, values, strict=True)]
    wrapped = [_wrap(label) for label in labels]
    value_axis = axes.xaxis if horizontal else axes.yaxis
    value_axis.set_major_formatter(FuncFormatter(_thousands))
    value_axis.set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        axes.set_yticks(positions, wrapped)
        axes.invert_yaxis()  # the first label on top, as in the table beside it
        axes.grid(axis="x", color="#dddddd")
    else:
        axes.set_xticks(positions, wrapped)
        if len(labels) > 6 or max((len(w) for w in wrapped), default=0) > 12:
            axes.tick_params(axis="x", labelrotation=30)
            for tick in axes.get_xticklabels():
                tick.set_horizontalalignment("right")
        axes.grid(axis="y", color="#dddddd")
    axes.set_axisbelow(True)
    if len(names) > 1:
        figure.legend(loc="outside right upper", fontsize=FONT["size"], frameon=False)
    return _png(figure)


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str) -> bytes:
    """One line per series over the labels (months)."""
    figure = _figure(3.4)
    axes = figure.add_subplot()
    _style(axes, title)
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        axes.plot(
            positions,
            [float(v or 0) for v in values],
            marker="o",
            markersize=3,
            linewidth=1.8,
            color=PALETTE[index % len(PALETTE)],
            label=name,
        )
    step = max(1, math.ceil(len(labels) / 8))  # at most eight labels: "Sep 2025" needs room
    axes.set_xticks(positions[::step], [labels[i] for i in positions[::step]])
    axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", color="#dddddd")
    axes.set_axisbelow(True)
    if len(series) > 1:
        figure.legend(loc="outside right upper", fontsize=FONT["size"], frameon=False)
    return _png(figure)
