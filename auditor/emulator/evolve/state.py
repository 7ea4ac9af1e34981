"""The evolution's state: the clusters as they stand, their owners' traits, one month's context, and the
small helpers every concern uses."""

from __future__ import annotations

import bisect
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.catalog import load_calendar
from auditor.emulator.fleet_scenarios import state_from_block
from auditor.emulator.generator import (
    FleetBuilder,
    pick,
)
from auditor.emulator.profile import FleetProfile
from auditor.emulator.releases import IMAGE_SKUS, Region, Release
from auditor.nodeimage import parse_node_image

RETENTION = timedelta(days=14)  # Resource Graph keeps resourcechanges for 14 days
UPCOMING = timedelta(days=7)  # AKS announces a scheduled event 7 days (and 24 hours) ahead
MANAGED_CLUSTER_CHANGE = "microsoft.containerservice/managedclusters"

# Rollout rings: the values of the ``environment`` tag, first ring to production (AKS-RNG-01's defaults).
RINGS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Traits:
    """What does not change about a cluster's owners: how diligent they are, and the environment."""

    diligence: str  # good | fair | poor
    environment: str
    ring: str | None = None  # its environment tag when that names a rollout ring (RINGS), else None


def as_utc(moment: datetime) -> datetime:
    """The moment in UTC (a naive one is taken as UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def month_length(year: int, month: int) -> int:
    """Days in a month."""
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def ring_of(cluster: dict[str, Any]) -> str | None:
    """The rollout ring a cluster's tags put it in (tag name and value compared case-insensitively)."""
    for key, value in (cluster.get("tags") or {}).items():
        if str(key).lower() == "environment":
            ring = str(value or "").lower()
            return ring if ring in RINGS else None
    return None


def minor_of(version: str) -> str:
    """'1.33' of '1.33.2'."""
    return ".".join(version.split(".")[:2])


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (Z accepted) in UTC, None when it is not one."""
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def iso_seconds(moment: datetime) -> str:
    """UTC, to the second: 2026-11-20T04:05:06Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment_in(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment drawn in [start, end), to the second."""
    span = max(1, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randrange(span))


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (snapshots share nothing)."""
    return json.loads(json.dumps(value))


class Month:
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


class EvolutionState:
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

    def _traits(self, cid: str, cluster: dict[str, Any]) -> Traits:
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
            minor = minor_of(str(properties.get("currentKubernetesVersion", "")))
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
        return Traits(pick(rng, weights), environment, ring_of(cluster))

    def _own(self, cid: str) -> dict[str, Any]:
        """The cluster, copied once this month before its first change (earlier snapshots keep theirs)."""
        if cid not in self._owned:
            self.clusters[cid] = json_copy(self.clusters[cid])
            self._owned.add(cid)
        return self.clusters[cid]

    def _set_maintenance(self, cid: str, configs: list[dict[str, Any]]) -> None:
        if configs:
            self.maintenance[cid] = configs
        else:
            self.maintenance.pop(cid, None)

    def _config(self, cid: str, name: str) -> dict[str, Any] | None:
        return next((c for c in self.maintenance.get(cid, []) if c.get("name") == name), None)
