"""Collector benchmark: calls, wall time against the floor, peak RSS, and the ratio to a naive serial collector.

Each fleet is served by the emulator in its own process (50 ms latency, Azure's quota model) so that the
collector's CPU is measured alone. Run: `.venv/bin/python bench/scan.py [--fleets 1000x100,10000x500]`.
The floor is derived in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = 10
LATENCY_MS = 50.0
RP_BURST, RP_REFILL = 60, 1.0
GRAPH_QUERIES, GRAPH_WINDOW = 15, 5.0

SERVE = """
import json, signal, sys, threading
from pathlib import Path
from auditor.emulator import serve_forever as serve
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
counters = serve(Path(sys.argv[1]), port=0, state_dir=Path(sys.argv[2]), latency_ms=float(sys.argv[3]),
                 quotas=sys.argv[4] == "1", stop_event=stop,
                 ready=lambda s: print(s.endpoint, s.ca_file, flush=True))
print(json.dumps(counters), flush=True)
"""


class Emulator:
    """The emulator in a child process; its counters come back when it stops."""

    def __init__(self, fleet_path: Path, state_dir: Path, latency_ms: float, quotas: bool = True) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(fleet_path), str(state_dir), str(latency_ms), "1" if quotas else "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.endpoint, self.ca_file = self.process.stdout.readline().split()

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def child(mode: str, endpoint: str, ca_file: str, extra: str) -> None:
    """Run one collector in this process and print its measurements as JSON."""
    from auditor.collect import AzureClients, ScanOptions, run_scan
    from auditor.collect.clients import StaticTokenCredential

    clients = AzureClients(StaticTokenCredential("bench"), endpoint=endpoint, ca_bundle=ca_file)
    started, cpu = time.monotonic(), time.process_time()
    if mode == "auditor":
        record = run_scan(clients, ScanOptions(concurrency=int(extra)))
        record.evidence.discard() if hasattr(record.evidence, "discard") else None
        result: dict[str, Any] = {
            "calls": record.stats["calls"],
            "retries": record.stats["retries"],
            "errors": len(record.errors),
        }
    elif mode == "naive":
        result = naive_serial(clients, json.loads(extra))
    else:  # calibrate: CPU per SDK call, serial, no latency
        sub, rg, name = json.loads(extra)
        client = clients.container_service(sub)
        for _ in range(300):
            list(client.maintenance_configurations.list_by_managed_cluster(rg, name))
        result = {"calls": 300}
    result["wall_s"] = time.monotonic() - started
    result["cpu_s"] = time.process_time() - cpu
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def naive_serial(clients: Any, subscriptions: list[str]) -> dict[str, Any]:
    """The obvious collector: one list per subscription, then one call per cluster and per pool, one at a time,
    retrying a 429 after its Retry-After."""
    from azure.core.exceptions import HttpResponseError

    calls = 0

    def call(fn: Any) -> Any:
        nonlocal calls
        while True:
            calls += 1
            try:
                return fn()
            except HttpResponseError as exc:
                if exc.status_code != 429:
                    raise
                time.sleep(float(exc.response.headers.get("Retry-After", "1")))

    for sub in subscriptions:
        client = clients.container_service(sub)
        for cluster in call(lambda c=client: list(c.managed_clusters.list())):
            rg = cluster["id"].split("/")[4]
            name = cluster["name"]
            call(lambda c=client, r=rg, n=name: list(c.maintenance_configurations.list_by_managed_cluster(r, n)))
            call(lambda c=client, loc=cluster["location"]: c.managed_clusters.list_kubernetes_versions(loc))
            for pool in cluster["properties"]["agentPoolProfiles"]:
                call(lambda c=client, r=rg, n=name, p=pool["name"]: c.agent_pools.get_upgrade_profile(r, n, p))
    return {"calls": calls}


def run_child(mode: str, emulator: Emulator, extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, emulator.endpoint, emulator.ca_file, extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "AUDITOR_ACCESS_TOKEN": "bench"},
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} collector failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fleet_shape(fleet: dict[str, Any]) -> dict[str, Any]:
    """What the minimum call count and the floor depend on."""
    from auditor.collect.aks import image_family

    clusters = fleet["managedClusters"]
    subs = len(fleet["subscriptions"])
    per_bucket = Counter((c["id"].split("/")[2].lower(), c["location"].lower()) for c in clusters)
    families = {
        (c["location"].lower(), image_family(p.get("nodeImageVersion", "")))
        for c in clusters
        for p in c["properties"]["agentPoolProfiles"]
    }
    batches = math.ceil(subs / 250)
    per_batch = math.ceil(len(clusters) / batches)
    graph_pages = batches * max(1, math.ceil(per_batch / 1000))
    regions = {c["location"].lower() for c in clusters}
    pools = sum(len(c["properties"]["agentPoolProfiles"]) for c in clusters)
    return {
        "clusters": len(clusters),
        "subscriptions": subs,
        "pools": pools,
        "regions": len(regions),
        "families": len(families),
        "graph_pages": graph_pages,
        "hottest_bucket": max(per_bucket.values()),
        "graph_batches": batches,
    }


def minimum_calls(shape: dict[str, Any]) -> int:
    # Resource Graph pages + one versions call per region + one profile per (region, family) + one maintenance
    # call per cluster, plus the subscription list and the two history queries (one page each per batch), plus the
    # population check: the permissions API and the managed-cluster list once per subscription.
    return (
        shape["graph_pages"]
        + shape["regions"]
        + shape["families"]
        + shape["clusters"]
        + 1
        + 2 * shape["graph_batches"]
        + 2 * shape["subscriptions"]
    )


def floor_seconds(shape: dict[str, Any], concurrency: int, cpu_per_call: float) -> dict[str, float]:
    """The least wall time any collector could take: see docs/performance.md."""
    latency = LATENCY_MS / 1000
    details = shape["clusters"] + shape["regions"] + shape["families"] + 2 * shape["subscriptions"]
    serial = latency * (1 + max(1, math.ceil(shape["graph_pages"] / shape["graph_batches"])))  # list, then pages
    graph = max(0.0, (3 * shape["graph_pages"] - GRAPH_QUERIES) / (GRAPH_QUERIES / GRAPH_WINDOW))
    bounds = {
        "latency": details * latency / concurrency,
        "cpu": details * cpu_per_call,
        "bucket": max(0.0, (shape["hottest_bucket"] - RP_BURST) / RP_REFILL),
    }
    return {"floor": serial + graph + max(bounds.values()), **bounds, "serial_stages": serial}


def bench(clusters: int, subscriptions: int, concurrency: int, naive_share: float, seed: int) -> dict[str, Any]:
    from auditor.emulator.generator import generate_fleet

    fleet = generate_fleet(clusters=clusters, subscriptions=subscriptions, seed=seed, regions=REGIONS)
    shape = fleet_shape(fleet)
    with tempfile.TemporaryDirectory() as tmp:
        fleet_path = Path(tmp) / "fleet.json"
        fleet_path.write_text(json.dumps(fleet))
        first = fleet["managedClusters"][0]
        probe = json.dumps([first["id"].split("/")[2], first["id"].split("/")[4], first["name"]])

        calibration = Emulator(fleet_path, Path(tmp) / "emu0", 0.0, quotas=False)
        try:
            calibrated = run_child("calibrate", calibration, probe)
        finally:
            calibration.stop()
        cpu_per_call = calibrated["cpu_s"] / calibrated["calls"]

        emulator = Emulator(fleet_path, Path(tmp) / "emu1", LATENCY_MS)
        try:
            ours = run_child("auditor", emulator, str(concurrency))
        finally:
            served = emulator.stop()

        subs = [s["subscriptionId"] for s in fleet["subscriptions"]]
        sample = sorted(random.Random(seed).sample(subs, max(1, round(len(subs) * naive_share))))
        emulator = Emulator(fleet_path, Path(tmp) / "emu2", LATENCY_MS)
        try:
            naive = run_child("naive", emulator, json.dumps(sample))
        finally:
            emulator.stop()
    naive_total_calls = subscriptions + 2 * shape["clusters"] + shape["pools"]
    naive_wall = naive["wall_s"] * naive_total_calls / naive["calls"] if naive_share < 1 else naive["wall_s"]
    floor = floor_seconds(shape, concurrency, cpu_per_call)
    total_calls = sum(ours["calls"].values())
    return {
        "shape": shape,
        "ours": ours,
        "served": served,
        "floor": floor,
        "cpu_per_call_ms": cpu_per_call * 1000,
        "minimum_calls": minimum_calls(shape),
        "total_calls": total_calls,
        "naive": naive,
        "naive_share": naive_share,
        "naive_wall_s": naive_wall,
        "concurrency": concurrency,
    }


def report(result: dict[str, Any]) -> None:
    shape, ours, floor = result["shape"], result["ours"], result["floor"]
    print(
        f"\n## {shape['clusters']:,} clusters, {shape['subscriptions']} subscriptions, {shape['regions']} regions, "
        f"{shape['pools']:,} pools; concurrency {result['concurrency']}, latency {LATENCY_MS:g} ms"
    )
    print(f"calls by kind: {json.dumps(ours['calls'])}; retries {json.dumps(ours['retries'])}; errors {ours['errors']}")
    print(
        f"calls: {result['total_calls']:,} vs minimum {result['minimum_calls']:,} "
        f"= {result['total_calls'] / result['minimum_calls']:.3f} x"
    )
    print(
        f"wall: {ours['wall_s']:.1f} s vs floor {floor['floor']:.1f} s = {ours['wall_s'] / floor['floor']:.2f} x "
        f"(bounds: latency {floor['latency']:.1f} s, CPU {floor['cpu']:.1f} s at "
        f"{result['cpu_per_call_ms']:.2f} ms/call, hottest bucket {shape['hottest_bucket']} calls -> "
        f"{floor['bucket']:.1f} s)"
    )
    print(f"collector CPU: {ours['cpu_s']:.1f} s; peak RSS {ours['peak_rss_mb']:.0f} MB")
    sampled = (
        ""
        if result["naive_share"] >= 1
        else (
            f" (measured on {result['naive_share']:.0%} of subscriptions: {result['naive']['calls']:,} calls in "
            f"{result['naive']['wall_s']:.1f} s, scaled by calls)"
        )
    )
    print(
        f"naive serial collector: {result['naive_wall_s']:.0f} s{sampled}; "
        f"ours is {result['naive_wall_s'] / ours['wall_s']:.1f} x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=4, metavar=("MODE", "ENDPOINT", "CA", "EXTRA"))
    parser.add_argument("--fleets", default="1000x100,10000x500", help="CLUSTERSxSUBSCRIPTIONS, comma-separated")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--naive-share",
        type=float,
        default=None,
        help="share of subscriptions the naive collector walks (default: all at 1,000, 10%% above)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = []
    for spec in args.fleets.split(","):
        clusters, subscriptions = (int(x) for x in spec.split("x"))
        share = args.naive_share if args.naive_share is not None else (1.0 if clusters <= 1000 else 0.1)
        result = bench(clusters, subscriptions, args.concurrency, share, args.seed)
        report(result)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
