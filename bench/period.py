"""Period benchmark: `auditor report --from --to` and the period figures over the monthly scans of an evolving
fleet (the database of bench/trend.py, built the same way and shared with it).

Run: `.venv/bin/python bench/period.py [--clusters 10000] [--scans 24] [--rebuild]`. Measures the period's
figures with the findings cache warm (bench/trend.py measures the cold evaluation), the size of period.json, and
the whole period report (PDF, HTML, JSON, CSV).
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.controls import control_ids  # noqa: E402
from auditor.findings_cache import ensure_cached  # noqa: E402
from auditor.period import build_period  # noqa: E402
from auditor.policy import load_policy  # noqa: E402
from auditor.report.period import write_period_reports  # noqa: E402
from auditor.store import open_db  # noqa: E402


def _trend_bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_trend", ROOT / "bench" / "trend.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=24)
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    db = ROOT / "output" / "bench" / f"trend-{args.clusters}x{args.scans}.duckdb"
    if args.rebuild or not db.exists():
        began = time.perf_counter()
        _trend_bench().build(db, args.clusters, args.scans, args.subscriptions, args.regions)  # type: ignore[attr-defined]
        print(f"built {db} in {time.perf_counter() - began:.0f} s ({db.stat().st_size / 1e6:.0f} MB)")
    policy = load_policy(None, known_controls=control_ids())
    con = open_db(db)
    try:
        from auditor.store import list_scans

        began = time.perf_counter()
        ensure_cached(con, list_scans(con), policy)
        print(f"findings cache ready in {time.perf_counter() - began:.1f} s")
        timings = []
        for _ in range(2):
            began = time.perf_counter()
            period = build_period(con, policy)
            timings.append(time.perf_counter() - began)
    finally:
        con.close()
    with tempfile.TemporaryDirectory(prefix="auditor-period-bench-") as tmp:
        began = time.perf_counter()
        with (Path(tmp) / "period.json").open("w", encoding="utf-8") as stream:
            period.write_json(stream)
        serialise = time.perf_counter() - began
        size = (Path(tmp) / "period.json").stat().st_size
    updates = sum(len(period.latency[k]["updates"]) for k in period.latency)
    shares = sum(len(c["resource_shares"]) for c in period.compliance)
    print(
        f"period figures, warm: best {min(timings):.2f} s over {len(period.scans)} scans; {updates:,} pending updates, "
        f"{shares:,} resource shares; period.json {size / 1e6:.1f} MB written in {serialise:.2f} s"
    )
    with tempfile.TemporaryDirectory(prefix="auditor-period-bench-") as tmp:
        began = time.perf_counter()
        paths = write_period_reports(period, ["pdf", "html", "csv"], Path(tmp))
        written = time.perf_counter() - began
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"period report (pdf, html, json, csv): {written:.1f} s ({sizes}); peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
