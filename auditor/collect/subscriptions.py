"""Subscriptions the credential can read."""

from __future__ import annotations

import json
from typing import Any

from auditor.collect.base import Inventory, Task
from auditor.collect.context import ARM, CollectContext

ENABLED_STATES = (None, "Enabled", "PastDue", "Warned")


class SubscriptionsCollector:
    """Lists every readable subscription; keeps those in scope."""

    kind = "subscription"

    def tasks(self, ctx: CollectContext, inventory: Inventory) -> list[Task]:
        return [Task(lambda: self.collect(ctx, inventory))]

    def collect(self, ctx: CollectContext, inventory: Inventory) -> None:
        client = ctx.clients.subscriptions()

        def list_all(raw_response_hook: Any, **kwargs: Any) -> list[dict[str, Any]]:
            # Keep the wire JSON of each page: the SDK's models drop fields they do not know (tenantId here).
            pages: list[dict[str, Any]] = []

            def capture(response: Any) -> None:
                raw_response_hook(response)
                if response.http_response.status_code == 200:  # an error body is the SDK's to report, not a page
                    pages.append(json.loads(response.http_response.text()))

            list(client.subscriptions.list(raw_response_hook=capture, **kwargs))
            return [item for page in pages for item in page.get("value", [])]

        found = ctx.call(self.kind, "tenant", ARM, list_all)
        wanted = {s.lower() for s in inventory.subscriptions}
        kept: list[str] = []
        for payload in found:
            sid = str(payload.get("subscriptionId", "")).lower()
            if not sid:
                continue
            inventory.listed[sid] = {
                "displayName": payload.get("displayName"),
                "state": payload.get("state"),
                "tenantId": payload.get("tenantId"),
            }
            if wanted and sid not in wanted:
                continue
            if payload.get("state") not in ENABLED_STATES:
                continue
            ctx.record(self.kind, sid, "GET /subscriptions", payload)
            kept.append(sid)
        # A named subscription the listing does not show is a coverage row 'not_listed' with its own error
        # (auditor/collect/coverage.py), like every other gap in the population.
        if not inventory.management_groups:
            inventory.subscriptions = kept
