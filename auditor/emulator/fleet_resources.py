"""Builders of Azure Kubernetes Fleet Manager resources in ARM wire JSON (REST API 2026-06-01).

Shapes follow the azure-rest-api-specs examples (``fleet/examples/2026-06-01``: Fleets_ListByResourceGroup,
FleetMembers_ListByFleet, UpdateStrategies_CreateOrUpdate, UpdateRuns_Get, AutoUpgradeProfiles_ListByFleet,
Gates_ListByFleet) and the update-run ``properties`` sample of "Monitor update runs" (learn.microsoft.com):
``status.status`` of the run, ``status.stages[].groups[].members[]`` each with ``status`` {state, startTime,
completedTime, error} and ``message``, gates in ``beforeGates``/``afterGates`` with ``gateId`` and ``status``, and
``afterStageWaitStatus``. States are the UpdateState values: NotStarted, Running, Stopping, Stopped, Skipped,
Failed, Pending, Completed. ``failureCount`` and ``maxAllowedFailures`` are the newer (preview) fields Microsoft's
monitoring guide describes; the 2026-06-01 SDK ignores them, Resource Graph returns them as stored.

Used by the generator and the tests alike: the status of stages, groups and the run is derived from the members
and gates the way Fleet Manager reports it ("Update run states", concepts-update-orchestration).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FLEET_PROVIDER = "providers/Microsoft.ContainerService/fleets"
TERMINAL = ("Completed", "Skipped", "Failed", "Stopped")


def iso(moment: datetime | None) -> str | None:
    """A UTC time as Fleet writes it (no offset suffix beyond Z)."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def system_data(
    created: datetime, by: str, modified: datetime | None = None, modified_by: str | None = None
) -> dict[str, Any]:
    """ARM systemData (who and when)."""
    return {
        "createdBy": by,
        "createdByType": "User" if "@" in by else "Application",
        "createdAt": iso(created),
        "lastModifiedBy": modified_by or by,
        "lastModifiedByType": "User" if "@" in (modified_by or by) else "Application",
        "lastModifiedAt": iso(modified or created),
    }


def fleet_resource(
    subscription_id: str,
    resource_group: str,
    name: str,
    location: str,
    created: datetime,
    *,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Fleet without a hub cluster."""
    return {
        "id": f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/{FLEET_PROVIDER}/{name}",
        "name": name,
        "type": "Microsoft.ContainerService/fleets",
        "location": location,
        "tags": tags or {},
        "systemData": system_data(created, "platform@contoso.example"),
        "eTag": '"0"',
        "properties": {"provisioningState": "Succeeded", "status": {"lastOperationId": "join-1"}},
    }


def member_resource(fleet_id: str, name: str, cluster_id: str, group: str | None, created: datetime) -> dict[str, Any]:
    """A Fleet member (FleetMembers_ListByFleet shape, with its update group)."""
    properties: dict[str, Any] = {"clusterResourceId": cluster_id, "provisioningState": "Succeeded"}
    if group is not None:
        properties["group"] = group
    return {
        "id": f"{fleet_id}/members/{name}",
        "name": name,
        "type": "Microsoft.ContainerService/fleets/members",
        "systemData": system_data(created, "platform@contoso.example"),
        "eTag": '"0"',
        "properties": properties,
    }


def gate_config(display_name: str) -> dict[str, str]:
    """An approval gate in a strategy (GateConfiguration)."""
    return {"displayName": display_name, "type": "Approval"}


def stage_config(
    name: str,
    groups: Sequence[str],
    *,
    wait_seconds: int = 0,
    before_gates: Sequence[str] = (),
    after_gates: Sequence[str] = (),
    max_allowed_failures: str | None = None,
) -> dict[str, Any]:
    """An UpdateStage of a strategy."""
    stage: dict[str, Any] = {"name": name, "groups": [{"name": g} for g in groups]}
    if before_gates:
        stage["beforeGates"] = [gate_config(g) for g in before_gates]
    if after_gates:
        stage["afterGates"] = [gate_config(g) for g in after_gates]
    if wait_seconds:
        stage["afterStageWaitInSeconds"] = wait_seconds
    if max_allowed_failures is not None:
        stage["maxAllowedFailures"] = max_allowed_failures
    return stage


def strategy_resource(fleet_id: str, name: str, stages: list[dict[str, Any]], created: datetime) -> dict[str, Any]:
    """A FleetUpdateStrategy."""
    return {
        "id": f"{fleet_id}/updateStrategies/{name}",
        "name": name,
        "type": "Microsoft.ContainerService/fleets/updateStrategies",
        "systemData": system_data(created, "platform@contoso.example"),
        "eTag": '"0"',
        "properties": {"provisioningState": "Succeeded", "strategy": {"stages": stages}},
    }


def profile_resource(
    fleet_id: str,
    name: str,
    channel: str,
    created: datetime,
    *,
    strategy_id: str | None = None,
    disabled: bool = False,
    node_image_selection: str | None = "Consistent",
    last_triggered: datetime | None = None,
    last_versions: Sequence[str] = (),
    target_kubernetes_version: str | None = None,
) -> dict[str, Any]:
    """An AutoUpgradeProfile (AutoUpgradeProfiles_ListByFleet shape) with its autoUpgradeProfileStatus."""
    properties: dict[str, Any] = {"provisioningState": "Succeeded", "channel": channel, "disabled": disabled}
    if strategy_id:
        properties["updateStrategyId"] = strategy_id
    if node_image_selection and channel != "NodeImage":
        properties["nodeImageSelection"] = {"type": node_image_selection}
    if target_kubernetes_version:
        properties["targetKubernetesVersion"] = target_kubernetes_version
    if last_triggered is not None:
        properties["autoUpgradeProfileStatus"] = {
            "lastTriggeredAt": iso(last_triggered),
            "lastTriggerStatus": "Succeeded",
            "lastTriggerUpgradeVersions": list(last_versions),
        }
    return {
        "id": f"{fleet_id}/autoUpgradeProfiles/{name}",
        "name": name,
        "type": "Microsoft.ContainerService/fleets/autoUpgradeProfiles",
        "systemData": system_data(created, "platform@contoso.example"),
        "eTag": '"0"',
        "properties": properties,
    }


@dataclass
class MemberUpdate:
    """One member's part in an update run."""

    member: str
    cluster_id: str
    group: str
    state: str = "NotStarted"
    start: datetime | None = None
    end: datetime | None = None
    message: str | None = None
    error: tuple[str, str] | None = None  # (code, message)


@dataclass
class GateOutcome:
    """A gate of a run: where it sits, its state, and who approved it when."""

    stage: str
    display_name: str
    timing: str = "Before"  # Before | After
    group: str | None = None
    state: str = "NotStarted"  # NotStarted | Pending | Skipped | Completed
    start: datetime | None = None
    end: datetime | None = None
    approver: str | None = None
    name: str = ""  # the gate resource's name (a GUID in Azure); empty: no gate resource yet (NotStarted)


@dataclass
class RunOutcome:
    """The built update run and the gate resources it created."""

    run: dict[str, Any]
    gates: list[dict[str, Any]] = field(default_factory=list)


def _status(state: str, start: datetime | None, end: datetime | None, error: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state}
    if start is not None:
        status["startTime"] = iso(start)
    if end is not None and state in TERMINAL:
        status["completedTime"] = iso(end)
    if error:
        status["error"] = {"code": "UpgradeFailed", "message": error}
    return status


def _combine(states: list[str], failures: int, tolerated: int | None) -> str:
    """The state of a group, stage or run from the states of its parts (concepts-update-orchestration)."""
    if failures and (tolerated is None or failures > tolerated):
        return "Failed"
    if states and all(s == "Skipped" for s in states):
        return "Skipped"
    if states and all(s in ("Completed", "Skipped", "Failed") for s in states):
        return "Completed"
    if any(s == "Running" for s in states):
        return "Running"
    if any(s == "Pending" for s in states):
        return "Pending"
    if any(s in ("Completed", "Skipped", "Failed") for s in states):
        return "Running"
    return "NotStarted"


def _span(items: list[tuple[datetime | None, datetime | None]]) -> tuple[datetime | None, datetime | None]:
    starts = [s for s, _ in items if s is not None]
    ends = [e for _, e in items if e is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _tolerance(config: dict[str, Any], members: int) -> int | None:
    value = str(config.get("maxAllowedFailures") or "")
    if not value:
        return None
    if value.endswith("%"):
        return int(members * int(value[:-1]) / 100)
    return int(value)


def update_run(
    fleet_id: str,
    name: str,
    *,
    stages: list[dict[str, Any]],
    members: list[MemberUpdate],
    created: datetime,
    created_by: str,
    upgrade_type: str = "Full",
    kubernetes_version: str | None = None,
    node_image_selection: str = "Consistent",
    selected_images: Sequence[str] = (),
    gates: Sequence[GateOutcome] = (),
    strategy_id: str | None = None,
    profile_id: str | None = None,
) -> RunOutcome:
    """An UpdateRun whose stage, group and run status follow from its members and gates (UpdateRuns_Get shape)."""
    gate_index = {(g.stage, g.group, g.timing, g.display_name): g for g in gates}
    gate_resources: list[dict[str, Any]] = []

    def gate_statuses(config: dict[str, Any], stage: str, group: str | None, timing: str) -> list[dict[str, Any]]:
        out = []
        for gate in config.get("beforeGates" if timing == "Before" else "afterGates", []):
            outcome = gate_index.get((stage, group, timing, gate["displayName"]))
            entry: dict[str, Any] = {"displayName": gate["displayName"]}
            state = outcome.state if outcome else "NotStarted"
            if outcome and outcome.name:
                gate_id = f"{fleet_id}/gates/{outcome.name}"
                entry["gateId"] = gate_id
                gate_resources.append(_gate_resource(gate_id, outcome, f"{fleet_id}/updateRuns/{name}", name))
            entry["status"] = _status(state, outcome.start if outcome else None, outcome.end if outcome else None)
            out.append(entry)
        return out

    by_group: dict[str, list[MemberUpdate]] = {}
    for member in members:
        by_group.setdefault(member.group, []).append(member)
    stage_statuses: list[dict[str, Any]] = []
    run_failures = 0
    for config in stages:
        group_statuses = []
        stage_members: list[MemberUpdate] = []
        for group_config in config.get("groups", []):
            group_name = group_config["name"]
            group_members = by_group.get(group_name, [])
            stage_members += group_members
            failures = sum(1 for m in group_members if m.state == "Failed")
            before = gate_statuses(group_config, config["name"], group_name, "Before")
            after = gate_statuses(group_config, config["name"], group_name, "After")
            states = [m.state for m in group_members] + [g["status"]["state"] for g in before + after]
            start, end = _span([(m.start, m.end) for m in group_members])
            # A group with no member and no gate has nothing to do: Fleet reports it Skipped.
            state = _combine(states, failures, _tolerance(config, len(group_members))) if states else "Skipped"
            group_status: dict[str, Any] = {
                "status": _status(state, start, end),
                "name": group_name,
                "members": [_member_status(m) for m in group_members],
            }
            if failures:
                group_status["failureCount"] = failures
            if before:
                group_status["beforeGates"] = before
            if after:
                group_status["afterGates"] = after
            group_statuses.append(group_status)
        failures = sum(1 for m in stage_members if m.state == "Failed")
        run_failures += failures
        before = gate_statuses(config, config["name"], None, "Before")
        after = gate_statuses(config, config["name"], None, "After")
        states = [g["status"]["state"] for g in group_statuses] + [g["status"]["state"] for g in before + after]
        start, end = _span([(m.start, m.end) for m in stage_members])
        state = _combine(states, failures, _tolerance(config, len(stage_members)))
        stage_status: dict[str, Any] = {
            "status": _status(state, start, end),
            "name": config["name"],
            "failureCount": failures,
            "groups": group_statuses,
        }
        if before:
            stage_status["beforeGates"] = before
        if after:
            stage_status["afterGates"] = after
        if config.get("afterStageWaitInSeconds"):
            waited = state == "Completed" and end is not None
            stage_status["afterStageWaitStatus"] = {
                "status": {"state": "Completed" if waited else "NotStarted"},
                "waitDurationInSeconds": config["afterStageWaitInSeconds"],
            }
        stage_statuses.append(stage_status)
    run_states = [s["status"]["state"] for s in stage_statuses]
    run_state = "Failed" if "Failed" in run_states else _combine(run_states, 0, None)
    start, end = _span([(m.start, m.end) for m in members])
    properties: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "strategy": {"stages": stages},
        "managedClusterUpdate": {
            "upgrade": {
                "type": upgrade_type,
                **({"kubernetesVersion": kubernetes_version} if kubernetes_version else {}),
            },
            "nodeImageSelection": {"type": node_image_selection},
        },
        "status": {
            "status": _status(run_state, start, end),
            "failureCount": run_failures,
            "stages": stage_statuses,
            "nodeImageSelection": {"selectedNodeImageVersions": [{"version": v} for v in selected_images]},
        },
    }
    if strategy_id:
        properties["updateStrategyId"] = strategy_id
    if profile_id:
        properties["autoUpgradeProfileId"] = profile_id
    run = {
        "id": f"{fleet_id}/updateRuns/{name}",
        "name": name,
        "type": "Microsoft.ContainerService/fleets/updateRuns",
        "systemData": system_data(created, created_by),
        "eTag": '"0"',
        "properties": properties,
    }
    return RunOutcome(run, gate_resources)


def _member_status(member: MemberUpdate) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "status": _status(member.state, member.start, member.end, member.error[1] if member.error else None),
        "name": member.member,
        "clusterResourceId": member.cluster_id,
    }
    if member.error:
        entry["status"]["error"]["code"] = member.error[0]
    if member.start is not None:
        digest = hashlib.sha256(f"{member.cluster_id}|{iso(member.start)}".encode()).hexdigest()
        entry["operationId"] = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    if member.message:
        entry["message"] = member.message
    return entry


def _gate_resource(gate_id: str, outcome: GateOutcome, run_id: str, run_name: str) -> dict[str, Any]:
    created = outcome.start or outcome.end
    assert created is not None, "a gate resource exists once the run reached it"
    target: dict[str, Any] = {"name": run_name, "stage": outcome.stage, "timing": outcome.timing}
    if outcome.group:
        target["group"] = outcome.group
    approved = outcome.state == "Completed"
    return {
        "id": gate_id,
        "name": gate_id.rsplit("/", 1)[1],
        "type": "Microsoft.ContainerService/fleets/gates",
        "systemData": system_data(
            created,
            "Fleet Manager",
            outcome.end if approved else created,
            outcome.approver if approved and outcome.approver else "Fleet Manager",
        ),
        "eTag": '"0"',
        "properties": {
            "provisioningState": "Succeeded",
            "displayName": outcome.display_name,
            "gateType": "Approval",
            "target": {"id": run_id, "updateRunProperties": target},
            "state": outcome.state,
        },
    }
