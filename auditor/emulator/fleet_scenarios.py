"""Azure Kubernetes Fleet Manager in generated fleets: fleets, members, strategies, auto-upgrade profiles, and update
runs that really upgrade their members (the resource changes, versions and images of the member clusters agree with
the runs).

Two fleets when the cluster population allows (clusters tagged ``environment`` dev/staging/prod):

- ``fleet-platform`` follows Microsoft's guidance: strategy ``rings`` (dev and staging, an hour's wait, an approval
  gate, production), auto-upgrade profiles ``stable`` (Consistent images) and ``node-image``, members with their own
  auto-upgrade off — except one production member that kept ``upgradeChannel stable`` (AKS-FLT-02 fails it). Its
  Kubernetes runs are clean; its node-image run completes with one failed production member (``maxAllowedFailures``
  1 on the production stage).
- ``fleet-web`` does not: strategy ``all-at-once`` (staging and production in one stage, in parallel, no gate, no
  wait), profile ``rapid`` with ``Latest`` images, a disabled ``lts-paused`` profile. Its runs are out of order.

The generator runs them once in the 14 days before its as-of moment (so Resource Graph's change history shows the
same upgrades); the monthly evolution runs them every month (docs/emulator.md). Deterministic for a given seed.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from auditor.emulator.fleet_resources import (
    GateOutcome,
    MemberUpdate,
    RunOutcome,
    fleet_resource,
    member_resource,
    profile_resource,
    stage_config,
    strategy_resource,
    update_run,
)
from auditor.emulator.wire import property_change
from auditor.vocabulary import version_key

RINGS = ("dev", "staging", "prod")
APPROVERS = ("maria.garcia@contoso.example", "kenji.tanaka@contoso.example", "ops-approvals@contoso.example")
KEEP_RUNS = timedelta(days=150)  # runs older than this are deleted (Fleet keeps a run until someone deletes it)


@dataclass
class FleetPlan:
    """One fleet's identity and members: (lower-case cluster id, group) in member order."""

    key: str  # platform | web
    fleet: dict[str, Any]
    members: list[tuple[str, str]]
    strategy: list[dict[str, Any]]
    strategy_id: str
    own_channel: str | None = None  # the member that kept its own channel (platform only)


@dataclass
class FleetWorld:
    """What a run needs from its surroundings: the clusters (and how to change one), how to record a change row,
    the Kubernetes patches and node images a region offers."""

    clusters: dict[str, dict[str, Any]]
    own: Callable[[str], dict[str, Any]]
    emit: Callable[[dict[str, Any], datetime, dict[str, Any]], None]
    patches: Callable[[str, str], list[int]]  # (region, minor) -> listed patch numbers
    latest_image: Callable[[str, str, datetime], str | None]  # (region, image SKU, moment) -> nodeImageVersion
    older_image: Callable[[str], str]
    rng: random.Random


@dataclass
class FleetState:
    """The fleetManager block being built, and the plans behind it."""

    plans: list[FleetPlan]
    block: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def member_ids(self) -> set[str]:
        return {cid for plan in self.plans for cid, _ in plan.members}


def _ring(cluster: dict[str, Any]) -> str | None:
    value = str((cluster.get("tags") or {}).get("environment") or "").lower()
    return value if value in RINGS else None


def _eligible(cluster: dict[str, Any]) -> bool:
    properties = cluster.get("properties") or {}
    return (
        _ring(cluster) is not None
        and properties.get("provisioningState") == "Succeeded"
        and (properties.get("powerState") or {}).get("code", "Running") == "Running"
        and properties.get("supportPlan", "KubernetesOfficial") == "KubernetesOfficial"
        and (cluster.get("sku") or {}).get("name", "Base") == "Base"
    )


def plan_fleets(clusters: list[dict[str, Any]], seed: int, as_of: datetime) -> FleetState | None:
    """Pick the fleets' members (None when too few tagged clusters) and build their fleets, strategies, profiles."""
    rng = random.Random(f"aks-fleet-manager|{seed}")
    pool = sorted((c for c in clusters if _eligible(c)), key=lambda c: c["id"].lower())
    by_ring = {ring: [c for c in pool if _ring(c) == ring] for ring in RINGS}
    if not by_ring["prod"] or not (by_ring["dev"] or by_ring["staging"]):
        return None
    created = as_of - timedelta(days=400)
    taken: set[str] = set()

    def pick(ring: str, count: int) -> list[dict[str, Any]]:
        free = [c for c in by_ring[ring] if c["id"].lower() not in taken]
        chosen = rng.sample(free, k=min(count, len(free)))
        taken.update(c["id"].lower() for c in chosen)
        return sorted(chosen, key=lambda c: c["id"].lower())

    plans: list[FleetPlan] = []
    block: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("fleets", "members", "updateStrategies", "updateRuns", "autoUpgradeProfiles", "gates")
    }
    platform_members = pick("dev", 2) + pick("staging", 2) + pick("prod", 3)
    web_members = pick("staging", 2) + pick("dev", 1 if not by_ring["staging"] else 0) + pick("prod", 2)
    for key, members in (("platform", platform_members), ("web", web_members)):
        rings = {_ring(c) for c in members}
        if "prod" not in rings or not rings & {"dev", "staging"}:
            continue
        anchor = next(c for c in members if _ring(c) == "prod")
        subscription = anchor["id"].split("/")[2]
        fleet = fleet_resource(
            subscription, f"rg-fleet-{key}", f"fleet-{key}", anchor["location"], created, tags={"owner": "platform"}
        )
        if key == "platform":
            stages = [
                stage_config("non-prod", ["dev", "staging"], wait_seconds=3600),
                stage_config("prod", ["prod"], before_gates=["Production sign-off"], max_allowed_failures="1"),
            ]
            strategy_name = "rings"
        else:
            stages = [stage_config("all-at-once", sorted({_ring(c) or "prod" for c in members}))]
            strategy_name = "all-at-once"
        strategy = strategy_resource(fleet["id"], strategy_name, stages, created)
        plan = FleetPlan(key, fleet, [(c["id"].lower(), _ring(c) or "prod") for c in members], stages, strategy["id"])
        block["fleets"].append(fleet)
        block["updateStrategies"].append(strategy)
        for cluster in members:
            block["members"].append(
                member_resource(fleet["id"], f"member-{cluster['name']}", cluster["id"], _ring(cluster), created)
            )
        if key == "platform":
            block["autoUpgradeProfiles"] += [
                profile_resource(fleet["id"], "stable", "Stable", created, strategy_id=strategy["id"]),
                profile_resource(fleet["id"], "node-image", "NodeImage", created, strategy_id=strategy["id"]),
            ]
            prod = [cid for cid, group in plan.members if group == "prod"]
            plan.own_channel = prod[-1] if len(prod) > 1 else None
        else:
            block["autoUpgradeProfiles"] += [
                profile_resource(
                    fleet["id"], "rapid", "Rapid", created, strategy_id=strategy["id"], node_image_selection="Latest"
                ),
                profile_resource(
                    fleet["id"],
                    "lts-paused",
                    "TargetKubernetesVersion",
                    created,
                    disabled=True,
                    target_kubernetes_version="1.32",
                ),  # fmt: skip
            ]
        plans.append(plan)
    if not plans:
        return None
    return FleetState(plans, block)


def settle_members(state: FleetState, own: Callable[[str], dict[str, Any]]) -> None:
    """Member settings as each fleet's owners chose them: Fleet's guidance (own auto-upgrade off) on platform, but
    for the one member that kept `stable`; web leaves node OS patching to AKS."""
    for plan in state.plans:
        for cid, _ in plan.members:
            cluster = own(cid)
            profile = cluster["properties"].setdefault("autoUpgradeProfile", {})
            if plan.key == "platform":
                profile["upgradeChannel"] = "stable" if cid == plan.own_channel else "none"
                profile["nodeOSUpgradeChannel"] = "None"
            else:
                profile["upgradeChannel"] = "none"
                profile["nodeOSUpgradeChannel"] = "NodeImage"


def kubernetes_target(world: FleetWorld, plan: FleetPlan) -> str | None:
    """The newest patch, listed in every member's region, of the minor most members run (ties: the lower), when a
    member is behind it (a Stable-like train: one fleet, one version)."""
    versions = [str(world.clusters[cid]["properties"]["currentKubernetesVersion"]) for cid, _ in plan.members]
    minors = sorted({v.rsplit(".", 1)[0] for v in versions}, key=version_key)
    minor = max(minors, key=lambda m: (sum(v.rsplit(".", 1)[0] == m for v in versions), [-n for n in version_key(m)]))
    regions = {str(world.clusters[cid]["location"]).lower() for cid, _ in plan.members}
    common: set[int] | None = None
    for region in sorted(regions):
        listed = set(world.patches(region, minor))
        common = listed if common is None else common & listed
    if not common:
        return None
    target = f"{minor}.{max(common)}"
    if all(version_key(v) >= version_key(target) for v in versions):
        return None
    return target


def _skip_reason(current: str, target: str) -> str | None:
    """Why Fleet skips a member for a Kubernetes target, or None when it upgrades it."""
    if version_key(current) >= version_key(target):
        return f"Skipped: the member is already at or ahead of target version {target}."
    (cur_major, cur_minor), (major, minor) = version_key(current)[:2], version_key(target)[:2]
    if (major, minor) != (cur_major, cur_minor) and (major, minor) != (cur_major, cur_minor + 1):
        return f"Skipped: version {current} is more than one minor version behind target version {target}."
    return None


def _upgrade_cluster(
    world: FleetWorld, cid: str, start: datetime, target: str | None, images: dict[str, str], fail: bool
) -> datetime:
    """One member's update, as AKS performs it for Fleet: control plane, then System pools, then User pools (for a
    Kubernetes target), each pool onto the run's image of its SKU; change rows as Resource Graph records them.
    Returns the completion time."""
    rng = world.rng
    cluster = world.own(cid)
    properties = cluster["properties"]
    moment = start
    if target:
        previous = str(properties["currentKubernetesVersion"])
        world.emit(cluster, moment, {"properties.provisioningState": property_change("Succeeded", "Upgrading")})
        moment += timedelta(minutes=rng.randint(8, 15))
        reached = {"properties.currentKubernetesVersion": property_change(previous, target)}
        if properties.get("kubernetesVersion") != target:
            reached["properties.kubernetesVersion"] = property_change(
                properties.get("kubernetesVersion"), target, "User"
            )
        world.emit(cluster, moment, reached)
        properties["currentKubernetesVersion"] = properties["kubernetesVersion"] = target
    pools = properties.get("agentPoolProfiles", [])
    order = [i for i, p in enumerate(pools) if p.get("mode") == "System"]
    order += [i for i, p in enumerate(pools) if p.get("mode") != "System"]
    failed_pool = order[-1] if fail and order else None
    for index in order:
        pool = pools[index]
        path = f"properties.agentPoolProfiles[{index}]"
        image = str(pool.get("nodeImageVersion") or "")
        new_image = images.get(image.rpartition("-")[0], image)
        upgrading = "Upgrading" if target else "UpgradingNodeImageVersion"
        moment += timedelta(minutes=rng.randint(1, 4))
        world.emit(cluster, moment, {f"{path}.provisioningState": property_change("Succeeded", upgrading)})
        moment += timedelta(minutes=min(90, 6 + int(pool.get("count") or 3) * rng.randint(2, 5)))
        if index == failed_pool:
            pool["provisioningState"] = "Failed"
            world.emit(cluster, moment, {f"{path}.provisioningState": property_change(upgrading, "Failed")})
            continue
        changes: dict[str, Any] = {f"{path}.provisioningState": property_change(upgrading, "Succeeded")}
        if target:
            previous_pool = str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or "")
            changes[f"{path}.currentOrchestratorVersion"] = property_change(previous_pool, target)
            pool["currentOrchestratorVersion"] = pool["orchestratorVersion"] = target
        if new_image != image:
            changes[f"{path}.nodeImageVersion"] = property_change(image, new_image)
            pool["nodeImageVersion"] = new_image
        world.emit(cluster, moment, changes)
    if target:
        final = "Failed" if failed_pool is not None else "Succeeded"
        properties["provisioningState"] = final
        moment += timedelta(minutes=1)
        world.emit(cluster, moment, {"properties.provisioningState": property_change("Upgrading", final)})
    return moment


def _images(world: FleetWorld, plan: FleetPlan, moment: datetime, consistent: bool) -> dict[str, str]:
    """SKU -> the image the run installs: the newest every member's region offers (Consistent), else per SKU the
    newest of the first region (Latest is per region in Azure; one region's pick stands for it here)."""
    skus: dict[str, set[str]] = {}
    for cid, _ in plan.members:
        cluster = world.clusters[cid]
        for pool in cluster["properties"].get("agentPoolProfiles", []):
            sku = str(pool.get("nodeImageVersion") or "").rpartition("-")[0]
            if sku:
                skus.setdefault(sku, set()).add(str(cluster["location"]).lower())
    chosen: dict[str, str] = {}
    for sku, regions in sorted(skus.items()):
        offered = [world.latest_image(region, sku, moment) for region in sorted(regions)]
        known = [o for o in offered if o]
        if not known:
            continue
        # Versions of one SKU sort by their dated suffix (YYYYMM.DD.patch, or build.rev.YYMMDD for Windows).
        pick = min(known, key=_image_key) if consistent else max(known, key=_image_key)
        chosen[sku] = pick
    return chosen


def _image_key(image: str) -> tuple[int, ...]:
    version = image.rpartition("-")[2]
    parts = [int(p) for p in version.split(".") if p.isdigit()]
    return tuple(reversed(parts)) if len(parts) == 3 and parts[0] > 10000 else tuple(parts)


def run_update(
    world: FleetWorld,
    plan: FleetPlan,
    name: str,
    start: datetime,
    *,
    target: str | None,
    fail_one: bool = False,
) -> RunOutcome | None:
    """Execute one update run of a fleet's strategy from `start`: stage after stage (platform: dev and staging in
    parallel, an hour's wait, an approval, production one by one; web: everyone at once). Returns the run."""
    rng = world.rng
    consistent = plan.key == "platform"
    images = _images(world, plan, start, consistent)
    if not target and not any(
        images.get(str(p.get("nodeImageVersion") or "").rpartition("-")[0], p.get("nodeImageVersion"))
        != p.get("nodeImageVersion")
        for cid, _ in plan.members
        for p in world.clusters[cid]["properties"].get("agentPoolProfiles", [])
    ):
        return None  # nothing newer to install
    members: list[MemberUpdate] = []
    gates: list[GateOutcome] = []
    moment = start
    prod_members = [cid for cid, group in plan.members if group == "prod"]
    failing = prod_members[0] if fail_one and prod_members else None
    for stage in plan.strategy:
        groups = [g["name"] for g in stage["groups"]]
        if stage.get("beforeGates"):
            approver = APPROVERS[rng.randrange(len(APPROVERS))]
            approved_at = moment + timedelta(minutes=rng.randint(20, 180))
            gates.append(
                GateOutcome(
                    stage["name"],
                    stage["beforeGates"][0]["displayName"],
                    state="Completed",
                    start=moment,
                    end=approved_at,
                    approver=approver,
                    name=f"{name}-{stage['name']}-before",
                )  # fmt: skip
            )
            moment = approved_at + timedelta(minutes=1)
        stage_end = moment
        for group in groups:
            # Groups run in parallel, members of a group one after the other.
            at = moment + timedelta(minutes=rng.randint(0, 3))
            for cid, member_group in plan.members:
                if member_group != group or cid not in world.clusters:
                    continue
                cluster = world.clusters[cid]
                member_name = f"member-{cluster['name']}"
                reason = (
                    _skip_reason(str(cluster["properties"]["currentKubernetesVersion"]), target) if target else None
                )
                if reason:
                    members.append(MemberUpdate(member_name, cluster["id"], group, "Skipped", at, at, message=reason))
                    continue
                failed = cid == failing
                end = _upgrade_cluster(world, cid, at, target, images, failed)
                error = ("UpgradeFailed", "a node pool upgrade exceeded the drain timeout") if failed else None
                members.append(
                    MemberUpdate(
                        member_name, cluster["id"], group, "Failed" if failed else "Completed", at, end, error=error
                    )  # fmt: skip
                )
                at = end + timedelta(minutes=rng.randint(1, 5))
            stage_end = max(stage_end, at)
        moment = stage_end + timedelta(seconds=int(stage.get("afterStageWaitInSeconds") or 0))
    profile = "stable" if plan.key == "platform" and target else ("node-image" if plan.key == "platform" else "rapid")
    return update_run(
        plan.fleet["id"],
        name,
        stages=plan.strategy,
        members=members,
        created=start - timedelta(minutes=2),
        created_by="Fleet Manager auto-upgrade",
        upgrade_type="Full" if target else "NodeImageOnly",
        kubernetes_version=target,
        node_image_selection="Consistent" if consistent else "Latest",
        selected_images=sorted(images.values()),
        gates=gates,
        strategy_id=plan.strategy_id,
        profile_id=f"{plan.fleet['id']}/autoUpgradeProfiles/{profile}",
    )


def run_month(
    world: FleetWorld, state: FleetState, begin: datetime, end: datetime, *, fail_chance: float = 0.2
) -> None:
    """A month of Fleet Manager: each fleet's Kubernetes run (when a newer patch is listed for its members) early in
    the window and a node-image run later, in which a production member fails now and then (platform's
    maxAllowedFailures lets the run complete); runs older than KEEP_RUNS are deleted. Adds to state.block."""
    rng = world.rng
    span = end - begin
    # Profiles get a new status: copies, so earlier snapshots keep theirs.
    state.block["autoUpgradeProfiles"] = [copy.deepcopy(p) for p in state.block["autoUpgradeProfiles"]]
    for plan in state.plans:
        plan.members = [(cid, group) for cid, group in plan.members if cid in world.clusters]
        if not plan.members:
            continue
        outcomes: list[RunOutcome] = []
        k8s_start = begin + span * 0.15 + timedelta(hours=rng.randint(0, 48))
        target = kubernetes_target(world, plan)
        if target:
            outcome = run_update(world, plan, f"k8s-{target.replace('.', '-')}-{k8s_start:%Y%m%d}", k8s_start,
                                 target=target)  # fmt: skip
            if outcome:
                outcomes.append(outcome)
        image_start = begin + span * 0.6 + timedelta(hours=rng.randint(0, 48))
        outcome = run_update(
            world,
            plan,
            f"node-image-{image_start:%Y%m%d}",
            image_start,
            target=None,
            fail_one=plan.key == "platform" and rng.random() < fail_chance,
        )
        if outcome:
            outcomes.append(outcome)
        for outcome in outcomes:
            state.block["updateRuns"].append(outcome.run)
            state.block["gates"].extend(outcome.gates)
        for outcome in outcomes:
            _triggered(state, outcome.run)
    cutoff = end - KEEP_RUNS
    kept = [r for r in state.block["updateRuns"] if _created(r) >= cutoff]
    kept_ids = {r["id"].lower() for r in kept}
    state.block["updateRuns"] = kept
    state.block["gates"] = [g for g in state.block["gates"] if g["properties"]["target"]["id"].lower() in kept_ids]
    live = {cid for plan in state.plans for cid, _ in plan.members}
    state.block["members"] = [m for m in state.block["members"] if m["properties"]["clusterResourceId"].lower() in live]


def _triggered(state: FleetState, run: dict[str, Any]) -> None:
    """The auto-upgrade profile that generated a run records when it last triggered, and for which versions."""
    update = run["properties"]["managedClusterUpdate"]["upgrade"]
    selected = run["properties"]["status"]["nodeImageSelection"]["selectedNodeImageVersions"]
    versions = [update["kubernetesVersion"]] if update.get("kubernetesVersion") else [i["version"] for i in selected]
    for profile in state.block["autoUpgradeProfiles"]:
        if profile["id"] == run["properties"].get("autoUpgradeProfileId"):
            profile["properties"]["autoUpgradeProfileStatus"] = {
                "lastTriggeredAt": run["systemData"]["createdAt"],
                "lastTriggerStatus": "Succeeded",
                "lastTriggerUpgradeVersions": versions,
            }


def _created(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["systemData"]["createdAt"].replace("Z", "+00:00"))


def state_from_block(block: dict[str, Any] | None) -> FleetState | None:
    """The plans behind a fleetManager block (fleets, members with their groups, the first strategy of each fleet):
    how the monthly evolution carries on a generated fleet's Fleet Manager."""
    if not block or not block.get("fleets"):
        return None
    plans: list[FleetPlan] = []
    for fleet in block["fleets"]:
        prefix = fleet["id"].lower() + "/"
        strategies = [s for s in block.get("updateStrategies", []) if s["id"].lower().startswith(prefix)]
        if not strategies:
            continue
        members = [
            (m["properties"]["clusterResourceId"].lower(), str(m["properties"].get("group") or ""))
            for m in block.get("members", [])
            if m["id"].lower().startswith(prefix)
        ]
        key = "platform" if fleet["name"].endswith("platform") else "web"
        strategy = strategies[0]
        plans.append(FleetPlan(key, fleet, members, strategy["properties"]["strategy"]["stages"], strategy["id"]))
    if not plans:
        return None
    return FleetState(plans, {key: list(value) for key, value in block.items()})


def add_to_generated(fleet: dict[str, Any], builder: Any, seed: int, as_of: datetime) -> None:
    """Give a generated fleet its Fleet Manager: plan the fleets, settle the members' own channels, replace the
    members' generated history with the update runs of the last 14 days (so both tell the same story)."""
    clusters = {c["id"].lower(): c for c in fleet["managedClusters"]}
    state = plan_fleets(fleet["managedClusters"], seed, as_of)
    if state is None:
        return
    members = state.member_ids
    fleet["resourceChanges"] = [
        r for r in fleet["resourceChanges"] if r["properties"]["targetResourceId"].lower() not in members
    ]
    fleet["scheduledEvents"] = [
        e for e in fleet["scheduledEvents"] if not any(e["id"].lower().startswith(m + "/") for m in members)
    ]
    regions = {region.name: region for region in builder.regions}
    changes: list[dict[str, Any]] = []

    def latest(region: str, sku: str, moment: datetime) -> str | None:
        release = regions[region].latest_images.get(sku) if region in regions else None
        return f"{sku}-{release.version}" if release is not None else None

    world = FleetWorld(
        clusters=clusters,
        own=lambda cid: clusters[cid],
        emit=lambda cluster, moment, delta: changes.append(builder.change_row(cluster, moment, delta, True)),
        patches=lambda region, minor: list(regions[region].listed.get(minor, [])) if region in regions else [],
        latest_image=latest,
        older_image=builder.older_image,
        rng=random.Random(f"aks-fleet-run|{seed}"),
    )
    settle_members(state, world.own)
    run_month(world, state, as_of - timedelta(days=13), as_of - timedelta(days=1), fail_chance=1.0)
    fleet["resourceChanges"] = sorted(
        fleet["resourceChanges"] + changes,
        key=lambda r: (r["properties"]["changeAttributes"]["timestamp"], r["id"]),
    )
    fleet["fleetManager"] = state.block
