"""Azure Kubernetes Fleet Manager in the evolution: the month's update runs over the fleets' members."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from auditor.emulator.evolve.rings import Rings
from auditor.emulator.evolve.state import (
    Month,
)
from auditor.emulator.fleet_scenarios import FleetWorld, run_month


class FleetMonth(Rings):
    """The month of the fleets' update runs."""

    def _fleet_month(self, month: Month) -> None:
        """The month's Fleet Manager update runs: they upgrade the members, with change rows like any upgrade."""
        if self.fleet_state is None:
            return

        def emit(cluster: dict[str, Any], moment: datetime, changes: dict[str, Any]) -> None:
            self._change(month, cluster, moment, changes, automated=True)
            cid = cluster["id"].lower()
            for path, delta in changes.items():
                if path.endswith(("currentKubernetesVersion", "currentOrchestratorVersion")):
                    self._ran(cid, "kubernetes", str(delta["newValue"]), moment)
                elif path.endswith("nodeImageVersion"):
                    self._ran(cid, "node-image", str(delta["newValue"]), moment)

        def latest(region: str, sku: str, moment: datetime) -> str | None:
            known = month.regions.get(region)
            release = month.latest_image(sku, known, moment) if known is not None else None
            return f"{sku}-{release.version}" if release is not None else None

        world = FleetWorld(
            clusters=self.clusters,
            own=self._own,
            emit=emit,
            patches=lambda region, minor: (
                list(month.regions[region].listed.get(minor, [])) if region in month.regions else []
            ),
            latest_image=latest,
            older_image=month.builder.older_image,
            rng=random.Random(f"aks-evolve-fleet|{self.seed}|{month.index}"),
        )
        run_month(world, self.fleet_state, month.begin, month.end)
