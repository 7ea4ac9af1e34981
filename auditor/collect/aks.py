"""AKS management API evidence: kubernetesVersions per region, maintenance configurations per cluster,
agent-pool upgrade profiles per (region, image family)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from functools import partial
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


def _task(cluster: ClusterRef, call: Callable[[], None]) -> Task:
    # A CallFailed is already a collection_errors row; the task simply has no evidence to add.
    def run() -> None:
        with contextlib.suppress(CallFailed):
            call()

    return Task(run, (cluster.subscription_id, cluster.location))


def _bucket(cluster: ClusterRef) -> Bucket:
    return Bucket("aks", cluster.subscription_id, cluster.location)


def _path(cluster: ClusterRef) -> str:
    return _CLUSTER_PATH.format(s=cluster.subscription_id, g=cluster.resource_group, n=cluster.name)


class MaintenanceConfigurationsCollector:
    """A cluster's maintenance configurations (not in Resource Graph): one call per cluster."""

    kind = "maintenance_configurations"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        for cluster in inventory.clusters:
            inventory.bucket_load[(cluster.subscription_id, cluster.location)] += 1
        return [_task(cluster, partial(self._one, ctx, cluster)) for cluster in inventory.clusters]

    def _one(self, ctx: CollectContext, cluster: ClusterRef) -> None:
        client = ctx.clients.container_service(cluster.subscription_id)
        items = ctx.call(
            self.kind,
            cluster.cluster_id,
            _bucket(cluster),
            lambda **kw: [
                _as_wire(m)
                for m in client.maintenance_configurations.list_by_managed_cluster(
                    cluster.resource_group, cluster.name, **kw
                )
            ],
        )
        ctx.record(self.kind, cluster.cluster_id, f"GET {_path(cluster)}/maintenanceConfigurations", {"value": items})


class KubernetesVersionsCollector:
    """Supported minors, patches and support plans: one call per region, through its least loaded bucket."""

    kind = "kubernetes_versions"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        by_region: dict[str, list[ClusterRef]] = defaultdict(list)
        for cluster in inventory.clusters:
            by_region[cluster.location].append(cluster)
        tasks = []
        for region in sorted(by_region):
            via = inventory.least_loaded(by_region[region])
            tasks.append(_task(via, partial(self._one, ctx, via, region)))
        return tasks

    def _one(self, ctx: CollectContext, via: ClusterRef, region: str) -> None:
        client = ctx.clients.container_service(via.subscription_id)

        # The SDK model is a Mapping whose `.values` is the dict method: read the wire key, inside the call so
        # a body without it is recorded as a malformed response.
        def versions(**kw: Any) -> Any:
            return _as_wire(client.managed_clusters.list_kubernetes_versions(region, **kw))["values"]

        values = ctx.call(self.kind, region, _bucket(via), versions)
        ctx.record(
            self.kind,
            region,
            f"GET /subscriptions/{via.subscription_id}/providers/Microsoft.ContainerService/locations/"
            f"{region}/kubernetesVersions",
            {"values": values},
        )


class PoolUpgradeProfilesCollector:
    """latestNodeImageVersion depends on region and image family, not on the pool: one call per pair (through
    its least loaded bucket), or one per pool when `all_pool_profiles` is set."""

    kind = "pool_upgrade_profile"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        exhaustive = bool(inventory.options.get("all_pool_profiles"))
        candidates: dict[str, list[tuple[ClusterRef, str]]] = defaultdict(list)
        for cluster in inventory.clusters:
            for pool_name, image in cluster.pools:
                scope = f"{cluster.location}|{image_family(image)}"
                if exhaustive:
                    scope = f"{scope}|{cluster.cluster_id}/agentPools/{pool_name}"
                candidates[scope].append((cluster, pool_name))
        tasks = []
        for scope, pools in candidates.items():
            via = inventory.least_loaded(c for c, _ in pools)
            pool_name = next(p for c, p in pools if c is via)
            tasks.append(_task(via, partial(self._one, ctx, scope, via, pool_name)))
        return tasks

    def _one(self, ctx: CollectContext, scope: str, cluster: ClusterRef, pool_name: str) -> None:
        client = ctx.clients.container_service(cluster.subscription_id)
        profile = ctx.call(
            self.kind,
            scope,
            _bucket(cluster),
            lambda **kw: client.agent_pools.get_upgrade_profile(cluster.resource_group, cluster.name, pool_name, **kw),
        )
        ctx.record(
            self.kind, scope, f"GET {_path(cluster)}/agentPools/{pool_name}/upgradeProfiles/default", _as_wire(profile)
        )
