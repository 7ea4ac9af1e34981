"""CSV and JSON: every finding, for spreadsheets and pipelines.

JSON: an array of findings, valid against docs/findings.schema.json, values exactly as evaluated.
CSV: UTF-8 with a header row; a cell a spreadsheet could run as a formula gets a leading apostrophe, and so does
every line of a cell that holds a line break (such a cell is always quoted).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from auditor.controls import Finding
from auditor.report.data import ReportData, finding_dict

CONTRACT_FIELDS = ("control_id", "status", "severity", "resource_id", "node_pool", "message")
CSV_COLUMNS = [
    "control_id",
    "status",
    "severity",
    "title",
    "subscription_id",
    "subscription_name",
    "resource_group",
    "cluster",
    "node_pool",
    "location",
    "tags",
    "message",
    "remediation",
    "evidence",
    "waiver_reason",
    "waiver_approver",
    "waiver_expires",
    "waiver_state",
    "resource_id",
]
# OWASP "CSV injection": a cell starting with one of these may be run as a formula (or DDE) by a spreadsheet.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Full-width forms some spreadsheets fold to their ASCII twins.
_WIDE_PREFIXES = ("\uff1d", "\uff0b", "\uff0d", "\uff20")


# Everything some reader takes for the end of a row: CR, LF, CRLF, and the separators str.splitlines() knows.
_LINE_BREAK = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def neutralise_cell(value: str) -> str:
    """Stop spreadsheets from running a cell as a formula (CSV injection): prefix an apostrophe.

    Leading spaces and quotes are looked through, since some spreadsheets trim them before parsing. A cell
    holding a line break is neutralised as a whole and line by line: a reader that splits rows at a bare CR (or
    any break) whatever the quotes would start a row with each line. Its breaks become LF, which the writer
    always quotes.
    """
    if _LINE_BREAK.search(value):
        lines = [_neutralise_line(line) for line in _LINE_BREAK.split(value)]
        joined = "\n".join(lines)
        return joined if joined.startswith("'") else "'" + joined
    return _neutralise_line(value)


def _neutralise_line(value: str) -> str:
    # Quotes are looked through too: a reader that splits a quoted cell at its line breaks sees `""=1+1`, which
    # it parses as `=1+1`.
    stripped = value.lstrip(' "')
    if value.startswith(_FORMULA_PREFIXES) or stripped.startswith(_FORMULA_PREFIXES + _WIDE_PREFIXES):
        return "'" + value
    return value


def finding_record(finding: Finding) -> dict[str, Any]:
    """A finding as a JSON-ready dict (the contract's fields first)."""
    record = finding_dict(finding)
    ordered = {key: record.pop(key) for key in CONTRACT_FIELDS}
    return {**ordered, **record}


def _csv_row(finding: Finding) -> list[str]:
    record = finding_dict(finding)
    record["tags"] = json.dumps(record["tags"], ensure_ascii=False, sort_keys=True)  # replaces, not mutates
    waiver = finding.waiver or {}
    record["waiver_reason"] = waiver.get("reason")
    record["waiver_approver"] = waiver.get("approver")
    record["waiver_expires"] = waiver.get("expires")
    expired = str(waiver.get("expired", "")).lower() == "true"
    record["waiver_state"] = ("expired" if expired else "active") if waiver else None
    return [neutralise_cell("" if record.get(c) is None else str(record[c])) for c in CSV_COLUMNS]


def write_findings_csv(findings: Iterable[Finding], stream: TextIO) -> None:
    """Findings as CSV rows written to a text stream, header first, every cell neutralised."""
    # QUOTE_MINIMAL quotes every field holding the line terminator: every multi-line cell, after neutralise_cell.
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for finding in findings:
        writer.writerow(_csv_row(finding))


def findings_csv(findings: Iterable[Finding]) -> str:
    """Findings as CSV text, UTF-8, header first, every cell neutralised."""
    buffer = io.StringIO()
    write_findings_csv(findings, buffer)
    return buffer.getvalue()


def write_findings_json(findings: Iterable[Finding], stream: TextIO) -> None:
    """Findings as a JSON array, one finding per line (diffable, streamable)."""
    stream.write("[")
    empty = True
    for finding in findings:
        stream.write("\n  " if empty else ",\n  ")
        stream.write(json.dumps(finding_record(finding), ensure_ascii=False))
        empty = False
    stream.write("]" if empty else "\n]")


def findings_json(findings: Iterable[Finding]) -> str:
    """Findings as a JSON array, one finding per line."""
    buffer = io.StringIO()
    write_findings_json(findings, buffer)
    return buffer.getvalue()


def render_csv(data: ReportData, out_dir: Path) -> Path:
    """Write findings.csv."""
    path = out_dir / "findings.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_findings_csv(data.findings, stream)
    return path


def render_json(data: ReportData, out_dir: Path) -> Path:
    """Write findings.json."""
    path = out_dir / "findings.json"
    with path.open("w", encoding="utf-8") as stream:
        write_findings_json(data.findings, stream)
        stream.write("\n")
    return path
