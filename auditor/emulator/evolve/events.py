"""The rows a month leaves behind: resourcechanges rows (Update, Create, Delete) and scheduled events,
kept only when Resource Graph still holds them at the snapshot."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from auditor.emulator.evolve.state import (
    UPCOMING,
    EvolutionState,
    Month,
)
from auditor.emulator.evolve.windows import window_moments


class Events(EvolutionState):
    """Resource changes and scheduled events of the month."""

    def _change(
        self,
        month: Month,
        cluster: dict[str, Any],
        moment: datetime,
        changes: dict[str, Any],
        automated: bool,
    ) -> None:
        if month.visible(moment):
            month.changes.append(month.builder.change_row(cluster, moment, changes, automated))

    def _keyed_change(
        self, month: Month, rng: random.Random, cluster: dict[str, Any], moment: datetime, changes: dict[str, Any]
    ) -> None:
        """A change row whose ids come from the given stream (not the month's, which stays as it was)."""
        main_stream, month.builder.rng = month.builder.rng, rng
        try:
            self._change(month, cluster, moment, changes, automated=False)
        finally:
            month.builder.rng = main_stream

    def _lifecycle_row(self, month: Month, cluster: dict[str, Any], moment: datetime, kind: str) -> None:
        """A Create or Delete row: no property changes, as Resource Graph gives them only for Update."""
        if not month.visible(moment):
            return
        row = month.builder.change_row(cluster, moment, {}, automated=False)
        properties = row["properties"]
        properties["changeType"] = kind
        del properties["changes"]
        attributes = properties["changeAttributes"]
        attributes["changesCount"] = 0
        attributes["operation"] = (
            "Microsoft.ContainerService/managedClusters/write"
            if kind == "Create"
            else "Microsoft.ContainerService/managedClusters/delete"
        )
        if kind == "Create":
            attributes["previousResourceSnapshotId"] = None
        else:
            attributes["newResourceSnapshotId"] = None
        month.changes.append(row)

    def _event(
        self,
        month: Month,
        cluster: dict[str, Any],
        status: str,
        details: str,
        scheduled: datetime,
        started: datetime | None,
        updated: datetime,
    ) -> None:
        before = len(month.builder.events)
        month.builder.scheduled_event(cluster, status, details, scheduled, started, updated)
        month.events.extend(month.builder.events[before:])
        del month.builder.events[before:]

    def _upcoming(self, month: Month, cid: str) -> None:
        """Scheduled (and now and then canceled) events for the windows of the next 7 days."""
        rng = month.rng
        cluster = self.clusters[cid]
        profile = cluster["properties"].get("autoUpgradeProfile") or {}
        channel = str(profile.get("upgradeChannel") or "none").lower()
        kinds = []
        if channel in ("patch", "stable", "rapid"):
            kinds.append(("K8sVersionUpgrade", self._config(cid, "aksManagedAutoUpgradeSchedule")))
        if profile.get("nodeOSUpgradeChannel") in ("NodeImage", "SecurityPatch") or channel == "node-image":
            kinds.append(("NodeOSUpgrade", self._config(cid, "aksManagedNodeOSUpgradeSchedule")))
        for kind, schedule in kinds:
            if schedule is None or rng.random() >= 0.35:
                continue
            windows = window_moments(schedule, month.end, month.end + UPCOMING)
            if not windows:
                continue
            announced = month.end - timedelta(hours=rng.randint(1, 48))
            if rng.random() < 0.05:
                self._event(
                    month,
                    cluster,
                    "Canceled",
                    f"{kind}: canceled, the planned maintenance falls on a date that is not allowed",
                    windows[0],
                    None,
                    announced,
                )
            else:
                self._event(
                    month,
                    cluster,
                    "Scheduled",
                    f"{kind}: scheduled in the next maintenance window",
                    windows[0],
                    None,
                    announced,
                )
