"""The collector against Azure's failure modes, served by the emulator: throttling, 5xx, timeouts,
truncation, deletion mid-scan and malformed payloads. Missing evidence is recorded, never hidden."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.limiter import Limiter, LimiterSettings
from auditor.controls import evaluate_scan
from auditor.emulator.server import EmulatorServer
from auditor.policy import default_policy
from auditor.store import ScanRecord, open_db, write_scan
from tests.emulated import arm_cluster, small_fleet


def quick_limiter(attempts: int = 6) -> Limiter:
    return Limiter(
        LimiterSettings(max_attempts=attempts, backoff_base_s=0.01, backoff_cap_s=0.05, max_retry_after_s=1.5)
    )


def scan(
    server: EmulatorServer, limiter: Limiter | None = None, read_timeout: float = 30.0, **options: Any
) -> ScanRecord:
    clients = AzureClients(
        StaticTokenCredential("t"), endpoint=server.endpoint, ca_bundle=str(server.ca_file), read_timeout=read_timeout
    )
    return run_scan(clients, ScanOptions(**options), limiter=limiter or quick_limiter())


def errors_of(record: ScanRecord) -> list[tuple[str, int | None, str | None]]:
    return [(e.call, e.status, e.code) for e in record.errors]


def test_429_storm_is_ridden_out_with_retry_after(tmp_path: Path) -> None:
    with EmulatorServer(small_fleet(), state_dir=tmp_path, storm_seconds=2.0, storm_retry_after=1) as server:
        record = scan(server)
        throttled = server.counters()["throttled_storm"]
    record.evidence.discard()  # type: ignore[union-attr]
    assert throttled >= 1
    assert record.errors == []
    assert sum(record.stats["retries"].values()) == throttled
    assert record.stats["clusters"] == 3


def test_server_errors_are_retried_with_backoff(tmp_path: Path) -> None:
    with EmulatorServer(small_fleet(), state_dir=tmp_path, server_error_rate=0.3, seed=3) as server:
        record = scan(server)
        injected = server.counters()["server_errors"]
    record.evidence.discard()  # type: ignore[union-attr]
    assert injected > 0
    assert record.errors == []
    assert sum(record.stats["retries"].values()) >= injected


def test_exhausted_retries_become_collection_errors(tmp_path: Path) -> None:
    with EmulatorServer(
        small_fleet(), state_dir=tmp_path, server_error_rate=1.0, fault_kinds=["maintenance_configurations"]
    ) as server:
        record = scan(server, limiter=quick_limiter(attempts=3))
    assert record.status == "partial"
    assert {e[0] for e in errors_of(record)} == {"maintenance_configurations"}
    assert len(record.errors) == 3  # one per cluster, after three attempts each
    assert record.stats["retries"]["maintenance_configurations"] == 6
    record.evidence.discard()  # type: ignore[union-attr]


def test_timeouts_are_bounded_and_recorded(tmp_path: Path) -> None:
    with EmulatorServer(
        small_fleet(), state_dir=tmp_path, timeout_rate=1.0, timeout_seconds=5, timeout_kinds=["kubernetes_versions"]
    ) as server:
        record = scan(server, limiter=quick_limiter(attempts=2), read_timeout=0.5)
    assert errors_of(record) == [("kubernetes_versions", None, "Timeout")]
    record.evidence.discard()  # type: ignore[union-attr]


def test_truncated_results_are_reported(tmp_path: Path) -> None:
    with EmulatorServer(small_fleet(), state_dir=tmp_path, truncate_results=True) as server:
        record = scan(server, graph_page_size=2)
    assert ("resource_graph", None, "ResultTruncated") in errors_of(record)
    assert record.status == "partial"
    record.evidence.discard()  # type: ignore[union-attr]


def test_cluster_deleted_mid_scan_is_a_404_row_and_its_window_controls_unknown(tmp_path: Path) -> None:
    fleet = small_fleet()
    with EmulatorServer(fleet, state_dir=tmp_path / "emu") as server:
        doomed = fleet["managedClusters"][0]["id"]

        def delete_after_listing(stage: str, done: int, total: int) -> None:
            if stage == "clusters" and done == total:
                server.fleet._clusters.pop(doomed.lower())  # the cluster disappears between two calls

        clients = AzureClients(StaticTokenCredential("t"), endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        record = run_scan(clients, ScanOptions(), limiter=quick_limiter(), progress=delete_after_listing)
    assert ("maintenance_configurations", doomed, 404) in [(e.call, e.scope, e.status) for e in record.errors]
    db = tmp_path / "a.duckdb"
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
        findings = evaluate_scan(con, record.scan_id, default_policy())
    finally:
        con.close()
    window = [f for f in findings if f.control_id == "AKS-WIN-01" and f.resource_id == doomed]
    assert window and window[0].status == "unknown"


def test_malformed_payload_is_a_collection_error_not_a_crash(tmp_path: Path) -> None:
    fleet = small_fleet([arm_cluster("elsewhere", location="westus")])
    fleet["kubernetesVersions"]["westus"] = {"values": []}
    with EmulatorServer(fleet, state_dir=tmp_path) as server:
        # A payload Azure should never send (the fleet file refuses it): the wrong envelope key.
        server.fleet._versions["westus"] = {"value": []}
        record = scan(server)
    assert [(e.call, e.scope, e.code) for e in record.errors] == [
        ("kubernetes_versions", "westus", "MalformedResponse")
    ]
    assert record.stats["clusters"] == 4
    record.evidence.discard()  # type: ignore[union-attr]
