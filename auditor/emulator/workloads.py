"""What runs inside the generated clusters: workloads, their PodDisruptionBudgets (good ones, blocking ones, ones
that guard nothing), nodes left behind by upgrades, and how each API server answers the auditor.

Deterministic: a function of the fleet seed, the cluster's id and its ARM record, drawn from its own random stream
(the fleet generator's stream is untouched), so the same cluster keeps the same workloads month after month while
its nodes follow its pools. Objects are shaped as the Kubernetes API returns them (docs/emulator.md).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.emulator.kubernetes import node_name, pool_node_count
from auditor.kubelabels import QUARANTINED, UPGRADE_STATUS_LABEL

# (name, kind) of the services an application team runs; StatefulSets hold state.
_SERVICES = (
    ("api", "Deployment"),
    ("web", "Deployment"),
    ("worker", "Deployment"),
    ("gateway", "Deployment"),
    ("scheduler", "Deployment"),
    ("cache", "StatefulSet"),
    ("queue", "StatefulSet"),
    ("db", "StatefulSet"),
)
_REPLICAS = {"prod": (2, 6), "staging": (1, 3), "dev": (1, 2)}
_PDB_CHANCE = {"prod": 0.85, "staging": 0.55, "dev": 0.3}
_BLOCKING_CHANCE = {"prod": 0.07, "staging": 0.1, "dev": 0.14}
_ACCESS = (
    ("granted", 0.93),
    ("no-context", 0.025),
    ("forbidden", 0.02),
    ("unauthorized", 0.01),
    ("unreachable", 0.015),
)


def kubernetes_sections(
    clusters: Iterable[Mapping[str, Any]], seed: int, *, access_faults: bool = True
) -> dict[str, dict[str, Any]]:
    """The fleet's `kubernetes` key: one entry per cluster, keyed by lower-case cluster id. With `access_faults`,
    a few clusters have no kubeconfig context, refuse the auditor (401/403, or nodes only) or are unreachable."""
    return {str(c["id"]).lower(): cluster_content(c, seed, access_faults=access_faults) for c in clusters}


def cluster_content(cluster: Mapping[str, Any], seed: int, *, access_faults: bool = True) -> dict[str, Any]:
    """One cluster's in-cluster content (the value of fleet["kubernetes"][cluster id])."""
    cluster_id = str(cluster["id"]).lower()
    rng = random.Random(f"aks-kubernetes|{seed}|{cluster_id}")
    tags = cluster.get("tags") or {}
    environment = str(tags.get("environment") or "dev")
    environment = environment if environment in _REPLICAS else "dev"
    namespace = re.sub(r"[^a-z0-9-]", "-", str(tags.get("app") or "apps").lower())[:63].strip("-") or "apps"
    content: dict[str, Any] = {
        "deployments": [],
        "statefulSets": [],
        "replicaSets": [],
        "podDisruptionBudgets": [],
    }
    access = _pick(rng, _ACCESS)
    nodes_forbidden = rng.random() < 0.02
    if access_faults and access != "granted":
        content["access"] = access
    elif access_faults and nodes_forbidden:
        # Azure Kubernetes Service RBAC Reader, for instance, reads workloads and PDBs but not nodes.
        content["forbiddenResources"] = ["nodes"]

    # AKS's own add-ons in kube-system, with the budgets that let a drain move them one pod at a time.
    _workload(content, cluster_id, "kube-system", "coredns", "Deployment", 2, 2, {"k8s-app": "kube-dns"})
    _pdb(content, cluster_id, "kube-system", "coredns-pdb", {"k8s-app": "kube-dns"}, 2, 2, max_unavailable=1)
    _workload(content, cluster_id, "kube-system", "metrics-server", "Deployment", 2, 2, {"k8s-app": "metrics-server"})
    _pdb(content, cluster_id, "kube-system", "metrics-server-pdb", {"k8s-app": "metrics-server"}, 2, 2, min_available=1)

    blocking = False
    low, high = _REPLICAS[environment]
    for name, kind in rng.sample(_SERVICES, k=rng.randint(2, 5)):
        workload = f"{namespace}-{name}"
        replicas = rng.randint(low, high) if kind == "Deployment" else rng.choice((1, 3, 3))
        ready = replicas if rng.random() > 0.08 else max(0, replicas - 1)
        selector = {"app": workload}
        _workload(content, cluster_id, namespace, workload, kind, replicas, ready, selector)
        if rng.random() > _PDB_CHANCE[environment] or (replicas == 1 and rng.random() < 0.6):
            continue
        pdb_name = f"{workload}-pdb"
        roll = rng.random()
        if roll < _BLOCKING_CHANCE[environment]:
            blocking = True
            shape = rng.choice(("maxUnavailable0", "minAvailableAll", "minAvailable100", "maxUnavailable0%"))
            if shape == "maxUnavailable0":
                _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, max_unavailable=0)
            elif shape == "maxUnavailable0%":
                _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, max_unavailable="0%")
            elif shape == "minAvailable100":
                _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, min_available="100%")
            else:
                _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, min_available=replicas)
        elif roll < _BLOCKING_CHANCE[environment] + 0.04:
            # A selector that no longer matches after a relabel: the budget guards nothing.
            stale = {"app": f"{workload}-v1"}
            _pdb(content, cluster_id, namespace, pdb_name, stale, 0, 0, max_unavailable=1)
        elif replicas >= 3 and rng.random() < 0.5:
            _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, min_available=replicas - 1)
        elif rng.random() < 0.3:
            _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, max_unavailable="25%")
        else:
            _pdb(content, cluster_id, namespace, pdb_name, selector, replicas, ready, max_unavailable=1)
    patches = _node_patches(cluster, rng, blocking)
    if patches:
        content["nodePatches"] = patches
    for key in ("deployments", "statefulSets", "replicaSets", "podDisruptionBudgets"):
        content[key].sort(key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))
    return content


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


def _uid(cluster_id: str, *parts: str) -> str:
    """A stable UID for a generated object (UUID-shaped, as the API server writes them)."""
    h = hashlib.sha1("/".join((cluster_id, *parts)).encode(), usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _workload(
    content: dict[str, Any],
    cluster_id: str,
    namespace: str,
    name: str,
    kind: str,
    replicas: int,
    ready: int,
    selector: dict[str, str],
) -> None:
    uid = _uid(cluster_id, namespace, kind, name)
    template_labels = {**selector, "app.kubernetes.io/name": name}
    status: dict[str, Any] = {"observedGeneration": 1, "replicas": replicas}
    if ready:  # the API server omits zero counts
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": 1, "labels": dict(selector)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(selector)},
            "template": {"metadata": {"labels": template_labels}},
        },
        "status": status,
    }
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = name
        content["statefulSets"].append(body)
        return
    content["deployments"].append(body)
    # The Deployment's current ReplicaSet, owned by it (the model counts its pods through the Deployment).
    template_hash = hashlib.sha256(uid.encode()).hexdigest()[:10]
    labels = {**template_labels, "pod-template-hash": template_hash}
    content["replicaSets"].append(
        {
            "metadata": {
                "name": f"{name}-{template_hash}",
                "namespace": namespace,
                "uid": _uid(cluster_id, namespace, "ReplicaSet", name, template_hash),
                "labels": labels,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": name,
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {**selector, "pod-template-hash": template_hash}},
                "template": {"metadata": {"labels": labels}},
            },
            "status": dict(status),
        }
    )


def _pdb(
    content: dict[str, Any],
    cluster_id: str,
    namespace: str,
    name: str,
    selector: dict[str, str],
    expected: int,
    healthy: int,
    *,
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
) -> None:
    """A policy/v1 PodDisruptionBudget with the status the disruption controller would write."""
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(selector)}}
    if min_available is not None:
        spec["minAvailable"] = min_available
        desired = _scaled(min_available, expected)
    else:
        spec["maxUnavailable"] = max_unavailable
        desired = max(0, expected - _scaled(max_unavailable if max_unavailable is not None else 0, expected))
    content["podDisruptionBudgets"].append(
        {
            "metadata": {"name": name, "namespace": namespace, "uid": _uid(cluster_id, namespace, "PDB", name)},
            "spec": spec,
            "status": {
                "observedGeneration": 1,
                "expectedPods": expected,
                "currentHealthy": healthy,
                "desiredHealthy": desired,
                "disruptionsAllowed": max(0, healthy - desired),
            },
        }
    )


def _scaled(value: int | str, total: int) -> int:
    """An int-or-percent over `total`, rounded up (the disruption controller's reading)."""
    if isinstance(value, str) and value.endswith("%"):
        return -(-int(value[:-1]) * total // 100)
    return int(value)


def older_image(image: str, months: int) -> str:
    """The same image family some months older (YYYYMM.DD.patch, or Windows build.rev.YYMMDD); unchanged when
    the version has neither form."""

    def back(year: int, month: int) -> tuple[int, int]:
        month -= months
        while month < 1:
            year, month = year - 1, month + 12
        return year, month

    linux = re.match(r"^(.*-)(\d{4})(\d{2})\.(\d{2})\.(\d+)$", image)
    if linux:
        year, month = back(int(linux.group(2)), int(linux.group(3)))
        return f"{linux.group(1)}{year:04d}{month:02d}.{linux.group(4)}.{linux.group(5)}"
    windows = re.match(r"^(.*-\d+)\.(\d+)\.(\d{2})(\d{2})(\d{2})$", image)
    if windows:
        year, month = back(2000 + int(windows.group(3)), int(windows.group(4)))
        revision = max(1, int(windows.group(2)) - 100 * months)
        return f"{windows.group(1)}.{revision}.{year % 100:02d}{month:02d}{windows.group(5)}"
    return image


def _older_kubelet(version: str) -> str:
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)$", version)
    if not match or int(match.group(2)) == 0:
        return version
    return f"{match.group(1)}.{int(match.group(2)) - 1}.{match.group(3)}"


def _node_patches(cluster: Mapping[str, Any], rng: random.Random, blocking: bool) -> dict[str, Any]:
    """Nodes that do not run what their pool reports: left behind on an older image (and kubelet), quarantined
    by an upgrade that could not drain them (likelier where a PDB blocks drains), or cordoned and forgotten."""
    patches: dict[str, Any] = {}
    properties = cluster.get("properties") or {}
    for pool in properties.get("agentPoolProfiles") or []:
        count = pool_node_count(cluster, pool)
        if not count:
            continue
        image = str(pool.get("nodeImageVersion") or "")
        version = str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or "")
        roll = rng.random()
        os_type = str(pool.get("osType") or "Linux")
        node = node_name(str(cluster["id"]), str(pool["name"]), os_type, rng.randrange(count))
        if roll < (0.25 if blocking else 0.02):
            stale_kubelet = rng.random() < 0.4
            patches[node] = {
                "metadata": {
                    "labels": {
                        UPGRADE_STATUS_LABEL: QUARANTINED,
                        "kubernetes.azure.com/node-image-version": older_image(image, 1),
                    }
                },
                "spec": {
                    "unschedulable": True,
                    "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
                },
                **(
                    {"status": {"nodeInfo": {"kubeletVersion": f"v{_older_kubelet(version)}"}}}
                    if stale_kubelet and version
                    else {}
                ),
            }
        elif roll < (0.25 if blocking else 0.02) + 0.04:
            patches[node] = {"metadata": {"labels": {"kubernetes.azure.com/node-image-version": older_image(image, 2)}}}
        elif roll < (0.25 if blocking else 0.02) + 0.06:
            patches[node] = {
                "spec": {
                    "unschedulable": True,
                    "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
                }
            }
    return patches
