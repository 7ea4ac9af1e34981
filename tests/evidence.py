"""Builders of wire-JSON evidence and scans for tests: real DuckDB, payloads shaped as Azure sends them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.store import ErrorRow, EvidenceRow, ScanRecord, open_db, write_scan

SUB = "00000000-0000-0000-0000-000000000001"
AS_OF = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def pool(
    name: str = "system",
    *,
    mode: str = "System",
    version: str = "1.33.2",
    image: str = "AKSUbuntu-2204gen2containerd-202611.10.0",
    upgrade_settings: dict[str, Any] | None = None,
    os_type: str = "Linux",
    provisioning_state: str = "Succeeded",
) -> dict[str, Any]:
    """An agentPoolProfiles entry."""
    body: dict[str, Any] = {
        "name": name,
        "mode": mode,
        "count": 3,
        "osType": os_type,
        "vmSize": "Standard_D4s_v5",
        "orchestratorVersion": version,
        "currentOrchestratorVersion": version,
        "nodeImageVersion": image,
        "provisioningState": provisioning_state,
        "powerState": {"code": "Running"},
    }
    if upgrade_settings is not None:
        body["upgradeSettings"] = upgrade_settings
    return body


def cluster(
    name: str,
    *,
    sub: str = SUB,
    rg: str = "rg1",
    location: str = "eastus",
    version: str = "1.33.2",
    channel: str | None = "stable",
    node_os: str | None = "NodeImage",
    pools: list[dict[str, Any]] | None = None,
    tags: dict[str, str] | None = None,
    tier: str = "Standard",
    support_plan: str | None = None,
    power: str = "Running",
    provisioning_state: str = "Succeeded",
) -> dict[str, Any]:
    """A Resource Graph row of a managed cluster (lower-case type, raw properties)."""
    properties: dict[str, Any] = {
        "kubernetesVersion": version,
        "currentKubernetesVersion": version,
        "provisioningState": provisioning_state,
        "powerState": {"code": power},
        "agentPoolProfiles": pools if pools is not None else [pool()],
    }
    profile: dict[str, Any] = {}
    if channel is not None:
        profile["upgradeChannel"] = channel
    if node_os is not None:
        profile["nodeOSUpgradeChannel"] = node_os
    if profile:
        properties["autoUpgradeProfile"] = profile
    if support_plan is not None:
        properties["supportPlan"] = support_plan
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}",
        "name": name,
        "type": "microsoft.containerservice/managedclusters",
        "location": location,
        "resourceGroup": rg,
        "subscriptionId": sub,
        "tags": tags or {},
        "sku": {"name": "Base", "tier": tier},
        "properties": properties,
    }


def versions(
    minors: dict[str, list[str]], patches: dict[str, list[str]] | None = None, preview: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A kubernetesVersions body: minor -> support plans; patches default to <minor>.1 and <minor>.2."""
    return {
        "values": [
            {
                "version": minor,
                "capabilities": {"supportPlan": plans},
                **({"isPreview": True} if minor in preview else {}),
                "patchVersions": {
                    p: {"upgrades": []} for p in (patches or {}).get(minor, [f"{minor}.1", f"{minor}.2"])
                },
            }
            for minor, plans in minors.items()
        ]
    }


def maintenance_window(
    name: str,
    *,
    duration: int | None = 4,
    schedule: dict[str, Any] | None = None,
    start_time: str = "01:00",
    utc_offset: str = "+00:00",
) -> dict[str, Any]:
    """A maintenance configuration in the maintenanceWindow form (aksManagedAutoUpgradeSchedule,
    aksManagedNodeOSUpgradeSchedule), shaped as MaintenanceConfigurationsList_MaintenanceWindow.json."""
    window: dict[str, Any] = {
        "schedule": schedule or {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Saturday"}},
        "startDate": "2026-01-03",
        "startTime": start_time,
        "utcOffset": utc_offset,
    }
    if duration is not None:
        window["durationHours"] = duration
    return {
        "name": name,
        "id": f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/"
        f"managedClusters/c/maintenanceConfigurations/{name}",
        "properties": {"maintenanceWindow": window},
    }


def legacy_default() -> dict[str, Any]:
    """The legacy `default` configuration (timeInWeek / notAllowedTime), as in the 2025-07-01
    MaintenanceConfigurationsList.json example."""
    return {
        "id": f"/subscriptions/{SUB}/resourcegroups/rg1/providers/Microsoft.ContainerService/managedClusters/"
        "clustername1/maintenanceConfigurations/default",
        "name": "default",
        "properties": {
            "timeInWeek": [{"day": "Monday", "hourSlots": [1, 2]}],
            "notAllowedTime": [{"start": "2020-11-26T03:00:00Z", "end": "2020-11-30T12:00:00Z"}],
        },
    }


DEFAULT_VERSIONS = versions(
    {
        "1.32": ["KubernetesOfficial"],
        "1.33": ["KubernetesOfficial"],
        "1.34": ["KubernetesOfficial"],
        "1.30": ["AKSLongTermSupport"],
    }
)


def store_scan(
    db_path: Path,
    clusters: list[dict[str, Any]],
    *,
    region_versions: dict[str, Any] | None = None,
    maintenance: dict[str, list[dict[str, Any]]] | None = None,
    latest_images: dict[tuple[str, str], str] | None = None,
    errors: list[ErrorRow] | None = None,
    started_at: datetime = AS_OF,
    scan_id: str | None = None,
    extra_evidence: list[EvidenceRow] | None = None,
) -> str:
    """Write one committed scan holding these clusters and evidence (and any extra rows); return its id."""
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
    evidence += list(extra_evidence or [])
    record = ScanRecord(
        scan_id=scan_id or started_at.strftime("%Y%m%dT%H%M%SZ") + "-test",
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
    con = open_db(db_path, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id
