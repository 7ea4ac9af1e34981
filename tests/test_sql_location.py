"""All SQL lives in queries/ and runs through auditor/sql.py: no SQL in Python strings (literals, f-strings, strings
joined with + or %, str.format), no SQL text handed to DuckDB from Python, no duckdb in the command line, no
query file that nothing loads, and no placeholder in a query file for Python to fill by text substitution (values
are `$name` parameters; a file names its tables itself).
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

# A whole transaction statement (the connection's begin(), commit() and rollback() say it without SQL).
TRANSACTION = re.compile(r"^\s*(BEGIN(\s+TRANSACTION)?|COMMIT|ROLLBACK|CHECKPOINT)\s*;?\s*$")

# Methods of a DuckDB connection or relation that take SQL text: outside auditor/sql.py they get a parsed statement
# or a name, never text written or assembled in Python.
SQL_METHODS = frozenset({"execute", "executemany", "sql", "query"})

# A `__NAME__` (or `{name}`, `%(name)s`) placeholder in a query file: text that Python would substitute.
PLACEHOLDER = re.compile(r"\b__[A-Za-z][A-Za-z0-9_]*__\b|\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_][A-Za-z0-9_]*\)s")


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


def _built(node: ast.AST) -> tuple[str, list[ast.AST]] | None:
    """The text of a string built in Python, and the literal parts it is built of: `a + b` (any operand not a
    string reads as '{}'), `"..." % x` and `"...".format(...)`; None for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _built(node.left) or (_text(node.left), [node.left])
        right = _built(node.right) or (_text(node.right), [node.right])
        if left[0] is None and right[0] is None:
            return None
        return (left[0] or "{}") + (right[0] or "{}"), [*left[1], *right[1]]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        text = _text(node.left)
        return (text, [node.left]) if text is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        text = _text(node.func.value)
        return (text, [node.func.value]) if text is not None else None
    return None


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """(line, first line) of each string in the file that holds SQL: a literal, or a string built from parts (counted
    once, as a whole)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _docstrings(tree)
    skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    candidates: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        built = _built(node)
        if built is not None and id(node) not in skip:
            candidates.append((node, built[0]))
            skip |= {id(part) for part in built[1]}
            skip |= {id(n) for n in ast.walk(node) if n is not node}  # the parts of a + b + c, once
    for node in ast.walk(tree):
        text = _text(node)
        if text is not None and id(node) not in skip:
            candidates.append((node, text))
    found = []
    for node, text in candidates:
        if SQL.search(text) or TRANSACTION.match(text):
            found.append((getattr(node, "lineno", 0), text.strip().splitlines()[0][:80]))
    return sorted(found)


def sql_text_calls(path: Path) -> list[tuple[int, str]]:
    """(line, call) of each call of a DuckDB method that takes SQL with text written in Python as its statement:
    a literal, an f-string, or a string built with +, % or str.format."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        if node.func.attr in SQL_METHODS and (_text(node.args[0]) is not None or _built(node.args[0]) is not None):
            found.append((node.lineno, ast.unparse(node)[:80]))
    return found


def test_no_sql_in_python_strings() -> None:
    where = {}
    for path in python_files():
        if path == PACKAGE / "sql.py":
            continue
        strings = sql_strings(path) + sql_text_calls(path)
        if strings:
            where[path.relative_to(ROOT).as_posix()] = sorted(strings)
    assert not where, "SQL belongs in queries/ (run it with auditor.sql): " + "; ".join(
        f"{name}: " + ", ".join(f"line {line} {first!r}" for line, first in strings) for name, strings in where.items()
    )


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
    assert not found, f"the command line calls the library; it never opens DuckDB itself: {sorted(found)}"


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


def placeholders(path: Path) -> list[tuple[int, str]]:
    """(line, placeholder) of each text-substitution placeholder in a query file."""
    return [
        (number, match.group(0))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in PLACEHOLDER.finditer(line)
    ]


def test_no_placeholders_in_query_files() -> None:
    where = {
        path.relative_to(ROOT).as_posix(): found
        for path in sorted(QUERIES.rglob("*.sql"))
        if (found := placeholders(path))
    }
    assert not where, "a query file is run as written, with $name parameters, never filled in by Python: " + "; ".join(
        f"{name}: " + ", ".join(f"line {line} {text}" for line, text in found) for name, found in where.items()
    )


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
    assert not orphans, f"query files that no module loads: delete them or load them: {sorted(orphans)}"


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Module docstring: SELECT a FROM b is prose here."""\n'
        'A = "SELECT id\\nFROM scans"\n'
        'B = f"DELETE FROM {table} WHERE x = 1"\n'
        'C = ("CREATE TEMP TABLE t "\n     "AS SELECT 1")\n'
        'D = "select a scan from the store"\n'
        'E = "Create the table"\n'
        'F = "SELECT " + columns + " FROM " + table\n'
        'G = "DROP %s" % kind + " TABLE x"\n'
        'H = "INSERT {} ".format(x) + "INTO t VALUES (1)"\n'
        'I = "BEGIN TRANSACTION"\n'
        'J = "Commit the scan, then BEGIN again"\n'
        'con.execute("PRAGMA version")\n'
        'con.execute(f"CHECKPOINT {name}")\n'
        "con.execute(statement.parsed, params)\n",
        encoding="utf-8",
    )
    assert [line for line, _ in sql_strings(sample)] == [2, 3, 4, 8, 9, 10, 11]
    assert [line for line, _ in sql_text_calls(sample)] == [13, 14]
    query = tmp_path / "sample.sql"
    query.write_text(
        "INSERT INTO __EVENTS__ SELECT * FROM fold_candidates;\n"
        "SELECT * FROM {table};\n"
        "SELECT * FROM %(table)s;\n"
        "SELECT $scan_id, '{}'::JSON, payload->>'$.name' FROM t;\n",
        encoding="utf-8",
    )
    assert [line for line, _ in placeholders(query)] == [1, 2, 3]
