"""Population coverage: prove which subscriptions a scan covered, or say which it did not (docs/coverage.md).

Resource Graph silently leaves out every resource the identity cannot read. So for each subscription in scope the
scan asks two more read calls, one each:

- the ARM permissions API (`GET /subscriptions/{id}/providers/Microsoft.Authorization/permissions`): may this
  identity read managed clusters there (`Microsoft.ContainerService/managedClusters/read`)?
- the ARM managed-cluster list (`GET /subscriptions/{id}/providers/Microsoft.ContainerService/managedClusters`):
  which clusters are there, to reconcile with the Resource Graph rows.

With `--management-group`, the subscriptions in scope come from the group's descendants
(`GET /providers/Microsoft.Management/managementGroups/{id}/descendants`), so a subscription the identity cannot
read is still named. Every subscription whose population is not proven becomes a collection error (the scan is
`partial`) and a coverage row that says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, partial
from typing import Any

from auditor.collect.base import Inventory, Task
from auditor.collect.context import ARM, CallFailed, CollectContext
from auditor.collect.subscriptions import ENABLED_STATES
from auditor.store import CoverageRow

CLUSTER_READ = "Microsoft.ContainerService/managedClusters/read"
PERMISSIONS_API_VERSION = "2022-04-01"
DESCENDANTS_API_VERSION = "2020-05-01"
# Names of missing clusters quoted in one error message; the coverage row counts them all.
NAMES_SHOWN = 10


@cache
def _pattern(action: str) -> re.Pattern[str]:
    # Azure RBAC: '*' matches any run of characters, anywhere and more than once ('Microsoft.CostManagement/*/query/*');
    # action strings compare case-insensitively.
    return re.compile("^" + ".*".join(re.escape(part) for part in action.split("*")) + "$", re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Actions/NotActions entry such as `*/read` or `Microsoft.ContainerService/*` covers `action`."""
    return bool(_pattern(pattern.strip()).match(action))


def allows(permissions: Iterable[Mapping[str, Any]], action: str) -> bool:
    """Whether a permissions API answer grants `action`.

    The answer has one entry per role the identity holds at that scope. NotActions subtract from the Actions of
    the same role only (another role may grant what one role's NotActions took away), so the action is allowed when
    some entry's actions match it and that entry's notActions do not
    (https://learn.microsoft.com/azure/role-based-access-control/role-definitions). Deny assignments are not in this
    answer; the managed-cluster list, refused or not, shows them.
    """
    for entry in permissions:
        actions = entry.get("actions") or []
        not_actions = entry.get("notActions") or []
        if any(action_matches(str(a), action) for a in actions) and not any(
            action_matches(str(n), action) for n in not_actions
        ):
            return True
    return False


def _pages(ctx: CollectContext, kind: str, scope: str, path: str) -> list[dict[str, Any]]:
    """Every `value` item of a paged ARM GET (following nextLink), through the shared pipeline."""
    # Deferred for import cost: the Azure SDK loads only when this runs.
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    client = ctx.clients.arm()

    def get_all(raw_response_hook: Callable[..., None], **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        while url:
            response = client.send_request(HttpRequest("GET", url), raw_response_hook=raw_response_hook, **kwargs)
            if response.status_code >= 400:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise ValueError(f"the answer to GET {path.split('?')[0]} has no 'value' list")
            items.extend(item for item in body["value"] if isinstance(item, dict))
            url = body.get("nextLink") or None
        return items

    return ctx.call(kind, scope, ARM, get_all)


class ManagementGroupSubscriptionsCollector:
    """With --management-group: the subscriptions under each group, readable or not, to reconcile against."""

    kind = "management_group"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(partial(self._one, ctx, inventory, group)) for group in inventory.management_groups]

    def _one(self, ctx: CollectContext, inventory: Inventory, group: str) -> None:
        path = (
            f"/providers/Microsoft.Management/managementGroups/{group}/descendants"
            f"?api-version={DESCENDANTS_API_VERSION}"
        )
        try:
            items = _pages(ctx, self.kind, group, path)
        except CallFailed:
            return  # recorded; the group's subscriptions cannot be named, so the population is not proven
        ctx.record(self.kind, group, f"GET {path.split('?')[0]}", {"value": items})
        for item in items:
            item_id = str(item.get("id", ""))
            if str(item.get("type", "")).lower().endswith("/subscriptions") or item_id.lower().startswith(
                "/subscriptions/"
            ):
                sid = str(item.get("name") or item_id.rsplit("/", 1)[-1]).lower()
                inventory.scope_by.setdefault(sid, f"management_group:{group}")


class CoverageCollector:
    """Per subscription in scope: may the identity read managed clusters, and which clusters does ARM list."""

    kind = "coverage"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        tasks: list[Task] = []
        for sid in sorted(inventory.scope_by):
            if sid not in inventory.listed:
                continue  # the identity cannot see it at all: nothing to ask, the row says so
            tasks.append(Task(partial(self._permissions, ctx, inventory, sid)))
            tasks.append(Task(partial(self._cluster_list, ctx, inventory, sid)))
        return tasks

    def _permissions(self, ctx: CollectContext, inventory: Inventory, sid: str) -> None:
        path = f"/subscriptions/{sid}/providers/Microsoft.Authorization/permissions"
        try:
            items = _pages(ctx, "permissions", sid, f"{path}?api-version={PERMISSIONS_API_VERSION}")
        except CallFailed:
            return
        ctx.record("permissions", sid, f"GET {path}", {"value": items})
        inventory.cluster_read[sid] = allows(items, CLUSTER_READ)

    def _cluster_list(self, ctx: CollectContext, inventory: Inventory, sid: str) -> None:
        client = ctx.clients.container_service(sid)
        try:
            found = ctx.call(
                "cluster_list",
                sid,
                ARM,
                lambda **kw: [
                    (str(c.id or ""), str(c.name or ""), str(c.location or ""))
                    for c in client.managed_clusters.list(**kw)
                ],  # fmt: skip
            )
        except CallFailed as failed:
            if failed.error.status in (401, 403):
                inventory.list_refused.add(sid)
            return
        # Identities only: the cluster bodies are the Resource Graph rows (kind 'cluster'), not stored twice.
        ctx.record(
            "cluster_list",
            sid,
            f"GET /subscriptions/{sid}/providers/Microsoft.ContainerService/managedClusters",
            {"value": [{"id": i, "name": n, "location": loc} for i, n, loc in sorted(found)]},
        )
        inventory.arm_clusters[sid] = sorted((i.lower(), n) for i, n, _ in found)

    def reconcile(self, ctx: CollectContext, inventory: Inventory) -> list[CoverageRow]:
        """One coverage row per subscription in scope; a collection error for each one not proven complete."""
        graph: dict[str, set[str]] = {}
        for cluster in inventory.clusters:
            graph.setdefault(cluster.subscription_id, set()).add(cluster.cluster_id.lower())
            inventory.scope_by.setdefault(cluster.subscription_id, "resource_graph")
        rows = []
        for sid in sorted(inventory.scope_by):
            row = self._row(inventory, sid, graph.get(sid, set()))
            rows.append(row)
            if row.status != "complete":
                ctx.fail(self.kind, sid, _ERROR_STATUS.get(row.status), _ERROR_CODES[row.status], row.note)
        return rows

    def _row(self, inventory: Inventory, sid: str, graph_ids: set[str]) -> CoverageRow:
        meta = inventory.listed.get(sid)
        name = str((meta or {}).get("displayName") or "")
        who = f"subscription {sid}" + (f" ({name})" if name else "")
        scope_by = inventory.scope_by[sid]
        read = inventory.cluster_read.get(sid)
        read_text = "unknown" if read is None else ("allowed" if read else "denied")
        arm = inventory.arm_clusters.get(sid)

        def row(status: str, note: str, arm_count: int | None = None, missing: int | None = None) -> CoverageRow:
            return CoverageRow(
                sid, name or None, scope_by, meta is not None, read_text, len(graph_ids), arm_count, missing, status,
                note,
            )  # fmt: skip

        if meta is None:
            return row(
                "not_listed",
                f"{who} is in scope ({scope_by.replace('_', ' ')}) but the subscription listing does not show it: "
                "the identity has no access to it (or it does not exist); its clusters are not in the evidence",
            )
        if meta.get("state") not in ENABLED_STATES:
            return row(
                "not_listed",
                f"{who} is {meta.get('state')}: it was not scanned; clusters it may hold are not in the evidence",
            )
        if arm is None and (sid in inventory.list_refused or read is False):
            refused = "the managed-cluster list was refused" if sid in inventory.list_refused else "the list failed"
            return row(
                "forbidden",
                f"{who}: the identity may not read managed clusters there ({CLUSTER_READ} "
                f"{'not granted' if read is False else 'refused'}; {refused}): Resource Graph left out "
                + ("all of its clusters" if not graph_ids else f"clusters it cannot read ({len(graph_ids)} returned)")
                + ", and how many is unknown to this identity",
            )
        if arm is None:
            return row(
                "error",
                f"{who}: the managed-cluster list failed, so the {len(graph_ids)} cluster(s) Resource Graph returned "
                "cannot be reconciled",
            )
        arm_ids = {cid for cid, _ in arm}
        missing = sorted((n or cid.rsplit("/", 1)[-1]) for cid, n in arm if cid not in graph_ids)
        if missing:
            shown = ", ".join(missing[:NAMES_SHOWN]) + (
                f" and {len(missing) - NAMES_SHOWN} more" if len(missing) > NAMES_SHOWN else ""
            )
            return row(
                "unreconciled",
                f"{who}: the ARM list has {len(arm_ids)} managed cluster(s), Resource Graph returned {len(graph_ids)}: "
                f"{len(missing)} missing from the evidence ({shown})",
                len(arm_ids),
                len(missing),
            )
        extra = len(graph_ids - arm_ids)
        note = f"{len(arm_ids)} managed cluster(s) in both Resource Graph and the ARM list"
        if extra:
            note += f"; Resource Graph also returned {extra} the list no longer shows (deleted since)"
        if read is False:
            note += f"; the permissions API shows no subscription-wide {CLUSTER_READ}, yet the list answered"
        return row("complete", note, len(arm_ids), 0)


_ERROR_CODES = {
    "not_listed": "SubscriptionNotListed",
    "forbidden": "ClustersNotReadable",
    "unreconciled": "PopulationMismatch",
    "error": "PopulationUnproven",
}
_ERROR_STATUS: dict[str, int | None] = {"not_listed": 404, "forbidden": 403}


def coverage_stats(rows: Iterable[CoverageRow]) -> dict[str, int]:
    """Counts for the scan's stats and summary line."""
    rows = list(rows)
    return {
        "in_scope": len(rows),
        "complete": sum(1 for r in rows if r.status == "complete"),
        "forbidden": sum(1 for r in rows if r.status == "forbidden"),
        "not_listed": sum(1 for r in rows if r.status == "not_listed"),
        "unreconciled": sum(1 for r in rows if r.status == "unreconciled"),
        "unproven": sum(1 for r in rows if r.status == "error"),
        "graph_clusters": sum(r.graph_clusters for r in rows),
        "arm_clusters": sum(r.arm_clusters or 0 for r in rows),
        "missing_clusters": sum(r.missing_clusters or 0 for r in rows),
    }
