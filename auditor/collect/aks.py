"""AKS management API evidence: kubernetesVersions per region, maintenance configurations per cluster,
agent-pool upgrade profiles per (region, image family)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.collect.base import ClusterRef, Inventory, Task
from auditor.collect.context import Bucket, CallFailed, CollectContext
from auditor.nodeimage import parse_node_image

_CLUSTER_PATH = "/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ContainerService/managedClusters/{n}"


def image_family(node_image_version: str) -> str:
    """The image family of a nodeImageVersion; the whole string when it cannot be parsed."""
    parsed = parse_node_image(node_image_version) if node_image_version else None
    return parsed.family if parsed else node_image_version


def _as_wire(model: Any) -> Any:
    return model.as_dict() if hasattr(model, "as_dict") else model


def _attempt(task: Callable[[], None]) -> Task:
    # A CallFailed is already a collection_errors row; the task simply has no evidence to add.
    def run() -> None:
        try:
            task()
        except CallFailed:
            pass

    return run


class KubernetesVersionsCollector:
    """Supported minors, patches and support plans: one call per region."""

    kind = "kubernetes_versions"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        regions: dict[str, str] = {}
        for cluster in inventory.clusters:
            regions.setdefault(cluster.location, cluster.subscription_id)
        return [_attempt(lambda r=region, s=sub: self._one(ctx, s, r)) for region, sub in sorted(regions.items())]

    def _one(self, ctx: CollectContext, subscription_id: str, region: str) -> None:
        client = ctx.clients.container_service(subscription_id)
        result = ctx.call(self.kind, region, Bucket("aks", subscription_id, region),
                          lambda **kw: client.managed_clusters.list_kubernetes_versions(region, **kw))
        # The SDK model is a Mapping whose `.values` is the dict method: read the wire key.
        ctx.record(self.kind, region,
                   f"GET /subscriptions/{subscription_id}/providers/Microsoft.ContainerService/locations/"
                   f"{region}/kubernetesVersions", {"values": _as_wire(result)["values"]})


class MaintenanceConfigurationsCollector:
    """A cluster's maintenance configurations (not in Resource Graph): one call per cluster."""

    kind = "maintenance_configurations"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [_attempt(lambda c=cluster: self._one(ctx, c)) for cluster in inventory.clusters]

    def _one(self, ctx: CollectContext, cluster: ClusterRef) -> None:
        client = ctx.clients.container_service(cluster.subscription_id)
        items = ctx.call(
            self.kind, cluster.cluster_id, Bucket("aks", cluster.subscription_id, cluster.location),
            lambda **kw: [_as_wire(m) for m in client.maintenance_configurations.list_by_managed_cluster(
                cluster.resource_group, cluster.name, **kw)],
        )
        path = _CLUSTER_PATH.format(s=cluster.subscription_id, g=cluster.resource_group, n=cluster.name)
        ctx.record(self.kind, cluster.cluster_id, f"GET {path}/maintenanceConfigurations", {"value": items})


class PoolUpgradeProfilesCollector:
    """latestNodeImageVersion depends on region and image family, not on the pool: one call per pair,
    or one per pool when `all_pool_profiles` is set."""

    kind = "pool_upgrade_profile"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        exhaustive = bool(inventory.options.get("all_pool_profiles"))
        chosen: dict[str, tuple[ClusterRef, str]] = {}
        for cluster in inventory.clusters:
            for pool_name, image in cluster.pools:
                scope = f"{cluster.location}|{image_family(image)}"
                if exhaustive:
                    scope = f"{scope}|{cluster.cluster_id}/agentPools/{pool_name}"
                chosen.setdefault(scope, (cluster, pool_name))
        return [_attempt(lambda s=scope, c=c, p=p: self._one(ctx, s, c, p)) for scope, (c, p) in chosen.items()]

    def _one(self, ctx: CollectContext, scope: str, cluster: ClusterRef, pool_name: str) -> None:
        client = ctx.clients.container_service(cluster.subscription_id)
        profile = ctx.call(
            self.kind, scope, Bucket("aks", cluster.subscription_id, cluster.location),
            lambda **kw: client.agent_pools.get_upgrade_profile(cluster.resource_group, cluster.name, pool_name, **kw),
        )
        path = _CLUSTER_PATH.format(s=cluster.subscription_id, g=cluster.resource_group, n=cluster.name)
        ctx.record(self.kind, scope, f"GET {path}/agentPools/{pool_name}/upgradeProfiles/default", _as_wire(profile))
