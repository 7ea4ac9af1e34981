"""Report renderers: one per output format, all with the signature (ReportData, out_dir) -> Path."""

from collections.abc import Callable
from pathlib import Path

from auditor.report.data import ReportData, build_report
from auditor.report.html import render_html
from auditor.report.pdf import render_pdf
from auditor.report.tabular import render_csv, render_json

Renderer = Callable[[ReportData, Path], Path]

RENDERERS: dict[str, Renderer] = {
    "pdf": render_pdf,
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
}

__all__ = ["RENDERERS", "ReportData", "Renderer", "build_report"]
