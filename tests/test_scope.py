"""Scope-aware history: a scan is compared only with earlier scans of the same scope (tenant, named subscriptions
or management groups), and clusters are told apart by ARM id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.collect.clients import StaticTokenCredential
from auditor.emulator import EmulatorServer
from auditor.emulator.generator import generate_fleet
from auditor.store import list_scans, open_db, scan_scopes
from tests.evidence import cluster, store_scan
from tests.library import scan_and_store, write_reports

AS_OF = datetime(2026, 11, 24, 6, tzinfo=UTC)
OURS = generate_fleet(clusters=6, subscriptions=2, seed=31, as_of=AS_OF)
THEIRS = generate_fleet(clusters=9, subscriptions=3, seed=32, as_of=AS_OF)  # another tenant


def _scan(db: Path, fleet: dict[str, Any], moment: datetime, **options: Any) -> str:
    with EmulatorServer(fleet) as server:
        return scan_and_store(
            db,
            endpoint=server.endpoint,
            ca_bundle=str(server.ca_file),
            credential=StaticTokenCredential("test-token"),
            clock=lambda: moment,
            **options,
        ).scan_id


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """Our tenant scanned monthly, another tenant's fleet scanned in between (the README's by-hand steps against
    a store that already held the demo), and one scan of a single named subscription of ours."""
    db = tmp_path_factory.mktemp("scope") / "store.duckdb"
    first_sub = OURS["subscriptions"][0]["subscriptionId"]
    ids = {
        "ours-1": _scan(db, OURS, AS_OF),
        "ours-2": _scan(db, OURS, AS_OF + timedelta(days=30)),
        "theirs": _scan(db, THEIRS, AS_OF + timedelta(days=31)),
        "one-sub": _scan(db, OURS, AS_OF + timedelta(days=32), subscriptions=[first_sub]),
        "ours-3": _scan(db, OURS, AS_OF + timedelta(days=60)),
    }
    yield db, ids


def _trend(db: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["trend", "--db", str(db), "--format", "json", "-q", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_each_scan_records_its_scope(store: tuple[Path, dict[str, str]]) -> None:
    db, ids = store
    con = open_db(db, read_only=True)
    try:
        scopes = scan_scopes(con, list_scans(con))
    finally:
        con.close()
    assert scopes[ids["ours-1"]] == scopes[ids["ours-2"]] == scopes[ids["ours-3"]]
    assert scopes[ids["ours-1"]].kind == "tenant"
    assert scopes[ids["ours-1"]].members == (OURS["tenantId"].lower(),)
    assert scopes[ids["theirs"]].members == (THEIRS["tenantId"].lower(),)
    assert scopes[ids["one-sub"]].kind == "subscriptions"
    assert len({s.scope_id for s in scopes.values()}) == 3


def test_trend_compares_only_scans_of_one_scope(store: tuple[Path, dict[str, str]]) -> None:
    db, ids = store
    trend = _trend(db)  # the newest scan's scope: ours
    assert [s["scan_id"] for s in trend["scans"]] == [ids["ours-1"], ids["ours-2"], ids["ours-3"]]
    # ours-3 is compared with ours-2, not with the other tenant's scan or the one-subscription scan before it.
    assert trend["scans"][2]["previous_scan_id"] == ids["ours-2"]
    # The same clusters in both: nothing is new merely because the scan before it did not look at it.
    assert all(f["before"] != "absent" for f in trend["scans"][2]["new_findings"])
    assert all(f["now"] != "absent" for f in trend["scans"][2]["resolved_findings"])
    assert trend["scope"]["kind"] == "tenant" and OURS["tenantId"].lower() in trend["scope"]["label"]
    assert {o["scans"] for o in trend["other_scopes"]} == {1}
    assert len(trend["other_scopes"]) == 2


def test_trend_selects_a_scope_by_id(store: tuple[Path, dict[str, str]]) -> None:
    db, ids = store
    theirs = next(o for o in _trend(db)["other_scopes"] if THEIRS["tenantId"].lower() in o["label"])
    selected = _trend(db, "--scope", theirs["id"][:6])
    assert [s["scan_id"] for s in selected["scans"]] == [ids["theirs"]]
    assert selected["scans"][0]["previous_scan_id"] is None  # nothing of that scope to compare with
    unknown = CliRunner().invoke(cli, ["trend", "--db", str(db), "--scope", "zzz"])
    assert unknown.exit_code == 2
    assert "--scope 'zzz' matches no scope: the store holds" in unknown.stderr
    assert theirs["id"] in unknown.stderr


def test_the_table_names_the_scope_and_the_others(store: tuple[Path, dict[str, str]]) -> None:
    db, _ = store
    result = CliRunner().invoke(cli, ["trend", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Scope: every readable subscription of " + OURS["tenantId"].lower())
    assert "note: only scans of one scope are compared; the store also holds" in result.stderr


def test_the_report_drift_covers_only_its_scope(store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    db, ids = store
    html = write_reports(db, ids["theirs"], None, ["html"], tmp_path)[0].read_text(encoding="utf-8")
    assert "The database holds no other scan of this scope (every readable subscription of " in " ".join(html.split())
    html = write_reports(db, ids["ours-3"], None, ["html"], tmp_path)[0].read_text(encoding="utf-8")
    text = " ".join(html.split())
    assert "3 scans from" in text and "all of the same scope" in text


def test_clusters_that_share_a_name_are_told_apart(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    other = "00000000-0000-0000-0000-000000000002"
    store_scan(db, [cluster("api", channel=None), cluster("api", sub=other, channel=None), cluster("solo")])
    table = CliRunner().invoke(cli, ["findings", "--db", str(db), "--control", "AKS-CHN-01"])
    assert table.exit_code == 0, table.output
    assert "api (Contoso Prod)" in table.stdout and f"api ({other})" in table.stdout
    assert "solo (" not in table.stdout
    ambiguous = CliRunner().invoke(cli, ["history", "--db", str(db), "--cluster", "api"])
    assert ambiguous.exit_code == 2
    assert "--cluster 'api' names 2 clusters: pass the ARM id of one of" in ambiguous.stderr
    assert f"/subscriptions/{other}/" in ambiguous.stderr
