"""The emulator's fleet file: Azure resources exactly as Azure returns them (ARM wire JSON), plus indexes.

Layout (docs/emulator.md has the full description)::

    {"schema": "aks-upgrade-auditor/fleet@1", "asOf": ..., "tenantId": ...,
     "subscriptions": [...], "managedClusters": [...],
     "maintenanceConfigurations": {"<lower-case cluster id>": [...]},
     "kubernetesVersions": {"<location>": {"values": [...]}},
     "latestNodeImages": {"<location>": {"<image family>": "<nodeImageVersion>"}},
     "resourceChanges": [...], "scheduledEvents": [...],
     "managementGroups": {"<group id>": ["<subscription id>", ...]},   (optional)
     "fleetManager": {"fleets": [...], "members": [...], ...},         (optional, auditor/emulator/fleet_manager.py)
     "kubernetes": {"<lower-case cluster id>": {...}},                  (optional, auditor/emulator/kubernetes.py)
     "emulator": {...},                                                (optional behaviour)
     "generator": {...}}                                               (optional, written by the generator)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.emulator.fleet_manager import FleetManagerData, validate_fleet_manager
from auditor.errors import AuditorError
from auditor.nodeimage import parse_node_image

FLEET_SCHEMA = "aks-upgrade-auditor/fleet@1"
MANAGED_CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"

_TOP_LEVEL_KEYS = {
    "schema",
    "asOf",
    "tenantId",
    "subscriptions",
    "managedClusters",
    "maintenanceConfigurations",
    "kubernetesVersions",
    "latestNodeImages",
    "resourceChanges",
    "scheduledEvents",
    "managementGroups",
    "fleetManager",
    "emulator",
    "generator",
    "kubernetes",
}
# What a cluster's entry under "kubernetes" may hold (docs/emulator.md): objects as the Kubernetes API returns
# them, node merge patches, and how the cluster answers.
KUBERNETES_KEYS = {
    "access",
    "forbiddenResources",
    "nodes",
    "nodePatches",
    "podDisruptionBudgets",
    "deployments",
    "statefulSets",
    "replicaSets",
}
KUBERNETES_ACCESS = ("granted", "forbidden", "unauthorized", "unreachable", "no-context")


class FleetError(AuditorError):
    """A fleet file or fleet dict is malformed; the message names the file and the offending item."""


def normalise_location(location: str) -> str:
    """ARM location key: lower case without spaces ("East US" -> "eastus")."""
    return location.replace(" ", "").lower()


def _served_cluster(cluster: dict[str, Any]) -> dict[str, Any]:
    """The cluster as ARM serves it: its location is the region key (a shallow copy when that changes it)."""
    location = cluster.get("location")
    if isinstance(location, str) and normalise_location(location) != location:
        return {**cluster, "location": normalise_location(location)}
    return cluster


def subscription_of(resource_id: str) -> str:
    """Lower-case subscription id of an ARM resource id ('' when the id has none)."""
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1].lower()
    return ""


def resource_group_of(resource_id: str) -> str:
    """Resource group name of an ARM resource id, as written in the id ('' when the id has none)."""
    parts = resource_id.strip("/").split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[index + 1]
    return ""


class Fleet:
    """A validated fleet with case-insensitive lookups; the raw dict is kept unchanged in ``data``."""

    def __init__(self, data: Mapping[str, Any], source: str = "<fleet>") -> None:
        self.source = source
        self.data: dict[str, Any] = dict(data)
        _validate(self.data, source)
        self.tenant_id: str = self.data.get("tenantId", "")
        self.subscriptions: list[dict[str, Any]] = list(self.data["subscriptions"])
        # ARM and Resource Graph name regions by their key ("australiaeast"), never by display name ("Australia
        # East"): a fleet assembled from exports may hold either, so the served copies carry the key.
        self.clusters: list[dict[str, Any]] = sorted(
            (_served_cluster(c) for c in self.data["managedClusters"]), key=lambda c: c["id"].lower()
        )
        self.resource_changes: list[dict[str, Any]] = list(self.data.get("resourceChanges", []))
        self.scheduled_events: list[dict[str, Any]] = list(self.data.get("scheduledEvents", []))
        self.emulator_settings: dict[str, Any] = dict(self.data.get("emulator") or {})
        self.fleet_manager = FleetManagerData(self.data.get("fleetManager"))
        groups = self.data.get("managementGroups")
        self.management_groups: dict[str, list[str]] | None = (
            {key.lower(): [sid.lower() for sid in value] for key, value in groups.items()} if groups else None
        )
        self._subscriptions = {s["subscriptionId"].lower(): s for s in self.subscriptions}
        self._clusters = {c["id"].lower(): c for c in self.clusters}
        self._clusters_by_subscription: dict[str, list[dict[str, Any]]] = {}
        for cluster in self.clusters:
            self._clusters_by_subscription.setdefault(subscription_of(cluster["id"]), []).append(cluster)
        self._maintenance = {
            key.lower(): value for key, value in (self.data.get("maintenanceConfigurations") or {}).items()
        }
        self._versions = {
            normalise_location(key): value for key, value in (self.data.get("kubernetesVersions") or {}).items()
        }
        self._latest_images = {
            normalise_location(key): dict(value) for key, value in (self.data.get("latestNodeImages") or {}).items()
        }
        self._kubernetes = {key.lower(): value for key, value in (self.data.get("kubernetes") or {}).items()}

    @property
    def subscription_ids(self) -> list[str]:
        """Lower-case subscription ids, in file order."""
        return list(self._subscriptions)

    def subscription(self, subscription_id: str) -> dict[str, Any] | None:
        """The subscription object, or None."""
        return self._subscriptions.get(subscription_id.lower())

    def cluster(self, cluster_id: str) -> dict[str, Any] | None:
        """The managed cluster with that ARM id (any case), or None."""
        return self._clusters.get(cluster_id.lower())

    def clusters_in(self, subscription_id: str, resource_group: str | None = None) -> list[dict[str, Any]]:
        """Clusters of a subscription (optionally one resource group), ordered by id."""
        clusters = self._clusters_by_subscription.get(subscription_id.lower(), [])
        if resource_group is None:
            return list(clusters)
        wanted = resource_group.lower()
        return [c for c in clusters if resource_group_of(c["id"]).lower() == wanted]

    def maintenance_configurations(self, cluster_id: str) -> list[dict[str, Any]]:
        """The cluster's maintenance configurations (ARM JSON), empty when it has none."""
        return list(self._maintenance.get(cluster_id.lower(), []))

    def kubernetes_versions(self, location: str) -> dict[str, Any] | None:
        """The region's kubernetesVersions body ({"values": [...]}), or None when the fleet lacks it."""
        return self._versions.get(normalise_location(location))

    def latest_node_image(self, location: str, family: str) -> str | None:
        """The newest nodeImageVersion of an image family in a region, or None."""
        return self._latest_images.get(normalise_location(location), {}).get(family)

    def kubernetes(self, cluster_id: str) -> dict[str, Any]:
        """The cluster's in-cluster content (objects, node patches, access), empty when the fleet has none."""
        return dict(self._kubernetes.get(cluster_id.lower(), {}))

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the fleet JSON."""
        return copy.deepcopy(self.data)


def _fail(source: str, where: str, problem: str) -> FleetError:
    return FleetError(f"{source}: {where}: {problem}")


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str, where: str) -> Any:
    if key not in obj:
        raise _fail(source, where, f"missing '{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _fail(source, f"{where}.{key}", f"expected {names}, got {type(value).__name__}")
    return value


def _validate(data: Mapping[str, Any], source: str) -> None:
    if data.get("schema") != FLEET_SCHEMA:
        raise _fail(source, "schema", f"expected {FLEET_SCHEMA!r}, got {data.get('schema')!r}")
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        raise _fail(source, "top level", f"unknown key(s) {', '.join(unknown)}")
    subscriptions = _require(data, "subscriptions", list, source, "top level")
    seen_subscriptions: set[str] = set()
    for index, subscription in enumerate(subscriptions):
        where = f"subscriptions[{index}]"
        if not isinstance(subscription, dict):
            raise _fail(source, where, "expected an object")
        sid = _require(subscription, "subscriptionId", str, source, where).lower()
        _require(subscription, "id", str, source, where)
        if sid in seen_subscriptions:
            raise _fail(source, where, f"duplicate subscription {sid}")
        seen_subscriptions.add(sid)
    clusters = _require(data, "managedClusters", list, source, "top level")
    seen_clusters: set[str] = set()
    for index, cluster in enumerate(clusters):
        where = f"managedClusters[{index}]"
        if not isinstance(cluster, dict):
            raise _fail(source, where, "expected an object")
        cluster_id = _require(cluster, "id", str, source, where)
        where = f"managedClusters[{index}] ({cluster_id})"
        for key in ("name", "type", "location"):
            _require(cluster, key, str, source, where)
        if cluster["type"].lower() != MANAGED_CLUSTER_TYPE.lower():
            raise _fail(source, where, f"type is {cluster['type']!r}, not {MANAGED_CLUSTER_TYPE}")
        properties = _require(cluster, "properties", dict, source, where)
        pools = properties.get("agentPoolProfiles", [])
        if not isinstance(pools, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) for p in pools
        ):
            raise _fail(source, where, "properties.agentPoolProfiles must be a list of objects with a name")
        sid = subscription_of(cluster_id)
        if not sid or not resource_group_of(cluster_id):
            raise _fail(source, where, "id is not a resource-group-scoped ARM id")
        if sid not in seen_subscriptions:
            raise _fail(source, where, f"subscription {sid} is not in 'subscriptions'")
        if cluster_id.lower() in seen_clusters:
            raise _fail(source, where, "duplicate cluster id")
        seen_clusters.add(cluster_id.lower())
    for key in (
        "maintenanceConfigurations",
        "kubernetesVersions",
        "latestNodeImages",
        "managementGroups",
        "emulator",
        "kubernetes",
    ):
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            raise _fail(source, key, "expected an object")
    for cluster_id, configs in (data.get("maintenanceConfigurations") or {}).items():
        where = f"maintenanceConfigurations[{cluster_id!r}]"
        if cluster_id.lower() not in seen_clusters:
            raise _fail(source, where, "no managed cluster has that id")
        if not isinstance(configs, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) for c in configs
        ):
            raise _fail(source, where, "expected a list of objects with a name")
    for cluster_id, section in (data.get("kubernetes") or {}).items():
        _validate_kubernetes(cluster_id, section, seen_clusters, source)
    for location, body in (data.get("kubernetesVersions") or {}).items():
        where = f"kubernetesVersions[{location!r}]"
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise _fail(source, where, "expected an object with a 'values' list (the envelope key is values)")
    for location, images in (data.get("latestNodeImages") or {}).items():
        where = f"latestNodeImages[{location!r}]"
        if not isinstance(images, dict):
            raise _fail(source, where, "expected an object mapping image family to nodeImageVersion")
        for family, version in images.items():
            if not isinstance(version, str) or parse_node_image(version) is None:
                raise _fail(source, f"{where}[{family!r}]", f"not a node image version: {version!r}")
    for key in ("resourceChanges", "scheduledEvents"):
        rows = data.get(key, [])
        if not isinstance(rows, list):
            raise _fail(source, key, "expected a list of rows")
        for index, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                raise _fail(source, f"{key}[{index}]", "expected an object with an 'id'")
    if data.get("fleetManager") is not None:
        validate_fleet_manager(data["fleetManager"], source, lambda where, problem: _fail(source, where, problem))
    for group, members in (data.get("managementGroups") or {}).items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise _fail(source, f"managementGroups[{group!r}]", "expected a list of subscription ids")


def _validate_kubernetes(cluster_id: str, section: Any, clusters: set[str], source: str) -> None:
    where = f"kubernetes[{cluster_id!r}]"
    if cluster_id.lower() not in clusters:
        raise _fail(source, where, "no managed cluster has that id")
    if not isinstance(section, dict):
        raise _fail(source, where, "expected an object")
    unknown = sorted(set(section) - KUBERNETES_KEYS)
    if unknown:
        raise _fail(source, where, f"unknown key(s) {', '.join(unknown)}")
    if section.get("access", "granted") not in KUBERNETES_ACCESS:
        raise _fail(source, f"{where}.access", f"expected one of {', '.join(KUBERNETES_ACCESS)}")
    for key in ("nodes", "podDisruptionBudgets", "deployments", "statefulSets", "replicaSets"):
        items = section.get(key, [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("metadata"), dict) and isinstance(i["metadata"].get("name"), str)
            for i in items
        ):
            raise _fail(source, f"{where}.{key}", "expected a list of objects with metadata.name")
    patches = section.get("nodePatches", {})
    if not isinstance(patches, dict) or not all(isinstance(p, dict) for p in patches.values()):
        raise _fail(source, f"{where}.nodePatches", "expected an object mapping node name to a JSON merge patch")
    forbidden = section.get("forbiddenResources", [])
    if not isinstance(forbidden, list) or not all(isinstance(r, str) for r in forbidden):
        raise _fail(source, f"{where}.forbiddenResources", "expected a list of resource names (e.g. nodes)")


def load_fleet(path: Path) -> Fleet:
    """Read and validate a fleet file; FleetError (one line) when it is unreadable or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FleetError(f"{path}: cannot read fleet file: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FleetError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise FleetError(f"{path}: a fleet file holds a JSON object, not {type(data).__name__}")
    return Fleet(data, source=str(path))


def as_fleet(fleet: Fleet | Mapping[str, Any]) -> Fleet:
    """A Fleet from a Fleet or a fleet dict."""
    return fleet if isinstance(fleet, Fleet) else Fleet(fleet, source="<fleet dict>")


def write_fleet(fleet: Fleet | Mapping[str, Any], path: Path, *, compact: bool | None = None) -> Path:
    """Write a fleet as JSON (indented when small, compact when large unless told); returns the path."""
    data = fleet.data if isinstance(fleet, Fleet) else dict(fleet)
    if compact is None:
        compact = len(data.get("managedClusters", [])) > 500
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        if compact:
            json.dump(data, handle, separators=(",", ":"), ensure_ascii=False)
        else:
            json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    return path


def _example_body(examples_dir: Path, relative: str, status: str = "200") -> Any:
    path = examples_dir / relative
    try:
        example = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FleetError(f"{path}: cannot read API example: {exc}") from None
    try:
        return example["responses"][status]["body"]
    except KeyError:
        raise FleetError(f"{path}: no responses.{status}.body in the example") from None


def _renamed_cluster(body: dict[str, Any], name: str) -> dict[str, Any]:
    clone = copy.deepcopy(body)
    old_id: str = clone["id"]
    clone["id"] = old_id[: old_id.rfind("/") + 1] + name
    clone["name"] = name
    return clone


def fleet_from_azure_examples(
    examples_dir: Path,
    *,
    extra_clusters: int = 0,
    tenant_id: str = "00000000-0000-0000-0000-00000000000a",
    as_of: str = "2026-11-24T00:00:00Z",
) -> dict[str, Any]:
    """A fleet built from the real azure-rest-api-specs example bodies under examples_dir.

    Cluster ``clustername1`` is ManagedClustersGet.json as written; its maintenance configurations are the
    2026-08-01 maintenanceWindow list plus the legacy 2025-07-01 ``default`` list; location1's versions are
    KubernetesVersions_List.json and its latest node image is AgentPoolsGetUpgradeProfile.json's. With
    extra_clusters > 0, renamed copies follow (clustername2 from ManagedClustersCreate_Premium.json, an LTS
    Premium cluster, the rest from ManagedClustersGet.json) so paging has several rows to walk.
    """
    base = Path(examples_dir) / "containerservice"
    cluster = _example_body(base, "ManagedClustersGet.json")
    premium = _example_body(base, "ManagedClustersCreate_Premium.json")
    windows = _example_body(base, "MaintenanceConfigurationsList_MaintenanceWindow.json")["value"]
    legacy = _example_body(base, "older-api-versions/2025-07-01/MaintenanceConfigurationsList.json")["value"]
    versions = _example_body(base, "KubernetesVersions_List.json")
    upgrade_profile = _example_body(base, "AgentPoolsGetUpgradeProfile.json")
    subscription_id = subscription_of(cluster["id"])
    latest_image = upgrade_profile["properties"]["latestNodeImageVersion"]
    parsed = parse_node_image(latest_image)
    if parsed is None:
        raise FleetError(f"{base}: AgentPoolsGetUpgradeProfile.json latestNodeImageVersion does not parse")
    clusters = [cluster]
    for number in range(2, extra_clusters + 2):
        source = premium if number == 2 else cluster
        clusters.append(_renamed_cluster(source, f"clustername{number}"))
    return {
        "schema": FLEET_SCHEMA,
        "asOf": as_of,
        "tenantId": tenant_id,
        "subscriptions": [
            {
                "id": f"/subscriptions/{subscription_id}",
                "subscriptionId": subscription_id,
                "displayName": "API example subscription",
                "state": "Enabled",
                "tenantId": tenant_id,
            }
        ],
        "managedClusters": clusters,
        "maintenanceConfigurations": {cluster["id"].lower(): [*windows, *legacy]},
        "kubernetesVersions": {cluster["location"]: versions},
        "latestNodeImages": {cluster["location"]: {parsed.family: latest_image}},
        "resourceChanges": [],
        "scheduledEvents": [],
    }
