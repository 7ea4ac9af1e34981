"""Azure Kubernetes Fleet Manager evidence: fleets and their child resources from Resource Graph, gates from ARM.

Resource Graph first (docs/fleet.md): fleets are in the `resources` table; members, update strategies, update runs
(with the status of every stage, group and member), auto-upgrade profiles and gates are in `aksresources`, in the
Fleet's own subscription. Two queries cover every fleet in scope, whatever the number of runs. Resource Graph
scrubs personal data from its rows and carries no `systemData`, so who approved a gate is read from ARM: one
`gates` list per fleet (Fleet Manager REST API, through azure-mgmt-containerservicefleet).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from auditor.collect.base import FleetRef, Inventory, Task
from auditor.collect.context import Bucket, CallFailed, CollectContext
from auditor.collect.resource_graph import PAGE_SIZE, missing_routing_fields, query_pages, reject_row
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
    """Every Fleet Manager resource in scope (Resource Graph `resources`), one evidence row each. A row that is not a
    fleet object is kept as a `rejected_row` with a MalformedRow error; a fleet row lacking what its gates call is
    addressed by is stored but never routes that call (an IncompleteRow error says so)."""

    kind = "fleet"  # the evidence kind, and the call that collection_errors name

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        fleet_kinds = {FLEET_TYPE: self.kind}
        rows = _typed_rows(ctx, self.kind, "kql/fleets.kql", inventory, fleet_kinds, "a Fleet Manager resource")
        for fleet_id, _, row in rows:
            ctx.record(self.kind, fleet_id, GRAPH_REQUEST, row)
            missing = missing_routing_fields(row)
            if missing:
                ctx.fail(
                    FleetGatesCollector.kind,
                    fleet_id,
                    None,
                    "IncompleteRow",
                    f"not collected: the Resource Graph row of {fleet_id} lacks a usable {', '.join(missing)}, "
                    "so its gates cannot be listed",
                )
                continue
            inventory.fleets.append(
                FleetRef(
                    fleet_id=fleet_id,
                    name=row["name"],
                    subscription_id=row["subscriptionId"].lower(),
                    resource_group=row["resourceGroup"],
                    location=row["location"].replace(" ", "").lower(),
                )
            )


class FleetResourcesCollector:
    """Members, update strategies, update runs, auto-upgrade profiles and gates (Resource Graph `aksresources`):
    one query for all of them; each row is kept as one evidence row of its own kind (an unusable one as a
    `rejected_row`, with a MalformedRow error)."""

    kind = "fleet_resources"  # the call; rows are recorded under the kinds of CHILD_KINDS

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        rows = _typed_rows(
            ctx, self.kind, "kql/fleet_resources.kql", inventory, CHILD_KINDS, "a Fleet Manager child resource"
        )
        for row_id, kind, row in rows:
            ctx.record(kind, row_id, GRAPH_REQUEST, row)


def _typed_rows(
    ctx: CollectContext, call: str, kql: str, inventory: Inventory, kinds: Mapping[str, str], what: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(id, evidence kind, row) of each row of a Resource Graph query, the first time its id is seen; a row that is
    not an object, has no id or is of a type `kinds` (lower-case type -> kind) lacks is kept as a rejected row."""
    if not _in_scope(inventory):
        return
    page_size = inventory.options.get("graph_page_size", PAGE_SIZE)
    rows = query_pages(ctx, call, read_query(kql), inventory.subscriptions, inventory.management_groups, page_size)
    seen: set[str] = set()
    for index, row in enumerate(rows):
        row_id = _identified(ctx, call, index, row)
        if row_id is None:
            continue
        row_type = row.get("type")
        kind = kinds.get(row_type.lower()) if isinstance(row_type, str) else None
        if kind is None:
            reject_row(ctx, call, index, row, f"is of type {row_type!r}, not {what}")
            continue
        if row_id.lower() in seen:
            continue
        seen.add(row_id.lower())
        yield row_id, kind, row


def _identified(ctx: CollectContext, call: str, index: int, row: Any) -> str | None:
    """The row's ARM id, or None after keeping the row as rejected (not an object, or no usable id)."""
    if not isinstance(row, dict):
        reject_row(ctx, call, index, row, "is not an object")
        return None
    row_id = row.get("id")
    if not isinstance(row_id, str) or not row_id.strip():
        reject_row(ctx, call, index, row, "has no id")
        return None
    return row_id


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
