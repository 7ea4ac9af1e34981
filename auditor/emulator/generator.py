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
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.catalog import PLAN_LTS, PLAN_OFFICIAL, catalog_version
from auditor.emulator import wire
from auditor.emulator.fleet import FLEET_SCHEMA, write_fleet
from auditor.emulator.fleet_scenarios import add_to_generated
from auditor.emulator.profile import FleetProfile
from auditor.emulator.releases import (
    DEFAULT_REGIONS,
    IMAGE_SKUS,
    Region,
    Release,
    build_region,
    extend_node_image_releases,
    plan_minors,
)
from auditor.emulator.workloads import kubernetes_sections

__all__ = ["apply_lifecycle_quirks", "generate_fleet", "write_fleet"]

APPS = (
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
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_WEEK_INDEX = ("First", "Second", "Third", "Fourth", "Last")
_TEAMS = ("platform", "sre", "payments-dev", "data-eng", "web-team", "ml-ops", "identity", "secops", "apps")


def pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    """One value from (value, weight) pairs."""
    roll = rng.random() * sum(weight for _, weight in weighted)
    for value, weight in weighted:
        roll -= weight
        if roll < 0:
            return value
    return weighted[-1][0]


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class FleetBuilder:
    """Holds the shared state of one generation run."""

    def __init__(self, rng: random.Random, as_of: datetime, regions: list[str], profile: FleetProfile) -> None:
        self.rng = rng
        self.profile = profile
        self.as_of = as_of
        self.day = as_of.date()
        self.plans = plan_minors(self.day)
        self.plans_by_minor = {plan.minor: plan for plan in self.plans}
        self.releases = extend_node_image_releases(self.day)
        self.regions = [build_region(name, i, self.plans, self.releases, self.day) for i, name in enumerate(regions)]
        self.tenant_id = random_uuid(rng)
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

    def pick_version(self, region: Region, hygiene: str, plan_kind: str) -> tuple[str, int]:
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
            minor = pick(rng, weights)
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

    def pick_image(self, prefix: str, region: Region, behind: int) -> Release:
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

    def window(self, hygiene: str, region: Region, node_os: bool) -> dict[str, Any]:
        rng = self.rng
        kinds = [("weekly", 0.6), ("absoluteMonthly", 0.15), ("relativeMonthly", 0.15)]
        if node_os:
            kinds.append(("daily", 0.2))
        kind = pick(rng, kinds)
        schedule: dict[str, Any]
        if kind == "weekly":
            schedule = {
                "weekly": {
                    "dayOfWeek": rng.choice(WEEKDAYS),
                    "intervalWeeks": pick(rng, ((1, 0.8), (2, 0.15), (4, 0.05))),
                }
            }
        elif kind == "daily":
            schedule = {"daily": {"intervalDays": pick(rng, ((1, 0.6), (2, 0.1), (7, 0.3)))}}
        elif kind == "absoluteMonthly":
            schedule = {
                "absoluteMonthly": {
                    "dayOfMonth": rng.randint(1, 28),
                    "intervalMonths": pick(rng, ((1, 0.8), (3, 0.2))),
                }
            }
        else:
            schedule = {
                "relativeMonthly": {
                    "dayOfWeek": rng.choice(WEEKDAYS),
                    "intervalMonths": 1,
                    "weekIndex": rng.choice(_WEEK_INDEX),
                }
            }
        window: dict[str, Any] = {
            "durationHours": pick(rng, self.profile.duration_hours[hygiene]),
            "schedule": schedule,
            "startDate": (self.day - timedelta(days=rng.randint(30, 700))).isoformat(),
            "startTime": f"{rng.choice(self.profile.start_hours):02d}:{rng.choice(('00', '00', '30'))}",
            "utcOffset": region.utc_offset if rng.random() < 0.7 else "+00:00",
        }
        if rng.random() < 0.2:
            year = self.day.year
            window["notAllowedDates"] = [{"end": f"{year + 1}-01-03", "start": f"{year}-12-20"}]
        return window

    def maintenance_configurations(
        self, cluster_id: str, hygiene: str, region: Region, channel: str | None, node_os: str | None
    ) -> list[dict[str, Any]]:
        rng = self.rng
        configs: list[dict[str, Any]] = []
        chance = {"good": 0.85, "fair": 0.5, "poor": 0.2}[hygiene]
        has_channel = channel not in (None, "none")
        if (has_channel and rng.random() < chance) or (not has_channel and rng.random() < 0.05):
            configs.append(
                wire.maintenance_configuration(
                    cluster_id,
                    "aksManagedAutoUpgradeSchedule",
                    {"maintenanceWindow": self.window(hygiene, region, node_os=False)},
                )
            )
        node_os_automated = node_os in ("NodeImage", "SecurityPatch") or channel == "node-image"
        if node_os_automated and rng.random() < chance - 0.05:
            configs.append(
                wire.maintenance_configuration(
                    cluster_id,
                    "aksManagedNodeOSUpgradeSchedule",
                    {"maintenanceWindow": self.window(hygiene, region, node_os=True)},
                )
            )
        if rng.random() < {"good": 0.06, "fair": 0.15, "poor": 0.12}[hygiene]:
            day = rng.choice(WEEKDAYS)
            start = rng.choice((0, 1, 2, 22))
            legacy: dict[str, Any] = {
                "timeInWeek": [{"day": day, "hourSlots": list(range(start, min(24, start + rng.choice((2, 3, 4)))))}]
            }
            if rng.random() < 0.4:
                legacy["notAllowedTime"] = [
                    {"end": f"{self.day.year}-12-31T23:00:00Z", "start": f"{self.day.year}-12-24T00:00:00Z"}
                ]
            configs.append(wire.maintenance_configuration(cluster_id, "default", legacy))
        return configs

    # -------------------------------------------------------------- history

    def change_row(
        self, cluster: dict[str, Any], moment: datetime, changes: dict[str, Any], automated: bool
    ) -> dict[str, Any]:
        """A resourcechanges row of the cluster, its ids drawn from the builder's stream."""
        rng = self.rng
        change_id = f"{rng.getrandbits(64):020d}_{random_uuid(rng)}"
        snapshots = (f"{rng.getrandbits(64):020d}", f"{rng.getrandbits(64):020d}")
        return wire.resource_change_row(
            tenant_id=self.tenant_id,
            cluster_id=cluster["id"],
            change_id=change_id,
            snapshots=snapshots,
            correlation_id=random_uuid(rng),
            moment=moment,
            changes=changes,
            automated=automated,
        )

    def kubernetes_upgrade_history(
        self, cluster: dict[str, Any], previous: str, automated: bool, bad_order: bool
    ) -> datetime:
        """Resource changes of one control plane -> system pools -> user pools upgrade; returns its start."""
        rng = self.rng
        properties = cluster["properties"]
        current = properties["currentKubernetesVersion"]
        start = self.as_of - timedelta(days=rng.randint(1, self.profile.history_days - 1), minutes=rng.randint(0, 600))
        first: dict[str, Any] = {"properties.provisioningState": wire.property_change("Succeeded", "Upgrading")}
        requested_before = _requested_before(properties["kubernetesVersion"], previous)
        if requested_before != properties["kubernetesVersion"]:
            first["properties.kubernetesVersion"] = wire.property_change(
                requested_before, properties["kubernetesVersion"], "User"
            )
        rows = [self.change_row(cluster, start, first, automated)]
        moment = start + timedelta(minutes=rng.randint(8, 20))
        rows.append(
            self.change_row(
                cluster,
                moment,
                {"properties.currentKubernetesVersion": wire.property_change(previous, current)},
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
                {"properties.provisioningState": wire.property_change("Upgrading", properties["provisioningState"])},
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
        first: dict[str, Any] = {f"{prefix}.provisioningState": wire.property_change("Succeeded", "Upgrading")}
        requested_before = _requested_before(pool["orchestratorVersion"], previous)
        if requested_before != pool["orchestratorVersion"]:
            first[f"{prefix}.orchestratorVersion"] = wire.property_change(
                requested_before, pool["orchestratorVersion"], "User"
            )
        self.changes.append(self.change_row(cluster, start, first, automated))
        end = start + timedelta(minutes=rng.randint(6, 40))
        image = pool.get("nodeImageVersion", "")
        self.changes.append(
            self.change_row(
                cluster,
                end,
                {
                    f"{prefix}.currentOrchestratorVersion": wire.property_change(
                        previous, pool["currentOrchestratorVersion"]
                    ),
                    f"{prefix}.nodeImageVersion": wire.property_change(self.older_image(image), image),
                    f"{prefix}.provisioningState": wire.property_change("Upgrading", "Succeeded"),
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
        start = self.as_of - timedelta(days=rng.randint(1, self.profile.history_days - 1), minutes=rng.randint(0, 600))
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
                    {f"{prefix}.provisioningState": wire.property_change("Succeeded", "UpgradingNodeImageVersion")},
                    automated,
                )
            )
            moment += timedelta(minutes=rng.randint(5, 30))
            self.changes.append(
                self.change_row(
                    cluster,
                    moment,
                    {
                        f"{prefix}.nodeImageVersion": wire.property_change(older, image),
                        f"{prefix}.provisioningState": wire.property_change("UpgradingNodeImageVersion", "Succeeded"),
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
        """Add a scheduled event of the cluster, its id drawn from the builder's stream."""
        self.events.append(
            wire.scheduled_event_row(
                tenant_id=self.tenant_id,
                cluster_id=cluster["id"],
                location=cluster["location"],
                event_id=random_uuid(self.rng),
                status=status,
                details=details,
                scheduled=scheduled,
                started=started,
                updated=updated,
            )
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
    profile: FleetProfile | None = None,
) -> dict[str, Any]:
    """A realistic synthetic fleet (the fleet JSON of docs/emulator.md); same arguments, same fleet.

    as_of defaults to today at 00:00 UTC; pass it explicitly for a reproducible fleet. With `kubernetes` (what
    `auditor emulator generate` and `serve` do), each cluster also gets in-cluster content (workloads,
    PodDisruptionBudgets, node drift: auditor/emulator/workloads.py).
    """
    if clusters < 0 or subscriptions < 1:
        raise ValueError("clusters must be >= 0 and subscriptions >= 1")
    profile = profile or FleetProfile()
    moment = _as_of(as_of)
    rng = random.Random(seed)
    builder = FleetBuilder(rng, moment, _region_names(regions), profile)
    tenant_id = builder.tenant_id

    subscription_rows: list[dict[str, Any]] = []
    subscription_meta: list[tuple[str, str, list[Region], float]] = []
    for number in range(subscriptions):
        sid = random_uuid(rng)
        kind = pick(rng, profile.sub_kinds)
        unit = _UNITS[number % len(_UNITS)]
        suffix = f"-{number // len(_UNITS) + 1:02d}" if number >= len(_UNITS) else ""
        subscription_rows.append(wire.subscription(sid, f"contoso-{unit}-{kind}{suffix}", tenant_id))
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
        environment = pick(rng, profile.env_by_sub_kind[sub_kind])
        hygiene = pick(rng, profile.hygiene_by_env[environment])
        app = rng.choice(APPS)
        resource_group = f"rg-{app}-{environment}-{region.code}"
        count = names_used.get((sid, resource_group), 0) + 1
        names_used[(sid, resource_group)] = count
        name = f"aks-{app}-{environment}-{region.code}-{count:02d}"
        cluster_id = (
            f"/subscriptions/{sid}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{name}"
        )
        cluster = draw_cluster(builder, cluster_id, name, region, environment, hygiene, app)
        cluster_rows.append(cluster)
        properties = cluster["properties"]
        auto_upgrade = properties.get("autoUpgradeProfile") or {}
        channel = auto_upgrade.get("upgradeChannel")
        node_os = auto_upgrade.get("nodeOSUpgradeChannel")
        configs = builder.maintenance_configurations(cluster_id, hygiene, region, channel, node_os)
        apply_lifecycle_quirks(builder, random.Random(f"aks-generate-lifecycle|{seed}|{cluster_id}"), cluster, configs)
        if configs:
            maintenance[cluster_id.lower()] = configs
        _history(builder, cluster, hygiene, channel, node_os, configs)

    versions = {region.name: wire.kubernetes_versions_body(region, builder.plans) for region in builder.regions}
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
        "asOf": wire.timestamp(moment).replace(".000Z", "Z"),
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

    add_to_generated(fleet, builder, seed, moment)
    if kubernetes:
        fleet["kubernetes"] = kubernetes_sections(cluster_rows, seed)
    return fleet


def draw_cluster(
    builder: FleetBuilder,
    cluster_id: str,
    name: str,
    region: Region,
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
            pick(rng, (("Standard", 0.7), ("Free", 0.3)))
            if environment == "prod"
            else pick(rng, (("Free", 0.6), ("Standard", 0.4)))
        )

    provisioning = pick(rng, (("Succeeded", 0.975), ("Failed", 0.02), ("Upgrading", 0.005)))
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

    channel = pick(rng, builder.profile.upgrade_channel[hygiene])
    node_os = pick(rng, builder.profile.node_os_channel[hygiene])
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
    pool_count = pick(rng, ((1, 0.15), (2, 0.35), (3, 0.3), (4, 0.12), (5, 0.08)))
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
            behind = pick(rng, ((0, 0.7), (1, 0.2), (2, 0.1)))
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
        settings = pick(
            rng, builder.profile.upgrade_settings_system if system else builder.profile.upgrade_settings_user
        )
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
    return wire.managed_cluster(cluster_id, name, region.name, tags, tier, properties)


def _vm_size(rng: random.Random, system: bool, windows: bool, arm: bool) -> str:
    if arm:
        return rng.choice(("Standard_D4pds_v5", "Standard_D8pds_v5"))
    if windows:
        return rng.choice(("Standard_D4s_v5", "Standard_D8s_v5"))
    if system:
        return rng.choice(("Standard_D4ds_v5", "Standard_D2ds_v5", "Standard_D4s_v3"))
    return rng.choice(("Standard_D8ds_v5", "Standard_E8ds_v5", "Standard_D16ds_v5", "Standard_F8s_v2"))


def _history(
    builder: FleetBuilder,
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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_lifecycle_quirks(
    builder: FleetBuilder, rng: random.Random, cluster: dict[str, Any], configs: list[dict[str, Any]]
) -> None:
    """Give a generated cluster the lifecycle states real fleets show: an upgrade override armed or left behind
    (with the resource change that set it), Availability Set and Windows Annual Channel pools, blue-green pools,
    and maintenance windows that start later, freeze for long or open only monthly. `rng` is the cluster's own."""
    profile = builder.profile
    properties = cluster["properties"]
    pools = properties["agentPoolProfiles"]
    environment = str((cluster.get("tags") or {}).get("environment") or "dev")
    kind = pick(rng, profile.override)
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
        if builder.as_of - timedelta(days=builder.profile.history_days) < set_at < builder.as_of:
            changes = {
                "properties.upgradeSettings.overrideSettings.forceUpgrade": wire.property_change(False, True, "User"),
            }
            if "until" in settings:
                changes["properties.upgradeSettings.overrideSettings.until"] = wire.property_change(
                    None, settings["until"], "User"
                )
            main_stream, builder.rng = builder.rng, rng  # the change row draws its ids from the cluster's stream
            try:
                builder.changes.append(builder.change_row(cluster, set_at, changes, automated=False))
            finally:
                builder.rng = main_stream
    if len(pools) == 1 and rng.random() < profile.vmas:
        pools[0]["type"] = "AvailabilitySet"
        pools[0].pop("availabilityZones", None)
    for pool in pools:
        if pool.get("osType") == "Windows" and pool.get("osSKU") == "Windows2022" and rng.random() < profile.annual:
            releases = builder.releases.get("AKSWindows-23H2") or []
            if releases:
                release = releases[max(0, len(releases) - 1 - rng.randint(0, 3))]
                pool["osSKU"] = "WindowsAnnual"
                pool["nodeImageVersion"] = f"AKSWindows-23H2-gen2-{release.version}"
        if pool.get("mode") == "User" and rng.random() < profile.blue_green.get(environment, 0.03):
            pool["upgradeStrategy"] = "BlueGreen"
            bluegreen: dict[str, Any] = {"drainBatchSize": rng.choice(("25%", "50%", "1", "10%"))}
            if rng.random() < 0.7:
                bluegreen["batchSoakDurationInMinutes"] = rng.choice((5, 10, 15, 30))
            bluegreen["finalSoakDurationInMinutes"] = pick(rng, ((60, 0.5), (120, 0.25), (0, 0.15), (240, 0.1)))
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
        if (
            config["name"] == "aksManagedNodeOSUpgradeSchedule"
            and monthly
            and rng.random() > profile.keep_monthly_node_os
        ):
            window["schedule"] = {"weekly": {"dayOfWeek": rng.choice(WEEKDAYS), "intervalWeeks": 1}}
        if rng.random() < profile.future_start:
            window["startDate"] = (builder.day + timedelta(days=rng.randint(3, 45))).isoformat()
        if rng.random() < profile.long_freeze:
            start = builder.day + timedelta(days=rng.randint(-20, 40))
            end = start + timedelta(days=rng.randint(31, 75))
            window["notAllowedDates"] = [{"end": end.isoformat(), "start": start.isoformat()}]
