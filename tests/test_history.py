"""The upgrade ledger (auditor/ledger.py): folding scans, de-duplication, pool index mapping, scan diffs,
idempotent rebuilds, evaluation that does not depend on the ledger having caught up, and the campaign rule.

The first half holds builders of wire-shaped history rows (Resource Graph `resourcechanges` rows as documented
in "Get resource changes", `containerserviceeventresources` scheduled events as in the Event Grid
ScheduledEventEmitted schema) that tests/test_controls_fixtures.py uses too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import auditor.ledger as upgrade_ledger
from auditor.controls import Finding, control_ids, evaluate_scan, load_catalog
from auditor.errors import PolicyError
from auditor.model import Model
from auditor.policy import default_policy, load_policy
from auditor.store import ErrorRow, EvidenceRow, ScanRecord, open_db, write_scan
from tests.evidence import AS_OF, DEFAULT_VERSIONS, SUB, cluster, pool

UBUNTU = "AKSUbuntu-2204gen2containerd"
OLD_IMAGE = f"{UBUNTU}-202610.20.0"
NEW_IMAGE = f"{UBUNTU}-202611.10.0"

# --- wire builders --------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def change(previous: Any, new: Any, category: str = "System") -> dict[str, Any]:
    """One entry of a change row's `changes` object."""
    return {
        "previousValue": previous,
        "newValue": new,
        "changeCategory": category,
        "propertyChangeType": "Update",
    }


def change_row(
    body: dict[str, Any], moment: datetime, changes: dict[str, Any], *, change_id: str | None = None
) -> dict[str, Any]:
    """A Resource Graph `resourcechanges` row of a managed cluster, as "Get resource changes" documents it."""
    cluster_id = body["id"]
    seed = f"{cluster_id}|{moment.isoformat()}|{sorted(changes)}"
    change_id = (
        change_id
        or "08584" + hashlib.sha256(seed.encode()).hexdigest()[:15] + "_" + hashlib.md5(seed.encode()).hexdigest()[:8]
    )
    return {
        "id": f"{cluster_id}/providers/Microsoft.Resources/changes/{change_id}",
        "name": change_id,
        "type": "microsoft.resources/changes",
        "resourceGroup": cluster_id.split("/")[4].lower(),
        "subscriptionId": cluster_id.split("/")[2],
        "properties": {
            "targetResourceId": cluster_id,
            "targetResourceType": "microsoft.containerservice/managedclusters",
            "changeType": "Update",
            "changeAttributes": {
                "previousResourceSnapshotId": "08584889383111245807_" + change_id[-8:],
                "newResourceSnapshotId": "08584889377081305807_" + change_id[-8:],
                "correlationId": "04ff69b3-e162-4583-9cd7-1a14a1ec2c61",
                "changedByType": "User",
                "changesCount": len(changes),
                "clientType": "Azure CLI",
                "changedBy": "ops@contoso.example",
                "operation": "microsoft.containerservice/managedclusters/write",
                "timestamp": _stamp(moment),
            },
            "changes": changes,
        },
    }


def control_plane_rows(
    body: dict[str, Any], start: datetime, end: datetime, previous: str, new: str
) -> list[dict[str, Any]]:
    """The control plane's upgrade: Upgrading at start, the version it runs at end."""
    return [
        change_row(
            body,
            start,
            {
                "properties.provisioningState": change("Succeeded", "Upgrading"),
                "properties.kubernetesVersion": change(previous, new, "User"),
            },
        ),
        change_row(
            body,
            end,
            {
                "properties.currentKubernetesVersion": change(previous, new),
                "properties.provisioningState": change("Upgrading", "Succeeded"),
            },
        ),
    ]


def pool_rows(
    body: dict[str, Any],
    index: int,
    start: datetime | None,
    end: datetime | None,
    previous: str,
    new: str,
    *,
    image: tuple[str, str] | None = (OLD_IMAGE, NEW_IMAGE),
    fail: bool = False,
) -> list[dict[str, Any]]:
    """One pool's Kubernetes upgrade: provisioningState Upgrading at start; at end the version and image it
    runs     (or provisioningState Failed)."""
    prefix = f"properties.agentPoolProfiles[{index}]"
    rows = []
    if start is not None:
        rows.append(
            change_row(
                body,
                start,
                {
                    f"{prefix}.provisioningState": change("Succeeded", "Upgrading"),
                    f"{prefix}.orchestratorVersion": change(previous, new, "User"),
                },
            )
        )
    if end is not None and fail:
        rows.append(change_row(body, end, {f"{prefix}.provisioningState": change("Upgrading", "Failed")}))
    elif end is not None:
        changes = {
            f"{prefix}.currentOrchestratorVersion": change(previous, new),
            f"{prefix}.provisioningState": change("Upgrading", "Succeeded"),
        }
        if image is not None:
            changes[f"{prefix}.nodeImageVersion"] = change(*image)
        rows.append(change_row(body, end, changes))
    return rows


def image_rows(
    body: dict[str, Any], index: int, start: datetime, end: datetime, previous: str, new: str
) -> list[dict[str, Any]]:
    """A node-image-only update of one pool."""
    prefix = f"properties.agentPoolProfiles[{index}]"
    return [
        change_row(body, start, {f"{prefix}.provisioningState": change("Succeeded", "UpgradingNodeImageVersion")}),
        change_row(
            body,
            end,
            {
                f"{prefix}.nodeImageVersion": change(previous, new),
                f"{prefix}.provisioningState": change("UpgradingNodeImageVersion", "Succeeded"),
            },
        ),
    ]


def scheduled_event(
    body: dict[str, Any],
    status: str,
    details: str,
    scheduled: datetime,
    started: datetime | None = None,
    updated: datetime | None = None,
    *,
    event_id: str = "bbe82027-0444-4f73-897a-0bbfe3af66f1",
) -> dict[str, Any]:
    """A `containerserviceeventresources` row (ScheduledEventEmitted properties)."""
    zero = "0001-01-01T00:00:00.0000000Z"
    cluster_id = body["id"]
    return {
        "id": f"{cluster_id}/scheduledEvents/{event_id}",
        "name": event_id,
        "type": "microsoft.containerservice/managedclusters/scheduledevents",
        "location": body.get("location", "eastus"),
        "resourceGroup": cluster_id.split("/")[4].lower(),
        "subscriptionId": cluster_id.split("/")[2],
        "properties": {
            "description": "ScheduledEvents",
            "eventId": event_id,
            "eventSource": "AutoUpgrader",
            "eventStatus": status,
            "eventDetails": details,
            "scheduledTime": _stamp(scheduled),
            "startTime": _stamp(started) if started else zero,
            "lastUpdateTime": _stamp(updated) if updated else zero,
            "resources": [cluster_id],
            "resourceType": "ManagedCluster",
        },
    }


def completed_event(body: dict[str, Any]) -> dict[str, Any]:
    """AKS's scheduled event for the upgrade of `in_order_rows`, completed."""
    return scheduled_event(body, "Completed", "K8sVersionUpgrade: upgrade from 1.32.5 to 1.33.2", at(0), at(0), at(80))


def history_rows(rows: Iterable[dict[str, Any]]) -> list[EvidenceRow]:
    """Evidence rows as the collectors record them (kind by table, scope = the row id)."""
    out = []
    for row in rows:
        kind = "scheduled_event" if row["type"].endswith("/scheduledevents") else "resource_change"
        out.append(EvidenceRow(kind, row["id"], "POST /providers/Microsoft.ResourceGraph/resources", row))
    return out


def store_history_scan(
    db: Path,
    clusters: list[dict[str, Any]],
    rows: Iterable[dict[str, Any]] = (),
    *,
    region_versions: dict[str, Any] | None = None,
    maintenance: dict[str, list[dict[str, Any]]] | None = None,
    latest_images: dict[tuple[str, str], str] | None = None,
    errors: list[ErrorRow] | None = None,
    started_at: datetime = AS_OF,
    scan_id: str | None = None,
) -> str:
    """tests.evidence.store_scan, plus history rows (resource changes, scheduled events) in the same scan."""
    evidence = [
        EvidenceRow(
            "subscription",
            SUB,
            "GET /subscriptions",
            {"subscriptionId": SUB, "displayName": "Contoso Prod", "state": "Enabled"},
        )
    ]
    evidence += [EvidenceRow("cluster", c["id"], "POST resources", c) for c in clusters]
    failed_regions = {e.scope for e in errors or [] if e.call == "kubernetes_versions"}
    for location in sorted({c["location"] for c in clusters} - failed_regions):
        body = (region_versions or {}).get(location, DEFAULT_VERSIONS)
        evidence.append(EvidenceRow("kubernetes_versions", location, "GET kubernetesVersions", body))
    failed_clusters = {e.scope for e in errors or [] if e.call == "maintenance_configurations"}
    for c in clusters:
        if c["id"] not in failed_clusters:
            items = (maintenance or {}).get(c["name"], [])
            evidence.append(
                EvidenceRow("maintenance_configurations", c["id"], "GET maintenanceConfigurations", {"value": items})
            )
    for (location, family), latest in (latest_images or {}).items():
        evidence.append(
            EvidenceRow(
                "pool_upgrade_profile",
                f"{location}|{family}",
                "GET upgradeProfiles/default",
                {"properties": {"latestNodeImageVersion": latest}},
            )
        )
    evidence += history_rows(rows)
    record = ScanRecord(
        scan_id=scan_id or started_at.strftime("%Y%m%dT%H%M%SZ") + "-hist",
        started_at=started_at,
        finished_at=started_at,
        tool_version="test",
        cloud="AzureCloud",
        endpoint="https://test",
        scope={},
        stats={"calls": {}},
        evidence=evidence,
        errors=list(errors or []),
    )
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id


def two_pools(version: str = "1.33.2", image: str = NEW_IMAGE, **kw: Any) -> dict[str, Any]:
    """cluster() keyword arguments for a cluster with a System pool 'system' and a User pool 'apps'."""
    return {
        "version": version,
        "pools": [
            pool("system", version=version, image=image),
            pool("apps", mode="User", version=version, image=image),
        ],
        **kw,
    }


T0 = AS_OF - timedelta(days=5)  # an upgrade five days before the scan, at 01:00 UTC


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- helpers --------------------------------------------------------------------------------------------


def findings_of(db: Path, scan_id: str, control_id: str, policy: Any = None) -> dict[str, Finding]:
    con = open_db(db)
    try:
        controls = tuple(c for c in load_catalog() if c.id == control_id)
        return {f.cluster: f for f in evaluate_scan(con, scan_id, policy or default_policy(), controls=controls)}
    finally:
        con.close()


def ledger(db: Path) -> list[tuple[Any, ...]]:
    con = open_db(db)
    try:
        rows = con.execute(
            "SELECT target, pool_mode, kind, phase, from_version, to_version, event_time, window_start, "
            "window_end, "
            "source, mapping, first_seen_scan_id, seen_count FROM upgrade_events "
            "ORDER BY window_end, target, kind, phase, source"
        ).fetchall()
    finally:
        con.close()
    # The store keeps UTC without a zone; the builders use aware datetimes.
    return [tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) else v for v in row) for row in rows]


def update(db: Path) -> upgrade_ledger.LedgerUpdate:
    con = open_db(db)
    try:
        return upgrade_ledger.update_ledger(con)
    finally:
        con.close()


def in_order_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A clean upgrade 1.32.5 -> 1.33.2: control plane, then system, then apps."""
    return [
        *control_plane_rows(body, at(0), at(12), "1.32.5", "1.33.2"),
        *pool_rows(body, 0, at(15), at(35), "1.32.5", "1.33.2"),
        *pool_rows(body, 1, at(40), at(70), "1.32.5", "1.33.2"),
    ]


# --- the ledger -----------------------------------------------------------------------------------------


def test_resource_changes_become_events_with_pool_names(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    rows = in_order_rows(body)
    store_history_scan(db, [body], list(reversed(rows)) + rows[:2])  # out of order, and two duplicate rows
    assert update(db).new_events == 11
    events = ledger(db)
    reached = [(t, mode, kind, f, to, time) for t, mode, kind, phase, f, to, time, *_ in events if phase == "reached"]
    assert reached == [
        ("control_plane", None, "kubernetes", "1.32.5", "1.33.2", at(12)),
        ("system", "System", "kubernetes", "1.32.5", "1.33.2", at(35)),
        ("system", "System", "node-image", OLD_IMAGE, NEW_IMAGE, at(35)),
        ("apps", "User", "kubernetes", "1.32.5", "1.33.2", at(70)),
        ("apps", "User", "node-image", OLD_IMAGE, NEW_IMAGE, at(70)),
    ]
    phases = sorted((e[0], e[3]) for e in events if e[3] != "reached")
    assert phases == [
        ("apps", "requested"),
        ("apps", "started"),
        ("control_plane", "requested"),
        ("control_plane", "started"),
        ("system", "requested"),
        ("system", "started"),
    ]
    assert all(e[10] in (None, "snapshot") for e in events)
    assert {e[12] for e in events} == {1}


def test_a_change_seen_by_three_scans_is_one_event(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    rows = in_order_rows(body)
    ids = [store_history_scan(db, [body], rows, started_at=AS_OF + timedelta(days=d)) for d in (0, 3, 6)]
    assert update(db).scans == 3
    events = ledger(db)
    assert len(events) == 11
    assert {e[11] for e in events} == {ids[0]} and {e[12] for e in events} == {3}
    assert update(db).scans == 0  # idempotent: nothing left to fold


def test_rebuild_is_idempotent_and_equals_the_incremental_ledger(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    old = cluster("c1", **two_pools("1.32.5", OLD_IMAGE))
    body = cluster("c1", **two_pools())
    store_history_scan(db, [old], started_at=AS_OF - timedelta(days=30))
    update(db)
    store_history_scan(db, [body], in_order_rows(body))
    update(db)
    incremental = ledger(db)
    con = open_db(db)
    try:
        first = upgrade_ledger.rebuild_ledger(con)
        once = ledger(db)
        second = upgrade_ledger.rebuild_ledger(con)
    finally:
        con.close()
    assert ledger(db) == once == incremental
    assert first.new_events == second.new_events == len(incremental)


def test_the_as_of_copies_get_the_rows_the_ledger_gets(tmp_path: Path) -> None:
    """The same fold SQL writes the ledger and, for an evaluation of scans the ledger lacks, temp copies of it:
    only the per-target files differ (queries/history/fold_into_*.sql), and so must nothing else."""
    db = tmp_path / "a.duckdb"
    old = cluster("c1", **two_pools("1.32.5", OLD_IMAGE))
    body = cluster("c1", **two_pools())
    body["properties"]["upgradeSettings"] = {"overrideSettings": {"forceUpgrade": True, "until": "2026-12-01T00:00Z"}}
    store_history_scan(db, [old], started_at=AS_OF - timedelta(days=30))
    scan_id = store_history_scan(db, [body], in_order_rows(body))
    tables = {"events": "ORDER BY event_key", "snapshots": "ORDER BY scan_id, cluster_id", "overrides": "ORDER BY ALL"}
    con = open_db(db, read_only=True)
    try:
        with Model(con, scan_id, default_policy()) as model:  # the ledger is empty: the scans fold into copies
            copies = {t: model.cursor.execute(f"SELECT * FROM history_{t} {o}").fetchall() for t, o in tables.items()}
    finally:
        con.close()
    update(db)
    con = open_db(db, read_only=True)
    try:
        folded = {t: con.execute(f"SELECT * FROM upgrade_{t} {o}").fetchall() for t, o in tables.items()}
    finally:
        con.close()
    assert all(copies.values()) and copies == folded


def test_a_scan_older_than_the_ledger_triggers_a_rebuild(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    store_history_scan(db, [body], started_at=AS_OF)
    update(db)
    store_history_scan(db, [cluster("c1", **two_pools("1.32.5", OLD_IMAGE))], started_at=AS_OF - timedelta(days=30))
    result = update(db)
    assert result.rebuilt and result.scans == 2
    assert [(e[0], e[9]) for e in ledger(db)] == [
        ("apps", "scan_diff"),
        ("apps", "scan_diff"),
        ("control_plane", "scan_diff"),
        ("system", "scan_diff"),
        ("system", "scan_diff"),
    ]


def test_scan_diffs_give_windows_and_ignore_added_pools(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    before = cluster("c1", **two_pools("1.32.5", OLD_IMAGE))
    after = cluster(
        "c1",
        version="1.33.2",
        pools=[
            pool("system", version="1.33.2", image=NEW_IMAGE),
            pool("batch", mode="User", version="1.33.2", image=NEW_IMAGE),
        ],
    )
    first = store_history_scan(db, [before], started_at=AS_OF - timedelta(days=30))
    second = store_history_scan(db, [after], started_at=AS_OF)
    update(db)
    events = ledger(db)
    assert {(e[0], e[2]) for e in events} == {
        ("control_plane", "kubernetes"),
        ("system", "kubernetes"),
        ("system", "node-image"),
    }  # apps removed, batch added: no event
    assert {(e[6], e[7], e[8], e[9], e[11]) for e in events} == {
        (None, AS_OF - timedelta(days=30), AS_OF, "scan_diff", second)
    }
    assert first != second


def test_pool_index_mapping_uses_the_snapshots_around_the_change(tmp_path: Path) -> None:
    """Index 1 was 'apps' when the change happened; 'batch' was inserted at index 1 afterwards."""
    db = tmp_path / "a.duckdb"
    before = cluster("c1", **two_pools("1.32.5", OLD_IMAGE))
    after = cluster(
        "c1",
        version="1.33.2",
        pools=[
            pool("system", version="1.33.2", image=NEW_IMAGE),
            pool("batch", mode="User", version="1.31.9", image=OLD_IMAGE),
            pool("apps", mode="User", version="1.33.2", image=NEW_IMAGE),
        ],
    )
    store_history_scan(db, [before], started_at=T0 - timedelta(days=1))
    store_history_scan(db, [after], pool_rows(after, 1, None, at(70), "1.32.5", "1.33.2"))
    # Index 7 exists in no snapshot: kept, unmapped.
    store_history_scan(
        db,
        [after],
        pool_rows(after, 7, None, at(80), "1.32.5", "1.33.2", image=None),
        started_at=AS_OF + timedelta(hours=1),
    )
    update(db)
    rc = [(e[0], e[1], e[2], e[10]) for e in ledger(db) if e[9] == "resource_change"]
    # 'batch', now at index 1, runs 1.31.9, not the 1.33.2 the change set: the earlier 'apps' is chosen.
    assert ("apps", "User", "kubernetes", "snapshot") in rc and (
        "apps",
        "User",
        "node-image",
        "snapshot",
    ) in rc
    assert ("agentPoolProfiles[7]", None, "kubernetes", "unmapped") in rc


def test_pool_removed_after_the_change_maps_with_the_earlier_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    before = cluster(
        "c1",
        version="1.32.5",
        pools=[
            pool("system", version="1.32.5"),
            pool("old", mode="User", version="1.32.5"),
            pool("apps", mode="User", version="1.32.5"),
        ],
    )
    after = cluster("c1", **two_pools())
    store_history_scan(db, [before], started_at=T0 - timedelta(days=1))
    store_history_scan(db, [after], pool_rows(after, 2, None, at(70), "1.32.5", "1.33.2", image=None))
    update(db)
    assert [(e[0], e[10]) for e in ledger(db) if e[9] == "resource_change"] == [("apps", "snapshot")]


def test_scheduled_events_are_cluster_events_one_per_status(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    details = "K8sVersionUpgrade: upgrade from 1.32.5 to 1.33.2"
    first = [scheduled_event(body, "Scheduled", details, at(0), updated=at(-60 * 24))]
    second = [scheduled_event(body, "Completed", details, at(0), at(0), at(90))]
    store_history_scan(db, [body], first, started_at=T0 - timedelta(days=2))
    store_history_scan(db, [body], first + second)
    update(db)
    events = [(e[0], e[2], e[3], e[4], e[5], e[6], e[12]) for e in ledger(db) if e[9] == "scheduled_event"]
    assert events == [
        ("cluster", "kubernetes", "scheduled", "1.32.5", "1.33.2", at(0), 2),
        ("cluster", "kubernetes", "reached", "1.32.5", "1.33.2", at(90), 1),
    ]


def test_only_the_auto_upgraders_scheduled_events_are_folded(tmp_path: Path) -> None:
    """End-of-support notices share the scheduled-events table (eventSource EOLNotification,
    aks-end-of-support-notifications.md); they are not upgrades, and neither is any other source's event. Even one
    whose text names K8sVersionUpgrade stays out of the ledger: only eventSource AutoUpgrader is folded."""
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    details = "K8sVersionUpgrade: upgrade from 1.32.5 to 1.33.2"
    upgrade = scheduled_event(body, "Completed", details, at(0), at(0), at(90))
    notice = scheduled_event(body, "Scheduled", details, at(0), event_id="0c6a4f0e-38c1-4f1e-9f39-6cf1d1f2a001")
    notice["properties"].update(
        description="KubernetesVersionEOLOneWeek",
        eventSource="EOLNotification",
        eventDetails={"kubernetesVersion": "1.33.2", "eolDate": "2026-12-01T00:00:00Z", "supportType": "Community"},
    )
    other = scheduled_event(body, "Completed", details, at(0), event_id="0c6a4f0e-38c1-4f1e-9f39-6cf1d1f2a002")
    other["properties"]["eventSource"] = "UnderlayMigration"
    store_history_scan(db, [body], [upgrade, notice, other])
    update(db)
    folded = [e for e in ledger(db) if e[9] == "scheduled_event"]
    assert [(e[3], e[6]) for e in folded] == [("reached", at(90))]


def test_evaluation_does_not_depend_on_the_ledger_having_caught_up(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    good = cluster("good", **two_pools())
    old = cluster("good", **two_pools("1.32.5", OLD_IMAGE))
    first = store_history_scan(db, [old], started_at=AS_OF - timedelta(days=2))
    second = store_history_scan(db, [good], in_order_rows(good))
    before = findings_of(db, second, "AKS-ORD-01")
    update(db)
    after = findings_of(db, second, "AKS-ORD-01")
    assert before["good"].as_dict() == after["good"].as_dict()
    assert after["good"].status == "pass", after["good"].message
    # An older scan still evaluates as it did, although the ledger now holds later events.
    assert findings_of(db, first, "AKS-ORD-01")["good"].status == "unknown"


# --- policy: thresholds of the history controls -------------------------------------------------------


def _policy(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path, known_controls=control_ids())


def test_node_image_order_can_be_switched_off(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    rows = [
        *control_plane_rows(body, at(0), at(12), "1.32.5", "1.33.2"),
        *pool_rows(body, 0, at(15), at(35), "1.32.5", "1.33.2", image=None),
        *pool_rows(body, 1, at(40), at(70), "1.32.5", "1.33.2", image=None),
        # Two days later, a node-image rollout that updates the User pool first.
        *image_rows(body, 1, at(2 * 1440), at(2 * 1440 + 10), OLD_IMAGE, NEW_IMAGE),
        *image_rows(body, 0, at(2 * 1440 + 20), at(2 * 1440 + 30), OLD_IMAGE, NEW_IMAGE),
    ]
    scan_id = store_history_scan(db, [body], rows)
    strict = findings_of(db, scan_id, "AKS-ORD-01")["c1"]
    assert strict.status == "fail" and strict.message.startswith("node-image rollout of 2026-11-21")
    lenient = findings_of(db, scan_id, "AKS-ORD-01", _policy(tmp_path, "[thresholds]\nnode_image_order = false\n"))
    assert lenient["c1"].status == "pass", lenient["c1"].message
    assert lenient["c1"].message.startswith("1 campaign(s) in the last 90 days ran in order")


def test_campaign_window_and_lookback(tmp_path: Path) -> None:
    """A User pool upgraded four days before the System pool: a violation, whatever the window."""
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    rows = [
        *control_plane_rows(body, at(0), at(12), "1.32.5", "1.33.2"),
        *pool_rows(body, 1, at(20), at(40), "1.32.5", "1.33.2", image=None),
        *pool_rows(body, 0, at(4 * 1440), at(4 * 1440 + 20), "1.32.5", "1.33.2", image=None),
    ]
    scan_id = store_history_scan(db, [body], rows, started_at=AS_OF)
    default = findings_of(db, scan_id, "AKS-ORD-01")["c1"]
    # 72 h: the System pool's step is a campaign of its own, four days after the User pool's.
    assert default.status == "fail"
    assert "before system pool 'system', which reached it only at 2026-11-23 06:20 UTC" in default.message
    assert "(1 of 2 campaigns in the last 90 days out of order)" in default.message
    wide = findings_of(db, scan_id, "AKS-ORD-01", _policy(tmp_path, "[thresholds]\ncampaign_window_hours = 120\n"))
    assert wide["c1"].status == "fail"
    assert "user pool 'apps' reached 1.33.2 at 2026-11-19 06:40 UTC, before system pool 'system' (2026-11-23" in (
        wide["c1"].message
    )
    assert "campaigns in the last" not in wide["c1"].message  # one campaign
    # A one-day lookback keeps only the System pool's campaign, which is in order by itself.
    short = findings_of(db, scan_id, "AKS-ORD-01", _policy(tmp_path, "[thresholds]\nhistory_lookback_days = 1\n"))
    assert short["c1"].status == "pass"
    assert short["c1"].message.startswith("1 campaign(s) in the last 1 day ran in order")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("node_image_order = 'yes'", "'node_image_order' must be true or false"),
        ("ring_tag = ''", "'ring_tag' must be a non-empty string"),
        ("ring_order = ['dev', 'Dev']", "'ring_order' names a value twice"),
        ("ring_order = []", "'ring_order' must be a non-empty list of non-empty strings"),
        ("campaign_window_hours = 0", "'campaign_window_hours' must be a whole number from 1 to 720"),
        ("history_lookback_days = 5000", "'history_lookback_days' must be a whole number from 1 to 3650"),
    ],
)
def test_history_thresholds_are_validated(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(PolicyError) as raised:
        _policy(tmp_path, f"[thresholds]\n{text}\n")
    assert f"policy.toml:2: {complaint}" in str(raised.value)


def test_rings_follow_the_policy_tag_and_order(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"

    def moved(body: dict[str, Any], days: int) -> list[dict[str, Any]]:
        start = AS_OF - timedelta(days=days)
        return [
            *control_plane_rows(body, start, start + timedelta(minutes=10), "1.33.2", "1.34.1"),
            *pool_rows(body, 0, start + timedelta(minutes=12), start + timedelta(minutes=30), "1.33.2", "1.34.1"),
        ]

    def member(name: str, tier: str) -> dict[str, Any]:
        return cluster(name, version="1.34.1", tags={"Tier": tier}, pools=[pool("system", version="1.34.1")])

    canary, live = member("canary", "Canary"), member("live", "Live")
    scan_id = store_history_scan(db, [canary, live], [*moved(canary, 2), *moved(live, 4)])
    policy = _policy(tmp_path, "[thresholds]\nring_tag = 'tier'\nring_order = ['canary', 'live']\n")
    found = findings_of(db, scan_id, "AKS-RNG-01", policy)
    assert found["canary"].status == "not_applicable"
    assert found["live"].status == "fail"
    assert "production moved to Kubernetes 1.34.1" in found["live"].message
    assert "'canary' (canary)" in found["live"].message
    # Under the default rings (tag environment) neither cluster is in a ring.
    assert {f.status for f in findings_of(db, scan_id, "AKS-RNG-01").values()} == {"not_applicable"}


# --- robustness -----------------------------------------------------------------------------------------


def test_a_failed_ledger_update_is_a_problem_returned_not_a_lost_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.duckdb"
    store_history_scan(db, [cluster("c1")])
    con = open_db(db)
    try:
        con.execute("DROP TABLE upgrade_ledger_scans")
        recorded = upgrade_ledger.record_scan(con)
        assert recorded.update is None
        assert recorded.problem is not None and "upgrade_ledger_scans" in recorded.problem
        assert con.execute("SELECT count(*) FROM scans").fetchone() == (1,)
    finally:
        con.close()
    assert capsys.readouterr().err == ""  # the library prints nothing: the command line warns


def test_read_only_evaluation_folds_missing_scans_without_writing(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    scan_id = store_history_scan(db, [body], in_order_rows(body))
    con = open_db(db, read_only=True)
    try:
        control = tuple(c for c in load_catalog() if c.id == "AKS-ORD-01")
        (finding,) = evaluate_scan(con, scan_id, default_policy(), controls=control)
        assert con.execute("SELECT count(*) FROM upgrade_events").fetchone() == (0,)
    finally:
        con.close()
    assert finding.status == "pass"


def test_cancelled_and_unset_times_in_scheduled_events(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    rows = [
        scheduled_event(body, "Canceled", "NodeOSUpgrade: node image upgrade", at(0), event_id="e1"),
        scheduled_event(body, "Started", "K8sVersionUpgrade", at(10), event_id="e2"),
        scheduled_event(body, "Completed", "Underlay migration", at(10), at(10), at(20), event_id="e3"),
    ]
    store_history_scan(db, [body], rows)
    update(db)
    assert [(e[2], e[3], e[6]) for e in ledger(db)] == [
        ("node-image", "cancelled", at(0)),  # no lastUpdateTime: the scheduled time
        ("kubernetes", "started", at(10)),  # no startTime: the scheduled time
    ]  # an event that is no upgrade is left out


def test_a_node_os_update_that_changed_no_image_is_not_judged(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    event = scheduled_event(body, "Completed", "NodeOSUpgrade: security patches", at(0), at(0), at(30))
    scan_id = store_history_scan(db, [body], [event])
    finding = findings_of(db, scan_id, "AKS-ORD-01")["c1"]
    assert finding.status == "unknown"
    assert "none of the 1 event(s) in the ledger is a step to order" in finding.message


def test_a_long_scan_window_does_not_glue_rollouts_together(tmp_path: Path) -> None:
    """Monthly scans: one pool's image change is known only from the scan diff (a month-long window), the
    other pools' two rollouts of that month from resource changes. A pool takes part once per campaign, so the
    second rollout is a campaign of its own instead of a false 'User pool before System pool'."""
    db = tmp_path / "a.duckdb"
    middle, newest = f"{UBUNTU}-202611.03.0", f"{UBUNTU}-202611.20.0"

    def body(system: str, apps: str, web: str) -> dict[str, Any]:
        return cluster(
            "c1",
            pools=[
                pool("system", image=system),
                pool("apps", mode="User", image=apps),
                pool("web", mode="User", image=web),
            ],
        )

    store_history_scan(db, [body(OLD_IMAGE, OLD_IMAGE, OLD_IMAGE)], started_at=AS_OF - timedelta(days=30))
    now = body(newest, newest, newest)
    first, second = AS_OF - timedelta(days=20), AS_OF - timedelta(days=1)
    rows = [
        *image_rows(now, 0, first, first + timedelta(minutes=10), OLD_IMAGE, middle),
        *image_rows(now, 1, first + timedelta(minutes=20), first + timedelta(minutes=30), OLD_IMAGE, middle),
        *image_rows(now, 0, second, second + timedelta(minutes=10), middle, newest),
        *image_rows(now, 1, second + timedelta(minutes=20), second + timedelta(minutes=30), middle, newest),
    ]
    scan_id = store_history_scan(db, [now], rows)
    finding = findings_of(db, scan_id, "AKS-ORD-01")["c1"]
    assert finding.status == "unknown", finding.message
    assert "the order of 1 of 2 campaign(s)" in finding.message
    assert "user pool 'web'" in finding.message


def test_a_pass_needs_the_history_collected(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    body = cluster("c1", **two_pools())
    error = ErrorRow("resource_change", "1 subscriptions from x", 429, "RateLimiting", "throttled for good")
    scan_id = store_history_scan(db, [body], in_order_rows(body), errors=[error])
    finding = findings_of(db, scan_id, "AKS-ORD-01")["c1"]
    assert finding.status == "unknown"
    assert "ran in order, but this scan could not read all upgrade history" in finding.message
    assert "resource_change (RateLimiting): throttled for good" in finding.message
