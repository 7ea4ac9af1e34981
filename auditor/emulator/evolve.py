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

import bisect
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.catalog import PLAN_LTS, load_calendar
from auditor.emulator.fleet_scenarios import FleetWorld, run_month, state_from_block
from auditor.emulator.generator import (
    APPS,
    WEEKDAYS,
    FleetBuilder,
    apply_lifecycle_quirks,
    draw_cluster,
    pick,
)
from auditor.emulator.profile import FleetProfile
from auditor.emulator.releases import IMAGE_SKUS, Region, Release
from auditor.emulator.wire import kubernetes_versions_body, timestamp
from auditor.nodeimage import parse_node_image

__all__ = ["RETENTION", "evolve_fleet", "iter_evolution", "month_steps"]

RETENTION = timedelta(days=14)  # Resource Graph keeps resourcechanges for 14 days
UPCOMING = timedelta(days=7)  # AKS announces a scheduled event 7 days (and 24 hours) ahead
_MANAGED_CLUSTER_CHANGE = "microsoft.containerservice/managedclusters"

# Rollout rings: the values of the ``environment`` tag, first ring to production (AKS-RNG-01's defaults).
_RINGS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class _Traits:
    """What does not change about a cluster's owners: how diligent they are, and the environment."""

    diligence: str  # good | fair | poor
    environment: str
    ring: str | None = None  # its environment tag when that names a rollout ring (_RINGS), else None


def month_steps(start: datetime, months: int, *, end: datetime | None = None) -> list[datetime]:
    """``months`` moments a month apart: from ``start`` on, or up to ``end`` when given (the day of the month
    is kept, clamped to each month's length)."""
    anchor = end if end is not None else start
    first = -(months - 1) if end is not None else 0
    moments = []
    for offset in range(first, first + months):
        index = anchor.month - 1 + offset
        year, month = anchor.year + index // 12, index % 12 + 1
        day = min(anchor.day, _month_length(year, month))
        moments.append(anchor.replace(year=year, month=month, day=day))
    return moments


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


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
        (moment, _json_copy(fleet))
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
    start = _utc(start)
    evolution = _Evolution(base_fleet, seed, profile or FleetProfile())
    moments = month_steps(start, months, end=_utc(end) if end is not None else None)
    yield moments[0], evolution.first_snapshot(moments[0])
    for index in range(1, months):
        yield moments[index], evolution.step(index, moments[index - 1], moments[index])


def _vkey(version: str) -> tuple[int, ...]:
    """(major, minor, patch) of '1.33.2'; missing parts are -1, so '1.33' sorts before '1.33.0'."""
    parts: list[int] = []
    for part in version.strip().split(".")[:3]:
        parts.append(int(part) if part.isdigit() else -1)
    return tuple(parts + [-1] * (3 - len(parts)))


def _ring(cluster: dict[str, Any]) -> str | None:
    """The rollout ring a cluster's tags put it in (tag name and value compared case-insensitively)."""
    for key, value in (cluster.get("tags") or {}).items():
        if str(key).lower() == "environment":
            ring = str(value or "").lower()
            return ring if ring in _RINGS else None
    return None


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _parse_time(value: Any) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment_in(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(1, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randrange(span))


def _json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _offset(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    try:
        return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))
    except ValueError:
        return timedelta()


def window_moments(config: dict[str, Any] | None, after: datetime, until: datetime) -> list[datetime]:
    """Start times (UTC) of a maintenanceWindow configuration's occurrences in (after, until]."""
    window = ((config or {}).get("properties") or {}).get("maintenanceWindow")
    if not isinstance(window, dict):
        return []
    schedule = window.get("schedule") or {}
    hour, _, minute = str(window.get("startTime", "00:00")).partition(":")
    try:
        start_of_day = timedelta(hours=int(hour), minutes=int(minute or 0))
    except ValueError:
        start_of_day = timedelta()
    offset = _offset(str(window.get("utcOffset", "+00:00")))
    try:
        first_day = date.fromisoformat(str(window.get("startDate", "2000-01-01")))
    except ValueError:
        first_day = date(2000, 1, 1)
    moments: list[datetime] = []
    day = (after - timedelta(days=1)).date()
    while day <= until.date() + timedelta(days=1):
        if day >= first_day and _scheduled_on(schedule, day, first_day):
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + start_of_day - offset
            if after < moment <= until:
                moments.append(moment)
        day += timedelta(days=1)
    return moments


def _scheduled_on(schedule: dict[str, Any], day: date, first_day: date) -> bool:
    weekday = WEEKDAYS[(day.weekday() + 1) % 7]
    if "weekly" in schedule:
        weekly = schedule["weekly"] or {}
        interval = max(1, int(weekly.get("intervalWeeks", 1) or 1))
        return bool(weekday == weekly.get("dayOfWeek") and ((day - first_day).days // 7) % interval == 0)
    if "daily" in schedule:
        interval = max(1, int((schedule["daily"] or {}).get("intervalDays", 1) or 1))
        return (day - first_day).days % interval == 0
    if "absoluteMonthly" in schedule:
        return bool(day.day == int((schedule["absoluteMonthly"] or {}).get("dayOfMonth", 1) or 1))
    if "relativeMonthly" in schedule:
        relative = schedule["relativeMonthly"] or {}
        if weekday != relative.get("dayOfWeek"):
            return False
        index = str(relative.get("weekIndex", "First"))
        if index == "Last":
            return day.day + 7 > _month_length(day.year, day.month)
        order = (
            ("First", "Second", "Third", "Fourth").index(index)
            if index in ("First", "Second", "Third", "Fourth")
            else 0
        )
        return (day.day - 1) // 7 == order
    return False


class _Month:
    """One month's context: the calendar and regions at its end, its random stream, the rows it produced."""

    def __init__(self, builder: FleetBuilder, index: int, begin: datetime, end: datetime) -> None:
        self.builder = builder
        self.rng = builder.rng
        self.index = index
        self.begin = begin
        self.end = end
        self.regions = {region.name: region for region in builder.regions}
        self.changes: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._release_dates: dict[str, list[date]] = {
            family: [r.released for r in releases] for family, releases in builder.releases.items()
        }
        self._released: dict[tuple[str, str], date] = {
            (family, r.version): r.released for family, releases in builder.releases.items() for r in releases
        }

    def release_dates(self, family: str) -> list[date]:
        return self._release_dates[family]

    def release_date(self, image: str) -> date | None:
        """Release date of a full nodeImageVersion, None when the catalog does not know it."""
        prefix, _, version = image.rpartition("-")
        family = IMAGE_SKUS.get(prefix, ("", False))[0]
        return self._released.get((family, version))

    def visible(self, moment: datetime) -> bool:
        """Whether a change at this moment is still in Resource Graph at the snapshot."""
        return self.end - RETENTION < moment <= self.end

    def latest_image(self, prefix: str, region: Region, moment: datetime) -> Release | None:
        """The newest release of the prefix's family that the region offered at that moment."""
        family = IMAGE_SKUS.get(prefix, ("", False))[0]
        releases = self.builder.releases.get(family)
        if not releases:
            return None
        cutoff = (moment - timedelta(days=region.image_lag_days)).date()
        position = bisect.bisect_right(self._release_dates[family], cutoff)
        return releases[position - 1] if position else None

    def moment_between(self, start: datetime, end: datetime) -> datetime:
        span = max(1, int((end - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randrange(span))

    def working_hours(self) -> datetime:
        """A moment in the month, during someone's working day."""
        day = self.moment_between(self.begin, self.end - timedelta(hours=1))
        moment = day.replace(hour=self.rng.randint(7, 17), minute=self.rng.randint(0, 59), second=0, microsecond=0)
        return min(max(moment, self.begin + timedelta(minutes=1)), self.end - timedelta(minutes=1))


class _Evolution:
    """The fleet's state as it evolves; clusters are copied before they change (snapshots never move)."""

    def __init__(self, base: dict[str, Any], seed: int, profile: FleetProfile) -> None:
        self.base = base
        self.seed = seed
        self.profile = profile
        self.tenant_id = str(base.get("tenantId", ""))
        self.clusters: dict[str, dict[str, Any]] = {c["id"].lower(): c for c in base["managedClusters"]}
        self.maintenance: dict[str, list[dict[str, Any]]] = {
            key.lower(): value for key, value in (base.get("maintenanceConfigurations") or {}).items()
        }
        generator = base.get("generator") or {}
        self.region_names: list[str] = list(generator.get("regions") or (base.get("kubernetesVersions") or {}))
        self._calendar = {m.minor: m for m in load_calendar()}
        as_of = str(base.get("asOf") or "")
        self._base_day = datetime.fromisoformat(as_of.replace("Z", "+00:00")).date() if as_of else None
        self.traits = {cid: self._traits(cid, cluster) for cid, cluster in self.clusters.items()}
        self.names_used = {cid for cid in self.clusters}
        self.created: set[str] = set()
        self._owned: set[str] = set()
        # Rollout rings: when a lower-ring cluster first ran each ('kubernetes' | 'node-image', value), and the
        # production clusters that skip the rings this month.
        self.ring_first: dict[tuple[str, str], datetime] = {}
        self._lapsed: set[str] = set()
        # Azure Kubernetes Fleet Manager: its members are upgraded by the fleet's update runs, not by hand
        # (auditor/emulator/fleet_scenarios.py).
        self.fleet_state = state_from_block(base.get("fleetManager"))

    # ------------------------------------------------------------------ state

    def _traits(self, cid: str, cluster: dict[str, Any]) -> _Traits:
        rng = random.Random(f"aks-evolve-traits|{self.seed}|{cid}")
        properties = cluster.get("properties") or {}
        profile = properties.get("autoUpgradeProfile") or {}
        channel = str(profile.get("upgradeChannel") or "none").lower()
        node_os = str(profile.get("nodeOSUpgradeChannel") or "")
        names = {c.get("name") for c in self.maintenance.get(cid, [])}
        environment = str((cluster.get("tags") or {}).get("environment") or "dev")
        if environment not in self.profile.delete:
            environment = "dev"
        score = (
            (2 if channel in ("patch", "stable", "rapid") else 0)
            + (1 if node_os in ("NodeImage", "SecurityPatch") or channel == "node-image" else 0)
            + (1 if names & {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"} else 0)
        )
        # The state says as much as the settings: a minor long out of support or stale node images mean that
        # nobody has been upgrading this cluster, whatever its channels say.
        if self._base_day is not None:
            minor = _minor(str(properties.get("currentKubernetesVersion", "")))
            calendar = self._calendar.get(minor)
            if calendar is not None and calendar.end_of_support and calendar.end_of_support < self._base_day:
                score -= 2
            ages = [
                (self._base_day - parsed.release_date).days
                for pool in properties.get("agentPoolProfiles", [])
                if (parsed := parse_node_image(str(pool.get("nodeImageVersion") or ""))) is not None
            ]
            if ages and sorted(ages)[len(ages) // 2] > 90:
                score -= 1
        if score >= 3:
            weights = (("good", 0.75), ("fair", 0.2), ("poor", 0.05))
        elif score >= 1:
            weights = (("good", 0.35), ("fair", 0.45), ("poor", 0.2))
        else:
            weights = (("good", 0.1), ("fair", 0.4), ("poor", 0.5))
        return _Traits(pick(rng, weights), environment, _ring(cluster))

    def _own(self, cid: str) -> dict[str, Any]:
        """The cluster, copied once this month before its first change (earlier snapshots keep theirs)."""
        if cid not in self._owned:
            self.clusters[cid] = _json_copy(self.clusters[cid])
            self._owned.add(cid)
        return self.clusters[cid]

    def _set_maintenance(self, cid: str, configs: list[dict[str, Any]]) -> None:
        if configs:
            self.maintenance[cid] = configs
        else:
            self.maintenance.pop(cid, None)

    def _config(self, cid: str, name: str) -> dict[str, Any] | None:
        return next((c for c in self.maintenance.get(cid, []) if c.get("name") == name), None)

    # ------------------------------------------------------------------ rollout rings

    def _ran(self, cid: str, kind: str, value: str, moment: datetime) -> None:
        """A cluster runs a value ('kubernetes' version or 'node-image') from that moment: remembered when the
        cluster is in a lower ring, as what production may take once it has soaked there."""
        if not value or self.traits[cid].ring not in _RINGS[:-1]:
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
        return self.traits[cid].ring == _RINGS[-1] and cid not in self._lapsed

    def _preceded(self, month: _Month, kind: str, value: str) -> bool:
        """Whether a lower-ring cluster ran the value before the month began (by the previous snapshot).

        A monthly release train: what the lower rings have run by the start of a month goes to production during
        it, strictly after them and after a soak of days to weeks; what they take during the month waits for the
        next one. (A soak counted in days would let production follow within the month, but a scan a month later
        could seldom tell who was first: Resource Graph keeps 14 days of changes.)"""
        first = self.ring_first.get((kind, value))
        return first is not None and first <= month.begin

    def _ring_version(self, month: _Month, region: Region, current: str, wanted: str) -> str | None:
        """What production upgrades to instead of a version no lower ring has run yet: the newest listed version
        between its own and the wanted one that one has (None: it waits)."""
        low, high = _vkey(current), _vkey(wanted)
        best: tuple[int, ...] | None = None
        choice = None
        for minor, patches in region.listed.items():
            for patch in patches:
                version = f"{minor}.{patch}"
                key = _vkey(version)
                if low < key <= high and (best is None or key > best) and self._preceded(month, "kubernetes", version):
                    best, choice = key, version
        return choice

    def _release(self, month: _Month, prefix: str, region: Region, moment: datetime, held: bool) -> Release | None:
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

    # ------------------------------------------------------------------ snapshots

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
        month = _Month(builder, index, begin, end)
        self._owned = set()
        self.created = set()
        self._lapsed = set()
        # The lower rings move first: dev, then staging (and clusters in no ring), then production.
        rank = {ring: position for position, ring in enumerate(_RINGS)}
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

    def _fleet_month(self, month: _Month) -> None:
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

    # ------------------------------------------------------------------ rows

    def _change(
        self,
        month: _Month,
        cluster: dict[str, Any],
        moment: datetime,
        changes: dict[str, Any],
        automated: bool,
    ) -> None:
        if month.visible(moment):
            month.changes.append(month.builder.change_row(cluster, moment, changes, automated))

    def _lifecycle_row(self, month: _Month, cluster: dict[str, Any], moment: datetime, kind: str) -> None:
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
        month: _Month,
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

    @staticmethod
    def _delta(previous: Any, new: Any, category: str = "System") -> dict[str, Any]:
        return {
            "previousValue": previous,
            "newValue": new,
            "propertyChangeType": "Update",
            "changeCategory": category,
        }

    # ------------------------------------------------------------------ one cluster, one month

    def _step_cluster(self, month: _Month, cid: str) -> None:
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
        if traits.ring == _RINGS[-1] and rng.random() < self.profile.ring_lapse:
            self._lapsed.add(cid)  # this month, production does not wait for the lower rings
        touched = self._kubernetes(month, cid, region)
        self._node_images(month, cid, region, touched)
        self._upcoming(month, cid)

    def _delete(self, month: _Month, cid: str) -> None:
        cluster = self.clusters.pop(cid)
        self.maintenance.pop(cid, None)
        self._lifecycle_row(month, cluster, month.working_hours(), "Delete")

    def _lifecycle(self, month: _Month, cid: str) -> None:
        rng = month.rng
        cluster = self.clusters[cid]
        properties = cluster["properties"]
        state = properties.get("provisioningState")
        if state in ("Failed", "Upgrading", "Updating") and rng.random() < (0.55 if state == "Failed" else 1.0):
            cluster = self._own(cid)
            properties = cluster["properties"]
            moment = month.working_hours()
            properties["provisioningState"] = "Succeeded"
            changes = {"properties.provisioningState": self._delta(state, "Succeeded")}
            for index, pool in enumerate(properties.get("agentPoolProfiles", [])):
                if pool.get("provisioningState") == "Failed":
                    pool["provisioningState"] = "Succeeded"
                    changes[f"properties.agentPoolProfiles[{index}].provisioningState"] = self._delta(
                        "Failed", "Succeeded"
                    )
            self._change(month, cluster, moment, changes, automated=False)
        for index, pool in enumerate(properties.get("agentPoolProfiles", [])):
            if pool.get("provisioningState") == "Failed" and rng.random() < 0.5:
                cluster = self._own(cid)
                properties = cluster["properties"]
                properties["agentPoolProfiles"][index]["provisioningState"] = "Succeeded"
                self._change(
                    month,
                    cluster,
                    month.working_hours(),
                    {
                        f"properties.agentPoolProfiles[{index}].provisioningState": self._delta("Failed", "Succeeded"),
                    },
                    automated=False,
                )
        power = (properties.get("powerState") or {}).get("code", "Running")
        stop_chance = {"prod": 0.004, "staging": 0.01, "dev": 0.03}[self.traits[cid].environment]
        if (power == "Stopped" and rng.random() < 0.3) or (power == "Running" and rng.random() < stop_chance):
            new = "Running" if power == "Stopped" else "Stopped"
            cluster = self._own(cid)
            cluster["properties"]["powerState"] = {"code": new}
            changes = {"properties.powerState.code": self._delta(power, new, "User")}
            for index, pool in enumerate(cluster["properties"].get("agentPoolProfiles", [])):
                pool["powerState"] = {"code": new}
                changes[f"properties.agentPoolProfiles[{index}].powerState.code"] = self._delta(power, new, "User")
            self._change(month, cluster, month.working_hours(), changes, automated=False)

    def _config_drift(self, month: _Month, cid: str, region: Region) -> None:
        """Settings switched off (regressions) or on (fixes) by hand."""
        rng = month.rng
        diligence = self.traits[cid].diligence
        cluster = self.clusters[cid]
        profile = cluster["properties"].get("autoUpgradeProfile") or {}
        channel = profile.get("upgradeChannel")
        node_os = profile.get("nodeOSUpgradeChannel")
        improve = {"good": 0.05, "fair": 0.03, "poor": 0.01}[diligence]
        regress = {"good": 0.005, "fair": 0.015, "poor": 0.03}[diligence]
        moment = month.working_hours()
        if channel in ("patch", "stable", "rapid") and rng.random() < regress:
            self._set_profile(month, cid, moment, "upgradeChannel", channel, "none")
        elif (channel in (None, "none")) and rng.random() < improve:
            self._set_profile(month, cid, moment, "upgradeChannel", channel, rng.choice(("stable", "patch")))
            if self._config(cid, "aksManagedAutoUpgradeSchedule") is None and rng.random() < 0.7:
                self._add_window(month, cid, region, "aksManagedAutoUpgradeSchedule", moment)
        if node_os in ("NodeImage", "SecurityPatch") and channel != "node-image" and rng.random() < regress:
            self._set_profile(month, cid, moment, "nodeOSUpgradeChannel", node_os, rng.choice(("None", "Unmanaged")))
        elif node_os not in ("NodeImage", "SecurityPatch") and rng.random() < improve:
            self._set_profile(
                month,
                cid,
                moment,
                "nodeOSUpgradeChannel",
                node_os,
                rng.choice(("NodeImage", "SecurityPatch")),
            )
            if self._config(cid, "aksManagedNodeOSUpgradeSchedule") is None and rng.random() < 0.7:
                self._add_window(month, cid, region, "aksManagedNodeOSUpgradeSchedule", moment)
        configs = self.maintenance.get(cid, [])
        if configs and rng.random() < regress:
            self._set_maintenance(cid, [c for c in configs if c is not configs[rng.randrange(len(configs))]])
        for index, pool in enumerate(self.clusters[cid]["properties"].get("agentPoolProfiles", [])):
            settings = pool.get("upgradeSettings") or {}
            if str(settings.get("maxSurge", "")) == "0" and rng.random() < improve * 2:
                self._set_surge(month, cid, index, moment, "33%", "0")
            elif str(settings.get("maxSurge", "")) != "0" and rng.random() < regress / 3:
                self._set_surge(month, cid, index, moment, "0", None)

    def _lifecycle_drift(self, month: _Month, cid: str) -> None:
        """Upgrade overrides armed and disarmed, Availability Sets migrated: from a stream of their own."""
        rng = random.Random(f"aks-evolve-lifecycle|{self.seed}|{month.index}|{cid}")
        diligence = self.traits[cid].diligence
        properties = self.clusters[cid]["properties"]
        override = (properties.get("upgradeSettings") or {}).get("overrideSettings") or {}
        path = "properties.upgradeSettings.overrideSettings"
        if override.get("forceUpgrade") is True:
            until = _parse_time(override.get("until"))
            cleanup = {"good": 0.6, "fair": 0.35, "poor": 0.15}[diligence]
            if (until is None or until < month.end) and rng.random() < cleanup:
                moment = _moment_in(rng, max(month.begin, until or month.begin), month.end)
                cluster = self._own(cid)
                cluster["properties"]["upgradeSettings"]["overrideSettings"]["forceUpgrade"] = False
                self._keyed_change(
                    month, rng, cluster, moment, {f"{path}.forceUpgrade": self._delta(True, False, "User")}
                )
        elif rng.random() < {"good": 0.06, "fair": 0.12, "poor": 0.18}[diligence]:
            armed = _moment_in(rng, month.begin, month.end - timedelta(hours=1))
            until = armed + timedelta(days=3)
            cluster = self._own(cid)
            settings = cluster["properties"].setdefault("upgradeSettings", {})
            settings["overrideSettings"] = {"forceUpgrade": True, "until": _iso_seconds(until)}
            self._keyed_change(
                month,
                rng,
                cluster,
                armed,
                {
                    f"{path}.forceUpgrade": self._delta(override.get("forceUpgrade"), True, "User"),
                    f"{path}.until": self._delta(override.get("until"), _iso_seconds(until), "User"),
                },
            )
            disarmed = until + timedelta(days=rng.randint(1, 5))
            if disarmed < month.end and rng.random() < {"good": 0.9, "fair": 0.7, "poor": 0.4}[diligence]:
                settings["overrideSettings"]["forceUpgrade"] = False
                self._keyed_change(
                    month, rng, cluster, disarmed, {f"{path}.forceUpgrade": self._delta(True, False, "User")}
                )
        for index, pool in enumerate(self.clusters[cid]["properties"].get("agentPoolProfiles", [])):
            if (
                pool.get("type") == "AvailabilitySet"
                and rng.random() < {"good": 0.2, "fair": 0.1, "poor": 0.03}[diligence]
            ):
                cluster = self._own(cid)
                cluster["properties"]["agentPoolProfiles"][index]["type"] = "VirtualMachines"
                moment = _moment_in(rng, month.begin, month.end - timedelta(hours=1))
                self._keyed_change(
                    month,
                    rng,
                    cluster,
                    moment,
                    {
                        f"properties.agentPoolProfiles[{index}].type": self._delta(
                            "AvailabilitySet", "VirtualMachines", "User"
                        )
                    },
                )

    def _keyed_change(
        self, month: _Month, rng: random.Random, cluster: dict[str, Any], moment: datetime, changes: dict[str, Any]
    ) -> None:
        """A change row whose ids come from the given stream (not the month's, which stays as it was)."""
        main_stream, month.builder.rng = month.builder.rng, rng
        try:
            self._change(month, cluster, moment, changes, automated=False)
        finally:
            month.builder.rng = main_stream

    def _set_profile(self, month: _Month, cid: str, moment: datetime, key: str, old: Any, new: str) -> None:
        cluster = self._own(cid)
        profile = cluster["properties"].setdefault("autoUpgradeProfile", {})
        profile[key] = new
        self._change(
            month,
            cluster,
            moment,
            {f"properties.autoUpgradeProfile.{key}": self._delta(old, new, "User")},
            automated=False,
        )

    def _set_surge(
        self, month: _Month, cid: str, index: int, moment: datetime, surge: str, unavailable: str | None
    ) -> None:
        cluster = self._own(cid)
        pool = cluster["properties"]["agentPoolProfiles"][index]
        settings = dict(pool.get("upgradeSettings") or {})
        changes = {
            f"properties.agentPoolProfiles[{index}].upgradeSettings.maxSurge": self._delta(
                settings.get("maxSurge"), surge, "User"
            )
        }
        settings["maxSurge"] = surge
        if unavailable is not None:
            settings["maxUnavailable"] = unavailable
        pool["upgradeSettings"] = settings
        self._change(month, cluster, moment, changes, automated=False)

    def _add_window(self, month: _Month, cid: str, region: Region, name: str, moment: datetime) -> None:
        configs = [c for c in self.maintenance.get(cid, []) if c.get("name") != name]
        window = month.builder.window(
            self.traits[cid].diligence, region, node_os=name == "aksManagedNodeOSUpgradeSchedule"
        )
        window["startDate"] = moment.date().isoformat()
        configs.append(
            {
                "id": f"{self.clusters[cid]['id']}/maintenanceConfigurations/{name}",
                "name": name,
                "type": "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
                "properties": {"maintenanceWindow": window},
            }
        )
        self._set_maintenance(cid, configs)

    # ------------------------------------------------------------------ Kubernetes versions

    def _target(self, month: _Month, cid: str, region: Region) -> tuple[str, bool] | None:
        """The version this cluster moves to this month, and whether an auto-upgrade channel does it (rings
        aside: production may settle for less when the upgrade starts, _ring_version)."""
        rng = month.rng
        properties = self.clusters[cid]["properties"]
        current = str(properties.get("currentKubernetesVersion", ""))
        minor = _minor(current)
        listed = region.listed

        def newest(m: str) -> str | None:
            patches = listed.get(m)
            return f"{m}.{max(patches)}" if patches else None

        def next_minor() -> str | None:
            later = [m for m in region.official if _vkey(m) > _vkey(minor)]
            return later[0] if later else None

        channel = str((properties.get("autoUpgradeProfile") or {}).get("upgradeChannel") or "none").lower()
        if channel in ("patch", "stable", "rapid"):
            if rng.random() >= self.profile.auto_runs[self.traits[cid].diligence]:
                return None
            candidate = newest(minor) if minor in listed else None
            goal = region.official[-1] if channel == "rapid" else region.official[max(0, len(region.official) - 2)]
            if channel != "patch" and _vkey(minor) < _vkey(goal):
                following = next_minor()
                candidate = newest(following) if following else candidate
            elif channel == "patch" and minor not in listed:
                following = next_minor()  # out of support: AKS moves the cluster onto a supported minor
                candidate = newest(following) if following else None
            return (candidate, True) if candidate and _vkey(candidate) > _vkey(current) else None
        diligence = self.traits[cid].diligence
        calendar = self._calendar.get(minor)
        plan = properties.get("supportPlan")
        if plan == PLAN_LTS and minor in listed:
            candidate = newest(minor)
            if candidate and _vkey(candidate) > _vkey(current) and rng.random() < 0.3:
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
        if urgent or not candidate or _vkey(candidate) <= _vkey(current) or rng.random() < 0.6:
            following = next_minor()
            candidate = newest(following) if following else candidate
        return (candidate, False) if candidate and _vkey(candidate) > _vkey(current) else None

    def _kubernetes(self, month: _Month, cid: str, region: Region) -> set[int]:
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
            and _vkey(str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or current))
            < _vkey(current)
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

    def _campaign(self, month: _Month, cid: str, region: Region, target: str, automated: bool) -> set[int]:
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
        requested = _minor(target) if requested_before.count(".") == 1 else target
        first: dict[str, Any] = {"properties.provisioningState": self._delta("Succeeded", "Upgrading")}
        if requested != requested_before:
            first["properties.kubernetesVersion"] = self._delta(requested_before, requested, "User")
        self._change(month, cluster, start, first, automated)
        moment = start + timedelta(minutes=rng.randint(8, 20))
        self._change(
            month,
            cluster,
            moment,
            {"properties.currentKubernetesVersion": self._delta(previous, target)},
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
            and _vkey(str(pool.get("currentOrchestratorVersion") or previous)) < _vkey(target)
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
            {"properties.provisioningState": self._delta("Upgrading", final)},
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
        month: _Month,
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
        requested = _minor(target) if requested_before.count(".") == 1 else target
        first: dict[str, Any] = {f"{prefix_path}.provisioningState": self._delta("Succeeded", "Upgrading")}
        if requested != requested_before:
            first[f"{prefix_path}.orchestratorVersion"] = self._delta(requested_before, requested, "User")
        self._change(month, cluster, start, first, automated)
        end = start + timedelta(minutes=min(120, 4 + int(pool.get("count") or 3) * rng.randint(1, 3)))
        pool["orchestratorVersion"] = requested
        if fail:
            pool["provisioningState"] = "Failed"
            self._change(
                month,
                cluster,
                end,
                {f"{prefix_path}.provisioningState": self._delta("Upgrading", "Failed")},
                automated,
            )
            return end
        changes: dict[str, Any] = {
            f"{prefix_path}.currentOrchestratorVersion": self._delta(previous, target),
        }
        image = str(pool.get("nodeImageVersion") or "")
        new_image = self._image_for(month, region, image, target, end, self._held(cid))
        if new_image and new_image != image:
            changes[f"{prefix_path}.nodeImageVersion"] = self._delta(image, new_image)
            pool["nodeImageVersion"] = new_image
            self._ran(cid, "node-image", new_image, end)
        changes[f"{prefix_path}.provisioningState"] = self._delta("Upgrading", "Succeeded")
        pool["currentOrchestratorVersion"] = target
        self._ran(cid, "kubernetes", target, end)
        self._change(month, cluster, end, changes, automated)
        return end

    def _image_for(
        self,
        month: _Month,
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
        key = _vkey(version)[:2]
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

    # ------------------------------------------------------------------ node images

    def _node_images(self, month: _Month, cid: str, region: Region, touched: set[int]) -> None:
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
                {f"{path}.provisioningState": self._delta("Succeeded", "UpgradingNodeImageVersion")},
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
                    f"{path}.nodeImageVersion": self._delta(image, new_image),
                    f"{path}.provisioningState": self._delta("UpgradingNodeImageVersion", "Succeeded"),
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

    def _upcoming(self, month: _Month, cid: str) -> None:
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

    # ------------------------------------------------------------------ new clusters

    def _add_clusters(self, month: _Month) -> None:
        rng = month.rng
        existing = list(self.clusters.values())
        if not existing:
            return
        count = sum(1 for _ in existing if rng.random() < self.profile.new_clusters_per_month)
        if count == 0 and len(existing) < 60 and rng.random() < 0.6:
            count = 1
        for _ in range(count):
            template = rng.choice(existing)
            region = month.regions.get(str(template["location"]).lower())
            if region is None or not region.official:
                continue
            environment = str((template.get("tags") or {}).get("environment") or "dev")
            if environment not in self.profile.hygiene_by_env:
                environment = "dev"
            hygiene = pick(rng, self.profile.hygiene_by_env[environment])
            app = rng.choice(APPS)
            sid = template["id"].split("/")[2]
            group = f"rg-{app}-{environment}-{region.code}"
            number = 1
            while True:
                name = f"aks-{app}-{environment}-{region.code}-{number:02d}"
                cid = (
                    f"/subscriptions/{sid}/resourceGroups/{group}/providers/Microsoft.ContainerService/"
                    f"managedClusters/{name}"
                )
                if cid.lower() not in self.names_used:
                    break
                number += 1
            cluster = draw_cluster(month.builder, cid, name, region, environment, hygiene, app)
            moment = month.working_hours()
            self._fresh(month, cluster, region, moment)
            key = cid.lower()
            self.clusters[key] = cluster
            self._owned.add(key)
            self.created.add(key)
            self.names_used.add(key)
            self.traits[key] = _Traits(hygiene, environment, _ring(cluster))
            self._ran_all(key, moment)
            profile = cluster["properties"].get("autoUpgradeProfile") or {}
            configs = month.builder.maintenance_configurations(
                cid, hygiene, region, profile.get("upgradeChannel"), profile.get("nodeOSUpgradeChannel")
            )
            for config in configs:
                window = (config.get("properties") or {}).get("maintenanceWindow")
                if isinstance(window, dict):
                    window["startDate"] = moment.date().isoformat()
            apply_lifecycle_quirks(
                month.builder, random.Random(f"aks-evolve-new|{self.seed}|{month.index}|{key}"), cluster, configs
            )
            self._set_maintenance(key, configs)
            self._lifecycle_row(month, cluster, moment, "Create")

    def _fresh(self, month: _Month, cluster: dict[str, Any], region: Region, moment: datetime) -> None:
        """A cluster created now runs a listed version on the newest images, and is healthy."""
        properties = cluster["properties"]
        minor = _minor(str(properties["currentKubernetesVersion"]))
        if minor not in region.listed:
            minor = region.official[max(0, len(region.official) - 2)]
            if properties.get("supportPlan") == PLAN_LTS and not region.lts:
                properties["supportPlan"] = "KubernetesOfficial"
        version = f"{minor}.{max(region.listed[minor])}"
        held = _ring(cluster) == _RINGS[-1]
        if held and not self._preceded(month, "kubernetes", version):
            # A new production cluster is created on what the lower rings run: the newest patch of the minor
            # that one of them ran first, when there is one.
            tried = [p for p in region.listed[minor] if self._preceded(month, "kubernetes", f"{minor}.{p}")]
            version = f"{minor}.{max(tried)}" if tried else version
        properties["currentKubernetesVersion"] = version
        properties["kubernetesVersion"] = (
            minor if str(properties.get("kubernetesVersion", "")).count(".") == 1 else version
        )
        properties["provisioningState"] = "Succeeded"
        properties["powerState"] = {"code": "Running"}
        for pool in properties.get("agentPoolProfiles", []):
            pool["orchestratorVersion"] = properties["kubernetesVersion"]
            pool["currentOrchestratorVersion"] = version
            pool["provisioningState"] = "Succeeded"
            pool["powerState"] = {"code": "Running"}
            before = str(pool.get("nodeImageVersion") or "")
            image = self._image_for(month, region, before, version, moment, held)
            if held and image == before:  # no lower ring ran an image of its family: the newest
                image = self._image_for(month, region, before, version, moment)
            if image:
                pool["nodeImageVersion"] = image
