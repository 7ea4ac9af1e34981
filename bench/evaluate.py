"""Control evaluation benchmark: a synthetic fleet written into DuckDB, then `evaluate()` timed.

    .venv/bin/python bench/evaluate.py [--clusters 10000] [--pools-per-cluster 3] [--runs 3] [--db PATH]

The fleet is built with the tests/evidence.py builders (wire-shaped payloads), varied so every control takes
every branch: versions in and out of support, LTS, channels of both casings, legacy and managed maintenance
windows, surge settings, failed pools, stopped clusters, collection errors. Not a test: it prints numbers.
Target on the 2-core reference machine: evaluate() <= 3 s for 10,000 clusters and 30,000 pools.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.controls import control_ids, evaluate, load_catalog  # noqa: E402
from auditor.model import prepare_model  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--pools-per-cluster", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (a temporary one by default)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="auditor-bench-"))
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
    stored = time.perf_counter()
    pools = sum(len(c["properties"]["agentPoolProfiles"]) for c in fleet["clusters"])
    print(
        f"fleet: {args.clusters} clusters, {pools} pools; built in {built - started:.1f} s, "
        f"stored in {stored - built:.1f} s ({db})"
    )

    policy = load_policy(policy_path, known_controls=control_ids())
    catalog = load_catalog()
    con = open_db(db)
    try:
        timings: list[float] = []
        findings = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            findings = evaluate(con, scan_id, policy)
            timings.append(time.perf_counter() - begin)
        # Where the time goes, measured once after the runs.
        begin = time.perf_counter()
        prepare_model(con, scan_id, policy)
        model_seconds = time.perf_counter() - begin
        per_control: list[tuple[str, float, int]] = []
        for control in catalog:
            begin = time.perf_counter()
            rows = con.execute(control.sql).fetchall()
            per_control.append((control.id, time.perf_counter() - begin, len(rows)))
    finally:
        con.close()

    sql_seconds = sum(t for _, t, _ in per_control)
    print(f"evaluate(): {len(findings)} findings from {len(catalog)} controls")
    print(
        f"  runs: {', '.join(f'{t:.2f} s' for t in timings)}; best {min(timings):.2f} s, "
        f"median {statistics.median(timings):.2f} s (target <= 3 s)"
    )
    print(
        f"  of which model build {model_seconds:.2f} s, control SQL {sql_seconds:.2f} s, "
        f"findings in Python ~{max(min(timings) - model_seconds - sql_seconds, 0):.2f} s"
    )
    for control_id, seconds, rows in per_control:
        print(f"    {control_id}  {seconds * 1000:7.1f} ms  {rows:6d} rows")
    counts = Counter((f.control_id, f.status) for f in findings)
    print("  statuses:")
    for control in catalog:
        line = ", ".join(
            f"{s} {counts[(control.id, s)]}"
            for s in ("pass", "fail", "warn", "unknown", "waived", "not_applicable")
            if counts[(control.id, s)]
        )
        print(f"    {control.id}  {line}")


if __name__ == "__main__":
    main()
