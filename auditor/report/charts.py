"""Charts for the reports, drawn with matplotlib and embedded as SVG data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

STATUS_COLOURS = {
    "pass": "#2e7d32", "fail": "#c62828", "warn": "#ef6c00", "unknown": "#757575",
    "waived": "#6a1b9a", "not_applicable": "#bdbdbd",
}


def _svg_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def status_by_control(labels: Sequence[str], counts: Sequence[dict[str, int]]) -> str:
    """Horizontal stacked bars: each control's verdicts by status."""
    figure = Figure(figsize=(7.0, 0.32 * len(labels) + 1.0))
    axes = figure.add_subplot()
    left = [0] * len(labels)
    for status, colour in STATUS_COLOURS.items():
        values = [c.get(status, 0) for c in counts]
        axes.barh(labels, values, left=left, color=colour, label=status.replace("_", " "))
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("resources evaluated")
    axes.legend(ncols=6, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


def version_distribution(versions: dict[str, int]) -> str:
    """Bars: clusters per control-plane minor."""
    figure = Figure(figsize=(3.4, 2.4))
    axes = figure.add_subplot()
    keys = sorted(versions, key=lambda v: tuple(int(p) if p.isdigit() else -1 for p in v.split(".")))
    axes.bar(keys, [versions[k] for k in keys], color="#1565c0")
    axes.set_ylabel("clusters")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Control-plane minor", fontsize=9)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


def image_age_histogram(ages: Sequence[int], limit_days: int) -> str:
    """Histogram of node-image age in days, with the policy limit marked."""
    figure = Figure(figsize=(3.4, 2.4))
    axes = figure.add_subplot()
    if ages:
        axes.hist(list(ages), bins=20, color="#00838f")
    axes.axvline(limit_days, color="#c62828", linestyle="--", linewidth=1)
    axes.set_xlabel("days since release")
    axes.set_ylabel("node pools")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Node-image age", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)
