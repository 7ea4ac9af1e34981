"""The fleet generator: determinism, counts, realistic proportions, valid enums, parseable images, history."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from auditor.catalog import PLAN_LTS, PLAN_OFFICIAL, find_minor, load_node_images
from auditor.emulator.fleet import Fleet, load_fleet, subscription_of
from auditor.emulator.generator import generate_fleet, write_fleet
from auditor.emulator.releases import IMAGE_SKUS, extend_node_image_releases
from auditor.nodeimage import FORMAT_WINDOWS, parse_node_image

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)

# ENUMS.md (stable/2026-08-01 managedClusters.json and MaintenanceConfiguration.tsp)
UPGRADE_CHANNELS = {"rapid", "stable", "patch", "node-image", "none"}
NODE_OS_CHANNELS = {"None", "Unmanaged", "NodeImage", "SecurityPatch"}
POOL_MODES = {"System", "User", "Gateway"}
POOL_TYPES = {"VirtualMachineScaleSets", "AvailabilitySet", "VirtualMachines"}
OS_TYPES = {"Linux", "Windows"}
OS_SKUS = {
    "Ubuntu", "AzureLinux", "AzureLinux3", "CBLMariner", "Windows2019", "Windows2022", "Ubuntu2204",
    "Windows2025", "Ubuntu2404", "AzureContainerLinux", "WindowsAnnual",
}  # fmt: skip
SUPPORT_PLANS = {PLAN_OFFICIAL, PLAN_LTS}
WEEKDAYS = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
WEEK_INDEX = {"First", "Second", "Third", "Fourth", "Last"}
SURGE = re.compile(r"^\d+%?$")


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    return generate_fleet(clusters=2000, subscriptions=12, seed=42, regions=5, as_of=AS_OF)


def clusters(fleet: dict[str, Any]) -> list[dict[str, Any]]:
    return fleet["managedClusters"]


def pools(fleet: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(c, p) for c in clusters(fleet) for p in c["properties"]["agentPoolProfiles"]]


def test_same_arguments_same_fleet_and_another_seed_differs():
    first = generate_fleet(150, 4, seed=9, regions=3, as_of=AS_OF)
    second = generate_fleet(150, 4, seed=9, regions=3, as_of=AS_OF)
    third = generate_fleet(150, 4, seed=10, regions=3, as_of=AS_OF)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert json.dumps(first, sort_keys=True) != json.dumps(third, sort_keys=True)


def test_counts_ids_and_validation(fleet):
    validated = Fleet(fleet)
    assert len(fleet["managedClusters"]) == 2000
    assert len(fleet["subscriptions"]) == 12
    assert fleet["asOf"] == "2026-11-24T00:00:00Z"
    ids = [c["id"] for c in clusters(fleet)]
    assert len({i.lower() for i in ids}) == len(ids)
    assert {subscription_of(i) for i in ids} == set(validated.subscription_ids)  # no empty subscription
    assert (
        set(fleet["kubernetesVersions"]) == set(fleet["latestNodeImages"]) == {c["location"] for c in clusters(fleet)}
    )
    assert set(fleet["managementGroups"]["contoso-root"]) == {s["subscriptionId"] for s in fleet["subscriptions"]}
    for cluster in clusters(fleet):
        assert cluster["type"] == "Microsoft.ContainerService/managedClusters"
        assert cluster["name"] == cluster["id"].rsplit("/", 1)[1]
        assert cluster["id"].split("/")[3] == "resourceGroups"


def test_enums_are_valid_per_the_spec(fleet):
    for cluster in clusters(fleet):
        properties = cluster["properties"]
        assert properties["supportPlan"] in SUPPORT_PLANS
        assert cluster["sku"]["name"] == "Base" and cluster["sku"]["tier"] in {"Free", "Standard", "Premium"}
        profile = properties.get("autoUpgradeProfile")
        if profile is not None:
            assert profile, "an autoUpgradeProfile is either absent or holds a channel"
            assert profile.get("upgradeChannel", "none") in UPGRADE_CHANNELS
            assert profile.get("nodeOSUpgradeChannel", "None") in NODE_OS_CHANNELS
            if profile.get("upgradeChannel") == "node-image":
                assert profile.get("nodeOSUpgradeChannel") == "NodeImage"
        assert properties["powerState"]["code"] in {"Running", "Stopped"}
        assert properties["provisioningState"] in {"Succeeded", "Failed", "Upgrading"}
    for _, pool in pools(fleet):
        assert pool["mode"] in POOL_MODES and pool["type"] in POOL_TYPES
        assert pool["osType"] in OS_TYPES and pool["osSKU"] in OS_SKUS
        if pool["osType"] == "Windows":
            assert pool["mode"] == "User" and len(pool["name"]) <= 6
        assert re.fullmatch(r"[a-z][a-z0-9]{0,11}", pool["name"])
        settings = pool.get("upgradeSettings")
        if settings is not None:
            assert SURGE.match(settings["maxSurge"])
            assert SURGE.match(settings.get("maxUnavailable", "0"))
            assert 1 <= settings.get("drainTimeoutInMinutes", 30) <= 1440
            assert 0 <= settings.get("nodeSoakDurationInMinutes", 0) <= 30
            assert settings.get("undrainableNodeBehavior", "Cordon") in {"Cordon", "Schedule"}
    for configs in fleet["maintenanceConfigurations"].values():
        names = [c["name"] for c in configs]
        assert len(names) == len(set(names))
        for config in configs:
            assert config["name"] in {
                "default",
                "aksManagedAutoUpgradeSchedule",
                "aksManagedNodeOSUpgradeSchedule",
            }
            properties = config["properties"]
            if config["name"] == "default":
                for slot in properties["timeInWeek"]:
                    assert slot["day"] in WEEKDAYS and all(0 <= h <= 23 for h in slot["hourSlots"])
                continue
            window = properties["maintenanceWindow"]
            assert 4 <= window["durationHours"] <= 24
            assert re.fullmatch(r"\d{2}:\d{2}", window["startTime"])
            assert re.fullmatch(r"[-+]\d{2}:\d{2}", window["utcOffset"])
            date.fromisoformat(window["startDate"])
            ((kind, schedule),) = window["schedule"].items()
            if kind == "daily":
                assert 1 <= schedule["intervalDays"] <= 7
                assert config["name"] == "aksManagedNodeOSUpgradeSchedule"
            elif kind == "weekly":
                assert 1 <= schedule["intervalWeeks"] <= 4 and schedule["dayOfWeek"] in WEEKDAYS
            elif kind == "absoluteMonthly":
                assert 1 <= schedule["intervalMonths"] <= 6 and 1 <= schedule["dayOfMonth"] <= 31
            else:
                assert kind == "relativeMonthly"
                assert schedule["weekIndex"] in WEEK_INDEX and schedule["dayOfWeek"] in WEEKDAYS


def test_every_node_image_parses_and_is_not_newer_than_its_regions_latest(fleet):
    latest = fleet["latestNodeImages"]
    for cluster, pool in pools(fleet):
        parsed = parse_node_image(pool["nodeImageVersion"])
        assert parsed is not None, pool["nodeImageVersion"]
        assert parsed.family in IMAGE_SKUS
        assert parsed.release_date <= AS_OF.date()
        newest = parse_node_image(latest[cluster["location"]][parsed.family])
        assert newest is not None and parsed.release_date <= newest.release_date
        if pool["osType"] == "Windows":
            assert parsed.version_format == FORMAT_WINDOWS
    for images in latest.values():
        for family, version in images.items():
            assert version.startswith(f"{family}-") and parse_node_image(version) is not None


def test_image_ages_range_from_fresh_to_very_stale(fleet):
    ages = [(AS_OF.date() - parse_node_image(p["nodeImageVersion"]).release_date).days for _, p in pools(fleet)]
    assert min(ages) <= 14
    assert max(ages) > 365
    fresh = sum(1 for age in ages if age <= 30) / len(ages)
    assert 0.35 < fresh < 0.9


def test_versions_follow_the_calendar_with_a_bad_minority(fleet):
    day = AS_OF.date()
    ended = lts = 0
    for cluster in clusters(fleet):
        properties = cluster["properties"]
        current = properties["currentKubernetesVersion"]
        assert re.fullmatch(r"1\.\d+\.\d+", current)
        minor = find_minor(current)
        assert minor is not None
        plan = properties["supportPlan"]
        if not minor.is_supported(day, plan):
            ended += 1
        if plan == PLAN_LTS:
            lts += 1
        requested = properties["kubernetesVersion"]
        assert current.startswith(requested) or properties["provisioningState"] == "Upgrading"
    share = ended / len(clusters(fleet))
    assert 0.08 < share < 0.3, share
    assert 0.05 < lts / len(clusters(fleet)) < 0.2
    plans = Counter((c["properties"]["supportPlan"], c["sku"]["tier"]) for c in clusters(fleet))
    assert plans[(PLAN_LTS, "Premium")] > 0
    assert plans[(PLAN_LTS, "Standard")] + plans[(PLAN_LTS, "Free")] > 0  # LTS without Premium
    assert any(k[0] == PLAN_OFFICIAL for k in plans)


def test_scenarios_for_every_control_are_present(fleet):
    all_clusters = clusters(fleet)
    profiles = [c["properties"].get("autoUpgradeProfile") for c in all_clusters]
    channels = Counter((p or {}).get("upgradeChannel", "<missing>") for p in profiles)
    assert set(channels) == UPGRADE_CHANNELS | {"<missing>"}
    assert any(p is None for p in profiles)
    node_os = Counter((p or {}).get("nodeOSUpgradeChannel", "<missing>") for p in profiles)
    assert set(node_os) == NODE_OS_CHANNELS | {"<missing>"}
    assert sum(1 for c in all_clusters if c["properties"]["powerState"]["code"] == "Stopped") > 0
    assert sum(1 for c in all_clusters if c["properties"]["provisioningState"] == "Failed") > 0
    assert sum(1 for _, p in pools(fleet) if p["provisioningState"] == "Failed") > 0
    lagging = [
        (c, p)
        for c, p in pools(fleet)
        if p["currentOrchestratorVersion"].rsplit(".", 1)[0]
        != c["properties"]["currentKubernetesVersion"].rsplit(".", 1)[0]
    ]
    assert 0 < len(lagging) < 0.15 * len(pools(fleet))
    counts = Counter(len(c["properties"]["agentPoolProfiles"]) for c in all_clusters)
    assert set(counts) == {1, 2, 3, 4, 5}
    assert all(c["properties"]["agentPoolProfiles"][0]["mode"] == "System" for c in all_clusters)
    os_families = Counter(p["osSKU"] for _, p in pools(fleet))
    assert os_families["Windows2022"] and os_families["AzureLinux"] and os_families["Ubuntu"]
    settings = Counter(json.dumps(p.get("upgradeSettings"), sort_keys=True) for _, p in pools(fleet))
    assert settings["null"] > 0 and settings['{"maxSurge": "0"}'] > 0
    schedules = Counter(
        next(iter(config["properties"]["maintenanceWindow"]["schedule"]))
        for configs in fleet["maintenanceConfigurations"].values()
        for config in configs
        if "maintenanceWindow" in config["properties"]
    )
    assert set(schedules) == {"weekly", "daily", "absoluteMonthly", "relativeMonthly"}
    names = Counter(c["name"] for configs in fleet["maintenanceConfigurations"].values() for c in configs)
    assert names["default"] and names["aksManagedAutoUpgradeSchedule"] and names["aksManagedNodeOSUpgradeSchedule"]
    assert len(fleet["maintenanceConfigurations"]) < len(all_clusters)  # some clusters have none
    environments = Counter(c["tags"].get("environment") for c in all_clusters)
    assert {"prod", "staging", "dev"} <= set(environments) and environments["prod"] > environments[None]


def test_kubernetes_versions_per_region(fleet):
    day = AS_OF.date()
    for location, body in fleet["kubernetesVersions"].items():
        values = body["values"]
        assert sum(1 for v in values if v.get("isDefault")) == 1, location
        for entry in values:
            minor = find_minor(entry["version"])
            assert minor is not None
            plans = entry["capabilities"]["supportPlan"]
            if PLAN_OFFICIAL in plans:
                assert minor.is_supported(day)
            else:
                assert plans == [PLAN_LTS] and minor.is_supported(day, PLAN_LTS)
            if minor.lts_available:
                assert PLAN_LTS in plans
            for patch, upgrades in entry["patchVersions"].items():
                assert patch.startswith(entry["version"] + ".")
                assert all(u.split(".")[:2] >= patch.split(".")[:2] for u in upgrades["upgrades"])
    listed = [tuple(v["version"] for v in body["values"]) for body in fleet["kubernetesVersions"].values()]
    assert tuple(v for v in listed[0] if v >= "1.34") == ("1.34", "1.35", "1.36", "1.37")


def test_releases_are_extrapolated_past_the_catalog_on_each_familys_cadence():
    catalog_end = max(r.release_date for r in load_node_images())
    releases = extend_node_image_releases(date(2026, 11, 24))
    for family in ("AKSUbuntu-2204", "AKSAzureLinux-V3", "AKSWindows-2022"):
        synthetic = [r for r in releases[family] if r.synthetic]
        assert synthetic and min(r.released for r in synthetic) > catalog_end - timedelta(days=30)
        assert max(r.released for r in synthetic) > date(2026, 11, 1)
        for release in synthetic:
            parsed = parse_node_image(release.version)
            assert parsed is not None and parsed.release_date == release.released
    linux = [r.released for r in releases["AKSUbuntu-2204"] if r.synthetic]
    assert all(5 <= (b - a).days <= 21 for a, b in zip(linux, linux[1:], strict=False))
    windows = [r for r in releases["AKSWindows-2022"] if r.synthetic]
    assert all(r.released.weekday() == 1 and 8 <= r.released.day <= 14 for r in windows)  # Patch Tuesday
    assert not [r for r in releases["AKSUbuntu-1804"] if r.synthetic]  # retired families stay retired
    early = extend_node_image_releases(date(2025, 1, 1))
    assert not any(r.synthetic for rs in early.values() for r in rs)
    assert all(r.released <= date(2025, 1, 1) for rs in early.values() for r in rs)


def test_generator_metadata_lists_the_synthetic_images(fleet):
    synthetic = {(s["family"], s["version"]) for s in fleet["generator"]["syntheticNodeImages"]}
    assert synthetic
    real = {(r.family, r.version) for r in load_node_images()}
    assert not synthetic & real


def test_history_is_consistent_with_the_clusters(fleet):
    by_id = {c["id"]: c for c in clusters(fleet)}
    window_start = AS_OF - timedelta(days=14)
    timeline: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in fleet["resourceChanges"]:
        properties = row["properties"]
        cluster = by_id[properties["targetResourceId"]]
        assert row["id"].startswith(cluster["id"] + "/providers/Microsoft.Resources/changes/")
        assert row["type"] == "microsoft.resources/changes"
        assert row["subscriptionId"] == subscription_of(cluster["id"])
        stamp = datetime.fromisoformat(properties["changeAttributes"]["timestamp"].replace("Z", "+00:00"))
        assert window_start <= stamp <= AS_OF
        assert properties["changeAttributes"]["changesCount"] == len(properties["changes"])
        timeline.setdefault(cluster["id"], []).append(
            (properties["changeAttributes"]["timestamp"], properties["changes"])
        )
    upgraded = 0
    for cluster_id, changes in timeline.items():
        changes.sort(key=lambda item: item[0])
        cp = [t for t, c in changes if "properties.currentKubernetesVersion" in c]
        if not cp:
            continue
        upgraded += 1
        pool_finishes = [t for t, c in changes if any(".currentOrchestratorVersion" in k for k in c)]
        assert cp[0] <= min(pool_finishes, default=cp[0])  # control-plane-only upgrades have no pool rows
        new = next(c for _, c in changes if "properties.currentKubernetesVersion" in c)
        assert (
            new["properties.currentKubernetesVersion"]["newValue"]
            == by_id[cluster_id]["properties"]["currentKubernetesVersion"]
        )
    assert upgraded > 20
    statuses = Counter(e["properties"]["eventStatus"] for e in fleet["scheduledEvents"])
    assert statuses["Scheduled"] and statuses["Completed"]
    for event in fleet["scheduledEvents"]:
        assert event["type"] == "microsoft.containerservice/managedclusters/scheduledevents"
        assert event["properties"]["resources"][0] in by_id
        assert event["properties"]["eventDetails"].split(":")[0] in {"K8sVersionUpgrade", "NodeOSUpgrade"}


def test_write_and_load_round_trip(tmp_path):
    small = generate_fleet(20, 2, seed=1, regions=["westeurope", "eastus"], as_of=AS_OF)
    path = write_fleet(small, tmp_path / "fleet.json")
    assert load_fleet(path).to_dict() == small
    assert path.read_text().startswith("{\n")  # small fleets are written indented
    assert set(small["kubernetesVersions"]) == {"westeurope", "eastus"}


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        generate_fleet(10, 0, seed=1, as_of=AS_OF)
    with pytest.raises(ValueError):
        generate_fleet(10, 1, seed=1, regions=0, as_of=AS_OF)
    with pytest.raises(ValueError, match="no supported Kubernetes minor"):
        generate_fleet(10, 1, seed=1, as_of=datetime(2035, 1, 1, tzinfo=UTC))
    assert generate_fleet(0, 1, seed=1, as_of=AS_OF)["managedClusters"] == []


def test_ten_thousand_clusters_in_a_few_seconds():
    started = time.perf_counter()
    big = generate_fleet(10_000, 50, seed=5, regions=8, as_of=AS_OF)
    elapsed = time.perf_counter() - started
    assert len(big["managedClusters"]) == 10_000
    assert elapsed < 10, f"{elapsed:.1f} s"
