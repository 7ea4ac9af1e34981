"""Every control against wire-shaped fixtures in a real DuckDB: a passing and a failing case each, and edges.

`CASES` is the registry tests/test_catalog_integrity.py checks: every control of the catalog needs at least
one `pass` and one `fail` case (here or in another tests/test_controls_*.py module that exposes `CASES`).
All cases sharing a scan date go into one scan (one cluster per case), so the whole table costs a few scans.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.catalog import find_minor
from auditor.controls import Finding, control_ids, evaluate_scan, load_catalog
from auditor.policy import default_policy, load_policy
from auditor.store import ErrorRow, open_db
from tests.evidence import (
    AS_OF,
    DEFAULT_VERSIONS,
    cluster,
    legacy_default,
    maintenance_window,
    pool,
    store_scan,
    versions,
)
from tests.test_history import (
    NEW_IMAGE,
    OLD_IMAGE,
    at,
    change,
    change_row,
    completed_event,
    control_plane_rows,
    image_rows,
    in_order_rows,
    pool_rows,
    scheduled_event,
    store_history_scan,
    two_pools,
)

UBUNTU = "AKSUbuntu-2204gen2containerd"
UBUNTU_LATEST = f"{UBUNTU}-202611.10.0"
WINDOWS = "AKSWindows-2022-containerd"
WINDOWS_LATEST = f"{WINDOWS}-20348.3300.261110"
AUTO = "aksManagedAutoUpgradeSchedule"
NODE_OS = "aksManagedNodeOSUpgradeSchedule"

# Regions of the shared scans: eastus is the default; the others each carry one situation.
REGION_VERSIONS: dict[str, dict[str, Any]] = {
    "eastus": DEFAULT_VERSIONS,
    # Patch order must be numeric: 1.33.10 is newer than 1.33.4.
    "westeurope": versions(
        {"1.32": ["KubernetesOfficial"], "1.33": ["KubernetesOfficial"]},
        patches={"1.33": ["1.33.4", "1.33.10", "1.33.1"]},
    ),
    # A region where 1.36 is current, for the `1.36` alias cases; 1.33 only under LTS; 1.37 in preview.
    "centralus": versions(
        {
            "1.33": ["AKSLongTermSupport"],
            "1.34": ["KubernetesOfficial"],
            "1.35": ["KubernetesOfficial"],
            "1.36": ["KubernetesOfficial"],
            "1.37": ["KubernetesOfficial"],
        },
        preview=("1.37",),
    ),
    "uksouth": DEFAULT_VERSIONS,
    # LTS: 1.27 is offered only under LTS (three patches); 1.31 has community patches and one patch only under LTS,
    # listed in an entry of its own as AKS does per support plan.
    "westus": {
        "values": [
            *versions({"1.33": ["KubernetesOfficial", "AKSLongTermSupport"]})["values"],
            *versions({"1.27": ["AKSLongTermSupport"]}, patches={"1.27": ["1.27.100", "1.27.101", "1.27.102"]})[
                "values"
            ],
            *versions({"1.31": ["KubernetesOfficial"]}, patches={"1.31": ["1.31.1", "1.31.2"]})["values"],
            *versions({"1.31": ["AKSLongTermSupport"]}, patches={"1.31": ["1.31.100"]})["values"],
        ]
    },
    # Malformed lists: a support plan that is a string, not a list; a `values` that is an object.
    "brazilsouth": {
        "values": [
            {"version": "1.33", "capabilities": {"supportPlan": "KubernetesOfficial"}, "patchVersions": {"1.33.2": {}}},
            *versions({"1.34": ["KubernetesOfficial"]})["values"],
        ]
    },
    "japaneast": {"values": {"1.33": {"patchVersions": {"1.33.2": {}}}}},
}
LATEST_IMAGES = {
    ("eastus", UBUNTU): UBUNTU_LATEST,
    ("eastus", WINDOWS): WINDOWS_LATEST,
    ("westeurope", UBUNTU): UBUNTU_LATEST,
    ("centralus", UBUNTU): UBUNTU_LATEST,
    ("westus", UBUNTU): UBUNTU_LATEST,
    # A frozen family: its newest image is far older than 90 days.
    ("eastus", "AKSAzureLinux-V2"): "AKSAzureLinux-V2-202512.06.0",
}
REGION_ERRORS = [
    ErrorRow("kubernetes_versions", "northeurope", 403, "AuthorizationFailed", "no read access to northeurope"),
    ErrorRow("pool_upgrade_profile", f"uksouth|{UBUNTU}", 403, "AuthorizationFailed", "profile read denied"),
]

# VER-02 scans are dated relative to the bundled calendar, so a calendar refresh does not break them.
_M = find_minor("1.31")
assert _M is not None and _M.end_of_support and _M.lts_end and (_M.lts_end - _M.end_of_support).days > 120
EOS, LTS_END = _M.end_of_support, _M.lts_end


def _at(day: Any) -> datetime:
    return AS_OF.replace(year=day.year, month=day.month, day=day.day)


BEFORE_EOS = _at(EOS - timedelta(days=200))
NEAR_EOS = _at(EOS - timedelta(days=30))
AFTER_EOS = _at(EOS + timedelta(days=10))
AFTER_LTS = _at(LTS_END + timedelta(days=1))


@dataclass(frozen=True)
class Case:
    """One cluster in one state, and the verdict one control must give on it (or on one of its pools)."""

    id: str
    expect: str
    build: Callable[[str], dict[str, Any]]
    pool: str | None = None
    says: tuple[str, ...] = ()
    evidence_says: tuple[str, ...] = ()
    remediation: str | None = None  # {cluster} stands for the case's cluster name
    maintenance: tuple[dict[str, Any], ...] = ()
    maintenance_lost: bool = False  # the maintenance list call failed with a 403
    as_of: datetime = AS_OF
    # Upgrade history (AKS-ORD-01, AKS-RNG-01): resource change and scheduled event rows of this scan, built
    # from the cluster's body; earlier scans of the cluster (how long before as_of, its body then); other
    # clusters the verdict depends on (each a Case whose id suffixes the cluster name; expect unchecked).
    history: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
    prior: tuple[tuple[timedelta, Callable[[str], dict[str, Any]]], ...] = ()
    companions: tuple[Case, ...] = ()


def c(**kw: Any) -> Callable[[str], dict[str, Any]]:
    return lambda name: cluster(name, **kw)


def edited(
    build: Callable[[str], dict[str, Any]], edit: Callable[[dict[str, Any]], None]
) -> Callable[[str], dict[str, Any]]:
    def make(name: str) -> dict[str, Any]:
        body = copy.deepcopy(build(name))
        edit(body)
        return body

    return make


def alias(requested: str) -> Callable[[dict[str, Any]], None]:
    """kubernetesVersion is what was asked for (an alias like 1.36); currentKubernetesVersion is what runs."""

    def edit(body: dict[str, Any]) -> None:
        body["properties"]["kubernetesVersion"] = requested

    return edit


def drop(*path: str) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1], None)

    return edit


def no_pool_versions(body: dict[str, Any]) -> None:
    for p in body["properties"]["agentPoolProfiles"]:
        p.pop("orchestratorVersion", None)
        p.pop("currentOrchestratorVersion", None)


def setting(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    """Set a value (of any JSON shape) at a path of the cluster body: the malformed payloads."""

    def edit(body: dict[str, Any]) -> None:
        target: Any = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def running_from_requested(requested: str) -> Callable[[dict[str, Any]], None]:
    """A payload without currentKubernetesVersion (older API versions, exports), asking for `requested`."""

    def edit(body: dict[str, Any]) -> None:
        body["properties"].pop("currentKubernetesVersion", None)
        body["properties"]["kubernetesVersion"] = requested

    return edit


def eol_notice(
    version: str, eol: str, support_type: str = "Community", notice: str = "KubernetesVersionEOLOneWeek"
) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """History rows: AKS's end-of-support notice for the cluster, shaped as aks-end-of-support-notifications.md
    documents it (eventSource EOLNotification, eventDetails with kubernetesVersion, eolDate, supportType)."""

    def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
        row = scheduled_event(body, "Scheduled", "", at(0), event_id="5d1e0c55-7b3a-4cde-9a1f-0e2d3c4b5a69")
        row["properties"].update(
            description=notice,
            eventSource="EOLNotification",
            eventDetails={
                "kubernetesVersion": version,
                "eolDate": f"{eol}T00:00:00Z",
                "supportType": support_type,
                "daysUntilEOL": 5,
                "region": body["location"],
            },
            scheduledTime=f"{eol}T00:00:00Z",
        )
        return [row]

    return rows


def by_aks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same resource changes, made by AKS's own identity rather than a person."""
    for row in rows:
        attributes = row["properties"].get("changeAttributes")
        if attributes:
            attributes.update(changedByType="Application", changedBy="AKS", clientType="AKS")
    return rows


def pool_alias(requested: str, running: str) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        p = body["properties"]["agentPoolProfiles"][0]
        p["orchestratorVersion"], p["currentOrchestratorVersion"] = requested, running

    return edit


def one_pool(**kw: Any) -> Callable[[str], dict[str, Any]]:
    extra = {k: kw.pop(k) for k in list(kw) if k in ("location", "power", "version", "channel", "node_os")}
    return c(pools=[pool(**kw)], **extra)


ORD_REMEDIATION = (
    "az aks nodepool list -g rg1 --cluster-name {cluster} -o table "
    '--query "[].{{pool:name, mode:mode, version:currentOrchestratorVersion, image:nodeImageVersion}}"'
)
IMAGES = [f"{UBUNTU}-202611.0{day}.0" for day in (1, 2, 3, 4)]


def ring(env: str, version: str, image: str) -> dict[str, Any]:
    """cluster() keyword arguments: one System pool, an environment tag."""
    return {
        "version": version,
        "tags": {"environment": env},
        "pools": [pool("system", version=version, image=image)],
    }


def moved(previous: str, new: str, image: str, *, days: int) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """History rows: the cluster moved from `previous` to `new` (and to `image`) `days` before the scan."""
    start = AS_OF - timedelta(days=days)

    def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            *control_plane_rows(body, start, start + timedelta(minutes=10), previous, new),
            *pool_rows(
                body,
                0,
                start + timedelta(minutes=12),
                start + timedelta(minutes=30),
                previous,
                new,
                image=(OLD_IMAGE, image),
            ),
        ]

    return rows


WEEKLY_4H = (maintenance_window(AUTO, duration=4), maintenance_window(NODE_OS, duration=4))


def broken_window(name: str, **window: Any) -> dict[str, Any]:
    """A maintenance window with keys replaced (a value of None removes the key)."""
    body = maintenance_window(name)
    for key, value in window.items():
        if value is None:
            body["properties"]["maintenanceWindow"].pop(key, None)
        else:
            body["properties"]["maintenanceWindow"][key] = value
    return body


def pools(*entries: Any) -> Callable[[dict[str, Any]], None]:
    """agentPoolProfiles replaced by these entries, as sent (null, nameless, not objects)."""
    return setting(list(entries), "properties", "agentPoolProfiles")


NAMELESS_POOL = {k: v for k, v in pool().items() if k != "name"}
PROFILE_STRING = setting("stable", "properties", "autoUpgradeProfile")
NO_PROPERTIES = drop("properties")
FROZEN = "AKSAzureLinux-V2-202512.06.0"


def user_first(b: dict[str, Any], image: tuple[str, str] | None = (OLD_IMAGE, NEW_IMAGE)) -> list[dict[str, Any]]:
    """The control plane, then the User pool (index 1), then the System pool (index 0)."""
    return [
        *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
        *pool_rows(b, 1, at(14), at(30), "1.32.5", "1.33.2", image=image),
        *pool_rows(b, 0, at(31), at(50), "1.32.5", "1.33.2", image=image),
    ]


CASES: dict[str, tuple[Case, ...]] = {
    "AKS-VER-01": (
        Case("supported", "pass", c(version="1.33.2"), says=("1.33.2 is supported in eastus",)),
        Case(
            "unsupported",
            "fail",
            c(version="1.28.5"),
            says=("1.28.5", "supported: 1.32, 1.33, 1.34"),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.32",
        ),
        Case(
            "lts-premium",
            "pass",
            c(version="1.30.9", tier="Premium", support_plan="AKSLongTermSupport"),
            says=("under LTS (Premium)",),
        ),
        Case(
            "lts-standard",
            "fail",
            c(version="1.30.9", tier="Standard", support_plan="AKSLongTermSupport"),
            says=("only supported under LTS", "Standard"),
        ),
        Case(
            "alias-1.36-runs-1.35",
            "pass",
            edited(c(version="1.35.2", location="centralus"), alias("1.36")),
            says=("1.35.2",),
        ),
        Case(
            "alias-1.36-runs-1.33",
            "fail",
            edited(c(version="1.33.4", location="centralus"), alias("1.36")),
            says=("1.33.4", "only supported under LTS"),
        ),
        Case("versions-403", "unknown", c(location="northeurope"), says=("no read access to northeurope",)),
        Case(
            "lts-one-patch-behind",
            "pass",
            c(version="1.27.101", location="westus", tier="Premium", support_plan="AKSLongTermSupport"),
            says=("under LTS (Premium)", "one newer LTS patch exists (1.27.102)"),
        ),
        Case(
            "lts-two-patches-behind",
            "fail",
            c(version="1.27.100", location="westus", tier="Premium", support_plan="AKSLongTermSupport"),
            says=("2 LTS patches behind (1.27.101, 1.27.102)", "only the two most recent patches of 1.27"),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.27.102",
        ),
        Case(
            "requested-full-version",
            "pass",
            edited(c(version="1.33.2"), running_from_requested("1.33.2")),
            says=("control plane 1.33.2 is supported",),
            evidence_says=("currentKubernetesVersion absent; kubernetesVersion=1.33.2 (a full version: what runs)",),
        ),
        Case(
            "requested-alias-only",
            "unknown",
            edited(c(), running_from_requested("1.33")),
            says=("no currentKubernetesVersion and its kubernetesVersion '1.33' names no patch",),
        ),
        Case("unparseable-version", "unknown", c(version="v1.33.2"), says=("'v1.33.2' is not a Kubernetes version",)),
        Case(
            "support-plan-string",
            "unknown",
            c(location="brazilsouth"),
            says=("the entry for 1.33 cannot be read", "capabilities.supportPlan is a string, not a list"),
        ),
        Case("versions-values-object", "unknown", c(location="japaneast"), says=("values is an object, not a list",)),
        Case("no-properties", "unknown", edited(c(), NO_PROPERTIES), says=("the cluster payload has no properties",)),
        Case(
            "support-plan-number",
            "unknown",
            edited(c(), setting(1, "properties", "supportPlan")),
            says=("supportPlan is a number",),
        ),
    ),
    "AKS-VER-02": (
        Case("far", "pass", c(version="1.31.4"), as_of=BEFORE_EOS, says=("runs until", "200 days away")),
        Case(
            "near",
            "warn",
            c(version="1.31.4"),
            as_of=NEAR_EOS,
            says=(f"ends on {EOS}", "in 30 days", "warning horizon 90 days"),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.32",
        ),
        Case(
            "ended",
            "fail",
            c(version="1.31.4"),
            as_of=AFTER_EOS,
            says=(f"ended on {EOS}", "10 days before"),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.32",
        ),
        Case(
            "lts-premium",
            "pass",
            c(version="1.31.4", tier="Premium", support_plan="AKSLongTermSupport"),
            as_of=AFTER_EOS,
            says=("LTS support for 1.31", f"runs until {LTS_END}"),
        ),
        Case(
            "lts-premium-ended",
            "fail",
            c(version="1.31.4", tier="Premium", support_plan="AKSLongTermSupport"),
            as_of=AFTER_LTS,
            says=(f"LTS support for 1.31 ended on {LTS_END}",),
        ),
        Case(
            "lts-standard",
            "fail",
            c(version="1.31.4", tier="Standard", support_plan="AKSLongTermSupport"),
            as_of=AFTER_EOS,
            says=("needs the Premium tier",),
        ),
        Case(
            "alias",
            "fail",
            edited(c(version="1.31.4"), alias("1.36")),
            as_of=AFTER_EOS,
            says=("support for 1.31 ended",),
        ),
        Case("not-in-calendar", "unknown", c(version="1.99.0"), says=("no entry for 1.99",)),
        Case(
            "older-than-calendar",
            "fail",
            c(version="1.13.5"),
            says=("support for 1.13 ended before", "the oldest minor in the bundled AKS calendar"),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.32",
        ),
        Case(
            "notice-agrees",
            "warn",
            c(version="1.31.4"),
            as_of=NEAR_EOS,
            history=eol_notice("1.31.4", str(EOS)),
            says=(f"ends on {EOS}", "AKS's end-of-support notice (KubernetesVersionEOLOneWeek) agrees"),
            evidence_says=("EOLNotification KubernetesVersionEOLOneWeek", f"Community eolDate {EOS}"),
        ),
        Case(
            "notice-earlier",
            "fail",
            c(version="1.31.4"),
            as_of=NEAR_EOS,
            history=eol_notice(
                "1.31.4", str((NEAR_EOS - timedelta(days=1)).date()), notice="KubernetesVersionOutOfSupport"
            ),
            says=(
                "ended on",
                "1 day before the scan",
                f"the bundled calendar says {EOS}",
                "the earlier date is judged",
            ),
        ),
        Case(
            "notice-only",
            "warn",
            c(version="1.99.0"),
            history=eol_notice("1.99.0", str((AS_OF + timedelta(days=10)).date())),
            says=("support for 1.99 ends on", "in 10 days", "the bundled calendar says nothing"),
        ),
        Case(
            "versions-list-missing",
            "warn",
            c(version="1.31.4", location="northeurope"),
            as_of=NEAR_EOS,
            says=("in 30 days", "the region's version list was not collected", "no upgrade target is named"),
            evidence_says=(
                "bundled AKS calendar 1.31",
                "upgrade target none: the region's version list was not collected",
            ),
            remediation="az aks upgrade -g rg1 -n {cluster}  # --kubernetes-version omitted: the evidence gives no "
            "target to name",
        ),
        Case("unparseable-version", "unknown", c(version="garbage"), says=("'garbage' is not a Kubernetes version",)),
    ),
    "AKS-VER-03": (
        Case("newest", "pass", c(version="1.33.2"), says=("newest patch of 1.33",)),
        Case(
            "behind",
            "fail",
            c(version="1.33.1"),
            says=("behind the newest patch 1.33.2",),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.33.2",
        ),
        Case(
            "numeric-order-behind",
            "fail",
            c(version="1.33.4", location="westeurope"),
            says=("newest patch 1.33.10", "1 newer: 1.33.10"),
        ),
        Case("numeric-order-newest", "pass", c(version="1.33.10", location="westeurope")),
        Case("alias", "pass", edited(c(version="1.33.2"), alias("1.33"))),
        Case("lts-minor", "pass", c(version="1.30.2", tier="Premium", support_plan="AKSLongTermSupport")),
        Case("minor-gone", "not_applicable", c(version="1.28.5"), says=("no longer offered", "AKS-VER-01")),
        Case("versions-403", "unknown", c(location="northeurope"), says=("were not collected",)),
        Case(
            "standard-ignores-lts-only-patch",
            "pass",
            c(version="1.31.2", location="westus"),
            says=("newest patch of 1.31", "patches offered only under LTS are not counted: 1.31.100"),
        ),
        Case(
            "lts-gets-lts-patch",
            "fail",
            c(version="1.31.2", location="westus", tier="Premium", support_plan="AKSLongTermSupport"),
            says=("behind the newest patch 1.31.100",),
            remediation="az aks upgrade -g rg1 -n {cluster} --kubernetes-version 1.31.100",
        ),
        Case(
            "lts-only-minor-standard",
            "not_applicable",
            c(version="1.27.102", location="westus"),
            says=("offers 1.27 only under LTS", "see AKS-VER-01"),
        ),
        Case(
            "requested-full-version",
            "fail",
            edited(c(version="1.33.1"), running_from_requested("1.33.1")),
            says=("1.33.1 is behind the newest patch 1.33.2",),
            evidence_says=("(a full version: what runs)",),
        ),
        Case("unparseable-version", "unknown", c(version="v1.33.2"), says=("is not a Kubernetes version",)),
    ),
    "AKS-VER-04": (
        Case("same-minor", "pass", c(), pool="system"),
        Case(
            "lagging",
            "fail",
            c(pools=[pool("system"), pool("user", mode="User", version="1.32.7")]),
            pool="user",
            says=("1.32.7", "control plane runs 1.33.2", "unfinished"),
            remediation="az aks nodepool upgrade -g rg1 --cluster-name {cluster} -n user --kubernetes-version 1.33.2",
        ),
        Case("pool-alias-done", "pass", edited(c(), pool_alias("1.33", "1.33.2")), pool="system"),
        Case(
            "pool-alias-pending",
            "fail",
            edited(c(), pool_alias("1.33", "1.32.9")),
            pool="system",
            says=("1.32.9",),
        ),
        Case(
            "cluster-alias",
            "pass",
            edited(c(version="1.33.2", pools=[pool(version="1.33.2")]), alias("1.34")),
            pool="system",
        ),
        Case("no-pool-version", "unknown", edited(c(), no_pool_versions), pool="system"),
        Case(
            "stopped",
            "fail",
            c(power="Stopped", pools=[pool(version="1.32.7")]),
            pool="system",
            says=("(cluster is stopped)",),
        ),
        Case(
            "null-pool-entry",
            "unknown",
            edited(c(), pools(None, pool("system"))),
            pool="agentPoolProfiles[0]",
            says=("entry 0 of agentPoolProfiles is null",),
        ),
        Case(
            "unparseable-control-plane",
            "unknown",
            c(version="v1.33.2"),
            pool="system",
            says=("is not a Kubernetes version",),
        ),
        Case(
            "unparseable-pool-version",
            "unknown",
            c(pools=[pool(version="v1.33.2")]),
            pool="system",
            says=("no readable orchestrator version ('v1.33.2')",),
        ),
    ),
    "AKS-IMG-01": (
        Case("fresh", "pass", one_pool(image=UBUNTU_LATEST), pool="system", says=("14 days old and the newest",)),
        Case(
            "recent",
            "pass",
            one_pool(image=f"{UBUNTU}-202611.03.0"),
            pool="system",
            says=("21 days old (Linux limit 30)",),
        ),
        Case(
            "linux-45-days",
            "fail",
            one_pool(image=f"{UBUNTU}-202610.10.0"),
            pool="system",
            says=("45 days old (Linux limit 30)", f"the newest in eastus is {UBUNTU_LATEST}"),
            remediation="az aks nodepool upgrade -g rg1 --cluster-name {cluster} -n system --node-image-only",
        ),
        Case(
            "stale",
            "fail",
            one_pool(image=f"{UBUNTU}-202607.01.0"),
            pool="system",
            says=("146 days old", "Microsoft does not support node images older than 90 days"),
        ),
        Case("windows-fresh", "pass", one_pool(image=WINDOWS_LATEST, os_type="Windows"), pool="system"),
        Case(
            "windows-45-days",
            "pass",
            one_pool(image=f"{WINDOWS}-20348.3207.261010", os_type="Windows"),
            pool="system",
            says=("45 days old (Windows limit 60)",),
        ),
        Case(
            "windows-75-days",
            "fail",
            one_pool(image=f"{WINDOWS}-20348.3100.260910", os_type="Windows"),
            pool="system",
            says=("75 days old (Windows limit 60)",),
        ),
        Case(
            "frozen-family-newest",
            "warn",
            one_pool(image=FROZEN),
            pool="system",
            says=("is the newest AKSAzureLinux-V2 image in eastus", "older than 90 days", "AKS-OS-01"),
        ),
        Case("unparseable", "unknown", one_pool(image="custom-image-latest"), pool="system"),
        Case(
            "future-dated",
            "unknown",
            one_pool(image=f"{UBUNTU}-209901.01.0"),
            pool="system",
            says=("is dated 2099-01-01, after the scan",),
        ),
        Case(
            "nameless-pool-entry",
            "unknown",
            edited(c(), pools(NAMELESS_POOL)),
            pool="agentPoolProfiles[0]",
            says=("entry 0 of agentPoolProfiles has no name",),
        ),
    ),
    "AKS-IMG-02": (
        Case("latest", "pass", one_pool(image=UBUNTU_LATEST), pool="system", says=("the latest",)),
        Case(
            "behind",
            "fail",
            one_pool(image=f"{UBUNTU}-202610.05.0"),
            pool="system",
            says=(f"latest in eastus is {UBUNTU_LATEST}", "36 days newer"),
            remediation="az aks nodepool upgrade -g rg1 --cluster-name {cluster} -n system --node-image-only",
        ),
        Case("windows-latest", "pass", one_pool(image=WINDOWS_LATEST, os_type="Windows"), pool="system"),
        Case(
            "windows-behind",
            "fail",
            one_pool(image=f"{WINDOWS}-20348.3207.261101", os_type="Windows"),
            pool="system",
            says=(WINDOWS_LATEST,),
        ),
        Case("newer-than-profile", "pass", one_pool(image=f"{UBUNTU}-202611.17.0"), pool="system"),
        Case(
            "profile-403",
            "unknown",
            one_pool(image=UBUNTU_LATEST, location="uksouth"),
            pool="system",
            says=("403", "profile read denied"),
        ),
        Case(
            "profile-missing",
            "unknown",
            one_pool(image="AKSAzureLinux-V3gen2-202611.10.0"),
            pool="system",
            says=("no upgrade profile was collected",),
        ),
        Case("unparseable", "unknown", one_pool(image="custom-image-latest"), pool="system"),
        Case(
            "future-dated",
            "unknown",
            one_pool(image=f"{UBUNTU}-209901.01.0"),
            pool="system",
            says=("after the scan", "cannot be trusted"),
        ),
    ),
    "AKS-CHN-01": (
        Case("stable", "pass", c(channel="stable")),
        Case("upper-case", "pass", c(channel="STABLE")),
        Case("pascal-case", "pass", c(channel="Patch")),
        Case(
            "none",
            "fail",
            c(channel="none"),
            remediation="az aks update -g rg1 -n {cluster} --auto-upgrade-channel stable",
        ),
        Case("missing", "fail", c(channel=None, node_os=None), says=("service default none",)),
        Case("node-image", "warn", c(channel="node-image"), says=("never upgraded",)),
        Case(
            "lts-none",
            "fail",
            c(channel="none", version="1.30.9", tier="Premium", support_plan="AKSLongTermSupport"),
            remediation="az aks update -g rg1 -n {cluster} --auto-upgrade-channel patch",
        ),
        Case(
            "lts-stable",
            "pass",
            c(channel="stable", tier="Premium", support_plan="AKSLongTermSupport"),
            says=("off its LTS minor",),
        ),
        Case("empty-string", "fail", c(channel=""), says=("an empty string, which means none",)),
        Case(
            "profile-string",
            "unknown",
            edited(c(), PROFILE_STRING),
            says=("autoUpgradeProfile is a string, not an object",),
        ),
        Case(
            "channel-number",
            "unknown",
            edited(c(), setting(3, "properties", "autoUpgradeProfile", "upgradeChannel")),
            says=("upgradeChannel is a number, not a string",),
        ),
        Case("no-properties", "unknown", edited(c(), NO_PROPERTIES), says=("no properties",)),
    ),
    "AKS-CHN-02": (
        Case("node-image", "pass", c(node_os="NodeImage")),
        Case("security-patch", "pass", c(node_os="SecurityPatch")),
        Case("lower-case", "pass", c(node_os="nodeimage")),
        Case("upper-case", "pass", c(node_os="SECURITYPATCH")),
        Case("channel-node-image", "pass", c(channel="node-image", node_os=None), says=("forces",)),
        Case("channel-node-image-cased", "pass", c(channel="Node-Image", node_os=None)),
        Case(
            "none",
            "fail",
            c(node_os="None"),
            says=("no OS security updates",),
            remediation="az aks update -g rg1 -n {cluster} --node-os-upgrade-channel NodeImage",
        ),
        Case("unmanaged", "fail", c(node_os="Unmanaged"), says=("never on Windows",)),
        Case("no-profile", "fail", c(channel=None, node_os=None), says=("no autoUpgradeProfile",)),
        Case(
            "profile-without-field",
            "unknown",
            c(channel="stable", node_os=None),
            says=("has no nodeOSUpgradeChannel", "API 2023-06-01 or later"),
        ),
        Case("empty-string", "fail", c(node_os=""), says=("an empty string, read as None",)),
        Case("profile-string", "unknown", edited(c(), PROFILE_STRING), says=("autoUpgradeProfile is a string",)),
        Case("no-properties", "unknown", edited(c(), NO_PROPERTIES), says=("no properties",)),
    ),
    "AKS-WIN-01": (
        Case(
            "window",
            "pass",
            c(channel="stable"),
            maintenance=WEEKLY_4H,
            says=("every 1 week(s) on Saturday at 01:00 UTC+00:00 for 4 hours (limit 6)",),
        ),
        Case(
            "long",
            "warn",
            c(channel="stable"),
            maintenance=(maintenance_window(AUTO, duration=8),),
            says=("lasts 8 hours", "longer than 6"),
            remediation=f"az aks maintenanceconfiguration update -g rg1 --cluster-name {{cluster}} "
            f"--name {AUTO} "
            "--schedule-type Weekly --interval-weeks 1 --day-of-week Saturday --start-time 01:00 "
            "--duration 4",
        ),
        Case(
            "duration-default",
            "warn",
            c(channel="patch"),
            maintenance=(maintenance_window(AUTO, duration=None),),
            says=("lasts 24 hours", "service default"),
        ),
        Case(
            "none",
            "fail",
            c(channel="stable"),
            remediation=f"az aks maintenanceconfiguration add -g rg1 --cluster-name {{cluster}} "
            f"--name {AUTO} "
            "--schedule-type Weekly --interval-weeks 1 --day-of-week Saturday --start-time 01:00 "
            "--duration 4",
        ),
        Case(
            "legacy-default-only",
            "fail",
            c(channel="stable"),
            maintenance=(legacy_default(),),
            says=("legacy 'default' configuration does not schedule auto-upgrades",),
        ),
        Case("only-node-os-window", "fail", c(channel="rapid"), maintenance=(maintenance_window(NODE_OS),)),
        Case(
            "case-insensitive-name",
            "pass",
            c(channel="stable"),
            maintenance=(maintenance_window("aksmanagedautoupgradeschedule"),),
        ),
        Case("channel-node-image", "pass", c(channel="Node-Image"), maintenance=WEEKLY_4H),
        Case("no-channel", "not_applicable", c(channel="none")),
        Case("channel-missing", "not_applicable", c(channel=None), says=("absent, so none",)),
        Case("lost-403", "unknown", c(channel="stable"), maintenance_lost=True, says=("403", "denied")),
        Case("empty-channel", "not_applicable", c(channel=""), says=("an empty string, so none",)),
        Case(
            "no-schedule",
            "unknown",
            c(channel="stable"),
            maintenance=(broken_window(AUTO, schedule=None),),
            says=("cannot be judged: the window has no schedule",),
        ),
        Case(
            "zero-duration",
            "unknown",
            c(channel="stable"),
            maintenance=(broken_window(AUTO, durationHours=0),),
            says=("durationHours 0 is outside the 4 to 24 hours",),
        ),
        Case(
            "negative-duration",
            "unknown",
            c(channel="stable"),
            maintenance=(broken_window(AUTO, durationHours=-3),),
            says=("durationHours -3 is outside",),
        ),
        Case(
            "unknown-schedule-form",
            "unknown",
            c(channel="stable"),
            maintenance=(broken_window(AUTO, schedule={"hourly": {"intervalHours": 1}}),),
            says=("none of daily, weekly, absoluteMonthly, relativeMonthly",),
        ),
        Case(
            "profile-string",
            "unknown",
            edited(c(), PROFILE_STRING),
            maintenance=WEEKLY_4H,
            says=("autoUpgradeProfile is a string",),
        ),
        Case("no-properties", "unknown", edited(c(), NO_PROPERTIES), maintenance=WEEKLY_4H, says=("no properties",)),
    ),
    "AKS-WIN-02": (
        Case("window", "pass", c(node_os="NodeImage"), maintenance=WEEKLY_4H, says=("node OS updates run in",)),
        Case(
            "long",
            "warn",
            c(node_os="SecurityPatch"),
            maintenance=(maintenance_window(NODE_OS, duration=12),),
            says=("lasts 12 hours",),
            remediation=f"az aks maintenanceconfiguration update -g rg1 --cluster-name {{cluster}} "
            f"--name {NODE_OS} "
            "--schedule-type Weekly --interval-weeks 1 --day-of-week Saturday --start-time 01:00 "
            "--duration 4",
        ),
        Case("none", "fail", c(node_os="NodeImage"), maintenance=(maintenance_window(AUTO),)),
        Case(
            "legacy-default-only",
            "fail",
            c(node_os="NodeImage"),
            maintenance=(legacy_default(),),
            says=("legacy 'default' configuration does not schedule node OS updates",),
            remediation=f"az aks maintenanceconfiguration add -g rg1 --cluster-name {{cluster}} "
            f"--name {NODE_OS} "
            "--schedule-type Weekly --interval-weeks 1 --day-of-week Saturday --start-time 01:00 "
            "--duration 4",
        ),
        Case("channel-node-image", "pass", c(channel="node-image", node_os=None), maintenance=WEEKLY_4H),
        Case("not-automated", "not_applicable", c(node_os="None"), says=("AKS-CHN-02",)),
        Case("unmanaged", "not_applicable", c(node_os="Unmanaged")),
        Case("no-profile", "not_applicable", c(channel=None, node_os=None)),
        Case("lost-403", "unknown", c(node_os="NodeImage"), maintenance_lost=True),
        Case("channel-not-shown", "unknown", c(channel="stable", node_os=None), says=("not shown",)),
        Case("channel-not-shown-window", "pass", c(channel="stable", node_os=None), maintenance=WEEKLY_4H),
        Case("empty-node-os", "not_applicable", c(node_os=""), says=("an empty string, read as None",)),
        Case(
            "no-schedule",
            "unknown",
            c(node_os="NodeImage"),
            maintenance=(broken_window(NODE_OS, schedule=None),),
            says=("has no schedule",),
        ),
        Case(
            "zero-duration",
            "unknown",
            c(node_os="NodeImage"),
            maintenance=(broken_window(NODE_OS, durationHours=0),),
            says=("durationHours 0 is outside",),
        ),
        Case(
            "profile-string",
            "unknown",
            edited(c(), PROFILE_STRING),
            maintenance=WEEKLY_4H,
            says=("autoUpgradeProfile is a string",),
        ),
    ),
    "AKS-SRG-01": (
        Case(
            "defaults",
            "pass",
            one_pool(),
            pool="system",
            says=("maxSurge 10% (service default), maxUnavailable 0 (service default)",),
        ),
        Case(
            "percent",
            "pass",
            one_pool(upgrade_settings={"maxSurge": "33%", "maxUnavailable": "0"}),
            pool="system",
        ),
        Case(
            "system-unavailable",
            "fail",
            one_pool(upgrade_settings={"maxSurge": "1", "maxUnavailable": "1"}),
            pool="system",
            says=("System pool", "1 node(s)", "limit 0"),
            remediation="az aks nodepool update -g rg1 --cluster-name {cluster} -n system --max-surge 33% "
            "--max-unavailable 0",
        ),
        Case(
            "system-unavailable-percent",
            "fail",
            one_pool(upgrade_settings={"maxUnavailable": "10%"}),
            pool="system",
            says=("maxSurge 10% (service default)", "1 node(s)"),
        ),
        Case("system-zero-percent", "pass", one_pool(upgrade_settings={"maxUnavailable": "0%"}), pool="system"),
        Case(
            "no-surge-no-unavailable",
            "fail",
            one_pool(name="user", mode="User", upgrade_settings={"maxSurge": "0"}),
            pool="user",
            says=("maxUnavailable 0 (service default)", "cannot proceed"),
        ),
        Case(
            "user-unavailable",
            "pass",
            one_pool(name="user", mode="User", upgrade_settings={"maxSurge": "0", "maxUnavailable": "1"}),
            pool="user",
        ),
        Case(
            "unreadable",
            "unknown",
            one_pool(upgrade_settings={"maxSurge": "lots"}),
            pool="system",
            says=("'lots'",),
        ),
        Case(
            "null-pool-entry",
            "unknown",
            edited(c(), pools(None)),
            pool="agentPoolProfiles[0]",
            says=("entry 0 of agentPoolProfiles is null",),
        ),
        Case(
            "nameless-pool-entry",
            "unknown",
            edited(c(), pools(pool("system"), NAMELESS_POOL)),
            pool="agentPoolProfiles[1]",
            says=("entry 1 of agentPoolProfiles has no name",),
        ),
        Case(
            "settings-string",
            "unknown",
            edited(c(), setting("33%", "properties", "agentPoolProfiles", 0, "upgradeSettings")),
            pool="system",
            says=("upgradeSettings of pool 'system' is a string, not an object",),
        ),
    ),
    "AKS-HLT-01": (
        Case("healthy", "pass", c(), says=("Succeeded",)),
        Case(
            "cluster-failed",
            "fail",
            c(provisioning_state="Failed"),
            says=("cluster is in provisioningState Failed",),
            remediation="az aks update -g rg1 -n {cluster}",
        ),
        Case(
            "pool-failed",
            "fail",
            c(pools=[pool("system"), pool("user", mode="User", provisioning_state="Failed")]),
            says=("pool(s) user of 2",),
        ),
        Case("lower-case", "fail", c(provisioning_state="failed")),
        Case(
            "upgrading",
            "pass",
            c(pools=[pool("system", provisioning_state="Upgrading")]),
            says=("system Upgrading",),
        ),
        Case("no-state", "unknown", edited(c(), drop("properties", "provisioningState"))),
        Case("stopped", "pass", c(power="Stopped"), says=("(cluster is stopped)",)),
        Case(
            "no-pools",
            "unknown",
            edited(c(), drop("properties", "agentPoolProfiles")),
            says=("the cluster payload has no agentPoolProfiles: the pools' states are not known",),
        ),
        Case(
            "pools-object",
            "unknown",
            edited(c(), setting({"name": "system"}, "properties", "agentPoolProfiles")),
            says=("agentPoolProfiles is an object, not a list",),
        ),
        Case(
            "null-pool-entry",
            "unknown",
            edited(c(), pools(pool("system"), None)),
            says=("entry 1 of agentPoolProfiles is null",),
        ),
        Case(
            "failed-beside-null-entry",
            "fail",
            edited(c(), pools(pool("system", provisioning_state="Failed"), None)),
            says=("pool(s) system of 1 are in provisioningState Failed",),
        ),
        Case("no-properties", "unknown", edited(c(), NO_PROPERTIES), says=("no properties",)),
    ),
    "AKS-ORD-01": (
        Case(
            "in-order",
            "pass",
            c(**two_pools()),
            history=lambda b: [*reversed(in_order_rows(b)), *in_order_rows(b)[:3], completed_event(b)],
            says=(
                "2 campaign(s) in the last 90 days ran in order",
                "latest: Kubernetes 1.33.2 upgrade of",
                "control plane",
                "system pool 'system'",
                "user pool 'apps'",
                "(started ",
            ),
        ),
        Case(
            "user-pool-first",
            "fail",
            c(**two_pools()),
            history=lambda b: [
                *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 1, at(14), at(30), "1.32.5", "1.33.2"),
                *pool_rows(b, 0, at(31), at(50), "1.32.5", "1.33.2"),
            ],
            says=(
                "Kubernetes 1.33.2 upgrade of",
                "user pool 'apps' reached 1.33.2 at",
                "before system pool 'system'",
                "Order seen: control plane",
                # The channel is set, so AKS would refuse --control-plane-only: what works instead.
                "with upgradeChannel stable set, AKS refuses az aks upgrade --control-plane-only",
            ),
            evidence_says=("rule broken: system_pools_first",),
            remediation=ORD_REMEDIATION,
        ),
        Case(
            "user-pool-first-no-channel",
            "fail",
            c(channel="none", **two_pools()),
            history=user_first,
            says=(
                "Next upgrade: az aks upgrade --control-plane-only, then az aks nodepool upgrade on each System pool",
            ),
            evidence_says=("rule broken: system_pools_first",),
        ),
        Case(
            "aks-run-user-first",
            "pass",
            c(**two_pools()),
            history=lambda b: by_aks(user_first(b)),
            says=(
                "(run by AKS: upgradeChannel stable is set and no change shows a person starting it)",
                "System-before-User is not judged on the 2 campaign(s) AKS ran (aks_run_order is off)",
            ),
            evidence_says=("2 run by AKS",),
        ),
        Case(
            "auto-upgrader-user-first",
            "pass",
            c(channel="none", **two_pools()),
            history=lambda b: [*user_first(b, image=None), completed_event(b)],
            says=("(run by AKS: AKS's auto-upgrader recorded it)",),
        ),
        Case(
            "aks-run-pool-before-control-plane",
            "fail",
            c(**two_pools()),
            history=lambda b: by_aks(
                [
                    *pool_rows(b, 0, at(0), at(5), "1.32.5", "1.33.2"),
                    *control_plane_rows(b, at(1), at(12), "1.32.5", "1.33.2"),
                    *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2"),
                ]
            ),
            says=("(run by AKS:", "before the control plane"),
            evidence_says=("rule broken: control_plane_first",),
        ),
        Case(
            "gateway-pool-first",
            "fail",
            c(
                channel="none",
                version="1.33.2",
                pools=[pool("system"), pool("egress", mode="Gateway")],
            ),
            history=user_first,
            says=("gateway pool 'egress' (ordered as a User pool) reached 1.33.2",),
            evidence_says=("rule broken: system_pools_first",),
        ),
        Case(
            "control-plane-failed",
            "fail",
            c(
                channel="none",
                version="1.32.5",
                pools=[pool("system", version="1.33.2"), pool("apps", mode="User", version="1.32.5")],
            ),
            history=lambda b: [
                change_row(b, at(0), {"properties.provisioningState": change("Succeeded", "Upgrading")}),
                change_row(b, at(10), {"properties.provisioningState": change("Upgrading", "Failed")}),
                *pool_rows(b, 0, at(20), at(30), "1.32.5", "1.33.2"),
            ],
            says=("system pool 'system' reached 1.33.2", "although the upgrade of control plane failed"),
            evidence_says=("rule broken: control_plane_failed_first",),
        ),
        Case(
            "system-pool-in-later-campaign",
            "fail",
            c(channel="none", **two_pools()),
            history=lambda b: [
                *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2", image=None),
                *pool_rows(b, 0, at(4 * 1440), at(4 * 1440 + 20), "1.32.5", "1.33.2", image=None),
            ],
            says=("before system pool 'system', which reached it only",),
            evidence_says=("rule broken: predecessor_in_later_campaign",),
        ),
        Case(
            "system-pool-left-behind",
            "fail",
            c(channel="none", version="1.33.2", pools=[pool("system", version="1.32.5"), pool("apps", mode="User")]),
            history=lambda b: [
                *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2"),
            ],
            says=("while system pool 'system' still runs 1.32.5",),
            evidence_says=("rule broken: system_pool_left_behind",),
        ),
        Case(
            "no-pools-list",
            "unknown",
            edited(c(**two_pools()), drop("properties", "agentPoolProfiles")),
            history=in_order_rows,
            says=("no agentPoolProfiles",),
        ),
        Case(
            "user-pool-started-early",
            "fail",
            c(**two_pools()),
            history=lambda b: [
                *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 0, at(15), at(40), "1.32.5", "1.33.2"),
                *pool_rows(b, 1, at(20), at(60), "1.32.5", "1.33.2"),
            ],
            says=("user pool 'apps' started upgrading at", "before system pool 'system' had finished"),
        ),
        Case(
            "pool-before-control-plane",
            "fail",
            c(**two_pools()),
            history=lambda b: [
                *pool_rows(b, 0, at(0), at(5), "1.32.5", "1.33.2"),
                *control_plane_rows(b, at(1), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 1, at(20), at(40), "1.32.5", "1.33.2"),
            ],
            says=("system pool 'system' reached 1.33.2", "before the control plane"),
            evidence_says=("rule broken: control_plane_first",),
        ),
        Case(
            "system-pool-failed",
            "fail",
            c(
                version="1.33.2",
                pools=[
                    pool("system", version="1.32.5", image=OLD_IMAGE, provisioning_state="Failed"),
                    pool("apps", mode="User", version="1.33.2", image=NEW_IMAGE),
                ],
            ),
            history=lambda b: [
                *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 0, at(15), at(30), "1.32.5", "1.33.2", fail=True),
                *pool_rows(b, 1, at(40), at(60), "1.32.5", "1.33.2"),
            ],
            says=("user pool 'apps' reached 1.33.2",),
            evidence_says=("rule broken: system_pool_failed_first",),
        ),
        Case(
            "user-pool-failed",
            "pass",
            c(
                version="1.33.2",
                pools=[
                    pool("system", version="1.33.2", image=NEW_IMAGE),
                    pool("apps", mode="User", version="1.32.5", image=OLD_IMAGE, provisioning_state="Failed"),
                ],
            ),
            history=lambda b: [
                *control_plane_rows(b, at(0), at(12), "1.32.5", "1.33.2"),
                *pool_rows(b, 0, at(15), at(30), "1.32.5", "1.33.2"),
                *pool_rows(b, 1, at(40), at(60), "1.32.5", "1.33.2", fail=True),
            ],
            says=("ran in order", "interrupted: user pool 'apps' failed"),
        ),
        Case("no-history", "unknown", c(**two_pools()), says=("no upgrade history covers this cluster",)),
        Case(
            "scan-diff-overlap",
            "unknown",
            c(**two_pools()),
            prior=((timedelta(days=30), c(**two_pools("1.32.5", OLD_IMAGE))),),
            says=("cannot be proven", "changed within the same window"),
        ),
        Case(
            "scan-diff-in-order",
            "pass",
            c(**two_pools()),
            prior=(
                (timedelta(days=3), c(**two_pools("1.32.5", OLD_IMAGE))),
                (timedelta(days=2), c(version="1.33.2", pools=two_pools("1.32.5", OLD_IMAGE)["pools"])),
                (
                    timedelta(days=1),
                    c(
                        version="1.33.2",
                        pools=[
                            pool("system", version="1.33.2", image=NEW_IMAGE),
                            pool("apps", mode="User", version="1.32.5", image=OLD_IMAGE),
                        ],
                    ),
                ),
            ),
            says=("2 campaign(s) in the last 90 days ran in order",),
        ),
        Case(
            "scan-diff-user-pool-first",
            "fail",
            c(channel="none", **two_pools()),
            prior=(
                (timedelta(days=2), c(channel="none", **two_pools("1.32.5", OLD_IMAGE))),
                (
                    timedelta(days=1),
                    c(
                        channel="none",
                        version="1.33.2",
                        pools=[
                            pool("system", version="1.32.5", image=OLD_IMAGE),
                            pool("apps", mode="User", version="1.33.2", image=NEW_IMAGE),
                        ],
                    ),
                ),
            ),
            says=("user pool 'apps' reached", "before system pool 'system'"),
        ),
        Case(
            "pool-added-between-scans",
            "pass",
            c(
                version="1.33.2",
                pools=[
                    pool("system", version="1.33.2", image=NEW_IMAGE),
                    pool("batch", mode="User", version="1.33.2", image=NEW_IMAGE),
                    pool("apps", mode="User", version="1.33.2", image=NEW_IMAGE),
                ],
            ),
            prior=((timedelta(days=6), c(**two_pools("1.32.5", OLD_IMAGE))),),
            history=in_order_rows,
            says=("ran in order", "user pool 'apps' (pool name uncertain)"),
        ),
        Case(
            "unmapped-pool-index",
            "pass",
            c(**two_pools()),
            history=lambda b: [
                *in_order_rows(b),
                *pool_rows(b, 5, None, at(75), "1.32.5", "1.33.2", image=None),
            ],
            says=("ran in order", "1 change(s) to a pool index that no snapshot names were left out"),
        ),
        Case(
            "node-image-user-pool-first",
            "fail",
            c(**two_pools()),
            history=lambda b: [
                *image_rows(b, 1, at(0), at(10), OLD_IMAGE, NEW_IMAGE),
                *image_rows(b, 0, at(20), at(30), OLD_IMAGE, NEW_IMAGE),
            ],
            says=(
                "node-image rollout of",
                f"user pool 'apps' reached {NEW_IMAGE}",
                "before system pool 'system'",
            ),
        ),
        Case(
            "scheduled-event-only",
            "unknown",
            c(**two_pools()),
            history=lambda b: [completed_event(b)],
            says=("cannot be proven", "only scheduled_event evidence"),
        ),
        Case(
            "quiet-period",
            "not_applicable",
            c(**two_pools()),
            prior=((timedelta(days=30), c(**two_pools())),),
            says=("no upgrade observed in the last 90 days",),
        ),
    ),
    "AKS-RNG-01": (
        Case(
            "dev-first",
            "pass",
            c(**ring("prod", "1.34.3", IMAGES[0])),
            history=moved("1.34.2", "1.34.3", IMAGES[0], days=2),
            companions=(
                Case(
                    "dev",
                    "",
                    c(**ring("dev", "1.34.3", IMAGES[0])),
                    history=moved("1.34.2", "1.34.3", IMAGES[0], days=6),
                ),
            ),
            says=(
                "every version and node image it runs ran in a lower ring first",
                "Kubernetes 1.34.3 ran on 'rng-01-dev-first-dev' (dev) by 2026-11-18 06:10",
            ),
        ),
        Case(
            "prod-first",
            "fail",
            c(**ring("prod", "1.34.4", IMAGES[1])),
            history=moved("1.34.3", "1.34.4", IMAGES[1], days=6),
            companions=(
                Case(
                    "staging",
                    "",
                    c(**ring("staging", "1.34.4", IMAGES[1])),
                    history=moved("1.34.3", "1.34.4", IMAGES[1], days=2),
                ),
            ),
            says=(
                "production moved to Kubernetes 1.34.4 at",
                "before any lower-ring cluster ran it",
                "'rng-01-prod-first-staging' (staging)",
            ),
            remediation="az fleet updatestrategy create -g rg1 -n rings --stages rings.json  # -f omitted: the "
            "evidence does not name the Fleet Manager resource that holds the clusters (az fleet list); rings.json "
            "lists the stages dev, staging, prod",
        ),
        Case(
            "lower-ring-never-ran-it",
            "fail",
            c(**ring("prod", "1.34.5", IMAGES[2])),
            history=moved("1.34.4", "1.34.5", IMAGES[2], days=3),
            companions=(Case("dev", "", c(**ring("dev", "1.34.1", IMAGES[0]))),),
            says=("moved to Kubernetes 1.34.5", "no lower-ring cluster has run it"),
        ),
        Case(
            "before-history",
            "unknown",
            c(**ring("prod", "1.34.6", IMAGES[3])),
            companions=(Case("dev", "", c(**ring("dev", "1.34.6", IMAGES[3]))),),
            says=("since before its history began",),
        ),
        Case(
            "dev-cluster",
            "not_applicable",
            c(tags={"Environment": "Dev"}),
            says=("ring 'dev' is not the production ring ('prod')",),
        ),
        Case("untagged", "not_applicable", c(), says=("no 'environment' tag naming a ring",)),
        Case(
            "tags-list",
            "unknown",
            edited(c(), setting(["environment=prod"], "tags")),
            says=("tags is a list, not an object of strings: the cluster's ring cannot be read",),
        ),
        Case(
            "unreadable-version",
            "unknown",
            c(**ring("prod", "v1.34.3", IMAGES[0])),
            says=("'v1.34.3' is not a Kubernetes version", "cannot all be read"),
        ),
        Case(
            "no-lower-ring",
            "not_applicable",
            c(**ring("prod", "1.34.3", IMAGES[0])),
            as_of=AS_OF + timedelta(days=1),
            says=("no cluster of a lower ring (dev, staging) in the fleet's history",),
        ),
    ),
}


def cluster_name(control_id: str, case: Case) -> str:
    return f"{control_id[4:].lower()}-{case.id}"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str | None], Finding]:
    """Evaluate every case: one scan per scan date, one cluster per case."""
    by_date: dict[datetime, list[tuple[str, Case]]] = {}
    for control_id, cases in CASES.items():
        for case in cases:
            by_date.setdefault(case.as_of, []).append((control_id, case))
    found: dict[tuple[str, str, str | None], Finding] = {}
    for number, (as_of, members) in enumerate(sorted(by_date.items())):
        db = tmp_path_factory.mktemp("cases") / f"scan{number}.duckdb"
        clusters = [case.build(cluster_name(cid, case)) for cid, case in members]
        fleet = [(cluster_name(cid, case), case) for cid, case in members]
        fleet += [
            (f"{cluster_name(cid, case)}-{extra.id}", extra) for cid, case in members for extra in case.companions
        ]
        companions = [extra.build(name) for name, extra in fleet[len(members) :]]
        earlier: dict[timedelta, list[dict[str, Any]]] = {}
        for name, member in fleet:
            for before, build in member.prior:
                earlier.setdefault(before, []).append(build(name))
        for before, bodies in sorted(earlier.items(), reverse=True):
            store_history_scan(db, bodies, started_at=as_of - before)
        rows = [
            row
            for (_, member), body in zip(fleet, clusters + companions, strict=True)
            if member.history is not None
            for row in member.history(body)
        ]
        errors = list(REGION_ERRORS) + [
            ErrorRow(
                "maintenance_configurations",
                body["id"],
                403,
                "AuthorizationFailed",
                "maintenance read denied",
            )
            for (_, case), body in zip(members, clusters, strict=True)
            if case.maintenance_lost
        ]
        maintenance = {cluster_name(cid, case): list(case.maintenance) for cid, case in members}
        scan_id = store_history_scan(
            db,
            clusters + companions,
            rows,
            region_versions=REGION_VERSIONS,
            maintenance=maintenance,
            latest_images=LATEST_IMAGES,
            errors=errors,
            started_at=as_of,
        )
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
    for text in case.evidence_says:
        assert text in finding.evidence, f"{text!r} not in {finding.evidence!r}"
    assert finding.evidence, "every finding names its evidence"
    assert finding.message and finding.title
    if finding.status in ("fail", "warn"):
        assert finding.remediation, "a fail or warn carries a remediation"
        assert "VERSION" not in finding.remediation and "POOL" not in finding.remediation
    else:
        assert finding.remediation == ""
    if case.remediation is not None:
        assert finding.remediation == case.remediation.format(cluster=name)


def test_every_cluster_gets_every_cluster_control(
    results: dict[tuple[str, str, str | None], Finding],
) -> None:
    """No control silently drops a cluster: each cluster-level control judges every cluster once."""
    clusters = {name for (_, name, _) in results if name}  # '': subscription-level findings
    for control_id in CASES:
        judged = {name for (cid, name, pool_name) in results if cid == control_id}
        if any(pool_name is not None for (cid, _, pool_name) in results if cid == control_id):
            continue  # pool level: judged per pool
        assert judged == clusters, control_id


def test_remediation_quotes_untrusted_names(tmp_path: Path) -> None:
    body = cluster("x", channel="none")
    body["name"] = "evil; rm -rf ~"
    scan_id = store_scan(tmp_path / "a.duckdb", [body])
    con = open_db(tmp_path / "a.duckdb")
    try:
        finding = next(f for f in evaluate_scan(con, scan_id, default_policy()) if f.control_id == "AKS-CHN-01")
    finally:
        con.close()
    assert finding.remediation == "az aks update -g rg1 -n 'evil; rm -rf ~' --auto-upgrade-channel stable"


def _ord01(db: Path, scan_id: str, policy_text: str = "") -> Finding:
    policy = default_policy()
    if policy_text:
        (db.parent / "policy.toml").write_text(policy_text, encoding="utf-8")
        policy = load_policy(db.parent / "policy.toml", known_controls=control_ids())
    con = open_db(db)
    try:
        control = tuple(c for c in load_catalog() if c.id == "AKS-ORD-01")
        (finding,) = evaluate_scan(con, scan_id, policy, controls=control)
    finally:
        con.close()
    return finding


def test_aks_run_campaigns_are_held_to_system_order_when_the_policy_says_so(tmp_path: Path) -> None:
    body = cluster("c1", **two_pools())
    scan_id = store_history_scan(tmp_path / "a.duckdb", [body], by_aks(user_first(body, image=None)))
    lenient = _ord01(tmp_path / "a.duckdb", scan_id)
    assert lenient.status == "pass" and "(run by AKS: upgradeChannel stable is set" in lenient.message
    strict = _ord01(tmp_path / "a.duckdb", scan_id, "[thresholds]\naks_run_order = true\n")
    assert strict.status == "fail", strict.message
    assert "(run by AKS: upgradeChannel stable is set" in strict.message
    assert "rule broken: system_pools_first" in strict.evidence


def test_a_forced_upgrade_of_a_minor_leaving_platform_support_is_labelled_as_aks_run(tmp_path: Path) -> None:
    """AKS upgrades an N-3 cluster to N-2 by itself when its platform support ends (auto-upgrade-cluster.md): a
    campaign from such a minor to the next, near that end, with no channel and no person behind it, is AKS's."""
    minor = find_minor("1.32")
    assert minor is not None and minor.platform_support_end is not None
    as_of = _at(minor.platform_support_end + timedelta(days=10))
    start = as_of - timedelta(days=5)
    body = cluster("c1", channel="none", node_os="None", **two_pools())

    def rows() -> list[dict[str, Any]]:
        def minute(n: int) -> datetime:
            return start + timedelta(minutes=n)

        return [
            *control_plane_rows(body, minute(0), minute(12), "1.32.5", "1.33.2"),
            *pool_rows(body, 1, minute(14), minute(30), "1.32.5", "1.33.2", image=None),
            *pool_rows(body, 0, minute(31), minute(50), "1.32.5", "1.33.2", image=None),
        ]

    scan_id = store_history_scan(tmp_path / "a.duckdb", [body], by_aks(rows()), started_at=as_of)
    finding = _ord01(tmp_path / "a.duckdb", scan_id)
    assert finding.status == "pass", finding.message
    ended = minor.platform_support_end
    assert f"(run by AKS: AKS's forced upgrade of 1.32, whose platform support ended on {ended})" in finding.message
    # The same campaign started by a person is the owner's, and judged.
    scan_id = store_history_scan(tmp_path / "b.duckdb", [body], rows(), started_at=as_of)
    assert _ord01(tmp_path / "b.duckdb", scan_id).status == "fail"
