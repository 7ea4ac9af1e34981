"""`auditor findings` as a CI gate: exit codes 0/1/2/3, filters, and machine output alone on stdout."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.cli import cli
from tests.evidence import SUB, cluster, pool, store_scan

OTHER_SUB = "00000000-0000-0000-0000-000000000002"
OLD_IMAGE = "AKSUbuntu-2204gen2containerd-202607.01.0"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "a.duckdb"
    store_scan(
        path,
        [
            cluster("good", channel="stable"),
            cluster("old", version="1.28.5", channel="stable"),  # AKS-VER-01 fail (high)
            cluster("nochannel", channel=None),  # AKS-CHN-01 fail (medium)
            cluster(
                "stale", sub=OTHER_SUB, channel="stable", pools=[pool("system", image=OLD_IMAGE)]
            ),  # AKS-IMG-01 fail (high)
        ],
    )
    return path


def _findings(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["findings", "--db", str(db), *args])


def _json(result: Result) -> list[dict[str, object]]:
    payload = json.loads(result.stdout)
    assert isinstance(payload, list)
    return payload


def test_json_alone_on_stdout_and_exit_0_without_a_gate(db: Path) -> None:
    result = _findings(db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    findings = _json(result)
    assert {"fail", "pass"} <= {f["status"] for f in findings}
    for f in findings:
        assert {"control_id", "status", "severity", "resource_id", "node_pool", "message"} <= set(f)
    assert result.stderr == ""


def test_fail_on_met_exits_3_with_the_reason_on_stderr(db: Path) -> None:
    result = _findings(db, "--format", "json", "--fail-on", "high")
    assert result.exit_code == 3
    assert _json(result)  # stdout is still the whole, valid JSON array
    assert "severity high" in result.stderr and "exit 3" in result.stderr


def test_fail_on_counts_severities_at_or_above(db: Path) -> None:
    assert _findings(db, "--format", "json", "--fail-on", "low").exit_code == 3
    assert _findings(db, "--format", "json", "--fail-on", "medium").exit_code == 3
    # No control of the catalog is critical: nothing reaches that severity.
    assert _findings(db, "--format", "json", "--fail-on", "critical").exit_code == 0


def test_fail_on_applies_to_the_filtered_findings(db: Path) -> None:
    only_channel = _findings(db, "--format", "json", "--control", "AKS-CHN-01", "--fail-on", "high")
    assert only_channel.exit_code == 0  # CHN-01 is medium
    assert {f["control_id"] for f in _json(only_channel)} == {"AKS-CHN-01"}
    assert _findings(db, "--format", "json", "--control", "aks-chn-01", "--fail-on", "medium").exit_code == 3


def test_waived_findings_do_not_trip_the_gate_but_expired_waivers_do(db: Path, tmp_path: Path) -> None:
    active = tmp_path / "active.toml"
    active.write_text(
        '[[waivers]]\ncontrol = "AKS-VER-01"\nresource = "*/managedClusters/old"\n'
        'reason = "vendor"\napprover = "ciso"\nexpires = 2030-01-01\n',
        encoding="utf-8",
    )
    result = _findings(db, "--format", "json", "--policy", str(active), "--control", "AKS-VER-01", "--fail-on", "high")
    assert result.exit_code == 0, result.stderr
    assert [f["status"] for f in _json(result) if f["cluster"] == "old"] == ["waived"]
    expired = tmp_path / "expired.toml"
    expired.write_text(active.read_text().replace("2030-01-01", "2020-01-01"), encoding="utf-8")
    result = _findings(db, "--format", "json", "--policy", str(expired), "--control", "AKS-VER-01", "--fail-on", "high")
    assert result.exit_code == 3


def test_status_and_subscription_filters(db: Path) -> None:
    failing = _json(_findings(db, "--format", "json", "--status", "fail"))
    assert failing and {f["status"] for f in failing} == {"fail"}
    two = _json(_findings(db, "--format", "json", "--status", "fail", "--status", "pass"))
    assert {f["status"] for f in two} == {"fail", "pass"}
    other = _json(_findings(db, "--format", "json", "--subscription", OTHER_SUB))
    assert other and {f["cluster"] for f in other if f["cluster"]} == {"stale"}
    assert {f["subscription_id"] for f in other} == {OTHER_SUB}  # its subscription-level findings too
    by_name = _json(_findings(db, "--format", "json", "--subscription", "contoso prod"))
    assert by_name and {f["subscription_id"] for f in by_name} == {SUB}
    typo = _findings(db, "--format", "json", "--subscription", "nope")
    assert typo.exit_code == 2 and typo.stdout == ""
    assert "unknown --subscription 'nope'" in typo.stderr and f"{OTHER_SUB}" in typo.stderr
    assert "Contoso Prod" in typo.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--status", "failed", "--fail-on", "high"], "unknown --status 'failed': choose from pass, fail, warn"),
        (["--control", "AKS-IMG-1"], "unknown --control 'AKS-IMG-1': choose from AKS-CHN-01"),
        (["--status", "fail", "--control", "AKS-XXX-99"], "unknown --control 'AKS-XXX-99'"),
    ],
)
def test_a_typo_in_a_filter_is_a_usage_error_listing_the_valid_values(db: Path, args: list[str], expected: str) -> None:
    """The CI gate must not pass on a typo: `--status failed --fail-on high` used to print [] and exit 0."""
    result = _findings(db, "--format", "json", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert expected in result.stderr


def test_filters_are_case_insensitive(db: Path) -> None:
    upper = _json(_findings(db, "--format", "json", "--control", "AKS-IMG-01", "--status", "FAIL"))
    lower = _json(_findings(db, "--format", "json", "--control", "aks-img-01", "--status", "fail"))
    assert upper and upper == lower
    assert {f["control_id"] for f in lower} == {"AKS-IMG-01"}


def test_csv_on_stdout(db: Path) -> None:
    result = _findings(db, "--format", "csv", "--status", "fail")
    assert result.exit_code == 0
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert rows and {r["status"] for r in rows} == {"fail"}
    assert result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-on", "severe"],
        ["--format", "xml"],
        ["--no-such-option"],
        ["--status"],
    ],
)
def test_usage_errors_exit_2(db: Path, args: list[str]) -> None:
    result = _findings(db, *args)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_errors_exit_1_with_one_line(db: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli, ["findings", "--db", str(tmp_path / "none.duckdb"), "--format", "json"])
    assert missing.exit_code == 1 and missing.stdout == "" and missing.stderr.startswith("error:")
    bad = tmp_path / "bad.toml"
    bad.write_text("[thresholds]\nimage_max_age_days = -3\n", encoding="utf-8")
    result = _findings(db, "--format", "json", "--policy", str(bad))
    assert result.exit_code == 1 and "bad.toml:2" in result.stderr and result.stdout == ""
    unknown_scan = _findings(db, "--format", "json", "--scan", "19990101")
    assert unknown_scan.exit_code == 1 and "no scan" in unknown_scan.stderr


def test_a_real_process_keeps_stdout_machine_readable(db: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "findings", "--db", str(db), "--format", "json", "--fail-on", "high"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3
    assert isinstance(json.loads(proc.stdout), list)
    assert "exit 3" in proc.stderr
