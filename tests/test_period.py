"""The period layer (auditor/period.py, queries/period/) over a fleet whose adoption dates are known: every
figure below is worked out by hand from the scans' dates, then checked against what the SQL computes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.controls import control_ids
from auditor.errors import AuditorError
from auditor.period import Period, build_period
from auditor.policy import load_policy
from auditor.store import open_db
from tests.evidence import cluster, pool, store_scan, versions

FAMILY = "AKSUbuntu-2204gen2containerd"
DEC20, JAN10, FEB20, MAR25 = (f"{FAMILY}-{v}" for v in ("202512.20.0", "202601.10.0", "202602.20.0", "202603.25.0"))
NOV01 = f"{FAMILY}-202511.01.0"
# Five scans at 06:00 UTC: 14, 14, 28 and 35 days apart.
S = [datetime(2026, 1, 5, 6, tzinfo=UTC), datetime(2026, 1, 19, 6, tzinfo=UTC), datetime(2026, 2, 2, 6, tzinfo=UTC),
     datetime(2026, 3, 2, 6, tzinfo=UTC), datetime(2026, 4, 6, 6, tzinfo=UTC)]  # fmt: skip
# The newest node image of eastus and FAMILY, and the newest 1.33 patch, in each scan.
LATEST = [DEC20, JAN10, JAN10, FEB20, MAR25]
NEWEST_133 = ["1.33.2", "1.33.3", "1.33.3", "1.33.4", "1.33.4"]
# What each cluster runs in each scan: (Kubernetes version, node image), None when the cluster is gone.
RUNS: dict[str, list[tuple[str, str] | None]] = {
    # prod-a: adopts JAN10 two weeks after it appeared (S1 -> S2: 14 days), FEB20 at S4 (S3 -> S4: 35 days, late);
    # Kubernetes 1.33.3 at S2 (14 days), and 1.33.4 by moving to 1.34 at S4 (35 days, late).
    "prod-a": [("1.33.2", DEC20), ("1.33.2", DEC20), ("1.33.3", JAN10), ("1.33.3", JAN10), ("1.34.1", MAR25)],
    # prod-b: takes FEB20 at S4, so JAN10 waited S1 -> S4 (77 days) and FEB20 S3 -> S4 (35); MAR25 is open (0).
    # Never patches Kubernetes: 1.33.3 open since S1 (77 days, overdue), 1.33.4 since S3 (35, overdue).
    "prod-b": [("1.33.2", DEC20), ("1.33.2", DEC20), ("1.33.2", DEC20), ("1.33.2", DEC20), ("1.33.2", FEB20)],
    # dev-c: behind in the first scan (DEC20 pending since S0, before the period), adopts it and JAN10 at S1
    # (14 days, dated from the scope's first scan); then FEB20 open since S3 (35 days at S4: overdue) and MAR25
    # open (0). Kubernetes 1.33.2 pending since S0, taken at S1 (14 days); 1.33.4 S3 -> S4 (35, late).
    "dev-c": [("1.33.1", NOV01), ("1.33.3", JAN10), ("1.33.3", JAN10), ("1.33.3", JAN10), ("1.33.4", JAN10)],
    # prod-d: JAN10 pending from S1, deleted before S3: gone, not judged (14 days seen).
    "prod-d": [("1.34.1", DEC20), ("1.34.1", DEC20), ("1.34.1", DEC20), None, None],
}
ENVIRONMENT = {"prod-a": "prod", "prod-b": "prod", "dev-c": "dev", "prod-d": "prod"}
PERIOD = ("2026-01-15", "2026-04-30")  # S1..S4; S0 is history


def _fleet(db: Path) -> list[str]:
    ids = []
    for number, started in enumerate(S):
        clusters = []
        for name, runs in RUNS.items():
            state = runs[number]
            if state is None:
                continue
            version, image = state
            clusters.append(
                cluster(
                    name,
                    version=version,
                    tags={"Environment": ENVIRONMENT[name]},
                    pools=[pool("sys", version=version, image=image)],
                )
            )
        region = versions(
            {"1.33": ["KubernetesOfficial"], "1.34": ["KubernetesOfficial"]},
            {"1.33": ["1.33.1", *sorted({NEWEST_133[i] for i in range(number + 1)})], "1.34": ["1.34.1"]},
        )
        ids.append(
            store_scan(
                db,
                clusters,
                region_versions={"eastus": region},
                latest_images={("eastus", FAMILY): LATEST[number]},
                started_at=started,
            )
        )
    return ids


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("period") / "a.duckdb"
    return {"db": db, "ids": _fleet(db)}


def _period(db: Path, policy: Path | None = None, start: str = PERIOD[0], end: str = PERIOD[1]) -> Period:
    con = open_db(db)
    try:
        return build_period(
            con,
            load_policy(policy, known_controls=control_ids()),
            start=date.fromisoformat(start),
            end=date.fromisoformat(end),
        )
    finally:
        con.close()


def _updates(period: Period, kind: str) -> dict[tuple[str, str], tuple[str, float, str]]:
    return {
        (u["cluster"], u["release"]): (u["outcome"], u["days"], u["verdict"]) for u in period.latency[kind]["updates"]
    }


def test_node_image_latency_matches_the_adoption_dates(store: dict[str, Any]) -> None:
    period = _period(store["db"])
    assert [s.scan_id for s in period.scans] == store["ids"][1:] and period.history_scans == 1
    assert _updates(period, "node_image") == {
        ("prod-a", JAN10): ("adopted", 14.0, "on_time"),
        ("prod-a", FEB20): ("adopted", 35.0, "late"),
        ("prod-b", JAN10): ("adopted", 77.0, "late"),
        ("prod-b", FEB20): ("adopted", 35.0, "late"),
        ("prod-b", MAR25): ("open", 0.0, "pending"),
        ("dev-c", DEC20): ("adopted", 14.0, "on_time"),
        ("dev-c", FEB20): ("open", 35.0, "overdue"),
        ("dev-c", MAR25): ("open", 0.0, "pending"),
        ("prod-d", JAN10): ("gone", 14.0, "not_judged"),
    }
    first_scan = {u["release"] for u in period.latency["node_image"]["updates"] if u["since_first_scan"]}
    assert first_scan == {DEC20}  # pending since the scope's first scan: a lower bound
    groups = {(g["environment"], g["grp"]): g for g in period.latency["node_image"]["groups"]}
    prod = groups[("prod", FAMILY)]
    # Adopted in prod: 14, 35, 77, 35 -> sorted 14, 35, 35, 77: p50 35; p90 at 0.9 * 3 = 2.7: 35 + 0.7 * 42 = 64.4.
    assert (prod["updates"], prod["adopted"], prod["on_time"], prod["late"], prod["pending"], prod["not_judged"]) == (
        6, 4, 1, 3, 1, 1,
    )  # fmt: skip
    assert (prod["p50_days"], prod["p90_days"], prod["max_days"], prod["oldest_open_days"]) == (35.0, 64.4, 77.0, 0.0)
    # By the next scan: prod-a's two adoptions and prod-b's FEB20 (its JAN10 took three scans).
    assert prod["by_next_scan"] == 3
    dev = groups[("dev", FAMILY)]
    assert (dev["adopted"], dev["on_time"], dev["overdue"], dev["pending"], dev["p50_days"], dev["p90_days"]) == (
        1, 1, 1, 1, 14.0, 14.0,
    )  # fmt: skip
    total = period.latency["node_image"]["total"]
    assert (total["updates"], total["adopted"], total["on_time"], total["late"], total["overdue"]) == (9, 5, 2, 3, 1)
    assert [e["environment"] for e in period.latency["node_image"]["environments"]] == ["dev", "prod"]


def test_kubernetes_patch_latency_matches_the_adoption_dates(store: dict[str, Any]) -> None:
    period = _period(store["db"])
    assert _updates(period, "kubernetes_patch") == {
        ("prod-a", "1.33.3"): ("adopted", 14.0, "on_time"),
        ("prod-a", "1.33.4"): ("adopted", 35.0, "late"),  # by the upgrade to 1.34
        ("prod-b", "1.33.3"): ("open", 77.0, "overdue"),
        ("prod-b", "1.33.4"): ("open", 35.0, "overdue"),
        ("dev-c", "1.33.2"): ("adopted", 14.0, "on_time"),
        ("dev-c", "1.33.4"): ("adopted", 35.0, "late"),
    }
    closed = {(u["cluster"], u["release"]): u["closed_with"] for u in period.latency["kubernetes_patch"]["updates"]}
    assert closed[("prod-a", "1.33.4")] == "1.34.1" and closed[("prod-b", "1.33.3")] is None
    groups = {(g["environment"], g["grp"]): g for g in period.latency["kubernetes_patch"]["groups"]}
    prod = groups[("prod", "1.33")]
    # Adopted 14 and 35: p50 24.5, p90 14 + 0.9 * 21 = 32.9; two open past the deadline, the oldest 77 days.
    assert (prod["p50_days"], prod["p90_days"], prod["overdue"], prod["oldest_open_days"]) == (24.5, 32.9, 2, 77.0)


def test_a_scope_of_the_policy_sets_its_own_deadline(store: dict[str, Any], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "[thresholds]\npatch_deadline_days = 14\n"
        "[[scopes]]\nname = 'dev'\n[scopes.match]\ntags = { environment = 'dev' }\n"
        "[scopes.thresholds]\npatch_deadline_days = 40\n",
        encoding="utf-8",
    )
    period = _period(store["db"], policy)
    image = _updates(period, "node_image")
    # prod: 14 days is still within 14; dev: 35 days open is within 40.
    assert image[("prod-a", JAN10)][2] == "on_time" and image[("prod-a", FEB20)][2] == "late"
    assert image[("dev-c", FEB20)] == ("open", 35.0, "pending")
    deadlines = {u["cluster"]: u["deadline_days"] for u in period.latency["node_image"]["updates"]}
    assert deadlines == {"prod-a": 14, "prod-b": 14, "dev-c": 40, "prod-d": 14}
    assert period.deadline_days == 14


def test_compliance_shares_and_longest_out_of_compliance(store: dict[str, Any]) -> None:
    period = _period(store["db"])
    img02 = next(c for c in period.compliance if c["control_id"] == "AKS-IMG-02")
    shares = {r["cluster"]: (r["complied"], r["observed"]) for r in img02["resource_shares"]}
    # Newest image of the region: prod-a S1 no, S2 yes, S3 no, S4 yes; prod-b never in S1..S4; dev-c S1, S2 yes;
    # prod-d S1, S2 no.
    assert shares == {"prod-a": (2, 4), "prod-b": (0, 4), "dev-c": (2, 4), "prod-d": (0, 2)}
    assert (img02["resources"], img02["always_complied"], img02["never_complied"]) == (4, 0, 2)
    assert img02["share"] == round(4 / 14, 4)
    longest = [(r["cluster"], r["days"], r["scans"], r["state"]) for r in img02["longest"]]
    assert longest == [
        ("prod-b", 77.0, 4, "failing"),  # S1 -> S4, still failing
        ("dev-c", 35.0, 2, "failing"),  # S3 -> S4 (its S0 run ended before the period)
        ("prod-a", 35.0, 1, "remediated"),  # S3 -> S4
        ("prod-d", 14.0, 2, "gone"),  # S1, S2, then deleted
        ("prod-a", 14.0, 1, "remediated"),  # S1 -> S2
    ]
    assert period.scores["AKS-IMG-02"] == [25.0, 50.0, 0.0, 33.3]


def test_population_per_scan(store: dict[str, Any]) -> None:
    period = _period(store["db"])
    assert [(p["clusters"], p["pools"], p["subscriptions_listed"], p["status"]) for p in period.population] == [
        (4, 4, 1, "complete"),
        (4, 4, 1, "complete"),
        (3, 3, 1, "complete"),
        (3, 3, 1, "complete"),
    ]
    # These scans were stored without a population reconciliation: "not recorded", never a zero.
    recorded = {(p["coverage_recorded"], p["subscriptions_in_scope"], p["missing_clusters"]) for p in period.population}
    assert recorded == {(False, None, None)}
    assert any("before the population reconciliation was recorded" in n for n in period.notes)


def test_population_reads_each_scans_reconciliation(store: dict[str, Any], tmp_path: Path) -> None:
    """Where a scan recorded scan_coverage (schema version 4), the period's population comes from it: subscriptions
    in scope, proven complete, not covered, and the clusters the ARM lists counted and Resource Graph missed."""
    import shutil

    db = tmp_path / "coverage.duckdb"
    shutil.copy(store["db"], db)
    con = open_db(db)
    try:
        rows = [  # S2: one subscription proven, one forbidden (its clusters uncountable), one missing 2 clusters
            (store["ids"][2], "sub-a", "listing", True, "allowed", 3, 3, 0, "complete"),
            (store["ids"][2], "sub-b", "listing", True, "denied", 0, None, None, "forbidden"),
            (store["ids"][2], "sub-c", "listing", True, "allowed", 1, 3, 2, "unreconciled"),
            (store["ids"][3], "sub-a", "listing", True, "allowed", 3, 3, 0, "complete"),
        ]
        con.executemany(
            "INSERT INTO scan_coverage (scan_id, subscription_id, display_name, in_scope_by, listed, cluster_read, "
            "graph_clusters, arm_clusters, missing_clusters, status, note) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, '')",
            rows,
        )
    finally:
        con.close()
    period = _period(db)
    columns = ("coverage_recorded", "subscriptions_in_scope", "subscriptions_complete", "subscriptions_not_covered",
               "arm_clusters", "missing_clusters")  # fmt: skip
    assert [tuple(p[c] for c in columns) for p in period.population] == [
        (False, None, None, None, None, None),
        (True, 3, 1, 2, 6, 2),
        (True, 1, 1, 0, 3, 0),
        (False, None, None, None, None, None),
    ]
    assert any(f"did not prove their population complete ({store['ids'][2]})" in n for n in period.notes)
    from auditor.report.period import write_period_reports

    (tmp_path / "out").mkdir()
    write_period_reports(period, ["html"], tmp_path / "out")
    html = " ".join((tmp_path / "out" / "period-report.html").read_text(encoding="utf-8").split())
    assert "In scope (proven)" in html and "3 (1)" in html and "not recorded" in html


def _with_another_scope(db: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the store with one later scan of another scope (named subscriptions); the original scope's id."""
    import shutil

    from auditor.store import list_scans, scan_scopes

    copy = tmp_path / "scopes.duckdb"
    shutil.copy(db, copy)
    other = store_scan(copy, [cluster("prod-a")], started_at=datetime(2026, 4, 20, 6, tzinfo=UTC))
    con = open_db(copy)
    try:
        con.execute("UPDATE scans SET scope = ? WHERE scan_id = ?", ['{"requested_subscriptions": ["sub-x"]}', other])
        scans = list_scans(con)
        return copy, scan_scopes(con, scans)[scans[0].scan_id].scope_id
    finally:
        con.close()


def test_report_scope_selects_the_scans_of_one_scope(store: dict[str, Any], tmp_path: Path) -> None:
    """The period takes trend's scope notion (ScanScope): by default the newest scan's up to --to, or --scope."""
    db, original = _with_another_scope(store["db"], tmp_path)
    runner = CliRunner()

    def period_json(*extra: str) -> dict[str, Any]:
        out = tmp_path / "-".join(extra or ("default",))
        result = runner.invoke(
            cli, ["report", "--db", str(db), "--from", PERIOD[0], "--to", PERIOD[1], "--format", "json", "--out",
                  str(out), "-q", *extra],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return dict(json.loads((out / "period.json").read_text(encoding="utf-8")))

    newest = period_json()
    assert newest["scans"] == 1 and newest["scope"]["kind"] == "subscriptions"
    assert [o["id"] for o in newest["other_scopes"]] == [original]
    assert any(f"id {original}" in n and "--scope" in n for n in newest["notes"])
    chosen = period_json("--scope", original[:6])
    assert chosen["scans"] == 4 and chosen["scope"]["id"] == original
    # The same scope through trend (its "period" member) gives the same figures.
    trend = runner.invoke(
        cli, ["trend", "--db", str(db), "--from", PERIOD[0], "--to", PERIOD[1], "--scope", original, "--format",
              "json", "-q"],
    )  # fmt: skip
    assert trend.exit_code == 0, trend.output
    assert json.loads(trend.stdout)["period"] == chosen
    unknown = runner.invoke(cli, ["report", "--db", str(db), "--from", PERIOD[0], "--scope", "ffffffffff"])
    assert unknown.exit_code == 2 and "matches no scope" in unknown.output and original in unknown.output
    alone = runner.invoke(cli, ["report", "--db", str(db), "--scope", original, "--out", str(tmp_path / "x")])
    assert alone.exit_code == 2 and "--from" in alone.output


def test_verify_pdf_reperforms_over_the_reports_scope(store: dict[str, Any], tmp_path: Path) -> None:
    """A period report of a scope that is not the newest scan's verifies: the figures are computed again over the
    scope period.json names, not over the default."""
    db, original = _with_another_scope(store["db"], tmp_path)
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["report", "--db", str(db), "--from", PERIOD[0], "--to", PERIOD[1], "--scope", original, "--format",
              "pdf", "--out", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    checked = runner.invoke(cli, ["verify", "--db", str(db), "--pdf", str(out / "period-report.pdf")])
    assert checked.exit_code == 0, checked.output
    assert "period figures" in checked.output and "MISMATCH" not in checked.output
    # A store without that scope has nothing to re-perform from: a mismatch, not a usage error.
    elsewhere = tmp_path / "elsewhere.duckdb"
    store_scan(elsewhere, [cluster("prod-a")], started_at=S[2])
    con = open_db(elsewhere)
    try:
        con.execute("UPDATE scans SET scope = ?", ['{"requested_subscriptions": ["sub-y"]}'])
    finally:
        con.close()
    missing = runner.invoke(cli, ["verify", "--db", str(elsewhere), "--pdf", str(out / "period-report.pdf")])
    assert missing.exit_code == 1 and "none in the store" in missing.output


def test_waivers_active_in_the_period(store: dict[str, Any], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "[[waivers]]\ncontrol = 'AKS-IMG-02'\nresource = '*/managedClusters/prod-b'\nreason = 'Vendor freeze'\n"
        "approver = 'CISO'\nexpires = 2026-02-15\n"
        "[[waivers]]\ncontrol = 'AKS-VER-03'\nresource = '*/managedClusters/old'\nreason = 'Gone'\n"
        "approver = 'CISO'\nexpires = 2025-12-31\n",
        encoding="utf-8",
    )
    period = _period(store["db"], policy)
    # The second waiver expired before the period: not listed. The first covered prod-b in S1 and S2, then
    # prod-b failed again in S3 and S4.
    assert [(e["control"], e["waived_verdicts"], e["failing_after_expiry"], e["state"]) for e in period.exceptions] == [
        ("AKS-IMG-02", 2, 2, "expired during the period")
    ]
    assert period.exceptions[0]["waived_resources"] == ["prod-b/sys"]
    img02 = next(c for c in period.compliance if c["control_id"] == "AKS-IMG-02")
    assert {r["cluster"]: r["complied"] for r in img02["resource_shares"]}["prod-b"] == 2  # waived counts


def test_the_figures_are_the_same_every_time(store: dict[str, Any]) -> None:
    first, second = _period(store["db"]), _period(store["db"])
    assert first.canonical_json() == second.canonical_json()


def test_bounds_and_errors(store: dict[str, Any]) -> None:
    whole = _period(store["db"], start="2026-01-01", end="2026-12-31")
    assert len(whole.scans) == 5 and whole.history_scans == 0
    with pytest.raises(AuditorError, match="no scan of .* between 2027-01-01 and 2027-02-01"):
        _period(store["db"], start="2027-01-01", end="2027-02-01")
    with pytest.raises(AuditorError, match="starts .* after it ends"):
        _period(store["db"], start="2026-03-01", end="2026-02-01")


def test_trend_json_carries_the_same_figures(store: dict[str, Any], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    report = runner.invoke(
        cli,
        ["report", "--db", str(store["db"]), "--from", PERIOD[0], "--to", PERIOD[1], "--format", "json", "--out",
         str(out)],
    )  # fmt: skip
    assert report.exit_code == 0, report.output
    figures = json.loads((out / "period.json").read_text(encoding="utf-8"))
    trend = runner.invoke(
        cli, ["trend", "--db", str(store["db"]), "--from", PERIOD[0], "--to", PERIOD[1], "--format", "json", "-q"]
    )
    assert trend.exit_code == 0, trend.output
    payload = json.loads(trend.stdout)
    assert payload["period"] == figures
    assert [s["scan_id"] for s in payload["scans"]] == store["ids"][1:]
    assert figures["patch_latency"]["node_image"]["total"]["late"] == 3


def test_report_period_usage_errors(store: dict[str, Any], tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(cli, ["report", "--db", str(store["db"]), "--from", "2026-01-01", "--scan", "latest"])
    assert both.exit_code == 2 and "--scan" in both.output
    bad = runner.invoke(cli, ["report", "--db", str(store["db"]), "--from", "2026-13-01"])
    assert bad.exit_code == 2
    backwards = runner.invoke(
        cli, ["report", "--db", str(store["db"]), "--from", "2026-03-01", "--to", "2026-02-01", "--out", str(tmp_path)]
    )
    assert backwards.exit_code == 2 and "after" in backwards.output


@pytest.fixture(scope="module")
def period_pdf(store: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("period-pdf")
    policy = out / "policy.toml"
    policy.write_text(
        "organisation = 'Fabrikam'\n[[waivers]]\ncontrol = 'AKS-IMG-02'\nresource = '*/managedClusters/prod-b'\n"
        "reason = 'Vendor freeze'\napprover = 'CISO'\nexpires = 2026-02-15\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli,
        ["report", "--db", str(store["db"]), "--from", PERIOD[0], "--to", PERIOD[1], "--policy", str(policy),
         "--format", "pdf,html,csv", "--out", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {"out": out, "paths": result.stdout.split(), "policy": policy}


def test_period_pdf_reads_back(period_pdf: dict[str, Any]) -> None:
    from pypdf import PdfReader

    from auditor.integrity import check_seal
    from auditor.report.package import read_package

    out = period_pdf["out"]
    assert [Path(p).name for p in period_pdf["paths"]] == [
        "period-report.pdf",
        "period-report.html",
        "period.json",
        "patch-latency.csv",
    ]
    data = (out / "period-report.pdf").read_bytes()
    assert check_seal(data).intact
    package = read_package(data)
    assert package.pdfa == "PDF/A-3b"
    assert package.attachments["period.json"].data == (out / "period.json").read_bytes()
    assert package.attachments["period.json"].relationship == "Data"
    assert package.attachments["policy.toml"].data == period_pdf["policy"].read_bytes()
    reader = PdfReader(out / "period-report.pdf")
    titles = [str(item.title) for item in reader.outline if not isinstance(item, list)]
    assert titles == [
        "Summary",
        "Patch latency",
        "Compliance over the period",
        "Out of compliance longest",
        "Exceptions active in the period",
        "Population per scan",
        "Appendix A: method",
        "Appendix B: integrity",
    ]
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "2026-01-15 to 2026-04-30" in text and "Fabrikam" in text
    # Node images in prod: 6 updates, 1 on time, 3 late, 0 overdue, 1 pending, 1 not judged, p50 35, p90 64.
    assert f"prod {FAMILY} 6 1 3 0 1 1 35 64 0" in text
    assert "prod-b/sys Vendor freeze CISO 2026-02-15 expired during the period 2 2" in text
    figures = json.loads((out / "period.json").read_text(encoding="utf-8"))
    assert figures["exceptions"][0]["waived_verdicts"] == 2
    rows = (out / "patch-latency.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("kind,environment,grp,release") and len(rows) == 1 + 9 + 6


def test_verify_pdf_reperforms_a_period_report(
    store: dict[str, Any], period_pdf: dict[str, Any], tmp_path: Path
) -> None:
    runner = CliRunner()
    pdf = period_pdf["out"] / "period-report.pdf"
    ok = runner.invoke(cli, ["verify", "--db", str(store["db"]), "--pdf", str(pdf)])
    assert ok.exit_code == 0, ok.output
    assert "period figures" in ok.output and "MISMATCH" not in ok.output
    changed = bytearray(pdf.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    broken = tmp_path / "changed.pdf"
    broken.write_bytes(bytes(changed))
    assert runner.invoke(cli, ["verify", "--db", str(store["db"]), "--pdf", str(broken)]).exit_code == 1


def test_a_signed_period_report_verifies(store: dict[str, Any], tmp_path: Path) -> None:
    from tests.signing_keys import make_keys

    keys = make_keys(tmp_path / "keys", password=None)
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["report", "--db", str(store["db"]), "--from", PERIOD[0], "--to", PERIOD[1], "--format", "pdf",
         "--out", str(out), "--sign-key", str(keys.p12), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    checked = runner.invoke(
        cli, ["verify", "--db", str(store["db"]), "--pdf", str(out / "period-report.pdf"), "--trust-cert", str(keys.ca)]
    )
    assert checked.exit_code == 0, checked.output
    assert "signed by Fabrikam Audit Signer" in checked.output and "period figures" in checked.output


def test_the_period_report_lists_every_query_file_its_figures_read() -> None:
    from auditor.report.period import _query_files

    names = {entry["name"] for entry in _query_files()}
    # Its own queries and the payload shape its inventory reads: a change to either changes the figures.
    assert {"period/10_inventory.sql", "shape/clusters.sql", "shape/pools.sql"} <= names
