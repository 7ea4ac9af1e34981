"""The one loader of the DuckDB SQL files under queries/, with one parameter convention.

A file holds one or more statements, split by DuckDB's own parser (a ';' inside a string literal or a comment
does not split). Values reach SQL only as named parameters, `$name` (scalars, lists, structs, lists of
structs): never `?` or `$1`, never text pasted into the SQL. Running a file binds each statement to exactly the
parameters it names; a parameter the file needs but was not given, or one given that the file never uses, is
an error that names the file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from auditor.paths import queries_dir


@dataclass(frozen=True)
class Statement:
    """One statement of a file and the `$names` it uses."""

    text: str
    parameters: frozenset[str]
    parsed: duckdb.Statement = field(compare=False, repr=False)


@dataclass(frozen=True)
class SqlFile:
    """A query file split into statements; `name` is its path under queries/, e.g. 'model/10_clusters.sql'."""

    name: str
    statements: tuple[Statement, ...]

    @property
    def parameters(self) -> frozenset[str]:
        """Every `$name` any statement of the file uses."""
        return frozenset().union(*(s.parameters for s in self.statements))

    def check(self, given: Mapping[str, Any]) -> None:
        """TypeError naming the file when given is not exactly the parameters the file uses."""
        missing = sorted(self.parameters - given.keys())
        unused = sorted(given.keys() - self.parameters)
        if missing or unused:
            problems = []
            if missing:
                problems.append("needs " + ", ".join(f"${p}" for p in missing))
            if unused:
                problems.append("does not use " + ", ".join(f"${p}" for p in unused))
            raise TypeError(f"queries/{self.name} {' and '.join(problems)}")


@dataclass(frozen=True)
class Rows:
    """The result of a query: column names and rows as tuples."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def one(self) -> tuple[Any, ...]:
        """The only row; ValueError when there are none or several."""
        if len(self.rows) != 1:
            raise ValueError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        """The only value of the only row."""
        row = self.one()
        if len(row) != 1:
            raise ValueError(f"expected one column, got {len(row)}")
        return row[0]


_loaded: set[str] = set()
_lock = threading.Lock()


def _relative(name: str) -> str:
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or path.suffix != ".sql":
        raise ValueError(f"not a query file name under queries/: {name!r}")
    return path.as_posix()


@cache
def load(name: str) -> SqlFile:
    """The file queries/<name>, parsed once per process; ValueError naming the file for a positional parameter."""
    name = _relative(name)
    text = (queries_dir() / name).read_text(encoding="utf-8")
    statements = []
    for parsed in duckdb.extract_statements(text):
        parameters = frozenset(parsed.named_parameters)
        if any(p.isdigit() for p in parameters):
            raise ValueError(f"queries/{name} uses a positional parameter (? or $1): name it, $name")
        statements.append(Statement(parsed.query.strip(), parameters, parsed))
    with _lock:
        _loaded.add(name)
    return SqlFile(name, tuple(statements))


def files(directory: str) -> list[str]:
    """The names of the .sql files directly under queries/<directory>, in name order (their run order)."""
    root = queries_dir()
    return [p.relative_to(root).as_posix() for p in sorted((root / directory).glob("*.sql"))]


def loaded() -> frozenset[str]:
    """Every file this process has loaded so far."""
    with _lock:
        return frozenset(_loaded)


def _bind(statement: Statement, params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in statement.parameters}


def run(cursor: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> Rows:
    """Run every statement of queries/<name> on cursor; the rows of the last statement (for one that is not
    a query, DuckDB's count of changed rows)."""
    sql_file = load(name)
    sql_file.check(params)
    result: duckdb.DuckDBPyConnection | None = None
    for statement in sql_file.statements:
        result = cursor.execute(statement.parsed, _bind(statement, params))
    if result is None or result.description is None:
        return Rows((), [])
    return Rows(tuple(column[0] for column in result.description), result.fetchall())


def run_all(cursor: duckdb.DuckDBPyConnection, names: Sequence[str], /, **params: Any) -> None:
    """Run several files in order, each with the parameters it uses out of params; a parameter no file uses
    (or one a file needs and params lacks) is an error."""
    files_ = [load(name) for name in names]
    unused = sorted(params.keys() - frozenset().union(*(f.parameters for f in files_)))
    if unused:
        named = ", ".join(f"queries/{n}" for n in names)
        raise TypeError(f"no file of {named} uses " + ", ".join(f"${p}" for p in unused))
    for sql_file in files_:
        own = {key: value for key, value in params.items() if key in sql_file.parameters}
        sql_file.check(own)
        for statement in sql_file.statements:
            cursor.execute(statement.parsed, _bind(statement, own))


def batches(
    cursor: duckdb.DuckDBPyConnection, name: str, /, size: int, **params: Any
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of the one statement of queries/<name>, in lists of at most `size`: a large result read without
    holding it all."""
    sql_file = load(name)
    if len(sql_file.statements) != 1:
        raise ValueError(f"queries/{name} holds {len(sql_file.statements)} statements; batches need one")
    sql_file.check(params)
    statement = sql_file.statements[0]
    result = cursor.execute(statement.parsed, _bind(statement, params))
    while batch := result.fetchmany(size):
        yield batch


def relation(cursor: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> duckdb.DuckDBPyRelation:
    """The one statement of queries/<name> as a lazy relation (to stream in batches or insert elsewhere)."""
    sql_file = load(name)
    if len(sql_file.statements) != 1:
        raise ValueError(f"queries/{name} holds {len(sql_file.statements)} statements; a relation needs one")
    sql_file.check(params)
    statement = sql_file.statements[0]
    return cursor.sql(statement.text, params=_bind(statement, params) or None)
