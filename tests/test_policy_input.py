"""Policy files as people write them: a UTF-8 byte-order mark, a fleet-wide waiver left for years, 20,000
waivers. Accepted or named, warned about, and checked in time linear in waivers plus findings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.controls import control_ids, evaluate_scan
from auditor.errors import PolicyError
from auditor.policy import FLEET_WIDE_WAIVER_MAX_DAYS, Waiver, load_policy
from auditor.policy_check import check_policy
from auditor.store import open_db
from tests.evidence import cluster, pool, store_scan

OLD_IMAGE = "AKSUbuntu-2204gen2containerd-202601.01.0"
POLICY = """[thresholds]
image_max_age_days = 14

[[waivers]]
control = "AKS-CHN-01"
resource = "*"
reason = "migration"
approver = "ciso@example.com"
expires = {expires}
"""


def _days_from_today(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    text = POLICY.format(expires=_days_from_today(10))
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    policy = load_policy(path, known_controls=control_ids())
    assert policy.thresholds["image_max_age_days"] == 14
    assert policy.waivers[0].line == 4  # lines still count from the first line of the file
    plain = tmp_path / "plain.toml"
    plain.write_text(text, encoding="utf-8")
    # The digest is the file's own bytes.
    assert load_policy(plain, known_controls=control_ids()).sha256 != policy.sha256


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_policy_file_is_named_as_the_cause(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "policy.toml"
    data = POLICY.format(expires="2026-01-01").encode(encoding)
    path.write_bytes(data if data.startswith((b"\xff\xfe", b"\xfe\xff")) else b"\xfe\xff" + data)
    with pytest.raises(PolicyError, match=r"policy.toml:1: the policy file is UTF-16 .*save it as UTF-8"):
        load_policy(path, known_controls=control_ids())


@pytest.mark.parametrize(
    ("resource", "days", "warned"),
    [
        ("*", FLEET_WIDE_WAIVER_MAX_DAYS + 1, True),
        ("/subscriptions/*", 3650, True),
        ("*/managedClusters/*", 400, True),
        ("*", FLEET_WIDE_WAIVER_MAX_DAYS, False),
        ("/subscriptions/00000000-0000-0000-0000-000000000001/*", 3650, False),
        ("*/managedClusters/aks-prod-*", 3650, False),
    ],
)
def test_a_fleet_wide_waiver_with_a_far_expiry_is_warned_about(
    tmp_path: Path, resource: str, days: int, warned: bool
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(expires=_days_from_today(days)).replace('"*"', f'"{resource}"'), encoding="utf-8")
    warnings = load_policy(path, known_controls=control_ids()).warnings
    assert bool(warnings) is warned
    if warned:
        assert warnings[0].startswith(f"{path}:4: the waiver of AKS-CHN-01 covers every cluster")
        assert f"{days} days from today" in warnings[0]
        lines = check_policy(path, known_controls=control_ids()).lines()
        assert any(line.startswith("warning: ") and "covers every cluster" in line for line in lines)


def test_the_warning_reaches_stderr_of_findings_and_report(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(expires=_days_from_today(3650)), encoding="utf-8")
    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("a", channel=None)])
    runner = CliRunner()
    found = runner.invoke(cli, ["findings", "--db", str(db), "--policy", str(path), "--format", "json"])
    assert found.exit_code == 0 and "covers every cluster" in found.stderr
    assert '"status": "waived"' in found.stdout  # a warning, not a refusal
    reported = runner.invoke(
        cli, ["report", "--db", str(db), "--policy", str(path), "--format", "json", "--out", str(tmp_path / "o")]
    )
    assert reported.exit_code == 0 and "covers every cluster" in reported.stderr


# --- 20,000 waivers --------------------------------------------------------------------------------


def _many_waivers(cluster_ids: list[str], count: int) -> str:
    controls = ("AKS-CHN-01", "AKS-IMG-01", "AKS-CHN-02", "AKS-SRG-01")
    entries = []
    for index in range(count):
        target = cluster_ids[index % len(cluster_ids)]
        resource = f"{target}/agentPools/system" if index % 4 == 1 else target
        expires = "2020-01-01" if index % 5 == 0 else "2099-12-31"
        entries.append(
            f'[[waivers]]\ncontrol = "{controls[index % 4]}"\nresource = "{resource}"\n'
            f'reason = "r{index}"\napprover = "a"\nexpires = {expires}\n'
        )
    entries.append(
        '[[waivers]]\ncontrol = "AKS-SRG-01"\nresource = "*/rg7/*"\nreason = "glob"\napprover = "a"\n'
        "expires = 2099-12-31\n"
    )
    return "\n".join(entries)


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("waivers")
    db = tmp / "a.duckdb"
    clusters = [
        cluster(
            f"c{i}",
            rg=f"rg{i % 10}",
            channel=None,
            node_os=None,
            pools=[pool("system", image=OLD_IMAGE, upgrade_settings={"maxSurge": "0"})],
        )
        for i in range(200)
    ]
    scan_id = store_scan(db, clusters)
    path = tmp / "policy.toml"
    path.write_text(_many_waivers([c["id"] for c in clusters], 20_000), encoding="utf-8")
    return db, path, scan_id


def test_20000_waivers_are_matched_without_trying_each_one(many: tuple[Path, Path, str], monkeypatch: Any) -> None:
    db, path, scan_id = many
    policy = load_policy(path, known_controls=control_ids())
    tried = {"count": 0}
    original = Waiver.matches

    def counting(self: Waiver, *args: Any) -> bool:
        tried["count"] += 1
        return original(self, *args)

    monkeypatch.setattr(Waiver, "matches", counting)
    con = open_db(db)
    try:
        findings = evaluate_scan(con, scan_id, policy)
    finally:
        con.close()
    failing = [f for f in findings if f.status in ("fail", "waived")]
    # Only the one glob waiver is tried against findings of its control; 20,000 exact ids are looked up.
    assert tried["count"] <= sum(1 for f in failing if f.control_id == "AKS-SRG-01")
    # The same result as trying every waiver on every finding (the rule of docs/policy.md).
    monkeypatch.setattr(Waiver, "matches", original)
    for finding in failing[::7]:
        matching = [w for w in policy.waivers if w.matches(finding.control_id, finding.resource_id, finding.node_pool)]
        active = [w for w in matching if w.active(date(2026, 11, 24))]
        assert (finding.status == "waived") is bool(active), finding
        if matching:
            chosen = max(active or matching, key=lambda w: w.expires)
            assert finding.waiver is not None and finding.waiver["reason"] == chosen.reason


def test_policy_check_of_20000_waivers_judges_each_waiver_once(many: tuple[Path, Path, str], monkeypatch: Any) -> None:
    _, path, _ = many
    calls = {"count": 0}
    original = Waiver.active

    def counting(self: Waiver, on: date) -> bool:
        calls["count"] += 1
        return original(self, on)

    monkeypatch.setattr(Waiver, "active", counting)
    lines = check_policy(path, today=date(2026, 11, 24), known_controls=control_ids()).lines()
    assert len(lines) == 1 + 20_001
    assert calls["count"] <= 2 * 20_001  # the header's count of expired ones, then one judgement per line
