"""Managed clusters from Azure Resource Graph, in batches of subscriptions and pages of up to 1,000 rows."""

from __future__ import annotations

from typing import Any

from auditor.collect.base import ClusterRef, Inventory, Task
from auditor.collect.context import GRAPH, CallFailed, CollectContext
from auditor.paths import read_query

# Microsoft's guidance is fewer than 300 subscriptions per Resource Graph request.
SUBSCRIPTIONS_PER_REQUEST = 250
PAGE_SIZE = 1000


def pool_refs(properties: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(name, nodeImageVersion) of each agent pool in a cluster's properties."""
    pools = properties.get("agentPoolProfiles") or []
    return tuple((str(p.get("name", "")), str(p.get("nodeImageVersion") or "")) for p in pools if isinstance(p, dict))


def _power_state(properties: dict[str, Any]) -> str:
    state = properties.get("powerState")
    return str(state.get("code") or "").lower() if isinstance(state, dict) else ""


def query_pages(
    ctx: CollectContext,
    kind: str,
    query: str,
    subscriptions: list[str],
    management_groups: list[str],
    page_size: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """Every row of a KQL query over the given scope, following $skipToken; batches of subscriptions."""
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
        for row in rows:
            cluster_id = str(row.get("id", ""))
            if not cluster_id or cluster_id.lower() in seen:
                continue
            seen.add(cluster_id.lower())
            ctx.record(self.kind, cluster_id, "POST /providers/Microsoft.ResourceGraph/resources", row)
            properties = row.get("properties") or {}
            if not isinstance(properties, dict):
                properties = {}
            inventory.clusters.append(
                ClusterRef(
                    cluster_id=cluster_id,
                    name=str(row.get("name", "")),
                    subscription_id=str(row.get("subscriptionId", "")).lower(),
                    resource_group=str(row.get("resourceGroup", "")),
                    location=str(row.get("location", "")).lower(),
                    pools=pool_refs(properties),
                    fqdn=str(properties.get("fqdn") or ""),
                    private_fqdn=str(properties.get("privateFQDN") or ""),
                    stopped=_power_state(properties) == "stopped",
                )
            )


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
        for row in rows:
            row_id = str(row.get("id", ""))
            if row_id.lower() in seen:
                continue
            seen.add(row_id.lower())
            ctx.record(self.kind, row_id, "POST /providers/Microsoft.ResourceGraph/resources", row)


class ResourceChangesCollector(_GraphTableCollector):
    """Resource Graph `resourcechanges` rows of managed clusters (version and node-image changes)."""

    kind = "resource_change"
    query_file = "kql/resource_changes.kql"


class ScheduledEventsCollector(_GraphTableCollector):
    """Resource Graph `containerserviceeventresources`: AKS scheduled upgrade events."""

    kind = "scheduled_event"
    query_file = "kql/scheduled_events.kql"
