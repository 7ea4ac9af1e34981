"""Render pages of the auditor's PDFs to PNG for the README: what an auditor receives.

    make screenshots                                    # the current demo -> docs/images/
    .venv/bin/python scripts/render_pages.py            # the same
    .venv/bin/python scripts/render_pages.py --sample   # a 240-cluster sample fleet under the sample policy
    .venv/bin/python scripts/render_pages.py --pdf output/report.pdf --out /tmp/pages

By default `auditor demo` runs into a temporary directory (six monthly scans of the synthetic fleet) and its
report.pdf and period-report.pdf are rasterised. Pages are picked by the PDFs' bookmarks, so the images follow
the reports' layout: cover, executive summary, its charts, the first control section, the drift section, the
evidence-integrity appendix, and the period report's summary and patch latency. Needs poppler's pdftoppm.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# image name -> bookmark title whose page it shows (None: the cover, page 1), per PDF
PAGES: dict[str, str | None] = {
    "report-cover.png": None,
    "report-summary.png": "Executive summary",
    "report-charts.png": "Charts",
    "report-control.png": "Results by control",
    "report-drift.png": "Drift across scans",
    "report-integrity.png": "Appendix B: evidence integrity",
}
PERIOD_PAGES: dict[str, str | None] = {
    "period-summary.png": "Summary",
    "period-latency.png": "Patch latency",
    "period-compliance.png": "Compliance over the period",
}


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_pdf(work: Path, clusters: int) -> Path:
    """Report a synthetic fleet under the sample policy; return the PDF."""
    from auditor import api

    bench = _bench()
    db = work / "sample.duckdb"
    scan_id = bench.build_fleet(db, clusters, subscriptions=8)
    (work / "policy.toml").write_text(bench.SAMPLE_POLICY, encoding="utf-8")
    previous = Path.cwd()
    os.chdir(work)  # the cover names the policy as given: "policy.toml", not a temporary path
    try:
        with api.open(db) as store:
            store.report(store.resolve(scan_id), api.load_policy(Path("policy.toml")), ["pdf"], work / "out")
    finally:
        os.chdir(previous)
    return work / "out" / "report.pdf"


def demo_pdfs(work: Path) -> tuple[Path, Path]:
    """Run the demo (its defaults) into work/; return its report.pdf and period-report.pdf."""
    from auditor.demo import run

    out = work / "demo"
    run(out, clusters=60, subscriptions=6, seed=7, formats=("pdf",))
    return out / "report.pdf", out / "period-report.pdf"


def bookmark_pages(pdf: Path) -> dict[str, int]:
    """Bookmark title -> 1-based page number (the first bookmark of a title wins)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    pages: dict[str, int] = {}

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                number = reader.get_destination_page_number(item)
                if number is not None:
                    pages.setdefault(str(item.title), number + 1)

    walk(reader.outline)
    return pages


def render(pdf: Path, out_dir: Path, dpi: int, pages: dict[str, str | None] = PAGES) -> list[Path]:
    """One PNG per entry of `pages`, palette-reduced to keep the README light."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm (poppler-utils) is needed to rasterise the PDF")
    out_dir.mkdir(parents=True, exist_ok=True)
    marks = bookmark_pages(pdf)
    written = []
    for name, title in pages.items():
        page = 1 if title is None else marks.get(title)
        if page is None:
            print(f"skipped {name}: no bookmark '{title}'", file=sys.stderr)
            continue
        target = out_dir / name
        stem = target.with_suffix("")
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(stem),
            ],
            check=True,
        )
        image = Image.open(target).convert("RGB")
        image.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        written.append(target)
        print(f"{target} (page {page})")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", type=Path, default=None, help="an existing report.pdf (default: the demo's)")
    parser.add_argument("--sample", action="store_true", help="a sample fleet under the sample policy instead")
    parser.add_argument("--clusters", type=int, default=240, help="sample fleet size (with --sample)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()
    if args.pdf:
        render(args.pdf, args.out, args.dpi)
        return
    with tempfile.TemporaryDirectory(prefix="auditor-pages-") as tmp:
        if args.sample:
            render(sample_pdf(Path(tmp), args.clusters), args.out, args.dpi)
            return
        report, period = demo_pdfs(Path(tmp))
        render(report, args.out, args.dpi)
        render(period, args.out, args.dpi, PERIOD_PAGES)


if __name__ == "__main__":
    main()
