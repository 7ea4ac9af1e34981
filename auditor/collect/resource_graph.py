"""Managed clusters from Azure Resource Graph, in batches of subscriptions and pages of up to 1,000 rows."""

from __future__ import annotations

from typing import Any

from auditor.collect.aks import image_family
from auditor.collect.base import ClusterRef, Inventory, Task
from auditor.collect.context import GRAPH, CallFailed, CollectContext
from auditor.paths import read_query
from auditor.safetext import has_surrogates

# Microsoft's guidance is fewer than 300 subscriptions per Resource Graph request.
SUBSCRIPTIONS_PER_REQUEST = 250
PAGE_SIZE = 1000


def pool_refs(properties: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(name, nodeImageVersion) of each agent pool in a cluster's properties."""
    pools = properties.get("agentPoolProfiles") or []
    if not isinstance(pools, list):
        return ()
    # A pool without a usable name cannot be addressed: no upgrade-profile call goes through it.
    return tuple(
        (p["name"], str(p.get("nodeImageVersion") or ""))
        for p in pools
        if isinstance(p, dict)
        and isinstance(p.get("name"), str)
        and p["name"].strip()
        and not has_surrogates(p["name"])
    )


def _power_state(properties: dict[str, Any]) -> str:
    state = properties.get("powerState")
    return str(state.get("code") or "").lower() if isinstance(state, dict) else ""


def _text(value: Any) -> str:
    """A string field that may address a call (an API server's host name), or '' when it cannot."""
    return value if isinstance(value, str) and value.strip() and not has_surrogates(value) else ""


def query_pages(
    ctx: CollectContext,
    kind: str,
    query: str,
    subscriptions: list[str],
    management_groups: list[str],
    page_size: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """Every row of a KQL query over the given scope, following $skipToken; batches of subscriptions."""
    # Deferred for import cost: the Azure SDK loads only when this runs.
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    client = ctx.clients.resource_graph()
    if management_groups:
        scopes: list[tuple[list[str], list[str]]] = [([], management_groups)]
    else:
        scopes = [
            (subscriptions[i : i + SUBSCRIPTIONS_PER_REQUEST], [])
            for i in range(0, len(subscriptions), SUBSCRIPTIONS_PER_REQUEST)
        ]
    rows: list[dict[str, Any]] = []
    for batch, groups in scopes:
        scope_name = ",".join(groups) if groups else f"{len(batch)} subscriptions from {batch[0]}"
        skip_token: str | None = None
        page = 0
        while True:
            request = QueryRequest(
                subscriptions=batch or None,
                management_groups=groups or None,
                query=query,
                options=QueryRequestOptions(
                    top=None if skip_token else page_size, skip_token=skip_token, result_format="objectArray"
                ),
            )
            try:
                response = ctx.call(
                    kind, scope_name, GRAPH, lambda request=request, **kw: client.resources(request, **kw)
                )
            except CallFailed:
                break
            page += 1
            data = response.data if isinstance(response.data, list) else []
            rows.extend(data)
            if str(response.result_truncated).lower() == "true":
                ctx.fail(
                    kind,
                    scope_name,
                    None,
                    "ResultTruncated",
                    f"Resource Graph truncated the result of page {page}: rows are missing",
                )
            skip_token = response.skip_token
            if not skip_token:
                break
    return rows


_GRAPH_REQUEST = "POST /providers/Microsoft.ResourceGraph/resources"
# What later calls are routed by: a row lacking any of these cannot address its cluster's ARM APIs.
ROUTING_FIELDS = ("id", "name", "subscriptionId", "resourceGroup", "location")


def reject_row(ctx: CollectContext, call: str, index: int, row: Any, problem: str) -> None:
    """Keep a row that cannot be used as evidence of what it is (kind `rejected_row`) and say why as a
    collection error: nothing Resource Graph returned is dropped without a trace."""
    scope = f"{call}#{index}"
    ctx.record("rejected_row", scope, _GRAPH_REQUEST, row)
    ctx.fail(call, scope, None, "MalformedRow", f"Resource Graph row {index} of the {call} query {problem}")


def missing_routing_fields(row: dict[str, Any]) -> list[str]:
    """Routing fields that are absent, not strings, empty, or not valid Unicode."""
    return [
        key
        for key in ROUTING_FIELDS
        if not isinstance(row.get(key), str) or not row[key].strip() or has_surrogates(row[key])
    ]


class ManagedClustersCollector:
    """Every managed cluster in scope, one evidence row per cluster as Resource Graph returned it."""

    kind = "cluster"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        if not inventory.subscriptions and not inventory.management_groups:
            return
        rows = query_pages(
            ctx,
            "resource_graph",
            read_query("kql/managed_clusters.kql"),
            inventory.subscriptions,
            inventory.management_groups,
            inventory.options.get("graph_page_size", PAGE_SIZE),
        )
        seen: set[str] = set()
        unroutable: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                reject_row(ctx, "resource_graph", index, row, f"is {_json_kind(row)}, not an object")
                continue
            cluster_id = row.get("id")
            if not isinstance(cluster_id, str) or not cluster_id.strip():
                name = row.get("name")
                named = f" (name {name!r})" if isinstance(name, str) and name else ""
                reject_row(ctx, "resource_graph", index, row, f"has no id{named}: the cluster cannot be identified")
                continue
            if cluster_id.lower() in seen:
                continue
            seen.add(cluster_id.lower())
            ctx.record(self.kind, cluster_id, _GRAPH_REQUEST, row)
            incomplete = missing_routing_fields(row)
            if incomplete:
                self._unroutable(ctx, cluster_id, incomplete)
                unroutable.append(row)
                continue
            properties = row.get("properties")
            if not isinstance(properties, dict):
                properties = {}
            inventory.clusters.append(
                ClusterRef(
                    cluster_id=cluster_id,
                    name=row["name"],
                    subscription_id=row["subscriptionId"].lower(),
                    resource_group=row["resourceGroup"],
                    location=row["location"].lower(),
                    pools=pool_refs(properties),
                    fqdn=_text(properties.get("fqdn")),
                    private_fqdn=_text(properties.get("privateFQDN")),
                    stopped=_power_state(properties) == "stopped",
                )
            )

        self._regions_left_out(ctx, inventory, unroutable)

    @staticmethod
    def _regions_left_out(ctx: CollectContext, inventory: Inventory, unroutable: list[dict[str, Any]]) -> None:
        """Per-region evidence only an incomplete row could have been routed for is not collected: say so, so a
        control never reports it missing without a reason."""
        routed = {c.location for c in inventory.clusters}
        routed_families = {(c.location, image_family(image)) for c in inventory.clusters for _, image in c.pools}
        regions: set[str] = set()
        families: set[tuple[str, str]] = set()
        for row in unroutable:
            location = row.get("location")
            if not isinstance(location, str) or not location.strip() or has_surrogates(location):
                continue
            location = location.lower()
            if location not in routed:
                regions.add(location)
            properties = row.get("properties")
            for _, image in pool_refs(properties if isinstance(properties, dict) else {}):
                if (location, image_family(image)) not in routed_families:
                    families.add((location, image_family(image)))
        reason = "no complete Resource Graph row in the region to address the call through"
        for region in sorted(regions):
            ctx.fail("kubernetes_versions", region, None, "IncompleteRow", f"not collected: {reason}")
        for region, family in sorted(families):
            ctx.fail("pool_upgrade_profile", f"{region}|{family}", None, "IncompleteRow", f"not collected: {reason}")

    @staticmethod
    def _unroutable(ctx: CollectContext, cluster_id: str, missing: list[str]) -> None:
        """A stored cluster whose row cannot address its ARM APIs: its per-cluster evidence is recorded as not
        collected (so its window controls say why), and no per-region call is ever routed through it."""
        ctx.fail(
            "maintenance_configurations",
            cluster_id,
            None,
            "IncompleteRow",
            f"not collected: the Resource Graph row of {cluster_id} lacks a usable {', '.join(missing)}, "
            "so no call can be addressed to the cluster",
        )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)


class _GraphTableCollector:
    """Every row of one Resource Graph table query, one evidence row per Resource Graph row."""

    kind = ""
    query_file = ""

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        if not inventory.subscriptions and not inventory.management_groups:
            return
        rows = query_pages(
            ctx,
            self.kind,
            read_query(self.query_file),
            inventory.subscriptions,
            inventory.management_groups,
            inventory.options.get("graph_page_size", PAGE_SIZE),
        )
        seen: set[str] = set()
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                reject_row(ctx, self.kind, index, row, f"is {_json_kind(row)}, not an object")
                continue
            row_id = row.get("id")
            if not isinstance(row_id, str) or not row_id.strip():
                reject_row(ctx, self.kind, index, row, "has no id")
                continue
            if row_id.lower() in seen:
                continue
            seen.add(row_id.lower())
            ctx.record(self.kind, row_id, _GRAPH_REQUEST, row)


class ResourceChangesCollector(_GraphTableCollector):
    """Resource Graph `resourcechanges` rows of managed clusters (version and node-image changes)."""

    kind = "resource_change"
    query_file = "kql/resource_changes.kql"


class ScheduledEventsCollector(_GraphTableCollector):
    """Resource Graph `containerserviceeventresources`: AKS scheduled upgrade events."""

    kind = "scheduled_event"
    query_file = "kql/scheduled_events.kql"
