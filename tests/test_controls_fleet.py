"""AKS-FLT-01 and AKS-FLT-02 against Fleet Manager evidence in a real DuckDB: passing, failing and edge fixtures.

`CASES` joins the registry of tests/test_catalog_integrity.py. One scan holds every case: each FLT-01 case is a
fleet of its own (its finding's resource is the fleet), each FLT-02 case a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.controls import Finding, control_ids, evaluate
from auditor.emulator.fleet_resources import GateOutcome, MemberUpdate, stage_config
from auditor.policy import default_policy, load_policy
from auditor.store import ErrorRow, open_db
from tests.evidence import cluster, store_scan
from tests.fleet_evidence import RINGS, FleetBuilder, approved, cluster_id, days_ago, done


@dataclass(frozen=True)
class Case:
    """The verdict one control must give on one fleet (FLT-01) or cluster (FLT-02)."""

    id: str
    expect: str
    says: tuple[str, ...] = ()
    policy: str = "default"


def ring_cluster(name: str, env: str | None, **kw: Any) -> dict[str, Any]:
    return cluster(name, tags={"environment": env} if env else {}, channel=kw.pop("channel", None),
                   node_os=kw.pop("node_os", "None"), **kw)  # fmt: skip


def build_fleets() -> tuple[list[FleetBuilder], list[dict[str, Any]]]:
    """Every FLT-01 fleet (named after its case) and the clusters their runs touch."""
    fleets: list[FleetBuilder] = []
    clusters: list[dict[str, Any]] = []

    def fleet(case: str, envs: dict[str, str | None]) -> FleetBuilder:
        builder = FleetBuilder(f"flt01-{case}")
        for name, env in envs.items():
            clusters.append(ring_cluster(name, env))
            builder.member(name, env or "all")
        fleets.append(builder)
        return builder

    t0 = days_ago(10)
    # Clean: non-prod (dev and staging in parallel), an hour's wait, approval, then prod.
    f = fleet("clean", {"c-dev": "dev", "c-stg": "staging", "c-prd": "prod"})
    f.run(
        "k8s-1-33-2",
        RINGS,
        [done("c-dev", "dev", t0), done("c-stg", "staging", t0), done("c-prd", "prod", t0 + timedelta(hours=6))],
        gates=[approved("prod", t0 + timedelta(hours=5, minutes=50))],
    )
    # Production and staging in one stage, no gate: parallel, ungated.
    f = fleet("parallel", {"p-stg": "staging", "p-prd": "prod"})
    stages = [stage_config("all", ["staging", "prod"])]
    f.run("k8s-1-33-2", stages, [done("p-stg", "staging", t0), done("p-prd", "prod", t0 + timedelta(minutes=30))])
    # The strategy lists production first.
    f = fleet("reversed", {"r-prd": "prod", "r-stg": "staging"})
    stages = [stage_config("prod", ["prod"], before_gates=["go"]), stage_config("staging", ["staging"])]
    f.run(
        "k8s-1-33-2",
        stages,
        [done("r-prd", "prod", t0), done("r-stg", "staging", t0 + timedelta(hours=2))],
        gates=[GateOutcome("prod", "go", state="Completed", start=t0, end=t0, approver="x@contoso.example", name="g1")],
    )
    # Someone skipped the staging stage, production ran anyway.
    f = fleet("skipped-stage", {"s-stg": "staging", "s-prd": "prod"})
    f.run(
        "k8s-1-33-2",
        RINGS,
        [
            MemberUpdate("m-s-stg", cluster_id("s-stg"), "staging", "Skipped", t0, t0, message="skipped by the user"),
            done("s-prd", "prod", t0 + timedelta(hours=1)),
        ],
        gates=[approved("prod", t0 + timedelta(minutes=50))],
    )
    # Staged, but nothing stands between staging and production.
    f = fleet("ungated", {"u-stg": "staging", "u-prd": "prod"})
    stages = [stage_config("non-prod", ["staging"]), stage_config("prod", ["prod"])]
    f.run("k8s-1-33-2", stages, [done("u-stg", "staging", t0), done("u-prd", "prod", t0 + timedelta(hours=1))])
    # A day's soak instead of an approval.
    f = fleet("soaked", {"w-stg": "staging", "w-prd": "prod"})
    stages = [stage_config("non-prod", ["staging"], wait_seconds=86400), stage_config("prod", ["prod"])]
    f.run("k8s-1-33-2", stages, [done("w-stg", "staging", t0), done("w-prd", "prod", t0 + timedelta(days=1, hours=1))])
    # Completed, but a production member failed (tolerated by maxAllowedFailures).
    f = fleet("hidden-failure", {"h-stg": "staging", "h-prd1": "prod", "h-prd2": "prod"})
    stages = [
        stage_config("non-prod", ["staging"], wait_seconds=3600),
        stage_config("prod", ["prod"], before_gates=["Production sign-off"], max_allowed_failures="1"),
    ]
    later = t0 + timedelta(hours=3)
    failed = MemberUpdate(
        "m-h-prd2", cluster_id("h-prd2"), "prod", "Failed", later, later + timedelta(minutes=30),
        error=("UpgradeFailed", "drain of node aks-nodes-1 exceeded the drain timeout"),
    )  # fmt: skip
    f.run(
        "node-image-2026-11",
        stages,
        [done("h-stg", "staging", t0), done("h-prd1", "prod", later), failed],
        gates=[approved("prod", later - timedelta(minutes=5))],
        upgrade_type="NodeImageOnly",
        kubernetes_version=None,
    )
    # Completed with a member skipped by hand (warn), and one skipped because it was already there (not counted).
    f = fleet("skipped-member", {"k-stg": "staging", "k-prd": "prod", "k-prd2": "prod"})
    f.run(
        "k8s-1-33-2",
        RINGS,
        [
            done("k-stg", "staging", t0),
            done("k-prd", "prod", t0 + timedelta(hours=2)),
            MemberUpdate(
                "m-k-prd2", cluster_id("k-prd2"), "prod", "Skipped", later, later, message="skipped by the user"
            ),
        ],
        gates=[approved("prod", t0 + timedelta(hours=1, minutes=55))],
    )
    f = fleet("already-there", {"a-stg": "staging", "a-prd": "prod", "a-prd2": "prod"})
    at_target = (
        'Skipped upgrade of following agent pool(s): current node image version "x" of agent pool "system" is '
        'already at or ahead of target upgrade version "x".'
    )
    f.run(
        "k8s-1-33-2",
        RINGS,
        [
            done("a-stg", "staging", t0),
            done("a-prd", "prod", t0 + timedelta(hours=2)),
            MemberUpdate("m-a-prd2", cluster_id("a-prd2"), "prod", "Skipped", later, later, message=at_target),
        ],
        gates=[approved("prod", t0 + timedelta(hours=1, minutes=55))],
    )
    # The lower ring already ran the target (an earlier run): its stage is skipped by design.
    f = fleet("lower-at-target", {"t-stg": "staging", "t-prd": "prod"})
    f.run(
        "k8s-1-33-2",
        RINGS,
        [
            MemberUpdate("m-t-stg", cluster_id("t-stg"), "staging", "Skipped", t0, t0, message=at_target),
            done("t-prd", "prod", t0 + timedelta(hours=2)),
        ],
        gates=[approved("prod", t0 + timedelta(hours=1, minutes=55))],
    )
    # Latest node image selection for production.
    f = fleet("latest-images", {"l-stg": "staging", "l-prd": "prod"})
    f.run(
        "k8s-1-33-2",
        RINGS,
        [done("l-stg", "staging", t0), done("l-prd", "prod", t0 + timedelta(hours=2))],
        gates=[approved("prod", t0 + timedelta(hours=1, minutes=55))],
        node_image_selection="Latest",
    )
    # The run's status was not collected.
    f = fleet("no-status", {"n-stg": "staging", "n-prd": "prod"})
    f.run("k8s-1-33-2", RINGS, [done("n-stg", "staging", t0), done("n-prd", "prod", t0)], drop_status=True)
    # No run at all; a run long before the lookback.
    fleet("idle", {"i-prd": "prod"})
    f = fleet("old-run", {"o-stg": "staging", "o-prd": "prod"})
    old = days_ago(200)
    f.run(
        "k8s-1-31-1",
        RINGS,
        [done("o-stg", "staging", old), done("o-prd", "prod", old + timedelta(hours=2))],
        gates=[approved("prod", old + timedelta(hours=1))],
    )
    # No ring tags: production is the last stage.
    f = fleet("by-position", {"b-one": None, "b-two": None})
    stages = [stage_config("first", ["all-1"]), stage_config("second", ["all-2"], before_gates=["Production sign-off"])]
    f.members = []
    f.member("b-one", "all-1").member("b-two", "all-2")
    f.run(
        "k8s-1-33-2",
        stages,
        [done("b-one", "all-1", t0), done("b-two", "all-2", t0 + timedelta(hours=3))],
        gates=[approved("second", t0 + timedelta(hours=2, minutes=55))],
    )
    f = fleet("one-by-one", {"o1-prd": "prod", "o2-prd": "prod"})
    f.run(
        "hotfix-1-33-3",
        [stage_config("default", ["default"])],
        [
            MemberUpdate("m-o1-prd", cluster_id("o1-prd"), "default", "Completed", t0, t0 + timedelta(minutes=20)),
            MemberUpdate("m-o2-prd", cluster_id("o2-prd"), "default", "Completed", t0, t0 + timedelta(minutes=40)),
        ],
        kubernetes_version="1.33.3",
    )
    return fleets, clusters


def build_authority() -> tuple[list[FleetBuilder], list[dict[str, Any]]]:
    """FLT-02: one fleet with profiles, and clusters in and out of it."""
    f = FleetBuilder("flt02")
    strategy = f.strategy("rings", RINGS)
    f.profile("stable", "Stable", strategy_id=strategy)
    f.profile("node-image", "NodeImage", strategy_id=strategy)
    f.profile("rapid-off", "Rapid", disabled=True)
    other = FleetBuilder("flt02-lost-strategy")
    other.profile("stable", "Stable", strategy_id=f"{other.id}/updateStrategies/deleted")
    clusters = [
        ring_cluster("flt02-fleet-managed", "prod", channel="none", node_os="None"),
        ring_cluster("flt02-own-channel", "prod", channel="stable", node_os="None"),
        ring_cluster("flt02-own-node-os", "staging", channel="none", node_os="NodeImage"),
        ring_cluster("flt02-not-covered", "prod", channel="stable", node_os="NodeImage"),
        ring_cluster("flt02-automatic", "prod", channel="stable", node_os="NodeImage"),
        ring_cluster("flt02-outsider", "prod", channel="stable", node_os="NodeImage"),
        ring_cluster("flt02-lost", "prod", channel="none", node_os="None"),
    ]
    clusters[4]["sku"] = {"name": "Automatic", "tier": "Standard"}
    f.member("flt02-fleet-managed", "prod").member("flt02-own-channel", "prod").member("flt02-own-node-os", "staging")
    f.member("flt02-not-covered", "canary").member("flt02-automatic", "prod")
    other.member("flt02-lost", "prod")
    return [f, other], clusters


CASES: dict[str, tuple[Case, ...]] = {
    "AKS-FLT-01": (
        Case("clean", "pass", ("1 update run(s) in the last 90 days rolled out in order", "'k8s-1-33-2'")),
        Case(
            "parallel", "fail", ("also updates staging clusters", "no approval gate before it and no stage before it")
        ),
        Case("reversed", "fail", ("lower stage 'staging' comes after production stage 'prod'",)),
        Case("skipped-stage", "fail", ("lower stage 'non-prod' was Skipped when production stage 'prod' started",)),
        Case("ungated", "fail", ("stage 'non-prod' before it has no wait and no approval after it",)),
        Case("soaked", "pass"),
        Case("hidden-failure", "fail", ("reported Completed although member(s) failed: m-h-prd2 (stage prod: drain",)),
        Case("skipped-member", "warn", ("skipped: m-k-prd2 (stage prod: skipped by the user)",)),
        Case("already-there", "pass"),
        Case("lower-at-target", "pass"),
        Case("latest-images", "warn", ("node images selected 'Latest' for production",)),
        Case("no-status", "unknown", ("was not collected",)),
        Case("idle", "not_applicable", ("no update run started in the last 90 days",)),
        Case("old-run", "not_applicable"),
        Case("by-position", "pass", ("production judged by stage position",)),
        Case(
            "one-by-one", "fail", ("production stage 'default' has no approval gate before it and no stage before it",)
        ),
    ),
    "AKS-FLT-02": (
        Case(
            "fleet-managed",
            "pass",
            (
                "Fleet upgrades member flt02/m-flt02-fleet-managed (group prod)",
                "flt02/stable (Stable)",
                "flt02/node-image (NodeImage)",
            ),
        ),  # fmt: skip
        Case("own-channel", "fail", ("auto-upgrade channel stable both upgrade Kubernetes", "whichever runs first")),
        Case("own-node-os", "fail", ("nodeOSUpgradeChannel NodeImage both update node images",)),
        Case("not-covered", "pass", ("no enabled auto-upgrade profile covers it",)),
        Case("automatic", "warn", ("AKS Automatic member of fleet flt02",)),
        Case("outsider", "not_applicable", ("not a member of any fleet",)),
        Case("outsider", "fail", ("member of no fleet",), policy="strict"),
        Case("lost", "unknown", ("whose update strategy was not collected",)),
    ),
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Finding]:
    fleets, clusters = build_fleets()
    more_fleets, more_clusters = build_authority()
    db = tmp_path_factory.mktemp("fleet") / "fleet.duckdb"
    evidence = [row for f in fleets + more_fleets for row in f.evidence()]
    scan_id = store_scan(db, clusters + more_clusters, extra_evidence=evidence)
    strict = tmp_path_factory.mktemp("policy") / "strict.toml"
    strict.write_text("[thresholds]\nrequire_fleet_for_production = true\n", encoding="utf-8")
    found: dict[tuple[str, str, str], Finding] = {}
    con = open_db(db)
    try:
        for policy_name, policy in (
            ("default", default_policy()),
            ("strict", load_policy(strict, known_controls=control_ids())),
        ):
            for f in evaluate(con, scan_id, policy):
                if f.control_id.startswith("AKS-FLT"):
                    found[(policy_name, f.control_id, f.cluster)] = f
    finally:
        con.close()
    return found


def resource_name(control_id: str, case: Case) -> str:
    return f"flt01-{case.id}" if control_id == "AKS-FLT-01" else f"flt02-{case.id}"


@pytest.mark.parametrize(
    ("control_id", "case"),
    [(cid, case) for cid, cases in CASES.items() for case in cases],
    ids=[f"{cid}:{case.id}:{case.policy}" for cid, cases in CASES.items() for case in cases],
)
def test_case(findings: dict[tuple[str, str, str], Finding], control_id: str, case: Case) -> None:
    finding = findings.get((case.policy, control_id, resource_name(control_id, case)))
    assert finding is not None, f"no {control_id} finding for {resource_name(control_id, case)}"
    assert finding.status == case.expect, f"{finding.status}: {finding.message} [{finding.evidence}]"
    for text in case.says:
        assert text in finding.message, f"{text!r} not in {finding.message!r}"
    assert finding.evidence and finding.title
    if finding.status in ("fail", "warn"):
        assert finding.remediation.startswith("az ")
    if control_id == "AKS-FLT-01":
        # A fleet-level finding names the fleet: its ARM id, subscription and resource group.
        assert "/providers/Microsoft.ContainerService/fleets/" in finding.resource_id
        assert finding.resource_group == "rg-fleet" and finding.subscription_id
        assert finding.node_pool is None


def test_unknown_when_the_fleet_query_failed(tmp_path: Path) -> None:
    """A failed aksresources query hides the runs (FLT-01 unknown) and the memberships (FLT-02 unknown)."""
    fleet = FleetBuilder("lost")
    fleet.member("lost-prd", "prod")
    rows = [r for r in fleet.evidence() if r.kind == "fleet"]
    error = ErrorRow("fleet_resources", "1 subscriptions from x", 403, "AuthorizationFailed", "denied")
    scan_id = store_scan(tmp_path / "x.duckdb", [ring_cluster("lost-prd", "prod")], extra_evidence=rows, errors=[error])
    con = open_db(tmp_path / "x.duckdb")
    try:
        results = {
            f.control_id: f for f in evaluate(con, scan_id, default_policy()) if f.control_id.startswith("AKS-FLT")
        }
    finally:
        con.close()
    assert results["AKS-FLT-01"].status == "unknown", results["AKS-FLT-01"].message
    assert "could not be collected" in results["AKS-FLT-01"].message
    assert results["AKS-FLT-02"].status == "unknown", results["AKS-FLT-02"].message


def test_findings_are_the_same_every_run(tmp_path: Path) -> None:
    """Every list in a message has a total order: two evaluations give byte-identical findings."""
    fleets, clusters = build_fleets()
    scan_id = store_scan(tmp_path / "d.duckdb", clusters, extra_evidence=[r for f in fleets for r in f.evidence()])
    outputs = []
    for _ in range(2):
        con = open_db(tmp_path / "d.duckdb")
        try:
            found = evaluate(con, scan_id, default_policy())
            outputs.append(sorted((f.as_dict() for f in found), key=lambda f: (f["control_id"], f["resource_id"])))
        finally:
            con.close()
    assert outputs[0] == outputs[1]


def _rings_scan(db: Path, prod_start_hours: float) -> str:
    """A staging and a production member on 1.33.2, upgraded by one Fleet update run; production starts
    `prod_start_hours` after staging started (staging takes 40 minutes)."""
    f = FleetBuilder("rings")
    clusters = [ring_cluster("rng-stg", "staging"), ring_cluster("rng-prd", "prod")]
    f.member("rng-stg", "staging").member("rng-prd", "prod")
    t0 = days_ago(5)
    prod_start = t0 + timedelta(hours=prod_start_hours)
    f.run(
        "k8s-1-33-2",
        RINGS,
        [done("rng-stg", "staging", t0), done("rng-prd", "prod", prod_start)],
        gates=[approved("prod", prod_start - timedelta(minutes=5), by="alice@contoso.example", name="g-prod")],
        selected_images=["AKSUbuntu-2204gen2containerd-202611.10.0"],
    )
    return store_scan(db, clusters, extra_evidence=f.evidence())


@pytest.mark.parametrize(
    ("hours", "expect", "text"),
    [
        (6, "pass", "Kubernetes 1.33.2 ran on 'rng-stg' (staging) by"),
        (-3, "fail", "before any lower-ring cluster ran it"),
    ],
)
def test_rng01_judges_ring_order_from_update_runs(tmp_path: Path, hours: float, expect: str, text: str) -> None:
    """Where an update run covers a move, AKS-RNG-01 uses the run's times and says so."""
    scan_id = _rings_scan(tmp_path / "r.duckdb", hours)
    con = open_db(tmp_path / "r.duckdb")
    try:
        finding = next(
            f
            for f in evaluate(con, scan_id, default_policy())
            if f.control_id == "AKS-RNG-01" and f.cluster == "rng-prd"
        )
    finally:
        con.close()
    assert finding.status == expect, finding.message
    assert text in finding.message
    assert "[evidence: Fleet update run 'k8s-1-33-2']" in finding.message


def test_update_runs_and_approvals_feed_the_ledger(tmp_path: Path) -> None:
    """`auditor history` shows Fleet-run upgrades with their real times and who approved the production gate; the
    ledger keeps them, and AKS-ORD-01 sees them as campaign evidence."""
    from auditor.history import history_timeline, update_ledger

    db = tmp_path / "h.duckdb"
    scan_id = _rings_scan(db, 6)
    con = open_db(db)
    try:
        update_ledger(con)
        rows = con.execute(
            "SELECT cluster_id, source, phase, kind, to_version, event_time, window_start, window_end, note "
            "FROM upgrade_events WHERE source LIKE 'fleet%' ORDER BY cluster_id, window_end, phase"
        ).fetchall()
        ord_finding = next(
            f
            for f in evaluate(con, scan_id, default_policy())
            if f.control_id == "AKS-ORD-01" and f.cluster == "rng-prd"
        )
    finally:
        con.close()
    prod = [r for r in rows if r[0].endswith("/rng-prd")]
    phases = [(r[1], r[2]) for r in prod]
    assert ("fleet_gate", "approved") in phases and ("fleet_update_run", "reached") in phases
    reached = next(r for r in prod if r[2] == "reached" and r[3] == "kubernetes")
    assert any(r[2] == "reached" and r[4] == "AKSUbuntu-2204gen2containerd-202611.10.0" for r in prod)
    assert reached[4] == "1.33.2" and reached[5] is None  # a window: start to completion
    assert (reached[7] - reached[6]).total_seconds() == 40 * 60
    approval = next(r for r in prod if r[2] == "approved")
    assert "approved by alice@contoso.example" in approval[8] and "before stage 'prod'" in approval[8]
    # Staging's members were not behind the gate: no approval event for them.
    assert not any(r[2] == "approved" for r in rows if r[0].endswith("/rng-stg"))
    assert "fleet_update_run" in ord_finding.evidence
    _, events, _ = history_timeline(db, default_policy(), cluster="rng-prd")
    sources = {e["source"] for e in events}
    assert {"fleet_update_run", "fleet_gate"} <= sources
    assert all(e["campaign"] for e in events if e["source"].startswith("fleet"))


def test_a_member_set_up_as_fleet_manager_recommends_passes_the_channel_controls(tmp_path: Path) -> None:
    """Cluster auto-upgrade off (channel none, node OS None), covered by enabled Stable and NodeImage profiles:
    AKS-CHN-01, AKS-CHN-02 and AKS-FLT-02 pass and name the profiles; AKS-WIN-01 judges the window Fleet honours."""
    from tests.evidence import maintenance_window

    fleets, clusters = build_authority()
    windowless = ring_cluster("flt02-no-window", "prod", channel="none", node_os="None")
    fleets[0].member("flt02-no-window", "prod")
    maintenance = {
        "flt02-fleet-managed": [maintenance_window("aksManagedAutoUpgradeSchedule", duration=4)],
        "flt02-own-channel": [maintenance_window("aksManagedAutoUpgradeSchedule", duration=4)],
    }
    db = tmp_path / "rec.duckdb"
    evidence = [row for f in fleets for row in f.evidence()]
    scan_id = store_scan(db, [*clusters, windowless], extra_evidence=evidence, maintenance=maintenance)
    con = open_db(db)
    try:
        results = {(f.control_id, f.cluster): f for f in evaluate(con, scan_id, default_policy())}
    finally:
        con.close()
    managed = "flt02-fleet-managed"
    for control in ("AKS-CHN-01", "AKS-CHN-02", "AKS-WIN-01", "AKS-FLT-02"):
        finding = results[(control, managed)]
        assert finding.status == "pass", (control, finding.message)
    assert "Fleet Manager auto-upgrade profile flt02/stable (Stable)" in results[("AKS-CHN-01", managed)].message
    assert "flt02/node-image (NodeImage)" in results[("AKS-CHN-02", managed)].message
    assert "runs in aksManagedAutoUpgradeSchedule" in results[("AKS-WIN-01", managed)].message
    # Without a window, a run upgrades the member whenever it reaches it.
    no_window = results[("AKS-WIN-01", "flt02-no-window")]
    assert no_window.status == "fail" and "Fleet Manager auto-upgrade profile" in no_window.message
    # Its profile's strategy was not collected: Fleet coverage cannot be shown, so its own channel (none) decides.
    lost = results[("AKS-CHN-01", "flt02-lost")]
    assert lost.status == "fail", lost.message
    # A member with its own allowed channel passes AKS-CHN-01 (AKS-FLT-02 fails it for the second authority).
    assert results[("AKS-CHN-01", "flt02-own-channel")].status == "pass"


def _malformed(kind: str, edit: Any) -> Any:
    """An evidence mutation: `edit` applied to every payload of this kind (returns the new payload)."""

    def mutate(row_kind: str, payload: Any) -> Any:
        return edit(payload) if row_kind == kind else payload

    return mutate


def _set(path: str, value: Any) -> Any:
    def edit(payload: Any) -> Any:
        target = payload
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value
        return payload

    return edit


def _every_stage(key: str, value: Any) -> Any:
    def edit(payload: Any) -> Any:
        for stage in payload["properties"]["status"]["stages"]:
            stage[key] = value
        return payload

    return edit


@pytest.mark.parametrize(
    ("mutation", "flt01", "flt02"),
    [
        (_malformed("fleet_update_run", _set("properties.status.stages", "garbage")), "unknown", "pass"),
        (_malformed("fleet_update_run", _set("properties.strategy.stages", {"a": 1})), "unknown", "pass"),
        (_malformed("fleet_update_run", _every_stage("groups", "x")), "unknown", "pass"),
        (_malformed("fleet_update_run", _every_stage("beforeGates", 7)), "unknown", "pass"),
        (_malformed("fleet_update_run", lambda p: [p]), "unknown", "pass"),
        (_malformed("fleet_update_strategy", _set("properties.strategy.stages", 5)), "pass", "unknown"),
        (_malformed("fleet_member", _set("properties", "x")), "pass", "unknown"),
        (_malformed("fleet_gates", lambda p: {"value": "nope"}), "pass", "pass"),
        (
            _malformed(
                "fleet_auto_upgrade_profile",
                _set("properties.autoUpgradeProfileStatus", {"lastTriggerUpgradeVersions": {}}),
            ),
            "pass",
            "pass",
        ),  # noqa: E501
        (_malformed("fleet", _set("tags", "x")), "pass", "pass"),
    ],
)
def test_malformed_fleet_evidence_is_unknown_never_a_crash(
    tmp_path: Path, mutation: Any, flt01: str, flt02: str
) -> None:
    """Payload shapes Azure should never send (hostile input): every control still evaluates, a run or a strategy
    that cannot be read is unknown (never a pass), and the report renders."""
    import copy

    from auditor.store import EvidenceRow
    from tests.library import write_reports

    fleet = FleetBuilder("hostile")
    clusters = [ring_cluster(name, env) for name, env in (("h-dev", "dev"), ("h-stg", "staging"), ("h-prd", "prod"))]
    for name, env in (("h-dev", "dev"), ("h-stg", "staging"), ("h-prd", "prod")):
        fleet.member(name, env)
    strategy = fleet.strategy("rings", RINGS)
    fleet.profile("auto", "Stable", strategy_id=strategy)
    t0 = days_ago(10)
    fleet.run(
        "r1",
        RINGS,
        [done("h-dev", "dev", t0), done("h-stg", "staging", t0), done("h-prd", "prod", t0 + timedelta(hours=6))],
        gates=[approved("prod", t0 + timedelta(hours=5, minutes=50))],
    )
    evidence = [
        EvidenceRow(row.kind, row.scope, row.request, mutation(row.kind, copy.deepcopy(row.payload)))
        for row in fleet.evidence()
    ]
    db = tmp_path / "hostile.duckdb"
    scan_id = store_scan(db, clusters, extra_evidence=evidence)
    con = open_db(db)
    try:
        results = {(f.control_id, f.cluster): f for f in evaluate(con, scan_id, default_policy())}
    finally:
        con.close()
    assert all(f.message for f in results.values())
    assert results[("AKS-FLT-01", "hostile")].status == flt01, results[("AKS-FLT-01", "hostile")].message
    assert results[("AKS-FLT-02", "h-prd")].status == flt02, results[("AKS-FLT-02", "h-prd")].message
    assert write_reports(db, scan_id, None, ["html"], tmp_path / "out")
