"""Builders of Fleet Manager evidence for tests: Resource Graph rows and ARM gate lists, as collectors store them."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from auditor.emulator.fleet_manager import graph_row
from auditor.emulator.fleet_resources import (
    GateOutcome,
    MemberUpdate,
    fleet_resource,
    member_resource,
    profile_resource,
    stage_config,
    strategy_resource,
    update_run,
)
from auditor.store import EvidenceRow
from tests.evidence import AS_OF, SUB

TENANT = "11111111-1111-1111-1111-111111111111"
CREATED = AS_OF - timedelta(days=200)
GRAPH = "POST /providers/Microsoft.ResourceGraph/resources"
KINDS = {
    "members": "fleet_member",
    "updateStrategies": "fleet_update_strategy",
    "updateRuns": "fleet_update_run",
    "autoUpgradeProfiles": "fleet_auto_upgrade_profile",
    "gates": "fleet_gate",
}


def cluster_id(name: str, sub: str = SUB, rg: str = "rg1") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


def days_ago(days: float, hour: int = 0) -> datetime:
    return AS_OF - timedelta(days=days) + timedelta(hours=hour)


class FleetBuilder:
    """One fleet's resources, collected into the fleetManager block and into evidence rows."""

    def __init__(self, name: str, *, sub: str = SUB, rg: str = "rg-fleet", location: str = "eastus") -> None:
        self.fleet = fleet_resource(sub, rg, name, location, CREATED)
        self.id = self.fleet["id"]
        self.name = name
        self.members: list[dict[str, Any]] = []
        self.strategies: list[dict[str, Any]] = []
        self.profiles: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.gates: list[dict[str, Any]] = []

    def member(self, cluster: str, group: str | None, *, sub: str = SUB) -> FleetBuilder:
        self.members.append(member_resource(self.id, f"m-{cluster}", cluster_id(cluster, sub), group, CREATED))
        return self

    def strategy(self, name: str, stages: list[dict[str, Any]]) -> str:
        resource = strategy_resource(self.id, name, stages, CREATED)
        self.strategies.append(resource)
        return str(resource["id"])

    def profile(self, name: str, channel: str, **kwargs: Any) -> FleetBuilder:
        self.profiles.append(profile_resource(self.id, name, channel, CREATED, **kwargs))
        return self

    def run(
        self,
        name: str,
        stages: list[dict[str, Any]],
        members: list[MemberUpdate],
        *,
        gates: list[GateOutcome] | None = None,
        drop_status: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        kwargs.setdefault("kubernetes_version", "1.33.2")
        start = min((m.start for m in members if m.start is not None), default=AS_OF - timedelta(days=3))
        outcome = update_run(
            self.id,
            name,
            stages=stages,
            members=members,
            created=start - timedelta(minutes=5),
            created_by="ops@contoso.example",
            gates=gates or [],
            **kwargs,
        )
        run = outcome.run
        if drop_status:
            run = copy.deepcopy(run)
            del run["properties"]["status"]
        self.runs.append(run)
        self.gates.extend(outcome.gates)
        return run

    def block(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "fleets": [self.fleet],
            "members": self.members,
            "updateStrategies": self.strategies,
            "updateRuns": self.runs,
            "autoUpgradeProfiles": self.profiles,
            "gates": self.gates,
        }

    def evidence(self, *, arm_gates: bool = True) -> list[EvidenceRow]:
        rows = [EvidenceRow("fleet", self.id, GRAPH, graph_row(self.fleet, TENANT))]
        for key, kind in KINDS.items():
            for item in self.block()[key]:
                rows.append(EvidenceRow(kind, item["id"], GRAPH, graph_row(item, TENANT)))
        if arm_gates:
            rows.append(EvidenceRow("fleet_gates", self.id, f"GET {self.id}/gates", {"value": self.gates}))
        return rows


def merge_blocks(*fleets: FleetBuilder) -> dict[str, list[dict[str, Any]]]:
    """One fleetManager block of several fleets."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for fleet in fleets:
        for key, items in fleet.block().items():
            merged.setdefault(key, []).extend(items)
    return merged


RINGS = [
    stage_config("non-prod", ["dev", "staging"], wait_seconds=3600),
    stage_config("prod", ["prod"], before_gates=["Production sign-off"]),
]


def done(member: str, group: str, start: datetime, minutes: int = 40, **kwargs: Any) -> MemberUpdate:
    """A member that completed its update."""
    return MemberUpdate(
        f"m-{member}", cluster_id(member), group, "Completed", start, start + timedelta(minutes=minutes), **kwargs
    )


def approved(stage: str, at: datetime, by: str = "maria.garcia@contoso.example", name: str = "") -> GateOutcome:
    return GateOutcome(
        stage, "Production sign-off", state="Completed", start=at - timedelta(hours=2), end=at, approver=by,
        name=name or f"gate-{stage}-{at:%d%H%M}",
    )  # fmt: skip
