"""In-cluster benchmark (`auditor scan --kubernetes`): calls per cluster stay constant, and the Kubernetes stage's
wall time is bounded by latency and concurrency.

One run, ratios side by side (not a timed test). The emulator serves each fleet in its own process, with the
given latency on every call; the collector runs in this process through the real `kubernetes` client.
- Calls per cluster: fleets of 100, 300 and 1,000 clusters, and a "heavy" 1,000 whose clusters hold 10x the
  PDBs and workloads and 3x the nodes: the Kubernetes calls per cluster should not move (one list per kind).
- Wall time: the Kubernetes stage of the 1,000-cluster scan at several concurrencies, against its bounds:
  latency (calls x latency / concurrency) and CPU (the same stage with no latency, where only CPU and the
  emulator's turnaround remain). The floor is the larger; the ratio to it should stay near 1.

Run: `.venv/bin/python bench/incluster.py [--clusters 1000] [--latency-ms 50] [--concurrency 8,16,32]`.
(The script is not named after the `kubernetes` package: a script's directory comes first on sys.path, so it
would shadow that package.)
"""

from __future__ import annotations

import argparse
import copy
import json
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
SERVE = """
import json, signal, sys, threading
from pathlib import Path
from auditor.emulator import serve_forever as serve
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
counters = serve(Path(sys.argv[1]), port=0, state_dir=Path(sys.argv[2]), latency_ms=float(sys.argv[3]),
                 quotas=False, stop_event=stop,
                 ready=lambda s: print(s.endpoint, s.ca_file, s.kubeconfig_file, flush=True))
print(json.dumps(counters), flush=True)
"""


class Emulator:
    """The emulator in a child process (its CPU is not the collector's)."""

    def __init__(self, fleet_path: Path, state_dir: Path, latency_ms: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(fleet_path), str(state_dir), str(latency_ms)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.endpoint, self.ca_file, self.kubeconfig = self.process.stdout.readline().split()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=60)


def fleet_of(clusters: int, heavy: bool) -> dict[str, Any]:
    from auditor.emulator.generator import generate_fleet
    from auditor.emulator.workloads import kubernetes_sections

    fleet = generate_fleet(
        clusters=clusters, subscriptions=max(1, clusters // 20), seed=5, regions=6, as_of=AS_OF, kubernetes=True
    )
    if heavy:
        for cluster in fleet["managedClusters"]:
            for pool in cluster["properties"]["agentPoolProfiles"]:
                pool["count"] = min(pool["count"] * 3, 150)
        fleet["kubernetes"] = kubernetes_sections(fleet["managedClusters"], 5)
        for section in fleet["kubernetes"].values():
            for key in ("deployments", "statefulSets", "replicaSets", "podDisruptionBudgets"):
                section[key] = [_renamed(item, copy_number) for copy_number in range(10) for item in section[key]]
    # Every context granted: the point is the calls of clusters that answer (access faults are tested elsewhere).
    for section in fleet["kubernetes"].values():
        section.pop("access", None)
        section.pop("forbiddenResources", None)
    return fleet


def _renamed(item: dict[str, Any], copy_number: int) -> dict[str, Any]:
    clone = copy.deepcopy(item)
    if copy_number:
        clone["metadata"]["name"] = f"{clone['metadata']['name']}-{copy_number}"
    return clone


def scan(emulator: Emulator, concurrency: int) -> dict[str, Any]:
    from auditor.collect import AzureClients, ScanOptions, run_scan
    from auditor.collect.clients import StaticTokenCredential
    from auditor.collect.kubernetes import KubernetesClients

    clients = AzureClients(StaticTokenCredential("bench"), endpoint=emulator.endpoint, ca_bundle=emulator.ca_file)
    kube = KubernetesClients.from_kubeconfig(emulator.kubeconfig)
    cpu = time.process_time()
    record = run_scan(clients, ScanOptions(concurrency=concurrency), kubernetes=kube)
    cpu = time.process_time() - cpu
    record.evidence.discard()
    calls = {k: v for k, v in record.stats["calls"].items() if k.startswith("k8s_")}
    return {
        "clusters": record.stats["clusters"],
        "k8s_calls": sum(calls.values()),
        "calls": calls,
        "errors": len(record.errors),
        "stage_s": record.stats["stage_seconds"].get("kubernetes", 0.0),
        "cpu_s": cpu,
    }


def measure(clusters: int, heavy: bool, latency_ms: float, concurrencies: list[int]) -> dict[str, Any]:
    fleet = fleet_of(clusters, heavy)
    objects = sum(
        len(s[k]) for s in fleet["kubernetes"].values() for k in ("deployments", "statefulSets", "podDisruptionBudgets")
    )
    nodes = sum(
        p["count"]
        for c in fleet["managedClusters"]
        if c["properties"]["powerState"]["code"] != "Stopped"
        for p in c["properties"]["agentPoolProfiles"]
    )
    result: dict[str, Any] = {"clusters": clusters, "heavy": heavy, "objects": objects, "nodes": nodes, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.json"
        path.write_text(json.dumps(fleet))
        for latency in ([0.0] if latency_ms else []) + [latency_ms]:
            emulator = Emulator(path, Path(tmp) / f"emu-{latency}", latency)
            try:
                for concurrency in concurrencies:
                    result["runs"][(latency, concurrency)] = scan(emulator, concurrency)
            finally:
                emulator.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)  # as bench/scan.py
    parser.add_argument("--concurrency", default="8,16,32")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    top = args.clusters

    print(f"## Kubernetes calls per cluster (latency 0, concurrency {concurrencies[0]})")
    print(
        f"{'fleet':>22} {'clusters read':>13} {'PDBs+workloads':>14} {'nodes':>7} {'k8s calls':>9} {'per cluster':>11}"
    )
    for clusters, heavy in ((max(1, top // 10), False), (max(1, top * 3 // 10), False), (top, False), (top, True)):
        result = measure(clusters, heavy, 0.0, concurrencies[:1])
        run = result["runs"][(0.0, concurrencies[0])]
        read = run["clusters"] - _stopped(clusters, heavy)
        label = f"{clusters:,} clusters" + (" (heavy)" if heavy else "")
        print(
            f"{label:>22} {read:>13,} {result['objects']:>14,} {result['nodes']:>7,} {run['k8s_calls']:>9,} "
            f"{run['k8s_calls'] / read:>11.2f}"
        )

    print(f"\n## Kubernetes stage wall time, {top:,} clusters, latency {args.latency_ms:g} ms per call")
    result = measure(top, False, args.latency_ms, concurrencies)
    print(
        f"{'concurrency':>11} {'calls':>6} {'stage s':>8} {'latency bound':>13} {'CPU bound':>9} "
        f"{'floor':>6} {'stage/floor':>11} {'serial s':>8} {'CPU ms/call':>11}"
    )
    for concurrency in concurrencies:
        run = result["runs"][(args.latency_ms, concurrency)]
        cpu_bound = result["runs"][(0.0, concurrency)]["stage_s"]
        latency_bound = run["k8s_calls"] * args.latency_ms / 1000 / concurrency
        floor = max(latency_bound, cpu_bound)
        serial = run["k8s_calls"] * (args.latency_ms / 1000) + cpu_bound
        print(
            f"{concurrency:>11} {run['k8s_calls']:>6,} {run['stage_s']:>8.2f} {latency_bound:>13.2f} "
            f"{cpu_bound:>9.2f} {floor:>6.2f} {run['stage_s'] / floor:>11.2f} {serial:>8.1f} "
            f"{run['cpu_s'] / run['k8s_calls'] * 1000:>11.2f}"
        )


def _stopped(clusters: int, heavy: bool) -> int:
    """Clusters of the fleet that are stopped (their API server is off: read by nobody, no call)."""
    fleet = fleet_of(clusters, heavy)
    return sum(1 for c in fleet["managedClusters"] if c["properties"]["powerState"]["code"] == "Stopped")


if __name__ == "__main__":
    main()
