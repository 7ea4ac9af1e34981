"""A small fleet in ARM wire JSON for the emulator, built from the same builders as the DuckDB fixtures."""

from __future__ import annotations

from typing import Any

from tests.evidence import DEFAULT_VERSIONS, SUB, cluster

SUB2 = "00000000-0000-0000-0000-000000000002"


def arm_cluster(name: str, **kwargs: Any) -> dict[str, Any]:
    """A managed cluster as ARM returns it (Resource Graph adds resourceGroup/subscriptionId and lower-cases type)."""
    body = cluster(name, **kwargs)
    body.pop("resourceGroup")
    body.pop("subscriptionId")
    body["type"] = "Microsoft.ContainerService/managedClusters"
    return body


def small_fleet(extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Two subscriptions, three clusters, one region."""
    clusters = [
        arm_cluster("good"),
        arm_cluster("old", version="1.28.1", channel=None),
        arm_cluster("other-sub", sub=SUB2),
        *(extra or []),
    ]
    return {
        "schema": "aks-upgrade-auditor/fleet@1",
        "tenantId": "11111111-1111-1111-1111-111111111111",
        "subscriptions": [
            {
                "id": f"/subscriptions/{sid}",
                "subscriptionId": sid,
                "displayName": name,
                "state": "Enabled",
                "tenantId": "11111111-1111-1111-1111-111111111111",
            }
            for sid, name in ((SUB, "Contoso Prod"), (SUB2, "Contoso Dev"))
        ],
        "managedClusters": clusters,
        "maintenanceConfigurations": {},
        "kubernetesVersions": {"eastus": DEFAULT_VERSIONS},
        "latestNodeImages": {"eastus": {"AKSUbuntu-2204gen2containerd": "AKSUbuntu-2204gen2containerd-202611.17.0"}},
    }
