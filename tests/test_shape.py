"""Raw payloads are shaped once (queries/shape/): each column of shaped_clusters and shaped_pools is what the payload
holds at its path, for well-formed and malformed payloads alike, and the model, the export and the ledger read their
cluster evidence only from there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor import sql
from auditor.paths import queries_dir
from auditor.store import open_db
from tests.evidence import cluster, pool, store_scan

# Column -> (path in the payload, what it holds: the text of a scalar, the JSON type, or the JSON itself).
TEXT = {
    "name_text": ("name",),
    "subscription_text": ("subscriptionId",),
    "location_text": ("location",),
    "tier_text": ("sku", "tier"),
    "sku_name_text": ("sku", "name"),
    "current_version_text": ("properties", "currentKubernetesVersion"),
    "requested_version_text": ("properties", "kubernetesVersion"),
    "channel_text": ("properties", "autoUpgradeProfile", "upgradeChannel"),
    "node_provisioning_mode_text": ("properties", "nodeProvisioningProfile", "mode"),
    "force_upgrade_text": ("properties", "upgradeSettings", "overrideSettings", "forceUpgrade"),
    "environment_text": ("tags", "environment"),
}
TYPES = {
    "name_type": ("name",),
    "tags_type": ("tags",),
    "properties_type": ("properties",),
    "pools_type": ("properties", "agentPoolProfiles"),
    "force_upgrade_type": ("properties", "upgradeSettings", "overrideSettings", "forceUpgrade"),
}
JSON_TYPE = {dict: "OBJECT", list: "ARRAY", str: "VARCHAR", bool: "BOOLEAN", int: "UBIGINT", type(None): "NULL"}


def _at(payload: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(payload, dict) or key not in payload:
            return False, None
        payload = payload[key]
    return True, payload


def _payloads() -> list[dict[str, Any]]:
    plain = cluster("plain", pools=[pool("system"), pool("user1", mode="User")])
    odd = cluster("odd", tags={"env": "prod", "environment": "production"})
    odd["name"] = 7
    odd["sku"] = {"tier": "Premium", "name": "Automatic"}
    odd["properties"]["agentPoolProfiles"] = "not a list"
    odd["properties"]["autoUpgradeProfile"] = {"upgradeChannel": True}
    odd["properties"]["nodeProvisioningProfile"] = {"mode": "Auto"}
    odd["properties"]["upgradeSettings"] = {"overrideSettings": {"forceUpgrade": True, "until": "2026-12-01T00:00Z"}}
    bare = cluster("bare")
    bare["properties"] = None
    bare["tags"] = ["a", "list"]
    return [plain, odd, bare]


def test_shaped_clusters_hold_what_the_payload_holds(tmp_path: Path) -> None:
    payloads = _payloads()
    db = tmp_path / "s.duckdb"
    scan_id = store_scan(db, payloads)
    con = open_db(db)
    try:
        sql.run_all(con, sql.files("shape"))
        cursor = con.execute("SELECT * FROM shaped_clusters([$scan_id])", {"scan_id": scan_id})
        columns = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    assert len(rows) == len(payloads)
    by_id = {p["id"]: p for p in payloads}
    for row in rows:
        payload = by_id[row["cluster_id"]]
        for column, path in TEXT.items():
            present, value = _at(payload, path)
            expected = None if not present or value is None else value if isinstance(value, str) else json.dumps(value)
            assert row[column] == expected, (payload["name"], column)
        for column, path in TYPES.items():
            present, value = _at(payload, path)
            assert row[column] == (JSON_TYPE[type(value)] if present else None), (payload["name"], column)
        present, pools = _at(payload, ("properties", "agentPoolProfiles"))
        shaped_pools = json.loads(row["pools_json"]) if row["pools_json"] is not None else None
        assert shaped_pools == (pools if present else None)


# Column of shaped_pools -> path in an agentPoolProfiles entry (the text of a scalar, the JSON of anything else).
POOL_TEXT = {
    "name_text": ("name",),
    "count_text": ("count",),
    "mode_text": ("mode",),
    "os_type_text": ("osType",),
    "os_sku_text": ("osSKU",),
    "vm_size_text": ("vmSize",),
    "orchestrator_version_text": ("orchestratorVersion",),
    "current_orchestrator_version_text": ("currentOrchestratorVersion",),
    "node_image_text": ("nodeImageVersion",),
    "state_text": ("provisioningState",),
    "power_text": ("powerState", "code"),
    "max_surge_text": ("upgradeSettings", "maxSurge"),
    "max_unavailable_text": ("upgradeSettings", "maxUnavailable"),
    "pool_type_text": ("type",),
    "upgrade_strategy_text": ("upgradeStrategy",),
    "drain_timeout_text": ("upgradeSettings", "drainTimeoutInMinutes"),
    "node_soak_text": ("upgradeSettings", "nodeSoakDurationInMinutes"),
    "undrainable_node_behavior_text": ("upgradeSettings", "undrainableNodeBehavior"),
    "bg_drain_batch_text": ("upgradeSettingsBlueGreen", "drainBatchSize"),
    "bg_drain_timeout_text": ("upgradeSettingsBlueGreen", "drainTimeoutInMinutes"),
    "bg_batch_soak_text": ("upgradeSettingsBlueGreen", "batchSoakDurationInMinutes"),
    "bg_final_soak_text": ("upgradeSettingsBlueGreen", "finalSoakDurationInMinutes"),
}
POOL_TYPES = {
    "name_type": ("name",),
    "settings_type": ("upgradeSettings",),
    "bluegreen_type": ("upgradeSettingsBlueGreen",),
}


def _pool_payloads() -> list[dict[str, Any]]:
    full = pool("user1", mode="User", upgrade_settings={"maxSurge": "33%", "drainTimeoutInMinutes": 30})
    full.update(vmSize="Standard_D4s_v3", osSKU="AzureLinux", type="VirtualMachineScaleSets", count=3)
    full["powerState"] = {"code": "Running"}
    full["upgradeStrategy"] = "BlueGreen"
    full["upgradeSettingsBlueGreen"] = {"drainBatchSize": "50%", "finalSoakDurationInMinutes": 60}
    odd = pool("odd")
    odd["name"] = 7
    odd["upgradeSettings"] = ["not", "an", "object"]
    listed = cluster("listed", pools=[pool("system"), full, odd, None, "a string", 12])  # type: ignore[list-item]
    text = cluster("text")
    text["properties"]["agentPoolProfiles"] = "[not a list]"
    keyed = cluster("keyed")
    keyed["properties"]["agentPoolProfiles"] = {"system": pool("system")}
    absent = cluster("absent")
    del absent["properties"]["agentPoolProfiles"]
    empty = cluster("empty", pools=[])
    return [listed, text, keyed, absent, empty]


def test_shaped_pools_hold_what_each_entry_holds(tmp_path: Path) -> None:
    """One row per entry of a list of pools (null and non-object entries too, every field NULL), none for a cluster
    whose agentPoolProfiles is absent or not a list."""
    payloads = _pool_payloads()
    db = tmp_path / "s.duckdb"
    scan_id = store_scan(db, payloads)
    con = open_db(db)
    try:
        sql.run_all(con, sql.files("shape"))
        cursor = con.execute(
            "SELECT * FROM shaped_pools([$scan_id]) ORDER BY cluster_id, pool_index", {"scan_id": scan_id}
        )
        columns = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    listed = payloads[0]
    entries = listed["properties"]["agentPoolProfiles"]
    assert [(row["cluster_id"], row["pool_index"]) for row in rows] == [(listed["id"], i) for i in range(len(entries))]
    for row, entry in zip(rows, entries, strict=True):
        assert row["entry_type"] == (JSON_TYPE[type(entry)] if entry is not None else None), row["pool_index"]
        for column, path in POOL_TEXT.items():
            present, value = _at(entry, path)
            expected = None if not present or value is None else value if isinstance(value, str) else json.dumps(value)
            assert row[column] == expected, (row["pool_index"], column)
        for column, path in POOL_TYPES.items():
            present, value = _at(entry, path)
            assert row[column] == (JSON_TYPE[type(value)] if present else None), (row["pool_index"], column)


def test_the_model_reads_cluster_payloads_only_through_the_shape() -> None:
    """No model file parses the cluster evidence itself: cluster_payloads (queries/shape/clusters.sql) does."""
    for path in sorted((queries_dir() / "model").glob("*.sql")):
        assert "kind = 'cluster'" not in path.read_text(encoding="utf-8"), path.name


def test_the_export_and_the_ledger_read_cluster_payloads_only_through_the_shape() -> None:
    """The export's clusters and pools and the ledger's snapshots and override sightings read shaped_clusters, as
    the model does: no export or history file parses the cluster payloads again."""
    for folder in ("export", "history"):
        for path in sorted((queries_dir() / folder).glob("*.sql")):
            assert "kind = 'cluster'" not in path.read_text(encoding="utf-8"), f"{folder}/{path.name}"
