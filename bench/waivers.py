"""Waiver benchmark: a policy with many waivers, timed through `policy check`, `evaluate()` and the exceptions
register of the report.

    .venv/bin/python bench/waivers.py [--waivers 20000] [--clusters 2000]

Most waivers name one cluster and control exactly (the way waivers are usually written, one per exception),
a few are globs. Every stage should grow linearly with waivers + findings. Not a test: it prints numbers.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.controls import control_ids, evaluate_scan, load_catalog  # noqa: E402
from auditor.policy import load_policy  # noqa: E402
from auditor.policy_check import check_policy  # noqa: E402
from auditor.report.data import _exceptions  # noqa: E402
from auditor.store import open_db  # noqa: E402
from bench.evaluate import build_fleet  # noqa: E402
from tests.evidence import AS_OF, store_scan  # noqa: E402


def waiver_policy(cluster_ids: list[str], count: int, controls: list[str]) -> str:
    """`count` waivers: exact (cluster, control) pairs first, a glob every 1,000th, alternating expiries."""
    parts = []
    for index in range(count):
        control = controls[index % len(controls)]
        cluster = cluster_ids[(index // len(controls)) % len(cluster_ids)]
        resource = f"{cluster.rsplit('/', 1)[0]}/*" if index % 1000 == 999 else cluster
        expires = "2027-06-30" if index % 3 else "2026-01-31"
        parts.append(
            f'[[waivers]]\ncontrol = "{control}"\nresource = "{resource}"\nreason = "r{index}"\n'
            f'approver = "bench"\nexpires = {expires}\n'
        )
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waivers", type=int, default=20_000)
    parser.add_argument("--clusters", type=int, default=2_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="auditor-bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # the fleet database is only this run's
    db = workdir / "bench.duckdb"
    fleet = build_fleet(args.clusters, 3, 11)
    scan_id = store_scan(
        db,
        fleet["clusters"],
        region_versions=fleet["region_versions"],
        maintenance=fleet["maintenance"],
        latest_images=fleet["latest_images"],
        errors=fleet["errors"],
        started_at=AS_OF,
    )
    controls = [c.id for c in load_catalog()]
    policy_path = workdir / "policy.toml"
    policy_path.write_text(
        waiver_policy([c["id"] for c in fleet["clusters"]], args.waivers, controls), encoding="utf-8"
    )

    begin = time.perf_counter()
    policy = load_policy(policy_path, known_controls=control_ids())
    loaded = time.perf_counter()
    lines = check_policy(policy_path, today=date(2026, 11, 24), known_controls=control_ids()).lines()
    checked = time.perf_counter()
    con = open_db(db)
    try:
        findings = evaluate_scan(con, scan_id, policy)
    finally:
        con.close()
    evaluated = time.perf_counter()
    register = _exceptions(policy, findings, AS_OF.date())
    registered = time.perf_counter()
    waived = sum(1 for f in findings if f.status == "waived")
    print(f"{len(policy.waivers)} waivers, {args.clusters} clusters, {len(findings)} findings ({waived} waived)")
    print(f"  load_policy          {loaded - begin:7.2f} s")
    print(f"  policy check (lines) {checked - loaded:7.2f} s  ({len(lines)} lines, load included)")
    print(f"  evaluate()           {evaluated - checked:7.2f} s")
    print(f"  exceptions register  {registered - evaluated:7.2f} s  ({len(register)} entries)")


if __name__ == "__main__":
    main()
