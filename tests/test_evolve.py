"""Monthly fleet evolution: deterministic, valid fleets, and a history with what a real fleet goes through."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from auditor.emulator.evolve import RETENTION, evolve_fleet, month_steps, window_moments
from auditor.emulator.fleet import Fleet
from auditor.emulator.generator import generate_fleet

START = datetime(2026, 3, 24, tzinfo=UTC)
MONTHS = 8
POOL_FIELD = re.compile(r"properties\.agentPoolProfiles\[(\d+)\]\.(\w+)")


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return generate_fleet(clusters=150, subscriptions=8, seed=3, as_of=START)


@pytest.fixture(scope="module")
def history(base: dict[str, Any]) -> list[tuple[datetime, dict[str, Any]]]:
    return evolve_fleet(base, MONTHS, seed=3)


def _ids(fleet: dict[str, Any]) -> set[str]:
    return {c["id"].lower() for c in fleet["managedClusters"]}


def _changes(fleet: dict[str, Any], kind: str = "Update") -> list[dict[str, Any]]:
    return [r for r in fleet["resourceChanges"] if r["properties"]["changeType"] == kind]


def test_same_inputs_same_history(base: dict[str, Any], history: list[tuple[datetime, dict[str, Any]]]) -> None:
    again = evolve_fleet(base, MONTHS, seed=3)
    assert [m for m, _ in again] == [m for m, _ in history]
    assert json.dumps([f for _, f in again], sort_keys=True) == json.dumps([f for _, f in history], sort_keys=True)
    other = evolve_fleet(base, 3, seed=4)
    assert json.dumps(other[-1][1], sort_keys=True) != json.dumps(history[2][1], sort_keys=True)


def test_snapshots_are_monthly_valid_fleets(
    base: dict[str, Any], history: list[tuple[datetime, dict[str, Any]]]
) -> None:
    pristine = generate_fleet(clusters=150, subscriptions=8, seed=3, as_of=START)
    assert json.dumps(base, sort_keys=True) == json.dumps(pristine, sort_keys=True)  # the base is never changed
    assert len(history) == MONTHS
    assert history[0][1]["managedClusters"] == base["managedClusters"]
    for (moment, fleet), expected in zip(history, month_steps(START, MONTHS), strict=True):
        assert moment == expected
        assert fleet["asOf"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        Fleet(fleet)  # validates: ids, subscriptions, maintenance keys, node images
    # Independent copies: changing one snapshot leaves the next alone.
    own = evolve_fleet(base, 3, seed=3)
    own[1][1]["managedClusters"][0]["properties"]["currentKubernetesVersion"] = "9.9.9"
    assert all(c["properties"]["currentKubernetesVersion"] != "9.9.9" for c in own[2][1]["managedClusters"])


def test_end_anchors_the_last_snapshot(base: dict[str, Any]) -> None:
    end = datetime(2026, 7, 31, tzinfo=UTC)
    moments = [m for m, _ in evolve_fleet(base, 6, seed=3, end=end)]
    assert moments[-1] == end
    assert moments[0] == datetime(2026, 2, 28, tzinfo=UTC)  # clamped to the month's length


def test_clusters_come_and_go(history: list[tuple[datetime, dict[str, Any]]]) -> None:
    added = removed = 0
    for (_, before), (_, after) in zip(history, history[1:], strict=False):
        new, gone = _ids(after) - _ids(before), _ids(before) - _ids(after)
        added, removed = added + len(new), removed + len(gone)
        created = {r["properties"]["targetResourceId"].lower() for r in _changes(after, "Create")}
        deleted = {r["properties"]["targetResourceId"].lower() for r in _changes(after, "Delete")}
        assert created <= new and deleted <= gone  # a Create/Delete row only for what really came or went
        for row in _changes(after, "Create") + _changes(after, "Delete"):
            assert "changes" not in row["properties"]  # Resource Graph gives property changes for Update only
    assert added >= 10 and removed >= 5


def test_upgrades_and_node_images_move_forward(history: list[tuple[datetime, dict[str, Any]]]) -> None:
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in version.split("."))

    upgraded = image_updates = 0
    for (_, before), (_, after) in zip(history, history[1:], strict=False):
        old = {c["id"].lower(): c for c in before["managedClusters"]}
        for cluster in after["managedClusters"]:
            previous = old.get(cluster["id"].lower())
            if previous is None:
                continue
            now, then = (
                cluster["properties"]["currentKubernetesVersion"],
                previous["properties"]["currentKubernetesVersion"],
            )
            assert key(now) >= key(then)  # no downgrade
            upgraded += key(now) > key(then)
        image_updates += sum(
            1 for r in _changes(after) for name in r["properties"]["changes"] if name.endswith(".nodeImageVersion")
        )
    assert upgraded >= 40
    assert image_updates >= 100


def test_change_rows_are_shaped_as_resource_graph_and_match_the_snapshot(
    history: list[tuple[datetime, dict[str, Any]]],
) -> None:
    for moment, fleet in history[1:]:
        clusters = {c["id"].lower(): c for c in fleet["managedClusters"]}
        last: dict[tuple[str, str], tuple[str, Any]] = {}
        for row in fleet["resourceChanges"]:
            properties = row["properties"]
            assert row["id"].startswith(properties["targetResourceId"] + "/providers/Microsoft.Resources/changes/")
            assert row["subscriptionId"] == properties["targetResourceId"].split("/")[2]
            assert row["resourceGroup"] == properties["targetResourceId"].split("/")[4].lower()
            assert properties["targetResourceType"] == "microsoft.containerservice/managedclusters"
            attributes = properties["changeAttributes"]
            assert {
                "timestamp",
                "previousResourceSnapshotId",
                "newResourceSnapshotId",
                "correlationId",
                "changesCount",
            } <= set(attributes)
            stamp = datetime.strptime(attributes["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            assert moment - RETENTION < stamp <= moment  # Resource Graph keeps 14 days
            if properties["changeType"] != "Update":
                continue
            assert attributes["changesCount"] == len(properties["changes"])
            for name, change in properties["changes"].items():
                assert set(change) >= {"previousValue", "newValue", "propertyChangeType"}
                assert change["propertyChangeType"] == "Update"
                target = properties["targetResourceId"].lower()
                if name == "properties.currentKubernetesVersion" or name.endswith(".nodeImageVersion"):
                    previous = last.get((target, name))
                    if previous is None or previous[0] <= attributes["timestamp"]:
                        last[(target, name)] = (attributes["timestamp"], change["newValue"])
        # The newest change of a version or image is the value the snapshot shows.
        for (target, name), (_, value) in last.items():
            cluster = clusters.get(target)
            if cluster is None:
                continue
            match = POOL_FIELD.fullmatch(name)
            if match:
                assert cluster["properties"]["agentPoolProfiles"][int(match.group(1))]["nodeImageVersion"] == value
            else:
                assert cluster["properties"]["currentKubernetesVersion"] == value


def test_some_upgrades_run_out_of_order(history: list[tuple[datetime, dict[str, Any]]]) -> None:
    """A user pool starts before the system pools have finished: what AKS-ORD-01 must find."""
    out_of_order = in_order = 0
    for _, fleet in history[1:]:
        modes = {
            c["id"].lower(): [p.get("mode") for p in c["properties"]["agentPoolProfiles"]]
            for c in fleet["managedClusters"]
        }
        starts: dict[str, dict[int, str]] = defaultdict(dict)
        ends: dict[str, dict[int, str]] = defaultdict(dict)
        for row in _changes(fleet):
            target = row["properties"]["targetResourceId"].lower()
            stamp = row["properties"]["changeAttributes"]["timestamp"]
            for name, change in row["properties"]["changes"].items():
                match = POOL_FIELD.fullmatch(name)
                if not match:
                    continue
                index = int(match.group(1))
                if match.group(2) == "provisioningState" and change["newValue"] == "Upgrading":
                    starts[target][index] = stamp
                if match.group(2) == "currentOrchestratorVersion":
                    ends[target][index] = stamp
        for target, started in starts.items():
            mode = modes.get(target, [])
            system_end = [t for i, t in ends[target].items() if i < len(mode) and mode[i] == "System"]
            user_start = [t for i, t in started.items() if i < len(mode) and mode[i] != "System"]
            if system_end and user_start:
                if min(user_start) < max(system_end):
                    out_of_order += 1
                else:
                    in_order += 1
    assert out_of_order >= 2
    assert in_order > 5 * out_of_order  # occasionally, not usually


def test_production_waits_for_the_lower_rings(history: list[tuple[datetime, dict[str, Any]]]) -> None:
    """Rollout rings: a production cluster mostly moves to a Kubernetes version or node image that a dev or staging
    cluster already ran at an earlier snapshot (strictly before the move); a few skip the rings (AKS-RNG-01).
    Fleet Manager members are left out: their update runs order the rings within a run, hours apart, not months
    (tests/test_fleet_scenarios.py)."""

    def ring(cluster: dict[str, Any]) -> str | None:
        return {k.lower(): str(v).lower() for k, v in (cluster.get("tags") or {}).items()}.get("environment")

    def values(cluster: dict[str, Any]) -> set[tuple[str, str]]:
        properties = cluster["properties"]
        pools = properties.get("agentPoolProfiles", [])
        return (
            {("kubernetes", properties["currentKubernetesVersion"])}
            | {("kubernetes", p["currentOrchestratorVersion"]) for p in pools if p.get("currentOrchestratorVersion")}
            | {("node-image", p["nodeImageVersion"]) for p in pools if p.get("nodeImageVersion")}
        )

    lower: set[tuple[str, str]] = set()  # what a lower-ring cluster ran at this snapshot or an earlier one
    preceded = skipped = 0
    for (_, before), (_, after) in zip(history, history[1:], strict=False):
        lower |= {v for c in before["managedClusters"] if ring(c) in ("dev", "staging") for v in values(c)}
        previous = {c["id"].lower(): c for c in before["managedClusters"] if ring(c) == "prod"}
        fleet_members = {
            m["properties"]["clusterResourceId"].lower() for m in (after.get("fleetManager") or {}).get("members", [])
        }
        for cluster in after["managedClusters"]:
            old = previous.get(cluster["id"].lower())
            if old is None or cluster["id"].lower() in fleet_members:
                continue
            properties = cluster["properties"]
            moved = {
                ("node-image", p["nodeImageVersion"])
                for p in properties.get("agentPoolProfiles", [])
                if p.get("nodeImageVersion")
            } - values(old)
            if properties["currentKubernetesVersion"] != old["properties"]["currentKubernetesVersion"]:
                moved.add(("kubernetes", properties["currentKubernetesVersion"]))
            preceded += len(moved & lower)
            skipped += len(moved - lower)
    assert preceded >= 50
    assert 1 <= skipped <= 0.2 * (preceded + skipped)  # mostly the rings are kept, now and then not


def test_pools_lag_and_catch_up(history: list[tuple[datetime, dict[str, Any]]]) -> None:
    def lagging(fleet: dict[str, Any]) -> set[tuple[str, str]]:
        return {
            (c["id"].lower(), p["name"])
            for c in fleet["managedClusters"]
            for p in c["properties"]["agentPoolProfiles"]
            if p.get("currentOrchestratorVersion", "").rsplit(".", 1)[0]
            != c["properties"]["currentKubernetesVersion"].rsplit(".", 1)[0]
        }

    series = [lagging(f) for _, f in history]
    assert any(series[1:])
    caught_up = sum(len(before - after) for before, after in zip(series, series[1:], strict=False))
    assert caught_up >= 3  # AKS-VER-04 failures get remediated: time to remediate means something


def test_scheduled_events(history: list[tuple[datetime, dict[str, Any]]]) -> None:
    statuses: set[str] = set()
    kinds: set[str] = set()
    for moment, fleet in history[1:]:
        for event in fleet["scheduledEvents"]:
            assert event["type"] == "microsoft.containerservice/managedclusters/scheduledevents"
            properties = event["properties"]
            assert {
                "eventId",
                "eventSource",
                "eventStatus",
                "eventDetails",
                "scheduledTime",
                "startTime",
                "lastUpdateTime",
                "resources",
                "resourceType",
            } <= set(properties)
            statuses.add(properties["eventStatus"])
            kinds.add(properties["eventDetails"].split(":")[0])
            updated = datetime.strptime(properties["lastUpdateTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            assert moment - RETENTION < updated <= moment
            if properties["eventStatus"] == "Scheduled":
                scheduled = datetime.strptime(properties["scheduledTime"], "%Y-%m-%dT%H:%M:%S.%fZ")
                assert moment < scheduled.replace(tzinfo=UTC) <= moment + timedelta(days=7)
    assert {"Scheduled", "Completed"} <= statuses
    assert kinds == {"K8sVersionUpgrade", "NodeOSUpgrade"}


def test_window_moments_follow_the_schedule() -> None:
    config = {
        "properties": {
            "maintenanceWindow": {
                "schedule": {"weekly": {"dayOfWeek": "Saturday", "intervalWeeks": 1}},
                "durationHours": 4,
                "startDate": "2026-01-03",
                "startTime": "01:00",
                "utcOffset": "+02:00",
            }
        }
    }
    moments = window_moments(config, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    assert [m.day for m in moments] == [6, 13, 20, 27]  # Saturday 01:00 at +02:00 is Friday 23:00 UTC
    assert all(m.hour == 23 and m.weekday() == 4 for m in moments)
    monthly = {
        "properties": {
            "maintenanceWindow": {
                "schedule": {"relativeMonthly": {"dayOfWeek": "Monday", "weekIndex": "Last", "intervalMonths": 1}},
                "startDate": "2026-01-01",
                "startTime": "00:00",
                "utcOffset": "+00:00",
            }
        }
    }
    assert [
        m.date().isoformat()
        for m in window_moments(monthly, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    ] == ["2026-03-30", "2026-04-27"]
