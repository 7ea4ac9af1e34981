"""Malformed payloads served by the emulator through the real SDK: a null Resource Graph row, rows without id or
subscriptionId, lone surrogate escapes, error bodies that are not JSON. The scan stores every good cluster,
records each bad item as a collection error, routes no call through an incomplete row, and every command that
reads the store keeps working."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.limiter import Limiter, LimiterSettings
from auditor.emulator.server import EmulatorServer
from auditor.ledger import record_scan
from auditor.store import ScanRecord, open_db, write_scan
from tests.emulated import SUB2, arm_cluster, small_fleet
from tests.evidence import SUB, cluster

NO_SUBSCRIPTION_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg9/providers/Microsoft.ContainerService/managedClusters/nosub"
)
GOOD = {"good", "old", "other-sub", "tagged"}


def quick_limiter() -> Limiter:
    return Limiter(LimiterSettings(max_attempts=2, backoff_base_s=0.01, backoff_cap_s=0.02, max_retry_after_s=0.1))


def hostile_fleet() -> dict[str, Any]:
    """Three plain clusters, one whose tags hold lone surrogates (a value and a key)."""
    tagged = arm_cluster("tagged", tags={"owner": "team\ud800x", "env\udc00": "prod"})
    return small_fleet([tagged])


def extra_rows() -> list[Any]:
    """Rows Azure should never send, served verbatim after the fleet's own."""
    nameless = {"name": "ghost", "subscriptionId": SUB, "location": "eastus", "resourceGroup": "rg1"}
    # A cluster in a region nothing else is in: a call routed through this row would 404 for the whole region.
    no_subscription = arm_cluster("nosub", rg="rg9", location="westus")
    no_subscription["id"] = NO_SUBSCRIPTION_ID
    no_subscription["resourceGroup"] = "rg9"
    no_subscription["type"] = "microsoft.containerservice/managedclusters"
    return [None, nameless, no_subscription]


def scan(server: EmulatorServer) -> ScanRecord:
    clients = AzureClients(
        StaticTokenCredential("hostile-test-token"), endpoint=server.endpoint, ca_bundle=str(server.ca_file)
    )
    return run_scan(clients, ScanOptions(), limiter=quick_limiter())


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanRecord, dict[str, int]]:
    """One scan of the hostile fleet, with pool upgrade profiles answered by an HTML gateway error page."""
    tmp = tmp_path_factory.mktemp("hostile")
    with EmulatorServer(
        hostile_fleet(),
        state_dir=tmp / "emu",
        extra_graph_rows=extra_rows(),
        error_body="html",
        server_error_rate=1.0,
        fault_kinds=["pool_upgrade_profiles"],
    ) as server:
        record = scan(server)
        counters = server.counters()
    db = tmp / "a.duckdb"
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
        record_scan(con)
    finally:
        con.close()
    return db, record, counters


def test_every_good_cluster_is_stored_and_each_bad_item_is_an_error(
    hostile_store: tuple[Path, ScanRecord, dict[str, int]],
) -> None:
    db, record, _ = hostile_store
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = {
            row[0] for row in con.execute("SELECT payload->>'$.name' FROM evidence WHERE kind = 'cluster'").fetchall()
        }
        # The cluster query's rejections (the same rows reach the Fleet Manager query too: checked below).
        rejected = con.execute(
            "SELECT scope, CAST(payload AS VARCHAR) FROM evidence WHERE kind = 'rejected_row' "
            "AND scope LIKE 'resource_graph#%' ORDER BY seq"
        ).fetchall()
        fleets = con.execute("SELECT count(*) FROM evidence WHERE kind = 'fleet'").fetchone()
        errors = con.execute("SELECT call, scope, code, message FROM collection_errors ORDER BY seq").fetchall()
        status = con.execute("SELECT status FROM scans").fetchone()
    finally:
        con.close()
    assert stored == GOOD | {"nosub"}
    # The null row and the row without id are kept as received, beside an error that says what was wrong.
    assert [payload for _, payload in rejected][0] == "null"
    assert json.loads(rejected[1][1])["name"] == "ghost"
    malformed = {(call, code, message) for call, _, code, message in errors if code == "MalformedRow"}
    assert {m for call, _, m in malformed if call == "resource_graph"} == {
        f"Resource Graph row {rejected[0][0].split('#')[1]} of the resource_graph query is null, not an object",
        f"Resource Graph row {rejected[1][0].split('#')[1]} of the resource_graph query has no id (name 'ghost'): "
        "the cluster cannot be identified",
    }
    # The Fleet Manager query (the same `resources` table) got the same rows: each unusable one is an error of
    # its own; the cluster row is a cluster, not a fleet, and Resource Graph's type filter leaves it out.
    assert sorted(m.split(" of the fleet query ")[1] for call, _, m in malformed if call == "fleet") == [
        "has no id",
        "is not an object",
    ]
    assert fleets == (0,)
    assert ("maintenance_configurations", NO_SUBSCRIPTION_ID, "IncompleteRow") in {e[:3] for e in errors}
    # westus holds only the incomplete row: its versions and image profile are recorded as not collected.
    assert ("kubernetes_versions", "westus", "IncompleteRow") in {e[:3] for e in errors}
    assert ("pool_upgrade_profile", "westus|AKSUbuntu-2204gen2containerd", "IncompleteRow") in {e[:3] for e in errors}
    surrogate = [e for e in errors if e[2] == "MalformedText"]
    assert len(surrogate) == 1 and "tagged" in surrogate[0][1]
    assert "$.tags.owner" in surrogate[0][3] and "U+FFFD" in surrogate[0][3]
    html = [e for e in errors if e[0] == "pool_upgrade_profile" and e[2] != "IncompleteRow"]
    assert html and all("the body is not JSON (text/html" in e[3] for e in html)
    assert status == ("partial",)
    assert record.stats["clusters"] == len(GOOD)  # routed clusters: the incomplete row is stored, never routed


def test_no_call_is_routed_through_an_incomplete_row(hostile_store: tuple[Path, ScanRecord, dict[str, int]]) -> None:
    _, _, counters = hostile_store
    assert counters["not_found"] == 0
    assert counters["kubernetes_versions"] == 1  # eastus only: westus held nothing but the incomplete row
    assert counters["maintenance_configurations"] == len(GOOD)


def test_lone_surrogates_are_stored_as_replacement_characters(
    hostile_store: tuple[Path, ScanRecord, dict[str, int]],
) -> None:
    db, _, _ = hostile_store
    con = duckdb.connect(str(db), read_only=True)
    try:
        tags = con.execute(
            "SELECT CAST(payload->'$.tags' AS VARCHAR) FROM evidence WHERE kind = 'cluster' "
            "AND payload->>'$.name' = 'tagged'"
        ).fetchone()
    finally:
        con.close()
    assert tags is not None
    assert json.loads(tags[0]) == {"owner": "team\ufffdx", "env\ufffd": "prod"}


def test_the_incomplete_cluster_is_unknown_where_evidence_is_missing(
    hostile_store: tuple[Path, ScanRecord, dict[str, int]],
) -> None:
    db, _, _ = hostile_store
    result = CliRunner().invoke(cli, ["findings", "--db", str(db), "--format", "json", "--control", "AKS-WIN-01"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    nosub = [f for f in findings if f["resource_id"] == NO_SUBSCRIPTION_ID]
    assert nosub and nosub[0]["status"] == "unknown"
    assert "IncompleteRow" in nosub[0]["message"] or "lacks a usable subscriptionId" in nosub[0]["message"]
    # Every control that needs evidence the row could not address is unknown, never a pass.
    result = CliRunner().invoke(cli, ["findings", "--db", str(db), "--format", "json"])
    needing_calls = {"AKS-VER-01", "AKS-VER-03", "AKS-IMG-02", "AKS-WIN-01", "AKS-WIN-02"}
    statuses = {
        f["control_id"]: f["status"]
        for f in json.loads(result.stdout)
        if f["resource_id"] == NO_SUBSCRIPTION_ID and f["control_id"] in needing_calls
    }
    assert statuses == dict.fromkeys(needing_calls, "unknown")


def test_report_trend_and_export_work_on_the_hostile_scan(
    hostile_store: tuple[Path, ScanRecord, dict[str, int]], tmp_path: Path
) -> None:
    db, _, _ = hostile_store
    runner = CliRunner()
    report = runner.invoke(
        cli, ["report", "--db", str(db), "--format", "pdf,html,csv,json", "--out", str(tmp_path / "out")]
    )
    assert report.exit_code == 0, report.output
    trend = runner.invoke(cli, ["trend", "--db", str(db), "--format", "json", "-q"])
    assert trend.exit_code == 0, trend.output
    export = runner.invoke(cli, ["export", "--db", str(db), "--out", str(tmp_path / "export"), "-q"])
    assert export.exit_code == 0, export.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "MalformedRow" in html and "IncompleteRow" in html


def test_a_non_json_error_body_prints_no_sdk_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    # A cluster of a forbidden subscription: its calls are 403s (not retried, so quick) answered by an HTML
    # gateway page, which the SDK's failsafe deserializer would log with a traceback.
    with EmulatorServer(
        small_fleet(),
        state_dir=tmp_path / "emu",
        error_body="html",
        forbidden_subscriptions=[SUB2],
        extra_graph_rows=[cluster("ghost", sub=SUB2)],
    ) as server:
        result = subprocess.run(
            [sys.executable, "-m", "auditor", "scan", "--db", str(tmp_path / "a.duckdb")]
            + ["--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "AUDITOR_ACCESS_TOKEN": "html-test-token"},
        )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "deserialization" not in result.stderr
    assert "partial" in result.stderr and "errors 0" not in result.stderr


def test_a_null_row_beside_one_good_cluster_loses_nothing(tmp_path: Path) -> None:
    with EmulatorServer(hostile_fleet(), state_dir=tmp_path / "emu", extra_graph_rows=[None]) as server:
        clients = AzureClients(StaticTokenCredential("t" * 8), endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        record = run_scan(clients, ScanOptions(subscriptions=[SUB2]), limiter=quick_limiter())
    record.evidence.discard()
    assert record.stats["clusters"] == 1
    # One error per query of the `resources` table that got the row: the clusters' and the Fleet Manager one.
    assert sorted((e.call, e.code) for e in record.errors) == [
        ("fleet", "MalformedRow"),
        ("resource_graph", "MalformedRow"),
    ]


def test_hostile_knobs_can_be_set_in_a_fleet_file() -> None:
    from auditor.emulator.faults import behaviour_from_settings
    from auditor.emulator.fleet import FleetError

    behaviour = behaviour_from_settings({"faults": {"errorBody": "echo-text", "extraGraphRows": [None, {"a": 1}]}})
    assert behaviour.error_body == "echo-text"
    assert behaviour.extra_graph_rows == (("resources", None), ("resources", {"a": 1}))
    by_table = behaviour_from_settings({"faults": {"extraGraphRows": {"resourceChanges": [None]}}})
    assert by_table.extra_graph_rows == (("resourcechanges", None),)
    fleet_children = behaviour_from_settings({"faults": {"extraGraphRows": {"aksResources": [None]}}})
    assert fleet_children.extra_graph_rows == (("aksresources", None),)
    with pytest.raises(FleetError, match="error_body must be one of arm, html, echo-json, echo-text"):
        behaviour_from_settings({"faults": {"errorBody": "xml"}})
    with pytest.raises(FleetError, match="extraGraphRows: expected a list"):
        behaviour_from_settings({"faults": {"extraGraphRows": {"id": "x"}}})
    with pytest.raises(FleetError, match="unknown table"):
        behaviour_from_settings({"faults": {"extraGraphRows": {"vms": []}}})


def test_null_and_id_less_change_event_and_fleet_rows_are_errors_not_crashes(tmp_path: Path) -> None:
    bad = [None, {"properties": {"changeType": "Update"}}, "text"]
    with EmulatorServer(
        small_fleet(),
        state_dir=tmp_path / "emu",
        extra_graph_rows={"resourcechanges": bad, "containerserviceeventresources": bad, "aksresources": bad},
    ) as server:
        record = scan(server)
    db = tmp_path / "a.duckdb"
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
        record_scan(con)
        rejected = con.execute("SELECT count(*) FROM evidence WHERE kind = 'rejected_row'").fetchone()
    finally:
        con.close()
    assert record.stats["clusters"] == 3
    assert sorted((e.call, e.code) for e in record.errors) == sorted(
        [(kind, "MalformedRow") for kind in ("resource_change", "scheduled_event", "fleet_resources") for _ in bad]
    )
    assert rejected == (9,)
    runner = CliRunner()
    assert runner.invoke(cli, ["history", "--db", str(db)]).exit_code == 0
    assert runner.invoke(cli, ["findings", "--db", str(db), "--format", "json"]).exit_code == 0


def test_resource_graph_failing_for_good_stores_no_empty_scan(tmp_path: Path) -> None:
    from auditor.errors import CollectionError

    with EmulatorServer(
        small_fleet(), state_dir=tmp_path / "emu", server_error_rate=1.0, fault_kinds=["resource_graph"]
    ) as server:
        clients = AzureClients(StaticTokenCredential("t" * 8), endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        with pytest.raises(CollectionError, match=r"Resource Graph could not list the clusters of 2 subscription\(s\)"):
            run_scan(clients, ScanOptions(), limiter=quick_limiter())
