"""HTML report: one self-contained file from the Jinja2 templates (also the source of the PDF)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from auditor.paths import templates_dir
from auditor.report import charts
from auditor.report.data import ReportData

# The PDF lists at most this many resources per control; CSV and HTML carry every one.
PDF_ROWS_PER_CONTROL = 50


def environment() -> Environment:
    """Jinja2 with autoescape on and undefined names an error."""
    return Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html_text(data: ReportData, medium: str) -> str:
    """The report as HTML text, for the browser ('html') or for WeasyPrint ('pdf')."""
    labels = [s.control.id for s in data.sections]
    chart_uris = {
        "status": charts.status_by_control(labels, [s.counts for s in data.sections]),
        "versions": charts.version_distribution(data.versions),
        "image_age": charts.image_age_histogram(data.image_ages, int(data.policy.thresholds["image_max_age_days"])),
    }
    template = environment().get_template("report.html.j2")
    return template.render(
        data=data,
        medium=medium,
        charts=chart_uris,
        row_limit=PDF_ROWS_PER_CONTROL if medium == "pdf" else None,
        css=(templates_dir() / "report.css").read_text(encoding="utf-8"),
    )


def render_html(data: ReportData, out_dir: Path) -> Path:
    """Write report.html."""
    path = out_dir / "report.html"
    path.write_text(render_html_text(data, "html"), encoding="utf-8")
    return path
