"""Malformed evidence: payloads of the wrong shape never fail an evaluation, never poison
the store, and never yield a pass. Each is an `unknown` that says what was wrong, for the controls that need the
value; the rest of the scan is judged as usual; `report`, `trend` and `export` keep working for every scan of a
store that holds such a scan; findings.json always validates against docs/findings.schema.json.

The first fixture serves the payloads with the emulator and collects them through the real SDK (the emulator's
fleet file refuses some of these shapes, so they are put into the served data after it was validated, as a buggy
or hostile endpoint would send them). Shapes the emulator cannot serve at all (a cluster row without properties,
tags that are null) are stored directly, as a collector would record them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.controls import Finding, evaluate_scan, load_catalog
from auditor.emulator.server import EmulatorServer
from auditor.policy import default_policy
from auditor.store import open_db
from tests.emulated import arm_cluster, small_fleet
from tests.evidence import AS_OF, DEFAULT_VERSIONS, cluster, maintenance_window, pool, store_scan
from tests.library import scan_and_store

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog()
POOL_CONTROLS = {c.id for c in CATALOG if c.level == "pool"}
AUTO = "aksManagedAutoUpgradeSchedule"
NODE_OS = "aksManagedNodeOSUpgradeSchedule"


def _props(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda c: edit(c["properties"])


# name -> (edit of the served cluster, after validation; controls that must say unknown, with a text each)
MALFORMED: dict[str, tuple[Callable[[dict[str, Any]], None], dict[str, str]]] = {
    "pools-object": (
        _props(lambda p: p.update(agentPoolProfiles={"name": "system", "mode": "System"})),
        {"AKS-HLT-01": "agentPoolProfiles is an object, not a list", "AKS-ORD-01": "agentPoolProfiles is an object"},
    ),
    "no-pools": (
        _props(lambda p: p.pop("agentPoolProfiles")),
        {"AKS-HLT-01": "no agentPoolProfiles", "AKS-ORD-01": "no agentPoolProfiles"},
    ),
    "null-pool": (
        _props(lambda p: p["agentPoolProfiles"].append(None)),
        {"AKS-HLT-01": "entry 1 of agentPoolProfiles is null", "AKS-SRG-01": "entry 1 of agentPoolProfiles is null"},
    ),
    "nameless-pool": (
        _props(lambda p: p["agentPoolProfiles"].append({"mode": "User", "count": 2})),
        {"AKS-HLT-01": "has no name", "AKS-SRG-01": "entry 1 of agentPoolProfiles has no name"},
    ),
    "profile-string": (
        _props(lambda p: p.update(autoUpgradeProfile="stable")),
        {
            "AKS-CHN-01": "autoUpgradeProfile is a string, not an object",
            "AKS-CHN-02": "autoUpgradeProfile is a string",
            "AKS-WIN-01": "autoUpgradeProfile is a string",
            "AKS-WIN-02": "autoUpgradeProfile is a string",
        },
    ),
    "bad-version": (
        _props(lambda p: p.update(currentKubernetesVersion="v1.33.2")),
        {
            control: "'v1.33.2' is not a Kubernetes version"
            for control in ("AKS-VER-01", "AKS-VER-02", "AKS-VER-03", "AKS-VER-04")
        },
    ),
    "future-image": (
        _props(lambda p: p["agentPoolProfiles"][0].update(nodeImageVersion="AKSUbuntu-2204gen2containerd-209901.01.0")),
        {"AKS-IMG-01": "after the scan", "AKS-IMG-02": "after the scan"},
    ),
    "window-no-schedule": (
        lambda c: None,  # its maintenance configuration is the malformed part (see _fleet)
        {"AKS-WIN-01": "the window has no schedule", "AKS-WIN-02": "durationHours 0 is outside"},
    ),
}


def _fleet() -> dict[str, Any]:
    data = small_fleet([arm_cluster(name) for name in MALFORMED])
    data["managedClusters"].append(arm_cluster("tags-list", tags={}))
    data["managedClusters"][-1]["tags"] = ["team=a", "env=prod"]
    data["managedClusters"].append(arm_cluster("tags-numbers", tags={}))
    data["managedClusters"][-1]["tags"] = {"cost-centre": 4711, "pci": True, "owner": None}
    window = maintenance_window(AUTO)
    del window["properties"]["maintenanceWindow"]["schedule"]
    node_os = maintenance_window(NODE_OS, duration=0)
    target = next(c for c in data["managedClusters"] if c["name"] == "window-no-schedule")
    data["maintenanceConfigurations"] = {target["id"]: [window, node_os]}
    return data


def _scan(db: Path, data: dict[str, Any], moment: Any, state: Path, mutate: bool) -> str:
    with EmulatorServer(data, state_dir=state) as server:
        if mutate:
            for served in server.fleet.clusters:
                if served["name"] in MALFORMED:
                    MALFORMED[served["name"]][0](served)
        result = scan_and_store(
            db, endpoint=server.endpoint, ca_bundle=str(server.ca_file), clock=lambda: moment, credential=None
        )
    # A malformed pool costs no call: the collector never addresses a pool it cannot name (no upgrade-profile call
    # goes through it), so the scan is complete; the model labels the entry and every pool-level control says
    # unknown for it (test_no_control_passes_on_a_malformed_value).
    assert result.status == "complete", result
    return result.scan_id


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A store of four scans: a clean one, the malformed one, a directly stored one with the shapes the emulator
    cannot serve, and a clean one after them."""
    work = tmp_path_factory.mktemp("malformed")
    db = work / "auditor.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AUDITOR_ACCESS_TOKEN", "malformed-token")
        first = _scan(db, _fleet(), AS_OF - timedelta(days=14), work / "emu1", mutate=False)
        second = _scan(db, _fleet(), AS_OF - timedelta(days=7), work / "emu2", mutate=True)
    third = store_scan(db, _unservable(), started_at=AS_OF - timedelta(days=3), scan_id="20261121T060000Z-direct")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AUDITOR_ACCESS_TOKEN", "malformed-token")
        fourth = _scan(db, _fleet(), AS_OF, work / "emu3", mutate=False)
    yield db, [first, second, third, fourth]


def _unservable() -> list[dict[str, Any]]:
    no_properties = cluster("no-properties")
    del no_properties["properties"]
    null_tags = cluster("null-tags")
    null_tags["tags"] = None
    nameless = cluster("nameless")
    nameless["name"] = None
    return [cluster("fine"), no_properties, null_tags, nameless, cluster("fine-too", pools=[pool(), None])]


def _findings(db: Path, scan_id: str) -> list[Finding]:
    con = open_db(db, read_only=True)
    try:
        return evaluate_scan(con, scan_id, default_policy())
    finally:
        con.close()


def test_good_clusters_are_judged_as_usual_beside_malformed_ones(store: tuple[Path, list[str]]) -> None:
    db, scans = store
    clean = {(f.control_id, f.cluster, f.node_pool): f.status for f in _findings(db, scans[0])}
    mixed = {(f.control_id, f.cluster, f.node_pool): f.status for f in _findings(db, scans[1])}
    for name in ("good", "old", "other-sub", "tags-list", "tags-numbers"):
        for key, status in clean.items():
            if key[1] == name and key[0] not in ("AKS-ORD-01", "AKS-RNG-01"):  # history differs between scans
                assert mixed[key] == status, (key, status, mixed[key])


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_value_is_unknown_with_what_was_wrong(store: tuple[Path, list[str]], name: str) -> None:
    db, scans = store
    found = [f for f in _findings(db, scans[1]) if f.cluster == name]
    assert found, f"no finding for {name}"
    for control_id, text in MALFORMED[name][1].items():
        matching = [f for f in found if f.control_id == control_id and text in f.message]
        assert matching, (control_id, [(f.status, f.message) for f in found if f.control_id == control_id])
        assert {f.status for f in matching} == {"unknown"}, [(f.status, f.message) for f in matching]


def test_no_control_passes_on_a_malformed_value(store: tuple[Path, list[str]]) -> None:
    """The controls that read a malformed value never pass on it; pool-level controls say unknown for every
    entry that is null or nameless, whichever control it is (the catalog may grow)."""
    db, scans = store
    findings = _findings(db, scans[1])
    for name, (_, expected) in MALFORMED.items():
        for f in findings:
            if f.cluster == name and f.control_id in expected and expected[f.control_id] in f.message:
                assert f.status != "pass"
    unnamed = [f for f in findings if f.node_pool and f.node_pool.startswith("agentPoolProfiles[")]
    assert {f.control_id for f in unnamed} == POOL_CONTROLS
    assert {f.status for f in unnamed} == {"unknown"}, [(f.control_id, f.status) for f in unnamed]
    # Every message is a text and says something; no remediation shows a placeholder.
    for f in findings:
        assert isinstance(f.message, str) and f.message.strip()
        for placeholder in ("VERSION", "NAME", "POOL", "{"):
            assert placeholder not in f.remediation.replace("{{", ""), (f.control_id, f.remediation)


def test_shapes_the_emulator_cannot_serve_are_unknown_too(store: tuple[Path, list[str]]) -> None:
    db, scans = store
    findings = _findings(db, scans[2])
    by = {(f.control_id, f.cluster, f.node_pool): f for f in findings}
    no_properties = [f for f in findings if f.cluster == "no-properties"]
    assert no_properties and all(f.status != "pass" for f in no_properties), [
        (f.control_id, f.status) for f in no_properties
    ]
    for control_id in ("AKS-VER-01", "AKS-CHN-01", "AKS-CHN-02", "AKS-WIN-01", "AKS-WIN-02", "AKS-HLT-01"):
        finding = by[(control_id, "no-properties", None)]
        assert finding.status == "unknown" and "no properties" in finding.message, (control_id, finding.message)
    # A cluster without a name is named by its ARM id; tags that are null are no tags.
    assert {f.cluster for f in findings} >= {"fine", "no-properties", "null-tags", "nameless", "fine-too"}
    assert all(f.tags == {} for f in findings if f.cluster == "null-tags")
    assert by[("AKS-SRG-01", "fine-too", "agentPoolProfiles[1]")].status == "unknown"


def test_reports_trend_and_export_work_for_every_scan(store: tuple[Path, list[str]], tmp_path: Path) -> None:
    db, scans = store
    runner = CliRunner()
    schema = json.loads((ROOT / "docs" / "findings.schema.json").read_text(encoding="utf-8"))
    for scan_id in scans:
        out = tmp_path / scan_id
        result = runner.invoke(
            cli, ["report", "--db", str(db), "--scan", scan_id, "--format", "html,csv,json", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
        jsonschema.validate(findings, schema)
        result = runner.invoke(cli, ["findings", "--db", str(db), "--scan", scan_id, "--format", "json"])
        assert result.exit_code == 0, result.output
        jsonschema.validate(json.loads(result.output), schema)
    # The PDF of the malformed scan (the slow format, once).
    result = runner.invoke(
        cli, ["report", "--db", str(db), "--scan", scans[1], "--format", "pdf", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["trend", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    # progress goes to stderr; the directly stored scan has a scope of its own (no tenant recorded): the trend
    # compares the three emulator scans and names the other scope, and --scope selects that one.
    trend = json.loads(result.stdout)
    assert len(trend["scans"]) == 3 and [o["scans"] for o in trend["other_scopes"]] == [1]
    result = runner.invoke(
        cli, ["trend", "--db", str(db), "--format", "json", "--scope", trend["other_scopes"][0]["id"]]
    )
    assert result.exit_code == 0, result.output
    assert [s["scan_id"] for s in json.loads(result.stdout)["scans"]] == [scans[2]]
    result = runner.invoke(cli, ["export", "--db", str(db), "--out", str(tmp_path / "export"), "--quiet"])
    assert result.exit_code == 0, result.output


def test_numeric_and_null_tag_values_reach_findings_json_as_the_schema_allows(store: tuple[Path, list[str]]) -> None:
    db, scans = store
    tags = next(f.tags for f in _findings(db, scans[1]) if f.cluster == "tags-numbers")
    assert tags == {"cost-centre": "4711", "pci": "true", "owner": None}
    assert next(f.tags for f in _findings(db, scans[1]) if f.cluster == "tags-list") == {}


def test_a_region_list_of_the_wrong_shape_is_unknown_not_an_error(tmp_path: Path) -> None:
    broken = {"values": [{"version": "1.33", "capabilities": {"supportPlan": "KubernetesOfficial"}}]}
    scan_id = store_scan(
        tmp_path / "a.duckdb",
        [cluster("a"), cluster("b", location="westus")],
        region_versions={"eastus": broken, "westus": DEFAULT_VERSIONS},
    )
    found = {(f.control_id, f.cluster): f for f in _findings(tmp_path / "a.duckdb", scan_id)}
    assert found[("AKS-VER-01", "a")].status == "unknown"
    assert "capabilities.supportPlan is a string, not a list" in found[("AKS-VER-01", "a")].message
    assert found[("AKS-VER-01", "b")].status == "pass"


def test_a_display_name_location_is_the_same_region_as_its_key(tmp_path: Path) -> None:
    """Exports may name regions by display name ("Australia East"); the model compares region keys."""
    body = cluster("a", location="Australia East")
    scan_id = store_scan(tmp_path / "a.duckdb", [body], region_versions={"Australia East": DEFAULT_VERSIONS})
    found = {f.control_id: f for f in _findings(tmp_path / "a.duckdb", scan_id)}
    assert found["AKS-VER-01"].status == "pass", found["AKS-VER-01"].message
    assert "supported in australiaeast" in found["AKS-VER-01"].message
