"""Charts for the reports, drawn with matplotlib and embedded as SVG data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STATUS_COLOURS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "warn": "#ef6c00",
    "unknown": "#757575",
    "waived": "#6a1b9a",
    "not_applicable": "#bdbdbd",
}
# Subscriptions drawn in the compliance chart: the lowest scores; the table lists every one.
SUBSCRIPTION_BARS = 15


def _figure(size: tuple[float, float]) -> Figure:
    """A matplotlib figure of size inches (no pyplot: no global state, no display)."""
    # Only the commands that draw a report need matplotlib (the others import this module through the library).
    # Deferred for import cost: matplotlib takes a few hundred milliseconds to load.
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def _integer_ticks() -> Any:
    """Ticks on whole numbers only (counts)."""
    # Deferred for import cost: see _figure.
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _percent_ticks() -> Any:
    """Tick labels as percentages."""
    # Deferred for import cost: see _figure.
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter()


def _svg_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    # No date and glyphs as paths: the SVG carries no text a browser could interpret, and is reproducible.
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _label(text: str, limit: int = 32) -> str:
    """A tick label from untrusted text: printable, short, and never parsed as mathtext."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def status_by_control(labels: Sequence[str], counts: Sequence[dict[str, int]]) -> str:
    """Horizontal stacked bars: each control's verdicts by status."""
    figure = _figure((7.0, 0.32 * len(labels) + 1.0))
    axes = figure.add_subplot()
    left = [0] * len(labels)
    for status, colour in STATUS_COLOURS.items():
        values = [c.get(status, 0) for c in counts]
        axes.barh(labels, values, left=left, color=colour, label=status.replace("_", " "))
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(_integer_ticks())
    axes.set_xlabel("resources evaluated")
    axes.legend(ncols=6, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


def version_distribution(versions: dict[str, int]) -> str:
    """Bars: clusters per control-plane minor."""
    figure = _figure((3.4, 2.4))
    axes = figure.add_subplot()
    keys = sorted(versions, key=lambda v: tuple(int(p) if p.isdigit() else -1 for p in v.split(".")))
    axes.bar([_label(k, 12) for k in keys], [versions[k] for k in keys], color="#1565c0")
    axes.set_ylabel("clusters")
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_title("Control-plane minor", fontsize=9)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    for text in axes.get_xticklabels():
        text.set_parse_math(False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


def threshold_bins(values: Sequence[float], limit: int, span: int = 6) -> list[dict[str, Any]]:
    """Bins of whole days with an edge at the limit, so no bin holds values on both sides of it.

    Within the limit (0..limit) a few bins of equal width (3 when the limit divides by 3, else 4, 2, 5 or 1);
    beyond it bins of the same width up to `span` times the limit, then one open bin for the rest. A value v
    falls in the first bin with v <= hi (a value of limit + 0.5 is beyond). Each bin: label, lo, hi (None for
    the open one), count, within.
    """
    parts = next((n for n in (3, 4, 2, 5, 1) if limit % n == 0), 1)
    width = max(1, limit // parts)
    edges = [0] if limit == 0 else list(range(width, limit, width)) + [limit]
    top = max(limit * span, limit + width)
    edges += list(range(limit + width, top + 1, width))
    bins: list[dict[str, Any]] = []
    low = 0
    for high in edges:
        label = str(high) if low == high else f"{low}–{high}"
        bins.append({"label": label, "lo": low, "hi": high, "count": 0, "within": high <= limit})
        low = high + 1
    bins.append({"label": f"≥{low}", "lo": low, "hi": None, "count": 0, "within": False})
    for value in values:
        for item in bins:
            if item["hi"] is None or value <= item["hi"]:
                item["count"] += 1
                break
    return bins


def _threshold_bars(axes: Any, bins: list[dict[str, Any]], limit: int, within: str, beyond: str) -> None:
    positions = list(range(len(bins)))
    colours = [STATUS_COLOURS["pass"] if b["within"] else STATUS_COLOURS["fail"] for b in bins]
    axes.bar(positions, [b["count"] for b in bins], color=colours, width=0.85)
    boundary = sum(1 for b in bins if b["within"]) - 0.5
    axes.axvline(boundary, color="#212121", linestyle="--", linewidth=1)
    axes.set_xticks(positions, [b["label"] for b in bins], fontsize=6, rotation=60, ha="right")
    axes.yaxis.set_major_locator(_integer_ticks())
    # Deferred for import cost: matplotlib loads only when a report draws its charts.
    from matplotlib.patches import Patch

    axes.legend(
        handles=[
            Patch(color=STATUS_COLOURS["pass"], label=within),
            Patch(color=STATUS_COLOURS["fail"], label=beyond),
        ],
        fontsize=6,
        frameon=False,
    )
    axes.spines[["top", "right"]].set_visible(False)


def image_age_histogram(ages: Sequence[int], limit_days: int) -> str:
    """Node pools by node-image age in days, in bins with an edge at the policy limit: pools within it and
    pools beyond it never share a bar."""
    figure = _figure((3.4, 2.4))
    axes = figure.add_subplot()
    bins = threshold_bins(ages, limit_days)
    _threshold_bars(axes, bins, limit_days, f"≤ {limit_days} days (limit)", f"> {limit_days} days")
    axes.set_xlabel("days since release", fontsize=7)
    axes.set_ylabel("node pools", fontsize=7)
    axes.set_title("Node-image age", fontsize=9)
    return _svg_data_uri(figure)


def latency_histogram(adopted: Sequence[float], open_days: Sequence[float], deadline: int, title: str) -> str:
    """Days to adopt a patch (adopted releases), in bins with an edge at the deadline, and open ones beside."""
    figure = _figure((3.4, 2.5))
    axes = figure.add_subplot()
    bins = threshold_bins(adopted, deadline, span=4)
    _threshold_bars(axes, bins, deadline, f"adopted ≤ {deadline} days", f"adopted > {deadline} days")
    still_open = threshold_bins(open_days, deadline, span=4)
    positions = list(range(len(bins)))
    if any(b["count"] for b in still_open):
        axes.bar(
            positions,
            [b["count"] for b in still_open],
            bottom=[b["count"] for b in bins],
            color="none",
            edgecolor=STATUS_COLOURS["unknown"],
            hatch="////",
            width=0.85,
            label="still open (age so far)",
        )
        handles, labels = axes.get_legend_handles_labels()
        axes.legend(handles, labels, fontsize=6, frameon=False)
    tallest = max((a["count"] + b["count"] for a, b in zip(bins, still_open, strict=True)), default=0)
    axes.set_ylim(0, max(1, tallest) * 1.12)
    axes.set_xlabel("days from newest to running it", fontsize=7)
    axes.set_ylabel("updates", fontsize=7)
    axes.set_title(title, fontsize=9)
    return _svg_data_uri(figure)


def compliance_by_subscription(rows: Sequence[dict[str, Any]]) -> str:
    """Share of verdicts by status per subscription: the lowest scores first, at most SUBSCRIPTION_BARS."""
    judged = [r for r in rows if r.get("score") is not None]
    judged.sort(key=lambda r: (r["score"], (r["name"] or r["subscription_id"]).lower()))
    shown = judged[:SUBSCRIPTION_BARS]
    figure = _figure((7.0, 0.28 * max(len(shown), 1) + 1.1))
    axes = figure.add_subplot()
    labels = [_label(r["name"] or r["subscription_id"]) for r in shown]
    positions = list(range(len(shown)))
    left = [0.0] * len(shown)
    for status in ("pass", "waived", "warn", "unknown", "fail"):
        values = []
        for r in shown:
            total = sum(r.get(s, 0) for s in ("pass", "waived", "warn", "unknown", "fail"))
            values.append(100.0 * r.get(status, 0) / total if total else 0.0)
        axes.barh(positions, values, left=left, color=STATUS_COLOURS[status], label=status)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, labels, fontsize=7)
    for text in axes.get_yticklabels():
        text.set_parse_math(False)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_formatter(_percent_ticks())
    title = "Compliance by subscription"
    if len(judged) > len(shown):
        title += f" (the {len(shown)} lowest of {len(judged)})"
    axes.set_title(title, fontsize=9, pad=18)
    axes.legend(ncols=5, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


# ---------------------------------------------------------------------------------------------- drift (trend)


def _scan_axis(axes: Any, labels: Sequence[str]) -> None:
    axes.set_xticks(range(len(labels)), [_label(t, 12) for t in labels], fontsize=7, rotation=30, ha="right")
    for text in axes.get_xticklabels():
        text.set_parse_math(False)
    axes.spines[["top", "right"]].set_visible(False)


def heatmap_cells(
    series: Mapping[str, Sequence[float | None]], overall: Sequence[float | None]
) -> list[list[float | None]]:
    """The heat map's rows: the fleet score first, then each control's score per scan."""
    return [list(overall), *(list(values) for values in series.values())]


def drift_compliance(
    labels: Sequence[str], series: Mapping[str, Sequence[float | None]], overall: Sequence[float | None]
) -> str:
    """A heat map: one row per control (and the fleet score on top), one column per scan, each cell the score
    (share of decided verdicts that pass), coloured from red (0%) to green (100%) and written in the cell."""
    # Deferred for import cost: matplotlib and numpy load only when a report draws its charts.
    import matplotlib
    import numpy as np

    rows = ["fleet score", *(_label(c, 14) for c in series)]
    cells = heatmap_cells(series, overall)
    matrix = np.array([[np.nan if v is None else v for v in row] for row in cells], dtype=float)
    figure = _figure((7.0, 0.26 * len(rows) + 1.2))
    axes = figure.add_subplot()
    colours = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#eeeeee")
    axes.imshow(np.ma.masked_invalid(matrix), cmap=colours, vmin=0, vmax=100, aspect="auto")
    small = len(labels) > 12
    for y, row in enumerate(cells):
        for x, value in enumerate(row):
            shown = "—" if value is None else f"{value:.0f}"
            # Dark cells (deep red, deep green) take white text.
            dark = value is not None and (value < 15 or value > 85)
            axes.text(x, y, shown, ha="center", va="center", fontsize=5 if small else 6.5,
                      color="white" if dark else "#212121")  # fmt: skip
    axes.set_yticks(range(len(rows)), rows, fontsize=7)
    axes.set_xticks(range(len(labels)), [_label(t, 12) for t in labels], fontsize=7, rotation=30, ha="right")
    for tick in axes.get_xticklabels() + axes.get_yticklabels():
        tick.set_parse_math(False)
    axes.axhline(0.5, color="#212121", linewidth=1.2)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.set_title("Compliance per control across scans (pass share, %)", fontsize=9)
    return _svg_data_uri(figure)


def drift_image_age(
    labels: Sequence[str], medians: Sequence[float | None], p90s: Sequence[float | None], limit_days: int
) -> str:
    """Lines: median and 90th percentile node-image age per scan, with the policy limit."""
    figure = _figure((3.4, 2.6))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    for values, name, colour in ((medians, "median", "#00838f"), (p90s, "90th percentile", "#ef6c00")):
        points = [(x, v) for x, v in zip(positions, values, strict=True) if v is not None]
        if points:
            axes.plot(
                [p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, color=colour, label=name
            )
    axes.axhline(limit_days, color="#c62828", linestyle="--", linewidth=1, label=f"limit {limit_days} d")
    axes.set_ylim(bottom=0)
    axes.set_ylabel("days since release", fontsize=8)
    axes.set_title("Node-image age over time", fontsize=9)
    _scan_axis(axes, labels)
    axes.legend(fontsize=6, frameon=False)
    return _svg_data_uri(figure)


# Qualitative colours told apart by hue and lightness (after Paul Tol's bright and muted schemes): neighbours in
# a stack differ by a CIE76 colour difference of 40 or more, any two of the first ten by 20 or more.
MINOR_PALETTE = (
    "#4477AA",
    "#EE7733",
    "#228833",
    "#AA3377",
    "#66CCEE",
    "#CC3311",
    "#CCBB44",
    "#332288",
    "#009988",
    "#BBBBBB",
    "#882255",
    "#EE99AA",
    "#999933",
    "#44BB99",
    "#663300",
    "#7766DD",
)


def minor_colours(minors: Sequence[str]) -> dict[str, str]:
    """A distinct colour per minor, in minor order (cycling past the palette, which 16 minors never reach)."""
    ordered = sorted(minors, key=lambda v: tuple(int(p) if p.isdigit() else -1 for p in v.split(".")))
    return {minor: MINOR_PALETTE[number % len(MINOR_PALETTE)] for number, minor in enumerate(ordered)}


def drift_versions(labels: Sequence[str], versions: Sequence[dict[str, int]]) -> str:
    """Stacked bars: clusters per control-plane minor per scan, one distinct colour per minor."""
    figure = _figure((3.4, 2.6))
    axes = figure.add_subplot()
    colours = minor_colours(sorted({m for v in versions for m in v}))
    bottom = [0] * len(labels)
    for minor, colour in colours.items():
        values = [v.get(minor, 0) for v in versions]
        axes.bar(range(len(labels)), values, bottom=bottom, label=_label(minor, 10), color=colour,
                 edgecolor="white", linewidth=0.4)  # fmt: skip
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_ylabel("clusters", fontsize=8)
    axes.set_title("Control-plane minors over time", fontsize=9)
    _scan_axis(axes, labels)
    handles, names = axes.get_legend_handles_labels()
    # Newest minor on top, as in the stack.
    axes.legend(handles[::-1], names[::-1], fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _svg_data_uri(figure)


def drift_new_resolved(labels: Sequence[str], new: Sequence[int], resolved: Sequence[int]) -> str:
    """Grouped bars: failures new and resolved since the previous scan, per scan."""
    figure = _figure((7.0, 2.4))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.bar([x - 0.2 for x in positions], new, width=0.4, color=STATUS_COLOURS["fail"], label="new failures")
    axes.bar([x + 0.2 for x in positions], resolved, width=0.4, color=STATUS_COLOURS["pass"], label="resolved")
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_ylabel("findings", fontsize=8)
    axes.set_title("New and resolved failures since the previous scan", fontsize=9)
    _scan_axis(axes, labels)
    axes.legend(fontsize=7, frameon=False)
    return _svg_data_uri(figure)


# ---------------------------------------------------------------------------------------------- maintenance calendar

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CALENDAR_PANELS = 6


def maintenance_heatmap(load: Mapping[str, Sequence[Sequence[int]]]) -> str:
    """One weekday x hour heatmap per environment: how many clusters have a window open in each hour (UTC).

    At most CALENDAR_PANELS environments are drawn (the first ones, in ring order); one colour scale for all."""
    names = list(load)[:CALENDAR_PANELS]
    figure = _figure((7.0, 1.55 * max(len(names), 1) + 0.6))
    if not names:
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.text(0.5, 0.5, "No maintenance window opens in this period", ha="center", va="center", fontsize=9)
        return _svg_data_uri(figure)
    peak = max(1, max(max(max(row) for row in load[n]) for n in names))
    grid = figure.subplots(len(names), 1, squeeze=False, sharex=True)
    image = None
    for axes, name in zip(grid[:, 0], names, strict=True):
        image = axes.imshow(
            [list(row) for row in load[name]], aspect="auto", cmap="OrRd", vmin=0, vmax=peak, interpolation="nearest"
        )
        axes.set_yticks(range(7), WEEKDAY_LABELS, fontsize=6)
        axes.set_ylabel(_label(name, 18), fontsize=7, rotation=0, ha="right", va="center")
        axes.yaxis.label.set_parse_math(False)
        axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)], fontsize=6)
    grid[-1, 0].set_xlabel("hour of the day (UTC)", fontsize=7)
    grid[0, 0].set_title("Clusters with a maintenance window open, by weekday and hour", fontsize=9)
    if image is not None:
        bar = figure.colorbar(image, ax=grid[:, 0].tolist(), fraction=0.025, pad=0.02)
        bar.ax.tick_params(labelsize=6)
        bar.locator = _integer_ticks()
        bar.update_ticks()
        bar.set_label("clusters", fontsize=7)
    return _svg_data_uri(figure)
