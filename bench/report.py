"""Report benchmark: a synthetic fleet written straight into DuckDB, then each report format timed.

    .venv/bin/python bench/report.py --clusters 10000 [--formats html,pdf,csv,json] [--pad-findings N]

Each format renders in a fresh child process, so the peak RSS printed is that format's alone (build + render).
Not a test: it prints numbers. Targets at 10,000 clusters (docs/reports.md): HTML <= 15 s, PDF <= 60 s,
peak RSS <= 1.5 GB.

First, in one child process and side by side: `evaluate()` of the scan and the report data built from the same
scan (build_report, which evaluates and then aggregates), each best of --repeats after a warm-up; the ratio
`report data / evaluate` has a target of 1.5 (docs/performance.md, "Report data").
"""

from __future__ import annotations

import argparse
import atexit
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.controls import control_ids  # noqa: E402
from auditor.store import ErrorRow, EvidenceRow, ScanRecord, open_db, write_scan  # noqa: E402

AS_OF = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
REGIONS = ["westeurope", "northeurope", "eastus", "eastus2", "uksouth", "swedencentral"]
VERSIONS = ["1.34.1", "1.33.2", "1.33.1", "1.32.6", "1.31.9", "1.30.14", "1.29.8"]
VERSION_WEIGHTS = [12, 30, 10, 25, 10, 8, 5]
CHANNELS = [None, "none", "patch", "stable", "rapid", "node-image"]
CHANNEL_WEIGHTS = [15, 10, 30, 25, 5, 15]
PROVIDER = "Microsoft.ContainerService/managedClusters"
TEAMS = ["payments", "identity", "search", "data", "web", "platform", "ml", "mobile"]

SAMPLE_POLICY = """\
organisation = "Contoso Ltd"
classification = "Confidential"

[thresholds]
image_max_age_days = 30

[[scopes]]
name = "production"
match = { tags = { env = "prod" } }
thresholds = { image_max_age_days = 21 }

[[waivers]]
control = "AKS-VER-01"
resource = "*/resourceGroups/rg-payments-prod-*/providers/Microsoft.ContainerService/managedClusters/*"
reason = "Vendor appliance certified on 1.29 only; upgrade planned with vendor release 7.2"
approver = "j.doe@contoso.example (CISO office)"
expires = 2027-01-31

[[waivers]]
control = "AKS-CHN-01"
resource = "*/resourceGroups/rg-ml-*/providers/Microsoft.ContainerService/managedClusters/*"
reason = "GPU driver pinning; channel enabled after driver 550 rollout"
approver = "a.smith@contoso.example"
expires = 2026-10-31
"""


def _image(rng: random.Random, windows: bool) -> str:
    age = int(rng.choices([5, 12, 25, 40, 75, 140], [20, 25, 20, 15, 12, 8])[0] * rng.uniform(0.6, 1.2))
    day = (AS_OF - timedelta(days=age)).date()
    if windows:
        return f"AKSWindows-2022-containerd-20348.{rng.randint(2000, 3300)}.{day:%y%m%d}"
    return f"AKSUbuntu-2204gen2containerd-{day:%Y%m}.{day:%d}.{rng.randint(0, 2)}"


def _pool(rng: random.Random, name: str, mode: str, version: str, windows: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "mode": mode,
        "count": rng.randint(2, 12),
        "osType": "Windows" if windows else "Linux",
        "vmSize": rng.choice(["Standard_D4s_v5", "Standard_D8s_v5", "Standard_E8s_v5"]),
        "orchestratorVersion": version,
        "currentOrchestratorVersion": version,
        "nodeImageVersion": _image(rng, windows),
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
    }
    if rng.random() < 0.6:
        body["upgradeSettings"] = {
            "maxSurge": rng.choice(["10%", "33%", "1", "0"]),
            "maxUnavailable": rng.choice(["0", "0", "1"]),
        }
    return body


def build_fleet(
    db_path: Path,
    clusters: int,
    *,
    subscriptions: int | None = None,
    seed: int = 7,
    hostile: bool = False,
    errors: bool = True,
) -> str:
    """Write one committed scan of a synthetic fleet; return its scan id."""
    rng = random.Random(seed)
    subscriptions = subscriptions or max(3, min(200, clusters // 40))
    subs = [
        (f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}", f"{TEAMS[i % len(TEAMS)]}-{i:03d}")
        for i in range(subscriptions)
    ]
    tenant = "72f988bf-0000-4000-8000-00000000cafe"
    evidence = [
        EvidenceRow(
            "subscription",
            sid,
            "GET /subscriptions",
            {"subscriptionId": sid, "displayName": name.title(), "state": "Enabled", "tenantId": tenant},
        )
        for sid, name in subs
    ]
    rows: list[dict[str, Any]] = []
    for i in range(clusters):
        sid, sub_name = subs[i % len(subs)]
        team = sub_name.split("-")[0]
        env = rng.choices(["prod", "staging", "dev"], [45, 20, 35])[0]
        version = rng.choices(VERSIONS, VERSION_WEIGHTS)[0]
        pools = [_pool(rng, "system", "System", version)]
        for j in range(rng.choice([1, 2, 2, 3])):
            lag = version if rng.random() < 0.9 else VERSIONS[min(VERSIONS.index(version) + 2, len(VERSIONS) - 1)]
            pools.append(_pool(rng, f"user{j + 1}", "User", lag, windows=rng.random() < 0.05))
        name = f"aks-{team}-{env}-{i:05d}"
        rg = f"rg-{team}-{env}-{i % 17:02d}"
        tags = {"env": env, "team": team, "costcenter": f"CC-{1000 + i % 40}"}
        if hostile and i % 7 == 0:
            name = f"<script>alert('{i}')</script>"
            tags["owner"] = '=HYPERLINK("http://evil.example","click")'
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        profile: dict[str, Any] = {}
        if channel is not None:
            profile["upgradeChannel"] = channel
        if rng.random() < 0.7:
            profile["nodeOSUpgradeChannel"] = rng.choice(["NodeImage", "SecurityPatch", "Unmanaged", "None"])
        properties: dict[str, Any] = {
            "kubernetesVersion": version,
            "currentKubernetesVersion": version,
            "provisioningState": "Succeeded",
            "powerState": {"code": "Stopped" if rng.random() < 0.02 else "Running"},
            "agentPoolProfiles": pools,
        }
        if profile:
            properties["autoUpgradeProfile"] = profile
        location = REGIONS[i % len(REGIONS)]
        rows.append(
            {
                "id": f"/subscriptions/{sid}/resourceGroups/{rg}/providers/{PROVIDER}/{name}",
                "name": name,
                "type": "microsoft.containerservice/managedclusters",
                "location": location,
                "resourceGroup": rg,
                "subscriptionId": sid,
                "tags": tags,
                "sku": {"name": "Base", "tier": "Standard"},
                "properties": properties,
            }
        )
    evidence += [EvidenceRow("cluster", c["id"], "POST /providers/Microsoft.ResourceGraph/resources", c) for c in rows]
    supported: dict[str, Any] = {
        "values": [
            {
                "version": minor,
                "capabilities": {"supportPlan": ["KubernetesOfficial"]},
                "patchVersions": {f"{minor}.{p}": {"upgrades": []} for p in range(1, 4)},
            }
            for minor in ("1.31", "1.32", "1.33", "1.34")
        ]
    }
    failed_region = "swedencentral" if errors else None
    for location in REGIONS:
        if location != failed_region:
            evidence.append(EvidenceRow("kubernetes_versions", location, "GET kubernetesVersions", supported))
    newest = (AS_OF - timedelta(days=2)).date()
    for location in REGIONS:  # one agent-pool upgrade profile per (region, image family), as the collector asks
        for family, latest in (
            ("AKSUbuntu-2204gen2containerd", f"{newest:%Y%m}.{newest:%d}.0"),
            ("AKSWindows-2022-containerd", f"20348.3300.{newest:%y%m%d}"),
        ):
            evidence.append(
                EvidenceRow(
                    "pool_upgrade_profile",
                    f"{location}|{family}",
                    "GET agentPools/upgradeProfiles/default",
                    {"properties": {"latestNodeImageVersion": f"{family}-{latest}"}},
                )
            )
    error_rows: list[ErrorRow] = []
    if failed_region:
        error_rows.append(
            ErrorRow(
                "kubernetes_versions",
                failed_region,
                429,
                "TooManyRequests",
                "throttled: retries exhausted after 6 attempts (Retry-After 30)",
            )
        )
    for c in rows:
        if errors and rng.random() < 0.004:
            error_rows.append(
                ErrorRow(
                    "maintenance_configurations",
                    c["id"],
                    403,
                    "AuthorizationFailed",
                    "the client does not have authorization to perform action "
                    "Microsoft.ContainerService/managedClusters/maintenanceConfigurations/read",
                )
            )
            continue
        evidence.append(
            EvidenceRow("maintenance_configurations", c["id"], "GET maintenanceConfigurations", {"value": []})
        )
    calls = {
        "subscription": 1,
        "resource_graph": max(1, clusters // 1000 + 1),
        "kubernetes_versions": len(REGIONS),
        "maintenance_configurations": clusters,
        "pool_upgrade_profile": len(REGIONS) * 2,
    }
    record = ScanRecord(
        scan_id=AS_OF.strftime("%Y%m%dT%H%M%SZ") + f"-{rng.getrandbits(24):06x}",
        started_at=AS_OF,
        finished_at=AS_OF + timedelta(seconds=42 + clusters // 25),
        tool_version="0.1.0",
        cloud="AzureCloud",
        endpoint="https://management.azure.com",
        scope={"subscriptions": [s for s, _ in subs], "tenant": tenant},
        stats={
            "calls": calls,
            "retries": {"resource_graph": 2, "maintenance_configurations": 14},
            "errors": len(error_rows),
            "subscriptions": len(subs),
            "clusters": clusters,
            "seconds": round(40 + clusters / 25, 1),
            "concurrency": 16,
        },
        evidence=evidence,
        errors=error_rows,
    )
    con = open_db(db_path, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return record.scan_id


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ratio(args: argparse.Namespace) -> None:
    """evaluate() and build_report() of the same scan, side by side in this process; print one JSON line."""
    from auditor.controls import evaluate
    from auditor.model import Model
    from auditor.policy import load_policy
    from auditor.report import build_report

    policy = load_policy(Path(args.policy), known_controls=control_ids())

    def timed(run: Any) -> float:
        con = open_db(Path(args.db), read_only=True)
        try:
            began = time.perf_counter()
            run(con)
            return time.perf_counter() - began
        finally:
            con.close()

    def evaluate_once(con: Any) -> None:
        # evaluate() as the product runs it: the scan's model, every control, the findings left in DuckDB.
        with Model(con, args.scan, policy) as model:
            evaluate(model)

    def report_once(con: Any) -> None:
        build_report(con, args.scan, policy).close()  # the findings stay in DuckDB until a renderer reads them

    timed(evaluate_once), timed(report_once)  # warm-up: imports, catalog, query files, caches
    evaluations, reports = [], []
    for _ in range(args.repeats):  # interleaved, so a busy moment of the shared machine hits both
        evaluations.append(timed(evaluate_once))
        reports.append(timed(report_once))
    print(
        json.dumps(
            {
                "evaluate_s": round(min(evaluations), 3),
                "report_data_s": round(min(reports), 3),
                "ratio": round(min(reports) / min(evaluations), 2),
                "peak_rss_mb": round(_peak_rss_mb()),
            }
        )
    )


def _child(args: argparse.Namespace) -> None:
    """Build the report data and render one format; print one JSON line."""
    from auditor.policy import load_policy
    from auditor.report import RENDERERS, build_report

    began = time.perf_counter()
    if args.child == "all":  # the real `auditor report --format pdf,html,csv,json` path, one process
        from auditor import api

        with api.open(Path(args.db)) as store:
            outcome = store.report(
                store.resolve(args.scan),
                api.load_policy(Path(args.policy)),
                ["pdf", "html", "csv", "json"],
                Path(args.out),
            )
        paths = list(outcome.written)
        total = time.perf_counter() - began
        print(
            json.dumps(
                {
                    "format": "all",
                    "findings": 0,
                    "build_s": 0,
                    "render_s": round(total, 2),
                    "total_s": round(total, 2),
                    "peak_rss_mb": round(_peak_rss_mb()),
                    "bytes": sum(p.stat().st_size for p in paths),
                }
            )
        )
        return
    con = open_db(Path(args.db), read_only=True)
    try:
        # The renderers read the findings from the evaluation, which lives on con: render before closing it.
        with build_report(con, args.scan, load_policy(Path(args.policy), known_controls=control_ids())) as data:
            if args.pad_findings:
                _pad(data, args.pad_findings)
            built = time.perf_counter()
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            path = RENDERERS[args.child](data, out)
            done = time.perf_counter()
    finally:
        con.close()
    print(
        json.dumps(
            {
                "format": args.child,
                "findings": len(data.findings),
                "build_s": round(built - began, 2),
                "render_s": round(done - built, 2),
                "total_s": round(done - began, 2),
                "peak_rss_mb": round(_peak_rss_mb()),
                "bytes": path.stat().st_size,
            }
        )
    )


def _pad(data: Any, target: int) -> None:
    """Bench only: clone findings under synthetic control ids until `target`, to model the full catalog."""
    from dataclasses import replace

    from auditor.report.data import ControlSection

    findings = data.findings  # read from the evaluation; the clones join the same list
    originals = list(findings)
    sections = list(data.sections)
    n = 0
    while len(findings) < target and originals:
        n += 1
        template = sections[(n - 1) % len(sections)]
        control = replace(template.control, id=f"AKS-SYN-{n:02d}", title=f"Synthetic copy of {template.control.id}")
        clones = [replace(f, control_id=control.id) for f in originals if f.control_id == template.control.id]
        clones = clones[: target - len(findings)]
        findings.extend(clones)
        counts = {s: sum(1 for f in clones if f.status == s) for s in template.counts}
        data.sections.append(ControlSection(control, counts, data.evaluation))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument(
        "--formats",
        default="html,pdf,csv,json,all",
        help="formats to time one by one; 'all' renders the four in one process as the CLI does",
    )
    parser.add_argument(
        "--pad-findings",
        type=int,
        default=0,
        help="clone findings under synthetic controls up to this many (models the full catalog)",
    )
    parser.add_argument("--workdir", default=None, help="keep the database and reports here")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of evaluate and report data (best of)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--scan", help=argparse.SUPPRESS)
    parser.add_argument("--policy", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ratio":
        _ratio(args)
        return
    if args.child:
        _child(args)
        return
    if args.workdir:
        work = Path(args.workdir)
    else:
        work = Path(tempfile.mkdtemp(prefix="auditor-bench-"))
        atexit.register(shutil.rmtree, work, ignore_errors=True)  # a directory given with --workdir is kept
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.duckdb"
    db.unlink(missing_ok=True)
    policy = work / "policy.toml"
    policy.write_text(SAMPLE_POLICY, encoding="utf-8")
    began = time.perf_counter()
    scan_id = build_fleet(db, args.clusters)
    print(f"fleet: {args.clusters} clusters written to {db} in {time.perf_counter() - began:.1f} s (scan {scan_id})")
    ratio = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "ratio",
            "--db",
            str(db),
            "--scan",
            scan_id,
            "--policy",
            str(policy),
            "--repeats",
            str(args.repeats),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if ratio.returncode != 0:
        print(f"ratio: failed\n{ratio.stderr}", file=sys.stderr)
    else:
        r = json.loads(ratio.stdout.strip().splitlines()[-1])
        print(
            f"evaluate {r['evaluate_s']} s, report data {r['report_data_s']} s (best of {args.repeats}, one process): "
            f"report data / evaluate = {r['ratio']} (target <= 1.5); peak RSS {r['peak_rss_mb']} MB"
        )
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                fmt,
                "--db",
                str(db),
                "--scan",
                scan_id,
                "--policy",
                str(policy),
                "--out",
                str(work / "out"),
                "--pad-findings",
                str(args.pad_findings),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            print(f"{fmt}: failed\n{child.stderr}", file=sys.stderr)
            continue
        result = json.loads(child.stdout.strip().splitlines()[-1])
        extra = ""
        if fmt == "pdf":
            from pypdf import PdfReader

            extra = f", {len(PdfReader(work / 'out' / 'report.pdf').pages)} pages"
        if fmt == "all":
            print(
                f" all: write_reports(pdf,html,csv,json) {result['total_s']} s; "
                f"peak RSS {result['peak_rss_mb']} MB; {result['bytes'] / 1e6:.1f} MB written"
            )
            continue
        print(
            f"{fmt:>4}: {result['findings']} findings; build {result['build_s']} s + render "
            f"{result['render_s']} s = {result['total_s']} s; peak RSS {result['peak_rss_mb']} MB; "
            f"{result['bytes'] / 1e6:.1f} MB{extra}"
        )
    if args.workdir:  # otherwise the directory is removed when the benchmark ends
        print(f"outputs in {work / 'out'}")


if __name__ == "__main__":
    main()
