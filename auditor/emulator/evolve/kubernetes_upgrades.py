"""Kubernetes upgrades: the target a cluster moves to, and the campaign that upgrades the control plane and
its pools (in order, or not; some fail; some leave the pools behind)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditor.catalog import PLAN_LTS
from auditor.emulator.evolve.node_images import NodeImages
from auditor.emulator.evolve.state import (
    Month,
    minor_of,
)
from auditor.emulator.evolve.windows import window_moments
from auditor.emulator.releases import Region
from auditor.emulator.wire import property_change
from auditor.vocabulary import version_key


class KubernetesUpgrades(NodeImages):
    """Monthly Kubernetes upgrades of a cluster."""

    def _target(self, month: Month, cid: str, region: Region) -> tuple[str, bool] | None:
        """The version this cluster moves to this month, and whether an auto-upgrade channel does it (rings
        aside: production may settle for less when the upgrade starts, _ring_version)."""
        rng = month.rng
        properties = self.clusters[cid]["properties"]
        current = str(properties.get("currentKubernetesVersion", ""))
        minor = minor_of(current)
        listed = region.listed

        def newest(m: str) -> str | None:
            patches = listed.get(m)
            return f"{m}.{max(patches)}" if patches else None

        def next_minor() -> str | None:
            later = [m for m in region.official if version_key(m) > version_key(minor)]
            return later[0] if later else None

        channel = str((properties.get("autoUpgradeProfile") or {}).get("upgradeChannel") or "none").lower()
        if channel in ("patch", "stable", "rapid"):
            if rng.random() >= self.profile.auto_runs[self.traits[cid].diligence]:
                return None
            candidate = newest(minor) if minor in listed else None
            goal = region.official[-1] if channel == "rapid" else region.official[max(0, len(region.official) - 2)]
            if channel != "patch" and version_key(minor) < version_key(goal):
                following = next_minor()
                candidate = newest(following) if following else candidate
            elif channel == "patch" and minor not in listed:
                following = next_minor()  # out of support: AKS moves the cluster onto a supported minor
                candidate = newest(following) if following else None
            return (candidate, True) if candidate and version_key(candidate) > version_key(current) else None
        diligence = self.traits[cid].diligence
        calendar = self._calendar.get(minor)
        plan = properties.get("supportPlan")
        if plan == PLAN_LTS and minor in listed:
            candidate = newest(minor)
            if candidate and version_key(candidate) > version_key(current) and rng.random() < 0.3:
                return candidate, False
            return None
        # Days until support ends (negative once it has). Owners hurry around the end of support; a cluster
        # left far past it is one nobody looks after, and it is upgraded less often than a supported one.
        end = calendar.end_of_support if calendar else None
        left = (end - month.end.date()).days if end else -999
        urgent = -90 <= left < 60
        chance = (self.profile.manual_upgrade_urgent if urgent else self.profile.manual_upgrade_calm)[diligence]
        if left < -90:
            chance /= 2
        if rng.random() >= chance:
            return None
        candidate = newest(minor) if minor in listed else None
        if urgent or not candidate or version_key(candidate) <= version_key(current) or rng.random() < 0.6:
            following = next_minor()
            candidate = newest(following) if following else candidate
        return (candidate, False) if candidate and version_key(candidate) > version_key(current) else None

    def _kubernetes(self, month: Month, cid: str, region: Region) -> set[int]:
        """Upgrade the cluster (or finish a lagging upgrade); returns the pools that got a new node image."""
        target = self._target(month, cid, region)
        if target is not None:
            return self._campaign(month, cid, region, *target)
        rng = month.rng
        properties = self.clusters[cid]["properties"]
        current = str(properties.get("currentKubernetesVersion", ""))
        lagging = [
            index
            for index, pool in enumerate(properties.get("agentPoolProfiles", []))
            if pool.get("provisioningState") != "Failed"
            and version_key(str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or current))
            < version_key(current)
        ]
        channel = str((properties.get("autoUpgradeProfile") or {}).get("upgradeChannel") or "none").lower()
        chance = (
            0.9
            if channel in ("patch", "stable", "rapid")
            else self.profile.finish_lagging_pools[self.traits[cid].diligence]
        )
        if not lagging or rng.random() >= chance:
            return set()
        cluster = self._own(cid)
        moment = month.working_hours()
        pools = cluster["properties"]["agentPoolProfiles"]
        system = [i for i in lagging if pools[i].get("mode") == "System"]
        user = [i for i in lagging if pools[i].get("mode") != "System"]
        order = user + system if (user and system and rng.random() < 0.15) else system + user
        for index in order:
            moment = self._upgrade_pool(month, cid, region, index, current, moment, automated=False, fail=False)
            moment += timedelta(minutes=rng.randint(1, 10))
        return set(order)

    def _campaign(self, month: Month, cid: str, region: Region, target: str, automated: bool) -> set[int]:
        """Control plane, then pools: one upgrade, with its change rows and scheduled event."""
        rng = month.rng
        diligence = self.traits[cid].diligence
        schedule = self._config(cid, "aksManagedAutoUpgradeSchedule")
        if automated:
            available = month.moment_between(month.begin, month.end)
            windows = window_moments(schedule, available, month.end)
            if schedule is not None and not windows:
                return set()  # no window left this month: the upgrade waits for the next one
            start = windows[0] if windows else available + timedelta(hours=rng.randint(0, 48))
            if start >= month.end:
                return set()
        else:
            start = month.working_hours()
        if self._held(cid) and not self._preceded(month, "kubernetes", target):
            current = str(self.clusters[cid]["properties"]["currentKubernetesVersion"])
            held_target = self._ring_version(month, region, current, target)
            if held_target is None:
                return set()  # production waits for a lower ring to run it first
            target = held_target
        cluster = self._own(cid)
        properties = cluster["properties"]
        previous = str(properties["currentKubernetesVersion"])
        requested_before = str(properties.get("kubernetesVersion") or previous)
        requested = minor_of(target) if requested_before.count(".") == 1 else target
        first: dict[str, Any] = {"properties.provisioningState": property_change("Succeeded", "Upgrading")}
        if requested != requested_before:
            first["properties.kubernetesVersion"] = property_change(requested_before, requested, "User")
        self._change(month, cluster, start, first, automated)
        moment = start + timedelta(minutes=rng.randint(8, 20))
        self._change(
            month,
            cluster,
            moment,
            {"properties.currentKubernetesVersion": property_change(previous, target)},
            automated,
        )
        self._ran(cid, "kubernetes", target, moment)
        properties["kubernetesVersion"] = requested
        properties["currentKubernetesVersion"] = target

        pools = properties.get("agentPoolProfiles", [])
        candidates = [
            index
            for index, pool in enumerate(pools)
            if pool.get("provisioningState") != "Failed"
            and version_key(str(pool.get("currentOrchestratorVersion") or previous)) < version_key(target)
        ]
        if not automated and rng.random() < self.profile.control_plane_only[diligence]:
            candidates = []  # az aks upgrade --control-plane-only; the pools wait
        system = [i for i in candidates if pools[i].get("mode") == "System"]
        user = [i for i in candidates if pools[i].get("mode") != "System"]
        user_first = bool(user and system and not automated and rng.random() < 0.08)
        overlap = bool(user and system and not user_first and rng.random() < (0.04 if automated else 0.1))
        failing = rng.choice(candidates) if candidates and rng.random() < self.profile.upgrade_failure else None
        moment += timedelta(minutes=rng.randint(1, 5))
        failed = False
        if user_first:
            for index in user + system:
                moment = self._upgrade_pool(month, cid, region, index, target, moment, automated, index == failing)
                if index == failing:
                    failed = True
                    break
                moment += timedelta(minutes=rng.randint(1, 5))
        else:
            system_start = moment
            for index in system:
                moment = self._upgrade_pool(month, cid, region, index, target, moment, automated, index == failing)
                if index == failing:
                    failed = True
                    break
            if not failed:
                moment = (
                    system_start + timedelta(minutes=rng.randint(1, 4))
                    if overlap and system
                    else moment + timedelta(minutes=rng.randint(1, 5))
                )
                for index in user:
                    end = self._upgrade_pool(month, cid, region, index, target, moment, automated, index == failing)
                    moment = max(end, moment) + timedelta(minutes=rng.randint(1, 3))
                    if index == failing:
                        failed = True
                        break
        final = "Failed" if failed else "Succeeded"
        properties["provisioningState"] = final
        self._change(
            month,
            cluster,
            moment + timedelta(minutes=1),
            {"properties.provisioningState": property_change("Upgrading", final)},
            automated,
        )
        if automated and schedule is not None:
            details = f"K8sVersionUpgrade: upgrade from {previous} to {target}"
            if failed:
                details += " failed: a node pool upgrade exceeded the drain timeout"
            if month.visible(moment):
                self._event(
                    month,
                    cluster,
                    final if failed else "Completed",
                    details,
                    start,
                    start,
                    moment + timedelta(minutes=1),
                )
        return set(candidates)

    def _upgrade_pool(
        self,
        month: Month,
        cid: str,
        region: Region,
        index: int,
        target: str,
        start: datetime,
        automated: bool,
        fail: bool,
    ) -> datetime:
        """One pool's upgrade to target (start and finish rows); returns when it finished."""
        rng = month.rng
        cluster = self._own(cid)
        pool = cluster["properties"]["agentPoolProfiles"][index]
        prefix_path = f"properties.agentPoolProfiles[{index}]"
        previous = str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or "")
        requested_before = str(pool.get("orchestratorVersion") or previous)
        requested = minor_of(target) if requested_before.count(".") == 1 else target
        first: dict[str, Any] = {f"{prefix_path}.provisioningState": property_change("Succeeded", "Upgrading")}
        if requested != requested_before:
            first[f"{prefix_path}.orchestratorVersion"] = property_change(requested_before, requested, "User")
        self._change(month, cluster, start, first, automated)
        end = start + timedelta(minutes=min(120, 4 + int(pool.get("count") or 3) * rng.randint(1, 3)))
        pool["orchestratorVersion"] = requested
        if fail:
            pool["provisioningState"] = "Failed"
            self._change(
                month,
                cluster,
                end,
                {f"{prefix_path}.provisioningState": property_change("Upgrading", "Failed")},
                automated,
            )
            return end
        changes: dict[str, Any] = {
            f"{prefix_path}.currentOrchestratorVersion": property_change(previous, target),
        }
        image = str(pool.get("nodeImageVersion") or "")
        new_image = self._image_for(month, region, image, target, end, self._held(cid))
        if new_image and new_image != image:
            changes[f"{prefix_path}.nodeImageVersion"] = property_change(image, new_image)
            pool["nodeImageVersion"] = new_image
            self._ran(cid, "node-image", new_image, end)
        changes[f"{prefix_path}.provisioningState"] = property_change("Upgrading", "Succeeded")
        pool["currentOrchestratorVersion"] = target
        self._ran(cid, "kubernetes", target, end)
        self._change(month, cluster, end, changes, automated)
        return end
