"""The release calendar the generator draws from: Kubernetes minors and their patch numbers at a day, node image
releases (real ones from the catalog, extrapolated after its end), and the regions that list them.

Real inputs: the AKS version calendar and the node image catalog (auditor/catalog). Synthetic, as docs/emulator.md
says: Kubernetes patch numbers (one community patch a month from the upstream release, LTS patches numbered from
100) and node image releases after the catalog's last real one (on each family's own cadence).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from auditor.catalog import MinorVersion, load_calendar, load_node_images

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


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


@dataclass(frozen=True)
class Release:
    family: str
    version: str
    released: date
    synthetic: bool


def _second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    offset = (1 - first.weekday()) % 7  # Monday=0, Tuesday=1
    return first + timedelta(days=offset + 7)


def extend_node_image_releases(until: date) -> dict[str, list[Release]]:
    """Real catalog releases per family up to until, plus synthetic ones after the catalog's end.

    A family is still active when its last real release is within 60 days of the catalog's newest release;
    active Linux families continue on their median interval of the last eight releases (YYYYMM.DD.0), active
    Windows families monthly on Patch Tuesday with their median revision step (build.rev.YYMMDD).
    """
    by_family: dict[str, list[Release]] = {}
    for release in load_node_images():
        by_family.setdefault(release.family, []).append(
            Release(release.family, release.version, release.release_date, False)
        )
    newest = max(r.released for releases in by_family.values() for r in releases)
    result: dict[str, list[Release]] = {}
    for family, releases in by_family.items():
        releases.sort(key=lambda r: (r.released, r.version))
        kept = [r for r in releases if r.released <= until]
        last = releases[-1]
        if last.released >= newest - timedelta(days=60) and until > last.released:
            kept += _extrapolate(family, releases, until)
        result[family] = kept
    return result


def _extrapolate(family: str, releases: list[Release], until: date) -> list[Release]:
    last = releases[-1]
    synthetic: list[Release] = []
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
            synthetic.append(Release(family, f"{build}.{rev}.{released:%y%m%d}", released, True))
        return synthetic
    intervals = [(b.released - a.released).days for a, b in zip(releases[-9:], releases[-8:], strict=False)]
    cadence = min(21, max(5, int(statistics.median(intervals or [7]))))
    released = last.released + timedelta(days=cadence)
    while released <= until:
        synthetic.append(Release(family, f"{released:%Y%m}.{released:%d}.0", released, True))
        released += timedelta(days=cadence)
    return synthetic


@dataclass
class MinorPlan:
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


def plan_minors(day: date) -> list[MinorPlan]:
    """Every calendar minor's state on a day (official, lts, preview or ended) with its patch numbers."""
    plans: list[MinorPlan] = []
    for minor in load_calendar():
        if minor.aks_ga is None or minor.end_of_support is None:
            continue
        at_end = _community_patches(minor, minor.end_of_support)
        if minor.aks_ga <= day <= minor.end_of_support:
            plans.append(MinorPlan(minor, "official", _community_patches(minor, day), at_end))
        elif minor.end_of_support < day and minor.lts_end is not None and day <= minor.lts_end:
            lts_count = _months_between(minor.end_of_support, day) // 2
            plans.append(MinorPlan(minor, "lts", [100 + n for n in range(lts_count + 1)], at_end))
        elif minor.aks_preview is not None and minor.aks_preview <= day < minor.aks_ga:
            plans.append(MinorPlan(minor, "preview", _community_patches(minor, day)[-2:] or [0], at_end))
        elif day > minor.end_of_support:
            plans.append(MinorPlan(minor, "ended", [], at_end))
    if not any(plan.status == "official" for plan in plans):
        raise ValueError(f"the bundled calendar has no supported Kubernetes minor on {day}: refresh the catalog")
    return plans


@dataclass
class Region:
    name: str
    code: str
    utc_offset: str
    lagging: bool
    image_lag_days: int
    listed: dict[str, list[int]]  # minor -> listed patch numbers
    official: list[str]
    lts: list[str]
    latest_images: dict[str, Release]  # SKU prefix -> latest release available


def build_region(
    name: str, index: int, plans: list[MinorPlan], releases: dict[str, list[Release]], day: date
) -> Region:
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
    latest_images: dict[str, Release] = {}
    for prefix, (family, _) in IMAGE_SKUS.items():
        available = [r for r in releases.get(family, []) if r.released + timedelta(days=image_lag) <= day]
        if available:
            latest_images[prefix] = available[-1]
    return Region(name, code, offset, lagging, image_lag, listed, official, lts, latest_images)
