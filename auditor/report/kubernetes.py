"""The blocking PodDisruptionBudgets of a scan, per cluster, with the command that shows each and how to fix it."""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from typing import Any

import duckdb

from auditor import sql
from auditor.controls import Finding

PDB_CONTROL = "AKS-PDB-01"
_COLUMNS = (
    "cluster_id",
    "namespace",
    "name",
    "min_available",
    "max_unavailable",
    "expected",
    "healthy",
    "disruptions_allowed",
    "workload_count",
    "workloads",
    "reason",
)


def blocking_pdbs(con: duckdb.DuckDBPyConnection, findings: list[Finding]) -> list[dict[str, Any]]:
    """For each cluster failing AKS-PDB-01: its blocking PDBs, the kubectl command that shows each one and the
    fix. Reads the model tables the evaluation of this scan built (k8s_pdb_verdicts, k8s_status), so call it
    right after evaluating."""
    failing = [f for f in findings if f.control_id == PDB_CONTROL and f.status in ("fail", "waived")]
    if not failing:
        return []
    ids = [f.resource_id for f in failing]
    rows = sql.run(con, "report/kubernetes_pdbs.sql", cluster_ids=ids)
    by_cluster: dict[str, list[dict[str, Any]]] = defaultdict(list)
    contexts: dict[str, str | None] = {}
    for row in rows:
        pdb = dict(zip((*_COLUMNS, "context"), row, strict=True))
        contexts[pdb["cluster_id"]] = pdb["context"]
        by_cluster[pdb["cluster_id"]].append(_with_commands(pdb))
    return [
        {
            "cluster": f.cluster,
            "resource_id": f.resource_id,
            "resource_group": f.resource_group,
            "subscription": f.subscription_name or f.subscription_id,
            "status": f.status,
            "context": contexts.get(f.resource_id),
            "pdbs": by_cluster.get(f.resource_id, []),
        }
        for f in failing
    ]


def _kubectl(context: str | None, namespace: str, *arguments: str) -> str:
    prefix = ["kubectl"] + (["--context", context] if context else []) + ["-n", namespace]
    return " ".join(shlex.quote(part) for part in (*prefix, *arguments))


def _with_commands(pdb: dict[str, Any]) -> dict[str, Any]:
    """The PDB with `show` (the kubectl command that lists it, ALLOWED DISRUPTIONS included), `fix` (what to
    change) and `fix_command`. Names come from the cluster and are quoted for the shell."""
    context, namespace, name = pdb["context"], pdb["namespace"], pdb["name"]
    show = _kubectl(context, namespace, "get", "pdb", name)
    as_max_unavailable = json.dumps({"spec": {"minAvailable": None, "maxUnavailable": 1}}, separators=(",", ":"))
    single = pdb["workload_count"] == 1 and (pdb["expected"] or 0) <= 1
    if pdb["max_unavailable"] is not None:
        fix = (
            "Allow at least one eviction: set maxUnavailable to 1 (or a percentage that rounds up to one pod), "
            "so a drain can move the pods one at a time."
        )
        command = _kubectl(
            context, namespace, "patch", "pdb", name, "--type", "merge", "-p", '{"spec":{"maxUnavailable":1}}'
        )
    elif single:
        workload = str(pdb["workloads"] or "").split(" (")[0]
        fix = (
            f"{workload or 'The workload'} runs a single replica: run at least two (then one can move while the "
            "other serves), or accept the downtime and let the budget allow one eviction."
        )
        command = _kubectl(context, namespace, "scale", workload.lower() or "deployment/NAME", "--replicas=2")
    else:
        fix = (
            f"minAvailable {pdb['min_available']} leaves no pod to evict with {pdb['healthy']} ready: keep it below "
            "the ready replicas (scale the workload up), or budget with maxUnavailable: 1 instead."
        )
        command = _kubectl(context, namespace, "patch", "pdb", name, "--type", "merge", "-p", as_max_unavailable)
    return {**pdb, "show": show, "fix": fix, "fix_command": command}
