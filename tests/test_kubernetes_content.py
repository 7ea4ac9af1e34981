"""The Kubernetes vocabulary (label selectors), the generator's in-cluster content and the fleet's `kubernetes` key."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.emulator.fleet import Fleet, FleetError
from auditor.emulator.generator import generate_fleet
from auditor.emulator.kubernetes import derived_nodes, merge_patch
from auditor.emulator.workloads import cluster_content, kubernetes_sections, older_image
from auditor.kubelabels import selector_matches, selector_matches_json
from tests.emulated import small_fleet

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
LABELS = {"app": "api", "tier": "web"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, False),  # a null selector selects nothing
        ({}, True),  # an empty one selects everything (policy/v1)
        ({"matchLabels": {"app": "api"}}, True),
        ({"matchLabels": {"app": "api", "tier": "db"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["api"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"app": "api"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Near", "values": ["api"]}]}, None),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}, None),
        ({"matchLabels": ["app"]}, None),
        ("app=api", None),
    ],
)
def test_label_selectors_follow_kubernetes(selector: Any, expected: bool | None) -> None:
    assert selector_matches(selector, LABELS) is expected


def test_selector_over_json_text() -> None:
    assert selector_matches_json('{"matchLabels":{"app":"api"}}', '{"app":"api"}') is True
    assert selector_matches_json("null", '{"app":"api"}') is False
    assert selector_matches_json(None, '{"app":"api"}') is False
    assert selector_matches_json("{", "{}") is None


def test_merge_patch_is_rfc_7386() -> None:
    target = {"a": {"b": 1, "c": 2}, "d": [1], "e": 1}
    assert merge_patch(target, {"a": {"b": None, "x": 3}, "d": [2], "e": None}) == {"a": {"c": 2, "x": 3}, "d": [2]}
    assert target == {"a": {"b": 1, "c": 2}, "d": [1], "e": 1}


def test_older_image_keeps_the_family() -> None:
    assert older_image("AKSUbuntu-2204gen2containerd-202601.10.0", 2) == "AKSUbuntu-2204gen2containerd-202511.10.0"
    assert (
        older_image("AKSWindows-2022-containerd-20348.3300.261110", 1) == "AKSWindows-2022-containerd-20348.3200.261010"
    )
    assert older_image("custom", 1) == "custom"


def test_nodes_follow_the_pools() -> None:
    fleet = generate_fleet(30, 2, seed=4, regions=2, as_of=AS_OF, kubernetes=True)
    for cluster in fleet["managedClusters"]:
        nodes = derived_nodes(cluster)
        stopped = cluster["properties"]["powerState"]["code"] == "Stopped"
        expected = 0 if stopped else sum(p["count"] for p in cluster["properties"]["agentPoolProfiles"])
        assert len(nodes) == expected
        pools = {p["name"]: p for p in cluster["properties"]["agentPoolProfiles"]}
        for node in nodes:
            labels = node["metadata"]["labels"]
            owner = pools[labels["kubernetes.azure.com/agentpool"]]
            assert labels["kubernetes.azure.com/node-image-version"] == owner["nodeImageVersion"]
            assert node["status"]["nodeInfo"]["kubeletVersion"] == "v" + owner["currentOrchestratorVersion"]
        assert len({n["metadata"]["name"] for n in nodes}) == len(nodes)


def test_generated_content_is_deterministic_realistic_and_valid() -> None:
    first = generate_fleet(200, 6, seed=9, regions=3, as_of=AS_OF, kubernetes=True)
    second = generate_fleet(200, 6, seed=9, regions=3, as_of=AS_OF, kubernetes=True)
    assert "kubernetes" not in generate_fleet(20, 2, seed=9, regions=3, as_of=AS_OF)  # opt-in for the library
    assert first["kubernetes"] == second["kubernetes"]
    Fleet(first)  # the fleet validates, `kubernetes` key included
    sections = first["kubernetes"]
    assert set(sections) == {c["id"].lower() for c in first["managedClusters"]}
    shapes: Counter[str] = Counter()
    for section in sections.values():
        for budget in section["podDisruptionBudgets"]:
            spec = budget["spec"]
            if spec.get("maxUnavailable") in (0, "0%") or spec.get("minAvailable") == "100%":
                shapes["blocking"] += 1
            elif budget["status"]["expectedPods"] == 0:
                shapes["selects nothing"] += 1
            else:
                shapes["allows eviction" if budget["status"]["disruptionsAllowed"] > 0 else "blocked now"] += 1
    assert shapes["blocking"] >= 5 and shapes["selects nothing"] >= 1 and shapes["allows eviction"] > shapes["blocking"]
    access = Counter(section.get("access", "granted") for section in sections.values())
    assert access["granted"] > 150 and len(access) >= 3
    patched = [s for s in sections.values() if s.get("nodePatches")]
    assert patched
    by_id = {c["id"].lower(): c for c in first["managedClusters"]}
    for cluster_id, section in sections.items():
        names = {n["metadata"]["name"] for n in derived_nodes(by_id[cluster_id])}
        assert set(section.get("nodePatches", {})) <= names


def test_the_same_cluster_keeps_its_workloads_as_its_pools_change() -> None:
    cluster = generate_fleet(5, 1, seed=2, regions=1, as_of=AS_OF, kubernetes=True)["managedClusters"][0]
    later = copy.deepcopy(cluster)
    later["properties"]["agentPoolProfiles"][0]["nodeImageVersion"] += "-next"
    before, after = cluster_content(cluster, 2), cluster_content(later, 2)
    assert before["podDisruptionBudgets"] == after["podDisruptionBudgets"]
    assert before["deployments"] == after["deployments"]
    without_faults = kubernetes_sections([cluster], 2, access_faults=False)[cluster["id"].lower()]
    assert "access" not in without_faults and "forbiddenResources" not in without_faults


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda f, cid: f["kubernetes"].update({"/subscriptions/x/rg/nope": {}}), "no managed cluster"),
        (lambda f, cid: f["kubernetes"].update({cid: {"access": "maybe"}}), "access"),
        (lambda f, cid: f["kubernetes"].update({cid: {"pods": []}}), "unknown key"),
        (lambda f, cid: f["kubernetes"].update({cid: {"deployments": [{"spec": {}}]}}), "metadata.name"),
        (lambda f, cid: f["kubernetes"].update({cid: {"nodePatches": {"n": 1}}}), "merge patch"),
    ],
)
def test_bad_kubernetes_sections_are_refused(edit: Any, complaint: str) -> None:
    fleet = small_fleet()
    cluster_id = fleet["managedClusters"][0]["id"]
    fleet["kubernetes"] = {}
    edit(fleet, cluster_id)
    with pytest.raises(FleetError, match=complaint):
        Fleet(fleet)
