"""Node image updates: automated node OS channels in their window, manual updates, the image a pool takes."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta

from auditor.emulator.evolve.rings import Rings
from auditor.emulator.evolve.state import (
    Month,
)
from auditor.emulator.evolve.windows import window_moments
from auditor.emulator.releases import IMAGE_SKUS, Region, Release
from auditor.emulator.wire import property_change
from auditor.vocabulary import version_key


class NodeImages(Rings):
    """Node image releases a pool may take and the monthly node image updates."""

    def _release(self, month: Month, prefix: str, region: Region, moment: datetime, held: bool) -> Release | None:
        """The image release a pool would take at that moment: the region's newest, or for a cluster that waits
        for the lower rings the newest that a lower ring ran first (None: none has)."""
        newest = month.latest_image(prefix, region, moment)
        if newest is None or not held or self._preceded(month, "node-image", f"{prefix}-{newest.version}"):
            return newest
        family = IMAGE_SKUS[prefix][0]
        releases = month.builder.releases[family]
        position = bisect.bisect_right(month.release_dates(family), newest.released)
        for release in reversed(releases[:position]):
            if self._preceded(month, "node-image", f"{prefix}-{release.version}"):
                return release
        return None

    def _image_for(
        self,
        month: Month,
        region: Region,
        image: str,
        version: str,
        moment: datetime,
        held: bool = False,
    ) -> str | None:
        """The node image a pool gets at that moment: the newest of its family (a version upgrade may move a
        pool onto the family AKS uses for the new minor: Ubuntu 24.04 from 1.36, Azure Linux 3 from 1.32).
        Held (production waiting for the lower rings): the newest a lower ring ran first; the pool keeps its
        image when there is none, unless it changes family (then the newest: no lower ring runs that family)."""
        prefix, _, _ = image.rpartition("-")
        if prefix not in IMAGE_SKUS:
            return None
        key = version_key(version)[:2]
        if prefix == "AKSUbuntu-2204gen2containerd" and key >= (1, 36):
            prefix = "AKSUbuntu-2404gen2containerd"
        elif prefix in ("AKSAzureLinux-V2gen2",) and key >= (1, 32):
            prefix = "AKSAzureLinux-V3gen2"
        release = self._release(month, prefix, region, moment, held)
        if release is None and held:
            if prefix == image.rpartition("-")[0]:
                return image
            release = month.latest_image(prefix, region, moment)
        if release is None:
            return None
        candidate = f"{prefix}-{release.version}"
        if prefix == image.rpartition("-")[0]:
            current = month.release_date(image)
            if current is not None and release.released <= current:
                return image
        return candidate

    def _node_images(self, month: Month, cid: str, region: Region, touched: set[int]) -> None:
        rng = month.rng
        properties = self.clusters[cid]["properties"]
        profile = properties.get("autoUpgradeProfile") or {}
        channel = str(profile.get("upgradeChannel") or "none").lower()
        automated = profile.get("nodeOSUpgradeChannel") in ("NodeImage", "SecurityPatch") or channel == "node-image"
        schedule = self._config(cid, "aksManagedNodeOSUpgradeSchedule")
        if automated:
            if rng.random() >= self.profile.auto_runs[self.traits[cid].diligence]:
                return
            windows = window_moments(schedule, month.begin, month.end)
            if schedule is not None and not windows:
                return
            start = windows[-1] if windows else month.moment_between(month.end - timedelta(days=7), month.end)
        else:
            if rng.random() >= self.profile.manual_image_update[self.traits[cid].diligence]:
                return
            start = month.working_hours()
        moment = start
        updated = False
        for index, pool in enumerate(properties.get("agentPoolProfiles", [])):
            if index in touched or pool.get("provisioningState") == "Failed":
                continue
            image = str(pool.get("nodeImageVersion") or "")
            prefix = image.rpartition("-")[0]
            release = self._release(month, prefix, region, moment, self._held(cid)) if prefix in IMAGE_SKUS else None
            if release is None:
                continue
            new_image = f"{prefix}-{release.version}"
            current = month.release_date(image)
            if new_image == image or (current is not None and release.released <= current):
                continue
            cluster = self._own(cid)
            pool = cluster["properties"]["agentPoolProfiles"][index]
            path = f"properties.agentPoolProfiles[{index}]"
            self._change(
                month,
                cluster,
                moment,
                {f"{path}.provisioningState": property_change("Succeeded", "UpgradingNodeImageVersion")},
                automated,
            )
            moment += timedelta(minutes=rng.randint(5, 30))
            pool["nodeImageVersion"] = new_image
            self._ran(cid, "node-image", new_image, moment)
            self._change(
                month,
                cluster,
                moment,
                {
                    f"{path}.nodeImageVersion": property_change(image, new_image),
                    f"{path}.provisioningState": property_change("UpgradingNodeImageVersion", "Succeeded"),
                },
                automated,
            )
            updated = True
        if updated and automated and schedule is not None and month.visible(moment):
            self._event(
                month,
                self.clusters[cid],
                "Completed",
                "NodeOSUpgrade: node image upgrade",
                start,
                start,
                moment,
            )
