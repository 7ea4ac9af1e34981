"""One evolution: the first snapshot, then one month at a time over every cluster, by concern."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from auditor.emulator.evolve.fleet import FleetMonth
from auditor.emulator.evolve.kubernetes_upgrades import KubernetesUpgrades
from auditor.emulator.evolve.lifecycle import Lifecycle
from auditor.emulator.evolve.state import (
    RINGS,
    Month,
)
from auditor.emulator.generator import (
    FleetBuilder,
)
from auditor.emulator.wire import kubernetes_versions_body, timestamp


class Evolution(Lifecycle, KubernetesUpgrades, FleetMonth):
    """The fleet evolving month by month: every concern applied to every cluster, then a snapshot."""

    def first_snapshot(self, moment: datetime) -> dict[str, Any]:
        for cid in self.clusters:
            self._ran_all(cid, moment)
        fleet = self._snapshot_frame(moment)
        fleet["kubernetesVersions"] = self.base.get("kubernetesVersions", {})
        fleet["latestNodeImages"] = self.base.get("latestNodeImages", {})
        fleet["resourceChanges"] = list(self.base.get("resourceChanges", []))
        fleet["scheduledEvents"] = list(self.base.get("scheduledEvents", []))
        fleet["generator"] = self._generator_block(0, moment, None)
        return fleet

    def step(self, index: int, begin: datetime, end: datetime) -> dict[str, Any]:
        rng = random.Random(f"aks-evolve|{self.seed}|{index}")
        builder = FleetBuilder(rng, end, self.region_names, self.profile)
        builder.tenant_id = self.tenant_id
        month = Month(builder, index, begin, end)
        self._owned = set()
        self.created = set()
        self._lapsed = set()
        # The lower rings move first: dev, then staging (and clusters in no ring), then production.
        rank = {ring: position for position, ring in enumerate(RINGS)}
        for cid in sorted(self.clusters, key=lambda c: rank.get(self.traits[c].ring or "", 0)):
            self._step_cluster(month, cid)
        self._add_clusters(month)
        self._fleet_month(month)
        for cid in self.clusters:
            self._ran_all(cid, end)
        fleet = self._snapshot_frame(end)

        fleet["kubernetesVersions"] = {
            region.name: kubernetes_versions_body(region, builder.plans) for region in builder.regions
        }
        fleet["latestNodeImages"] = {
            region.name: {
                prefix: f"{prefix}-{release.version}" for prefix, release in sorted(region.latest_images.items())
            }
            for region in builder.regions
        }
        fleet["resourceChanges"] = sorted(
            month.changes, key=lambda r: (r["properties"]["changeAttributes"]["timestamp"], r["id"])
        )
        fleet["scheduledEvents"] = sorted(month.events, key=lambda r: (r["properties"]["lastUpdateTime"], r["id"]))
        fleet["generator"] = self._generator_block(index, end, builder)
        return fleet

    def _snapshot_frame(self, moment: datetime) -> dict[str, Any]:
        fleet: dict[str, Any] = {
            "schema": self.base["schema"],
            "asOf": timestamp(moment).replace(".000Z", "Z"),
            "tenantId": self.tenant_id,
            "subscriptions": self.base["subscriptions"],
            "managedClusters": list(self.clusters.values()),
            "maintenanceConfigurations": {
                cid: configs for cid, configs in self.maintenance.items() if cid in self.clusters
            },
        }
        for key in ("managementGroups", "emulator"):
            if key in self.base:
                fleet[key] = self.base[key]
        if self.fleet_state is not None:
            fleet["fleetManager"] = {key: list(value) for key, value in self.fleet_state.block.items()}
        return fleet

    def _generator_block(self, index: int, moment: datetime, builder: FleetBuilder | None) -> dict[str, Any]:
        block = dict(self.base.get("generator") or {})
        block["clusters"] = len(self.clusters)
        if builder is not None:
            block["syntheticNodeImages"] = [
                {"family": r.family, "version": r.version, "releaseDate": r.released.isoformat()}
                for releases in builder.releases.values()
                for r in releases
                if r.synthetic
            ]
        block["evolution"] = {"seed": self.seed, "month": index, "asOf": timestamp(moment)}
        return block

    def _step_cluster(self, month: Month, cid: str) -> None:
        rng = month.rng
        traits = self.traits[cid]
        if rng.random() < self.profile.delete[traits.environment] * (1.5 if traits.diligence == "poor" else 1.0):
            self._delete(month, cid)
            return
        cluster = self.clusters[cid]
        region = month.regions.get(str(cluster.get("location", "")).lower())
        if region is None:
            return  # a region this calendar does not know: leave the cluster as it is
        self._lifecycle(month, cid)
        self._config_drift(month, cid, region)
        self._lifecycle_drift(month, cid)
        properties = self.clusters[cid]["properties"]
        running = (properties.get("powerState") or {}).get("code", "Running") == "Running"
        if not running or properties.get("provisioningState") != "Succeeded":
            self._upcoming(month, cid)
            return
        if self.fleet_state is not None and cid in self.fleet_state.member_ids:
            self._upcoming(month, cid)
            return  # Fleet Manager upgrades it (_fleet_month)
        if traits.ring == RINGS[-1] and rng.random() < self.profile.ring_lapse:
            self._lapsed.add(cid)  # this month, production does not wait for the lower rings
        touched = self._kubernetes(month, cid, region)
        self._node_images(month, cid, region, touched)
        self._upcoming(month, cid)
