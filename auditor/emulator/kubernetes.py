"""The emulator's Kubernetes API: per cluster of the fleet, the read-only subset the in-cluster collector uses.

Every cluster's API server is reached on the emulator's own port, told apart by TLS SNI: the kubeconfig the
emulator writes gives each context `server: https://127.0.0.1:<port>` and `tls-server-name: <the cluster's
fqdn or privateFQDN>`, so the real `kubernetes` client verifies a certificate for the cluster's own name
(signed by an emulator cluster CA) and the collector matches contexts to clusters exactly as it does in Azure.

Served (GET only; any write is refused): /version, /api/v1/nodes[/NAME],
/apis/policy/v1[/namespaces/NS]/poddisruptionbudgets[/NAME], /apis/apps/v1[/namespaces/NS]/{deployments,
statefulsets,replicasets}[/NAME], lists paged with `limit` and `continue`. Nodes come from the cluster's agent
pools (name, labels, kubelet and node image as ARM reports them) with the fleet's `nodePatches` applied; PDBs and
workloads are the fleet's objects as the Kubernetes API returns them. docs/emulator.md describes the fleet keys.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.emulator.fleet import Fleet, resource_group_of
from auditor.kubelabels import AGENT_POOL_LABEL, LEGACY_AGENT_POOL_LABEL, NODE_IMAGE_LABEL

KUBECONFIG_FILE = "kubeconfig.yaml"
COUNTER_NAMES = (
    "requests",
    "lists",
    "gets",
    "writes_refused",
    "unauthorized",
    "forbidden",
    "not_found",
    "bad_requests",
)


@dataclass(frozen=True)
class _Resource:
    plural: str
    group_version: str  # "v1" for the core group
    kind: str
    fleet_key: str  # key of the fleet's cluster entry ("nodes" are derived from the pools)
    namespaced: bool


_RESOURCES: dict[tuple[str, str], _Resource] = {
    (r.group_version, r.plural): r
    for r in (
        _Resource("nodes", "v1", "Node", "nodes", False),
        _Resource("poddisruptionbudgets", "policy/v1", "PodDisruptionBudget", "podDisruptionBudgets", True),
        _Resource("deployments", "apps/v1", "Deployment", "deployments", True),
        _Resource("statefulsets", "apps/v1", "StatefulSet", "statefulSets", True),
        _Resource("replicasets", "apps/v1", "ReplicaSet", "replicaSets", True),
    )
}


@dataclass(frozen=True)
class KubeReply:
    """An answer of the Kubernetes API: status and JSON body."""

    status: int
    body: Any


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> KubeReply:
    """A metav1.Status error body, as the API server writes it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return KubeReply(code, body)


def api_server_names(cluster: Mapping[str, Any]) -> list[str]:
    """The cluster's API server names (fqdn, privateFQDN), lower case, as a kubeconfig would name them."""
    properties = cluster.get("properties") or {}
    names = [str(properties.get(key) or "").strip().rstrip(".").lower() for key in ("fqdn", "privateFQDN")]
    return [n for n in names if n]


def node_name(cluster_id: str, pool: str, os_type: str, index: int) -> str:
    """An AKS node name: aks-<pool>-<8 digits>-vmss<6 base-36 digits> (Linux), aks<pool><6 digits> (Windows)."""
    if os_type.lower() == "windows":
        return f"aks{pool}{index:06d}"[:15]
    scale_set = int(hashlib.sha256(f"{cluster_id.lower()}|{pool}".encode()).hexdigest(), 16) % 100_000_000
    digits = ""
    number = index
    for _ in range(6):
        number, remainder = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[remainder] + digits
    return f"aks-{pool}-{scale_set:08d}-vmss{digits}"


def pool_node_count(cluster: Mapping[str, Any], pool: Mapping[str, Any]) -> int:
    """How many nodes a pool has: its `count`, none when the pool (or the cluster) is stopped."""
    properties = cluster.get("properties") or {}
    stopped = any(str((p.get("powerState") or {}).get("code", "")).lower() == "stopped" for p in (properties, pool))
    count = pool.get("count")
    return 0 if stopped or not isinstance(count, int) or count <= 0 else count


def pool_node_names(cluster: Mapping[str, Any], pool: Mapping[str, Any]) -> list[str]:
    """Names of a pool's nodes, in index order."""
    os_type = str(pool.get("osType") or "Linux")
    return [node_name(str(cluster["id"]), str(pool["name"]), os_type, i) for i in range(pool_node_count(cluster, pool))]


def derived_nodes(cluster: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The nodes of a cluster's agent pools, labelled and versioned as the pools' ARM records say."""
    properties = cluster.get("properties") or {}
    location = str(cluster.get("location") or "")
    nodes: list[dict[str, Any]] = []
    for pool in properties.get("agentPoolProfiles") or []:
        os_type = str(pool.get("osType") or "Linux")
        version = str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or "")
        image = str(pool.get("nodeImageVersion") or "")
        vm_size = str(pool.get("vmSize") or "")
        arch = "arm64" if re.match(r"^Standard_[A-Za-z]+\d+p", vm_size) else "amd64"  # D4pds_v5: Arm64
        windows = os_type.lower() == "windows"
        for name in pool_node_names(cluster, pool):
            uid = uuid.uuid5(uuid.NAMESPACE_URL, f"{str(cluster['id']).lower()}/nodes/{name}")
            labels = {
                LEGACY_AGENT_POOL_LABEL: pool["name"],
                AGENT_POOL_LABEL: pool["name"],
                "kubernetes.azure.com/cluster": str(properties.get("nodeResourceGroup") or ""),
                "kubernetes.azure.com/mode": str(pool.get("mode") or "User").lower(),
                NODE_IMAGE_LABEL: image,
                "kubernetes.azure.com/os-sku": str(pool.get("osSKU") or ""),
                "kubernetes.azure.com/role": "agent",
                "kubernetes.io/arch": arch,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": os_type.lower(),
                "node.kubernetes.io/instance-type": vm_size,
                "topology.kubernetes.io/region": location,
            }
            nodes.append(
                {
                    "metadata": {
                        "name": name,
                        "uid": str(uid),
                        "labels": labels,
                    },
                    "spec": {"providerID": f"azure://{str(cluster['id']).lower()}/nodes/{name}"},
                    "status": {
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                        # Every field the API marks required, so typed clients (kubernetes' models) read it.
                        "nodeInfo": {
                            "architecture": arch,
                            "bootID": str(uuid.uuid5(uid, "boot")),
                            "containerRuntimeVersion": "containerd://1.7.27",
                            "kernelVersion": "10.0.20348.3207" if windows else "5.15.0-1079-azure",
                            "kubeProxyVersion": f"v{version}" if version else "",
                            "kubeletVersion": f"v{version}" if version else "",
                            "machineID": uid.hex,
                            "operatingSystem": os_type.lower(),
                            "osImage": "Windows Server 2022 Datacenter" if windows else "Ubuntu 22.04.5 LTS",
                            "systemUUID": str(uuid.uuid5(uid, "system")),
                        },
                    },
                }
            )
    return nodes


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _sort_key(item: Mapping[str, Any]) -> tuple[str, str]:
    metadata = item.get("metadata") or {}
    return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _encode_continue(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class _Cluster:
    """One emulated API server: the cluster's ARM body, its fleet entry and its expected bearer token."""

    cluster: dict[str, Any]
    section: dict[str, Any]
    token: str
    objects: dict[str, list[dict[str, Any]]] | None = None
    versions: dict[str, str] = field(default_factory=dict)  # resourceVersion of each list: the content's digest

    @property
    def access(self) -> str:
        if str((self.cluster.get("properties", {}).get("powerState") or {}).get("code", "")).lower() == "stopped":
            return "unreachable"  # a stopped cluster's control plane is deallocated
        return str(self.section.get("access") or "granted")


class KubernetesApi:
    """The API servers of every cluster of a fleet that has an fqdn or privateFQDN, told apart by SNI."""

    def __init__(self, fleet: Fleet) -> None:
        self._clusters: dict[str, _Cluster] = {}
        self._lock = threading.Lock()
        self._counters: Counter[str] = Counter()
        for cluster in fleet.clusters:
            entry = _Cluster(cluster, fleet.kubernetes(cluster["id"]), secrets.token_urlsafe(24))
            for name in api_server_names(cluster):
                self._clusters.setdefault(name, entry)

    @property
    def hosts(self) -> list[str]:
        """Every API server name served, sorted."""
        return sorted(self._clusters)

    def serves(self, host: str | None) -> bool:
        """Whether this SNI name is one of the clusters' API servers."""
        return bool(host) and str(host).lower() in self._clusters

    def certificate_names(self) -> list[str]:
        """DNS names for the API servers' certificate: one wildcard per parent domain (a handful for a fleet of
        thousands: *.hcp.<region>.azmk8s.io), the name itself when it has no parent."""
        names = set()
        for host in self._clusters:
            _, dot, parent = host.partition(".")
            names.add(f"*.{parent}" if dot and "." in parent else host)
        return sorted(names)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {name: self._counters.get(name, 0) for name in COUNTER_NAMES}

    def _count(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._counters[name] += 1

    # ----------------------------------------------------------------- kubeconfig

    def write_kubeconfig(self, path: Path, endpoint_port: int, ca_file: Path) -> Path:
        """A kubeconfig with one context per cluster (named after the cluster, users as `az aks get-credentials`
        names them: clusterUser_<group>_<cluster>), as a scan with --kubernetes would read it.

        Contexts follow each cluster's `access`: `no-context` clusters have none, `unauthorized` ones a token the
        server refuses, `unreachable` (and stopped) ones a loopback port nothing listens on.
        """
        # Deferred for import cost: PyYAML loads only when this runs.
        import yaml

        closed_port = _closed_port()
        clusters: list[dict[str, Any]] = []
        contexts: list[dict[str, Any]] = []
        users: list[dict[str, Any]] = []
        used: set[str] = set()
        seen: set[int] = set()
        for host in sorted(self._clusters):
            entry = self._clusters[host]
            if id(entry) in seen or entry.access == "no-context":
                continue
            seen.add(id(entry))
            cluster = entry.cluster
            name = str(cluster["name"])
            context_name = name if name not in used else f"{name}-{resource_group_of(cluster['id']).lower()}"
            suffix = 2
            while context_name in used:
                context_name, suffix = f"{name}-{suffix}", suffix + 1
            used.add(context_name)
            user = f"clusterUser_{resource_group_of(cluster['id'])}_{name}"
            if user in {u["name"] for u in users}:
                user = f"{user}_{context_name}"
            port = closed_port if entry.access == "unreachable" else endpoint_port
            server_name = api_server_names(cluster)[0]
            clusters.append(
                {
                    "name": context_name,
                    "cluster": {
                        "server": f"https://127.0.0.1:{port}",
                        "tls-server-name": server_name,
                        # Absolute: a kubeconfig's relative paths are read from the kubeconfig's own directory, so a
                        # state directory given relative to the working directory would point nowhere.
                        "certificate-authority": str(ca_file.resolve()),
                    },
                }
            )
            contexts.append({"name": context_name, "context": {"cluster": context_name, "user": user}})
            token = entry.token if entry.access != "unauthorized" else "expired-" + entry.token
            users.append({"name": user, "user": {"token": token}})
        config: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": contexts[0]["name"] if contexts else "",
            "clusters": clusters,
            "contexts": contexts,
            "users": users,
            "preferences": {},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # It holds bearer tokens (of a loopback emulator, but tokens all the same): owner-only.
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    # ----------------------------------------------------------------- requests

    def handle(self, host: str, method: str, path: str, query: Mapping[str, str], authorization: str) -> KubeReply:
        """Answer one request addressed (by SNI) to a cluster's API server."""
        self._count("requests")
        entry = self._clusters[host.lower()]
        if method not in ("GET", "HEAD"):
            self._count("writes_refused")
            return _status(
                405, "MethodNotAllowed", f"the emulator's API servers are read-only: {method} {path} refused"
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), entry.token):
            self._count("unauthorized")
            return _status(401, "Unauthorized", "Unauthorized")
        if path.rstrip("/") == "/version":
            return self._version(entry)
        route = _route(path)
        if route is None:
            self._count("not_found")
            return _status(404, "NotFound", "the server could not find the requested resource")
        resource, namespace, name = route
        if entry.access == "forbidden" or resource.plural in (entry.section.get("forbiddenResources") or []):
            self._count("forbidden")
            verb = "get" if name else "list"
            group = resource.group_version.rpartition("/")[0]
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            return _status(
                403,
                "Forbidden",
                f'{resource.plural} is forbidden: User "auditor" cannot {verb} resource "{resource.plural}" '
                f'in API group "{group}" {scope}',
                {"kind": resource.plural},
            )
        unsupported = sorted(set(query) - {"limit", "continue", "resourceversion", "timeoutseconds", "pretty"})
        if unsupported:
            self._count("bad_requests")
            return _status(
                400, "BadRequest", f"the emulator does not support the parameter(s) {', '.join(unsupported)}"
            )
        objects = self._objects(entry)
        items = [i for i in objects[resource.plural] if not namespace or _sort_key(i)[0] == namespace]
        if name:
            self._count("gets")
            for item in items:
                if _sort_key(item)[1] == name:
                    return KubeReply(200, {"kind": resource.kind, "apiVersion": resource.group_version, **item})
            self._count("not_found")
            return _status(
                404, "NotFound", f'{resource.plural} "{name}" not found', {"name": name, "kind": resource.plural}
            )
        self._count("lists")
        return self._list(resource, items, query, entry.versions[resource.plural])

    def _version(self, entry: _Cluster) -> KubeReply:
        properties = entry.cluster.get("properties") or {}
        version = str(properties.get("currentKubernetesVersion") or properties.get("kubernetesVersion") or "")
        major, _, rest = version.partition(".")
        return KubeReply(
            200,
            {"major": major, "minor": rest.partition(".")[0], "gitVersion": f"v{version}", "platform": "linux/amd64"},
        )

    def _list(
        self, resource: _Resource, items: list[dict[str, Any]], query: Mapping[str, str], resource_version: str
    ) -> KubeReply:
        start = 0
        if query.get("continue"):
            decoded = _decode_continue(query["continue"])
            if decoded is None or decoded.get("r") != resource.plural or not isinstance(decoded.get("o"), int):
                self._count("bad_requests")
                return _status(400, "BadRequest", "continue key is not valid for this list")
            if decoded.get("rv") != resource_version:
                return _status(
                    410, "Expired", "The provided continue parameter is too old to display a consistent list"
                )
            start = decoded["o"]
        limit_text = query.get("limit", "")
        limit = int(limit_text) if limit_text.isdigit() and int(limit_text) > 0 else len(items) or 1
        page = items[start : start + limit]
        metadata: dict[str, Any] = {"resourceVersion": resource_version}
        remaining = len(items) - (start + len(page))
        if remaining > 0:
            metadata["continue"] = _encode_continue({"r": resource.plural, "o": start + limit, "rv": resource_version})
            metadata["remainingItemCount"] = remaining
        # List items carry neither kind nor apiVersion: the list says them once.
        shaped = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in page]
        return KubeReply(
            200,
            {
                "kind": f"{resource.kind}List",
                "apiVersion": resource.group_version,
                "metadata": metadata,
                "items": shaped,
            },
        )

    def _objects(self, entry: _Cluster) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            if entry.objects is None:
                section = entry.section
                nodes = section.get("nodes")
                if nodes is None:
                    patches = section.get("nodePatches") or {}
                    nodes = [
                        merge_patch(n, patches[n["metadata"]["name"]]) if n["metadata"]["name"] in patches else n
                        for n in derived_nodes(entry.cluster)
                    ]
                objects = {"nodes": sorted(nodes, key=_sort_key)}
                for resource in _RESOURCES.values():
                    if resource.plural != "nodes":
                        objects[resource.plural] = sorted(section.get(resource.fleet_key) or [], key=_sort_key)
                entry.versions = {
                    plural: "1" + hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:8]
                    for plural, items in objects.items()
                }
                entry.objects = objects
            return entry.objects


def _route(path: str) -> tuple[_Resource, str, str] | None:
    """(resource, namespace, name) of a Kubernetes API path, or None."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group_version, rest = "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        return None
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 2:
        return None
    resource = _RESOURCES.get((group_version, rest[0]))
    if resource is None or (namespace and not resource.namespaced):
        return None
    return resource, namespace, rest[1] if len(rest) == 2 else ""


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections to it are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
