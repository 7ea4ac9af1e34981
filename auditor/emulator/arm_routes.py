"""The ARM routes the emulator serves: the path table, and one read-only handler per route (subscriptions,
permissions, management groups, managed clusters, agent pools, upgrade profiles, maintenance configurations,
Kubernetes versions, Fleet Manager)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from auditor.emulator import wire
from auditor.emulator.faults import Behaviour
from auditor.emulator.fleet import Fleet, normalise_location
from auditor.emulator.fleet_manager import FLEET_TYPE, fleet_route
from auditor.emulator.kql import ResourceGraph, decode_token, encode_token
from auditor.emulator.transport import Reply, arm_error, arm_forbidden, ok
from auditor.nodeimage import parse_node_image
from auditor.vocabulary import version_key

Action = Callable[[dict[str, str], dict[str, str], Any], Reply]


@dataclass(frozen=True)
class Route:
    """What a path addresses: call kind, handler name and the path parameters (original case)."""

    kind: str
    action: str
    params: dict[str, str]


def route(path: str) -> Route | None:
    """What an ARM path addresses, or None for a path the emulator does not serve."""
    # Clients percent-encode path parameters ("Australia%20East", "rg%281%29"): decode each segment after the split,
    # so an encoded '/' stays inside its segment.
    parts = [unquote(p) for p in path.split("/") if p]
    low = [p.lower() for p in parts]
    n = len(parts)
    if low == ["subscriptions"]:
        return Route("subscriptions", "list_subscriptions", {})
    if n == 2 and low[0] == "subscriptions":
        return Route("subscriptions", "get_subscription", {"sid": parts[1]})
    if low == ["providers", "microsoft.resourcegraph", "resources"]:
        return Route("resource_graph", "resource_graph", {})
    if n == 5 and low[:3] == ["providers", "microsoft.management", "managementgroups"] and low[4] == "descendants":
        return Route("management_groups", "descendants", {"group": parts[3]})
    if n < 5 or low[0] != "subscriptions":
        return None
    fleet_params = fleet_route(parts)
    if fleet_params is not None:
        return Route("fleets", "fleet_read", fleet_params)
    sid = parts[1]
    if low[2:5] == ["providers", "microsoft.authorization", "permissions"] and n == 5:
        return Route("permissions", "permissions", {"sid": sid})
    if low[2:5] == ["providers", "microsoft.containerservice", "managedclusters"] and n == 5:
        return Route("managed_clusters", "list_clusters", {"sid": sid})
    if (
        n == 7
        and low[2:5] == ["providers", "microsoft.containerservice", "locations"]
        and low[6] == "kubernetesversions"
    ):
        return Route("kubernetes_versions", "kubernetes_versions", {"sid": sid, "location": parts[5]})
    if (
        n < 7
        or low[2] != "resourcegroups"
        or low[4:7] != ["providers", "microsoft.containerservice", "managedclusters"]
    ):
        return None
    base = {"sid": sid, "rg": parts[3]}
    if n == 7:
        return Route("managed_clusters", "list_clusters", base)
    base["cluster"] = parts[7]
    rest = low[8:]
    if not rest:
        return Route("managed_clusters", "get_cluster", base)
    if rest == ["upgradeprofiles", "default"]:
        return Route("cluster_upgrade_profiles", "cluster_upgrade_profile", base)
    if rest[0] == "agentpools":
        if len(rest) == 1:
            return Route("agent_pools", "list_pools", base)
        pool = {**base, "pool": parts[9]}
        if len(rest) == 2:
            return Route("agent_pools", "get_pool", pool)
        if rest[2:] == ["upgradeprofiles", "default"]:
            return Route("pool_upgrade_profiles", "pool_upgrade_profile", pool)
        return None
    if rest[0] == "maintenanceconfigurations":
        if len(rest) == 1:
            return Route("maintenance_configurations", "list_maintenance", base)
        if len(rest) == 2:
            return Route("maintenance_configurations", "get_maintenance", {**base, "config": parts[9]})
    return None


def minor_of(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


class ArmRoutes:
    """The handlers of the ARM routes over one fleet; `actions` maps a Route's action to its handler."""

    def __init__(
        self, fleet: Fleet, behaviour: Behaviour, endpoint: Callable[[], str], resource_graph: ResourceGraph
    ) -> None:
        self.fleet = fleet
        self.behaviour = behaviour
        self._endpoint = endpoint
        self.actions: dict[str, Action] = {
            "list_subscriptions": self._list_subscriptions,
            "get_subscription": self._get_subscription,
            "resource_graph": resource_graph.query,
            "list_clusters": self._list_clusters,
            "get_cluster": self._get_cluster,
            "list_pools": self._list_pools,
            "get_pool": self._get_pool,
            "pool_upgrade_profile": self._pool_upgrade_profile,
            "cluster_upgrade_profile": self._cluster_upgrade_profile,
            "list_maintenance": self._list_maintenance,
            "get_maintenance": self._get_maintenance,
            "kubernetes_versions": self._kubernetes_versions,
            "fleet_read": self._fleet_read,
            "permissions": self._permissions,
            "descendants": self._descendants,
        }

    def region_of(self, route: Route) -> str:
        """The region an ARM call is billed to by the AKS token bucket (empty when unknown)."""
        if "location" in route.params:
            return normalise_location(route.params["location"])
        if route.kind == "fleets":
            fleet = self._fleet_for(route.params)
            return normalise_location(fleet["location"]) if fleet else ""
        cluster = self._cluster_for(route.params)
        return normalise_location(cluster["location"]) if cluster else ""

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> Reply:
        offset = 0
        if "$skiptoken" in query:
            decoded = decode_token(query["$skiptoken"])
            if decoded is None or not isinstance(decoded.get("o"), int) or decoded["o"] < 0:
                return arm_error(400, "InvalidSkipToken", "The $skipToken is not valid for this request.")
            offset = decoded["o"]
        size = self.behaviour.list_page_size
        page = items[offset : offset + size]
        body: dict[str, Any] = {"value": page}
        if offset + size < len(items):
            token = encode_token({"o": offset + size})
            body["nextLink"] = f"{self._endpoint()}{path}?api-version={query['api-version']}&$skipToken={token}"
        return ok(body)

    def _path(self, params: dict[str, str], *tail: str) -> str:
        base = f"/subscriptions/{params['sid']}"
        if "rg" in params:
            base += f"/resourceGroups/{params['rg']}"
        base += "/providers/Microsoft.ContainerService/managedClusters"
        if tail:
            base += "/" + "/".join(tail)
        return base

    def _subscription_missing(self, sid: str) -> Reply | None:
        if self.fleet.subscription(sid) is None:
            return arm_error(404, "SubscriptionNotFound", f"The subscription '{sid}' could not be found.")
        return None

    def _cluster_for(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "cluster" not in params:
            return None
        cluster_id = (
            f"/subscriptions/{params['sid']}/resourceGroups/{params['rg']}"
            f"/providers/Microsoft.ContainerService/managedClusters/{params['cluster']}"
        )
        return self.fleet.cluster(cluster_id)

    def _cluster_or_404(self, params: dict[str, str]) -> tuple[dict[str, Any] | None, Reply | None]:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return None, missing
        cluster = self._cluster_for(params)
        if cluster is None:
            return None, arm_error(
                404,
                "ResourceNotFound",
                "The Resource 'Microsoft.ContainerService/managedClusters/"
                f"{params['cluster']}' under resource group '{params['rg']}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return cluster, None

    @staticmethod
    def _find_pool(cluster: dict[str, Any], name: str) -> dict[str, Any] | None:
        wanted = name.lower()
        for profile in cluster.get("properties", {}).get("agentPoolProfiles", []):
            if profile["name"].lower() == wanted:
                found: dict[str, Any] = profile
                return found
        return None

    def _upgrades(self, location: str, current: str) -> list[dict[str, Any]]:
        """Upgrade targets for a version in a region, from the region's kubernetesVersions body."""
        body = self.fleet.kubernetes_versions(location) or {"values": []}
        current_minor = minor_of(current)
        targets: list[dict[str, Any]] = []
        for entry in body.get("values", []):
            patches = entry.get("patchVersions") or {}
            if current in patches:
                preview = {
                    v: bool(e.get("isPreview")) for e in body.get("values", []) for v in (e.get("patchVersions") or {})
                }
                return [
                    {"kubernetesVersion": v, **({"isPreview": True} if preview.get(v) else {})}
                    for v in patches[current].get("upgrades", [])
                ]
        if current_minor is None:
            return targets
        for entry in body.get("values", []):
            for version in entry.get("patchVersions") or {}:
                minor = minor_of(version)
                if minor is None:
                    continue
                newer = version_key(version) > version_key(current)
                if newer and minor[0] == current_minor[0] and minor[1] <= current_minor[1] + 1:
                    target: dict[str, Any] = {"kubernetesVersion": version}
                    if entry.get("isPreview"):
                        target["isPreview"] = True
                    targets.append(target)
        return sorted(targets, key=lambda t: version_key(t["kubernetesVersion"]))

    # ----------------------------------------------------------------- ARM actions

    def _list_subscriptions(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        hidden = self.behaviour.hidden_subscriptions
        visible = [s for s in self.fleet.subscriptions if str(s.get("subscriptionId", "")).lower() not in hidden]
        return self._page(visible, "/subscriptions", query)

    def _get_subscription(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        subscription = self.fleet.subscription(params["sid"])
        if subscription is None or params["sid"].lower() in self.behaviour.hidden_subscriptions:
            return arm_error(404, "SubscriptionNotFound", f"The subscription '{params['sid']}' could not be found.")
        return ok(subscription)

    def _permissions(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        """What the caller may do at subscription scope (Permissions - List For Subscription, api 2022-04-01):
        Reader (`*/read`) on an ordinary subscription; on a forbidden one, a role that reads the subscription and
        its resource groups but no managed cluster."""
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        if params["sid"].lower() in self.behaviour.forbidden_subscriptions:
            actions = [
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ]
        else:
            actions = ["*/read"]
        return ok({"value": [{"actions": actions, "notActions": [], "dataActions": [], "notDataActions": []}]})

    def _descendants(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        """The subscriptions under a management group (ManagementGroups_GetDescendants; nested groups are not
        modelled: the fleet maps a group to its subscriptions)."""
        group = params["group"]
        mapping = self.fleet.management_groups
        if mapping is None or group.lower() not in mapping:
            return arm_forbidden(
                f"/providers/Microsoft.Management/managementGroups/{group}",
                "Microsoft.Management/managementGroups/read",
            )
        items = []
        for sid in mapping[group.lower()]:
            subscription = self.fleet.subscription(sid) or {}
            items.append(
                {
                    "id": f"/subscriptions/{sid}",
                    "type": "/subscriptions",
                    "name": sid,
                    "properties": {
                        "displayName": subscription.get("displayName", sid),
                        "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{group}"},
                    },
                }
            )
        return self._page(items, f"/providers/Microsoft.Management/managementGroups/{group}/descendants", query)

    def _list_clusters(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        clusters = self.fleet.clusters_in(params["sid"], params.get("rg"))
        return self._page(clusters, self._path(params), query)

    def _get_cluster(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, error = self._cluster_or_404(params)
        return error or ok(cluster)

    def _list_pools(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or arm_error(404, "ResourceNotFound", "not found")
        pools = [wire.agent_pool(cluster, p) for p in cluster.get("properties", {}).get("agentPoolProfiles", [])]
        return self._page(pools, self._path(params, params["cluster"], "agentPools"), query)

    def _pool_or_404(self, params: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None, Reply | None]:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return None, None, error
        profile = self._find_pool(cluster, params["pool"])
        if profile is None:
            return (
                cluster,
                None,
                arm_error(
                    404,
                    "ResourceNotFound",
                    "The Resource 'Microsoft.ContainerService/managedClusters/"
                    f"{params['cluster']}/agentPools/{params['pool']}' "
                    f"under resource group '{params['rg']}' was not found.",
                ),
            )
        return cluster, profile, None

    def _get_pool(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, profile, error = self._pool_or_404(params)
        if error or cluster is None or profile is None:
            return error or arm_error(404, "ResourceNotFound", "not found")
        return ok(wire.agent_pool(cluster, profile))

    def _pool_upgrade_profile(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, profile, error = self._pool_or_404(params)
        if error or cluster is None or profile is None:
            return error or arm_error(404, "ResourceNotFound", "not found")
        current = profile.get("currentOrchestratorVersion") or profile.get("orchestratorVersion") or ""
        own_image = profile.get("nodeImageVersion")
        latest = own_image
        parsed = parse_node_image(own_image) if own_image else None
        if parsed is not None:
            latest = self.fleet.latest_node_image(cluster["location"], parsed.family) or own_image
        properties: dict[str, Any] = {
            "kubernetesVersion": current,
            "osType": profile.get("osType", "Linux"),
            "upgrades": self._upgrades(cluster["location"], current),
        }
        if latest:
            properties["latestNodeImageVersion"] = latest
        return ok(wire.pool_upgrade_profile(cluster["id"], profile["name"], properties))

    def _cluster_upgrade_profile(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or arm_error(404, "ResourceNotFound", "not found")
        properties = cluster.get("properties", {})
        current = properties.get("currentKubernetesVersion") or properties.get("kubernetesVersion") or ""
        pools = []
        for profile in properties.get("agentPoolProfiles", []):
            version = profile.get("currentOrchestratorVersion") or profile.get("orchestratorVersion") or ""
            pools.append(
                {
                    "name": profile["name"],
                    "kubernetesVersion": version,
                    "osType": profile.get("osType", "Linux"),
                    "upgrades": self._upgrades(cluster["location"], version),
                }
            )
        control_plane = {
            "kubernetesVersion": current,
            "name": None,
            "osType": "Linux",
            "upgrades": self._upgrades(cluster["location"], current),
        }
        return ok(wire.cluster_upgrade_profile(cluster["id"], control_plane, pools))

    def _list_maintenance(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or arm_error(404, "ResourceNotFound", "not found")
        configs = self.fleet.maintenance_configurations(cluster["id"])
        return self._page(configs, self._path(params, params["cluster"], "maintenanceConfigurations"), query)

    def _get_maintenance(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        cluster, error = self._cluster_or_404(params)
        if error or cluster is None:
            return error or arm_error(404, "ResourceNotFound", "not found")
        wanted = params["config"].lower()
        for config in self.fleet.maintenance_configurations(cluster["id"]):
            if config["name"].lower() == wanted:
                return ok(config)
        return arm_error(
            404,
            "NotFound",
            f"Maintenance configuration '{params['config']}' of managed cluster '{params['cluster']}' was not found.",
        )

    def _kubernetes_versions(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        versions = self.fleet.kubernetes_versions(params["location"])
        if versions is None:
            return arm_error(
                404,
                "LocationNotFound",
                f"The location '{params['location']}' is not available for resource type 'managedClusters'.",
            )
        return ok(versions)

    # ----------------------------------------------------------------- Fleet Manager (read only)

    def _fleet_for(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "fleet" not in params:
            return None
        fleet_id = (
            f"/subscriptions/{params['sid']}/resourceGroups/{params['rg']}"
            f"/providers/Microsoft.ContainerService/fleets/{params['fleet']}"
        )
        return self.fleet.fleet_manager.fleet(fleet_id)

    def _fleet_read(self, params: dict[str, str], query: dict[str, str], body: Any) -> Reply:
        missing = self._subscription_missing(params["sid"])
        if missing:
            return missing
        data = self.fleet.fleet_manager
        base = f"/subscriptions/{params['sid']}"
        if "rg" in params:
            base += f"/resourceGroups/{params['rg']}"
        base += "/providers/Microsoft.ContainerService/fleets"
        if "fleet" not in params:
            return self._page(data.fleets_in(params["sid"], params.get("rg")), base, query)
        fleet = self._fleet_for(params)
        if fleet is None:
            return arm_error(
                404,
                "ResourceNotFound",
                f"The Resource '{FLEET_TYPE}/{params['fleet']}' under resource group '{params['rg']}' was not found.",
            )
        if "collection" not in params:
            return ok(fleet)
        items = data.collection(fleet["id"], params["collection"])
        if items is None:
            return arm_error(
                404, "ResourceNotFound", f"The emulator serves no fleet collection '{params['collection']}'."
            )
        if "child" not in params:
            return self._page(items, f"{base}/{params['fleet']}/{params['collection']}", query)
        for item in items:
            if item["name"].lower() == params["child"].lower():
                return ok(item)
        return arm_error(
            404,
            "ResourceNotFound",
            f"'{params['collection']}/{params['child']}' of fleet '{params['fleet']}' was not found.",
        )
