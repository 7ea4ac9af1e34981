"""The calendar's controls (AKS-WIN-04, AKS-WIN-05, AKS-WIN-06, AKS-RNG-02) against wire-shaped fixtures in a real
DuckDB. These controls judge clusters against each other (a subscription, the rings), so each case is a small fleet
in a scan of its own. `CASES` joins the catalog's fixture registry (tests/test_catalog_integrity.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.controls import Finding, control_ids, evaluate_scan, load_catalog
from auditor.policy import Policy, default_policy, load_policy
from auditor.store import ErrorRow, open_db
from tests.evidence import SUB, cluster, maintenance_window, pool, store_scan

AUTO = "aksManagedAutoUpgradeSchedule"
NODE_OS = "aksManagedNodeOSUpgradeSchedule"
UBUNTU = "AKSUbuntu-2204gen2containerd-202611.10.0"
AZURE_LINUX = "AKSAzureLinux-V3gen2-202611.10.0"


def configured(schedule: dict[str, Any], start: str = "01:00", offset: str = "+00:00", duration: int = 4, **extra: Any):
    """An aksManagedAutoUpgradeSchedule with this schedule (startDate 2026-01-03 unless `extra` says otherwise)."""
    window = maintenance_window(AUTO, duration=duration, start_time=start, utc_offset=offset, schedule=schedule)
    window["properties"]["maintenanceWindow"].update(extra)
    return window


def weekly(day: str, start: str = "01:00", offset: str = "+00:00", duration: int = 4, **extra: Any) -> dict[str, Any]:
    return configured({"weekly": {"intervalWeeks": 1, "dayOfWeek": day}}, start, offset, duration, **extra)


def nth_tuesday(week: str) -> dict[str, Any]:
    return configured({"relativeMonthly": {"intervalMonths": 1, "weekIndex": week, "dayOfWeek": "Tuesday"}}, "02:00")


def sized(body: dict[str, Any], count: int, **settings: Any) -> dict[str, Any]:
    """The cluster with its first pool resized and given upgradeSettings."""
    body = copy.deepcopy(body)
    target = body["properties"]["agentPoolProfiles"][0]
    target["count"] = count
    if settings:
        target["upgradeSettings"] = settings
    return body


@dataclass(frozen=True)
class Member:
    """One cluster of a case's fleet: its body, its maintenance configurations, whether their read failed."""

    name: str
    build: Callable[[str], dict[str, Any]]
    maintenance: tuple[dict[str, Any], ...] = ()
    lost: bool = False


@dataclass(frozen=True)
class Case:
    """A small fleet, and the verdict one control gives on one member (None: the subscription)."""

    id: str
    expect: str
    fleet: tuple[Member, ...]
    subject: str | None = "prod"
    pool: str | None = None
    says: tuple[str, ...] = ()
    policy: str = ""
    members: dict[str, Any] = field(default_factory=dict)


def env(name: str) -> Callable[[str], dict[str, Any]]:
    return lambda cluster_name: cluster(cluster_name, tags={"environment": name})


def many(count: int, make: Callable[[int], Member]) -> tuple[Member, ...]:
    return tuple(make(i) for i in range(count))


FREEZE_ALL = {"notAllowedDates": [{"start": "2026-11-01", "end": "2027-12-31"}]}

CASES: dict[str, tuple[Case, ...]] = {
    "AKS-WIN-04": (
        Case(
            "staggered",
            "pass",
            many(12, lambda i: Member(f"c{i:02d}", cluster, (weekly("Saturday", f"{2 * i:02d}:00"),))),
            subject=None,
            says=("staggered", "at most 2 of 12 clusters share a window (limit 10)"),
        ),
        Case(
            "one-window-for-all",
            "warn",
            many(11, lambda i: Member(f"c{i:02d}", cluster, (weekly("Saturday"),))),
            subject=None,
            says=("11 cluster(s) in one auto-upgrade window at 2026-11-28 01:00 UTC", "'c00', 'c01'", "limit 10"),
        ),
        Case(
            # Monday 01:00 at +05:30 is Sunday 19:30 UTC: these two groups of six share one instant.
            "offsets-meet-in-utc",
            "warn",
            many(6, lambda i: Member(f"ist{i}", cluster, (weekly("Monday", "01:00", "+05:30"),)))
            + many(6, lambda i: Member(f"utc{i}", cluster, (weekly("Sunday", "19:30", "+00:00"),))),
            subject=None,
            says=("12 cluster(s) in one auto-upgrade window at 2026-11-29 19:30 UTC",),
        ),
        Case(
            # Frozen windows never open: 5 of 11 identical windows are frozen for the whole horizon.
            "freezes-do-not-count",
            "pass",
            many(6, lambda i: Member(f"open{i}", cluster, (weekly("Saturday"),)))
            + many(5, lambda i: Member(f"frozen{i}", cluster, (weekly("Saturday", **FREEZE_ALL),))),
            subject=None,
            says=("at most 6 of 11 clusters",),
        ),
        Case(
            "kinds-apart",
            "pass",
            many(
                8,
                lambda i: Member(
                    f"c{i}", cluster, (weekly("Saturday"), maintenance_window(NODE_OS, start_time=f"{2 * i:02d}:00"))
                ),
            ),
            subject=None,
            says=("8 cluster(s) in one auto-upgrade window", "node-os window"),
        ),
        Case(
            "unread-could-tip-it",
            "unknown",
            many(10, lambda i: Member(f"c{i:02d}", cluster, (weekly("Saturday"),)))
            + (Member("lost", cluster, lost=True),),
            subject=None,
            says=("could not be read",),
        ),
        Case(
            "stricter-scope",
            "warn",
            many(4, lambda i: Member(f"c{i}", cluster, (weekly("Saturday"),))),
            subject=None,
            policy='[[scopes]]\nname = "tight"\nmatch = { subscriptions = ["' + SUB + '"] }\n'
            "thresholds = { window_overlap_max_clusters = 3 }\n",
            says=("4 cluster(s) in one auto-upgrade window", "limit 3"),
        ),
        Case("no-windows", "not_applicable", (Member("a", cluster), Member("b", cluster)), subject=None),
    ),
    "AKS-WIN-05": (
        Case(
            "staging-a-day-ahead",
            "pass",
            (
                Member("stg", env("staging"), (weekly("Friday"),)),
                Member("prod", env("prod"), (weekly("Saturday"),)),
            ),
            says=("each of 26 production windows follows a lower-ring window by at least 24 h", "'stg' (staging)"),
        ),
        Case(
            "same-slot",
            "fail",
            (
                Member("stg", env("staging"), (weekly("Saturday"),)),
                Member("prod", env("prod"), (weekly("Saturday"),)),
            ),
            says=(
                "production aksManagedAutoUpgradeSchedule opens 2026-11-28 01:00 UTC",
                "'stg' (staging)",
                "same time",
            ),
        ),
        Case(
            "production-first",
            "fail",
            (
                Member("stg", env("staging"), (weekly("Saturday", "03:00"),)),
                Member("prod", env("prod"), (weekly("Saturday", "01:00"),)),
            ),
            says=("no lower-ring auto-upgrade window opens between the end of its previous opening", "26 of 26"),
        ),
        Case(
            # Read naively, Monday 01:00 comes 31 h before Tuesday 08:00; in UTC (-10:00 and +14:00) it is 7 h.
            "offsets-shrink-the-lead",
            "fail",
            (
                Member("stg", env("staging"), (weekly("Monday", "01:00", "-10:00"),)),
                Member("prod", env("prod"), (weekly("Tuesday", "08:00", "+14:00"),)),
            ),
            says=("opens 2026-11-30 18:00 UTC", "opens 2026-11-30 11:00 UTC, only 7.0 h before"),
        ),
        Case(
            "monthly-rings",
            "pass",
            (
                Member("dev", env("dev"), (nth_tuesday("Second"),)),
                Member("prod", env("prod"), (nth_tuesday("Third"),)),
            ),
            says=("'dev' (dev)",),
        ),
        Case(
            "lower-ring-unread",
            "unknown",
            (
                Member("stg", env("staging"), (weekly("Saturday"),)),
                Member("dev", env("dev"), lost=True),
                Member("prod", env("prod"), (weekly("Saturday"),)),
            ),
            says=("could not be read, and might open in time",),
        ),
        Case(
            "phase-unknown",
            "unknown",
            (
                Member("stg", env("staging"), (weekly("Friday"),)),
                Member(
                    "prod",
                    env("prod"),
                    (configured({"weekly": {"intervalWeeks": 2, "dayOfWeek": "Saturday"}}, startDate=None),),
                ),
            ),
            says=("without a startDate",),
        ),
        Case(
            "staging-cluster",
            "not_applicable",
            (Member("stg", env("staging"), (weekly("Friday"),)), Member("prod", env("prod"), (weekly("Saturday"),))),
            subject="stg",
            says=("not the production ring",),
        ),
        Case(
            "no-lower-ring",
            "not_applicable",
            (Member("prod", env("prod"), (weekly("Saturday"),)),),
            says=("no cluster of a lower ring",),
        ),
        Case(
            "production-without-windows",
            "not_applicable",
            (Member("stg", env("staging"), (weekly("Friday"),)), Member("prod", env("prod"))),
            says=("AKS-WIN-01",),
        ),
    ),
    "AKS-WIN-06": (
        Case(
            "fits",
            "pass",
            (Member("prod", cluster, (weekly("Saturday"),)),),
            pool="system",
            says=("3 node(s), 1 at a time", "= 120 min (2.0 h)", "aksManagedAutoUpgradeSchedule, 4 h"),
        ),
        Case(
            "one-at-a-time-on-twelve",
            "warn",
            (Member("prod", lambda n: sized(cluster(n), 12, maxSurge="1"), (weekly("Saturday"),)),),
            pool="system",
            says=(
                "12 node(s), 1 at a time (maxSurge 1)",
                "12 round(s) x (10 min provisioning + 30 min drain timeout (default) + 0 min soak (default))",
                "= 480 min (8.0 h)",
                "longer than the 4 h aksManagedAutoUpgradeSchedule window",
            ),
        ),
        Case(
            "half-at-a-time",
            "pass",
            (Member("prod", lambda n: sized(cluster(n), 12, maxSurge="50%"), (weekly("Saturday"),)),),
            pool="system",
            says=("6 at a time", "2 round(s)", "= 80 min"),
        ),
        Case(
            "in-place-with-long-drain",
            "warn",
            (
                Member(
                    "prod",
                    lambda n: sized(
                        cluster(n, pools=[pool("user", mode="User")]),
                        6,
                        maxSurge="0",
                        maxUnavailable="1",
                        drainTimeoutInMinutes=60,
                        nodeSoakDurationInMinutes=5,
                    ),
                    (weekly("Saturday", duration=6), maintenance_window(NODE_OS, duration=8)),
                ),
            ),
            pool="user",
            says=(
                "maxUnavailable 1",
                "6 round(s) x (10 min provisioning + 60 min drain timeout + 5 min soak)",
                "450 min",
            ),
        ),
        Case("no-window", "not_applicable", (Member("prod", cluster),), pool="system", says=("AKS-WIN-01",)),
        Case(
            "windows-not-collected",
            "unknown",
            (Member("prod", cluster, lost=True),),
            pool="system",
            says=("were not collected",),
        ),
        Case(
            "size-unknown",
            "unknown",
            (
                Member(
                    "prod",
                    lambda n: _drop_count(cluster(n)),
                    (weekly("Saturday"),),
                ),
            ),
            pool="system",
            says=("node count is unknown",),
        ),
    ),
    "AKS-RNG-02": (
        Case(
            "mirrored",
            "pass",
            (
                Member("stg", lambda n: sized(cluster(n, tags={"environment": "staging"}), 3, maxSurge="33%")),
                Member("prod", lambda n: sized(cluster(n, tags={"environment": "prod"}), 30, maxSurge="33%")),
            ),
            says=("every production pool has a lower-ring mirror", "'system' by 'stg/system' (staging)"),
        ),
        Case(
            "staging-gentler",
            "warn",
            (
                Member("stg", lambda n: sized(cluster(n, tags={"environment": "staging"}), 10, maxSurge="1")),
                Member("prod", lambda n: sized(cluster(n, tags={"environment": "prod"}), 30, maxSurge="33%")),
            ),
            says=("1 of 1 production pool(s) have no mirror", "upgrade more gently", "'stg/system' (staging)"),
        ),
        Case(
            "other-image-family",
            "warn",
            (
                Member("stg", lambda n: cluster(n, tags={"environment": "staging"})),
                Member(
                    "prod",
                    lambda n: cluster(n, tags={"environment": "prod"}, pools=[pool("system", image=AZURE_LINUX)]),
                ),
            ),
            says=("AKSAzureLinux-V3gen2", "no lower-ring pool has its OS SKU, image family and mode"),
        ),
        Case(
            "staging-cluster",
            "not_applicable",
            (Member("stg", env("staging")), Member("prod", env("prod"))),
            subject="stg",
        ),
        Case(
            "image-unreadable",
            "unknown",
            (
                Member("stg", env("staging")),
                Member(
                    "prod",
                    lambda n: cluster(n, tags={"environment": "prod"}, pools=[pool("system", image="custom-image")]),
                ),
            ),
            says=("cannot be compared",),
        ),
    ),
}


def _drop_count(body: dict[str, Any]) -> dict[str, Any]:
    body["properties"]["agentPoolProfiles"][0].pop("count")
    return body


def _evaluate(tmp_path: Path, case: Case) -> list[Finding]:
    bodies = [m.build(m.name) for m in case.fleet]
    maintenance = {m.name: list(m.maintenance) for m in case.fleet}
    errors = [
        ErrorRow("maintenance_configurations", body["id"], 403, "AuthorizationFailed", "maintenance read denied")
        for member, body in zip(case.fleet, bodies, strict=True)
        if member.lost
    ]
    db = tmp_path / "case.duckdb"
    scan_id = store_scan(db, bodies, maintenance=maintenance, errors=errors)
    policy: Policy = default_policy()
    if case.policy:
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(case.policy, encoding="utf-8")
        policy = load_policy(policy_file, known_controls=control_ids())
    con = open_db(db)
    try:
        return evaluate_scan(con, scan_id, policy, controls=tuple(c for c in load_catalog() if c.id in CASES))
    finally:
        con.close()


@pytest.mark.parametrize(
    ("control_id", "case"),
    [(cid, case) for cid, cases in CASES.items() for case in cases],
    ids=[f"{cid}:{case.id}" for cid, cases in CASES.items() for case in cases],
)
def test_case(tmp_path: Path, control_id: str, case: Case) -> None:
    findings = [f for f in _evaluate(tmp_path, case) if f.control_id == control_id]
    if case.subject is None:
        matching = [f for f in findings if f.resource_id == f"/subscriptions/{SUB}"]
    else:
        matching = [f for f in findings if f.cluster == case.subject and f.node_pool == case.pool]
    assert len(matching) == 1, [(f.cluster, f.node_pool, f.resource_id) for f in findings]
    finding = matching[0]
    assert finding.status == case.expect, f"{finding.status}: {finding.message} [{finding.evidence}]"
    for text in case.says:
        assert text in finding.message, f"{text!r} not in {finding.message!r}"
    assert finding.evidence and finding.title
    if finding.status in ("fail", "warn"):
        assert finding.remediation.startswith("az ")
        assert "{" not in finding.remediation
    else:
        assert finding.remediation == ""


def test_subscription_findings_carry_the_subscription(tmp_path: Path) -> None:
    case = CASES["AKS-WIN-04"][1]
    finding = next(f for f in _evaluate(tmp_path, case) if f.control_id == "AKS-WIN-04")
    assert finding.resource_id == f"/subscriptions/{SUB}"
    assert finding.subscription_id == SUB and finding.subscription_name == "Contoso Prod"
    assert finding.cluster == "" and finding.node_pool is None
    assert "aksManagedAutoUpgradeSchedule" in finding.remediation


def test_every_cluster_gets_one_fleet_verdict(tmp_path: Path) -> None:
    """AKS-WIN-05 and AKS-RNG-02 judge every cluster once, like every fleet-level control."""
    case = CASES["AKS-WIN-05"][0]
    findings = _evaluate(tmp_path, case)
    for control_id in ("AKS-WIN-05", "AKS-RNG-02"):
        judged = sorted(f.cluster for f in findings if f.control_id == control_id)
        assert judged == ["prod", "stg"], control_id


def test_same_evidence_same_findings(tmp_path: Path) -> None:
    """Two evaluations of one fleet give identical findings (every aggregate has a total order)."""
    case = CASES["AKS-WIN-04"][2]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = [f.as_dict() for f in _evaluate(tmp_path / "a", case)]
    second = [f.as_dict() for f in _evaluate(tmp_path / "b", case)]
    assert first and first == second
