"""Nodes outside agent pools are said to be outside the evidence, and never pass an image control:
node auto-provisioning, and AKS Automatic's managed system node pools."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.controls import Finding, evaluate_scan
from auditor.policy import default_policy
from auditor.store import open_db
from tests.evidence import cluster, store_scan
from tests.library import write_reports

LATEST = {("eastus", "AKSUbuntu-2204gen2containerd"): "AKSUbuntu-2204gen2containerd-202611.10.0"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    nap = cluster("nap")
    nap["properties"]["nodeProvisioningProfile"] = {"mode": "Auto"}
    automatic = cluster("automatic")
    automatic["sku"] = {"name": "Automatic", "tier": "Standard"}
    automatic["properties"]["hostedSystemProfile"] = {"enabled": True}
    manual = cluster("manual")
    manual["properties"]["nodeProvisioningProfile"] = {"mode": "Manual"}
    manual["properties"]["hostedSystemProfile"] = {"enabled": False}
    path = tmp_path_factory.mktemp("unseen") / "store.duckdb"
    store_scan(path, [nap, automatic, manual], latest_images=LATEST)
    return path


def _findings(db: Path) -> list[Finding]:
    con = open_db(db, read_only=True)
    try:
        scan_id = con.execute("SELECT scan_id FROM scans").fetchone()[0]
        return evaluate_scan(con, scan_id, default_policy())
    finally:
        con.close()


def test_image_controls_do_not_pass_nodes_they_cannot_see(db: Path) -> None:
    found = {(f.control_id, f.cluster, f.node_pool): f for f in _findings(db)}
    for control in ("AKS-IMG-01", "AKS-IMG-02"):
        # The agent pools are judged as ever...
        assert found[(control, "nap", "system")].status == "pass"
        assert found[(control, "automatic", "system")].status == "pass"
        # ...and the nodes outside them are not passed.
        nap = found[(control, "nap", "(node auto-provisioning)")]
        assert nap.status == "unknown"
        assert "node auto-provisioning (Karpenter)" in nap.message and "not agent pools" in nap.message
        assert nap.evidence == "properties.nodeProvisioningProfile.mode=Auto"
        managed = found[(control, "automatic", "(managed system pool)")]
        assert managed.status == "not_applicable"
        assert "managed system node pool" in managed.message
    assert not [k for k in found if k[1] == "manual" and k[2] and k[2].startswith("(")]


def test_the_report_says_so_per_cluster(db: Path, tmp_path: Path) -> None:
    html = write_reports(db, "latest", None, ["html"], tmp_path)[0].read_text(encoding="utf-8")
    section = html[html.index('id="not-covered"') :]
    section = section[: section.index('id="queries"')]
    assert ">nap<" in section and "(node auto-provisioning)" in section
    assert ">automatic<" in section and "(managed system pool)" in section
    assert ">manual<" not in section
