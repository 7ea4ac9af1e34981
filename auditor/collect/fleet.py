"""Azure Kubernetes Fleet Manager evidence: fleets and their child resources from Resource Graph, gates from ARM.

Resource Graph first (docs/fleet.md): fleets are in the `resources` table; members, update strategies, update runs
(with the status of every stage, group and member), auto-upgrade profiles and gates are in `aksresources`, in the
Fleet's own subscription. Two queries cover every fleet in scope, whatever the number of runs. Resource Graph
scrubs personal data from its rows and carries no `systemData`, so who approved a gate is read from ARM: one
`gates` list per fleet (Fleet Manager REST API, through azure-mgmt-containerservicefleet).
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

from auditor.collect.base import FleetRef, Inventory, Task
from auditor.collect.context import Bucket, CallFailed, CollectContext
from auditor.collect.resource_graph import PAGE_SIZE, query_pages
from auditor.paths import read_query

GRAPH_REQUEST = "POST /providers/Microsoft.ResourceGraph/resources"
FLEET_TYPE = "microsoft.containerservice/fleets"
# Resource Graph type (lower case) -> evidence kind of one row.
CHILD_KINDS = {
    f"{FLEET_TYPE}/members": "fleet_member",
    f"{FLEET_TYPE}/updatestrategies": "fleet_update_strategy",
    f"{FLEET_TYPE}/updateruns": "fleet_update_run",
    f"{FLEET_TYPE}/autoupgradeprofiles": "fleet_auto_upgrade_profile",
    f"{FLEET_TYPE}/gates": "fleet_gate",
}


def _in_scope(inventory: Inventory) -> bool:
    return bool(inventory.subscriptions or inventory.management_groups)


class FleetsCollector:
    """Every Fleet Manager resource in scope (Resource Graph `resources`), one evidence row each."""

    kind = "fleet"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        if not _in_scope(inventory):
            return
        rows = query_pages(
            ctx,
            self.kind,
            read_query("kql/fleets.kql"),
            inventory.subscriptions,
            inventory.management_groups,
            inventory.options.get("graph_page_size", PAGE_SIZE),
        )
        seen: set[str] = set()
        for row in rows:
            fleet_id = str(row.get("id", ""))
            if not fleet_id or fleet_id.lower() in seen or str(row.get("type", "")).lower() != FLEET_TYPE:
                continue
            seen.add(fleet_id.lower())
            ctx.record(self.kind, fleet_id, GRAPH_REQUEST, row)
            inventory.fleets.append(
                FleetRef(
                    fleet_id=fleet_id,
                    name=str(row.get("name", "")),
                    subscription_id=str(row.get("subscriptionId", "")).lower(),
                    resource_group=str(row.get("resourceGroup", "")),
                    location=str(row.get("location", "")).replace(" ", "").lower(),
                )
            )


class FleetResourcesCollector:
    """Members, update strategies, update runs, auto-upgrade profiles and gates (Resource Graph `aksresources`):
    one query for all of them; each row is kept as one evidence row of its own kind."""

    kind = "fleet_resources"  # the call; rows are recorded under the kinds of CHILD_KINDS

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        if not _in_scope(inventory):
            return
        rows = query_pages(
            ctx,
            self.kind,
            read_query("kql/fleet_resources.kql"),
            inventory.subscriptions,
            inventory.management_groups,
            inventory.options.get("graph_page_size", PAGE_SIZE),
        )
        seen: set[str] = set()
        for row in rows:
            row_id = str(row.get("id", ""))
            kind = CHILD_KINDS.get(str(row.get("type", "")).lower())
            if kind is None or not row_id or row_id.lower() in seen:
                continue
            seen.add(row_id.lower())
            ctx.record(kind, row_id, GRAPH_REQUEST, row)


class FleetGatesCollector:
    """Each fleet's gates from ARM, with `systemData` (who approved, and when): one list call per fleet."""

    kind = "fleet_gates"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [
            Task(partial(self._one, ctx, fleet), (fleet.subscription_id, fleet.location)) for fleet in inventory.fleets
        ]

    def _one(self, ctx: CollectContext, fleet: FleetRef) -> None:
        client = ctx.clients.fleet(fleet.subscription_id)
        path = (
            f"/subscriptions/{fleet.subscription_id}/resourceGroups/{fleet.resource_group}"
            f"/providers/Microsoft.ContainerService/fleets/{fleet.name}/gates"
        )
        # A CallFailed is already a collection_errors row: the gates' approvers stay unknown, nothing else.
        with contextlib.suppress(CallFailed):
            items = ctx.call(
                self.kind,
                fleet.fleet_id,
                Bucket("aks", fleet.subscription_id, fleet.location),
                lambda **kw: [_as_wire(g) for g in client.gates.list_by_fleet(fleet.resource_group, fleet.name, **kw)],
            )
            ctx.record(self.kind, fleet.fleet_id, f"GET {path}", {"value": items})


def _as_wire(model: Any) -> Any:
    return model.as_dict() if hasattr(model, "as_dict") else model
