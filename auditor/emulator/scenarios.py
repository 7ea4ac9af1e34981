"""Mid-upgrade states for the emulator's fleets: a cluster caught in the middle of an upgrade, shaped as ARM shows
it (`provisioningState` `Upgrading`; `kubernetesVersion`/`orchestratorVersion` already the target while
`currentKubernetesVersion`/`currentOrchestratorVersion` still the version that runs), so `auditor preflight` and
pipelines can be tried against every step of the order AKS requires: control plane, System pools, User pools.

Stages (each one leaves the earlier steps done):

- ``control-plane``: the control plane is upgrading; no pool has moved.
- ``system-pools``: the control plane runs the target; the first System pool is upgrading, other pools wait.
- ``user-pools``: the control plane and every System pool run the target; the first User pool is upgrading.
- ``pools-pending``: the control plane runs the target and is at rest; no pool has moved yet (the next step is
  the System pools).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from auditor.errors import AuditorError

STAGES = ("control-plane", "system-pools", "user-pools", "pools-pending")


def _cluster(fleet: dict[str, Any], cluster_id: str) -> dict[str, Any]:
    for cluster in fleet.get("managedClusters", []):
        if str(cluster.get("id", "")).lower() == cluster_id.lower():
            found: dict[str, Any] = cluster
            return found
    raise AuditorError(f"the fleet has no cluster {cluster_id}")


def _move(pool: dict[str, Any], target: str, *, running: bool) -> None:
    pool["orchestratorVersion"] = target
    if running:
        pool["currentOrchestratorVersion"] = target
        pool["provisioningState"] = "Succeeded"
    else:
        pool["provisioningState"] = "Upgrading"


def mid_upgrade(fleet: Mapping[str, Any], cluster_id: str, stage: str, target: str) -> dict[str, Any]:
    """A copy of the fleet with one cluster caught at `stage` of an upgrade to `target`."""
    if stage not in STAGES:
        raise AuditorError(f"unknown upgrade stage {stage!r} (choose from {', '.join(STAGES)})")
    result = copy.deepcopy(dict(fleet))
    cluster = _cluster(result, cluster_id)
    properties = cluster.setdefault("properties", {})
    pools: list[dict[str, Any]] = properties.get("agentPoolProfiles", [])
    properties["kubernetesVersion"] = target
    if stage == "control-plane":
        properties["provisioningState"] = "Upgrading"
        return result
    properties["currentKubernetesVersion"] = target
    systems = [p for p in pools if str(p.get("mode", "User")).lower() == "system"]
    users = [p for p in pools if str(p.get("mode", "User")).lower() != "system"]
    if stage == "pools-pending":
        properties["provisioningState"] = "Succeeded"
        return result
    # An agent-pool upgrade is an operation on the pool: the pool is Upgrading, the control plane at rest.
    properties["provisioningState"] = "Succeeded"
    if stage == "system-pools":
        if not systems:
            raise AuditorError(f"{cluster_id} has no System pool")
        _move(systems[0], target, running=False)
        return result
    for pool in systems:
        _move(pool, target, running=True)
    if not users:
        raise AuditorError(f"{cluster_id} has no User pool")
    _move(users[0], target, running=False)
    return result
