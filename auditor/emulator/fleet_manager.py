"""Azure Kubernetes Fleet Manager resources in the emulator's fleet file, and how the emulator serves them.

The fleet file's optional ``fleetManager`` object holds each resource exactly as ARM's GET returns it
(Fleet Manager REST API 2026-06-01, azure-rest-api-specs ``fleet/examples/2026-06-01``)::

    "fleetManager": {"fleets": [...], "members": [...], "updateStrategies": [...], "updateRuns": [...],
                     "autoUpgradeProfiles": [...], "gates": [...]}

Resource Graph serves the fleets in its ``resources`` table and the five child kinds in ``aksresources``, without
``systemData`` (Resource Graph carries none and scrubs personal data); ARM serves them all, ``systemData``
included, under ``.../providers/Microsoft.ContainerService/fleets``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLEET_TYPE = "Microsoft.ContainerService/fleets"
# fleetManager key -> (ARM collection segment, resource type)
COLLECTIONS: dict[str, tuple[str, str]] = {
    "members": ("members", f"{FLEET_TYPE}/members"),
    "updateStrategies": ("updateStrategies", f"{FLEET_TYPE}/updateStrategies"),
    "updateRuns": ("updateRuns", f"{FLEET_TYPE}/updateRuns"),
    "autoUpgradeProfiles": ("autoUpgradeProfiles", f"{FLEET_TYPE}/autoUpgradeProfiles"),
    "gates": ("gates", f"{FLEET_TYPE}/gates"),
}
_SEGMENTS = {segment.lower(): key for key, (segment, _) in COLLECTIONS.items()}
_KEYS = {"fleets", *COLLECTIONS}


def fleet_id_of(resource_id: str) -> str:
    """The Fleet's ARM id inside a child resource id (lower case), '' when there is none."""
    low = resource_id.lower()
    marker = "/providers/microsoft.containerservice/fleets/"
    at = low.find(marker)
    if at < 0:
        return ""
    rest = low[at + len(marker) :].split("/", 1)[0]
    return low[: at + len(marker)] + rest


def validate_fleet_manager(data: Any, source: str, fail: Any) -> None:
    """Check the ``fleetManager`` object; ``fail(where, problem)`` builds the error to raise."""
    if not isinstance(data, dict):
        raise fail("fleetManager", "expected an object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise fail("fleetManager", f"unknown key(s) {', '.join(unknown)}")
    fleets: set[str] = set()
    for key in ("fleets", *COLLECTIONS):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise fail(f"fleetManager.{key}", "expected a list of resources")
        expected = FLEET_TYPE if key == "fleets" else COLLECTIONS[key][1]
        for index, item in enumerate(items):
            where = f"fleetManager.{key}[{index}]"
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "name", "type")):
                raise fail(where, "expected an object with string id, name and type")
            if item["type"].lower() != expected.lower():
                raise fail(where, f"type is {item['type']!r}, not {expected}")
            if not isinstance(item.get("properties", {}), dict):
                raise fail(where, "properties must be an object")
            if key == "fleets":
                if not isinstance(item.get("location"), str):
                    raise fail(where, "a fleet needs a location")
                fleets.add(item["id"].lower())
            elif fleet_id_of(item["id"]) not in fleets:
                raise fail(where, f"{item['id']} belongs to no fleet of fleetManager.fleets")


class FleetManagerData:
    """The ``fleetManager`` resources with case-insensitive lookups."""

    def __init__(self, data: Mapping[str, Any] | None) -> None:
        data = data or {}
        self.fleets: list[dict[str, Any]] = sorted(data.get("fleets", []), key=lambda r: r["id"].lower())
        self._fleets = {f["id"].lower(): f for f in self.fleets}
        self._children: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.children: list[tuple[str, dict[str, Any]]] = []
        for key in COLLECTIONS:
            for item in sorted(data.get(key, []), key=lambda r: r["id"].lower()):
                self._children.setdefault(fleet_id_of(item["id"]), {}).setdefault(key, []).append(item)
                self.children.append((key, item))

    def fleet(self, fleet_id: str) -> dict[str, Any] | None:
        """The fleet with that ARM id (any case), or None."""
        return self._fleets.get(fleet_id.lower())

    def fleets_in(self, subscription_id: str, resource_group: str | None = None) -> list[dict[str, Any]]:
        """Fleets of a subscription (optionally one resource group), ordered by id."""
        prefix = f"/subscriptions/{subscription_id.lower()}/"
        found = [f for f in self.fleets if f["id"].lower().startswith(prefix)]
        if resource_group is not None:
            found = [
                f for f in found if f["id"].lower().startswith(f"{prefix}resourcegroups/{resource_group.lower()}/")
            ]
        return found

    def collection(self, fleet_id: str, segment: str) -> list[dict[str, Any]] | None:
        """A fleet's child resources of one ARM collection segment ('updateRuns'...); None for an unknown one."""
        key = _SEGMENTS.get(segment.lower())
        if key is None:
            return None
        return list(self._children.get(fleet_id.lower(), {}).get(key, []))


def graph_row(resource: Mapping[str, Any], tenant_id: str) -> dict[str, Any]:
    """A fleet resource as a Resource Graph row: lower-case type and resource group, no systemData."""
    resource_id = str(resource["id"])
    parts = resource_id.split("/")
    return {
        "id": resource_id,
        "name": resource["name"],
        "type": str(resource["type"]).lower(),
        "tenantId": tenant_id,
        "kind": resource.get("kind", ""),
        "location": resource.get("location", ""),
        "resourceGroup": parts[4].lower() if len(parts) > 4 else "",
        "subscriptionId": parts[2] if len(parts) > 2 else "",
        "managedBy": "",
        "sku": resource.get("sku"),
        "plan": None,
        "properties": resource.get("properties") or {},
        "tags": resource.get("tags") or {},
        "identity": resource.get("identity"),
        "zones": None,
        "extendedLocation": None,
    }


def fleet_route(parts: list[str]) -> dict[str, str] | None:
    """Path parameters of a Fleet Manager read (sid, rg?, fleet?, collection?, child?), None for other paths.

    /subscriptions/{s}/providers/Microsoft.ContainerService/fleets
    /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ContainerService/fleets[/{f}[/{collection}[/{name}]]]
    """
    low = [p.lower() for p in parts]
    n = len(parts)
    if n == 5 and low[0] == "subscriptions" and low[2:5] == ["providers", "microsoft.containerservice", "fleets"]:
        return {"sid": parts[1]}
    if n < 7 or low[0] != "subscriptions" or low[2] != "resourcegroups":
        return None
    if low[4:7] != ["providers", "microsoft.containerservice", "fleets"] or n > 10:
        return None
    params = {"sid": parts[1], "rg": parts[3]}
    for name, index in (("fleet", 7), ("collection", 8), ("child", 9)):
        if n > index:
            params[name] = parts[index]
    return params
