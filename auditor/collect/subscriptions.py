"""Subscriptions the credential can read."""

from __future__ import annotations

from typing import Any

from auditor.collect.base import Inventory, Task
from auditor.collect.context import ARM, CollectContext


class SubscriptionsCollector:
    """Lists every readable subscription; keeps those in scope."""

    kind = "subscription"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        client = ctx.clients.subscriptions()

        def list_all(**kwargs: Any) -> list[Any]:
            return list(client.subscriptions.list(**kwargs))

        found = ctx.call(self.kind, "tenant", ARM, list_all)
        wanted = {s.lower() for s in inventory.subscriptions}
        kept: list[str] = []
        for sub in found:
            payload = sub.serialize(keep_readonly=True)
            sid = str(payload.get("subscriptionId", "")).lower()
            if wanted and sid not in wanted:
                continue
            if payload.get("state") not in (None, "Enabled", "PastDue", "Warned"):
                continue
            ctx.record(self.kind, sid, "GET /subscriptions", payload)
            kept.append(sid)
        for missing in sorted(wanted - set(kept)):
            ctx.fail(self.kind, missing, 404, "SubscriptionNotFound",
                     f"subscription {missing} is not readable with this credential or not enabled")
        if not inventory.management_groups:
            inventory.subscriptions = kept
