"""Rollout rings: what ran where and since when, and what a production cluster may take (AKS-RNG-01)."""

from __future__ import annotations

from datetime import datetime

from auditor.emulator.evolve.events import Events
from auditor.emulator.evolve.state import (
    RINGS,
    Month,
)
from auditor.emulator.releases import Region
from auditor.vocabulary import version_key


class Rings(Events):
    """Which ring ran which version or image first, and what a cluster is held to."""

    def _ran(self, cid: str, kind: str, value: str, moment: datetime) -> None:
        """A cluster runs a value ('kubernetes' version or 'node-image') from that moment: remembered when the
        cluster is in a lower ring, as what production may take once it has soaked there."""
        if not value or self.traits[cid].ring not in RINGS[:-1]:
            return
        first = self.ring_first.get((kind, value))
        if first is None or moment < first:
            self.ring_first[(kind, value)] = moment

    def _ran_all(self, cid: str, moment: datetime) -> None:
        """Everything the cluster runs, from that moment at the latest."""
        properties = self.clusters[cid].get("properties") or {}
        self._ran(cid, "kubernetes", str(properties.get("currentKubernetesVersion") or ""), moment)
        for pool in properties.get("agentPoolProfiles", []):
            self._ran(cid, "kubernetes", str(pool.get("currentOrchestratorVersion") or ""), moment)
            self._ran(cid, "node-image", str(pool.get("nodeImageVersion") or ""), moment)

    def _held(self, cid: str) -> bool:
        """Whether the cluster waits for the lower rings this month (production, unless it skips them)."""
        return self.traits[cid].ring == RINGS[-1] and cid not in self._lapsed

    def _preceded(self, month: Month, kind: str, value: str) -> bool:
        """Whether a lower-ring cluster ran the value before the month began (by the previous snapshot).

        A monthly release train: what the lower rings have run by the start of a month goes to production during
        it, strictly after them and after a soak of days to weeks; what they take during the month waits for the
        next one. (A soak counted in days would let production follow within the month, but a scan a month later
        could seldom tell who was first: Resource Graph keeps 14 days of changes.)"""
        first = self.ring_first.get((kind, value))
        return first is not None and first <= month.begin

    def _ring_version(self, month: Month, region: Region, current: str, wanted: str) -> str | None:
        """What production upgrades to instead of a version no lower ring has run yet: the newest listed version
        between its own and the wanted one that one has (None: it waits)."""
        low, high = version_key(current), version_key(wanted)
        best: tuple[int, ...] | None = None
        choice = None
        for minor, patches in region.listed.items():
            for patch in patches:
                version = f"{minor}.{patch}"
                key = version_key(version)
                if low < key <= high and (best is None or key > best) and self._preceded(month, "kubernetes", version):
                    best, choice = key, version
        return choice
