"""The trend's two forms give the same rows: the bit masks of at most 62 scans (queries/trend/11_masks.sql,
21_counts, 41_new_resolved, 42_other_status and 46_change_sizes, 61_runs, 71_open_failures) and the general one
(10_select, 20_counts, 40_new_resolved, 60_runs, 70_open_failures), over random histories: every status, findings
absent from complete and partial scans, unknown between failures, runs open at the newest scan, and a baseline
offset."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pytest

from auditor import sql, trend
from auditor.controls import STATUSES
from auditor.store import Scan

EVALUATOR = "e"


def _cache(
    seed: int, scans: int, keys: int, unicode: bool = False
) -> tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]:
    """A findings cache of random histories (each finding present or not in each scan, with a random status)."""
    rng = random.Random(seed)
    selected = [{"idx": i, "scan_id": f"s{i:03d}", "partial": rng.random() < 0.2} for i in range(scans)]
    rows: dict[str, list[Any]] = {"scan_id": [], "evaluator": [], "key_id": [], "control_id": [], "status": []}
    weights = [40, 30, 8, 10, 6, 6]  # pass, fail, warn, unknown, waived, not_applicable
    for key in range(1, keys + 1):
        presence = rng.choice([0.5, 0.8, 1.0])
        start, stop = sorted(rng.sample(range(scans + 1), 2))
        for scan in selected[start:stop]:
            if rng.random() < presence:
                rows["scan_id"].append(scan["scan_id"])
                rows["evaluator"].append(EVALUATOR)
                rows["key_id"].append(key)
                rows["control_id"].append(f"AKS-{key % 5}")
                rows["status"].append(rng.choices(STATUSES, weights)[0])
    con = duckdb.connect()
    con.register("rows", {name: np.array(values, dtype=object) for name, values in rows.items()})
    con.execute(
        "CREATE TABLE findings AS SELECT scan_id, evaluator, key_id::INTEGER AS key_id, control_id, status FROM rows"
    )
    # Resource ids in mixed case, some not ASCII (Python's lower() and DuckDB's differ on 'İ'); a pool for some.
    names = ["r", "R", "İr", "ßr", "Σr"] if unicode else ["r", "R", "q", "Q"]
    con.register("names", {"i": np.arange(len(names)), "name": np.array(names, dtype=object)})
    con.execute(
        "CREATE TABLE finding_keys AS SELECT key_id, control_id, n.name || key_id AS resource_id, "
        "lower(resource_id) AS resource_key, "
        "CASE WHEN key_id % 3 = 0 THEN 'p' || (key_id % 2) ELSE '' END AS node_pool, "
        "'c' AS cluster, 'g' AS resource_group, 's' AS subscription_id "
        "FROM (SELECT DISTINCT key_id, control_id FROM findings) JOIN names n ON n.i = key_id % $n",
        {"n": len(names)},
    )
    return con, selected


def _form(con: duckdb.DuckDBPyConnection, selected: list[dict[str, Any]], offset: int, masks: bool) -> dict[str, Any]:
    last = len(selected) - 1
    if masks:
        assert sql.run(con, "trend/11_masks.sql", scans=selected, evaluator=EVALUATOR).scalar() == 0
    else:
        sql.run(con, "trend/10_select.sql", scans=selected, evaluator=EVALUATOR)
    if masks:
        counts = sorted(sql.run(con, "trend/21_counts.sql", offset=offset, scans=selected, evaluator=EVALUATOR).rows)
    else:
        counts = sorted(sql.run(con, "trend/20_counts.sql", offset=offset).rows)
    if masks:
        sql.run(con, "trend/41_new_resolved.sql")
        unlisted_sizes = sorted(sql.run(con, "trend/46_change_sizes.sql", offset=offset).rows)
        sql.run(con, "trend/42_other_status.sql", evaluator=EVALUATOR, offset=offset)
        assert unlisted_sizes == sorted(sql.run(con, "trend/45_sizes.sql").rows)  # the counts without the lists
    else:
        sql.run(con, "trend/40_new_resolved.sql", offset=offset)
    new = sorted(con.execute("SELECT idx, k, other, list FROM _tnew").fetchall())
    sql.run(con, "trend/61_runs.sql" if masks else "trend/60_runs.sql")
    runs = sorted(
        con.execute("SELECT k, first_idx, last_idx, scans, ended_by, ended_at FROM _tgone").fetchall(), key=str
    )
    open_failures = sorted(
        sql.run(con, "trend/71_open_failures.sql" if masks else "trend/70_open_failures.sql", last=last).rows
    )
    fixed = sorted(sql.run(con, "trend/80_fixed.sql").rows)
    removed = sql.run(con, "trend/85_removed.sql").scalar()
    sql.run(con, "trend/99_drop.sql")
    return {"counts": counts, "new": new, "runs": runs, "open": open_failures, "fixed": fixed, "removed": removed}


@pytest.mark.parametrize(("seed", "scans"), [(1, 24), (2, 2), (3, 7), (4, 62), (5, 1), (6, 40)])
@pytest.mark.parametrize("offset", [0, 1])
def test_mask_form_equals_general_form(seed: int, scans: int, offset: int) -> None:
    con, selected = _cache(seed, scans, keys=400)
    masked = _form(con, selected, offset, masks=True)
    general = _form(con, selected, offset, masks=False)
    assert masked == general
    assert scans < 3 or (masked["runs"] and masked["new"])


def test_a_finding_twice_in_one_scan_is_left_to_the_general_form() -> None:
    con, selected = _cache(7, 5, keys=20)
    con.execute("INSERT INTO findings SELECT * FROM findings WHERE status = 'fail' LIMIT 1")
    assert sql.run(con, "trend/11_masks.sql", scans=selected, evaluator=EVALUATOR).scalar() == 1


@pytest.mark.parametrize("unicode", [False, True])
@pytest.mark.parametrize("same_day", [False, True])
def test_open_failures_come_in_the_trend_order(unicode: bool, same_day: bool) -> None:
    """Oldest first, then control, resource id ignoring case (Python's lower()), pool: whether the query's order is
    taken as it is (distinct ages, ASCII ids) or the list is sorted (scans of the same day, ids not ASCII)."""
    con, selected = _cache(8, 12, keys=3000, unicode=unicode)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    scans = []
    for s in selected:
        at = start + timedelta(days=30 * s["idx"] - (30 * (s["idx"] % 2) if same_day else 0), hours=s["idx"])
        status = "partial" if s["partial"] else "complete"
        scans.append(Scan(s["scan_id"], at, at, status, "t", "AzureCloud", "e", {}, {}, ""))
    masks = trend._select(con, EVALUATOR, scans)
    with ThreadPoolExecutor(max_workers=1) as pool:
        listed, fixed, removed = trend._runs(con, scans, masks, pool)
        open_failures = listed.result()
    remediation = trend._remediation(open_failures, fixed, removed)
    assert len(open_failures) > 20 and remediation["open"] == len(open_failures)
    assert open_failures == sorted(open_failures, key=trend._open_failure_order)
    assert len({f["days"] for f in open_failures}) > 1
