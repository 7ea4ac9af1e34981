"""AKS-PDB-01 and AKS-NOD-01 against in-cluster evidence shaped as the Kubernetes API returns it, in a real DuckDB.

`CASES` joins the catalog's fixture registry (tests/test_catalog_integrity.py). All requested cases share one scan
made with --kubernetes (one cluster per case); the cases of a scan made without it share a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.controls import Finding, evaluate_scan
from auditor.policy import default_policy
from auditor.store import ErrorRow, EvidenceRow, ScanRecord, open_db, write_scan
from tests.evidence import AS_OF, SUB, cluster, pool

IMAGE = "AKSUbuntu-2204gen2containerd-202611.10.0"
OLD_IMAGE = "AKSUbuntu-2204gen2containerd-202609.10.0"
KINDS = ("k8s_nodes", "k8s_pod_disruption_budgets", "k8s_deployments", "k8s_stateful_sets", "k8s_replica_sets")
LISTS = {
    "k8s_nodes": ("NodeList", "v1"),
    "k8s_pod_disruption_budgets": ("PodDisruptionBudgetList", "policy/v1"),
    "k8s_deployments": ("DeploymentList", "apps/v1"),
    "k8s_stateful_sets": ("StatefulSetList", "apps/v1"),
    "k8s_replica_sets": ("ReplicaSetList", "apps/v1"),
}


def workload(
    name: str,
    replicas: int | None = 3,
    ready: int = 3,
    *,
    kind: str = "Deployment",
    namespace: str = "shop",
    labels: dict[str, str] | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """A Deployment, StatefulSet or ReplicaSet as listed (no kind in list items; `_kind` routes it here)."""
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels or {"app": name}},
        "template": {"metadata": {"labels": labels or {"app": name}}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if owner:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner, "uid": "u1"}]
    status = {"replicas": replicas or 1, **({"readyReplicas": ready} if ready else {})}
    return {"_kind": kind, "metadata": metadata, "spec": spec, "status": status}


def pdb(
    name: str,
    *,
    selector: Any = None,
    app: str | None = None,
    namespace: str = "shop",
    min_available: Any = None,
    max_unavailable: Any = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if app is not None:
        spec["selector"] = {"matchLabels": {"app": app}}
    elif selector is not None:
        spec["selector"] = selector
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec, "status": status or {}}


def node(
    name: str,
    pool_name: str = "system",
    image: str | None = IMAGE,
    kubelet: str | None = "v1.33.2",
    *,
    unschedulable: bool = False,
    quarantined: bool = False,
    legacy_label: bool = False,
) -> dict[str, Any]:
    labels = {"agentpool": pool_name} if legacy_label else {"kubernetes.azure.com/agentpool": pool_name}
    if image is not None:
        labels["kubernetes.azure.com/node-image-version"] = image
    if quarantined:
        labels["kubernetes.azure.com/upgrade-status"] = "Quarantined"
    body: dict[str, Any] = {"metadata": {"name": name, "labels": labels}, "spec": {}, "status": {"nodeInfo": {}}}
    if kubelet is not None:
        body["status"]["nodeInfo"]["kubeletVersion"] = kubelet
    if unschedulable or quarantined:
        body["spec"]["unschedulable"] = True
    return body


def healthy_nodes(pool_name: str = "system", count: int = 3) -> tuple[dict[str, Any], ...]:
    return tuple(node(f"aks-{pool_name}-1-vmss00000{i}", pool_name) for i in range(count))


@dataclass(frozen=True)
class Case:
    """One cluster's in-cluster state and the verdict one control gives on it (or on one of its pools)."""

    id: str
    expect: str
    pdbs: tuple[Any, ...] = ()
    workloads: tuple[Any, ...] = ()
    nodes: tuple[Any, ...] = field(default_factory=healthy_nodes)
    pools: tuple[dict[str, Any], ...] = field(default_factory=lambda: (pool("system"),))
    missing: tuple[str, ...] = ()  # evidence kinds not collected
    errors: tuple[tuple[str, int | None, str, str], ...] = ()  # (call, status, code, message)
    requested: bool = True  # the scan ran with --kubernetes
    power: str = "Running"
    pool: str | None = None
    says: tuple[str, ...] = ()


NO_CONTEXT = ("kubernetes", None, "NoKubeconfigContext", "no context of kubeconfig ~/.kube/config has the API server")

CASES: dict[str, tuple[Case, ...]] = {
    "AKS-PDB-01": (
        Case("no-pdb", "pass", says=("no PodDisruptionBudget",)),
        Case(
            "max-unavailable-1",
            "pass",
            (pdb("api", app="api", max_unavailable=1),),
            (workload("api"),),
            says=("all 1 PodDisruptionBudget(s) let a drain evict",),
        ),
        Case("min-available-below-ready", "pass", (pdb("api", app="api", min_available=2),), (workload("api"),)),
        Case("min-available-50pct", "pass", (pdb("api", app="api", min_available="50%"),), (workload("api", 4, 4),)),
        Case(
            "empty-selector-selects-the-namespace",
            "pass",
            (pdb("all", selector={}, max_unavailable=1),),
            (workload("api"), workload("web")),
        ),
        Case(
            "bare-replicaset-counts",
            "pass",
            (pdb("rs", app="rs", max_unavailable=1),),
            (workload("rs", kind="ReplicaSet"),),
        ),
        Case(
            "match-expressions",
            "fail",
            (
                pdb(
                    "api",
                    selector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]},
                    max_unavailable=0,
                ),
            ),
            (workload("api"),),
            says=("shop/api (Deployment/api (3/3 ready)): maxUnavailable 0 allows no eviction",),
        ),
        Case(
            "max-unavailable-0",
            "fail",
            (pdb("api", app="api", max_unavailable=0), pdb("web", app="web", max_unavailable=1)),
            (workload("api"), workload("web")),
            says=("1 of 2 PodDisruptionBudget(s) block node drains", "shop/api"),
        ),
        Case(
            "two-blocking-listed-in-order",
            "fail",
            (pdb("web", app="web", max_unavailable=0), pdb("api", app="api", min_available="100%")),
            (workload("web"), workload("api")),
            says=("2 of 2 PodDisruptionBudget(s) block node drains: shop/api",),
        ),
        Case("max-unavailable-0pct", "fail", (pdb("api", app="api", max_unavailable="0%"),), (workload("api"),)),
        Case(
            "min-available-100pct",
            "fail",
            (pdb("api", app="api", min_available="100%"),),
            (workload("api"),),
            says=("minAvailable 100% allows no eviction",),
        ),
        Case(
            "min-available-equals-replicas",
            "fail",
            (pdb("api", app="api", min_available=3),),
            (workload("api"),),
            says=("minAvailable 3 with 3 ready: no pod may be evicted",),
        ),
        Case(
            "min-available-equals-ready",
            "fail",
            (pdb("api", app="api", min_available=2),),
            (workload("api", 3, 2),),
            says=("minAvailable 2 with 2 ready",),
        ),
        Case(
            "min-available-pct-rounds-up",
            "fail",
            (pdb("api", app="api", min_available="80%"),),
            (workload("api"),),
            says=("minAvailable 80% (3 of 3 pods) with 3 ready",),
        ),
        Case(
            "single-replica-min-available-1",
            "fail",
            (pdb("api", app="api", min_available=1),),
            (workload("api", 1, 1),),
        ),
        Case(
            "statefulset",
            "fail",
            (pdb("db", app="db", max_unavailable=0),),
            (workload("db", kind="StatefulSet"),),
            says=("StatefulSet/db",),
        ),
        Case(
            "owned-replicaset-not-double-counted",
            "fail",
            (pdb("api", app="api", min_available=4),),
            (workload("api"), workload("api-5d8f", owner="api", kind="ReplicaSet", labels={"app": "api"})),
            says=("minAvailable 4 with 3 ready",),
        ),
        Case(
            "selects-no-pod",
            "warn",
            (pdb("old", app="api-v1", max_unavailable=0),),
            (workload("api"),),
            says=("selects no pod",),
        ),
        Case(
            "other-namespace-selects-no-pod",
            "warn",
            (pdb("api", app="api", namespace="other", max_unavailable=1),),
            (workload("api"),),
        ),
        Case(
            "single-replica",
            "warn",
            (pdb("api", app="api", max_unavailable=1),),
            (workload("api", 1, 1),),
            says=("single-replica",),
        ),
        Case(
            "malformed-selector",
            "unknown",
            (pdb("api", selector={"matchExpressions": [{"key": "app", "operator": "Near"}]}, max_unavailable=1),),
            (workload("api"),),
            says=("selector cannot be read",),
        ),
        Case(
            "no-context",
            "unknown",
            missing=KINDS,
            errors=(NO_CONTEXT,),
            says=("in-cluster evidence missing: NoKubeconfigContext: no context of kubeconfig",),
        ),
        Case(
            "pdbs-forbidden",
            "unknown",
            missing=("k8s_pod_disruption_budgets",),
            errors=(("k8s_pod_disruption_budgets", 403, "Forbidden", "poddisruptionbudgets is forbidden"),),
            says=("403 Forbidden: poddisruptionbudgets is forbidden",),
        ),
        Case(
            "workloads-forbidden",
            "unknown",
            (pdb("api", app="api", max_unavailable=0),),
            missing=("k8s_deployments",),
            errors=(("k8s_deployments", 403, "Forbidden", "deployments is forbidden"),),
            says=("the workloads they select were not collected",),
        ),
        # Malformed list items (i17's hostile-input bar): never a crash, never a pass on what cannot be read.
        Case(
            "pdb-item-not-an-object",
            "unknown",
            (None, pdb("api", app="api", max_unavailable=1)),
            (workload("api"),),
            says=("?/(list item 1): is not a readable PodDisruptionBudget",),
        ),
        Case(
            "pdb-metadata-not-an-object",
            "unknown",
            ({"metadata": "shop/api", "spec": {"maxUnavailable": 0}},),
            (workload("api"),),
            says=("is not a readable PodDisruptionBudget",),
        ),
        Case(
            "unreadable-workload-item",
            "unknown",
            (pdb("api", app="api", max_unavailable=1),),
            (workload("api"), {"_kind": "Deployment", "metadata": "web"}),
            says=("1 workload item(s) of the cluster cannot be read",),
        ),
        Case(
            "owner-references-not-a-list",
            "unknown",
            (pdb("rs", app="rs", max_unavailable=1),),
            (
                {
                    **workload("rs", kind="ReplicaSet"),
                    "metadata": {"name": "rs", "namespace": "shop", "ownerReferences": "x"},
                },
            ),
            says=("cannot be read",),
        ),
        Case(
            "blocking-pdb-beside-an-unreadable-workload",
            "fail",
            (pdb("api", app="api", max_unavailable=0),),
            (workload("api"), {"_kind": "StatefulSet"}),
            says=("maxUnavailable 0 allows no eviction",),
        ),
        Case("stopped", "unknown", missing=KINDS, power="Stopped", says=("the cluster is stopped",)),
        Case("not-requested", "unknown", requested=False, says=("auditor scan --kubernetes",)),
    ),
    "AKS-NOD-01": (
        Case("same-image-and-kubelet", "pass", pool="system", says=("all 3 node(s) run " + IMAGE,)),
        Case(
            "kubelet-patch-differs",
            "pass",
            nodes=(node("n1", kubelet="v1.33.1"), node("n2")),
            pool="system",
        ),
        Case("legacy-pool-label", "pass", nodes=(node("n1", legacy_label=True),), pool="system"),
        Case(
            "pool-scaled-to-zero",
            "pass",
            nodes=(),
            pools=({**pool("system"), "count": 0},),
            pool="system",
            says=("no node to compare",),
        ),
        Case(
            "node-on-old-image",
            "fail",
            nodes=(node("n1"), node("n2", image=OLD_IMAGE)),
            pool="system",
            says=("1 on another node image than the pool's " + IMAGE, "n2 runs " + OLD_IMAGE),
        ),
        Case(
            "kubelet-minor-behind",
            "fail",
            nodes=(node("n1"), node("n2", kubelet="v1.32.9")),
            pool="system",
            says=("1 on another Kubernetes minor than the pool's 1.33.2 (n2 kubelet v1.32.9)",),
        ),
        Case(
            "quarantined",
            "fail",
            nodes=(node("n1"), node("n2", quarantined=True)),
            pool="system",
            says=("1 quarantined",),
        ),
        Case(
            "cordoned",
            "fail",
            nodes=(node("n1"), node("n2", unschedulable=True)),
            pool="system",
            says=("1 cordoned (unschedulable: n2)",),
        ),
        Case(
            "failed-pool",
            "fail",
            nodes=(node("n1"), node("n2", image=OLD_IMAGE)),
            pools=(pool("system", provisioning_state="Failed"),),
            pool="system",
            says=("(the pool is Failed)",),
        ),
        Case(
            "upgrading",
            "warn",
            nodes=(node("n1"), node("n2", image=OLD_IMAGE)),
            pools=(pool("system", provisioning_state="Upgrading"),),
            pool="system",
            says=("the pool is Upgrading",),
        ),
        Case(
            "other-pool-untouched",
            "pass",
            nodes=(node("s1"), node("u1", "user", image=OLD_IMAGE)),
            pools=(pool("system"), pool("user", mode="User")),
            pool="system",
        ),
        Case(
            "no-node-labelled",
            "unknown",
            nodes=(node("n1", "elsewhere"),),
            pool="system",
            says=("no node carries the label kubernetes.azure.com/agentpool=system",),
        ),
        Case("no-image-label", "unknown", nodes=(node("n1", image=None),), pool="system", says=("node-image label",)),
        Case(
            "unreadable-node-item",
            "unknown",
            nodes=(node("n1"), None, {"metadata": {"name": "n3", "labels": ["agentpool=system"]}}),
            pool="system",
            says=("2 item(s) of the cluster's node list cannot be read",),
        ),
        Case(
            "nodes-forbidden",
            "unknown",
            missing=("k8s_nodes",),
            errors=(("k8s_nodes", 403, "Forbidden", "nodes is forbidden"),),
            pool="system",
            says=("nodes is forbidden",),
        ),
        Case("no-context", "unknown", missing=KINDS, errors=(NO_CONTEXT,), pool="system"),
        Case("not-requested", "unknown", requested=False, pool="system", says=("did not read inside",)),
    ),
}


def cluster_name(control_id: str, case: Case) -> str:
    return f"{control_id[4:].lower()}-{case.id}"


def list_body(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    list_kind, api_version = LISTS[kind]
    return {"kind": list_kind, "apiVersion": api_version, "metadata": {"resourceVersion": "7"}, "items": items}


def store_kubernetes_scan(db: Path, members: list[tuple[str, Case]], *, requested: bool, scan_id: str) -> str:
    """One scan holding these cases' clusters and, when requested, their in-cluster evidence and errors."""
    evidence = [EvidenceRow("subscription", SUB, "GET /subscriptions", {"subscriptionId": SUB, "displayName": "P"})]
    errors: list[ErrorRow] = []
    for name, case in members:
        body = cluster(name, pools=list(case.pools), power=case.power)
        evidence.append(EvidenceRow("cluster", body["id"], "POST resources", body))
        if not requested:
            continue
        by_kind: dict[str, list[dict[str, Any]]] = {
            "k8s_nodes": list(case.nodes),
            "k8s_pod_disruption_budgets": list(case.pdbs),
            "k8s_deployments": [],
            "k8s_stateful_sets": [],
            "k8s_replica_sets": [],
        }
        for item in case.workloads:
            target = {"Deployment": "k8s_deployments", "StatefulSet": "k8s_stateful_sets"}.get(
                item["_kind"], "k8s_replica_sets"
            )
            by_kind[target].append({k: v for k, v in item.items() if k != "_kind"})
        if set(KINDS) - set(case.missing):
            evidence.append(EvidenceRow("k8s_context", body["id"], "kubeconfig test", {"context": name}))
        for kind in KINDS:
            if kind not in case.missing:
                evidence.append(EvidenceRow(kind, body["id"], f"GET {kind}", list_body(kind, by_kind[kind])))
        errors += [ErrorRow(call, body["id"], status, code, message) for call, status, code, message in case.errors]
    record = ScanRecord(
        scan_id=scan_id,
        started_at=AS_OF,
        finished_at=AS_OF,
        tool_version="test",
        cloud="AzureCloud",
        endpoint="https://test",
        scope={"kubernetes": {"kubeconfig": "~/.kube/config"}} if requested else {},
        stats={"calls": {}},
        evidence=evidence,
        errors=errors,
    )
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    return scan_id


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str | None], Finding]:
    db = tmp_path_factory.mktemp("k8s") / "cases.duckdb"
    found: dict[tuple[str, str, str | None], Finding] = {}
    for requested in (True, False):
        members = [
            (cluster_name(cid, case), case)
            for cid, cases in CASES.items()
            for case in cases
            if case.requested == requested
        ]
        scan_id = store_kubernetes_scan(db, members, requested=requested, scan_id=f"scan-{requested}")
        con = open_db(db)
        try:
            for f in evaluate_scan(con, scan_id, default_policy()):
                found[(f.control_id, f.cluster, f.node_pool)] = f
        finally:
            con.close()
    return found


@pytest.mark.parametrize(
    ("control_id", "case"),
    [(cid, case) for cid, cases in CASES.items() for case in cases],
    ids=[f"{cid}:{case.id}" for cid, cases in CASES.items() for case in cases],
)
def test_case(results: dict[tuple[str, str, str | None], Finding], control_id: str, case: Case) -> None:
    name = cluster_name(control_id, case)
    finding = results.get((control_id, name, case.pool))
    assert finding is not None, f"no finding of {control_id} for {name} pool {case.pool}"
    assert finding.status == case.expect, f"{finding.status}: {finding.message} [{finding.evidence}]"
    for text in case.says:
        assert text in finding.message, f"{text!r} not in {finding.message!r}"
    assert finding.evidence and finding.title
    if finding.status in ("fail", "warn"):
        assert finding.remediation.startswith("az aks "), finding.remediation
    else:
        assert finding.remediation == ""


def test_unknown_is_never_pass_without_kubernetes_evidence(results: dict[tuple[str, str, str | None], Finding]) -> None:
    """Every cluster of the scan without --kubernetes, whatever its state, is unknown for both controls."""
    without = [f for (cid, _, _), f in results.items() if cid in CASES and f.cluster.endswith("not-requested")]
    assert without and {f.status for f in without} == {"unknown"}


def test_pdb_messages_have_a_total_order(results: dict[tuple[str, str, str | None], Finding]) -> None:
    """PDBs are listed by namespace then name, whatever order the API returned them in."""
    case = next(c for c in CASES["AKS-PDB-01"] if c.id == "two-blocking-listed-in-order")
    finding = results[("AKS-PDB-01", cluster_name("AKS-PDB-01", case), None)]
    assert finding.message.index("shop/api") < finding.message.index("shop/web")
    assert finding.evidence.endswith("PodDisruptionBudgets: shop/api=fail, shop/web=fail")
