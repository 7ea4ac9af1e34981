"""PDF report: the HTML report rendered by WeasyPrint (not a second document tree)."""

from __future__ import annotations

from pathlib import Path

from auditor.report.data import ReportData
from auditor.report.html import render_html_text


def render_pdf(data: ReportData, out_dir: Path) -> Path:
    """Write report.pdf."""
    from weasyprint import HTML

    path = out_dir / "report.pdf"
    HTML(string=render_html_text(data, "pdf"), base_url=str(out_dir)).write_pdf(str(path))
    return path
