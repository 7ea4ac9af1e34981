"""HTML report: one self-contained file from the Jinja2 templates (also the source of the PDF)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from auditor.controls import STATUSES, Finding
from auditor.paths import templates_dir
from auditor.report import charts
from auditor.report.data import ReportData
from auditor.vocabulary import Severity, Status

# The PDF lists at most this many resources per control; CSV, JSON and the HTML findings table carry all.
PDF_ROWS_PER_CONTROL = 50
# The HTML's control sections list this many statically; the "All findings" table holds the rest.
HTML_ROWS_PER_CONTROL = 200
PDF_SUBSCRIPTION_ROWS = 500
PDF_ERROR_ROWS = 100
# The maintenance calendar's next-14-days table: `auditor calendar` and the .ics list every occurrence.
PDF_CALENDAR_ROWS = 60
HTML_CALENDAR_ROWS = 2000
HTML_ERROR_ROWS = 2000
# Untrusted text longer than this is clipped in the HTML findings table (the CSV and JSON keep it whole).
HTML_TEXT_LIMIT = 1000

# Invisible or reordering characters that could disguise a name: bidi embeddings, overrides and isolates,
# zero-width characters, the BOM, and C0/C1 controls other than tab and newline.
_DISGUISING = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# The findings table's columns, in the order of the data block.
TABLE_COLUMNS = (
    "control",
    "status",
    "severity",
    "subscription",
    "resource_group",
    "cluster",
    "pool",
    "message",
    "remediation",
    "tags",
)


# The order in which the findings table sorts its status and severity columns: most serious first. Missing evidence
# (unknown) ranks above a warning: a control that could not look may hide a failure.
STATUS_SERIOUSNESS = tuple(status.value for status in Status.by_seriousness())
SERIOUSNESS: dict[str, dict[str, int]] = {
    "status": {s: i for i, s in enumerate(STATUS_SERIOUSNESS)},
    "severity": {s.value: i for i, s in enumerate(Severity.by_seriousness())},
}


def untrusted(value: Any, limit: int = 300) -> str:
    """Untrusted text made fit to show: disguising characters made visible, length clipped.

    The result is still plain text: autoescape (HTML) escapes it; nothing marks it safe.
    """
    if value is None:
        return ""
    text = _DISGUISING.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value))
    if len(text) > limit:
        text = f"{text[:limit]}… [{len(text):,} characters; the full value is in findings.csv]"
    return text


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _signed(value: int, sign: str) -> str:
    """'+3', '−2' (a change), or '0' when nothing changed."""
    return f"{sign}{value:,}" if value else "0"


def _count_of(value: int, noun: str) -> str:
    """'1 cluster', '2,000 clusters'."""
    return f"{value:,} {noun}" if value == 1 else f"{value:,} {noun}s"


def _inline_code(text: str) -> Markup:
    """Catalog prose (trusted, shipped with the tool) with `backticked` spans as <code>; escaped first."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704 - escaped above


def _command(value: Any, limit: int = 400) -> Markup:
    """A shell command (untrusted names inside) that wraps only at its spaces: each word is kept whole, so a line
    break never falls inside a name, an option or a quoted query. The text copies as it was."""
    words = untrusted(value, limit).split(" ")
    return Markup(" ".join(f'<span class="word">{escape(word)}</span>' for word in words))  # noqa: S704 - escaped


def _command_template(template: str) -> Markup:
    """A control's remediation template as a reader sees it: placeholders as <cluster>, <resource-group>, and
    the doubled braces of str.format as the single braces the command uses."""
    text = "".join(
        literal + (f"<{field.replace('_', '-')}>" if field is not None else "")
        for literal, field, _, _ in string.Formatter().parse(template)
    )
    return _command(text, 2000)


def environment() -> Environment:
    """Jinja2 with autoescape on and undefined names an error."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["untrusted"] = untrusted
    env.filters["num"] = _number
    env.filters["count_of"] = _count_of
    env.filters["signed"] = _signed
    env.filters["inline_code"] = _inline_code
    env.filters["command"] = _command
    env.filters["command_template"] = _command_template
    return env


@cache
def _script() -> tuple[str, str]:
    """The findings table's script and its CSP hash (the only script the page may run)."""
    script = (templates_dir() / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode("ascii")
    return script, f"sha256-{digest}"


def _script_json(payload: Any) -> str:
    """JSON safe inside a <script type="application/json"> element: no '<', '>' or '&' survives as such."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def findings_blob(findings: list[Finding]) -> str:
    """Every finding as a compact data block for the HTML table.

    Each column has a sorted dictionary of its distinct values (status and severity by seriousness, the rest as
    text); `rows` is one flat array of dictionary indexes, len(columns) per finding. Sorting a column is an
    integer comparison and a text search scans the dictionaries once, so the table stays fast at 150,000
    findings. Rows come failures first.
    """
    rank = SERIOUSNESS["status"]
    ordered = sorted(findings, key=lambda f: rank.get(f.status, len(STATUSES)))
    values: list[list[str]] = [[] for _ in TABLE_COLUMNS]
    tag_text: dict[str, str] = {}  # per cluster: every finding of a cluster carries the same tags
    for f in ordered:
        tags = tag_text.get(f.resource_id)
        if tags is None:
            tags = tag_text[f.resource_id] = ", ".join(f"{k}={v}" for k, v in sorted(f.tags.items()))
        row = (
            f.control_id,
            f.status,
            f.severity,
            f.subscription_name or f.subscription_id,
            f.resource_group,
            f.cluster,
            f.node_pool or "",
            f.message,
            f.remediation,
            tags,
        )
        for column, value in zip(values, row, strict=True):
            column.append(value)
    dicts: list[list[str]] = []
    indexes: list[dict[str, int]] = []
    for name, column in zip(TABLE_COLUMNS, values, strict=True):
        # Status and severity sort by seriousness (fail first, critical first), every other column as text.
        serious = SERIOUSNESS.get(name, {})
        distinct = sorted(set(column), key=lambda v: (serious.get(v, len(serious)), v.lower(), v))
        dicts.append(distinct)
        indexes.append({v: i for i, v in enumerate(distinct)})
    width = len(TABLE_COLUMNS)
    flat = [0] * (len(ordered) * width)
    for c, (column, index) in enumerate(zip(values, indexes, strict=True)):
        flat[c::width] = [index[v] for v in column]
    shown = [[untrusted(v, HTML_TEXT_LIMIT) for v in d] for d in dicts]
    return _script_json({"columns": list(TABLE_COLUMNS), "n": len(ordered), "dicts": shown, "rows": flat})


def render_html_text(data: ReportData, medium: str) -> str:
    """The report as HTML text, for the browser ('html') or for WeasyPrint ('pdf')."""
    labels = [s.control.id for s in data.sections]
    chart_uris = {
        "status": charts.status_by_control(labels, [s.counts for s in data.sections]),
        "versions": charts.version_distribution(data.versions),
        "image_age": charts.image_age_histogram(data.image_ages, int(data.policy.thresholds["image_max_age_days"])),
        "subscriptions": charts.compliance_by_subscription(data.subscriptions),
        "calendar": charts.maintenance_heatmap(data.calendar_load),
    }
    pdf = medium == "pdf"
    script, script_hash = _script()
    template = environment().get_template("report.html.j2")
    return template.render(
        data=data,
        medium=medium,
        charts=chart_uris,
        row_limit=PDF_ROWS_PER_CONTROL if pdf else HTML_ROWS_PER_CONTROL,
        sub_limit=PDF_SUBSCRIPTION_ROWS if pdf else None,
        error_limit=PDF_ERROR_ROWS if pdf else HTML_ERROR_ROWS,
        calendar_limit=PDF_CALENDAR_ROWS if pdf else HTML_CALENDAR_ROWS,
        findings_blob="" if pdf else findings_blob(data.findings),
        script=script,
        script_hash=script_hash,
        css=(templates_dir() / "report.css").read_text(encoding="utf-8"),
    )


def render_html(data: ReportData, out_dir: Path) -> Path:
    """Write report.html."""
    path = out_dir / "report.html"
    path.write_text(render_html_text(data, "html"), encoding="utf-8")
    return path
