"""Control evaluation benchmark: a synthetic fleet written into DuckDB, then `evaluate()` timed.

    .venv/bin/python bench/evaluate.py [--clusters 10000] [--pools-per-cluster 3] [--runs 3] [--db PATH]

The fleet is built with the tests/evidence.py builders (wire-shaped payloads), varied so every control takes
every branch: versions in and out of support, LTS, channels of both casings, legacy and managed maintenance
windows, surge settings, failed pools, stopped clusters, collection errors. Not a test: it prints numbers.

The ledger is folded after storing (as a real scan does), then, side by side in one run, best of --runs each:
- the floor: DuckDB reading the scan's evidence payloads and extracting, once, every JSON path the model's SQL
  reads (queries/shape/*.sql and queries/model/*.sql, by the evidence kind each file reads; pools unnested from the
  cluster payload);
- evaluate(): build the Model, run every control, findings left in DuckDB (auditor.controls.evaluate), close.
Prints `evaluate/floor` (target <= 2.0) and the time of each phase as the Model and the Evaluation record it.
"""

from __future__ import annotations

import argparse
import atexit
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import re  # noqa: E402

from auditor.controls import control_ids, evaluate, load_catalog  # noqa: E402
from auditor.ledger import update_ledger  # noqa: E402
from auditor.model import Model  # noqa: E402
from auditor.paths import queries_dir  # noqa: E402
from auditor.policy import load_policy  # noqa: E402
from auditor.store import ErrorRow, open_db  # noqa: E402
from tests.evidence import (  # noqa: E402
    AS_OF,
    cluster,
    legacy_default,
    maintenance_window,
    pool,
    store_scan,
    versions,
)

REGIONS = ["westeurope", "northeurope", "eastus", "eastus2", "uksouth", "swedencentral"]
VERSIONS = ["1.36.2", "1.35.4", "1.35.1", "1.34.6", "1.33.9", "1.32.7", "1.31.11"]
UBUNTU = "AKSUbuntu-2204gen2containerd"
AZL = "AKSAzureLinux-V3gen2"
WINDOWS = "AKSWindows-2022-containerd"
IMAGES = [
    f"{UBUNTU}-202611.10.0",
    f"{UBUNTU}-202610.20.0",
    f"{UBUNTU}-202608.02.1",
    f"{AZL}-202611.03.0",
    f"{WINDOWS}-20348.3300.261110",
]
LATEST = {UBUNTU: f"{UBUNTU}-202611.10.0", AZL: f"{AZL}-202611.10.0", WINDOWS: f"{WINDOWS}-20348.3300.261110"}
CHANNELS = [None, "none", "patch", "stable", "Stable", "rapid", "node-image"]
NODE_OS = [None, "None", "Unmanaged", "NodeImage", "nodeimage", "SecurityPatch"]
SURGE = [
    None,
    {"maxSurge": "33%"},
    {"maxSurge": "1", "maxUnavailable": "0"},
    {"maxSurge": "0"},
    {"maxSurge": "0", "maxUnavailable": "1"},
    {"maxUnavailable": "10%"},
]

POLICY = """
[[scopes]]
name = "production"
match.tags.environment = ["production", "prod"]
[scopes.thresholds]
allowed_upgrade_channels = ["stable", "patch"]
image_max_age_days = 14

[[scopes]]
name = "labs"
match.resource_groups = ["rg-lab-0", "rg-lab-1"]
[scopes.thresholds]
image_max_age_days = 60

[[waivers]]
control = "AKS-VER-01"
resource = "/subscriptions/*/resourceGroups/rg-3/*"
reason = "benchmark"
approver = "bench"
expires = 2027-01-31

[[waivers]]
control = "AKS-IMG-01"
resource = "*/agentPools/user1"
reason = "benchmark"
approver = "bench"
expires = 2026-01-31
"""


def build_fleet(count: int, pools_per_cluster: int, seed: int) -> dict[str, Any]:
    """Clusters, maintenance lists and collection errors for store_scan."""
    rng = random.Random(seed)
    clusters: list[dict[str, Any]] = []
    maintenance: dict[str, list[dict[str, Any]]] = {}
    errors: list[ErrorRow] = []
    for index in range(count):
        version = rng.choice(VERSIONS)
        premium = rng.random() < 0.1
        pools = [
            pool(
                "system",
                mode="System",
                version=version,
                image=rng.choice(IMAGES[:4]),
                upgrade_settings=rng.choice(SURGE),
                provisioning_state="Failed" if rng.random() < 0.01 else "Succeeded",
            )
        ]
        for number in range(1, pools_per_cluster):
            lag = rng.random() < 0.1
            image = rng.choice(IMAGES)
            pools.append(
                pool(
                    f"user{number}",
                    mode="User",
                    version=VERSIONS[-1] if lag else version,
                    image=image,
                    os_type="Windows" if image.startswith("AKSWindows") else "Linux",
                    upgrade_settings=rng.choice(SURGE),
                )
            )
        name = f"aks-{index:05d}"
        body = cluster(
            name,
            sub=f"00000000-0000-0000-0000-{index % 40:012d}",
            rg=f"rg-{index % 25}",
            location=rng.choice(REGIONS),
            version=version,
            channel=rng.choice(CHANNELS),
            node_os=rng.choice(NODE_OS),
            pools=pools,
            tier="Premium" if premium else "Standard",
            support_plan="AKSLongTermSupport" if premium else None,
            tags={
                "environment": rng.choice(["production", "prod", "staging", "dev"]),
                "team": f"t{index % 9}",
            },
            power="Stopped" if rng.random() < 0.03 else "Running",
            provisioning_state="Failed" if rng.random() < 0.01 else "Succeeded",
        )
        clusters.append(body)
        roll = rng.random()
        if roll < 0.01:
            errors.append(ErrorRow("maintenance_configurations", body["id"], 403, "AuthorizationFailed", "denied"))
        elif roll < 0.2:
            maintenance[name] = [legacy_default()]
        elif roll < 0.8:
            maintenance[name] = [
                maintenance_window("aksManagedAutoUpgradeSchedule", duration=rng.choice([4, 8])),
                maintenance_window("aksManagedNodeOSUpgradeSchedule", duration=rng.choice([4, 24])),
            ]
    minors = {
        "1.33": ["KubernetesOfficial", "AKSLongTermSupport"],
        "1.34": ["KubernetesOfficial"],
        "1.35": ["KubernetesOfficial"],
        "1.36": ["KubernetesOfficial"],
        "1.31": ["AKSLongTermSupport"],
        "1.32": ["AKSLongTermSupport"],
    }
    body = versions(minors, patches={m: [f"{m}.{p}" for p in range(1, 12)] for m in minors})
    region_versions = {region: body for region in REGIONS}
    errors.append(ErrorRow("kubernetes_versions", "swedencentral", 403, "AuthorizationFailed", "denied"))
    del region_versions["swedencentral"]
    latest = {(region, family): image for region in REGIONS for family, image in LATEST.items() if region != "uksouth"}
    errors.append(ErrorRow("pool_upgrade_profile", f"uksouth|{UBUNTU}", 429, "TooManyRequests", "throttled"))
    return {
        "clusters": clusters,
        "maintenance": maintenance,
        "errors": errors,
        "region_versions": region_versions,
        "latest_images": latest,
    }


# The floor reads each kind with one parameterised statement: the paths as a list, parsed once per payload.
FLOOR_KIND = (
    "CREATE OR REPLACE TEMP TABLE floor_kind AS SELECT scope, json_extract_string(payload, $paths) AS v "
    "FROM evidence WHERE scan_id = $scan_id AND kind = $kind"
)
FLOOR_POOLS = (
    "CREATE OR REPLACE TEMP TABLE floor_pools AS SELECT json_extract_string(p, $paths) AS v FROM "
    "(SELECT unnest(json_extract(payload, '$.properties.agentPoolProfiles[*]')) AS p FROM evidence "
    "WHERE scan_id = $scan_id AND kind = 'cluster')"
)


def model_paths() -> tuple[dict[str, list[str]], list[str]]:
    """The JSON paths the model's SQL reads (queries/shape/ and queries/model/), per evidence kind (every path of a
    file counts for every kind the file reads), and the paths of queries/shape/pools.sql read on each pool."""
    per_kind: dict[str, set[str]] = {}
    for path in sorted([*(queries_dir() / "shape").glob("*.sql"), *(queries_dir() / "model").glob("*.sql")]):
        text = path.read_text(encoding="utf-8")
        paths = set(re.findall(r"'(\$\.[^']*)'", text))
        kinds = set(re.findall(r"kind = '([a-z0-9_]+)'", text))
        kinds |= {k for group in re.findall(r"kind IN \(([^)]*)\)", text) for k in re.findall(r"'([a-z0-9_]+)'", group)}
        if "LIKE 'k8s" in text:
            kinds |= {
                "k8s_nodes",
                "k8s_deployments",
                "k8s_stateful_sets",
                "k8s_replica_sets",
                "k8s_pod_disruption_budgets",
            }
        for kind in kinds:
            per_kind.setdefault(kind, set()).update(paths)
    pool_text = (queries_dir() / "shape" / "pools.sql").read_text(encoding="utf-8")
    pool_paths = sorted(set(re.findall(r"'(\$\.[^']*)'", pool_text)))
    return {k: sorted(v) for k, v in per_kind.items()}, pool_paths


def floor(con: Any, scan_id: str, per_kind: dict[str, list[str]], pool_paths: list[str]) -> float:
    """Seconds to read the scan's evidence payloads and extract every field the model reads, once."""
    cursor = con.cursor()
    try:
        kinds = [
            r[0]
            for r in cursor.execute(
                "SELECT DISTINCT kind FROM evidence WHERE scan_id = $scan_id", {"scan_id": scan_id}
            ).fetchall()
        ]
        begin = time.perf_counter()
        for kind in kinds:
            if per_kind.get(kind):
                cursor.execute(FLOOR_KIND, {"paths": per_kind[kind], "scan_id": scan_id, "kind": kind})
        cursor.execute(FLOOR_POOLS, {"paths": pool_paths, "scan_id": scan_id})
        return time.perf_counter() - begin
    finally:
        cursor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--pools-per-cluster", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (a temporary one by default)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="auditor-bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # the fleet database is only this run's
    db = args.db or workdir / "bench.duckdb"
    policy_path = workdir / "policy.toml"
    policy_path.write_text(POLICY, encoding="utf-8")

    started = time.perf_counter()
    fleet = build_fleet(args.clusters, args.pools_per_cluster, args.seed)
    built = time.perf_counter()
    scan_id = store_scan(
        db,
        fleet["clusters"],
        region_versions=fleet["region_versions"],
        maintenance=fleet["maintenance"],
        latest_images=fleet["latest_images"],
        errors=fleet["errors"],
        started_at=AS_OF,
    )
    con = open_db(db)
    try:
        update_ledger(con)  # as a real scan does: evaluation reads the folded ledger
    finally:
        con.close()
    stored = time.perf_counter()
    pools = sum(len(c["properties"]["agentPoolProfiles"]) for c in fleet["clusters"])
    print(
        f"fleet: {args.clusters} clusters, {pools} pools; built in {built - started:.1f} s, "
        f"stored and folded in {stored - built:.1f} s ({db})"
    )

    policy = load_policy(policy_path, known_controls=control_ids())
    catalog = load_catalog()
    per_kind, pool_paths = model_paths()
    con = open_db(db, read_only=True)
    try:
        floors: list[float] = []
        evaluations: list[float] = []
        phases: list[dict[str, float]] = []
        counts: dict[str, int] = {}
        # Warm-up (first reads of the file, Python imports of lazily used code), then the runs side by side.
        floor(con, scan_id, per_kind, pool_paths)
        with Model(con, scan_id, policy) as model:
            evaluate(model)
        for _ in range(args.runs):
            floors.append(floor(con, scan_id, per_kind, pool_paths))
            begin = time.perf_counter()
            model_begin = begin
            with Model(con, scan_id, policy) as model:
                model_seconds = time.perf_counter() - model_begin
                evaluation = evaluate(model)
                evaluations.append(time.perf_counter() - begin)
                phases.append({"model": model_seconds, **evaluation.phases})
                counts = evaluation.counts()
        # Where the control SQL goes, once, on a model of its own.
        per_control: list[tuple[str, float, int]] = []
        with Model(con, scan_id, policy) as model:
            for control in catalog:
                begin = time.perf_counter()
                rows = model.cursor.sql(control.sql).aggregate("count(*)").fetchall()[0]
                per_control.append((control.id, time.perf_counter() - begin, int(rows[0]) if rows else 0))
    finally:
        con.close()

    best_floor, best_evaluate = min(floors), min(evaluations)
    best_phases = phases[evaluations.index(best_evaluate)]
    paths = sum(len(v) for v in per_kind.values()) + len(pool_paths)
    print(
        f"floor (read the evidence, extract the {paths} fields the model reads): "
        f"best {best_floor:.3f} s, median {statistics.median(floors):.3f} s"
    )
    print(
        f"evaluate() ({sum(counts.values())} findings from {len(catalog)} controls, left in DuckDB): "
        f"best {best_evaluate:.3f} s, median {statistics.median(evaluations):.3f} s"
    )
    print("  phases of the best run: " + ", ".join(f"{k} {v:.3f} s" for k, v in best_phases.items()))
    print(f"evaluate/floor = {best_evaluate / best_floor:.2f} (target <= 2.0)")
    print("  statuses: " + ", ".join(f"{s} {n}" for s, n in counts.items() if n))
    print("  control SQL alone (count of rows), slowest first:")
    for control_id, seconds, rows in sorted(per_control, key=lambda item: -item[1]):
        print(f"    {control_id}  {seconds * 1000:7.1f} ms  {rows:6d} rows")


if __name__ == "__main__":
    main()
