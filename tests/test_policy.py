"""Policy files: validation with file:line errors, scopes overriding thresholds per cluster, waivers and their
expiry, and `auditor policy check`."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.controls import Finding, control_ids, evaluate_scan
from auditor.errors import PolicyError
from auditor.model import Model
from auditor.policy import THRESHOLDS, Policy, default_policy, load_policy
from auditor.policy_check import check_policy
from auditor.store import open_db
from tests.evidence import SUB, cluster, pool, store_scan

DOCS = Path(__file__).resolve().parent.parent / "docs" / "policy.md"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path, known_controls=control_ids())
    message = str(raised.value)
    assert message.startswith(str(path)), message
    return message[len(str(path)) :]


def docs_example() -> str:
    found = re.search(r"## A complete example\s+```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert found, "docs/policy.md lost its example"
    return found.group(1)


# --- validation ------------------------------------------------------------------------------------


def test_defaults_are_design_defaults() -> None:
    policy = default_policy()
    assert policy.thresholds == {name: spec[0] for name, spec in THRESHOLDS.items()}
    assert policy.thresholds["allowed_node_os_upgrade_channels"] == ["NodeImage", "SecurityPatch"]
    assert load_policy(None, known_controls=control_ids()) == policy


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, docs_example()), known_controls=control_ids())
    assert [s.name for s in policy.scopes] == ["production", "pci", "labs"]
    production = policy.scopes[0]
    assert production.tags == {"environment": ("production", "prod")}
    assert production.thresholds["allowed_upgrade_channels"] == ["stable", "patch"]
    assert policy.scopes[1].thresholds["allowed_node_os_upgrade_channels"] == ["SecurityPatch", "NodeImage"]
    assert policy.scopes[2].resource_groups == ("rg-sandbox", "rg-lab")
    assert [w.control for w in policy.waivers] == ["AKS-VER-01", "AKS-VER-04", "AKS-IMG-01"]
    assert policy.waivers[2].expires == date(2026, 6, 30)
    assert policy.organisation == "Contoso Ltd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("organisation = 'x'\nmystery = 1\n", ":2: unknown key 'mystery' in the policy"),
        (
            "[thresholds]\nimage_max_age_days = 30\nimage_max_age = 3\n",
            ":3: unknown key 'image_max_age' in [thresholds]",
        ),
        (
            "[thresholds]\nimage_max_age_days = -1\n",
            ":2: 'image_max_age_days' must be a whole number from 0 to 3650",
        ),
        ("[thresholds]\nimage_max_age_days = true\n", ":2: 'image_max_age_days' must be a whole number"),
        (
            "[thresholds]\nwindow_max_hours = 2\n",
            ":2: 'window_max_hours' must be a whole number from 4 to 24, not 2",
        ),
        (
            "[thresholds]\nallowed_upgrade_channels = ['stabel']\n",
            ":2: 'allowed_upgrade_channels' has unknown value 'stabel' (known: rapid, stable, patch, node-image, none)",
        ),
        (
            "[thresholds]\nallowed_upgrade_channels = 'stable'\n",
            ":2: 'allowed_upgrade_channels' must be a list of strings",
        ),
        ("thresholds = 3\n", ":1: [thresholds] must be a table, not a number"),
        # The second scope's bad key is reported on its own line, not on the first scope's.
        (
            "[[scopes]]\nname = 'a'\nmatch = { tags = { env = 'prod' } }\n"
            "[scopes.thresholds]\nwindow_max_hours = 4\n\n"
            "[[scopes]]\nname = 'b'\nmatch = { tags = { env = 'dev' } }\n"
            "[scopes.thresholds]\nwindow_max_hours = 40\n",
            ":11: 'window_max_hours' must be a whole number from 4 to 24, not 40",
        ),
        (
            "[[scopes]]\nname = 'a'\n[scopes.match]\ntag = { env = 'prod' }\n",
            ":4: unknown key 'tag' in [scopes.match] (allowed: resource_groups, subscriptions, tags)",
        ),
        (
            "[[scopes]]\nname = 'a'\nmatch = { tags = { env = 3 } }\n",
            ":3: tag 'env' of scope 'a' must be a string or a non-empty list of strings, not 3",
        ),
        ("[[scopes]]\nname = 'a'\nmatch = {}\n", ":3: scope 'a' has an empty match table"),
        ("[[scopes]]\nname = 'a'\n", ":1: scope 'a' needs a [scopes.match] table"),
        (
            "[[scopes]]\nname = 'a'\nmatch.subscriptions = ['x']\n"
            "[[scopes]]\nname = 'a'\nmatch.subscriptions = ['y']\n",
            ":5: scope name 'a' is used twice",
        ),
        (
            "[[scopes]]\nname = 'a'\nmatch = { resource_groups = ['rg'] }\ncolour = 'red'\n",
            ":4: unknown key 'colour' in [[scopes]]",
        ),
        ("scopes = { name = 'a' }\n", ":1: [[scopes]] must be an array of tables ([[scopes]]), not a table"),
        (
            "[[waivers]]\ncontrol = 'AKS-IMG-01'\nresource = '/s/*'\nreason = 'r'\napprover = 'a'\n",
            ":1: a waiver lacks expires",
        ),
        (
            "[[waivers]]\ncontrol = 'AKS-IMG-01'\nresource = '/s/*'\nreason = 'r'\napprover = 'a'\n"
            "expires = 2027-01-01\nticket = 'x'\n",
            ":7: unknown key 'ticket' in [[waivers]]",
        ),
        (
            "[[waivers]]\ncontrol = 'AKS-IMG-09'\nresource = '/s/*'\nreason = 'r'\napprover = 'a'\n"
            "expires = 2027-01-01\n",
            ":2: waiver names unknown control 'AKS-IMG-09'",
        ),
        (
            "[[waivers]]\ncontrol = 'AKS-IMG-01'\nresource = 'cluster1'\nreason = 'r'\napprover = 'a'\n"
            "expires = 2027-01-01\n",
            ":3: waiver resource must be an ARM id or a glob of one",
        ),
        (
            "[[waivers]]\ncontrol = 'AKS-IMG-01'\nresource = '/x'\nreason = ''\napprover = 'a'\nexpires = 2027-01-01\n",
            ":4: a waiver's 'reason' must be a non-empty string",
        ),
        (
            "[[waivers]]\ncontrol = 'AKS-IMG-01'\nresource = '/x'\nreason = 'r'\napprover = 'a'\n"
            "expires = '2027-01-01'\n",
            ":6: waiver 'expires' must be a TOML date",
        ),
        ("[thresholds]\nimage_max_age_days = \n", ":2: invalid TOML: Invalid value (column 22)"),
        ("description = '''\nline\nmystery = 1\n'''\n", ":1: unknown key 'description' in the policy"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    message = _error(tmp_path, text)
    assert message.startswith(expected), message


def test_waivers_are_checked_against_the_ids_the_caller_passes(tmp_path: Path) -> None:
    # The policy sits below the catalog: the caller says which controls exist, the policy never loads them.
    path = _write(
        tmp_path,
        "[[waivers]]\ncontrol = 'aks-os-01'\nresource = '/s/*'\nreason = 'r'\napprover = 'a'\nexpires = 2027-01-01\n",
    )
    assert [w.control for w in load_policy(path, known_controls={"AKS-OS-01"}).waivers] == ["AKS-OS-01"]
    with pytest.raises(PolicyError, match=r":2: waiver names unknown control 'AKS-OS-01' \(known: AKS-VER-01\)"):
        load_policy(path, known_controls={"AKS-VER-01"})
    with pytest.raises(PolicyError, match=r":2: waiver names unknown control 'AKS-OS-01'$"):
        load_policy(path, known_controls=())
    assert load_policy(None, known_controls=()) == default_policy()


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "absent.toml", known_controls=control_ids())
    path = tmp_path / "bin.toml"
    path.write_bytes(b"organisation = 'x'\n\xff\xfe\n")
    with pytest.raises(PolicyError, match=r"bin\.toml:2: the policy file is not valid UTF-8"):
        load_policy(path, known_controls=control_ids())


def test_list_values_are_normalised_to_wire_spelling(tmp_path: Path) -> None:
    policy = load_policy(
        _write(
            tmp_path,
            "[thresholds]\nallowed_upgrade_channels = ['Stable', 'PATCH', 'stable']\n"
            "allowed_node_os_upgrade_channels = ['securitypatch']\n",
        ),
        known_controls=control_ids(),
    )
    assert policy.thresholds["allowed_upgrade_channels"] == ["stable", "patch"]
    assert policy.thresholds["allowed_node_os_upgrade_channels"] == ["SecurityPatch"]


# --- scopes and waivers on real scans --------------------------------------------------------------

OTHER_SUB = "00000000-0000-0000-0000-0000000000aa"
STALE = "AKSUbuntu-2204gen2containerd-202610.20.0"  # 35 days old on 2026-11-24


def _findings(db: Path, scan_id: str, policy: Policy) -> dict[tuple[str, str, str | None], Finding]:
    con = open_db(db)
    try:
        return {(f.control_id, f.cluster, f.node_pool): f for f in evaluate_scan(con, scan_id, policy)}
    finally:
        con.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("policy") / "a.duckdb"
    young = "AKSUbuntu-2204gen2containerd-202611.05.0"  # 19 days old
    clusters = [
        cluster("prod-1", tags={"Environment": "Production"}, channel="rapid", pools=[pool(image=young)]),
        cluster("prod-2", tags={"environment": "prod"}, channel="stable", pools=[pool(image=young)]),
        cluster("dev-1", tags={"environment": "dev"}, channel="rapid", pools=[pool(image=young)]),
        cluster("dev-2", tags={"environment": "dev"}, channel="node-image", pools=[pool(image=young)]),
        cluster("pci-1", sub=OTHER_SUB, channel="stable", pools=[pool(image=young)]),
        cluster("lab-1", rg="RG-Lab", channel="node-image", pools=[pool(image=STALE)]),
        cluster(
            "legacy-1",
            rg="rg-legacy",
            version="1.28.5",
            pools=[pool("system", image=STALE), pool("gpu", mode="User", image=STALE)],
        ),
        cluster("batch-7", rg="rg-batch", pools=[pool(image=STALE)]),
    ]
    return db, store_scan(db, clusters)


POLICY = """
[thresholds]
image_max_age_days = 30

[[scopes]]
name = "production"
match = { tags = { environment = ["production", "prod"] } }
[scopes.thresholds]
allowed_upgrade_channels = ["stable", "patch"]
image_max_age_days = 14

[[scopes]]
name = "pci"
match.subscriptions = ["00000000-0000-0000-0000-0000000000AA"]
[scopes.thresholds]
image_max_age_days = 7

[[scopes]]
name = "labs"
match.resource_groups = ["rg-lab"]
[scopes.thresholds]
allowed_upgrade_channels = ["node-image", "stable"]
image_max_age_days = 60

[[waivers]]
control = "AKS-VER-01"
resource = "/subscriptions/*/resourceGroups/rg-legacy/*/managedClusters/legacy-1"
reason = "decommission in January"
approver = "CISO"
expires = 2027-01-31

[[waivers]]
control = "AKS-IMG-01"
resource = "/subscriptions/*/resourceGroups/rg-legacy/*/managedClusters/*/agentPools/gpu"
reason = "driver certification"
approver = "board"
expires = 2026-11-24

[[waivers]]
control = "AKS-IMG-01"
resource = "/subscriptions/*/resourceGroups/RG-BATCH/*"
reason = "quarter-end freeze"
approver = "CISO"
expires = 2026-06-30

[[waivers]]
control = "AKS-CHN-01"
resource = "*/managedClusters/dev-*"
reason = "does not touch warn or pass"
approver = "CISO"
expires = 2027-06-30
"""


@pytest.fixture(scope="module")
def judged(
    fleet: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str, str | None], Finding]:
    path = tmp_path_factory.mktemp("p") / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return _findings(*fleet, load_policy(path, known_controls=control_ids()))


def test_scopes_override_thresholds_per_cluster(judged: dict[tuple[str, str, str | None], Finding]) -> None:
    # Production (tag name and value case-insensitive) allows only stable and patch, and 14-day images.
    assert judged[("AKS-CHN-01", "prod-1", None)].status == "fail"
    assert "allowed: stable, patch" in judged[("AKS-CHN-01", "prod-1", None)].message
    assert judged[("AKS-CHN-01", "prod-2", None)].status == "pass"
    assert judged[("AKS-IMG-01", "prod-2", "system")].status == "fail"
    assert "limit 14" in judged[("AKS-IMG-01", "prod-2", "system")].message
    # Outside the scope the fleet-wide thresholds hold.
    assert judged[("AKS-CHN-01", "dev-1", None)].status == "pass"
    assert judged[("AKS-IMG-01", "dev-1", "system")].status == "pass"
    # Subscription scope (case-insensitive id) and resource-group scope.
    assert "limit 7" in judged[("AKS-IMG-01", "pci-1", "system")].message
    assert judged[("AKS-IMG-01", "pci-1", "system")].status == "fail"
    assert judged[("AKS-CHN-01", "lab-1", None)].status == "pass"
    assert judged[("AKS-IMG-01", "lab-1", "system")].status == "pass"


def test_without_policy_the_defaults_hold(fleet: tuple[Path, str]) -> None:
    plain = _findings(*fleet, default_policy())
    assert plain[("AKS-CHN-01", "prod-1", None)].status == "pass"
    assert plain[("AKS-CHN-01", "lab-1", None)].status == "warn"


def test_later_scope_wins_and_all_names_are_kept(fleet: tuple[Path, str], tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[[scopes]]\nname = 'all-rg1'\nmatch.resource_groups = ['rg1']\n[scopes.thresholds]\n"
        "image_max_age_days = 5\n[[scopes]]\nname = 'prod'\nmatch.tags.environment = 'prod'\n"
        "[scopes.thresholds]\nimage_max_age_days = 25\n",
    )
    db, scan_id = fleet
    con = open_db(db)
    try:
        with Model(con, scan_id, load_policy(path, known_controls=control_ids())) as model:
            rows = dict(
                model.cursor.execute(
                    "SELECT c.name, p.scope_name || ':' || p.image_max_age_days FROM cluster_params p "
                    "JOIN clusters c USING (cluster_id)"
                ).fetchall()
            )
    finally:
        con.close()
    assert rows["prod-2"] == "all-rg1, prod:25"
    assert rows["dev-1"] == "all-rg1:5"
    assert rows["legacy-1"] == ":30"


def test_waivers(judged: dict[tuple[str, str, str | None], Finding]) -> None:
    legacy = judged[("AKS-VER-01", "legacy-1", None)]
    assert legacy.status == "waived"
    assert legacy.waiver is not None and legacy.waiver["approver"] == "CISO"
    assert "waived until 2027-01-31 by CISO (decommission in January)" in legacy.message
    # A pool waiver covers that pool only, and applies through its expiry day (the scan is on 2026-11-24).
    assert judged[("AKS-IMG-01", "legacy-1", "gpu")].status == "waived"
    assert judged[("AKS-IMG-01", "legacy-1", "system")].status == "fail"
    # An expired waiver stops applying and is flagged.
    batch = judged[("AKS-IMG-01", "batch-7", "system")]
    assert batch.status == "fail"
    assert batch.message.endswith("waiver expired on 2026-06-30")
    assert batch.waiver is not None and batch.waiver["expired"] == "true"
    # Waivers only turn fail into waived: a warn stays a warn, a pass a pass.
    assert judged[("AKS-CHN-01", "dev-1", None)].status == "pass"
    assert judged[("AKS-CHN-01", "dev-2", None)].status == "warn"
    assert judged[("AKS-CHN-01", "dev-2", None)].waiver is None


# --- the command line ------------------------------------------------------------------------------


def test_policy_check_ok_summary(tmp_path: Path) -> None:
    path = _write(tmp_path, docs_example())
    result = CliRunner().invoke(cli, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"OK: {path}: 0 threshold(s) overridden, 3 scope(s), 3 waiver(s) (")
    assert any("scope 'production': tag environment in (production, prod)" in line for line in lines)
    assert any("AKS-IMG-01" in line and "EXPIRED on 2026-06-30" in line for line in lines)


def test_policy_check_flags_expiry_relative_to_today(tmp_path: Path) -> None:
    check = check_policy(_write(tmp_path, docs_example()), today=date(2027, 1, 10), known_controls=control_ids())
    assert [w.control for w in check.expired] == ["AKS-IMG-01"]
    assert [w.control for w in check.expiring] == ["AKS-VER-01"]
    assert check.lines()[0].endswith("3 waiver(s) (1 expired) as of 2027-01-10")


def test_policy_check_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = _write(tmp_path, "[thresholds]\nwindow_max_hours = 48\n")
    result = CliRunner().invoke(cli, ["policy", "check", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {path}:2: 'window_max_hours' must be a whole number from 4 to 24, not 48"
    ]


def test_controls_lists_the_catalog_with_thresholds(tmp_path: Path) -> None:
    import json

    path = _write(tmp_path, "[thresholds]\nimage_max_age_days = 21\n")
    result = CliRunner().invoke(cli, ["controls", "--format", "json", "--policy", str(path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["thresholds"]["image_max_age_days"] == 21
    by_id = {c["id"]: c for c in payload["controls"]}
    assert "PCI DSS v4.0 6.3.3" in by_id["AKS-IMG-01"]["frameworks"]
    assert len(by_id) >= 12
    assert SUB  # the shared fixture subscription stays importable for other policy tests


def test_waiver_control_ids_are_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        "[[waivers]]\ncontrol = 'aks-img-01'\nresource = '/subscriptions/*'\nreason = 'r'\napprover = 'a'\n"
        "expires = 2099-01-01\n",
        encoding="utf-8",
    )
    assert [w.control for w in load_policy(path, known_controls=control_ids()).waivers] == ["AKS-IMG-01"]
