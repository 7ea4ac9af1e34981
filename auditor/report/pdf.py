"""PDF report: the HTML report rendered by WeasyPrint (not a second document tree), as PDF/A-3b.

PDF/A-3 (ISO 19005-3) is the archival profile that allows embedded files: the report carries its findings,
its manifest and its policy (auditor/report/package.py), each with an AFRelationship, and is sealed
(auditor/integrity.py) so that `auditor verify --pdf` can check it with nothing else but the database.
"""

from __future__ import annotations

from pathlib import Path

from auditor.integrity import seal_pdf
from auditor.report.data import ReportData
from auditor.report.html import render_html_text
from auditor.report.package import ATTACHMENTS, package_for

PDF_VARIANT = "pdf/a-3b"


def render_pdf(data: ReportData, out_dir: Path) -> Path:
    """Write report.pdf: PDF/A-3b with its evidence attached, sealed."""
    # Deferred for import cost: WeasyPrint (with its fonts and Pango bindings) loads only when a PDF is written.
    from weasyprint import HTML, Attachment

    files = package_for(data)
    attachments = [
        Attachment(
            string=content,
            name=name,
            description=ATTACHMENTS[name][1],
            relationship=ATTACHMENTS[name][0],
            created=data.generated_at,
            modified=data.generated_at,
        )
        for name, content in files.items()
    ]
    pdf = HTML(string=render_html_text(data, "pdf"), base_url=str(out_dir)).write_pdf(
        pdf_variant=PDF_VARIANT, attachments=attachments
    )
    path = out_dir / "report.pdf"
    path.write_bytes(seal_pdf(pdf))
    return path
