"""The upgrade ledger: upgrade events from every scan, de-duplicated, kept beyond Azure's retention (the write
path, and the ledger "as of" a scan that the model reads).

Sources (docs/history.md): Resource Graph `resourcechanges` rows, `containerserviceeventresources` scheduled
events, the differences between consecutive scans of a cluster, and Fleet Manager update runs and gate
approvals. The fold of one scan is SQL (queries/history/fold.sql); this module decides which scans to fold,
into which tables, in which transaction.

- `update_ledger(con)` folds every committed scan the ledger does not hold yet, oldest first, in one
  transaction of its own (`scan_and_store` calls it right after `write_scan` commits). A scan that arrives
  older than one already folded rebuilds the whole ledger instead: the ledger never depends on arrival order.
- `rebuild_ledger(con)` empties the ledger and folds every scan again: the same rows, so it is idempotent.
- `as_of(cursor, scan_id, window_hours)` gives a model the ledger "as of" a scan (every event and
  upgrade override first seen in that scan or an earlier one) as temp tables, folding on the fly any scan the
  ledger lacks (without writing), then builds the campaigns (queries/history/campaigns.sql). Findings therefore
  never depend on whether the ledger has caught up, and an older scan evaluates the same way after later scans
  were folded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import duckdb

from auditor import sql
from auditor.errors import AuditorError
from auditor.store import rollback_quietly

EVENTS = "upgrade_events"
SNAPSHOTS = "upgrade_snapshots"
OVERRIDES = "upgrade_overrides"  # upgrade overrides seen (AKS-OVR-01), queries/history/fold_overrides.sql
LEDGER_SCANS = "upgrade_ledger_scans"


@cache
def _fold_statements() -> tuple[sql.Statement, ...]:
    folds = ("history/fold.sql", "history/fold_overrides.sql")  # fold_overrides.sql reads fold.sql's fold_scan
    return tuple(s for name in folds for s in sql.load(name).statements)


@cache
def _campaign_statements() -> tuple[str, ...]:
    return tuple(s.text for s in sql.load("history/campaigns.sql").statements)


@dataclass(frozen=True)
class LedgerUpdate:
    """What one ledger update did."""

    scans: int  # scans folded
    new_events: int
    seen_events: int  # candidates already in the ledger (seen again)
    rebuilt: bool = False


def _fold(con: duckdb.DuckDBPyConnection, scan_id: str, events: str, snapshots: str, overrides: str) -> tuple[int, int]:
    """Fold one scan into the given tables; returns (new events, events seen again)."""
    for statement in _fold_statements():
        text = statement.text.replace("__EVENTS__", events).replace("__SNAPSHOTS__", snapshots)
        text = text.replace("__OVERRIDES__", overrides)
        con.execute(text, {"scan_id": scan_id} if "scan_id" in statement.parameters else None)
    candidates = _count(con, "SELECT count(*) FROM fold_candidates")
    new = _count(con, f"SELECT count(*) FROM {events} WHERE first_seen_scan_id = ?", [scan_id])
    return new, candidates - new


def _drop_fold_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in (
        "fold_scan",
        "fold_changes",
        "fold_rc",
        "fold_se",
        "fold_pairs",
        "fold_sd",
        "fold_fleet_members",
        "fold_fr",
        "fold_fg",
        "fold_candidates",
        "fold_override_candidates",
    ):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _scans(con: duckdb.DuckDBPyConnection) -> list[tuple[str, datetime]]:
    """Every committed scan, oldest first (the order scans are folded in)."""
    rows = con.execute("SELECT scan_id, started_at FROM scans ORDER BY started_at, scan_id").fetchall()
    return [(r[0], r[1]) for r in rows]


def _folded(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(f"SELECT scan_id FROM {LEDGER_SCANS}").fetchall()}


def _fold_into_ledger(con: duckdb.DuckDBPyConnection, scans: list[tuple[str, datetime]]) -> tuple[int, int]:
    new_total = seen_total = 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for scan_id, started_at in scans:
        new, seen = _fold(con, scan_id, EVENTS, SNAPSHOTS, OVERRIDES)
        con.execute(f"INSERT INTO {LEDGER_SCANS} VALUES (?, ?, ?, ?, ?)", [scan_id, started_at, now, new, seen])
        new_total += new
        seen_total += seen
    _drop_fold_tables(con)
    return new_total, seen_total


def update_ledger(con: duckdb.DuckDBPyConnection) -> LedgerUpdate:
    """Fold every committed scan the ledger lacks, in one transaction. A second call does nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        scans = _scans(con)
        folded = _folded(con)
        pending = [s for s in scans if s[0] not in folded]
        if not pending:
            con.execute("COMMIT")
            return LedgerUpdate(0, 0, 0)
        newest_folded = max((i for i, s in enumerate(scans) if s[0] in folded), default=-1)
        rebuilt = scans.index(pending[0]) < newest_folded
        if rebuilt:  # a scan older than one already folded: its diffs and mappings change later ones
            _empty_ledger(con)
            pending = scans
        new, seen = _fold_into_ledger(con, pending)
        con.execute("COMMIT")
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise
    return LedgerUpdate(len(pending), new, seen, rebuilt)


def rebuild_ledger(con: duckdb.DuckDBPyConnection) -> LedgerUpdate:
    """Empty the ledger and fold every scan again, in one transaction. Gives the same rows every time."""
    con.execute("BEGIN TRANSACTION")
    try:
        _empty_ledger(con)
        scans = _scans(con)
        new, seen = _fold_into_ledger(con, scans)
        con.execute("COMMIT")
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise
    return LedgerUpdate(len(scans), new, seen, rebuilt=True)


def _empty_ledger(con: duckdb.DuckDBPyConnection) -> None:
    for table in (EVENTS, SNAPSHOTS, OVERRIDES, LEDGER_SCANS):
        con.execute(f"DELETE FROM {table}")


def record_scan(con: duckdb.DuckDBPyConnection) -> LedgerUpdate | None:
    """Update the ledger right after a scan committed. The scan is already safe: a failure here is a warning
    on stderr, not an error (the next update catches up, and evaluation folds the scan itself meanwhile)."""
    try:
        return update_ledger(con)
    except (duckdb.Error, AuditorError) as exc:
        print(
            f"warning: the upgrade ledger was not updated ({' '.join(str(exc).split())[:300]}); the scan is "
            "stored and its findings are unaffected; `auditor history --rebuild` retries",
            file=sys.stderr,
        )
        return None


# --- the ledger as of one scan (evaluation, `auditor history`, the report) ----------------------------------


def as_of(con: duckdb.DuckDBPyConnection, scan_id: str, window_hours: int) -> None:
    """Temp tables history_events, history_snapshots and history_overrides (the ledger as of the scan), then the
    campaigns (`window_hours`: the policy's campaign_window_hours, for clusters not in the scan).

    Reads only: scans the ledger lacks are folded into the temp tables, never into the ledger.
    """
    row = con.execute("SELECT started_at FROM scans WHERE scan_id = ?", [scan_id]).fetchone()
    if row is None:
        raise AuditorError(f"scan {scan_id} is not in the database")
    started: datetime = row[0]
    window = int(window_hours)
    con.execute(f"CREATE OR REPLACE TEMP TABLE history_defaults AS SELECT {window}::INTEGER AS campaign_window_hours")
    scans = [s for s in _scans(con) if (s[1], s[0]) <= (started, scan_id)]
    folded = _folded(con)
    pending = [s for s in scans if s[0] not in folded]
    newest_folded = max((i for i, s in enumerate(scans) if s[0] in folded), default=-1)
    from_scratch = bool(pending) and scans.index(pending[0]) < newest_folded
    as_of_events = (
        "(first_seen_at < $at OR (first_seen_at = $at AND first_seen_scan_id <= $id))" if not from_scratch else "false"
    )
    as_of_snapshots = "(taken_at < $at OR (taken_at = $at AND scan_id <= $id))" if not from_scratch else "false"
    params = {"at": started, "id": scan_id}
    for name in ("history_events", "history_snapshots", "history_overrides"):
        _drop_temp(con, name)
    if not pending:
        # Nothing to fold: read the ledger through views, no copy.
        con.execute(
            f"CREATE TEMP VIEW history_events AS SELECT * FROM {EVENTS} WHERE "
            + as_of_events.replace("$at", _ts(started)).replace("$id", _literal(scan_id))
        )
        con.execute(
            f"CREATE TEMP VIEW history_snapshots AS SELECT * FROM {SNAPSHOTS} WHERE "
            + as_of_snapshots.replace("$at", _ts(started)).replace("$id", _literal(scan_id))
        )
        con.execute(
            f"CREATE TEMP VIEW history_overrides AS SELECT * FROM {OVERRIDES} WHERE "
            + as_of_events.replace("$at", _ts(started)).replace("$id", _literal(scan_id))
        )
    else:
        con.execute(
            f"CREATE TEMP TABLE history_events AS SELECT * FROM {EVENTS} WHERE {as_of_events}",
            params if not from_scratch else None,
        )
        con.execute(
            f"CREATE TEMP TABLE history_snapshots AS SELECT * FROM {SNAPSHOTS} WHERE {as_of_snapshots}",
            params if not from_scratch else None,
        )
        con.execute(
            f"CREATE TEMP TABLE history_overrides AS SELECT * FROM {OVERRIDES} WHERE {as_of_events}",
            params if not from_scratch else None,
        )
        for pending_id, _ in scans if from_scratch else pending:
            _fold(con, pending_id, "history_events", "history_snapshots", "history_overrides")
        _drop_fold_tables(con)
    for statement in _campaign_statements():
        con.execute(statement)


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp table or view of that name (the previous evaluation may have made either)."""
    row = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [name, name],
    ).fetchone()
    if row:
        con.execute(f"DROP {row[0]} temp.{name}")


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
