"""AKS-VER-01, AKS-IMG-01 and AKS-CHN-01 against a real DuckDB, pass and fail and unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.controls import Finding, evaluate_scan
from auditor.policy import default_policy
from auditor.store import ErrorRow, open_db
from tests.evidence import cluster, pool, store_scan


def _evaluate(db: Path, scan_id: str) -> dict[tuple[str, str, str | None], Finding]:
    con = open_db(db)
    try:
        findings = evaluate_scan(con, scan_id, default_policy())
    finally:
        con.close()
    return {(f.control_id, f.cluster, f.node_pool): f for f in findings}


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "a.duckdb"


def test_ver01_supported_unsupported_and_lts(db: Path) -> None:
    scan_id = store_scan(
        db,
        [
            cluster("ok", version="1.33.2"),
            cluster("old", version="1.28.5"),
            cluster("lts-premium", version="1.30.9", tier="Premium", support_plan="AKSLongTermSupport"),
            cluster("lts-standard", version="1.30.9", tier="Standard", support_plan="KubernetesOfficial"),
        ],
    )
    got = _evaluate(db, scan_id)
    assert got[("AKS-VER-01", "ok", None)].status == "pass"
    old = got[("AKS-VER-01", "old", None)]
    assert old.status == "fail" and "1.28.5" in old.message and "1.32" in old.message
    assert old.remediation == "az aks upgrade -g rg1 -n old --kubernetes-version 1.32"
    assert got[("AKS-VER-01", "lts-premium", None)].status == "pass"
    lts = got[("AKS-VER-01", "lts-standard", None)]
    assert lts.status == "fail" and "Premium" in lts.message


def test_ver01_uses_current_version_not_alias(db: Path) -> None:
    row = cluster("alias", version="1.33.2")
    row["properties"]["kubernetesVersion"] = "1.28"  # an alias that differs from what runs
    scan_id = store_scan(db, [row])
    assert _evaluate(db, scan_id)[("AKS-VER-01", "alias", None)].status == "pass"


def test_ver01_unknown_when_versions_lost_to_403(db: Path) -> None:
    error = ErrorRow("kubernetes_versions", "eastus", 403, "AuthorizationFailed", "no read access")
    scan_id = store_scan(db, [cluster("blind")], errors=[error])
    finding = _evaluate(db, scan_id)[("AKS-VER-01", "blind", None)]
    assert finding.status == "unknown" and "no read access" in finding.message


def test_img01_age_limits_and_unparseable(db: Path) -> None:
    scan_id = store_scan(
        db,
        [
            cluster(
                "c",
                pools=[
                    pool("fresh", image="AKSUbuntu-2204gen2containerd-202611.10.0"),
                    pool("stale", image="AKSUbuntu-2204gen2containerd-202607.01.0", mode="User"),
                    pool("win", image="AKSWindows-2022-containerd-20348.3207.261101", os_type="Windows", mode="User"),
                    pool("odd", image="custom-image-latest", mode="User"),
                ],
            )
        ],
    )
    got = _evaluate(db, scan_id)
    assert got[("AKS-IMG-01", "c", "fresh")].status == "pass"
    stale = got[("AKS-IMG-01", "c", "stale")]
    assert stale.status == "fail" and "146 days" in stale.message
    assert stale.remediation == "az aks nodepool upgrade -g rg1 --cluster-name c -n stale --node-image-only"
    assert got[("AKS-IMG-01", "c", "win")].status == "pass"
    odd = got[("AKS-IMG-01", "c", "odd")]
    assert odd.status == "unknown" and "custom-image-latest" in odd.message


def test_chn01_channels(db: Path) -> None:
    scan_id = store_scan(
        db,
        [
            cluster("stable", channel="stable"),
            cluster("missing", channel=None, node_os=None),
            cluster("none", channel="none"),
            cluster("nodeimage", channel="node-image"),
            cluster("upper", channel="Patch"),
        ],
    )
    got = _evaluate(db, scan_id)
    assert got[("AKS-CHN-01", "stable", None)].status == "pass"
    assert got[("AKS-CHN-01", "missing", None)].status == "fail"
    assert "service default none" in got[("AKS-CHN-01", "missing", None)].message
    assert got[("AKS-CHN-01", "none", None)].status == "fail"
    assert got[("AKS-CHN-01", "nodeimage", None)].status == "warn"
    assert got[("AKS-CHN-01", "upper", None)].status == "pass"


def test_stopped_cluster_is_still_evaluated_and_says_so(db: Path) -> None:
    scan_id = store_scan(db, [cluster("sleepy", channel="none", power="Stopped")])
    finding = _evaluate(db, scan_id)[("AKS-CHN-01", "sleepy", None)]
    assert finding.status == "fail" and "stopped" in finding.message
