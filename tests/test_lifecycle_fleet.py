"""The emulator's fleets carry the lifecycle states (upgrade overrides, retired node OS releases and
pool types, blue-green pools, windows that start later or freeze for long), deterministically, and the monthly
evolution arms and disarms overrides with the resource changes that record it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.controls import evaluate_scan
from auditor.emulator.evolve import evolve_fleet
from auditor.emulator.generator import generate_fleet
from auditor.policy import default_policy
from auditor.store import EvidenceRow, ScanRecord, open_db, write_scan

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    return generate_fleet(clusters=600, subscriptions=6, seed=11, regions=4, as_of=AS_OF)


def _windows(fleet: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (config["name"], config["properties"]["maintenanceWindow"])
        for configs in fleet["maintenanceConfigurations"].values()
        for config in configs
        if "maintenanceWindow" in config["properties"]
    ]


def test_the_fleet_shows_every_lifecycle_state(fleet: dict[str, Any]) -> None:
    overrides = [
        c["properties"]["upgradeSettings"]["overrideSettings"]
        for c in fleet["managedClusters"]
        if "upgradeSettings" in c["properties"]
    ]
    assert overrides and all(o["forceUpgrade"] is True for o in overrides)
    untils = [datetime.fromisoformat(o["until"].replace("Z", "+00:00")) for o in overrides if "until" in o]
    assert any(u > AS_OF for u in untils) and any(u < AS_OF for u in untils)
    pools = [p for c in fleet["managedClusters"] for p in c["properties"]["agentPoolProfiles"]]
    kinds = Counter(p["type"] for p in pools)
    assert kinds["AvailabilitySet"] > 0
    assert any(
        p["osSKU"] == "WindowsAnnual" and p["nodeImageVersion"].startswith("AKSWindows-23H2-gen2-") for p in pools
    )
    blue_green = [p for p in pools if p.get("upgradeStrategy") == "BlueGreen"]
    assert blue_green and all(p["mode"] == "User" for p in blue_green)
    assert any(p["upgradeSettingsBlueGreen"]["finalSoakDurationInMinutes"] == 0 for p in blue_green)
    assert all("maxUnavailable" not in (p.get("upgradeSettings") or {}) for p in blue_green)
    windows = _windows(fleet)
    assert any(w["startDate"] > AS_OF.date().isoformat() for _, w in windows)
    assert any(
        (datetime.fromisoformat(span["end"]) - datetime.fromisoformat(span["start"])).days >= 30
        for _, w in windows
        for span in w.get("notAllowedDates", [])
    )
    # An override set within Resource Graph's 14 days comes with the change that set it.
    assert any(
        any(path.startswith("properties.upgradeSettings.overrideSettings") for path in row["properties"]["changes"])
        for row in fleet["resourceChanges"]
    )


def test_same_seed_same_quirks() -> None:
    first = generate_fleet(clusters=120, subscriptions=3, seed=3, regions=2, as_of=AS_OF)
    second = generate_fleet(clusters=120, subscriptions=3, seed=3, regions=2, as_of=AS_OF)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_the_new_controls_find_passes_and_failures_in_a_generated_fleet(fleet: dict[str, Any], tmp_path: Path) -> None:
    evidence = []
    for body in fleet["managedClusters"]:
        row = dict(body, type=body["type"].lower(), resourceGroup=body["id"].split("/")[4])
        row["subscriptionId"] = body["id"].split("/")[2]
        evidence.append(EvidenceRow("cluster", body["id"], "POST resources", row))
        configs = fleet["maintenanceConfigurations"].get(body["id"].lower(), [])
        evidence.append(EvidenceRow("maintenance_configurations", body["id"], "GET", {"value": configs}))
    for row in fleet["resourceChanges"]:
        evidence.append(EvidenceRow("resource_change", row["id"], "POST resources", row))
    record = ScanRecord(
        scan_id="generated",
        started_at=AS_OF,
        finished_at=AS_OF,
        tool_version="test",
        cloud="AzureCloud",
        endpoint="https://test",
        scope={},
        stats={"calls": {}},
        evidence=evidence,
        errors=[],
    )
    con = open_db(tmp_path / "g.duckdb", create=True)
    try:
        write_scan(con, record)
        findings = evaluate_scan(con, "generated", default_policy())
    finally:
        con.close()
    seen: dict[str, Counter[str]] = {}
    for f in findings:
        seen.setdefault(f.control_id, Counter())[f.status] += 1
    for control_id in ("AKS-OVR-01", "AKS-OS-01", "AKS-UPG-01", "AKS-WIN-03"):
        assert seen[control_id]["pass"] > 0 and seen[control_id]["fail"] > 0, (control_id, seen[control_id])
    assert seen["AKS-OVR-01"]["warn"] > 0 and seen["AKS-UPG-01"]["not_applicable"] > 0
    assert seen["AKS-SRG-01"]["not_applicable"] > 0  # blue-green pools


def test_evolution_arms_and_disarms_overrides() -> None:
    base = generate_fleet(clusters=300, subscriptions=3, seed=21, regions=2, as_of=datetime(2026, 6, 24, tzinfo=UTC))
    months = [snapshot for _, snapshot in evolve_fleet(base, months=6, seed=21)]
    again = [snapshot for _, snapshot in evolve_fleet(base, months=6, seed=21)]
    assert json.dumps(months, sort_keys=True) == json.dumps(again, sort_keys=True)
    paths = Counter(
        (path, str(change["newValue"]))
        for snapshot in months[1:]
        for row in snapshot["resourceChanges"]
        for path, change in (row["properties"].get("changes") or {}).items()
        if path.startswith("properties.upgradeSettings.overrideSettings.forceUpgrade")
    )
    assert paths[("properties.upgradeSettings.overrideSettings.forceUpgrade", "True")] > 0
    assert paths[("properties.upgradeSettings.overrideSettings.forceUpgrade", "False")] > 0
    vmas = [
        sum(p["type"] == "AvailabilitySet" for c in m["managedClusters"] for p in c["properties"]["agentPoolProfiles"])
        for m in months
    ]
    assert vmas[0] > 0 and vmas[-1] < vmas[0]  # Availability Set clusters migrate away over the months
