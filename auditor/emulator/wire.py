"""Azure's wire shapes for the emulator: factories returning the rows and bodies ARM and Resource Graph serve.

They decide nothing: every id, moment and value is passed in. The generator and the evolution decide what a
fleet holds, the ARM routes serve it; all of them build these shapes here, so a shape is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from auditor.catalog import PLAN_LTS, PLAN_OFFICIAL
from auditor.emulator.releases import MinorPlan, Region

MANAGED_CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"
MAINTENANCE_CONFIGURATION_TYPE = "Microsoft.ContainerService/managedClusters/maintenanceConfigurations"
_NEVER = "0001-01-01T00:00:00.0000000Z"  # how AKS writes a scheduled event's start time before it starts


def timestamp(moment: datetime) -> str:
    """A UTC moment as ARM writes it, with milliseconds (2026-11-20T04:05:06.000Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def subscription(subscription_id: str, display_name: str, tenant_id: str) -> dict[str, Any]:
    """A subscription as Subscriptions - List returns it (an Enterprise Agreement subscription, enabled)."""
    return {
        "id": f"/subscriptions/{subscription_id}",
        "subscriptionId": subscription_id,
        "displayName": display_name,
        "state": "Enabled",
        "tenantId": tenant_id,
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "EnterpriseAgreement_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def managed_cluster(
    cluster_id: str, name: str, location: str, tags: Mapping[str, str], tier: str, properties: dict[str, Any]
) -> dict[str, Any]:
    """A managed cluster as ARM returns it (tags sorted by name, system-assigned identity)."""
    return {
        "id": cluster_id,
        "name": name,
        "type": MANAGED_CLUSTER_TYPE,
        "location": location,
        "tags": dict(sorted(tags.items())),
        "sku": {"name": "Base", "tier": tier},
        "identity": {"type": "SystemAssigned"},
        "properties": properties,
    }


def agent_pool(cluster: Mapping[str, Any], profile: Mapping[str, Any]) -> dict[str, Any]:
    """An agent pool resource (Agent Pools - Get) from the cluster's agentPoolProfiles entry."""
    properties = {key: value for key, value in profile.items() if key != "name"}
    return {
        "id": f"{cluster['id']}/agentPools/{profile['name']}",
        "name": profile["name"],
        "type": f"{MANAGED_CLUSTER_TYPE}/agentPools",
        "properties": properties,
    }


def maintenance_configuration(cluster_id: str, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A maintenance configuration of a cluster (default, aksManagedAutoUpgradeSchedule, ...NodeOSUpgradeSchedule)."""
    return {
        "id": f"{cluster_id}/maintenanceConfigurations/{name}",
        "name": name,
        "type": MAINTENANCE_CONFIGURATION_TYPE,
        "properties": properties,
    }


def pool_upgrade_profile(cluster_id: str, pool_name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Agent Pools - Get Upgrade Profile."""
    return {
        "id": f"{cluster_id}/agentPools/{pool_name}/upgradeprofiles/default",
        "name": "default",
        "type": f"{MANAGED_CLUSTER_TYPE}/agentPools/upgradeProfiles",
        "properties": properties,
    }


def cluster_upgrade_profile(
    cluster_id: str, control_plane: dict[str, Any], pools: list[dict[str, Any]]
) -> dict[str, Any]:
    """Managed Clusters - Get Upgrade Profile."""
    return {
        "id": f"{cluster_id}/upgradeprofiles/default",
        "name": "default",
        "type": f"{MANAGED_CLUSTER_TYPE}/upgradeprofiles",
        "properties": {"controlPlaneProfile": control_plane, "agentPoolProfiles": pools},
    }


def kubernetes_versions_body(region: Region, plans: list[MinorPlan]) -> dict[str, Any]:
    """Managed Clusters - List Kubernetes Versions for a region: its listed minors, their patches and upgrades."""
    by_minor = {plan.minor: plan for plan in plans}
    minors = sorted(region.listed, key=lambda m: by_minor[m].calendar.key)
    default_minor = region.official[-2] if len(region.official) >= 2 else region.official[-1]
    values: list[dict[str, Any]] = []
    for position, minor in enumerate(minors):
        plan = by_minor[minor]
        next_patches = (
            [f"{minors[position + 1]}.{p}" for p in region.listed[minors[position + 1]]]
            if position + 1 < len(minors)
            else []
        )
        patches = region.listed[minor]
        patch_versions = {
            f"{minor}.{patch}": {"upgrades": [f"{minor}.{later}" for later in patches[i + 1 :]] + next_patches}
            for i, patch in enumerate(patches)
        }
        plans_offered = [PLAN_OFFICIAL] if plan.status in ("official", "preview") else []
        if plan.calendar.lts_available and plan.status in ("official", "lts"):
            plans_offered.append(PLAN_LTS)
        entry: dict[str, Any] = {"capabilities": {"supportPlan": plans_offered}}
        if minor == default_minor:
            entry["isDefault"] = True
        if plan.status == "preview":
            entry["isPreview"] = True
        entry["patchVersions"] = patch_versions
        entry["version"] = minor
        values.append(entry)
    return {"values": values}


def property_change(previous: Any, new: Any, category: str = "System") -> dict[str, Any]:
    """One changed property of a resourcechanges row."""
    return {
        "previousValue": previous,
        "newValue": new,
        "propertyChangeType": "Update",
        "changeCategory": category,
    }


def resource_change_row(
    *,
    tenant_id: str,
    cluster_id: str,
    change_id: str,
    snapshots: tuple[str, str],
    correlation_id: str,
    moment: datetime,
    changes: dict[str, Any],
    automated: bool,
) -> dict[str, Any]:
    """A Resource Graph resourcechanges row: an update of a managed cluster by AKS (automated) or a person."""
    return {
        "id": f"{cluster_id}/providers/Microsoft.Resources/changes/{change_id}",
        "name": change_id,
        "type": "microsoft.resources/changes",
        "tenantId": tenant_id,
        "kind": "",
        "location": "",
        "resourceGroup": cluster_id.split("/")[4].lower(),
        "subscriptionId": cluster_id.split("/")[2],
        "managedBy": "",
        "sku": None,
        "plan": None,
        "properties": {
            "targetResourceId": cluster_id,
            "targetResourceType": "microsoft.containerservice/managedclusters",
            "changeType": "Update",
            "changeAttributes": {
                "previousResourceSnapshotId": snapshots[0],
                "newResourceSnapshotId": snapshots[1],
                "correlationId": correlation_id,
                "changedByType": "Application" if automated else "User",
                "changedBy": "AKS auto-upgrader" if automated else "ops@contoso.example",
                "clientType": "Unspecified" if automated else "Azure CLI",
                "operation": "Microsoft.ContainerService/managedClusters/write",
                "changesCount": len(changes),
                "timestamp": timestamp(moment),
            },
            "changes": changes,
        },
        "tags": None,
        "identity": None,
        "zones": None,
        "extendedLocation": None,
    }


def scheduled_event_row(
    *,
    tenant_id: str,
    cluster_id: str,
    location: str,
    event_id: str,
    status: str,
    details: str,
    scheduled: datetime,
    started: datetime | None,
    updated: datetime,
) -> dict[str, Any]:
    """A Resource Graph containerserviceeventresources row (AKS Communication Manager's scheduled event)."""
    return {
        "id": f"{cluster_id}/scheduledEvents/{event_id}",
        "name": event_id,
        "type": "microsoft.containerservice/managedclusters/scheduledevents",
        "tenantId": tenant_id,
        "kind": "",
        "location": location,
        "resourceGroup": cluster_id.split("/")[4].lower(),
        "subscriptionId": cluster_id.split("/")[2],
        "managedBy": "",
        "sku": None,
        "plan": None,
        "properties": {
            "description": "ScheduledEvents",
            "eventId": event_id,
            "eventSource": "AutoUpgrader",
            "eventStatus": status,
            "eventDetails": details,
            "scheduledTime": timestamp(scheduled),
            "startTime": timestamp(started) if started else _NEVER,
            "lastUpdateTime": timestamp(updated),
            "resources": [cluster_id],
            "resourceType": "ManagedCluster",
        },
        "tags": None,
        "identity": None,
        "zones": None,
        "extendedLocation": None,
    }
