"""Evaluation: every control's SQL over one scan's model, the findings kept in DuckDB (`eval_findings` on the
model's cursor) until a reader asks for them.

The rows of each control go straight from its query into a table; the context of each finding (cluster,
subscription, Fleet), the unknown verdict of a row without a message, and the canonical order are SQL
(queries/evaluate/), and so are the remediation commands (templates compiled by auditor.controls.remediation).
Python matches waivers (only failing findings of the controls a waiver names).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb

from auditor import sql
from auditor.controls.catalog import RESULT_COLUMNS, SEVERITIES, STATUSES, Control, load_catalog
from auditor.controls.finding import Finding, findings_digest
from auditor.controls.remediation import compile_template
from auditor.errors import AuditorError
from auditor.model import Model
from auditor.policy import Policy, WaiverIndex

_BATCH = 4096


class Evaluation:
    """The findings of one evaluation, held in DuckDB on the model's cursor (valid while the model is open)."""

    def __init__(self, model: Model, phases: dict[str, float]) -> None:
        self.model = model
        self.phases = phases  # seconds per phase, as measured by evaluate()

    def counts(self) -> dict[str, int]:
        """Findings per status, every status present."""
        found = dict(sql.run(self.model.cursor, "evaluate/counts.sql").rows)
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def findings(self, batch: int = _BATCH) -> Iterator[Finding]:
        """Every finding in the canonical order (control, resource, pool, status, message), fetched in batches."""
        first = 1
        while rows := sql.run(self.model.cursor, "evaluate/findings_in_order.sql", first=first, last=first + batch - 1):
            for row in rows:
                yield Finding.from_row(row)
            first += batch

    def worst_failing(self) -> str | None:
        """The highest severity among failing findings, None when nothing fails."""
        failing = {row[0] for row in sql.run(self.model.cursor, "evaluate/worst_failing.sql")}
        return next((s for s in reversed(SEVERITIES) if s in failing), None)

    def digest(self) -> str:
        """SHA-256 of the findings in canonical form (auditor.controls.finding.findings_digest)."""
        return findings_digest(self.findings())


def evaluate(model: Model, controls: tuple[Control, ...] | None = None) -> Evaluation:
    """Run every control (or those given) over the model's scan; the findings stay in DuckDB, waivers applied."""
    cursor = model.cursor
    catalog = controls if controls is not None else load_catalog()
    phases: dict[str, float] = {}
    started = time.perf_counter()
    sql.run(cursor, "evaluate/setup.sql")
    for control in catalog:
        try:
            relation = cursor.sql(control.sql)
            if relation.columns != RESULT_COLUMNS:
                raise AuditorError(
                    f"control {control.id} returns columns {relation.columns}, expected {RESULT_COLUMNS}"
                )
            cursor.register("control_result", relation)
            try:
                sql.run(cursor, "evaluate/collect_control.sql", control_id=control.id)
            finally:
                cursor.unregister("control_result")
        except duckdb.Error as exc:
            raise AuditorError(f"control {control.id} failed to evaluate: {' '.join(str(exc).split())}") from exc
    phases["controls"] = time.perf_counter() - started
    started = time.perf_counter()
    invalid = sql.run(cursor, "evaluate/invalid_row.sql", statuses=list(STATUSES)).rows
    if invalid:
        control_id, resource_id, status, bad_status = invalid[0]
        if bad_status:
            raise AuditorError(f"control {control_id} returned status {status!r} for {resource_id}")
        raise AuditorError(f"control {control_id} returned a {status} row that names no resource")
    sql.run(
        cursor,
        "evaluate/findings.sql",
        controls=[{"control_id": c.id, "severity": c.severity, "title": c.title} for c in catalog],
    )
    waivers = _waivers(cursor, model.policy, model.as_of)
    sql.run(
        cursor,
        "evaluate/finish.sql",
        templates=remediation_templates(catalog),
        waivers=waivers,
        statuses=list(STATUSES),
    )
    phases["findings"] = time.perf_counter() - started
    return Evaluation(model, phases)


def remediation_templates(catalog: tuple[Control, ...]) -> list[dict[str, Any]]:
    """$templates of queries/evaluate/finish.sql: every remediation template of the catalog, compiled."""
    return [
        {"control_id": control.id, "variant": variant, "mask": mask, "literals": list(literals), "fields": list(fields)}
        for control in catalog
        for variant, template in [(None, control.remediation), *control.remediation_variants]
        for mask, literals, fields in compile_template(template)
    ]


def _waivers(cursor: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> list[dict[str, Any]]:
    """The failing findings a waiver covers: waived while one is active (an active waiver wins over an expired
    one), still failing but flagged when every covering waiver has expired."""
    if not policy.waivers:
        return []
    index = WaiverIndex(policy.waivers)
    changes = []
    candidates = sql.run(cursor, "evaluate/waiver_candidates.sql", controls=sorted(index.controls))
    for rid, control_id, resource_id, node_pool, message in candidates:
        matching = index.matching(control_id, resource_id, node_pool)
        if not matching:
            continue
        active = [w for w in matching if w.active(as_of)]
        waiver = max(active or matching, key=lambda w: w.expires)
        record = {
            "reason": waiver.reason,
            "approver": waiver.approver,
            "expires": waiver.expires.isoformat(),
            "resource": waiver.resource,
        }
        if active:
            status = "waived"
            message = f"{message} — waived until {waiver.expires} by {waiver.approver} ({waiver.reason})"
        else:
            status = "fail"
            message = f"{message} — waiver expired on {waiver.expires}"
            record = {**record, "expired": "true"}
        changes.append({"rid": rid, "status": status, "message": message, "waiver": json.dumps(record)})
    return changes


def evaluate_scan(
    con: duckdb.DuckDBPyConnection, scan_id: str, policy: Policy, controls: tuple[Control, ...] | None = None
) -> list[Finding]:
    """The findings of one scan as a list: build its model, evaluate, read every finding, close the model."""
    with Model(con, scan_id, policy) as model:
        return list(evaluate(model, controls).findings())
