"""The report's Fleet Manager section, read back from the HTML and the PDF: strategies as stages, profiles, the
latest runs with stage timings, gates and who approved them; untrusted names escaped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader

from auditor.emulator.fleet_resources import GateOutcome, stage_config
from tests.evidence import store_scan
from tests.fleet_evidence import FleetBuilder, days_ago, done
from tests.library import write_reports
from tests.test_controls_fleet import ring_cluster

HOSTILE = '<script>alert("gate")</script>'


def test_fleet_section_in_html_and_pdf(tmp_path: Path) -> None:
    f = FleetBuilder("fleet-platform")
    clusters = [ring_cluster("rp-stg", "staging"), ring_cluster("rp-prd", "prod")]
    f.member("rp-stg", "staging").member("rp-prd", "prod")
    stages = [
        stage_config("non-prod", ["staging"], wait_seconds=7200),
        stage_config("prod", ["prod"], before_gates=[HOSTILE]),
    ]
    f.strategy("rings", stages)
    f.profile("stable", "Stable", strategy_id=f"{f.id}/updateStrategies/rings", last_triggered=days_ago(4),
              last_versions=["1.33.2"])  # fmt: skip
    t0 = days_ago(4)
    gate = GateOutcome(
        "prod", HOSTILE, state="Completed", start=t0 + timedelta(hours=3), end=t0 + timedelta(hours=3, minutes=20),
        approver="maria.garcia@contoso.example", name="gate-prod",
    )  # fmt: skip
    f.run(
        "k8s-1-33-2",
        stages,
        [done("rp-stg", "staging", t0), done("rp-prd", "prod", t0 + timedelta(hours=3, minutes=25))],
        gates=[gate],
    )
    db = tmp_path / "r.duckdb"
    scan_id = store_scan(db, clusters, extra_evidence=f.evidence())
    out = tmp_path / "out"
    write_reports(db, scan_id, None, ["html", "pdf"], out)
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html.split('id="fleet-manager"', 1)[1].split("</section>", 1)[0]
    assert "Strategy rings:" in section and "wait 2 h" in section
    assert "Update run k8s-1-33-2" in section and "Full 1.33.2" in section
    assert "maria.garcia@contoso.example" in section and "before stage prod" in section
    assert "<script>" not in section and "&lt;script&gt;" in section
    assert "stable" in section and "Consistent" in section
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out / "report.pdf").pages)
    assert "Fleet Manager" in text and "maria.garcia@contoso.example" in text
    assert "k8s-1-33-2" in text
