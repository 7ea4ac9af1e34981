"""A proven population: every subscription in scope is reconciled, or the scan says which one is not.
Driven through the real Azure SDK against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from auditor.api import ScanOutcome
from auditor.cli.views import scan_summary
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.coverage import CLUSTER_READ, action_matches, allows
from auditor.emulator import EmulatorServer
from auditor.emulator.generator import generate_fleet
from auditor.store import open_db
from tests.library import scan_and_store, write_reports

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
FLEET = generate_fleet(clusters=16, subscriptions=8, seed=21, as_of=AS_OF)
SUBS = [s["subscriptionId"].lower() for s in FLEET["subscriptions"]]
NAMES = {s["subscriptionId"].lower(): s["displayName"] for s in FLEET["subscriptions"]}


def _clusters_in(sid: str) -> list[dict[str, Any]]:
    return [c for c in FLEET["managedClusters"] if c["id"].split("/")[2].lower() == sid]


# The subscription the identity will lose: one that holds clusters.
FORBIDDEN = max(SUBS, key=lambda sid: (len(_clusters_in(sid)), sid))


def _scan(db: Path, **behaviour: Any) -> ScanOutcome:
    options = {k: behaviour.pop(k) for k in ("subscriptions", "management_groups") if k in behaviour}
    with EmulatorServer(FLEET, **behaviour) as server:
        return scan_and_store(
            db,
            endpoint=server.endpoint,
            ca_bundle=str(server.ca_file),
            credential=StaticTokenCredential("test-token"),
            **options,
        )


def _coverage(db: Path, scan_id: str) -> dict[str, dict[str, Any]]:
    con = open_db(db, read_only=True)
    try:
        cursor = con.execute("SELECT * FROM scan_coverage WHERE scan_id = ?", [scan_id])
        columns = [d[0] for d in cursor.description or []]
        return {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    finally:
        con.close()


def _errors(db: Path, scan_id: str) -> list[tuple[Any, ...]]:
    con = open_db(db, read_only=True)
    try:
        return con.execute(
            "SELECT call, scope, status, code, message FROM collection_errors WHERE scan_id = ? ORDER BY seq",
            [scan_id],
        ).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", True),
        ("*/read", True),
        ("Microsoft.ContainerService/*", True),
        ("microsoft.containerservice/managedclusters/READ", True),
        ("Microsoft.ContainerService/managedClusters/*", True),
        ("Microsoft.ContainerService/*/read", True),
        ("Microsoft.ContainerService/managedClusters/write", False),
        ("*/write", False),
        ("Microsoft.Compute/*", False),
        ("Microsoft.ContainerService/managedClusters/*/read", False),  # a sub-resource's read, not the cluster's
    ],
)
def test_action_patterns_follow_azure_rbac_wildcards(pattern: str, expected: bool) -> None:
    assert action_matches(pattern, CLUSTER_READ) is expected


def test_not_actions_subtract_only_within_their_own_role() -> None:
    reader = {"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}
    reader_without_aks = {"actions": ["*/read"], "notActions": ["Microsoft.ContainerService/*"]}
    aks_reader = {"actions": ["Microsoft.ContainerService/managedClusters/read"], "notActions": []}
    assert allows([reader], CLUSTER_READ)
    assert not allows([reader_without_aks], CLUSTER_READ)
    assert allows([reader_without_aks, aks_reader], CLUSTER_READ)  # another role grants what one took away
    assert not allows([], CLUSTER_READ)
    assert not allows([{"actions": ["Microsoft.Resources/subscriptions/read"], "notActions": []}], CLUSTER_READ)


# ---------------------------------------------------------------------------------------------- scans


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ScanOutcome, ScanOutcome]]:
    """A complete scan, then the same fleet with one of its 8 subscriptions unreadable."""
    db = tmp_path_factory.mktemp("coverage") / "store.duckdb"
    complete = _scan(db)
    partial = _scan(db, forbidden_subscriptions=[FORBIDDEN])
    yield db, complete, partial


def test_a_complete_scan_reconciles_every_subscription(history: tuple[Path, ScanOutcome, ScanOutcome]) -> None:
    db, complete, _ = history
    assert complete.status == "complete", scan_summary(complete)
    rows = _coverage(db, complete.scan_id)
    assert sorted(rows) == sorted(SUBS)
    for sid, row in rows.items():
        assert row["status"] == "complete" and row["listed"] and row["cluster_read"] == "allowed"
        assert row["graph_clusters"] == row["arm_clusters"] == len(_clusters_in(sid))
        assert row["in_scope_by"] == "listing"
    assert complete.stats["coverage"]["arm_clusters"] == len(FLEET["managedClusters"])
    assert not complete.coverage_gaps


def test_a_forbidden_subscription_makes_the_scan_partial_and_is_named(
    history: tuple[Path, ScanOutcome, ScanOutcome],
) -> None:
    """The issue's case: the emulator forbids 1 of 8 subscriptions; the scan used to say 'complete, errors 0'."""
    db, complete, partial = history
    expected = len(_clusters_in(FORBIDDEN))
    assert partial.status == "partial"
    row = _coverage(db, partial.scan_id)[FORBIDDEN]
    assert (row["status"], row["listed"], row["cluster_read"], row["graph_clusters"], row["arm_clusters"]) == (
        "forbidden",
        True,
        "denied",
        0,
        None,
    )
    assert ("coverage", FORBIDDEN, 403, "ClustersNotReadable") in [e[:4] for e in _errors(db, partial.scan_id)]
    summary = scan_summary(partial)
    assert "the population is not proven complete: 1 of 8 subscriptions in scope not covered" in summary
    assert f"subscription {FORBIDDEN} ({NAMES[FORBIDDEN]})" in summary
    assert f"the previous scan of this store ({complete.scan_id}) saw {expected} cluster(s) there" in summary
    others = [r for sid, r in _coverage(db, partial.scan_id).items() if sid != FORBIDDEN]
    assert all(r["status"] == "complete" for r in others)


def test_the_pdf_shows_the_reconciliation(history: tuple[Path, ScanOutcome, ScanOutcome], tmp_path: Path) -> None:
    db, _, partial = history
    paths = write_reports(db, partial.scan_id, None, ["pdf"], tmp_path)
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(paths[0]).pages).split())
    assert "The population is not proven complete: 1 subscription of 8 in scope is not fully covered" in text
    assert "Population reconciliation" in text
    section = text[text.rindex("Population reconciliation") :]
    assert "In scope Reached Complete Forbidden" in section
    squeezed = "".join(section.split())  # table cells break names across lines
    assert NAMES[FORBIDDEN] in squeezed and "forbidden" in squeezed
    assert "Microsoft.ContainerService/managedClusters/readnotgranted" in squeezed
    assert "None: every call succeeded" not in text


@pytest.mark.parametrize("how", ["subscription", "management_group"])
def test_a_named_scope_that_cannot_be_read_is_partial_too(how: str, tmp_path: Path) -> None:
    """Naming the subscription, or a management group holding it, does not hide the gap either."""
    db = tmp_path / "store.duckdb"
    options: dict[str, Any] = (
        {"subscriptions": [FORBIDDEN, SUBS[0] if SUBS[0] != FORBIDDEN else SUBS[1]]}
        if how == "subscription"
        else {"management_groups": ["contoso-root"]}
    )
    result = _scan(db, forbidden_subscriptions=[FORBIDDEN], **options)
    assert result.status == "partial"
    row = _coverage(db, result.scan_id)[FORBIDDEN]
    assert row["status"] == "forbidden"
    assert row["in_scope_by"] == ("subscription" if how == "subscription" else "management_group:contoso-root")
    assert any(FORBIDDEN in gap for gap in result.coverage_gaps)


def test_a_subscription_the_identity_cannot_even_list(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    hidden = SUBS[3]
    named = _scan(db, hidden_subscriptions=[hidden], subscriptions=[hidden, SUBS[4]])
    row = _coverage(db, named.scan_id)[hidden]
    assert (row["status"], row["listed"], row["arm_clusters"]) == ("not_listed", False, None)
    assert ("coverage", hidden, 404, "SubscriptionNotListed") in [e[:4] for e in _errors(db, named.scan_id)]
    # Under a management group, the group's descendants still name it.
    grouped = _scan(db, hidden_subscriptions=[hidden], management_groups=["contoso-root"])
    assert _coverage(db, grouped.scan_id)[hidden]["status"] == "not_listed"
    assert grouped.status == "partial"


def test_a_count_that_does_not_reconcile_names_the_missing_clusters(tmp_path: Path) -> None:
    """A cluster Resource Graph has not indexed yet: only the ARM list shows it."""
    lagging = FLEET["managedClusters"][0]
    sid = lagging["id"].split("/")[2].lower()
    result = _scan(tmp_path / "store.duckdb", graph_lag_clusters=[lagging["id"]])
    row = _coverage(tmp_path / "store.duckdb", result.scan_id)[sid]
    assert row["status"] == "unreconciled"
    assert (row["arm_clusters"], row["graph_clusters"], row["missing_clusters"]) == (
        len(_clusters_in(sid)),
        len(_clusters_in(sid)) - 1,
        1,
    )
    assert lagging["name"] in row["note"]
    assert result.status == "partial"
    assert any(lagging["name"] in gap for gap in result.coverage_gaps)
