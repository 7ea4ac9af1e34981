"""Scans through the real Azure SDK clients over HTTPS against the emulator, into a real DuckDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.limiter import Limiter, LimiterSettings
from auditor.controls import evaluate_scan
from auditor.emulator.server import EmulatorServer
from auditor.errors import CollectionError
from auditor.policy import default_policy
from auditor.store import open_db, write_scan
from tests.emulated import SUB2, small_fleet
from tests.evidence import SUB

TOKEN = "test-token-never-stored"  # noqa: S105


def fast_limiter() -> Limiter:
    return Limiter(LimiterSettings(max_attempts=2, backoff_base_s=0.01, backoff_cap_s=0.02, max_retry_after_s=0.05))


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    with EmulatorServer(small_fleet(), state_dir=tmp_path_factory.mktemp("emu")) as server:
        yield server


def clients_for(server: EmulatorServer) -> AzureClients:
    return AzureClients(StaticTokenCredential(TOKEN), endpoint=server.endpoint, ca_bundle=str(server.ca_file))


def scan_into(db: Path, server: EmulatorServer, **options: Any) -> str:
    record = run_scan(clients_for(server), ScanOptions(**options), limiter=fast_limiter())
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id


def test_scan_collects_every_source_through_the_sdk(tmp_path: Path, emulator: EmulatorServer) -> None:
    db = tmp_path / "a.duckdb"
    scan_id = scan_into(db, emulator)
    con = open_db(db)
    try:
        kinds = dict(
            con.execute("SELECT kind, count(*) FROM evidence WHERE scan_id = ? GROUP BY kind", [scan_id]).fetchall()
        )
        status, stats = con.execute("SELECT status, stats FROM scans WHERE scan_id = ?", [scan_id]).fetchone()
        dump = "\n".join(str(r) for r in con.execute("SELECT * FROM evidence").fetchall())
        tenants = {
            r[0]
            for r in con.execute("SELECT payload->>'$.tenantId' FROM evidence WHERE kind = 'subscription'").fetchall()
        }
    finally:
        con.close()
    assert status == "complete"
    assert kinds["subscription"] == 2 and kinds["cluster"] == 3
    assert kinds["kubernetes_versions"] == 1  # one region
    assert kinds["maintenance_configurations"] == 3  # one per cluster
    assert kinds["pool_upgrade_profile"] == 1  # one (region, image family)
    calls = json.loads(stats)["calls"]
    assert calls["maintenance_configurations"] == 3 and calls["pool_upgrade_profile"] == 1
    assert TOKEN not in dump
    assert tenants == {"11111111-1111-1111-1111-111111111111"}  # wire JSON kept, not the SDK model's subset


def test_scan_scope_limits_subscriptions(tmp_path: Path, emulator: EmulatorServer) -> None:
    db = tmp_path / "a.duckdb"
    scan_id = scan_into(db, emulator, subscriptions=[SUB2])
    con = open_db(db)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT payload->>'$.name' FROM evidence WHERE scan_id = ? AND kind = 'cluster'", [scan_id]
            ).fetchall()
        ]
    finally:
        con.close()
    assert names == ["other-sub"]


def test_failed_region_versions_make_ver01_unknown_and_scan_partial(tmp_path: Path) -> None:
    with EmulatorServer(
        small_fleet(), state_dir=tmp_path / "emu", server_error_rate=1.0, fault_kinds=["kubernetes_versions"]
    ) as server:
        db = tmp_path / "a.duckdb"
        scan_id = scan_into(db, server, subscriptions=[SUB])
    con = open_db(db)
    try:
        status = con.execute("SELECT status FROM scans WHERE scan_id = ?", [scan_id]).fetchone()[0]
        errors = con.execute(
            "SELECT call, scope, status FROM collection_errors WHERE scan_id = ?", [scan_id]
        ).fetchall()
        findings = evaluate_scan(con, scan_id, default_policy())
    finally:
        con.close()
    assert status == "partial"
    assert [(call, scope) for call, scope, _ in errors] == [("kubernetes_versions", "eastus")]
    assert errors[0][2] in (500, 503)
    ver01 = [f for f in findings if f.control_id == "AKS-VER-01"]
    assert ver01 and all(f.status == "unknown" for f in ver01)
    assert "emulator fault" in ver01[0].message


def test_a_scope_resource_graph_refuses_is_an_error_and_stores_nothing(tmp_path: Path) -> None:
    # The only requested subscription is forbidden to Resource Graph: an empty scan stored as `latest` would pass
    # every gate on nothing, so the scan fails with the 403 in its message and stores nothing.
    with EmulatorServer(small_fleet(), state_dir=tmp_path / "emu", forbidden_subscriptions=[SUB2]) as server:
        db = tmp_path / "a.duckdb"
        with pytest.raises(CollectionError, match=r"Resource Graph could not list the clusters.*HTTP 403.*nothing"):
            scan_into(db, server, subscriptions=[SUB2])
    assert not db.exists()


def test_unauthenticated_endpoint_is_a_clear_error(tmp_path: Path, emulator: EmulatorServer) -> None:
    clients = AzureClients(StaticTokenCredential(""), endpoint=emulator.endpoint, ca_bundle=str(emulator.ca_file))
    with pytest.raises(CollectionError, match="refused the credential|cannot list subscriptions"):
        run_scan(clients, ScanOptions(), limiter=fast_limiter())


class RecordingCredential(StaticTokenCredential):
    """Remembers the scopes it was asked for."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.scopes: set[str] = set()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.scopes.update(scopes)
        return super().get_token(*scopes, **kwargs)


def test_only_reads_reach_azure_and_the_cloud_sets_the_audience(tmp_path: Path) -> None:
    credential = RecordingCredential()
    with EmulatorServer(small_fleet(), state_dir=tmp_path / "emu") as server:
        clients = AzureClients(
            credential, cloud="AzureUSGovernment", endpoint=server.endpoint, ca_bundle=str(server.ca_file)
        )
        record = run_scan(clients, ScanOptions(), limiter=fast_limiter())
        counters = server.counters()
    record.evidence.discard()  # type: ignore[union-attr]
    assert counters["writes_refused"] == 0
    assert counters["requests"] == sum(record.stats["calls"].values())
    assert credential.scopes == {"https://management.usgovcloudapi.net/.default"}
    assert AzureClients(credential, cloud="AzureChinaCloud").base_url == "https://management.chinacloudapi.cn"


def test_management_group_scope_queries_resource_graph_by_group(tmp_path: Path) -> None:
    fleet = small_fleet()
    fleet["managementGroups"] = {"mg-dev": [SUB2]}
    with EmulatorServer(fleet, state_dir=tmp_path / "emu") as server:
        db = tmp_path / "a.duckdb"
        scan_id = scan_into(db, server, management_groups=["mg-dev"])
    con = open_db(db)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT payload->>'$.name' FROM evidence WHERE scan_id = ? AND kind = 'cluster'", [scan_id]
            ).fetchall()
        ]
        scope = json.loads(con.execute("SELECT scope FROM scans WHERE scan_id = ?", [scan_id]).fetchone()[0])
    finally:
        con.close()
    assert names == ["other-sub"]
    assert scope["management_groups"] == ["mg-dev"]
