"""The gate never passes on nothing: a partial or empty scan is named on stderr and `--fail-on` exits 1 on it;
a scope that cannot be read stores no scan at all; malformed scope ids and an empty --scan are usage errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from auditor.cli import EXIT_INCOMPLETE, EXIT_THRESHOLD, cli
from auditor.emulator.server import EmulatorServer
from auditor.store import ErrorRow
from tests.emulated import SUB2, small_fleet
from tests.evidence import SUB, cluster, store_scan

TOKEN = {"AUDITOR_ACCESS_TOKEN": "gate-test-token"}


def findings(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["findings", "--db", str(db), "--format", "json", *args])


def scans_in(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [row[0] for row in con.execute("SELECT scan_id FROM scans ORDER BY scan_id").fetchall()]
    finally:
        con.close()


@pytest.fixture
def partial_db(tmp_path: Path) -> Path:
    """A partial scan: every control passes or is unknown except AKS-CHN-01 (medium) on one cluster."""
    db = tmp_path / "partial.duckdb"
    errors = [ErrorRow("maintenance_configurations", "/subscriptions/x", 403, "AuthorizationFailed", "denied")]
    store_scan(db, [cluster("good"), cluster("nochannel", channel="none")], errors=errors)
    return db


def test_a_partial_scan_is_named_on_stderr_even_without_a_gate(partial_db: Path) -> None:
    result = findings(partial_db)
    assert result.exit_code == 0
    assert "warning: scan " in result.stderr and "is partial: 1 collection error(s) (maintenance_configurations 1)" in (
        result.stderr
    )
    assert result.stdout.lstrip().startswith("[")  # stdout stays machine output


def test_fail_on_exits_1_when_the_scan_is_partial_and_nothing_meets_the_threshold(partial_db: Path) -> None:
    # DESIGN's exit codes are 0/1/2/3 ("1 anything else"): the stderr line tells this failure from an error.
    result = findings(partial_db, "--fail-on", "critical")
    assert result.exit_code == EXIT_INCOMPLETE == 1
    assert "the gate cannot pass on an incomplete scan: exit 1" in result.stderr
    assert "--allow-partial" in result.stderr


def test_fail_on_still_exits_3_when_the_threshold_is_met_on_a_partial_scan(partial_db: Path) -> None:
    result = findings(partial_db, "--fail-on", "low")
    assert result.exit_code == EXIT_THRESHOLD == 3
    assert "partial" in result.stderr


def test_allow_partial_lets_the_gate_pass_and_still_warns(partial_db: Path) -> None:
    result = findings(partial_db, "--fail-on", "critical", "--allow-partial")
    assert result.exit_code == 0
    assert "is partial" in result.stderr


def test_a_complete_scan_passes_quietly(tmp_path: Path) -> None:
    db = tmp_path / "complete.duckdb"
    store_scan(db, [cluster("good")])
    result = findings(db, "--fail-on", "critical")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_a_scan_with_no_cluster_does_not_pass_the_gate(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    store_scan(db, [])
    result = findings(db, "--fail-on", "low")
    assert result.exit_code == EXIT_INCOMPLETE
    assert "holds no cluster" in result.stderr


# --- scope --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        ["--subscription", "not-a-guid"],
        ["--subscription", "00000000-0000-0000-0000-00000000000"],
        ["--management-group", "bad group!"],
        ["--management-group", "ends-with-a-period."],
        ["--management-group", ""],
    ],
)
def test_malformed_scope_ids_are_usage_errors(tmp_path: Path, option: list[str]) -> None:
    result = CliRunner().invoke(cli, ["scan", "--db", str(tmp_path / "a.duckdb"), *option], env=TOKEN)
    assert result.exit_code == 2, result.output
    assert "is not a" in result.output
    assert not (tmp_path / "a.duckdb").exists()


def test_subscription_ids_are_accepted_as_arm_ids_in_any_case(tmp_path: Path) -> None:
    with EmulatorServer(small_fleet(), state_dir=tmp_path / "emu") as server:
        result = CliRunner().invoke(
            cli,
            ["scan", "--db", str(tmp_path / "a.duckdb"), "--endpoint", server.endpoint]
            + ["--ca-bundle", str(server.ca_file), "--subscription", f"/subscriptions/{SUB.upper()}", "-q"],
            env=TOKEN,
        )
    assert result.exit_code == 0, result.output
    assert len(scans_in(tmp_path / "a.duckdb")) == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--management-group", "mg-unknown"], "Resource Graph could not list the clusters of mg-unknown (HTTP 403"),
        (["--subscription", SUB2], "Resource Graph could not list the clusters of 1 subscription(s) (HTTP 403"),
        (
            ["--subscription", "99999999-9999-9999-9999-999999999999"],
            "none of the requested subscriptions can be read with this credential "
            "(99999999-9999-9999-9999-999999999999)",
        ),
    ],
)
def test_an_unreachable_scope_fails_without_storing_a_scan(tmp_path: Path, option: list[str], message: str) -> None:
    fleet = small_fleet()
    fleet["managementGroups"] = {"mg-prod": [SUB, SUB2]}
    db = tmp_path / "a.duckdb"
    with EmulatorServer(fleet, state_dir=tmp_path / "emu", forbidden_subscriptions=[SUB2]) as server:
        connection = ["--db", str(db), "--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file), "-q"]
        first = CliRunner().invoke(cli, ["scan", *connection], env=TOKEN)
        assert first.exit_code == 0, first.output
        before = scans_in(db)
        result = CliRunner().invoke(cli, ["scan", *connection, *option], env=TOKEN)
    assert result.exit_code == 1
    assert message in result.stderr and "nothing" in result.stderr
    assert result.stderr.count("\n") == 1
    assert scans_in(db) == before  # `latest` is still the good scan


@pytest.mark.parametrize("command", ["findings", "report", "history"])
def test_an_empty_scan_selector_is_a_usage_error(tmp_path: Path, command: str) -> None:
    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("only")])
    result = CliRunner().invoke(cli, [command, "--db", str(db), "--scan", ""])
    assert result.exit_code == 2
    assert "an empty scan id names no scan" in result.output


def test_the_library_refuses_an_empty_scan_selector_too(tmp_path: Path) -> None:
    from auditor.errors import StoreError
    from auditor.store import open_db, resolve_scan

    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("only")])
    con = open_db(db)
    try:
        with pytest.raises(StoreError, match="empty scan id"):
            resolve_scan(con, " ")
    finally:
        con.close()
