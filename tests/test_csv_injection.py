"""CSV formula injection through line breaks: a reader that splits rows at every CR (or LF, or any line separator)
whatever the quotes must still find no cell that starts a formula, and a standard reader must find every row
whole, each multi-line cell quoted."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.report.tabular import neutralise_cell
from tests.evidence import cluster, store_scan

PAYLOADS = {
    "cr": "ok\r=1+1",
    "crlf": "ok\r\n+SUM(A1:A9)",
    "lf": 'ok\n@HYPERLINK("http://evil.example")',
    "quoted": "ok\n\"=cmd|' /C calc'!A0",
    "spaces": "ok\r   -2+3",
    "tab": "ok\r\t=1",
    "separator": "ok\u2028=1+1",
    "wide": "ok\r\uff1d1+1",
    "many": "a\r=1\r+2\n-3\r\n@4",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
ANY_LINE_BREAK = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def cr_splitting_cells(text: str) -> list[str]:
    """Cells as a reader sees them that ends a row at every line break, quoted or not (then parses each line)."""
    cells: list[str] = []
    for line in ANY_LINE_BREAK.split(text):
        for row in csv.reader(io.StringIO(line)):
            cells.extend(row)
    return cells


def starts_a_formula(cell: str) -> bool:
    return cell.lstrip(' "').startswith(FORMULA_START)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("csv") / "a.duckdb"
    clusters = [
        cluster(f"c{index}{payload}", rg=f"rg{index}", channel=None, tags={name: payload, "plain": "x"})
        for index, (name, payload) in enumerate(PAYLOADS.items())
    ]
    store_scan(db, clusters)
    return db


def test_the_written_report_has_no_formula_for_a_cr_splitting_reader(hostile_db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--db", str(hostile_db), "--format", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "findings.csv").read_bytes().decode("utf-8")
    cells = cr_splitting_cells(text)
    assert len(cells) > 100
    assert [c for c in cells if starts_a_formula(c)] == []
    # A standard reader keeps every row whole: header plus one row per finding, every cell in its column.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len({len(row) for row in rows}) == 1
    assert "\r" not in text  # line breaks inside cells are LF, inside quotes; rows end with LF


def test_findings_csv_on_stdout_has_no_formula_for_a_cr_splitting_reader(hostile_db: Path) -> None:
    result = CliRunner().invoke(cli, ["findings", "--db", str(hostile_db), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert [c for c in cr_splitting_cells(result.stdout) if starts_a_formula(c)] == []


@pytest.mark.parametrize("payload", PAYLOADS.values())
def test_every_line_of_a_multi_line_cell_is_neutralised_and_the_cell_quoted(payload: str) -> None:
    cell = neutralise_cell(payload)
    assert cell.startswith("'")
    assert all(not starts_a_formula(line) for line in cell.split("\n"))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([cell, "next"])
    assert buffer.getvalue().startswith('"')


def test_a_single_line_cell_keeps_its_text() -> None:
    assert neutralise_cell("plain text, no formula") == "plain text, no formula"
    assert neutralise_cell("=1+1") == "'=1+1"
    assert neutralise_cell('"=1+1') == "'\"=1+1"


# --- the terminal table -------------------------------------------------------------------------------

TERMINAL_HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\x00nul\u202eexe.txt\u2066iso\u2069\r\nfake row\x9b31m"


def test_the_terminal_table_shows_control_and_bidi_characters_as_escapes(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster(TERMINAL_HOSTILE, channel=None, tags={"t": TERMINAL_HOSTILE})])
    result = CliRunner().invoke(cli, ["findings", "--db", str(db), "--control", "AKS-CHN-01"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    table = result.stdout
    for raw in ("\x1b", "\x00", "\x07", "\u202e", "\u2066", "\u2069", "\r", "\x9b"):
        assert raw not in table, repr(raw)
    rows = [line for line in table.splitlines() if "AKS-CHN-01" in line]
    assert len(rows) == 1  # the CR LF in the name added no row
    for shown in ("\\x1b[2J", "\\x00nul", "\\u202eexe.txt", "\\u2066iso\\u2069", "fake row\\x9b31m"):
        assert shown in rows[0], shown
