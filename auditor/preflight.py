"""The upgrade gate: may this cluster's control plane, or this node pool, be upgraded now? Live GET reads of the
cluster, its agent pools and its upgrade profile through the Azure SDK (the credentials of `auditor scan`), then
the checks of docs/preflight.md. Nothing is stored; nothing is written to Azure.

Order AKS requires (upgrade-aks-control-plane.md, upgrade-aks-node-pools-rolling.md): control plane first, then the
System pools, then the User pools, each step on a cluster that is not Failed and has no other upgrade in flight.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from auditor.collect.clients import AzureClients, credential_from_environment
from auditor.errors import AuditorError, InputError

_CLUSTER_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.ContainerService/"
    r"managedClusters/(?P<name>[^/]+)/?$",
    re.IGNORECASE,
)
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# provisioningState values of a resource at rest; anything else is an operation in flight (Upgrading, Updating,
# Scaling, Creating, Deleting, Starting, Stopping...).
AT_REST = ("succeeded", "failed", "canceled")

PASS, BLOCK, SKIP = "pass", "block", "skip"


class PreflightUsageError(InputError):
    """The arguments cannot name a step (malformed id or version): a usage error, exit 2."""


@dataclass
class Check:
    """One check: its verdict, what it found, and what to do when it blocks."""

    name: str
    status: str  # pass | block | skip
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    first: str = ""  # the first thing to do when it blocks


@dataclass
class PreflightResult:
    """The verdict for one upgrade step."""

    cluster_id: str
    step: str  # control-plane | system-pool | user-pool
    pool: str | None
    target: str | None
    checks: list[Check]

    @property
    def allowed(self) -> bool:
        return not any(c.status == BLOCK for c in self.checks)

    def verdict(self) -> str:
        """One line: allowed, or what blocks and what to do first."""
        what = "the control plane" if self.pool is None else f"pool '{self.pool}'"
        to = f" to {self.target}" if self.target else ""
        if self.allowed:
            return f"allowed: {what} of {self._name} may be upgraded{to} now"
        blocking = [c for c in self.checks if c.status == BLOCK]
        first = blocking[0]
        more = f" (and {len(blocking) - 1} more check(s))" if len(blocking) > 1 else ""
        return f"blocked: {first.detail}{more}; first: {first.first}"

    @property
    def _name(self) -> str:
        return self.cluster_id.rstrip("/").split("/")[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "step": self.step,
            "pool": self.pool,
            "target_version": self.target,
            "allowed": self.allowed,
            "verdict": self.verdict(),
            "checks": [asdict(c) for c in self.checks],
        }


def parse_cluster_id(cluster_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, name) of a managed cluster's ARM id; a usage error otherwise."""
    match = _CLUSTER_ID.match(cluster_id.strip())
    if not match:
        raise PreflightUsageError(
            f"--cluster {cluster_id!r} is not a managed cluster id "
            "(/subscriptions/ID/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME)"
        )
    return match["sub"], match["rg"], match["name"]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")) if version and _VERSION.match(version) else ()


def _wire(model: Any) -> dict[str, Any]:
    return model.as_dict() if hasattr(model, "as_dict") else dict(model)


def _state(body: dict[str, Any]) -> str:
    return str(body.get("provisioning_state") or body.get("provisioningState") or "unknown")


def _version(body: dict[str, Any], *keys: str) -> str:
    for key in keys:
        if body.get(key):
            return str(body[key])
    return ""


def read_cluster(clients: Any, cluster_id: str) -> dict[str, Any]:
    """GET the cluster, its agent pools and its upgrade profile (three read calls)."""
    # Deferred for import cost: the Azure SDK loads only when this runs.
    from azure.core.exceptions import HttpResponseError, ServiceRequestError

    subscription, group, name = parse_cluster_id(cluster_id)
    client = clients.container_service(subscription)
    try:
        cluster = _wire(client.managed_clusters.get(group, name))
        pools = [_wire(p) for p in client.agent_pools.list(group, name)]
        profile = _wire(client.managed_clusters.get_upgrade_profile(group, name))
    except HttpResponseError as exc:
        code = getattr(getattr(exc, "error", None), "code", None) or ""
        raise AuditorError(
            f"cannot read {cluster_id}: {exc.status_code or ''} {code}: {' '.join(str(exc.message).split())[:300]}"
        ) from exc
    except ServiceRequestError as exc:
        raise AuditorError(f"cannot reach Azure to read {cluster_id}: {' '.join(str(exc).split())[:300]}") from exc
    return {"cluster": cluster, "pools": pools, "profile": profile}


def evaluate_preflight(
    live: dict[str, Any], cluster_id: str, pool: str | None = None, target: str | None = None
) -> PreflightResult:
    """The checks for one step, from the live reads (pure: tests feed it payloads too)."""
    if target is not None and not _VERSION.match(target):
        raise PreflightUsageError(f"--target-version {target!r} is not X.Y.Z")
    cluster = live["cluster"]
    properties = cluster.get("properties") or cluster
    pools = live["pools"]
    profile = live["profile"]
    profile_props = profile.get("properties") or profile
    name = cluster_id.rstrip("/").split("/")[-1]
    group = parse_cluster_id(cluster_id)[1]
    cp_state = _state(properties)
    cp_version = _version(properties, "current_kubernetes_version", "currentKubernetesVersion", "kubernetes_version")
    power = ((properties.get("power_state") or properties.get("powerState") or {}).get("code")) or "Running"
    pool_rows = []
    for p in pools:
        body = p.get("properties") or p
        pool_rows.append(
            {
                "name": p.get("name") or body.get("name"),
                "mode": str(body.get("mode") or "User"),
                "state": _state(body),
                "version": _version(
                    body, "current_orchestrator_version", "currentOrchestratorVersion", "orchestrator_version"
                ),
                "requested": _version(body, "orchestrator_version", "orchestratorVersion"),
            }
        )
    pool_rows.sort(key=lambda r: str(r["name"]).lower())
    upgrade = f"az aks upgrade -g {group} -n {name}"
    checks: list[Check] = []
    evidence_cp = {"provisioningState": cp_state, "currentKubernetesVersion": cp_version, "powerState": power}

    checks.append(
        Check(
            "cluster-running",
            BLOCK if power.lower() == "stopped" else PASS,
            f"cluster {name} is stopped" if power.lower() == "stopped" else f"cluster {name} is running",
            {"powerState": power},
            f"az aks start -g {group} -n {name}",
        )
    )
    failed = [r for r in pool_rows if r["state"].lower() == "failed"]
    nothing_failed = cp_state.lower() != "failed" and not failed
    failed_names = ", ".join(f"'{r['name']}'" for r in failed)
    checks.append(
        Check(
            "nothing-failed",
            PASS if nothing_failed else BLOCK,
            "neither the cluster nor any pool is Failed"
            if nothing_failed
            else (f"cluster {name} is Failed" if cp_state.lower() == "failed" else f"pool(s) {failed_names} Failed"),
            {"cluster": cp_state, "pools": {r["name"]: r["state"] for r in pool_rows}},
            f"az aks show -g {group} -n {name} -o table, find why it failed, and reconcile it "
            f"(az aks update -g {group} -n {name}) before any upgrade",
        )
    )

    if pool is None:
        step = "control-plane"
        in_flight = [r for r in pool_rows if r["state"].lower() not in AT_REST]
        busy_cp = cp_state.lower() not in AT_REST
        checks.append(
            Check(
                "control-plane-idle",
                BLOCK if busy_cp else PASS,
                f"the control plane is {cp_state}" if busy_cp else f"the control plane is {cp_state} at {cp_version}",
                evidence_cp,
                f"wait until the running operation on {name} ends (az aks wait -g {group} -n {name} --updated)",
            )
        )
        checks.append(
            Check(
                "no-pool-upgrading",
                BLOCK if in_flight else PASS,
                "pool(s) " + ", ".join(f"'{r['name']}' ({r['state']})" for r in in_flight) + " are mid-operation"
                if in_flight
                else "no pool is mid-operation",
                {"pools": {r["name"]: r["state"] for r in pool_rows}},
                "wait for the pool operations to end (az aks nodepool wait)",
            )
        )
        upgrades = [
            str(u.get("kubernetes_version") or u.get("kubernetesVersion"))
            for u in (
                (profile_props.get("control_plane_profile") or profile_props.get("controlPlaneProfile") or {}).get(
                    "upgrades"
                )
                or []
            )
        ]
        upgrades.sort(key=_key)
        if target is None:
            checks.append(Check("target-available", SKIP, "no --target-version given", {"available": upgrades}))
        elif target == cp_version:
            checks.append(
                Check("target-available", PASS, f"the control plane already runs {target}", {"available": upgrades})
            )
        else:
            ok = target in upgrades
            checks.append(
                Check(
                    "target-available",
                    PASS if ok else BLOCK,
                    f"{target} is an available upgrade from {cp_version}"
                    if ok
                    else f"{target} is not an available upgrade from {cp_version} "
                    f"(available: {', '.join(upgrades) or 'none'})",
                    {"available": upgrades, "currentKubernetesVersion": cp_version},
                    f"az aks get-upgrades -g {group} -n {name} -o table, and choose one of its versions",
                )
            )
        return PreflightResult(cluster_id, step, None, target, checks)

    chosen = next((r for r in pool_rows if str(r["name"]).lower() == pool.lower()), None)
    if chosen is None:
        listed = ", ".join(str(r["name"]) for r in pool_rows) or "none"
        raise AuditorError(f"cluster {name} has no agent pool '{pool}' (pools: {listed})")
    system = chosen["mode"].lower() == "system"
    step = "system-pool" if system else "user-pool"
    goal = target or cp_version
    cp_ready = cp_state.lower() == "succeeded" and bool(cp_version) and _key(cp_version) >= _key(goal)
    if cp_ready:
        cp_detail = f"the control plane runs {cp_version} and is {cp_state}"
    elif cp_state.lower() != "succeeded":
        cp_detail = f"the control plane is {cp_state} (at {cp_version or 'an unknown version'})"
    else:
        cp_detail = f"the control plane runs {cp_version}, behind the target {goal}"
    checks.append(
        Check(
            "control-plane-ready",
            PASS if cp_ready else BLOCK,
            cp_detail,
            {**evidence_cp, "target": goal},
            f"upgrade the control plane first: {upgrade} --control-plane-only --kubernetes-version {goal}"
            if cp_state.lower() == "succeeded"
            else f"wait until the control plane's operation ends (az aks wait -g {group} -n {name} --updated)",
        )
    )
    if system:
        checks.append(Check("system-pools-ready", SKIP, f"'{chosen['name']}' is itself a System pool"))
    else:
        behind = [
            r
            for r in pool_rows
            if r["mode"].lower() == "system" and (r["state"].lower() != "succeeded" or _key(r["version"]) < _key(goal))
        ]
        systems = [r for r in pool_rows if r["mode"].lower() == "system"]
        checks.append(
            Check(
                "system-pools-ready",
                BLOCK if behind else PASS,
                "System pool(s) "
                + ", ".join(f"'{r['name']}' at {r['version'] or '?'} ({r['state']})" for r in behind)
                + f" not yet at {goal} and Succeeded"
                if behind
                else f"every System pool runs {goal} or newer and is Succeeded",
                {"systemPools": {r["name"]: {"version": r["version"], "state": r["state"]} for r in systems}},
                (
                    f"upgrade the System pool(s) first: az aks nodepool upgrade -g {group} --cluster-name {name} "
                    f"-n {behind[0]['name']} --kubernetes-version {goal}"
                    if behind and behind[0]["state"].lower() in AT_REST
                    else f"wait for the System pool upgrade to finish (az aks nodepool wait -g {group} "
                    f"--cluster-name {name} -n {behind[0]['name']} --updated)"
                )
                if behind
                else "",
            )
        )
    others = [r for r in pool_rows if r is not chosen and r["state"].lower() not in AT_REST]
    checks.append(
        Check(
            "no-other-pool-upgrading",
            BLOCK if others else PASS,
            "pool(s) " + ", ".join(f"'{r['name']}' ({r['state']})" for r in others) + " are mid-operation"
            if others
            else "no other pool is mid-operation",
            {"pools": {r["name"]: r["state"] for r in pool_rows}},
            f"wait for them (az aks nodepool wait -g {group} --cluster-name {name} -n {others[0]['name']} --updated)"
            if others
            else "",
        )
    )
    busy = chosen["state"].lower() not in AT_REST
    checks.append(
        Check(
            "pool-idle",
            BLOCK if busy else PASS,
            f"pool '{chosen['name']}' is already {chosen['state']}"
            if busy
            else f"pool '{chosen['name']}' runs {chosen['version'] or '?'} and is {chosen['state']}",
            {
                "pool": chosen["name"],
                "provisioningState": chosen["state"],
                "currentOrchestratorVersion": chosen["version"],
            },
            f"wait for its operation to end (az aks nodepool wait -g {group} --cluster-name {name} "
            f"-n {chosen['name']} --updated)",
        )
    )
    if target is not None:
        above = bool(cp_version) and _key(target) > _key(cp_version)
        behind_pool = bool(chosen["version"]) and _key(target) < _key(chosen["version"])
        checks.append(
            Check(
                "target-valid",
                BLOCK if above or behind_pool else PASS,
                f"{target} is newer than the control plane's {cp_version}: node pools cannot run ahead of it"
                if above
                else (
                    f"{target} is older than the pool's {chosen['version']}: pools cannot be downgraded"
                    if behind_pool
                    else f"{target} is within the control plane's {cp_version}"
                ),
                {"target": target, "controlPlane": cp_version, "pool": chosen["version"]},
                f"upgrade the control plane first: {upgrade} --control-plane-only --kubernetes-version {target}"
                if above
                else "choose a version the pool does not already exceed",
            )
        )
    return PreflightResult(cluster_id, step, chosen["name"], goal, checks)


def run_preflight(
    cluster_id: str,
    *,
    pool: str | None = None,
    target: str | None = None,
    endpoint: str | None = None,
    ca_bundle: str | None = None,
    cloud: str = "AzureCloud",
    credential: Any = None,
) -> PreflightResult:
    """Read the cluster live and decide the step (what `auditor preflight` runs)."""

    parse_cluster_id(cluster_id)
    if target is not None and not _VERSION.match(target):
        raise PreflightUsageError(f"--target-version {target!r} is not X.Y.Z")
    clients = AzureClients(
        credential or credential_from_environment(), cloud=cloud, endpoint=endpoint, ca_bundle=ca_bundle
    )
    return evaluate_preflight(read_cluster(clients, cluster_id), cluster_id, pool, target)
