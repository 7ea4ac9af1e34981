"""Raw payloads are shaped once (queries/shape/): each column of shaped_clusters and shaped_pools is what the payload
holds at its path, for well-formed and malformed payloads alike, and the model, the export and the ledger read their
cluster evidence only from there."""

from __future__ import annotations

import json
import re
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


# A query file that reads the cluster evidence itself: it selects the evidence kind 'cluster' (= or IN), or reads a
# path only a cluster payload has (agentPoolProfiles and the fields a pool entry is read by; a Fleet's
# autoUpgradeProfileStatus is not the cluster's autoUpgradeProfile).
READS_CLUSTER_EVIDENCE = re.compile(
    r"kind\s*=\s*'cluster'|kind\s+IN\s*\([^)]*'cluster'"
    r"|'\$\.properties\.(agentPoolProfiles|currentKubernetesVersion|kubernetesVersion|autoUpgradeProfile[.'])"
    r"|'\$\.(orchestratorVersion|currentOrchestratorVersion|nodeImageVersion)'",
    re.IGNORECASE,
)
# Files outside queries/shape/ allowed to, each with why. None today: every reader goes through the shape.
ALLOWED: dict[str, str] = {}


def test_only_the_shape_parses_cluster_evidence() -> None:
    """No query file outside queries/shape/ reads the cluster evidence or its payloads itself: the model, the
    export, the ledger, the period and the library read shaped_clusters and shaped_pools (docs/architecture.md)."""
    root = queries_dir()
    offenders = []
    for path in sorted(root.rglob("*.sql")):
        name = path.relative_to(root).as_posix()
        if name.startswith("shape/") or name in ALLOWED:
            continue
        text = "\n".join(line.split("--", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        if match := READS_CLUSTER_EVIDENCE.search(text):
            offenders.append(f"{name}: {match.group(0)}")
    assert not offenders, offenders


def test_the_check_sees_a_file_that_parses_cluster_payloads() -> None:
    """The pattern above catches the ways the files read cluster evidence before the shape existed."""
    for text in (
        "FROM evidence e WHERE e.kind = 'cluster'",
        "WHERE kind IN ('maintenance', 'cluster')",
        "unnest(TRY_CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[]))",
        "pool->>'$.nodeImageVersion'",
        "e.payload->>'$.properties.autoUpgradeProfile.upgradeChannel'",
    ):
        assert READS_CLUSTER_EVIDENCE.search(text), text
