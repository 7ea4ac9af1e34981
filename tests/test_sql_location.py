"""All SQL lives in queries/ and runs through auditor/sql.py: no SQL in Python strings, no duckdb in the command
line, and no query file that nothing loads.

ALLOWED_TODAY holds what the tree still does while the SQL moves out; each change lowers its own numbers (a
count must match exactly, so the list only shrinks).
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditor"
QUERIES = ROOT / "queries"

# A statement keyword, then later one of the words that SQL needs after it. Upper case only: prose in messages
# and docstrings ("select a scan", "Create the table") does not match.
SQL = re.compile(
    r"\b(SELECT|CREATE|INSERT|UPDATE|DELETE|DROP|COPY|WITH|ALTER|PRAGMA|SET VARIABLE)\b"
    r".*\b(FROM|TABLE|INTO|AS|VALUES|SET)\b",
    re.DOTALL,
)

ALLOWED_TODAY: dict[str, Counter[str]] = {
    # Python strings holding SQL, per file (strings concatenated by Python count once).
    "sql_strings": Counter(
        {
            "auditor/ledger.py": 16,  # the ledger's fold bookkeeping and "as of" views (table names vary)
            "auditor/store.py": 15,  # store queries
            "auditor/timeline.py": 2,  # timeline queries
        }
    ),
    # Modules of the command line that import duckdb.
    "cli_duckdb": Counter(),
    # Query files that no module loads.
    "orphans": Counter(),
}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text(node: ast.AST) -> str | None:
    """The text of a string literal; an f-string's replacement fields read as '{}'."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """(line, first line) of each string literal in the file that holds SQL."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _docstrings(tree)
    inside_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        text = _text(node)
        if text is None or id(node) in skip or id(node) in inside_fstring:
            continue
        if SQL.search(text):
            found.append((node.lineno, text.strip().splitlines()[0][:80]))
    return sorted(found)


def test_no_sql_in_python_strings() -> None:
    found = Counter()
    where = {}
    for path in python_files():
        if path == PACKAGE / "sql.py":
            continue
        name = path.relative_to(ROOT).as_posix()
        strings = sql_strings(path)
        if strings:
            found[name] = len(strings)
            where[name] = strings
    allowed = ALLOWED_TODAY["sql_strings"]
    more = {name: where[name] for name in found if found[name] > allowed[name]}
    assert not more, "SQL belongs in queries/ (run it with auditor.sql): " + "; ".join(
        f"{name}: " + ", ".join(f"line {line} {first!r}" for line, first in strings) for name, strings in more.items()
    )
    fewer = {name: found[name] for name in allowed if found[name] < allowed[name]}
    assert not fewer, f"fewer SQL strings than ALLOWED_TODAY['sql_strings'] says: lower it to {fewer}"


def test_the_command_line_does_not_import_duckdb() -> None:
    found = Counter()
    for path in python_files():
        relative = path.relative_to(PACKAGE).as_posix()
        if not (relative == "cli.py" or relative.startswith("cli/") or relative == "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "duckdb" or n.startswith("duckdb.") for n in names):
                found[path.relative_to(ROOT).as_posix()] += 1
    assert found == ALLOWED_TODAY["cli_duckdb"], "the command line calls the library; it never opens DuckDB itself"


def _joined(node: ast.AST) -> list[str] | None:
    """The string parts of `a / "b" / "c"` (the non-string head dropped), or None when a part is not a string."""
    parts: list[str] = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        text = _text(node.right)
        if text is None:
            return None
        parts.insert(0, text)
        node = node.left
    text = _text(node)
    if text is not None:
        parts.insert(0, text)
    return parts


def loaded_patterns() -> set[str]:
    """Glob patterns (relative to queries/) of the files the code names: string literals (an f-string's fields
    match anything), `dir / "name"` paths, `(dir / "x").glob(pattern)` and `sql.files("dir")`."""
    patterns = set()
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = _text(node)
            if text is not None:
                patterns.add(re.sub(r"\{[^{}]*\}", "*", text))  # f-string fields and str.format fields
            elif isinstance(node, ast.BinOp):
                parts = _joined(node)
                if parts:
                    patterns.add("/".join(parts))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                argument = _text(node.args[0]) if node.args else None
                if node.func.attr in ("glob", "rglob") and argument:
                    base = _joined(node.func.value) or []
                    patterns.add("/".join([*base, argument]))
                elif node.func.attr == "files" and argument:
                    patterns.add(f"{argument}/*.sql")
    return patterns


def test_every_query_file_is_loaded_by_some_module() -> None:
    patterns = loaded_patterns()

    def named(relative: str) -> bool:
        # Segment by segment: a '*' never spans directories.
        parts = relative.split("/")
        return any(
            len(pattern.split("/")) == len(parts)
            and all(fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, pattern.split("/"), strict=True))
            for pattern in patterns
            if pattern.endswith((".sql", ".toml"))
        )

    orphans = Counter()
    for path in sorted(QUERIES.rglob("*.sql")):
        relative = path.relative_to(QUERIES).as_posix()
        # A control's SQL is loaded with its metadata (queries/controls/<id>.toml beside it).
        if not (named(relative) or named(relative.removesuffix(".sql") + ".toml")):
            orphans[relative] += 1
    assert orphans == ALLOWED_TODAY["orphans"], "query files that no module loads: delete them or load them"


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Module docstring: SELECT a FROM b is prose here."""\n'
        'A = "SELECT id\\nFROM scans"\n'
        'B = f"DELETE FROM {table} WHERE x = 1"\n'
        'C = ("CREATE TEMP TABLE t "\n     "AS SELECT 1")\n'
        'D = "select a scan from the store"\n'
        'E = "Create the table"\n',
        encoding="utf-8",
    )
    assert [line for line, _ in sql_strings(sample)] == [2, 3, 4]
