"""The shared vocabulary: status and severity order, ids, version keys, the score, UTC timestamps."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from auditor.errors import InputError
from auditor.vocabulary import ArmId, ControlId, Level, Severity, Status, iso_utc, score, version_key

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "findings.schema.json").read_text(encoding="utf-8"))["$defs"]["finding"]
CLUSTER = (
    "/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/resourceGroups/RG-Prod"
    "/providers/Microsoft.ContainerService/managedClusters/aks-1"
)


def test_status_and_severity_values_are_the_public_contract_in_column_order() -> None:
    assert [s.value for s in Status] == SCHEMA["properties"]["status"]["enum"]
    assert [s.value for s in Severity] == SCHEMA["properties"]["severity"]["enum"]
    assert [level.value for level in Level] == ["cluster", "pool", "fleet", "subscription"]


def test_status_seriousness_order() -> None:
    assert [s.value for s in Status.by_seriousness()] == ["fail", "unknown", "warn", "waived", "pass", "not_applicable"]
    assert Status.FAIL > Status.UNKNOWN > Status.WARN > Status.WAIVED > Status.PASS > Status.NOT_APPLICABLE
    assert max([Status.PASS, Status.WARN, Status.UNKNOWN]) is Status.UNKNOWN
    assert sorted([Status.PASS, Status.FAIL, Status.WARN]) == [Status.PASS, Status.WARN, Status.FAIL]


def test_severity_rank_weight_and_order() -> None:
    assert [(s.value, s.rank, s.weight) for s in Severity] == [
        ("info", 0, 1),
        ("low", 1, 2),
        ("medium", 2, 4),
        ("high", 3, 8),
        ("critical", 4, 16),
    ]
    assert Severity.HIGH >= Severity.MEDIUM and not Severity.LOW >= Severity.MEDIUM
    assert Severity.by_seriousness()[0] is Severity.CRITICAL


def test_enums_are_plain_strings_to_json_csv_and_dict_lookups() -> None:
    text = json.dumps({"status": Status.WAIVED, "severity": Severity.HIGH})
    assert text == '{"status": "waived", "severity": "high"}'
    out = io.StringIO()
    csv.writer(out).writerow([Status.NOT_APPLICABLE, Severity.CRITICAL])
    assert out.getvalue() == "not_applicable,critical\r\n"
    assert {"fail": 3}[Status.FAIL] == 3 and Status("fail") is Status.FAIL and f"{Status.FAIL}" == "fail"


def test_ordering_against_plain_strings_or_the_other_enum_is_refused() -> None:
    with pytest.raises(TypeError):
        assert Severity.HIGH < "low"  # type: ignore[operator]
    with pytest.raises(TypeError):
        assert Status.FAIL > Severity.LOW  # type: ignore[operator]


def test_parse_is_case_insensitive_and_a_typo_is_a_usage_error_listing_the_values() -> None:
    assert Severity.parse(" High ") is Severity.HIGH
    assert Status.parse("NOT_APPLICABLE") is Status.NOT_APPLICABLE
    with pytest.raises(InputError, match=r"unknown severity 'hihg' \(valid: info, low, medium, high, critical\)"):
        Severity.parse("hihg")


def test_control_ids() -> None:
    assert ControlId.parse("AKS-VER-01") == ControlId("VER", 1)
    assert str(ControlId.parse("AKS-OS-01")) == "AKS-OS-01"
    assert sorted(map(ControlId.parse, ["AKS-WIN-02", "AKS-IMG-01", "AKS-WIN-01"]))[0] == ControlId("IMG", 1)
    for bad in ("AKS-VER-1", "aks-ver-01", "AKS-VERS-01", "AKS-V-01", " AKS-VER-01", "AKS-VER-01x"):
        assert not ControlId.is_valid(bad)
        with pytest.raises(ValueError, match="not a control id"):
            ControlId.parse(bad)


def test_every_catalog_file_is_named_by_a_valid_control_id() -> None:
    names = sorted(p.stem for p in (ROOT / "queries" / "controls").glob("*.toml"))
    assert names and all(str(ControlId.parse(name)) == name for name in names)


def test_arm_ids() -> None:
    cluster = ArmId.parse(CLUSTER)
    assert cluster.subscription_id == "0b1f6471-1bf0-4dda-aec3-cb9272f09590"  # Resource Graph's form
    assert (cluster.resource_group, cluster.name) == ("RG-Prod", "aks-1")
    assert cluster.provider == "Microsoft.ContainerService"
    assert cluster.is_managed_cluster and cluster.get("MANAGEDCLUSTERS") == "aks-1"

    pool = ArmId.parse(CLUSTER.lower() + "/agentPools/system/")
    assert (pool.name, pool.get("managedclusters"), pool.get("agentpools")) == ("system", "aks-1", "system")
    assert not pool.is_managed_cluster and pool.get("nodes") == ""

    subscription = ArmId.parse("/subscriptions/abc")
    assert (subscription.subscription_id, subscription.resource_group, subscription.name) == ("abc", "", "abc")
    other = ArmId.parse("/subscriptions/abc/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm")
    assert not other.is_managed_cluster
    for bad in ("", "/", "aks-1", "/resourceGroups/rg", "/subscriptions/", "subscription/abc"):
        with pytest.raises(ValueError, match="not an Azure resource id"):
            ArmId.parse(bad)


def test_version_key_sorts_kubernetes_versions() -> None:
    assert version_key("1.33.2") == (1, 33, 2)
    assert version_key("v1.30") == (1, 30, -1)
    assert version_key("1.29.0-preview") == (1, 29, 0)
    assert version_key("latest") == (-1, -1, -1)
    given = ["1.9.0", "1.33.10", "1.33", "1.33.0", "1.33.2", "1.28.15"]
    assert sorted(given, key=version_key) == ["1.9.0", "1.28.15", "1.33", "1.33.0", "1.33.2", "1.33.10"]


def test_score() -> None:
    assert score({}) is None
    assert score({"not_applicable": 4}) is None
    assert score({"pass": 3, "waived": 1}) == 100.0
    assert score({"pass": 1, "fail": 1, "warn": 1}) == 33.3  # warn and unknown count against
    assert score({Status.PASS: 2, Status.UNKNOWN: 1, Status.NOT_APPLICABLE: 9}) == 66.7


def test_iso_utc() -> None:
    moment = datetime(2025, 3, 1, 4, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(moment) == "2025-03-01T02:30:15.250000Z"
    assert iso_utc(moment, timespec="seconds") == "2025-03-01T02:30:15Z"
    assert iso_utc(datetime(2025, 3, 1, 2, 0)) == "2025-03-01T02:00:00Z"  # naive means UTC, not local time
    assert iso_utc(datetime(2025, 3, 1, tzinfo=UTC)) == "2025-03-01T00:00:00Z"
