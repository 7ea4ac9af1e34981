"""Charts for the reports, drawn with matplotlib and embedded as SVG data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

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
    axes.bar([_label(k, 12) for k in keys], [versions[k] for k in keys], color="#1565c0")
    axes.set_ylabel("clusters")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Control-plane minor", fontsize=9)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    for text in axes.get_xticklabels():
        text.set_parse_math(False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


def image_age_histogram(ages: Sequence[int], limit_days: int) -> str:
    """Histogram of node-image age in days, with the policy limit marked."""
    figure = Figure(figsize=(3.4, 2.4))
    axes = figure.add_subplot()
    if ages:
        axes.hist(list(ages), bins=20, color="#00838f")
    axes.axvline(limit_days, color="#c62828", linestyle="--", linewidth=1, label=f"limit {limit_days} d")
    axes.legend(fontsize=7, frameon=False)
    axes.set_xlabel("days since release")
    axes.set_ylabel("node pools")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Node-image age", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(figure)


def compliance_by_subscription(rows: Sequence[dict[str, Any]]) -> str:
    """Share of verdicts by status per subscription: the lowest scores first, at most SUBSCRIPTION_BARS."""
    judged = [r for r in rows if r.get("score") is not None]
    judged.sort(key=lambda r: (r["score"], (r["name"] or r["subscription_id"]).lower()))
    shown = judged[:SUBSCRIPTION_BARS]
    figure = Figure(figsize=(7.0, 0.28 * max(len(shown), 1) + 1.1))
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
    axes.xaxis.set_major_formatter(PercentFormatter())
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


def drift_compliance(
    labels: Sequence[str], series: Mapping[str, Sequence[float | None]], overall: Sequence[float | None]
) -> str:
    """Lines: each control's score (share of decided verdicts that pass) per scan, and the fleet score."""
    import matplotlib

    figure = Figure(figsize=(7.0, 3.4))
    axes = figure.add_subplot()
    palette = matplotlib.colormaps["tab20"]
    colours = [palette(i / 19) for i in range(20)]
    positions = list(range(len(labels)))
    for number, (control, values) in enumerate(series.items()):
        points = [(x, v) for x, v in zip(positions, values, strict=True) if v is not None]
        if points:
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                marker="o",
                markersize=2.5,
                linewidth=1,
                color=colours[number % len(colours)],
                label=_label(control, 14),
            )
    fleet = [(x, v) for x, v in zip(positions, overall, strict=True) if v is not None]
    if fleet:
        axes.plot([p[0] for p in fleet], [p[1] for p in fleet], color="black", linewidth=2.2, label="fleet score")
    axes.set_ylim(0, 102)
    axes.yaxis.set_major_formatter(PercentFormatter())
    axes.set_ylabel("pass share", fontsize=8)
    axes.set_title("Compliance per control across scans", fontsize=9)
    _scan_axis(axes, labels)
    axes.legend(fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _svg_data_uri(figure)


def drift_image_age(
    labels: Sequence[str], medians: Sequence[float | None], p90s: Sequence[float | None], limit_days: int
) -> str:
    """Lines: median and 90th percentile node-image age per scan, with the policy limit."""
    figure = Figure(figsize=(3.4, 2.6))
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


def drift_versions(labels: Sequence[str], versions: Sequence[dict[str, int]]) -> str:
    """Stacked bars: clusters per control-plane minor per scan."""
    import matplotlib

    figure = Figure(figsize=(3.4, 2.6))
    axes = figure.add_subplot()
    minors = sorted(
        {m for v in versions for m in v}, key=lambda v: tuple(int(p) if p.isdigit() else -1 for p in v.split("."))
    )
    colours = matplotlib.colormaps["viridis"]
    bottom = [0] * len(labels)
    for number, minor in enumerate(minors):
        values = [v.get(minor, 0) for v in versions]
        axes.bar(
            range(len(labels)),
            values,
            bottom=bottom,
            label=_label(minor, 10),
            color=colours(number / max(1, len(minors) - 1)),
        )
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("clusters", fontsize=8)
    axes.set_title("Control-plane minors over time", fontsize=9)
    _scan_axis(axes, labels)
    axes.legend(fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _svg_data_uri(figure)


def drift_new_resolved(labels: Sequence[str], new: Sequence[int], resolved: Sequence[int]) -> str:
    """Grouped bars: failures new and resolved since the previous scan, per scan."""
    figure = Figure(figsize=(7.0, 2.4))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.bar([x - 0.2 for x in positions], new, width=0.4, color=STATUS_COLOURS["fail"], label="new failures")
    axes.bar([x + 0.2 for x in positions], resolved, width=0.4, color=STATUS_COLOURS["pass"], label="resolved")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
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
    figure = Figure(figsize=(7.0, 1.55 * max(len(names), 1) + 0.6))
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
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
        bar.set_label("clusters", fontsize=7)
    return _svg_data_uri(figure)
