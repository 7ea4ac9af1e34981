"""Fleet Manager evidence through the real SDK clients (Resource Graph and azure-mgmt-containerservicefleet) over
HTTPS against the emulator: what is collected, with the fewest calls, and what a failure leaves behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservicefleet import ContainerServiceFleetMgmtClient

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.limiter import Limiter, LimiterSettings
from auditor.controls import evaluate_scan
from auditor.emulator.fleet import Fleet, FleetError
from auditor.emulator.server import EmulatorServer
from auditor.model import Model
from auditor.policy import default_policy
from auditor.store import open_db, write_scan
from tests.emulated import SUB2, arm_cluster, small_fleet
from tests.evidence import SUB
from tests.fleet_evidence import RINGS, FleetBuilder, approved, days_ago, done, merge_blocks

TOKEN = "fleet-test-token"  # noqa: S105


def fleets() -> list[FleetBuilder]:
    platform = FleetBuilder("platform")
    platform.member("fl-stg", "staging").member("fl-prd", "prod")
    strategy = platform.strategy("rings", RINGS)
    platform.profile("stable", "Stable", strategy_id=strategy, last_triggered=days_ago(6), last_versions=["1.33.2"])
    t0 = days_ago(5)
    platform.run(
        "k8s-1-33-2",
        RINGS,
        [done("fl-stg", "staging", t0), done("fl-prd", "prod", t0 + timedelta(hours=5))],
        gates=[approved("prod", t0 + timedelta(hours=4, minutes=55), by="alice@contoso.example", name="gate-1")],
    )
    other = FleetBuilder("other-sub", sub=SUB2)
    return [platform, other]


def emulated_fleet() -> dict[str, Any]:
    data = small_fleet(
        [
            arm_cluster("fl-stg", tags={"environment": "staging"}, channel=None, node_os="None"),
            arm_cluster("fl-prd", tags={"environment": "prod"}, channel=None, node_os="None"),
        ]
    )
    data["fleetManager"] = merge_blocks(*fleets())
    return data


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    with EmulatorServer(emulated_fleet(), state_dir=tmp_path_factory.mktemp("emu")) as server:
        yield server


def clients_for(server: EmulatorServer) -> AzureClients:
    return AzureClients(StaticTokenCredential(TOKEN), endpoint=server.endpoint, ca_bundle=str(server.ca_file))


def limiter() -> Limiter:
    return Limiter(LimiterSettings(max_attempts=2, backoff_base_s=0.01, backoff_cap_s=0.02, max_retry_after_s=0.05))


def scan(db: Path, server: EmulatorServer, **options: Any) -> tuple[str, dict[str, Any]]:
    record = run_scan(clients_for(server), ScanOptions(**options), limiter=limiter())
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id, record.stats


def test_scan_collects_fleet_evidence_with_two_queries_and_one_call_per_fleet(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.reset_counters()
    db = tmp_path / "f.duckdb"
    scan_id, stats = scan(db, emulator)
    con = open_db(db)
    try:
        kinds = dict(
            con.execute("SELECT kind, count(*) FROM evidence WHERE scan_id = ? GROUP BY kind", [scan_id]).fetchall()
        )
        gates = con.execute(
            "SELECT payload->'$.value' FROM evidence WHERE kind = 'fleet_gates' AND scope LIKE '%/platform'"
        ).fetchone()[0]
        run_row = con.execute("SELECT payload FROM evidence WHERE kind = 'fleet_update_run'").fetchone()[0]
        findings = {(f.control_id, f.cluster): f for f in evaluate_scan(con, scan_id, default_policy())}
    finally:
        con.close()
    assert kinds["fleet"] == 2
    assert kinds["fleet_member"] == 2 and kinds["fleet_update_strategy"] == 1 and kinds["fleet_update_run"] == 1
    assert kinds["fleet_auto_upgrade_profile"] == 1 and kinds["fleet_gate"] == 1 and kinds["fleet_gates"] == 2
    # Resource Graph: one query for the fleets, one for their child resources; ARM: one gates list per fleet.
    assert (
        stats["calls"]["fleet"] == 1 and stats["calls"]["fleet_resources"] == 1 and stats["calls"]["fleet_gates"] == 2
    )
    assert emulator.counters()["fleets"] == 2
    # Resource Graph rows carry no systemData; the ARM gate list has who approved.
    assert "systemData" not in run_row
    assert '"lastModifiedBy":"alice@contoso.example"' in gates.replace(" ", "")
    assert findings[("AKS-FLT-01", "platform")].status == "pass", findings[("AKS-FLT-01", "platform")].message
    assert findings[("AKS-FLT-01", "other-sub")].status == "not_applicable"
    assert findings[("AKS-FLT-02", "fl-prd")].status == "pass", findings[("AKS-FLT-02", "fl-prd")].message


def test_fleet_sdk_reads_every_resource_from_the_emulator(emulator: EmulatorServer) -> None:
    """The emulator's ARM reads deserialise into the SDK's models: the shapes are the API's."""
    client = ContainerServiceFleetMgmtClient(
        StaticTokenCredential(TOKEN),
        SUB,
        base_url=emulator.endpoint,
        connection_verify=str(emulator.ca_file),
        credential_scopes=["https://management.azure.com/.default"],
    )
    listed = list(client.fleets.list_by_subscription())
    assert [f.name for f in listed] == ["platform"]
    fleet = client.fleets.get("rg-fleet", "platform")
    assert fleet.location == "eastus"
    members = list(client.fleet_members.list_by_fleet("rg-fleet", "platform"))
    assert {m.properties.group for m in members} == {"staging", "prod"}
    run = client.update_runs.get("rg-fleet", "platform", "k8s-1-33-2")
    assert run.properties.status.status.state == "Completed"
    prod = run.properties.status.stages[1]
    assert prod.name == "prod" and prod.before_gates[0].status.state == "Completed"
    assert [m.status.state for m in prod.groups[0].members] == ["Completed"]
    assert run.properties.managed_cluster_update.upgrade.kubernetes_version == "1.33.2"
    strategy = client.fleet_update_strategies.get("rg-fleet", "platform", "rings")
    assert strategy.properties.strategy.stages[0].after_stage_wait_in_seconds == 3600
    profile = next(iter(client.auto_upgrade_profiles.list_by_fleet("rg-fleet", "platform")))
    assert profile.properties.channel == "Stable" and profile.properties.auto_upgrade_profile_status.last_trigger_status
    gate = client.gates.get("rg-fleet", "platform", "gate-1")
    assert gate.properties.state == "Completed" and gate.system_data.last_modified_by == "alice@contoso.example"
    with pytest.raises(HttpResponseError) as missing:
        client.update_runs.get("rg-fleet", "platform", "nope")
    assert missing.value.status_code == 404
    # Read only: approving a gate is a write, and the emulator refuses it.
    with pytest.raises(HttpResponseError) as refused:
        client.update_runs.begin_stop("rg-fleet", "platform", "k8s-1-33-2").result()
    assert refused.value.status_code == 405


def test_a_failing_gates_list_is_a_collection_error(tmp_path: Path) -> None:
    """The gates list keeps failing: a collection_errors row per fleet, the scan partial; the runs are still judged
    (gate states come from Resource Graph), only the approvers are unknown."""
    with EmulatorServer(emulated_fleet(), fault_kinds=["fleets"], server_error_rate=1.0) as server:
        scan_id, _ = scan(tmp_path / "x.duckdb", server)
    con = open_db(tmp_path / "x.duckdb")
    try:
        errors = con.execute("SELECT call, status FROM collection_errors WHERE scan_id = ?", [scan_id]).fetchall()
        status = con.execute("SELECT status FROM scans WHERE scan_id = ?", [scan_id]).fetchone()[0]
        findings = {(f.control_id, f.cluster): f for f in evaluate_scan(con, scan_id, default_policy())}
        with Model(con, scan_id, default_policy()) as model:
            approvers = model.cursor.execute("SELECT approved_by, gate_source FROM fleet_run_gates").fetchall()
    finally:
        con.close()
    assert status == "partial"
    assert len(errors) == 2 and all(call == "fleet_gates" and code in (500, 503) for call, code in errors)
    assert findings[("AKS-FLT-01", "platform")].status == "pass"
    assert approvers == [(None, "resource_graph")]


def test_the_fleet_file_is_validated() -> None:
    data = emulated_fleet()
    data["fleetManager"]["updateRuns"][0]["id"] = (
        "/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerService/fleets/ghost/updateRuns/r"
    )
    with pytest.raises(FleetError, match="belongs to no fleet"):
        Fleet(data)
    data = emulated_fleet()
    data["fleetManager"]["gates"][0]["type"] = "Microsoft.ContainerService/fleets/things"
    with pytest.raises(FleetError, match="not Microsoft.ContainerService/fleets/gates"):
        Fleet(data)
