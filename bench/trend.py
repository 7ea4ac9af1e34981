"""Trend benchmark: the trend over 24 monthly scans, warm and cold, as ratios measured side by side in one run.

The scans are an evolving fleet (auditor.emulator.evolve), written straight into the store as the collector
would have recorded them (same evidence kinds, scopes and payloads), without the HTTP round trips: what is
measured here is the trend, not the collector (bench/scan.py measures that). The database is kept in
output/bench/trend-<clusters>x<scans>.duckdb and reused; --rebuild makes it again.

Every measurement runs in a child process of its own (its peak RSS read with os.wait4, its time measured inside
it, imports excluded) and prints:

- warm: `build_trend(details=False)` over the cached findings / the floor, reading those cached findings once
  (scan, key, control, status of every finding of the 24 scans into a temp table): target <= 2.0, and the peak
  RSS of the warm run: target < 1 GB. `details=True` streamed to /dev/null is shown beside it;
- cold: `build_trend` with an empty cache (it evaluates and caches every scan) / 24 `evaluate()` of the same
  scans, summed: target <= 1.5;
- the CLI's wall time (`auditor trend --format json`, interpreter start and imports included), as information.

Run: `.venv/bin/python bench/trend.py [--clusters 10000] [--scans 24] [--rebuild]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.emulator.evolve import iter_evolution, month_steps  # noqa: E402
from auditor.emulator.generator import generate_fleet  # noqa: E402
from auditor.ledger import update_ledger  # noqa: E402
from auditor.store import EvidenceRow, ScanRecord, open_db, write_scan  # noqa: E402

WARMUP_MONTHS = 3
GRAPH = "POST /providers/Microsoft.ResourceGraph/resources"


def evidence_of(fleet: dict[str, Any]) -> list[EvidenceRow]:
    """What a complete scan of this fleet records, kind by kind, as the collectors record it."""
    rows = [
        EvidenceRow("subscription", s["subscriptionId"].lower(), "GET /subscriptions", s)
        for s in fleet["subscriptions"]
    ]
    families: set[tuple[str, str]] = set()
    for cluster in fleet["managedClusters"]:
        cid = cluster["id"]
        row = {
            key: cluster.get(key) for key in ("id", "name", "location", "subscriptionId", "tags", "sku", "properties")
        }
        row["type"] = cluster["type"].lower()
        row["resourceGroup"] = cid.split("/")[4].lower()
        row["subscriptionId"] = cid.split("/")[2]
        rows.append(EvidenceRow("cluster", cid, GRAPH, row))
        for pool in cluster["properties"].get("agentPoolProfiles", []):
            image = str(pool.get("nodeImageVersion") or "")
            if image:
                families.add((cluster["location"], image.rpartition("-")[0]))
    for location, body in fleet["kubernetesVersions"].items():
        rows.append(EvidenceRow("kubernetes_versions", location, "GET kubernetesVersions", body))
    maintenance = fleet.get("maintenanceConfigurations", {})
    for cluster in fleet["managedClusters"]:
        rows.append(
            EvidenceRow(
                "maintenance_configurations",
                cluster["id"],
                "GET maintenanceConfigurations",
                {"value": maintenance.get(cluster["id"].lower(), [])},
            )
        )
    for location, family in sorted(families):
        latest = fleet["latestNodeImages"].get(location, {}).get(family)
        if latest:
            rows.append(
                EvidenceRow(
                    "pool_upgrade_profile",
                    f"{location}|{family}",
                    "GET upgradeProfiles/default",
                    {"properties": {"latestNodeImageVersion": latest}},
                )
            )
    for change in fleet.get("resourceChanges", []):
        row = {key: change.get(key) for key in ("id", "subscriptionId", "resourceGroup", "properties")}
        rows.append(EvidenceRow("resource_change", change["id"], GRAPH, row))
    for event in fleet.get("scheduledEvents", []):
        row = {key: event.get(key) for key in ("id", "name", "type", "subscriptionId", "resourceGroup", "properties")}
        rows.append(EvidenceRow("scheduled_event", event["id"], GRAPH, row))
    return rows


def scope_of(fleet: dict[str, Any]) -> dict[str, Any]:
    """The scope a tenant-wide scan of this fleet records (auditor/collect/scan.py): its tenants and subscriptions."""
    return {
        "kind": "tenant",
        "tenants": sorted({str(s["tenantId"]).lower() for s in fleet["subscriptions"] if s.get("tenantId")}),
        "subscriptions": sorted(str(s["subscriptionId"]).lower() for s in fleet["subscriptions"]),
        "management_groups": [],
        "requested_subscriptions": [],
    }


def build(db: Path, clusters: int, scans: int, subscriptions: int, regions: int) -> None:
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    start = month_steps(today, scans + WARMUP_MONTHS, end=today)[0]
    began = time.perf_counter()
    base = generate_fleet(clusters, subscriptions, seed=11, regions=regions, as_of=start)
    print(f"generated {clusters:,} clusters in {time.perf_counter() - began:.1f} s", flush=True)
    con = open_db(db, create=True)
    try:
        for number, (moment, fleet) in enumerate(iter_evolution(base, scans + WARMUP_MONTHS, seed=11, end=today)):
            if number < WARMUP_MONTHS:
                continue
            began = time.perf_counter()
            evidence = evidence_of(fleet)
            scan_at = moment + timedelta(hours=6)
            record = ScanRecord(
                scan_id=scan_at.strftime("%Y%m%dT%H%M%SZ") + f"-b{number:03d}",
                started_at=scan_at,
                finished_at=scan_at + timedelta(minutes=5),
                tool_version="bench",
                cloud="AzureCloud",
                endpoint="bench://evolved-fleet",
                scope=scope_of(fleet),
                stats={"calls": {}},
                evidence=evidence,
            )
            write_scan(con, record)
            update_ledger(con)  # as scan_and_store does after each committed scan
            print(
                f"scan {number - WARMUP_MONTHS + 1}/{scans} {moment:%Y-%m-%d}: "
                f"{len(fleet['managedClusters']):,} clusters, {len(evidence):,} evidence rows, "
                f"{time.perf_counter() - began:.1f} s",
                flush=True,
            )
    finally:
        con.close()


# The floor: the cached findings the trend summarises, read once (every row of the 24 scans, the columns the
# trend reads), into a temp table so that nothing is streamed to Python.
FLOOR = (
    "CREATE OR REPLACE TEMP TABLE floor AS SELECT scan_id, key_id, control_id, status FROM findings "
    "WHERE evaluator = $evaluator AND scan_id IN (SELECT unnest($scan_ids))"
)


def _child(mode: str, db: Path) -> dict[str, Any]:
    """One measurement, in this (child) process: seconds of the work itself, imports and opening excluded."""
    from auditor.controls import control_ids, evaluate
    from auditor.findings_cache import evaluator_key
    from auditor.model import Model
    from auditor.policy import load_policy
    from auditor.store import list_scans
    from auditor.trend import build_trend

    policy = load_policy(None, known_controls=control_ids())
    con = open_db(db, read_only=mode not in ("cold",))
    try:
        scans = list_scans(con)
        began = time.perf_counter()
        if mode == "floor":
            con.execute(FLOOR, {"evaluator": evaluator_key(policy), "scan_ids": [s.scan_id for s in scans]})
            rows = con.execute("SELECT count(*) FROM floor").fetchall()[0][0]
            return {"seconds": time.perf_counter() - began, "rows": rows}
        if mode in ("warm", "cold"):
            trend = build_trend(con, policy, details=False)
            return {"seconds": time.perf_counter() - began, "scans": len(trend.entries)}
        if mode == "details":
            trend = build_trend(con, policy, details=True)
            with open(os.devnull, "w", encoding="utf-8") as sink:
                trend.write_json(sink)
            return {"seconds": time.perf_counter() - began, "scans": len(trend.entries)}
        if mode == "evaluations":
            total = 0.0
            for scan in scans:
                began = time.perf_counter()
                # As the cache does: each scan's model on a cursor of its own, every control, findings in DuckDB.
                with Model(con, scan.scan_id, policy) as model:
                    evaluate(model)
                total += time.perf_counter() - began
            return {"seconds": total, "scans": len(scans)}
        raise SystemExit(f"unknown mode {mode}")
    finally:
        con.close()


def measured(mode: str, db: Path) -> dict[str, Any]:
    """Run one measurement in a child process; its result with the child's own peak RSS (MB)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, "--db", str(db)], stdout=subprocess.PIPE, cwd=ROOT
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{mode}: the child failed (exit {child.returncode})")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def best_of(mode: str, db: Path, runs: int) -> dict[str, Any]:
    results = [measured(mode, db) for _ in range(runs)]
    best = min(results, key=lambda r: float(r["seconds"]))
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
    return best


def clear_cache(db: Path) -> None:
    con = open_db(db)
    try:
        con.execute("DELETE FROM findings")  # start cold: every scan evaluated once
        con.execute("DELETE FROM evaluations")
        con.execute("DELETE FROM finding_keys")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=24)
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="warm runs and floor runs (best of)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    db = ROOT / "output" / "bench" / f"trend-{args.clusters}x{args.scans}.duckdb"
    if args.child == "build":
        began = time.perf_counter()
        build(db, args.clusters, args.scans, args.subscriptions, args.regions)
        print(f"built {db} in {time.perf_counter() - began:.0f} s ({db.stat().st_size / 1e6:.0f} MB)")
        return
    if args.child:
        print(json.dumps(_child(args.child, Path(args.db))))
        return
    if args.rebuild or not db.exists():
        # In a child: the generated fleet's memory never becomes part of this process, whose children's peak
        # RSS would otherwise start from it (a forked child's high-water mark counts the pages it shared).
        subprocess.run([sys.executable, *sys.argv, "--child", "build"], check=True, cwd=ROOT)

    clear_cache(db)
    cold = measured("cold", db)
    evaluations = measured("evaluations", db)
    print(
        f"cold trend (evaluates and caches {cold['scans']} scans) {cold['seconds']:.1f} s, "
        f"{evaluations['scans']} evaluations {evaluations['seconds']:.1f} s: "
        f"cold / 24 evaluations = {cold['seconds'] / evaluations['seconds']:.2f} (target <= 1.5); "
        f"peak RSS {cold['peak_rss_mb']:.0f} MB"
    )
    floor = best_of("floor", db, args.runs)
    warm = best_of("warm", db, args.runs)
    details = best_of("details", db, 1)
    print(
        f"warm trend {warm['seconds']:.2f} s, reading the {floor['rows']:,} cached findings it summarises "
        f"{floor['seconds']:.2f} s (best of {args.runs}): warm / floor = {warm['seconds'] / floor['seconds']:.2f} "
        f"(target <= 2.0); peak RSS of the warm run {warm['peak_rss_mb']:.0f} MB (target < 1024)"
    )
    print(
        f"warm trend with the lists, streamed to /dev/null: {details['seconds']:.2f} s, "
        f"peak RSS {details['peak_rss_mb']:.0f} MB"
    )
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "auditor", "trend", "--db", str(db)], capture_output=True, check=True, cwd=ROOT
    )
    print(
        f"CLI `auditor trend` (tables), warm, interpreter and imports included: {time.perf_counter() - began:.2f} s "
        "(`--format json` adds the period's figures, docs/period.md)"
    )


if __name__ == "__main__":
    main()
