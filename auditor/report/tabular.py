"""CSV and JSON: every finding, for spreadsheets and pipelines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditor.controls import Finding
from auditor.report.data import ReportData

CSV_COLUMNS = [
    "control_id", "status", "severity", "cluster", "node_pool", "subscription_id", "subscription_name",
    "resource_group", "location", "tags", "message", "remediation", "evidence", "resource_id",
]
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Stop spreadsheets from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def finding_record(finding: Finding) -> dict[str, Any]:
    """A finding as a JSON-ready dict (the contract's fields first)."""
    record = finding.as_dict()
    ordered = {key: record.pop(key) for key in ("control_id", "status", "severity", "resource_id", "node_pool", "message")}
    return {**ordered, **record}


def findings_csv(findings: Iterable[Finding]) -> str:
    """Findings as CSV text, UTF-8, header first, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for finding in findings:
        record = finding.as_dict()
        record["tags"] = json.dumps(record["tags"], ensure_ascii=False, sort_keys=True)
        writer.writerow([neutralise_cell("" if record[c] is None else str(record[c])) for c in CSV_COLUMNS])
    return buffer.getvalue()


def findings_json(findings: Iterable[Finding]) -> str:
    """Findings as a JSON array."""
    return json.dumps([finding_record(f) for f in findings], indent=2, ensure_ascii=False)


def render_csv(data: ReportData, out_dir: Path) -> Path:
    """Write findings.csv."""
    path = out_dir / "findings.csv"
    path.write_text(findings_csv(data.findings), encoding="utf-8")
    return path


def render_json(data: ReportData, out_dir: Path) -> Path:
    """Write findings.json."""
    path = out_dir / "findings.json"
    path.write_text(findings_json(data.findings) + "\n", encoding="utf-8")
    return path
