"""Monthly evolution of a generated fleet: the history the demo scans, month after month.

``evolve_fleet(base_fleet, months, seed)`` returns ``months`` snapshots of one fleet, a month apart, the first
being the base fleet itself. Between two snapshots the fleet lives as AKS fleets do:

- **Kubernetes upgrades.** Clusters on an auto-upgrade channel (``patch``, ``stable``, ``rapid``) follow it
  in their ``aksManagedAutoUpgradeSchedule`` window, one minor at a time. Other clusters are upgraded by
  hand, more often when their minor has ended or is about to. An upgrade runs control plane first, then the
  pools: system pools, then user pools. Sometimes it does not: a user pool starts while the system pools are
  still upgrading, or user pools are upgraded before the system pools (so AKS-ORD-01 has something to find),
  or only the control plane is upgraded and the pools follow in a later month (AKS-VER-04 fails meanwhile).
  A few upgrades fail and leave the cluster and a pool ``Failed`` until someone repairs them.
- **Node-image updates.** Automated node OS channels take the region's newest image in their
  ``aksManagedNodeOSUpgradeSchedule`` window; other clusters are updated by hand, seldom.
- **Regressions and fixes.** Channels switched off or on, maintenance windows removed or added, surge
  settings broken or repaired, clusters stopped and started. Clusters that nobody upgrades age out of
  support as the real calendar moves on.
- **Upgrade overrides and retirements.** Now and then an owner arms an upgrade override (``forceUpgrade`` with
  ``until`` three days later, as ``az aks update --enable-force-upgrade`` does) and usually disarms it a few days
  after; some forget. Availability Set clusters migrate to Virtual Machines node pools. These draws come from a
  stream of their own per cluster and month, so the rest of the evolution is unchanged by them.
- **New and deleted clusters.** A few percent a month each way.
- **Rollout rings.** Clusters tagged ``environment`` ``dev`` or ``staging`` (the lower rings of AKS-RNG-01's
  default ``ring_order``) move first; a ``prod`` cluster takes a Kubernetes version or node image only once a
  lower-ring cluster has run it since before the month began (the previous snapshot), else the newest one that
  was, or it waits. Now and then (``FleetProfile.ring_lapse``) a production cluster goes straight to what it wanted (a
  hotfix, a prod window not staggered behind staging), so AKS-RNG-01 has a few real failures to find.

Each snapshot carries the ``resourceChanges`` rows (the Resource Graph ``resourcechanges`` table, row shape
of learn.microsoft.com "Get resource changes") of the changes made in the 14 days before it, as Resource
Graph keeps them no longer, and the ``scheduledEvents`` rows (``containerserviceeventresources``, AKS
Communication Manager) of the same 14 days plus the events scheduled for the next 7 days. Changes earlier in
the month are not in any snapshot, as in Azure. What is assumed where the sources are silent is listed in
docs/trend.md.

Deterministic: the same base fleet, months, seed and start give the same snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from auditor.emulator.evolve.evolution import Evolution
from auditor.emulator.evolve.state import RETENTION, UPCOMING, as_utc, json_copy, month_length
from auditor.emulator.evolve.windows import window_moments
from auditor.emulator.profile import FleetProfile

__all__ = ["RETENTION", "UPCOMING", "evolve_fleet", "iter_evolution", "month_steps", "window_moments"]


def month_steps(start: datetime, months: int, *, end: datetime | None = None) -> list[datetime]:
    """``months`` moments a month apart: from ``start`` on, or up to ``end`` when given (the day of the month
    is kept, clamped to each month's length)."""
    anchor = end if end is not None else start
    first = -(months - 1) if end is not None else 0
    moments = []
    for offset in range(first, first + months):
        index = anchor.month - 1 + offset
        year, month = anchor.year + index // 12, index % 12 + 1
        day = min(anchor.day, month_length(year, month))
        moments.append(anchor.replace(year=year, month=month, day=day))
    return moments


def evolve_fleet(
    base_fleet: dict[str, Any],
    months: int,
    seed: int,
    start: datetime | None = None,
    *,
    end: datetime | None = None,
    profile: FleetProfile | None = None,
) -> list[tuple[datetime, dict[str, Any]]]:
    """``months`` monthly snapshots ``(moment, fleet)`` of base_fleet, oldest first (the first is base_fleet).

    ``start`` is the moment of the first snapshot (base_fleet's ``asOf`` by default; the base fleet should
    describe that moment). With ``end`` instead, the last snapshot is at ``end`` and the first ``months - 1``
    months before it. Snapshots share no mutable state: each can be served or changed on its own.
    """
    return [
        (moment, json_copy(fleet))
        for moment, fleet in iter_evolution(base_fleet, months, seed, start, end=end, profile=profile)
    ]


def iter_evolution(
    base_fleet: dict[str, Any],
    months: int,
    seed: int,
    start: datetime | None = None,
    *,
    end: datetime | None = None,
    profile: FleetProfile | None = None,
) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """evolve_fleet, one snapshot at a time (flat memory for large fleets).

    The snapshots yielded share the clusters that did not change: read them, serve them, copy them, but do not
    change them in place (evolve_fleet returns independent copies).
    """
    if months < 1:
        raise ValueError("months must be >= 1")
    if start is None:
        start = datetime.fromisoformat(str(base_fleet["asOf"]).replace("Z", "+00:00"))
    start = as_utc(start)
    evolution = Evolution(base_fleet, seed, profile or FleetProfile())
    moments = month_steps(start, months, end=as_utc(end) if end is not None else None)
    yield moments[0], evolution.first_snapshot(moments[0])
    for index in range(1, months):
        yield moments[index], evolution.step(index, moments[index - 1], moments[index])
