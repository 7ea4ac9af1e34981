"""One scan's model: the tables the controls read, built on a cursor the model owns.

`Model(con, scan_id, policy)` opens its own cursor on `con` and builds every table there: the payload shapes of
queries/shape/ (each cluster payload parsed once), then the SQL files of queries/model/ in name order
(cluster_payloads, clusters, node_pools, region_versions, maintenance, maintenance_collected,
latest_images, scan, scan_errors, subscriptions, version_calendar, os_support, fleet and Kubernetes tables, ...),
the maintenance windows expanded into occurrences (auditor/model/windows.py), the policy thresholds in effect per
cluster (auditor/model/params.py), and the upgrade ledger as of the scan with its campaigns (auditor/ledger.py).
The tables live as long as the model: readers take `model.cursor`, and nothing they read depends on what another
call did to `con`. A model is a context manager; `close()` drops its cursor and with it every table.
"""

from __future__ import annotations

from datetime import date, datetime
from types import TracebackType

import duckdb

from auditor import sql
from auditor.errors import AuditorError
from auditor.ledger import as_of
from auditor.model.functions import register_functions
from auditor.model.params import calendar_rows, cluster_params, os_support_rows
from auditor.model.windows import materialise_occurrences
from auditor.policy import Policy


class Model:
    """The model tables of one scan under one policy, on a cursor of their own."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scan_id: str, policy: Policy) -> None:
        self.scan_id = scan_id
        self.policy = policy
        self.cursor = con.cursor()
        try:
            self._build()
        except BaseException:
            self.cursor.close()
            raise

    def _build(self) -> None:
        cursor = self.cursor
        register_functions(cursor)
        sql.run_all(
            cursor,
            [*sql.files("shape"), *sql.files("model")],
            scan_id=self.scan_id,
            calendar=list(calendar_rows()),
            os_support=list(os_support_rows()),
        )
        row = sql.run(cursor, "model/read/scan.sql").rows
        if not row:
            raise AuditorError(f"scan {self.scan_id} is not in the database")
        self.started_at: datetime = row[0][0]
        self.as_of: date = row[0][1]
        materialise_occurrences(cursor, self.started_at)
        cluster_params(cursor, self.policy)
        as_of(cursor, self.scan_id, int(self.policy.thresholds["campaign_window_hours"]))

    def close(self) -> None:
        """Drop the cursor and every table of the model."""
        self.cursor.close()

    def __enter__(self) -> Model:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
