"""The period report (`auditor report --from --to`): period-report.html and period-report.pdf from one template
(templates/period.html.j2), period.json (the figures, canonical JSON) and patch-latency.csv (every pending
release), for auditors who ask about a period rather than a day (docs/period.md).

The PDF is PDF/A-3b like the scan report and carries period.json and the policy in effect as attachments; it
is sealed (auditor/integrity.py), so a changed byte shows.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import sql
from auditor.integrity import seal_pdf, sha256_hex
from auditor.paths import queries_dir, templates_dir
from auditor.period import LONGEST_PER_CONTROL, Period, Table
from auditor.report import charts
from auditor.report.html import environment
from auditor.report.package import POLICY_NAME, policy_bytes
from auditor.report.tabular import neutralise_cell
from auditor.version import __version__

PERIOD_JSON = "period.json"
LATENCY_CSV = "patch-latency.csv"
PERIOD_HTML = "period-report.html"
PERIOD_PDF = "period-report.pdf"
# Open updates listed in the report, oldest first (period.json and patch-latency.csv list every one).
OPEN_ROWS = 25
PERIOD_ATTACHMENTS: dict[str, tuple[str, str]] = {  # name -> (AFRelationship, description)
    PERIOD_JSON: ("Data", "The period's figures, as JSON: compliance, patch latency, exceptions, population"),
    POLICY_NAME: ("Source", "The policy in effect (thresholds, scopes, waivers)"),
}
LATENCY_COLUMNS = (
    "kind",
    "environment",
    "grp",
    "release",
    "released",
    "subscription_id",
    "resource_group",
    "cluster",
    "pool_name",
    "location",
    "running",
    "closed_with",
    "outcome",
    "verdict",
    "pending_since",
    "closed_at",
    "days",
    "scan_intervals",
    "deadline_days",
    "since_first_scan",
    "cluster_id",
)


def _query_files() -> list[dict[str, str]]:
    """The query files the period's figures come from (its own and the payload shape its inventory reads)."""
    root = queries_dir()
    return [
        {"name": name, "sha256": sha256_hex((root / name).read_bytes())}
        for name in [*sql.files("period"), *sql.files("shape")]
    ]


def _open_updates(period: Period) -> list[dict[str, Any]]:
    """The updates still open at the end of the period, oldest first, both kinds."""
    rows = []
    for kind in ("node_image", "kubernetes_patch"):
        table = period.latency[kind]["updates"]
        outcome = table.columns.index("outcome")
        rows += [{**u, "kind": kind} for u in Table(table.columns, [r for r in table.rows if r[outcome] == "open"])]
    rows.sort(key=lambda u: (-u["days"], u["kind"], u["cluster_id"].lower(), u["pool_name"] or "", u["release"]))
    return rows


def _charts(period: Period) -> dict[str, str]:
    out = {}
    for kind, title in (("node_image", "Node images: days to adopt"), ("kubernetes_patch", "Kubernetes patches")):
        table = period.latency[kind]["updates"]
        outcome, days = table.columns.index("outcome"), table.columns.index("days")
        out[kind] = charts.latency_histogram(
            [r[days] for r in table.rows if r[outcome] == "adopted"],
            [r[days] for r in table.rows if r[outcome] == "open"],
            period.deadline_days,
            title,
        )
    labels = [s.started_at.strftime("%Y-%m-%d") for s in period.scans]
    out["compliance"] = charts.drift_compliance(labels, period.scores, period.fleet_scores)
    return out


def render_period_text(period: Period, medium: str, generated_at: datetime) -> str:
    """The period report as HTML text, for the browser ('html') or for WeasyPrint ('pdf')."""
    template = environment().get_template("period.html.j2")
    return template.render(
        period=period,
        data=period.figures(),
        medium=medium,
        charts=_charts(period),
        open_updates=_open_updates(period),
        open_rows=OPEN_ROWS,
        longest_rows=LONGEST_PER_CONTROL,
        queries=_query_files(),
        generated_at=generated_at,
        tool_version=__version__,
        css="\n".join((templates_dir() / name).read_text(encoding="utf-8") for name in ("report.css", "period.css")),
    )


def latency_csv(period: Period) -> str:
    """Every pending release of the period as CSV, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LATENCY_COLUMNS)
    for kind in ("node_image", "kubernetes_patch"):
        for update in period.latency[kind]["updates"]:
            row = {**update, "kind": kind}
            writer.writerow([neutralise_cell("" if row.get(c) is None else str(row[c])) for c in LATENCY_COLUMNS])
    return buffer.getvalue()


def write_period_reports(period: Period, formats: list[str], out_dir: Path) -> list[Path]:
    """Write the chosen formats (pdf, html, json, csv) of the period report; period.json always."""
    generated_at = datetime.now(UTC).replace(microsecond=0)
    figures = out_dir / PERIOD_JSON
    with figures.open("w", encoding="utf-8") as stream:  # written in pieces: hundreds of MB at 10,000 clusters
        period.write_json(stream)
    paths = []
    if "pdf" in formats:
        # Deferred for import cost: WeasyPrint (with its fonts and Pango bindings) loads only when a PDF is written.
        from weasyprint import HTML, Attachment

        files = {PERIOD_JSON: figures, POLICY_NAME: policy_bytes(period.policy)}
        attachments = [
            Attachment(
                **({"filename": str(content)} if isinstance(content, Path) else {"string": content}),
                name=name,
                description=PERIOD_ATTACHMENTS[name][1],
                relationship=PERIOD_ATTACHMENTS[name][0],
                created=generated_at,
                modified=generated_at,
            )
            for name, content in files.items()
        ]
        pdf = HTML(string=render_period_text(period, "pdf", generated_at), base_url=str(out_dir)).write_pdf(
            pdf_variant="pdf/a-3b", attachments=attachments
        )
        path = out_dir / PERIOD_PDF
        path.write_bytes(seal_pdf(pdf))
        paths.append(path)
    if "html" in formats:
        path = out_dir / PERIOD_HTML
        path.write_text(render_period_text(period, "html", generated_at), encoding="utf-8")
        paths.append(path)
    paths.append(figures)
    if "csv" in formats:
        path = out_dir / LATENCY_CSV
        path.write_text(latency_csv(period), encoding="utf-8")
        paths.append(path)
    return paths
