"""The upgrade ledger: upgrade events from every scan, de-duplicated, kept beyond Azure's retention (the write
path, and the ledger "as of" a scan that the model reads).

Sources (docs/history.md): Resource Graph `resourcechanges` rows, `containerserviceeventresources` scheduled
events, the differences between consecutive scans of a cluster, and Fleet Manager update runs and gate
approvals. The fold of one scan is SQL (queries/history/fold_scan.sql, fold.sql, fold_overrides.sql, then the
target's two files); this module decides which scans to fold, into which target, in which transaction.

- `update_ledger(con)` folds every committed scan the ledger does not hold yet, oldest first, in one
  transaction of its own (`record_scan` calls it right after `write_scan` commits). A scan that arrives
  older than one already folded rebuilds the whole ledger instead: the ledger never depends on arrival order.
- `rebuild_ledger(con)` empties the ledger and folds every scan again: the same rows, so it is idempotent.
- `record_scan(con)` is that update for a scan just committed: a failure comes back as a problem to warn about.
- `as_of(cursor, scan_id, window_hours)` gives a model the ledger "as of" a scan (every event and
  upgrade override first seen in that scan or an earlier one) as temp views, folding on the fly any scan the
  ledger lacks (without writing), then builds the campaigns (queries/history/campaigns.sql). Findings therefore
  never depend on whether the ledger has caught up, and an older scan evaluates the same way after later scans
  were folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from auditor import sql
from auditor.errors import AuditorError
from auditor.store import rollback_quietly


@dataclass(frozen=True)
class FoldTarget:
    """Where a fold writes: the query files that add a scan's snapshots to the target and merge its candidates."""

    snapshots: str
    merge: str


# The persisted ledger, or the temp copies of the ledger as of a scan (queries/history/as_of_copy.sql). The fold's
# own files (fold_scan.sql, fold.sql, fold_overrides.sql) never name the target: they write fixed-name temp tables.
LEDGER = FoldTarget("history/fold_into_ledger_snapshots.sql", "history/fold_into_ledger.sql")
AS_OF = FoldTarget("history/fold_into_as_of_snapshots.sql", "history/fold_into_as_of.sql")
FIND_CANDIDATES = ("history/fold.sql", "history/fold_overrides.sql")


@dataclass(frozen=True)
class LedgerUpdate:
    """What one ledger update did."""

    scans: int  # scans folded
    new_events: int
    seen_events: int  # candidates already in the ledger (seen again)
    rebuilt: bool = False


def _fold(con: duckdb.DuckDBPyConnection, scan_id: str, target: FoldTarget) -> None:
    """Fold one scan into the target (LEDGER or AS_OF)."""
    sql.run(con, "history/fold_scan.sql", scan_id=scan_id)
    sql.run(con, target.snapshots)
    sql.run_all(con, FIND_CANDIDATES, scan_id=scan_id)
    sql.run(con, target.merge, scan_id=scan_id)


def _scans(con: duckdb.DuckDBPyConnection) -> list[tuple[str, datetime]]:
    """Every committed scan, oldest first (the order scans are folded in)."""
    return [(r[0], r[1]) for r in sql.run(con, "history/ledger_scans.sql")]


def _folded(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in sql.run(con, "history/folded_scans.sql")}


def _load_shape(con: duckdb.DuckDBPyConnection) -> None:
    """The payload shapes of queries/shape/ (the fold reads cluster payloads through shaped_clusters)."""
    sql.run_all(con, sql.files("shape"))


def _fold_into_ledger(con: duckdb.DuckDBPyConnection, scans: list[tuple[str, datetime]]) -> tuple[int, int]:
    _load_shape(con)
    new_total = seen_total = 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for scan_id, started_at in scans:
        _fold(con, scan_id, LEDGER)
        candidates, new = sql.run(con, "history/fold_counts.sql", scan_id=scan_id).one()
        seen = candidates - new
        sql.run(
            con,
            "history/record_folded_scan.sql",
            scan_id=scan_id,
            started_at=started_at,
            folded_at=now,
            new_events=new,
            seen_events=seen,
        )
        new_total += new
        seen_total += seen
    sql.run(con, "history/drop_fold_tables.sql")
    return new_total, seen_total


def update_ledger(con: duckdb.DuckDBPyConnection) -> LedgerUpdate:
    """Fold every committed scan the ledger lacks, in one transaction. A second call does nothing."""
    con.begin()
    try:
        scans = _scans(con)
        folded = _folded(con)
        pending = [s for s in scans if s[0] not in folded]
        if not pending:
            con.commit()
            return LedgerUpdate(0, 0, 0)
        newest_folded = max((i for i, s in enumerate(scans) if s[0] in folded), default=-1)
        rebuilt = scans.index(pending[0]) < newest_folded
        if rebuilt:  # a scan older than one already folded: its diffs and mappings change later ones
            _empty_ledger(con)
            pending = scans
        new, seen = _fold_into_ledger(con, pending)
        con.commit()
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise
    return LedgerUpdate(len(pending), new, seen, rebuilt)


def rebuild_ledger(con: duckdb.DuckDBPyConnection) -> LedgerUpdate:
    """Empty the ledger and fold every scan again, in one transaction. Gives the same rows every time."""
    con.begin()
    try:
        _empty_ledger(con)
        scans = _scans(con)
        new, seen = _fold_into_ledger(con, scans)
        con.commit()
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise
    return LedgerUpdate(len(scans), new, seen, rebuilt=True)


def _empty_ledger(con: duckdb.DuckDBPyConnection) -> None:
    sql.run(con, "history/empty_ledger.sql")


@dataclass(frozen=True)
class LedgerRecord:
    """What recording a committed scan in the ledger did: the update, or the problem that stopped it."""

    update: LedgerUpdate | None
    problem: str | None = None  # one line; the scan stays stored and its findings are unaffected


def record_scan(con: duckdb.DuckDBPyConnection) -> LedgerRecord:
    """Update the ledger right after a scan committed. The scan is already safe: a failure here is returned as a
    problem for the caller to warn about, not raised (the next update catches up, and evaluation folds the scan
    itself meanwhile)."""
    try:
        return LedgerRecord(update_ledger(con))
    except (duckdb.Error, AuditorError) as exc:
        return LedgerRecord(None, " ".join(str(exc).split())[:300])


# --- the ledger as of one scan (evaluation, `auditor history`, the report) ----------------------------------


def as_of(con: duckdb.DuckDBPyConnection, scan_id: str, window_hours: int) -> None:
    """Temp views history_events, history_snapshots and history_overrides (the ledger as of the scan), then the
    campaigns (`window_hours`: the policy's campaign_window_hours, for clusters not in the scan).

    Reads only: scans the ledger lacks are folded into temp copies of it, never into the ledger.
    """
    at = sql.run(con, "history/as_of_point.sql", scan_id=scan_id, window_hours=int(window_hours)).rows
    if not at:
        raise AuditorError(f"scan {scan_id} is not in the database")
    started: datetime = at[0][0]
    scans = [s for s in _scans(con) if (s[1], s[0]) <= (started, scan_id)]
    folded = _folded(con)
    pending = [s for s in scans if s[0] not in folded]
    newest_folded = max((i for i, s in enumerate(scans) if s[0] in folded), default=-1)
    from_scratch = bool(pending) and scans.index(pending[0]) < newest_folded
    sql.run(con, "history/as_of_drop.sql")
    if not pending:
        sql.run(con, "history/as_of_ledger.sql")  # nothing to fold: read the ledger in place, no copy
    else:
        sql.run(con, "history/as_of_copy.sql", from_scratch=from_scratch)
        _load_shape(con)
        for pending_id, _ in scans if from_scratch else pending:
            _fold(con, pending_id, AS_OF)
        sql.run(con, "history/drop_fold_tables.sql")
    sql.run(con, "history/campaigns.sql")
