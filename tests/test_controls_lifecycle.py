"""The lifecycle controls against wire-shaped fixtures in a real DuckDB: upgrade overrides (AKS-OVR-01), node OS
support (AKS-OS-01), rollout pace (AKS-UPG-01, and AKS-SRG-01 on blue-green pools) and windows that take effect
(AKS-WIN-03). `CASES` joins the catalog registry (tests/test_catalog_integrity.py); the cases run here, one scan per
scan date, one cluster per case, as in tests/test_controls_fixtures.py.
"""

from __future__ import annotations

import copy
import csv
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.catalog import load_os_support
from auditor.controls import Finding, control_ids, evaluate_scan, load_catalog
from auditor.errors import PolicyError
from auditor.ledger import rebuild_ledger, update_ledger
from auditor.policy import load_policy
from auditor.store import ErrorRow, open_db
from tests.evidence import AS_OF, legacy_default, maintenance_window, pool
from tests.test_controls_fixtures import Case, c, cluster_name, edited, one_pool
from tests.test_history import change, change_row, store_history_scan

AUTO = "aksManagedAutoUpgradeSchedule"
NODE_OS = "aksManagedNodeOSUpgradeSchedule"
NOW = AS_OF  # 2026-11-24 06:00 UTC
WEEKLY = (maintenance_window(AUTO), maintenance_window(NODE_OS))
WIN03_FIX = (
    "az aks maintenanceconfiguration update -g rg1 --cluster-name {{cluster}} --name {name} --schedule-type Weekly "
    "--interval-weeks 1 --day-of-week Saturday --start-time 01:00 --duration 4"
)


def override(force: Any, until: str | None = None) -> Callable[[dict[str, Any]], None]:
    """properties.upgradeSettings.overrideSettings, as in ManagedClustersGet.json."""

    def edit(body: dict[str, Any]) -> None:
        settings: dict[str, Any] = {"forceUpgrade": force}
        if until is not None:
            settings["until"] = until
        body["properties"]["upgradeSettings"] = {"overrideSettings": settings}

    return edit


def pool_fields(**fields: Any) -> Callable[[dict[str, Any]], None]:
    """Set agentPoolProfiles[0] fields (osSKU, type, upgradeStrategy, upgradeSettingsBlueGreen, count...)."""

    def edit(body: dict[str, Any]) -> None:
        body["properties"]["agentPoolProfiles"][0].update(copy.deepcopy(fields))

    return edit


def window(name: str, **changes: Any) -> dict[str, Any]:
    """A maintenanceWindow configuration with some of its fields replaced (None removes a field)."""
    config = maintenance_window(name)
    body = config["properties"]["maintenanceWindow"]
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return config


def prod(**kw: Any) -> Callable[[str], dict[str, Any]]:
    """A production cluster (environment=prod names the last ring of the default ring_order) with one pool."""
    return one_pool(**kw) if False else (lambda name: _prod(name, **kw))


def _prod(name: str, **kw: Any) -> dict[str, Any]:
    from tests.evidence import cluster

    return cluster(name, tags={"environment": "prod"}, pools=[pool(**kw)])


def armed_earlier(days: int) -> tuple[tuple[timedelta, Callable[[str], dict[str, Any]]], ...]:
    """An earlier scan, `days` before this one, that saw an override armed for three more days."""
    seen = NOW - timedelta(days=days)
    until = (seen + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ((timedelta(days=days), edited(c(), override(True, until))),)


def override_change(days: int) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """A resource change, `days` before the scan, that switched the override off."""
    path = "properties.upgradeSettings.overrideSettings.forceUpgrade"

    def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [change_row(body, NOW - timedelta(days=days), {path: change(True, False, "User")})]

    return rows


CASES: dict[str, tuple[Case, ...]] = {
    "AKS-OVR-01": (
        Case("none", "pass", c(), says=("upgradeSettings.overrideSettings is absent",)),
        Case("disabled", "pass", edited(c(), override(False, "2026-12-01T00:00:00Z")), says=("forceUpgrade is false",)),
        Case(
            "in-force",
            "fail",
            edited(c(), override(True, "2026-11-27T06:00:00Z")),
            says=("in force until 2026-11-27 06:00 UTC (3.0 days after the scan)", "deprecated-API check"),
            remediation="az aks update -g rg1 -n {cluster} --disable-force-upgrade",
        ),
        Case("no-until", "fail", edited(c(), override(True)), says=("forceUpgrade is true with no until",)),
        Case(
            "fixed-offset-until",
            "warn",
            # 08:00 at +05:00 is 03:00 UTC: three hours before the scan, not two hours after it.
            edited(c(), override(True, "2026-11-24T08:00:00+05:00")),
            says=("ended on 2026-11-24 03:00 UTC",),
            remediation="az aks update -g rg1 -n {cluster} --disable-force-upgrade",
        ),
        Case(
            "ended-recently",
            "warn",
            edited(c(), override(True, "2026-11-10T00:00:00Z")),
            says=("ended on 2026-11-10 00:00 UTC", "within 30"),
        ),
        Case(
            "ended-long-ago",
            "pass",
            edited(c(), override(True, "2026-09-01T00:00:00Z")),
            says=("no override in force", "passed 84.3 days ago"),
        ),
        Case(
            "upgrade-settings-string",
            "unknown",
            edited(c(), lambda body: body["properties"].update(upgradeSettings="force")),
            says=("upgradeSettings is a string, not an object",),
        ),
        Case(
            "no-properties",
            "unknown",
            edited(c(), lambda body: body.pop("properties")),
            says=("the cluster payload has no properties",),
        ),
        Case("force-not-boolean", "unknown", edited(c(), override("yes")), says=("not true or false",)),
        Case("until-not-a-time", "unknown", edited(c(), override(True, "next week")), says=("not a date-time",)),
        Case(
            "armed-in-an-earlier-scan",
            "warn",
            c(),
            prior=armed_earlier(10),
            says=("no override now", "armed in the scan of 2026-11-14 06:00 UTC"),
        ),
        Case("armed-long-ago", "pass", c(), prior=armed_earlier(45)),
        Case(
            "switched-off-in-azure",
            "warn",
            c(),
            history=override_change(5),
            says=("1 change(s) of its settings", "forceUpgrade true -> false at 2026-11-19 06:00 UTC"),
        ),
    ),
    "AKS-OS-01": (
        Case(
            "ubuntu-2404",
            "pass",
            one_pool(image="AKSUbuntu-2404gen2containerd-202611.10.0"),
            pool="system",
            says=("Ubuntu 24.04 (from its node image family): no end of support announced",),
        ),
        Case(
            "ubuntu-2204",
            "pass",
            one_pool(),
            pool="system",
            says=("Ubuntu 22.04", "supported until 2027-06-30, 218 days away"),
        ),
        Case(
            "ubuntu-2204-near",
            "warn",
            one_pool(image="AKSUbuntu-2204gen2containerd-202612.20.0"),
            pool="system",
            as_of=datetime(2027, 1, 15, 6, 0, tzinfo=NOW.tzinfo),
            says=("ends on 2027-06-30, in 166 days (warning horizon 180 days)",),
            remediation="az aks nodepool update -g rg1 --cluster-name {cluster} -n system --os-sku Ubuntu2404",
        ),
        Case(
            "ubuntu-1804",
            "fail",
            one_pool(image="AKSUbuntu-1804gen2containerd-202306.01.0"),
            pool="system",
            says=("Ubuntu 18.04", "AKS support ended on 2025-06-17, 525 days before the scan"),
        ),
        Case(
            "azure-linux-2",
            "fail",
            one_pool(image="AKSAzureLinux-V2gen2-202512.06.0"),
            pool="system",
            says=("Azure Linux 2.0", "ended on 2025-11-30", "images were removed on 2026-03-31"),
            remediation="az aks nodepool update -g rg1 --cluster-name {cluster} -n system --os-sku AzureLinux3",
        ),
        Case("cbl-mariner-2", "fail", one_pool(image="AKSCBLMariner-V2gen2-202405.03.0"), pool="system"),
        Case("azure-linux-3", "pass", one_pool(image="AKSAzureLinux-V3gen2-202611.10.0"), pool="system"),
        Case(
            "windows-2019",
            "fail",
            one_pool(name="win", mode="User", os_type="Windows", image="AKSWindows-2019-containerd-17763.6532.241112"),
            pool="win",
            says=("Windows Server 2019", "ended on 2026-03-01"),
            remediation="az aks nodepool add -g rg1 --cluster-name {cluster} -n win2 --os-type Windows "
            "--os-sku Windows2022",
        ),
        Case(
            "windows-annual",
            "fail",
            one_pool(name="win", mode="User", os_type="Windows", image="AKSWindows-23H2-gen2-25398.1425.250214"),
            pool="win",
            says=("Windows Server Annual Channel", "ended on 2026-05-15"),
            remediation="az aks nodepool add -g rg1 --cluster-name {cluster} -n win2 --os-type Windows "
            "--os-sku Windows2025",
        ),
        Case(
            "windows-2022",
            "pass",
            one_pool(name="win", mode="User", os_type="Windows", image="AKSWindows-2022-containerd-20348.3300.261110"),
            pool="win",
            says=("supported until 2028-06-30",),
        ),
        Case(
            "from-os-sku",
            "fail",
            edited(
                one_pool(name="win", image="custom-image-latest", os_type="Windows"), pool_fields(osSKU="Windows2019")
            ),
            pool="win",
            says=("Windows Server 2019 (from its OS SKU)",),
        ),
        Case(
            "generic-sku",
            "unknown",
            edited(one_pool(image="custom-image-latest"), pool_fields(osSKU="Ubuntu")),
            pool="system",
            says=("cannot be told", "OS SKU Ubuntu"),
        ),
        Case(
            "availability-set",
            "fail",
            edited(one_pool(image="AKSUbuntu-2404gen2containerd-202611.10.0"), pool_fields(type="AvailabilitySet")),
            pool="system",
            says=("Ubuntu 24.04", "Availability Set pool", "retired on AKS on 2025-09-30"),
            remediation="az aks update -g rg1 -n {cluster} --migrate-vmas-to-vms",
        ),
    ),
    "AKS-UPG-01": (
        Case(
            "prod-33",
            "pass",
            prod(upgrade_settings={"maxSurge": "33%"}),
            pool="system",
            says=("rolls with maxSurge 33%, 1 of 3 node(s) at a time, at least the 33%",),
        ),
        Case(
            "prod-defaults",
            "fail",
            prod(),
            pool="system",
            says=(
                "maxSurge 10% (service default)",
                "below the 33% Microsoft recommends",
                "drain timeout 30 min (service default), node soak 0 min (service default)",
            ),
            remediation="az aks nodepool update -g rg1 --cluster-name {cluster} -n system --max-surge 33%",
        ),
        Case(
            "prod-count",
            "pass",
            prod(upgrade_settings={"maxSurge": "1", "drainTimeoutInMinutes": 45, "nodeSoakDurationInMinutes": 5}),
            pool="system",
            says=("maxSurge 1 (33.3% of 3 nodes)", "drain timeout 45 min, node soak 5 min"),
        ),
        Case(
            "prod-count-low",
            "fail",
            edited(prod(upgrade_settings={"maxSurge": "2"}), pool_fields(count=10)),
            pool="system",
            says=("maxSurge 2 (20.0% of 10 nodes)",),
        ),
        Case("prod-bad-surge", "unknown", prod(upgrade_settings={"maxSurge": "lots"}), pool="system"),
        Case(
            "prod-bluegreen",
            "pass",
            edited(
                prod(upgrade_settings={"maxSurge": "0"}),
                pool_fields(
                    upgradeStrategy="BlueGreen",
                    upgradeSettingsBlueGreen={"drainBatchSize": "25%", "finalSoakDurationInMinutes": 120},
                ),
            ),
            pool="system",
            says=("judged on its own settings", "drainBatchSize 25%", "batch soak 15 min (service default)"),
        ),
        Case(
            "prod-bluegreen-no-soak",
            "warn",
            edited(
                prod(),
                pool_fields(upgradeStrategy="BlueGreen", upgradeSettingsBlueGreen={"finalSoakDurationInMinutes": 0}),
            ),
            pool="system",
            says=("no final soak", "rollback is only possible during the final soak"),
            remediation="az aks nodepool update -g rg1 --cluster-name {cluster} -n system --final-soak-duration 60",
        ),
        Case(
            "dev",
            "not_applicable",
            c(tags={"environment": "dev"}),
            pool="system",
            says=("ring 'dev' is not the production ring ('prod')",),
        ),
        Case("untagged", "not_applicable", c(), pool="system", says=("no 'environment' tag",)),
        Case(
            "prod-bluegreen-settings-string",
            "unknown",
            edited(prod(), pool_fields(upgradeStrategy="BlueGreen", upgradeSettingsBlueGreen="fast")),
            pool="system",
            says=("upgradeSettingsBlueGreen of pool 'system' is a string, not an object",),
        ),
        Case(
            "tags-not-an-object",
            "unknown",
            edited(c(), lambda body: body.update(tags=["environment=prod"])),
            pool="system",
            says=("tags is a list", "whether the cluster is in production"),
        ),
    ),
    "AKS-SRG-01": (
        Case(
            "bluegreen",
            "not_applicable",
            edited(one_pool(upgrade_settings={"maxSurge": "0"}), pool_fields(upgradeStrategy="BlueGreen")),
            pool="system",
            says=("blue-green pool", "AKS-UPG-01"),
        ),
    ),
    "AKS-WIN-03": (
        Case("weekly", "pass", c(), maintenance=WEEKLY, says=(f"{AUTO} takes effect (weekly every 1 week(s)",)),
        Case("none", "not_applicable", c(), says=("no maintenance window",)),
        Case("legacy-only", "not_applicable", c(), maintenance=(legacy_default(),)),
        Case(
            "future-start",
            "fail",
            c(),
            maintenance=(maintenance_window(AUTO), window(NODE_OS, startDate="2026-12-20")),
            says=(f"{NODE_OS} starts on 2026-12-20 (UTC+00:00): it activates at 2026-12-20 00:00 UTC, 25 days after",),
            remediation=WIN03_FIX.format(name=NODE_OS),
        ),
        Case(
            # 2026-11-24 at -10:00 begins at 10:00 UTC, after the scan (06:00 UTC): still inactive.
            "start-today-behind-utc",
            "fail",
            c(),
            maintenance=(window(AUTO, startDate="2026-11-24", utcOffset="-10:00"),),
            says=("starts on 2026-11-24 (UTC-10:00): it activates at 2026-11-24 10:00 UTC, 4.0 hours after the scan",),
        ),
        Case(
            # 2026-11-24 at +08:00 began at 16:00 UTC the day before: active.
            "start-today-ahead-of-utc",
            "pass",
            c(),
            maintenance=(window(AUTO, startDate="2026-11-24", utcOffset="+08:00"),),
        ),
        Case(
            "no-schedule",
            "fail",
            c(),
            maintenance=(window(AUTO, schedule=None),),
            says=(f"{AUTO} has no schedule: it never opens",),
            remediation=WIN03_FIX.format(name=AUTO),
        ),
        Case(
            "monthly-node-os",
            "fail",
            c(node_os="NodeImage"),
            maintenance=(window(NODE_OS, schedule={"absoluteMonthly": {"dayOfMonth": 15, "intervalMonths": 1}}),),
            says=("can go 31 days between openings, more than the 30-day node image age limit",),
        ),
        Case(
            "quarterly-node-os",
            "fail",
            c(node_os="SecurityPatch"),
            maintenance=(
                window(
                    NODE_OS,
                    schedule={"relativeMonthly": {"dayOfWeek": "Monday", "weekIndex": "First", "intervalMonths": 3}},
                ),
            ),
            says=("(relativeMonthly every 3 month(s)) can go 98 days between openings",),
        ),
        Case(
            "monthly-auto-upgrade-only",
            "pass",
            c(),
            maintenance=(window(AUTO, schedule={"absoluteMonthly": {"dayOfMonth": 15, "intervalMonths": 1}}),),
        ),
        Case(
            "monthly-node-os-not-automated",
            "pass",
            c(node_os="None"),
            maintenance=(window(NODE_OS, schedule={"absoluteMonthly": {"dayOfMonth": 15, "intervalMonths": 1}}),),
        ),
        Case("daily-node-os", "pass", c(), maintenance=(window(NODE_OS, schedule={"daily": {"intervalDays": 1}}),)),
        Case(
            "long-freeze",
            "fail",
            c(),
            maintenance=(window(AUTO, notAllowedDates=[{"start": "2026-12-01", "end": "2027-01-15"}]),),
            says=("frozen by notAllowedDates for 46 consecutive days (2026-12-01 to 2027-01-15",),
        ),
        Case(
            "touching-freezes",
            "fail",
            c(),
            maintenance=(
                window(
                    AUTO,
                    notAllowedDates=[
                        {"start": "2026-12-21", "end": "2027-01-05"},
                        {"start": "2026-12-01", "end": "2026-12-20"},
                    ],
                ),
            ),
            says=("36 consecutive days (2026-12-01 to 2027-01-05",),
        ),
        Case(
            "short-freeze",
            "pass",
            c(),
            maintenance=(window(AUTO, notAllowedDates=[{"start": "2026-12-20", "end": "2027-01-03"}]),),
            says=("longest coming freeze 15 days (2026-12-20 to 2027-01-03)",),
        ),
        Case(
            "past-freeze",
            "pass",
            c(),
            maintenance=(window(AUTO, notAllowedDates=[{"start": "2026-01-01", "end": "2026-06-30"}]),),
        ),
        Case(
            "bad-offset",
            "unknown",
            c(),
            maintenance=(window(AUTO, utcOffset="UTC+1"),),
            says=("utcOffset 'UTC+1' is not of the form +HH:MM",),
        ),
        Case(
            "bad-freeze",
            "unknown",
            c(),
            maintenance=(window(AUTO, notAllowedDates=[{"start": "Christmas", "end": "2027-01-03"}]),),
            says=("not a pair of dates",),
        ),
        Case("lost-403", "unknown", c(), maintenance_lost=True, says=("403", "maintenance read denied")),
    ),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str | None], Finding]:
    """Evaluate every case: one database per scan date, earlier scans (prior) before it."""
    by_date: dict[datetime, list[tuple[str, Case]]] = {}
    for control_id, cases in CASES.items():
        for case in cases:
            by_date.setdefault(case.as_of, []).append((control_id, case))
    found: dict[tuple[str, str, str | None], Finding] = {}
    for number, (as_of, members) in enumerate(sorted(by_date.items())):
        db = tmp_path_factory.mktemp("lifecycle") / f"scan{number}.duckdb"
        earlier: dict[timedelta, list[dict[str, Any]]] = {}
        for control_id, case in members:
            for before, build in case.prior:
                earlier.setdefault(before, []).append(build(cluster_name(control_id, case)))
        for before, bodies in sorted(earlier.items(), reverse=True):
            store_history_scan(db, bodies, started_at=as_of - before)
        bodies = [case.build(cluster_name(cid, case)) for cid, case in members]
        rows = [r for (_, case), body in zip(members, bodies, strict=True) if case.history for r in case.history(body)]
        errors = [
            ErrorRow("maintenance_configurations", body["id"], 403, "AuthorizationFailed", "maintenance read denied")
            for (_, case), body in zip(members, bodies, strict=True)
            if case.maintenance_lost
        ]
        scan_id = store_history_scan(
            db,
            bodies,
            rows,
            maintenance={cluster_name(cid, case): list(case.maintenance) for cid, case in members},
            errors=errors,
            started_at=as_of,
        )
        con = open_db(db)
        try:
            for f in evaluate_scan(con, scan_id, load_policy(None, known_controls=control_ids())):
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
    assert finding.evidence and finding.message and finding.title
    if finding.status in ("fail", "warn"):
        assert finding.remediation.startswith("az "), finding.remediation
        assert "VERSION" not in finding.remediation and "POOL" not in finding.remediation
    else:
        assert finding.remediation == ""
    if case.remediation is not None:
        assert finding.remediation == case.remediation.format(cluster=name)


def test_each_cluster_control_judges_every_cluster(results: dict[tuple[str, str, str | None], Finding]) -> None:
    # Subscription-level findings (AKS-WIN-04) name no cluster.
    clusters = {name for (_, name, _), f in results.items() if f.resource_id.count("/") > 2}
    for control_id in ("AKS-OVR-01", "AKS-WIN-03"):
        assert {name for (cid, name, _) in results if cid == control_id} == clusters, control_id


# --- the bundled end-of-support table --------------------------------------------------------------------------


def test_os_support_table_is_sourced_and_readable() -> None:
    rows = load_os_support()
    keys = {r.key for r in rows}
    expected = {"ubuntu-1804", "ubuntu-2004", "ubuntu-2204", "azurelinux-2", "windows-2019", "windows-2022"}
    assert expected | {"windows-annual", "availability-set"} <= keys
    for row in rows:
        assert row.source.startswith("https://"), row.key
        if row.image_family_pattern:
            re.compile(row.image_family_pattern)
            assert row.image_family_pattern == row.image_family_pattern.lower(), "patterns match lower-cased families"
        if row.end_of_support is not None:
            assert row.migrate_to and row.migration, f"{row.key}: a retired OS says where to go"
            assert row.images_removed is None or row.images_removed >= row.end_of_support
    assert next(r for r in rows if r.key == "ubuntu-1804").end_of_support == date(2025, 6, 17)
    assert next(r for r in rows if r.key == "azurelinux-2").end_of_support == date(2025, 11, 30)
    # Every OS SKU a retirement names that migrates to another SKU names a remediation the catalog can fill in.
    control = next(c for c in load_catalog() if c.id == "AKS-OS-01")
    for row in rows:
        if row.migrate_to:
            assert row.migrate_to in dict(control.remediation_variants) or not row.migrate_to.startswith("Windows")


def test_os_support_table_is_credited() -> None:
    root = Path(__file__).resolve().parent.parent
    sources = (root / "auditor" / "catalog" / "data" / "SOURCES.md").read_text(encoding="utf-8")
    catalog_doc = (root / "docs" / "catalog.md").read_text(encoding="utf-8")
    with (root / "auditor" / "catalog" / "data" / "os_support.csv").open(encoding="utf-8") as handle:
        urls = {row["source"] for row in csv.DictReader(handle)}
    assert "os_support.csv" in sources and "os_support.csv" in catalog_doc
    for url in urls:
        assert url in sources, url


# --- thresholds ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[thresholds]\nupgrade_min_surge_percent = 150\n", "from 0 to 100"),
        ("[thresholds]\nmaintenance_freeze_max_days = -1\n", "from 0 to 3650"),
        ("[thresholds]\nos_support_warning_days = '180'\n", "whole number"),
    ],
)
def test_new_thresholds_are_validated(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=complaint):
        load_policy(path, known_controls=control_ids())


def test_a_policy_scope_tailors_the_pace_and_the_horizons(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[[scopes]]\nname = "pci"\n[scopes.match]\ntags = { environment = "prod" }\n'
        "[scopes.thresholds]\nupgrade_min_surge_percent = 50\nos_support_warning_days = 400\n",
        encoding="utf-8",
    )
    db = tmp_path / "a.duckdb"
    body = _prod("p", upgrade_settings={"maxSurge": "33%"})
    scan_id = store_history_scan(db, [body])
    con = open_db(db)
    try:
        findings = {
            f.control_id: f for f in evaluate_scan(con, scan_id, load_policy(path, known_controls=control_ids()))
        }
    finally:
        con.close()
    assert findings["AKS-UPG-01"].status == "fail" and "below the 50%" in findings["AKS-UPG-01"].message
    assert findings["AKS-OS-01"].status == "warn" and "warning horizon 400 days" in findings["AKS-OS-01"].message


# --- overrides in the upgrade ledger ---------------------------------------------------------------------------


def _override_scans(db: Path) -> list[str]:
    """Three scans of one cluster: armed (scan 1), still armed with a change row (scan 2), gone (scan 3)."""
    base = c()("ovr")
    armed = copy.deepcopy(base)
    override(True, "2026-10-05T00:00:00Z")(armed)
    ids = [store_history_scan(db, [armed], started_at=NOW - timedelta(days=60))]
    row = change_row(
        armed,
        NOW - timedelta(days=35),
        {"properties.upgradeSettings.overrideSettings.until": change("2026-10-05T00:00:00Z", "2026-11-01T00:00:00Z")},
    )
    later = copy.deepcopy(armed)
    override(True, "2026-11-01T00:00:00Z")(later)
    ids.append(store_history_scan(db, [later], [row], started_at=NOW - timedelta(days=30)))
    ids.append(store_history_scan(db, [base], [row], started_at=NOW))
    return ids


def test_the_ledger_keeps_every_override_seen(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    _override_scans(db)
    con = open_db(db)
    try:
        update_ledger(con)
        incremental = con.execute(
            "SELECT source, field, force_upgrade, until_at, seen_count FROM upgrade_overrides ORDER BY ALL"
        ).fetchall()
        rebuild_ledger(con)
        rebuilt = con.execute(
            "SELECT source, field, force_upgrade, until_at, seen_count FROM upgrade_overrides ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert incremental == rebuilt
    sources = [r[0] for r in incremental]
    assert sources.count("scan") == 2 and sources.count("resource_change") == 1
    assert next(r for r in incremental if r[0] == "resource_change")[4] == 2  # returned by two scans, one row


def test_an_older_scan_evaluates_the_same_after_later_scans(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    first, second, third = _override_scans(db)

    def verdict(scan_id: str) -> tuple[str, str]:
        con = open_db(db)
        try:
            finding = next(
                f
                for f in evaluate_scan(con, scan_id, load_policy(None, known_controls=control_ids()))
                if f.control_id == "AKS-OVR-01"
            )
        finally:
            con.close()
        return finding.status, finding.message

    before = verdict(second)
    con = open_db(db)
    try:
        update_ledger(con)
    finally:
        con.close()
    assert verdict(second) == before
    assert before[0] == "fail" and "in force until 2026-11-01 00:00 UTC" in before[1]
    # The last scan sees no override, but the ledger saw one armed 30 days earlier (the horizon, inclusive).
    status, message = verdict(third)
    assert status == "warn" and "armed in the scan of 2026-10-25 06:00 UTC" in message
    assert "in force until 2026-11-01 00:00 UTC" in message
    # The first scan (2026-09-25) saw it in force until 2026-10-05.
    assert verdict(first)[0] == "fail"
