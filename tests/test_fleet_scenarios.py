"""Generated Fleet Manager: deterministic fleets with strategies, profiles and update runs that really upgrade their
members — clean runs, out-of-order runs, a run completed with a failed member, a member with its own channel — and
the controls find each of them through a real scan of the emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.controls import Finding, evaluate_scan
from auditor.emulator.evolve import evolve_fleet
from auditor.emulator.fleet import Fleet
from auditor.emulator.generator import generate_fleet
from auditor.emulator.server import EmulatorServer
from auditor.policy import default_policy
from auditor.store import open_db, write_scan

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    return generate_fleet(clusters=60, subscriptions=4, seed=3, as_of=AS_OF)


def runs_of(fleet: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in fleet["fleetManager"]["updateRuns"] if f"/fleets/{name}/" in r["id"]]


def test_generation_is_deterministic(fleet: dict[str, Any]) -> None:
    again = generate_fleet(clusters=60, subscriptions=4, seed=3, as_of=AS_OF)
    assert json.dumps(fleet["fleetManager"], sort_keys=True) == json.dumps(again["fleetManager"], sort_keys=True)
    other = generate_fleet(clusters=60, subscriptions=4, seed=4, as_of=AS_OF)
    assert json.dumps(fleet["fleetManager"], sort_keys=True) != json.dumps(other.get("fleetManager"), sort_keys=True)


def test_generated_fleets_strategies_profiles_and_runs(fleet: dict[str, Any]) -> None:
    block = fleet["fleetManager"]
    Fleet(fleet)  # validates the block
    assert sorted(f["name"] for f in block["fleets"]) == ["fleet-platform", "fleet-web"]
    strategies = {s["name"]: s["properties"]["strategy"]["stages"] for s in block["updateStrategies"]}
    assert [s["name"] for s in strategies["rings"]] == ["non-prod", "prod"]
    assert strategies["rings"][1]["beforeGates"][0]["type"] == "Approval"
    assert len(strategies["all-at-once"]) == 1 and "beforeGates" not in strategies["all-at-once"][0]
    profiles = {p["name"]: p["properties"] for p in block["autoUpgradeProfiles"]}
    assert profiles["stable"]["channel"] == "Stable" and profiles["node-image"]["channel"] == "NodeImage"
    assert profiles["lts-paused"]["disabled"] is True
    assert profiles["stable"].get("autoUpgradeProfileStatus", {}).get("lastTriggerStatus") == "Succeeded"
    # One run completed with a failed member; every gate approved by someone.
    platform = runs_of(fleet, "fleet-platform")
    completed_with_failure = [
        r for r in platform
        if r["properties"]["status"]["status"]["state"] == "Completed" and r["properties"]["status"]["failureCount"]
    ]  # fmt: skip
    assert len(completed_with_failure) == 1
    assert all(
        g["properties"]["state"] == "Completed" and "@" in g["systemData"]["lastModifiedBy"] for g in block["gates"]
    )
    # One production member kept its own channel; the others left upgrades to Fleet.
    members = {m["properties"]["clusterResourceId"].lower() for m in block["members"] if "/fleet-platform/" in m["id"]}
    channels = sorted(
        c["properties"]["autoUpgradeProfile"]["upgradeChannel"]
        for c in fleet["managedClusters"]
        if c["id"].lower() in members
    )
    assert channels.count("stable") == 1 and set(channels) == {"none", "stable"}


def test_member_clusters_agree_with_their_runs(fleet: dict[str, Any]) -> None:
    """Completed members run the run's version; their resource changes fall inside the member's window."""
    clusters = {c["id"].lower(): c for c in fleet["managedClusters"]}
    changes: dict[str, list[str]] = {}
    for row in fleet["resourceChanges"]:
        changes.setdefault(row["properties"]["targetResourceId"].lower(), []).append(
            row["properties"]["changeAttributes"]["timestamp"]
        )
    checked = 0
    for run in fleet["fleetManager"]["updateRuns"]:
        target = run["properties"]["managedClusterUpdate"]["upgrade"].get("kubernetesVersion")
        for stage in run["properties"]["status"]["stages"]:
            for group in stage["groups"]:
                for member in group["members"]:
                    if member["status"]["state"] != "Completed":
                        continue
                    cluster = clusters[member["clusterResourceId"].lower()]
                    if target:
                        assert cluster["properties"]["currentKubernetesVersion"] >= target
                    start, end = member["status"]["startTime"][:19], member["status"]["completedTime"][:19]
                    assert any(start <= t[:19] <= end for t in changes[member["clusterResourceId"].lower()])
                    checked += 1
    assert checked >= 5


def test_evolution_runs_fleet_manager_every_month(fleet: dict[str, Any]) -> None:
    base = generate_fleet(clusters=60, subscriptions=4, seed=3, as_of=datetime(2026, 7, 24, tzinfo=UTC))
    snapshots = evolve_fleet(base, 3, 3)
    counts = [len(s["fleetManager"]["updateRuns"]) for _, s in snapshots]
    assert counts[0] < counts[1] < counts[2]
    for _, snapshot in snapshots:
        Fleet(snapshot)


def _scan(fleet: dict[str, Any], db: Path) -> str:
    with EmulatorServer(fleet) as server:
        clients = AzureClients(StaticTokenCredential("t"), endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        record = run_scan(clients, ScanOptions())
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id


def test_the_controls_find_the_generated_situations(fleet: dict[str, Any], tmp_path: Path) -> None:
    scan_id = _scan(fleet, tmp_path / "g.duckdb")
    con = open_db(tmp_path / "g.duckdb")
    try:
        findings: list[Finding] = evaluate_scan(con, scan_id, default_policy())
    finally:
        con.close()
    by_fleet = {f.cluster: f for f in findings if f.control_id == "AKS-FLT-01"}
    # platform: clean Kubernetes runs, but the node-image run completed with a failed member.
    assert by_fleet["fleet-platform"].status == "fail"
    assert "reported Completed although member(s) failed" in by_fleet["fleet-platform"].message
    # web: production and staging in one stage, no gate.
    assert by_fleet["fleet-web"].status == "fail"
    assert "in parallel, not first" in by_fleet["fleet-web"].message
    authority = [f for f in findings if f.control_id == "AKS-FLT-02"]
    assert sum(f.status == "fail" for f in authority) == 1  # the member that kept its own channel
    assert sum(f.status == "pass" for f in authority) >= 5
