"""Generate realistic synthetic AKS fleets (ARM wire JSON) from the bundled calendar and node image catalog.

Everything is drawn from one seeded random.Random, so a (clusters, subscriptions, seed, regions, as_of) tuple
always yields the same fleet. Real inputs: the AKS version calendar (which minors are supported, LTS-only or
ended at as_of) and the real node image releases with their dates. Synthetic, and documented as such in
docs/emulator.md: names, ids, Kubernetes patch numbers (one community patch a month from the upstream release,
LTS patches numbered from 100), node image releases after the catalog's last real release (extrapolated on
each family's own cadence), and the upgrade history.
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.catalog import (
    PLAN_LTS,
    PLAN_OFFICIAL,
    MinorVersion,
    catalog_version,
    load_calendar,
    load_node_images,
)
from auditor.emulator.fleet import FLEET_SCHEMA, write_fleet

__all__ = [
    "DEFAULT_REGIONS",
    "IMAGE_SKUS",
    "apply_lifecycle_quirks",
    "extend_node_image_releases",
    "generate_fleet",
    "write_fleet",
]

DEFAULT_REGIONS = (
    "eastus",
    "westeurope",
    "eastus2",
    "northeurope",
    "westus2",
    "uksouth",
    "southeastasia",
    "australiaeast",
    "canadacentral",
    "centralus",
    "francecentral",
    "germanywestcentral",
    "japaneast",
    "swedencentral",
    "westus3",
    "southcentralus",
    "northcentralus",
    "westus",
    "westcentralus",
    "brazilsouth",
    "koreacentral",
    "centralindia",
    "eastasia",
    "japanwest",
    "australiasoutheast",
    "switzerlandnorth",
    "norwayeast",
    "polandcentral",
    "italynorth",
    "southafricanorth",
    "uaenorth",
)
_REGION_CODES = {
    "eastus": ("eus", "-05:00"),
    "westeurope": ("weu", "+01:00"),
    "eastus2": ("eus2", "-05:00"),
    "northeurope": ("neu", "+00:00"),
    "westus2": ("wus2", "-08:00"),
    "uksouth": ("uks", "+00:00"),
    "southeastasia": ("sea", "+08:00"),
    "australiaeast": ("aue", "+10:00"),
    "canadacentral": ("cac", "-05:00"),
    "centralus": ("cus", "-06:00"),
    "francecentral": ("frc", "+01:00"),
    "germanywestcentral": ("gwc", "+01:00"),
    "japaneast": ("jpe", "+09:00"),
    "swedencentral": ("sdc", "+01:00"),
    "westus3": ("wus3", "-07:00"),
    "southcentralus": ("scus", "-06:00"),
    "northcentralus": ("ncus", "-06:00"),
    "westus": ("wus", "-08:00"),
    "westcentralus": ("wcus", "-07:00"),
    "brazilsouth": ("brs", "-03:00"),
    "koreacentral": ("krc", "+09:00"),
    "centralindia": ("inc", "+05:30"),
    "eastasia": ("ea", "+08:00"),
    "japanwest": ("jpw", "+09:00"),
    "australiasoutheast": ("ause", "+10:00"),
    "switzerlandnorth": ("chn", "+01:00"),
    "norwayeast": ("noe", "+01:00"),
    "polandcentral": ("plc", "+01:00"),
    "italynorth": ("itn", "+01:00"),
    "southafricanorth": ("san", "+02:00"),
    "uaenorth": ("uaen", "+04:00"),
}

# nodeImageVersion prefixes the generator uses, with their catalog release line. "observed" marks the prefixes
# seen verbatim in Microsoft text (node-image-version-strings-observed.csv); the others follow the same
# naming pattern (gen1 / arm64 / other OS versions) and are documented as such.
IMAGE_SKUS: dict[str, tuple[str, bool]] = {
    "AKSUbuntu-2204gen2containerd": ("AKSUbuntu-2204", True),
    "AKSUbuntu-2204containerd": ("AKSUbuntu-2204", False),
    "AKSUbuntu-2204gen2arm64containerd": ("AKSUbuntu-2204", False),
    "AKSUbuntu-2404gen2containerd": ("AKSUbuntu-2404", False),
    "AKSUbuntu-1804gen2containerd": ("AKSUbuntu-1804", False),
    "AKSAzureLinux-V3gen2": ("AKSAzureLinux-V3", True),
    "AKSAzureLinux-V2gen2": ("AKSAzureLinux-V2", True),
    "AKSAzureLinux-V2": ("AKSAzureLinux-V2", True),
    "AKSWindows-2022-containerd": ("AKSWindows-2022", True),
    "AKSWindows-2019-containerd": ("AKSWindows-2019", False),
    "AKSWindows-23H2-gen2": ("AKSWindows-23H2", True),  # Windows Server Annual Channel (OS SKU WindowsAnnual)
}

_APPS = (
    "payments", "checkout", "search", "catalog", "identity", "data", "ml", "analytics", "web", "api",
    "gateway", "billing", "ledger", "risk", "crm", "portal", "mobile", "iot", "media", "logistics",
    "inventory", "pricing", "fraud", "reporting", "platform", "observability", "batch", "events",
)  # fmt: skip
_UNITS = (
    "retail",
    "finance",
    "platform",
    "data",
    "corp",
    "digital",
    "supplychain",
    "marketing",
    "security",
    "research",
)
_SUB_KINDS = (("prod", 0.4), ("nonprod", 0.35), ("dev", 0.15), ("shared", 0.1))
_ENV_BY_SUB_KIND = {
    "prod": (("prod", 0.85), ("staging", 0.1), ("dev", 0.05)),
    "nonprod": (("staging", 0.55), ("dev", 0.4), ("prod", 0.05)),
    "dev": (("dev", 0.9), ("staging", 0.1)),
    "shared": (("prod", 0.4), ("staging", 0.3), ("dev", 0.3)),
}
_HYGIENE_BY_ENV = {
    "prod": (("good", 0.65), ("fair", 0.25), ("poor", 0.10)),
    "staging": (("good", 0.55), ("fair", 0.3), ("poor", 0.15)),
    "dev": (("good", 0.45), ("fair", 0.3), ("poor", 0.25)),
}
_UPGRADE_CHANNEL = {  # None means the key (or the whole autoUpgradeProfile) is absent
    "good": (
        ("patch", 0.35),
        ("stable", 0.4),
        ("rapid", 0.08),
        ("node-image", 0.07),
        ("none", 0.05),
        (None, 0.05),
    ),
    "fair": (("none", 0.3), (None, 0.2), ("patch", 0.25), ("stable", 0.15), ("node-image", 0.1)),
    "poor": ((None, 0.45), ("none", 0.4), ("patch", 0.1), ("node-image", 0.05)),
}
_NODE_OS_CHANNEL = {
    "good": (("NodeImage", 0.5), ("SecurityPatch", 0.4), ("None", 0.03), ("Unmanaged", 0.02), (None, 0.05)),
    "fair": (("NodeImage", 0.35), ("SecurityPatch", 0.15), ("Unmanaged", 0.25), ("None", 0.1), (None, 0.15)),
    "poor": (("Unmanaged", 0.35), ("None", 0.25), (None, 0.3), ("NodeImage", 0.1)),
}
_DURATION_HOURS = {
    "good": ((4, 0.45), (5, 0.1), (6, 0.25), (8, 0.15), (12, 0.05)),
    "fair": ((4, 0.15), (6, 0.2), (8, 0.3), (12, 0.2), (24, 0.15)),
    "poor": ((8, 0.2), (12, 0.2), (24, 0.6)),
}
_UPGRADE_SETTINGS_USER: tuple[tuple[dict[str, Any] | None, float], ...] = (
    (None, 0.3),
    ({"maxSurge": "33%"}, 0.22),
    ({"maxSurge": "1"}, 0.12),
    ({"maxSurge": "10%", "maxUnavailable": "0"}, 0.1),
    ({"maxSurge": "33%", "drainTimeoutInMinutes": 30, "nodeSoakDurationInMinutes": 5}, 0.06),
    (
        {
            "maxSurge": "50%",
            "maxUnavailable": "0",
            "drainTimeoutInMinutes": 30,
            "undrainableNodeBehavior": "Cordon",
        },
        0.05,
    ),
    ({"maxSurge": "0", "maxUnavailable": "1"}, 0.07),
    ({"maxSurge": "0", "maxUnavailable": "10%"}, 0.04),
    ({"maxSurge": "0"}, 0.04),  # no surge and no unavailability: the upgrade cannot progress
)
_UPGRADE_SETTINGS_SYSTEM: tuple[tuple[dict[str, Any] | None, float], ...] = (
    (None, 0.35),
    ({"maxSurge": "33%"}, 0.25),
    ({"maxSurge": "1"}, 0.15),
    ({"maxSurge": "10%", "maxUnavailable": "0"}, 0.12),
    ({"maxSurge": "0", "maxUnavailable": "1"}, 0.06),  # takes a system node away during upgrades
    ({"maxSurge": "33%", "maxUnavailable": "10%"}, 0.04),
    ({"maxSurge": "0"}, 0.03),
)
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_WEEK_INDEX = ("First", "Second", "Third", "Fourth", "Last")
_TEAMS = ("platform", "sre", "payments-dev", "data-eng", "web-team", "ml-ops", "identity", "secops", "apps")
_START_HOURS = (0, 1, 2, 3, 4, 20, 21, 22, 23)
_HISTORY_DAYS = 14  # Resource Graph keeps resourcechanges for 14 days


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    """One value from (value, weight) pairs."""
    roll = rng.random() * sum(weight for _, weight in weighted)
    for value, weight in weighted:
        roll -= weight
        if roll < 0:
            return value
    return weighted[-1][0]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, 28))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class _Release:
    family: str
    version: str
    released: date
    synthetic: bool


def _second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    offset = (1 - first.weekday()) % 7  # Monday=0, Tuesday=1
    return first + timedelta(days=offset + 7)


def extend_node_image_releases(until: date) -> dict[str, list[_Release]]:
    """Real catalog releases per family up to until, plus synthetic ones after the catalog's end.

    A family is still active when its last real release is within 60 days of the catalog's newest release;
    active Linux families continue on their median interval of the last eight releases (YYYYMM.DD.0), active
    Windows families monthly on Patch Tuesday with their median revision step (build.rev.YYMMDD).
    """
    by_family: dict[str, list[_Release]] = {}
    for release in load_node_images():
        by_family.setdefault(release.family, []).append(
            _Release(release.family, release.version, release.release_date, False)
        )
    newest = max(r.released for releases in by_family.values() for r in releases)
    result: dict[str, list[_Release]] = {}
    for family, releases in by_family.items():
        releases.sort(key=lambda r: (r.released, r.version))
        kept = [r for r in releases if r.released <= until]
        last = releases[-1]
        if last.released >= newest - timedelta(days=60) and until > last.released:
            kept += _extrapolate(family, releases, until)
        result[family] = kept
    return result


def _extrapolate(family: str, releases: list[_Release], until: date) -> list[_Release]:
    last = releases[-1]
    synthetic: list[_Release] = []
    if family.startswith("AKSWindows"):
        build, revision, _ = last.version.split(".")
        steps = [
            int(b.version.split(".")[1]) - int(a.version.split(".")[1])
            for a, b in zip(releases[-7:], releases[-6:], strict=False)
        ]
        step = max(1, int(statistics.median([s for s in steps if s > 0] or [60])))
        rev = int(revision)
        year, month = last.released.year, last.released.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            released = _second_tuesday(year, month)
            if released > until:
                break
            rev += step
            synthetic.append(_Release(family, f"{build}.{rev}.{released:%y%m%d}", released, True))
        return synthetic
    intervals = [(b.released - a.released).days for a, b in zip(releases[-9:], releases[-8:], strict=False)]
    cadence = min(21, max(5, int(statistics.median(intervals or [7]))))
    released = last.released + timedelta(days=cadence)
    while released <= until:
        synthetic.append(_Release(family, f"{released:%Y%m}.{released:%d}.0", released, True))
        released += timedelta(days=cadence)
    return synthetic


@dataclass
class _MinorPlan:
    """A minor's state at as_of and the patch numbers AKS would list for it."""

    calendar: MinorVersion
    status: str  # official | lts | preview | ended
    patches: list[int]
    ended_patches: list[int]

    @property
    def minor(self) -> str:
        return self.calendar.minor


def _community_patches(minor: MinorVersion, day: date) -> list[int]:
    """Synthetic community patch numbers available in AKS on a day: one a month from the upstream release."""
    upstream = minor.upstream_release or minor.aks_ga or day
    first = max(0, _months_between(upstream, minor.aks_ga or upstream))
    last = min(max(_months_between(upstream, day), first), 14)
    return list(range(first, last + 1))


def _plan_minors(day: date) -> list[_MinorPlan]:
    plans: list[_MinorPlan] = []
    for minor in load_calendar():
        if minor.aks_ga is None or minor.end_of_support is None:
            continue
        at_end = _community_patches(minor, minor.end_of_support)
        if minor.aks_ga <= day <= minor.end_of_support:
            plans.append(_MinorPlan(minor, "official", _community_patches(minor, day), at_end))
        elif minor.end_of_support < day and minor.lts_end is not None and day <= minor.lts_end:
            lts_count = _months_between(minor.end_of_support, day) // 2
            plans.append(_MinorPlan(minor, "lts", [100 + n for n in range(lts_count + 1)], at_end))
        elif minor.aks_preview is not None and minor.aks_preview <= day < minor.aks_ga:
            plans.append(_MinorPlan(minor, "preview", _community_patches(minor, day)[-2:] or [0], at_end))
        elif day > minor.end_of_support:
            plans.append(_MinorPlan(minor, "ended", [], at_end))
    if not any(plan.status == "official" for plan in plans):
        raise ValueError(f"the bundled calendar has no supported Kubernetes minor on {day}: refresh the catalog")
    return plans


@dataclass
class _Region:
    name: str
    code: str
    utc_offset: str
    lagging: bool
    image_lag_days: int
    listed: dict[str, list[int]]  # minor -> listed patch numbers
    official: list[str]
    lts: list[str]
    latest_images: dict[str, _Release]  # SKU prefix -> latest release available


def _build_region(
    name: str, index: int, plans: list[_MinorPlan], releases: dict[str, list[_Release]], day: date
) -> _Region:
    code, offset = _REGION_CODES.get(name, (name[:4], "+00:00"))
    lagging = index % 3 == 2
    listed: dict[str, list[int]] = {}
    official: list[str] = []
    lts: list[str] = []
    for plan in plans:
        if plan.status == "ended":
            continue
        ga = plan.calendar.aks_ga
        if lagging and plan.status == "official" and ga is not None and (day - ga).days < 21:
            continue  # the newest minor has not reached this region yet
        patches = plan.patches[-3:]
        if lagging and len(patches) > 1:
            patches = patches[:-1]  # the newest patch is still rolling out here
        listed[plan.minor] = patches
        if plan.status == "official":
            official.append(plan.minor)
        elif plan.status == "lts":
            lts.append(plan.minor)
    image_lag = (0, 2, 5, 1, 3, 7)[index % 6]
    latest_images: dict[str, _Release] = {}
    for prefix, (family, _) in IMAGE_SKUS.items():
        available = [r for r in releases.get(family, []) if r.released + timedelta(days=image_lag) <= day]
        if available:
            latest_images[prefix] = available[-1]
    return _Region(name, code, offset, lagging, image_lag, listed, official, lts, latest_images)


def _kubernetes_versions_body(region: _Region, plans: list[_MinorPlan]) -> dict[str, Any]:
    by_minor = {plan.minor: plan for plan in plans}
    minors = sorted(region.listed, key=lambda m: by_minor[m].calendar.key)
    default_minor = region.official[-2] if len(region.official) >= 2 else region.official[-1]
    values: list[dict[str, Any]] = []
    for position, minor in enumerate(minors):
        plan = by_minor[minor]
        next_patches = (
            [f"{minors[position + 1]}.{p}" for p in region.listed[minors[position + 1]]]
            if position + 1 < len(minors)
            else []
        )
        patches = region.listed[minor]
        patch_versions = {
            f"{minor}.{patch}": {"upgrades": [f"{minor}.{later}" for later in patches[i + 1 :]] + next_patches}
            for i, patch in enumerate(patches)
        }
        plans_offered = [PLAN_OFFICIAL] if plan.status in ("official", "preview") else []
        if plan.calendar.lts_available and plan.status in ("official", "lts"):
            plans_offered.append(PLAN_LTS)
        entry: dict[str, Any] = {"capabilities": {"supportPlan": plans_offered}}
        if minor == default_minor:
            entry["isDefault"] = True
        if plan.status == "preview":
            entry["isPreview"] = True
        entry["patchVersions"] = patch_versions
        entry["version"] = minor
        values.append(entry)
    return {"values": values}


class _FleetBuilder:
    """Holds the shared state of one generation run."""

    def __init__(self, rng: random.Random, as_of: datetime, regions: list[str]) -> None:
        self.rng = rng
        self.as_of = as_of
        self.day = as_of.date()
        self.plans = _plan_minors(self.day)
        self.plans_by_minor = {plan.minor: plan for plan in self.plans}
        self.releases = extend_node_image_releases(self.day)
        self.regions = [_build_region(name, i, self.plans, self.releases, self.day) for i, name in enumerate(regions)]
        self.tenant_id = _uuid(rng)
        self.official = [p.minor for p in self.plans if p.status == "official"]
        self.lts_only = [p.minor for p in self.plans if p.status == "lts"]
        self.ended = [p.minor for p in self.plans if p.status == "ended" and p.calendar.key >= (1, 24)]
        self.lts_ended = [
            p.minor
            for p in self.plans
            if p.status == "ended" and p.calendar.lts_end is not None and p.calendar.lts_end < self.day
        ]
        self.changes: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    # -------------------------------------------------------------- versions

    def pick_version(self, region: _Region, hygiene: str, plan_kind: str) -> tuple[str, int]:
        """(minor, patch) for a control plane, per hygiene and support plan."""
        rng = self.rng
        if plan_kind == "lts-ended" and self.lts_ended:
            minor = rng.choice(self.lts_ended[-2:])
            return minor, rng.choice(self.plans_by_minor[minor].ended_patches[-4:])
        if plan_kind.startswith("lts") and region.lts:
            minor = rng.choice(region.lts + region.official[:1])
            listed = region.listed[minor]
            return minor, listed[-1] if rng.random() < 0.7 else listed[0]
        official = region.official
        if hygiene == "poor" and self.ended:
            minor = rng.choice(self.ended[-4:])
            return minor, rng.choice(self.plans_by_minor[minor].ended_patches[-8:])
        if hygiene == "good":
            weights = [
                (official[-1], 0.25),
                (official[-2] if len(official) > 1 else official[-1], 0.45),
                (official[-3] if len(official) > 2 else official[0], 0.3),
            ]
            minor = _pick(rng, weights)
            listed = region.listed[minor]
            patch = listed[-1] if rng.random() < 0.8 else listed[max(0, len(listed) - 2)]
            return minor, patch
        minor = rng.choice(official[:2] if len(official) > 1 else official)
        available = self.plans_by_minor[minor].patches
        listed = region.listed[minor]
        if rng.random() < 0.4:
            return minor, listed[0]
        return minor, rng.choice(available[max(0, len(available) - 8) : max(1, len(available) - 1)])

    def previous_version(self, minor: str, patch: int) -> tuple[str, int]:
        """The version a cluster most plausibly ran before (one patch down, or the previous minor)."""
        plan = self.plans_by_minor[minor]
        numbers = plan.patches or plan.ended_patches
        if patch in numbers and numbers.index(patch) > 0 and self.rng.random() < 0.7:
            return minor, numbers[numbers.index(patch) - 1]
        major, minor_number = plan.calendar.key
        previous = f"{major}.{minor_number - 1}"
        if previous in self.plans_by_minor:
            older = self.plans_by_minor[previous]
            return previous, (older.patches or older.ended_patches or [0])[-1]
        return minor, max(0, patch - 1)

    # -------------------------------------------------------------- images

    def pick_image(self, prefix: str, region: _Region, behind: int) -> _Release:
        family = IMAGE_SKUS[prefix][0]
        latest = region.latest_images[prefix]
        releases = self.releases[family]
        index = releases.index(latest)
        return releases[max(0, index - behind)]

    def image_prefix(self, os_choice: str, minor_key: tuple[int, int], arm: bool, gen1: bool) -> tuple[str, str]:
        """(nodeImageVersion prefix, osSKU) for an OS choice on a Kubernetes minor."""
        rng = self.rng
        if os_choice == "windows":
            if minor_key <= (1, 32) and rng.random() < 0.5:
                return "AKSWindows-2019-containerd", "Windows2019"
            return "AKSWindows-2022-containerd", "Windows2022"
        if os_choice == "azurelinux":
            if minor_key >= (1, 32):
                return "AKSAzureLinux-V3gen2", "AzureLinux3" if rng.random() < 0.3 else "AzureLinux"
            return ("AKSAzureLinux-V2" if gen1 else "AKSAzureLinux-V2gen2"), "AzureLinux"
        if minor_key <= (1, 24):
            return "AKSUbuntu-1804gen2containerd", "Ubuntu"
        if minor_key >= (1, 36) or (minor_key >= (1, 32) and rng.random() < 0.12):
            return "AKSUbuntu-2404gen2containerd", "Ubuntu2404" if minor_key < (1, 36) else "Ubuntu"
        if arm:
            return "AKSUbuntu-2204gen2arm64containerd", "Ubuntu"
        if gen1:
            return "AKSUbuntu-2204containerd", "Ubuntu"
        return "AKSUbuntu-2204gen2containerd", "Ubuntu2204" if rng.random() < 0.05 else "Ubuntu"

    # -------------------------------------------------------------- maintenance

    def window(self, hygiene: str, region: _Region, node_os: bool) -> dict[str, Any]:
        rng = self.rng
        kinds = [("weekly", 0.6), ("absoluteMonthly", 0.15), ("relativeMonthly", 0.15)]
        if node_os:
            kinds.append(("daily", 0.2))
        kind = _pick(rng, kinds)
        schedule: dict[str, Any]
        if kind == "weekly":
            schedule = {
                "weekly": {
                    "dayOfWeek": rng.choice(_WEEKDAYS),
                    "intervalWeeks": _pick(rng, ((1, 0.8), (2, 0.15), (4, 0.05))),
                }
            }
        elif kind == "daily":
            schedule = {"daily": {"intervalDays": _pick(rng, ((1, 0.6), (2, 0.1), (7, 0.3)))}}
        elif kind == "absoluteMonthly":
            schedule = {
                "absoluteMonthly": {
                    "dayOfMonth": rng.randint(1, 28),
                    "intervalMonths": _pick(rng, ((1, 0.8), (3, 0.2))),
                }
            }
        else:
            schedule = {
                "relativeMonthly": {
                    "dayOfWeek": rng.choice(_WEEKDAYS),
                    "intervalMonths": 1,
                    "weekIndex": rng.choice(_WEEK_INDEX),
                }
            }
        window: dict[str, Any] = {
            "durationHours": _pick(rng, _DURATION_HOURS[hygiene]),
            "schedule": schedule,
            "startDate": (self.day - timedelta(days=rng.randint(30, 700))).isoformat(),
            "startTime": f"{rng.choice(_START_HOURS):02d}:{rng.choice(('00', '00', '30'))}",
            "utcOffset": region.utc_offset if rng.random() < 0.7 else "+00:00",
        }
        if rng.random() < 0.2:
            year = self.day.year
            window["notAllowedDates"] = [{"end": f"{year + 1}-01-03", "start": f"{year}-12-20"}]
        return window

    def maintenance_configurations(
        self, cluster_id: str, hygiene: str, region: _Region, channel: str | None, node_os: str | None
    ) -> list[dict[str, Any]]:
        rng = self.rng
        configs: list[dict[str, Any]] = []
        config_type = "Microsoft.ContainerService/managedClusters/maintenanceConfigurations"
        chance = {"good": 0.85, "fair": 0.5, "poor": 0.2}[hygiene]
        has_channel = channel not in (None, "none")
        if (has_channel and rng.random() < chance) or (not has_channel and rng.random() < 0.05):
            configs.append(
                {
                    "id": f"{cluster_id}/maintenanceConfigurations/aksManagedAutoUpgradeSchedule",
                    "name": "aksManagedAutoUpgradeSchedule",
                    "type": config_type,
                    "properties": {"maintenanceWindow": self.window(hygiene, region, node_os=False)},
                }
            )
        node_os_automated = node_os in ("NodeImage", "SecurityPatch") or channel == "node-image"
        if node_os_automated and rng.random() < chance - 0.05:
            configs.append(
                {
                    "id": f"{cluster_id}/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule",
                    "name": "aksManagedNodeOSUpgradeSchedule",
                    "type": config_type,
                    "properties": {"maintenanceWindow": self.window(hygiene, region, node_os=True)},
                }
            )
        if rng.random() < {"good": 0.06, "fair": 0.15, "poor": 0.12}[hygiene]:
            day = rng.choice(_WEEKDAYS)
            start = rng.choice((0, 1, 2, 22))
            legacy: dict[str, Any] = {
                "timeInWeek": [{"day": day, "hourSlots": list(range(start, min(24, start + rng.choice((2, 3, 4)))))}]
            }
            if rng.random() < 0.4:
                legacy["notAllowedTime"] = [
                    {"end": f"{self.day.year}-12-31T23:00:00Z", "start": f"{self.day.year}-12-24T00:00:00Z"}
                ]
            configs.append(
                {
                    "id": f"{cluster_id}/maintenanceConfigurations/default",
                    "name": "default",
                    "type": config_type,
                    "properties": legacy,
                }
            )
        return configs

    # -------------------------------------------------------------- history

    def change_row(
        self, cluster: dict[str, Any], moment: datetime, changes: dict[str, Any], automated: bool
    ) -> dict[str, Any]:
        rng = self.rng
        change_id = f"{rng.getrandbits(64):020d}_{_uuid(rng)}"
        cluster_id = cluster["id"]
        return {
            "id": f"{cluster_id}/providers/Microsoft.Resources/changes/{change_id}",
            "name": change_id,
            "type": "microsoft.resources/changes",
            "tenantId": self.tenant_id,
            "kind": "",
            "location": "",
            "resourceGroup": cluster_id.split("/")[4].lower(),
            "subscriptionId": cluster_id.split("/")[2],
            "managedBy": "",
            "sku": None,
            "plan": None,
            "properties": {
                "targetResourceId": cluster_id,
                "targetResourceType": "microsoft.containerservice/managedclusters",
                "changeType": "Update",
                "changeAttributes": {
                    "previousResourceSnapshotId": f"{rng.getrandbits(64):020d}",
                    "newResourceSnapshotId": f"{rng.getrandbits(64):020d}",
                    "correlationId": _uuid(rng),
                    "changedByType": "Application" if automated else "User",
                    "changedBy": "AKS auto-upgrader" if automated else "ops@contoso.example",
                    "clientType": "Unspecified" if automated else "Azure CLI",
                    "operation": "Microsoft.ContainerService/managedClusters/write",
                    "changesCount": len(changes),
                    "timestamp": _timestamp(moment),
                },
                "changes": changes,
            },
            "tags": None,
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }

    @staticmethod
    def _change(previous: Any, new: Any, category: str = "System") -> dict[str, Any]:
        return {
            "previousValue": previous,
            "newValue": new,
            "propertyChangeType": "Update",
            "changeCategory": category,
        }

    def kubernetes_upgrade_history(
        self, cluster: dict[str, Any], previous: str, automated: bool, bad_order: bool
    ) -> datetime:
        """Resource changes of one control plane -> system pools -> user pools upgrade; returns its start."""
        rng = self.rng
        properties = cluster["properties"]
        current = properties["currentKubernetesVersion"]
        start = self.as_of - timedelta(days=rng.randint(1, _HISTORY_DAYS - 1), minutes=rng.randint(0, 600))
        first: dict[str, Any] = {"properties.provisioningState": self._change("Succeeded", "Upgrading")}
        requested_before = _requested_before(properties["kubernetesVersion"], previous)
        if requested_before != properties["kubernetesVersion"]:
            first["properties.kubernetesVersion"] = self._change(
                requested_before, properties["kubernetesVersion"], "User"
            )
        rows = [self.change_row(cluster, start, first, automated)]
        moment = start + timedelta(minutes=rng.randint(8, 20))
        rows.append(
            self.change_row(
                cluster,
                moment,
                {"properties.currentKubernetesVersion": self._change(previous, current)},
                automated,
            )
        )
        pools = properties["agentPoolProfiles"]
        upgraded = [
            (i, p)
            for i, p in enumerate(pools)
            if p.get("currentOrchestratorVersion") == current and p.get("provisioningState") != "Failed"
        ]
        system = [(i, p) for i, p in upgraded if p.get("mode") == "System"]
        user = [(i, p) for i, p in upgraded if p.get("mode") != "System"]
        moment += timedelta(minutes=rng.randint(1, 5))
        system_start = moment
        for index, pool in system:
            moment = self.pool_upgrade(cluster, index, pool, previous, moment, automated)
        user_start = moment + timedelta(minutes=rng.randint(1, 5))
        if bad_order and system:
            # A user pool started while the system pools were still upgrading.
            user_start = system_start + timedelta(minutes=rng.randint(1, 4))
        moment = user_start
        for index, pool in user:
            moment = self.pool_upgrade(cluster, index, pool, previous, moment, automated)
        rows.append(
            self.change_row(
                cluster,
                moment + timedelta(minutes=1),
                {"properties.provisioningState": self._change("Upgrading", properties["provisioningState"])},
                automated,
            )
        )
        self.changes.extend(rows)
        return start

    def pool_upgrade(
        self,
        cluster: dict[str, Any],
        index: int,
        pool: dict[str, Any],
        previous: str,
        start: datetime,
        automated: bool,
    ) -> datetime:
        rng = self.rng
        prefix = f"properties.agentPoolProfiles[{index}]"
        first: dict[str, Any] = {f"{prefix}.provisioningState": self._change("Succeeded", "Upgrading")}
        requested_before = _requested_before(pool["orchestratorVersion"], previous)
        if requested_before != pool["orchestratorVersion"]:
            first[f"{prefix}.orchestratorVersion"] = self._change(requested_before, pool["orchestratorVersion"], "User")
        self.changes.append(self.change_row(cluster, start, first, automated))
        end = start + timedelta(minutes=rng.randint(6, 40))
        image = pool.get("nodeImageVersion", "")
        self.changes.append(
            self.change_row(
                cluster,
                end,
                {
                    f"{prefix}.currentOrchestratorVersion": self._change(previous, pool["currentOrchestratorVersion"]),
                    f"{prefix}.nodeImageVersion": self._change(self.older_image(image), image),
                    f"{prefix}.provisioningState": self._change("Upgrading", "Succeeded"),
                },
                automated,
            )
        )
        return end

    def older_image(self, image: str) -> str:
        """The release before image in its family (the image itself when it is the first)."""
        prefix, _, version = image.rpartition("-")
        family = IMAGE_SKUS.get(prefix, ("", False))[0]
        releases = self.releases.get(family, [])
        versions = [r.version for r in releases]
        if version in versions and versions.index(version) > 0:
            return f"{prefix}-{versions[versions.index(version) - 1]}"
        return image

    def node_image_history(self, cluster: dict[str, Any], automated: bool) -> datetime:
        rng = self.rng
        start = self.as_of - timedelta(days=rng.randint(1, _HISTORY_DAYS - 1), minutes=rng.randint(0, 600))
        moment = start
        for index, pool in enumerate(cluster["properties"]["agentPoolProfiles"]):
            image = pool.get("nodeImageVersion", "")
            older = self.older_image(image)
            if older == image:
                continue
            prefix = f"properties.agentPoolProfiles[{index}]"
            self.changes.append(
                self.change_row(
                    cluster,
                    moment,
                    {f"{prefix}.provisioningState": self._change("Succeeded", "UpgradingNodeImageVersion")},
                    automated,
                )
            )
            moment += timedelta(minutes=rng.randint(5, 30))
            self.changes.append(
                self.change_row(
                    cluster,
                    moment,
                    {
                        f"{prefix}.nodeImageVersion": self._change(older, image),
                        f"{prefix}.provisioningState": self._change("UpgradingNodeImageVersion", "Succeeded"),
                    },
                    automated,
                )
            )
        return start

    def scheduled_event(
        self,
        cluster: dict[str, Any],
        status: str,
        details: str,
        scheduled: datetime,
        started: datetime | None,
        updated: datetime,
    ) -> None:
        rng = self.rng
        event_id = _uuid(rng)
        cluster_id = cluster["id"]
        zero = "0001-01-01T00:00:00.0000000Z"
        self.events.append(
            {
                "id": f"{cluster_id}/scheduledEvents/{event_id}",
                "name": event_id,
                "type": "microsoft.containerservice/managedclusters/scheduledevents",
                "tenantId": self.tenant_id,
                "kind": "",
                "location": cluster["location"],
                "resourceGroup": cluster_id.split("/")[4].lower(),
                "subscriptionId": cluster_id.split("/")[2],
                "managedBy": "",
                "sku": None,
                "plan": None,
                "properties": {
                    "description": "ScheduledEvents",
                    "eventId": event_id,
                    "eventSource": "AutoUpgrader",
                    "eventStatus": status,
                    "eventDetails": details,
                    "scheduledTime": _timestamp(scheduled),
                    "startTime": _timestamp(started) if started else zero,
                    "lastUpdateTime": _timestamp(updated),
                    "resources": [cluster_id],
                    "resourceType": "ManagedCluster",
                },
                "tags": None,
                "identity": None,
                "zones": None,
                "extendedLocation": None,
            }
        )


def _requested_before(requested_now: str, previous: str) -> str:
    """The requested version before an upgrade from previous: a minor-only request stays minor-only."""
    if requested_now.count(".") == 1:
        return previous.rsplit(".", 1)[0]
    return previous


def _as_of(as_of: datetime | None) -> datetime:
    if as_of is None:
        now = datetime.now(UTC)
        return datetime(now.year, now.month, now.day, tzinfo=UTC)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC)


def _region_names(regions: int | Sequence[str]) -> list[str]:
    if isinstance(regions, int):
        if not 1 <= regions <= len(DEFAULT_REGIONS):
            raise ValueError(f"regions must be between 1 and {len(DEFAULT_REGIONS)}, got {regions}")
        return list(DEFAULT_REGIONS[:regions])
    names = [r.replace(" ", "").lower() for r in regions]
    if not names or len(set(names)) != len(names):
        raise ValueError("regions must be a non-empty list of distinct region names")
    return names


def generate_fleet(
    clusters: int,
    subscriptions: int,
    seed: int,
    regions: int | Sequence[str] = 4,
    as_of: datetime | None = None,
    kubernetes: bool = False,
) -> dict[str, Any]:
    """A realistic synthetic fleet (the fleet JSON of docs/emulator.md); same arguments, same fleet.

    as_of defaults to today at 00:00 UTC; pass it explicitly for a reproducible fleet. With `kubernetes` (what
    `auditor emulator generate` and `serve` do), each cluster also gets in-cluster content (workloads,
    PodDisruptionBudgets, node drift: auditor/emulator/workloads.py).
    """
    if clusters < 0 or subscriptions < 1:
        raise ValueError("clusters must be >= 0 and subscriptions >= 1")
    moment = _as_of(as_of)
    rng = random.Random(seed)
    builder = _FleetBuilder(rng, moment, _region_names(regions))
    tenant_id = builder.tenant_id

    subscription_rows: list[dict[str, Any]] = []
    subscription_meta: list[tuple[str, str, list[_Region], float]] = []
    for number in range(subscriptions):
        sid = _uuid(rng)
        kind = _pick(rng, _SUB_KINDS)
        unit = _UNITS[number % len(_UNITS)]
        suffix = f"-{number // len(_UNITS) + 1:02d}" if number >= len(_UNITS) else ""
        subscription_rows.append(
            {
                "id": f"/subscriptions/{sid}",
                "subscriptionId": sid,
                "displayName": f"contoso-{unit}-{kind}{suffix}",
                "state": "Enabled",
                "tenantId": tenant_id,
                "authorizationSource": "RoleBased",
                "managedByTenants": [],
                "subscriptionPolicies": {
                    "locationPlacementId": "Public_2014-09-01",
                    "quotaId": "EnterpriseAgreement_2014-09-01",
                    "spendingLimit": "Off",
                },
            }
        )
        home = rng.sample(builder.regions, k=min(len(builder.regions), rng.choice((1, 2, 2, 3))))
        weight = rng.paretovariate(1.3)  # a few big subscriptions, many small ones
        subscription_meta.append((sid, kind, home, weight))

    weights = [meta[3] for meta in subscription_meta]
    cluster_rows: list[dict[str, Any]] = []
    maintenance: dict[str, list[dict[str, Any]]] = {}
    names_used: dict[tuple[str, str], int] = {}
    assignments = rng.choices(range(subscriptions), weights=weights, k=clusters)
    # Every subscription gets a cluster first when there are enough clusters, so none is empty by chance.
    for position in range(min(clusters, subscriptions)):
        assignments[position] = position
    for sub_index in assignments:
        sid, sub_kind, home, _ = subscription_meta[sub_index]
        region = rng.choice(home) if rng.random() < 0.85 else rng.choice(builder.regions)
        environment = _pick(rng, _ENV_BY_SUB_KIND[sub_kind])
        hygiene = _pick(rng, _HYGIENE_BY_ENV[environment])
        app = rng.choice(_APPS)
        resource_group = f"rg-{app}-{environment}-{region.code}"
        count = names_used.get((sid, resource_group), 0) + 1
        names_used[(sid, resource_group)] = count
        name = f"aks-{app}-{environment}-{region.code}-{count:02d}"
        cluster_id = (
            f"/subscriptions/{sid}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{name}"
        )
        cluster = _cluster(builder, cluster_id, name, region, environment, hygiene, app)
        cluster_rows.append(cluster)
        properties = cluster["properties"]
        profile = properties.get("autoUpgradeProfile") or {}
        channel = profile.get("upgradeChannel")
        node_os = profile.get("nodeOSUpgradeChannel")
        configs = builder.maintenance_configurations(cluster_id, hygiene, region, channel, node_os)
        apply_lifecycle_quirks(builder, random.Random(f"aks-generate-lifecycle|{seed}|{cluster_id}"), cluster, configs)
        if configs:
            maintenance[cluster_id.lower()] = configs
        _history(builder, cluster, hygiene, channel, node_os, configs)

    versions = {region.name: _kubernetes_versions_body(region, builder.plans) for region in builder.regions}
    latest_images = {
        region.name: {prefix: f"{prefix}-{release.version}" for prefix, release in sorted(region.latest_images.items())}
        for region in builder.regions
    }
    synthetic = sorted(
        {
            (r.family, r.version, r.released.isoformat())
            for releases in builder.releases.values()
            for r in releases
            if r.synthetic
        }
    )
    prod_subscriptions = [meta[0] for meta in subscription_meta if meta[1] == "prod"]
    other_subscriptions = [meta[0] for meta in subscription_meta if meta[1] != "prod"]
    fleet: dict[str, Any] = {
        "schema": FLEET_SCHEMA,
        "asOf": _timestamp(moment).replace(".000Z", "Z"),
        "tenantId": tenant_id,
        "subscriptions": subscription_rows,
        "managedClusters": cluster_rows,
        "maintenanceConfigurations": maintenance,
        "kubernetesVersions": versions,
        "latestNodeImages": latest_images,
        "resourceChanges": builder.changes,
        "scheduledEvents": builder.events,
        "managementGroups": {
            "contoso-root": [meta[0] for meta in subscription_meta],
            "contoso-production": prod_subscriptions,
            "contoso-nonproduction": other_subscriptions,
        },
        "generator": {
            "seed": seed,
            "clusters": clusters,
            "subscriptions": subscriptions,
            "regions": [region.name for region in builder.regions],
            "catalogVersion": catalog_version(),
            "syntheticNodeImages": [
                {"family": family, "version": version, "releaseDate": released}
                for family, version, released in synthetic
            ],
        },
    }
    # Azure Kubernetes Fleet Manager over some tagged clusters, with update runs of the last 14 days (its own
    # random stream: the rest of the fleet is drawn exactly as without it).
    from auditor.emulator.fleet_scenarios import add_to_generated

    add_to_generated(fleet, builder, seed, moment)
    if kubernetes:
        from auditor.emulator.workloads import kubernetes_sections

        fleet["kubernetes"] = kubernetes_sections(cluster_rows, seed)
    return fleet


def _cluster(
    builder: _FleetBuilder,
    cluster_id: str,
    name: str,
    region: _Region,
    environment: str,
    hygiene: str,
    app: str,
) -> dict[str, Any]:
    rng = builder.rng
    roll = rng.random()
    if roll < 0.07 and region.lts:
        plan_kind = "lts"  # AKSLongTermSupport on the Premium tier, as AKS requires
    elif roll < 0.09 and region.lts:
        plan_kind = "lts-no-premium"
    elif roll < 0.10:
        plan_kind = "lts-ended"
    else:
        plan_kind = "official"
    minor, patch = builder.pick_version(region, hygiene, plan_kind)
    minor_plan = builder.plans_by_minor[minor]
    current = f"{minor}.{patch}"
    support_plan = PLAN_LTS if plan_kind.startswith("lts") else PLAN_OFFICIAL
    if plan_kind in ("lts", "lts-ended"):
        tier = "Premium"
    elif plan_kind == "lts-no-premium":
        tier = rng.choice(("Standard", "Free"))
    else:
        tier = (
            _pick(rng, (("Standard", 0.7), ("Free", 0.3)))
            if environment == "prod"
            else _pick(rng, (("Free", 0.6), ("Standard", 0.4)))
        )

    provisioning = _pick(rng, (("Succeeded", 0.975), ("Failed", 0.02), ("Upgrading", 0.005)))
    stopped = rng.random() < {"prod": 0.01, "staging": 0.03, "dev": 0.06}[environment]
    power = "Stopped" if stopped else "Running"
    requested = f"{minor}.{patch}" if rng.random() < 0.65 else minor
    if provisioning == "Upgrading":
        listed = region.listed.get(minor, [])
        later = [p for p in listed if p > patch]
        if later:
            requested = f"{minor}.{later[-1]}"
        else:
            provisioning = "Succeeded"

    channel = _pick(rng, _UPGRADE_CHANNEL[hygiene])
    node_os = _pick(rng, _NODE_OS_CHANNEL[hygiene])
    if channel == "node-image":
        node_os = "NodeImage"  # AKS requires it with the node-image channel
    auto_upgrade: dict[str, Any] | None = None
    if channel is not None or node_os is not None:
        auto_upgrade = {}
        if channel is not None:
            auto_upgrade["upgradeChannel"] = channel
        if node_os is not None:
            auto_upgrade["nodeOSUpgradeChannel"] = node_os
    node_os_automated = node_os in ("NodeImage", "SecurityPatch") or channel == "node-image"

    linux = "azurelinux" if rng.random() < 0.28 else "ubuntu"
    pool_count = _pick(rng, ((1, 0.15), (2, 0.35), (3, 0.3), (4, 0.12), (5, 0.08)))
    windows_pool = pool_count >= 2 and rng.random() < 0.1
    pools: list[dict[str, Any]] = []
    user_names = ["user1", "apps", "batch", "spot", "jobs", "mem", "gpu", "web"]
    rng.shuffle(user_names)
    for index in range(pool_count):
        system = index == 0 or (index == 1 and pool_count >= 3 and rng.random() < 0.08)
        is_windows = windows_pool and index == pool_count - 1
        if is_windows:
            pool_name = rng.choice(("win1", "npwin", "wpool"))
        elif system:
            pool_name = ("system", "nodepool1", "sys")[rng.randrange(3)] if index == 0 else "system2"
        else:
            pool_name = user_names.pop()
        pool_minor, pool_patch = minor, patch
        lag_roll = rng.random()
        lag_chance = {"good": 0.02, "fair": 0.08, "poor": 0.12}[hygiene]
        if not system and lag_roll < lag_chance:
            major_number, minor_number = minor_plan.calendar.key
            steps = 2 if lag_roll < lag_chance / 6 else 1
            lagging_minor = f"{major_number}.{minor_number - steps}"
            if lagging_minor in builder.plans_by_minor:
                older = builder.plans_by_minor[lagging_minor]
                pool_minor = lagging_minor
                pool_patch = rng.choice((older.patches or older.ended_patches or [0])[-4:])
        elif lag_roll < lag_chance + 0.12 and patch > 0 and patch < 100:
            pool_patch = patch - 1
        pool_key = builder.plans_by_minor[pool_minor].calendar.key
        arm = not is_windows and linux == "ubuntu" and rng.random() < 0.04
        gen1 = not is_windows and rng.random() < 0.06
        prefix, os_sku = builder.image_prefix("windows" if is_windows else linux, pool_key, arm, gen1)
        if prefix not in region.latest_images:
            # An as_of before this family's first release: fall back to the oldest family the region has.
            prefix = next(iter(sorted(region.latest_images, key=lambda p: region.latest_images[p].released)))
            os_sku = "Windows2019" if prefix.startswith("AKSWindows") else "Ubuntu"
        if node_os_automated and hygiene != "poor":
            behind = _pick(rng, ((0, 0.7), (1, 0.2), (2, 0.1)))
        else:
            behind = {
                "good": rng.randint(0, 5),
                "fair": rng.randint(2, 16),
                "poor": rng.randint(8, 70),
            }[hygiene]
        if stopped:
            behind += rng.randint(2, 8)
        if prefix.startswith("AKSWindows"):
            behind = max(0, behind // 4)  # Windows images ship monthly, Linux weekly
        image = builder.pick_image(prefix, region, behind)
        orchestrator = (
            f"{pool_minor}.{pool_patch}"
            if ("." in requested.removeprefix(minor) or pool_minor != minor)
            else pool_minor
        )
        settings = _pick(rng, _UPGRADE_SETTINGS_SYSTEM if system else _UPGRADE_SETTINGS_USER)
        pool: dict[str, Any] = {
            "name": pool_name,
            "count": rng.randint(2, 5) if system else rng.randint(1, 40),
            "vmSize": _vm_size(rng, system, is_windows, arm),
            "osDiskSizeGB": 128,
            "osDiskType": "Ephemeral" if rng.random() < 0.4 else "Managed",
            "maxPods": rng.choice((30, 110, 110, 250)),
            "type": "VirtualMachineScaleSets",
            "mode": "System" if system else "User",
            "osType": "Windows" if is_windows else "Linux",
            "osSKU": os_sku,
            "orchestratorVersion": orchestrator,
            "currentOrchestratorVersion": f"{pool_minor}.{pool_patch}",
            "nodeImageVersion": f"{prefix}-{image.version}",
            "provisioningState": "Failed" if rng.random() < 0.015 else "Succeeded",
            "powerState": {"code": power},
            "enableAutoScaling": False,
        }
        if environment == "prod":
            pool["availabilityZones"] = ["1", "2", "3"]
        if rng.random() < 0.5:
            pool["enableAutoScaling"] = True
            pool["minCount"] = 1 if not system else 2
            pool["maxCount"] = max(pool["count"], pool["minCount"]) + rng.randint(1, 20)
        if settings is not None:
            pool["upgradeSettings"] = dict(settings)
        pools.append(pool)

    dns_prefix = f"{name[:40]}-dns"
    properties: dict[str, Any] = {
        "provisioningState": provisioning,
        "powerState": {"code": power},
        "kubernetesVersion": requested,
        "currentKubernetesVersion": current,
        "dnsPrefix": dns_prefix,
        "fqdn": f"{dns_prefix}-{rng.getrandbits(32):08x}.hcp.{region.name}.azmk8s.io",
        "azurePortalFQDN": f"{dns_prefix}-{rng.getrandbits(32):08x}.portal.hcp.{region.name}.azmk8s.io",
        "agentPoolProfiles": pools,
        "nodeResourceGroup": f"MC_{cluster_id.split('/')[4]}_{name}_{region.name}",
        "enableRBAC": True,
        "supportPlan": support_plan,
        "networkProfile": {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "loadBalancerSku": "standard",
            "outboundType": "loadBalancer",
        },
        "maxAgentPools": 100,
    }
    if auto_upgrade is not None:
        properties["autoUpgradeProfile"] = auto_upgrade
    tags: dict[str, str] = {
        "owner": f"{rng.choice(_TEAMS)}@contoso.example",
        "costcenter": f"CC-{rng.randint(1000, 9999)}",
        "app": app,
    }
    if rng.random() > 0.03:
        tags["environment"] = environment
    return {
        "id": cluster_id,
        "name": name,
        "type": "Microsoft.ContainerService/managedClusters",
        "location": region.name,
        "tags": dict(sorted(tags.items())),
        "sku": {"name": "Base", "tier": tier},
        "identity": {"type": "SystemAssigned"},
        "properties": properties,
    }


def _vm_size(rng: random.Random, system: bool, windows: bool, arm: bool) -> str:
    if arm:
        return rng.choice(("Standard_D4pds_v5", "Standard_D8pds_v5"))
    if windows:
        return rng.choice(("Standard_D4s_v5", "Standard_D8s_v5"))
    if system:
        return rng.choice(("Standard_D4ds_v5", "Standard_D2ds_v5", "Standard_D4s_v3"))
    return rng.choice(("Standard_D8ds_v5", "Standard_E8ds_v5", "Standard_D16ds_v5", "Standard_F8s_v2"))


def _history(
    builder: _FleetBuilder,
    cluster: dict[str, Any],
    hygiene: str,
    channel: str | None,
    node_os: str | None,
    configs: list[dict[str, Any]],
) -> None:
    """Resource changes and scheduled events of the last 14 days for some clusters, matching their state."""
    rng = builder.rng
    properties = cluster["properties"]
    if properties["provisioningState"] == "Upgrading" or properties["powerState"]["code"] == "Stopped":
        return
    automated = channel in ("patch", "stable", "rapid")
    chance = 0.15 if automated else {"good": 0.06, "fair": 0.04, "poor": 0.01}[hygiene]
    has_schedule = any(c["name"] == "aksManagedAutoUpgradeSchedule" for c in configs)
    current = properties["currentKubernetesVersion"]
    minor, _, patch = current.rpartition(".")
    if rng.random() < chance and minor in builder.plans_by_minor:
        previous_minor, previous_patch = builder.previous_version(minor, int(patch))
        previous = f"{previous_minor}.{previous_patch}"
        if previous != current:
            bad_order = rng.random() < 0.1
            start = builder.kubernetes_upgrade_history(cluster, previous, automated, bad_order)
            if automated and has_schedule:
                failed = rng.random() < 0.04
                builder.scheduled_event(
                    cluster,
                    "Failed" if failed else "Completed",
                    f"K8sVersionUpgrade: upgrade from {previous} to {current}"
                    + (" failed: drain of a node exceeded the drain timeout" if failed else ""),
                    start,
                    start,
                    start + timedelta(minutes=rng.randint(30, 120)),
                )
    node_image_automated = node_os in ("NodeImage", "SecurityPatch") or channel == "node-image"
    if rng.random() < (0.25 if node_image_automated else 0.05):
        start = builder.node_image_history(cluster, node_image_automated)
        if node_image_automated and any(c["name"] == "aksManagedNodeOSUpgradeSchedule" for c in configs):
            builder.scheduled_event(
                cluster,
                "Completed",
                "NodeOSUpgrade: node image upgrade",
                start,
                start,
                start + timedelta(minutes=rng.randint(20, 90)),
            )
    if (has_schedule or node_image_automated) and rng.random() < 0.3:
        upcoming = builder.as_of + timedelta(days=rng.randint(1, 7), hours=rng.randint(0, 23))
        kind = "K8sVersionUpgrade" if has_schedule and automated else "NodeOSUpgrade"
        builder.scheduled_event(
            cluster,
            "Scheduled",
            f"{kind}: scheduled in the next maintenance window",
            upcoming,
            None,
            builder.as_of - timedelta(hours=rng.randint(1, 48)),
        )


# Lifecycle quirks (AKS-OVR-01, AKS-OS-01, AKS-UPG-01, AKS-WIN-03), drawn from a random stream of their own (keyed
# by seed and cluster id) so that adding them left every other draw of the generator unchanged.
_OVERRIDE = (("none", 0.9), ("in-force", 0.03), ("no-until", 0.01), ("ended-recently", 0.03), ("stale", 0.03))
_VMAS = 0.1  # of single-pool clusters: Availability Sets, retired on 30 September 2025
_ANNUAL = 0.3  # of Windows pools: Windows Server Annual Channel (retired on 15 May 2026)
_BLUE_GREEN = {"prod": 0.12, "staging": 0.08, "dev": 0.03}  # of User pools
_FUTURE_START = 0.03  # of maintenance windows: startDate after as_of
_LONG_FREEZE = 0.04  # of maintenance windows: a freeze over 30 days
_KEEP_MONTHLY_NODE_OS = 0.3  # of monthly node OS windows (the rest become weekly, as most owners choose)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_lifecycle_quirks(
    builder: _FleetBuilder, rng: random.Random, cluster: dict[str, Any], configs: list[dict[str, Any]]
) -> None:
    """Give a generated cluster the lifecycle states real fleets show: an upgrade override armed or left behind
    (with the resource change that set it), Availability Set and Windows Annual Channel pools, blue-green pools,
    and maintenance windows that start later, freeze for long or open only monthly. `rng` is the cluster's own."""
    properties = cluster["properties"]
    pools = properties["agentPoolProfiles"]
    environment = str((cluster.get("tags") or {}).get("environment") or "dev")
    kind = _pick(rng, _OVERRIDE)
    if kind != "none":
        if kind == "in-force":
            until = builder.as_of + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 23))
        elif kind == "ended-recently":
            until = builder.as_of - timedelta(days=rng.randint(2, 25), hours=rng.randint(0, 23))
        else:
            until = builder.as_of - timedelta(days=rng.randint(60, 300))
        settings: dict[str, Any] = {"forceUpgrade": True}
        if kind != "no-until":
            settings["until"] = _iso(until)
        properties["upgradeSettings"] = {"overrideSettings": settings}
        set_at = (until if kind != "no-until" else builder.as_of) - timedelta(days=3)
        if builder.as_of - timedelta(days=_HISTORY_DAYS) < set_at < builder.as_of:
            changes = {
                "properties.upgradeSettings.overrideSettings.forceUpgrade": builder._change(False, True, "User"),
            }
            if "until" in settings:
                changes["properties.upgradeSettings.overrideSettings.until"] = builder._change(
                    None, settings["until"], "User"
                )
            main_stream, builder.rng = builder.rng, rng  # the change row draws its ids from the cluster's stream
            try:
                builder.changes.append(builder.change_row(cluster, set_at, changes, automated=False))
            finally:
                builder.rng = main_stream
    if len(pools) == 1 and rng.random() < _VMAS:
        pools[0]["type"] = "AvailabilitySet"
        pools[0].pop("availabilityZones", None)
    for pool in pools:
        if pool.get("osType") == "Windows" and pool.get("osSKU") == "Windows2022" and rng.random() < _ANNUAL:
            releases = builder.releases.get("AKSWindows-23H2") or []
            if releases:
                release = releases[max(0, len(releases) - 1 - rng.randint(0, 3))]
                pool["osSKU"] = "WindowsAnnual"
                pool["nodeImageVersion"] = f"AKSWindows-23H2-gen2-{release.version}"
        if pool.get("mode") == "User" and rng.random() < _BLUE_GREEN.get(environment, 0.03):
            pool["upgradeStrategy"] = "BlueGreen"
            bluegreen: dict[str, Any] = {"drainBatchSize": rng.choice(("25%", "50%", "1", "10%"))}
            if rng.random() < 0.7:
                bluegreen["batchSoakDurationInMinutes"] = rng.choice((5, 10, 15, 30))
            bluegreen["finalSoakDurationInMinutes"] = _pick(rng, ((60, 0.5), (120, 0.25), (0, 0.15), (240, 0.1)))
            pool["upgradeSettingsBlueGreen"] = bluegreen
            settings_rolling = pool.get("upgradeSettings")
            if isinstance(settings_rolling, dict):
                settings_rolling.pop("maxUnavailable", None)  # not used by blue-green upgrades
    for config in configs:
        window = (config.get("properties") or {}).get("maintenanceWindow")
        if not isinstance(window, dict):
            continue
        schedule = window.get("schedule") or {}
        monthly = "absoluteMonthly" in schedule or "relativeMonthly" in schedule
        if config["name"] == "aksManagedNodeOSUpgradeSchedule" and monthly and rng.random() > _KEEP_MONTHLY_NODE_OS:
            window["schedule"] = {"weekly": {"dayOfWeek": rng.choice(_WEEKDAYS), "intervalWeeks": 1}}
        if rng.random() < _FUTURE_START:
            window["startDate"] = (builder.day + timedelta(days=rng.randint(3, 45))).isoformat()
        if rng.random() < _LONG_FREEZE:
            start = builder.day + timedelta(days=rng.randint(-20, 40))
            end = start + timedelta(days=rng.randint(31, 75))
            window["notAllowedDates"] = [{"end": end.isoformat(), "start": start.isoformat()}]
