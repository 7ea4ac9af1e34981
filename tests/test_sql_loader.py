"""auditor.sql: DuckDB splits the files, values travel only as $name parameters, mistakes name the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from auditor import sql
from auditor.paths import queries_dir


@pytest.fixture
def queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A queries/ directory of the test's own, with the loader's per-process cache emptied around it."""
    monkeypatch.setattr(sql, "queries_dir", lambda: tmp_path)
    sql.load.cache_clear()
    yield tmp_path
    sql.load.cache_clear()


def _write(root: Path, name: str, text: str) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def test_statements_split_by_duckdb_not_by_every_semicolon(queries: Path) -> None:
    name = _write(
        queries,
        "demo/split.sql",
        "-- a comment; with a semicolon\n"
        "CREATE TEMP TABLE t AS SELECT $who AS who, 'a;b' AS text;  /* ; */\n"
        "SELECT who, text, $suffix AS suffix FROM t;\n",
    )
    loaded = sql.load(name)
    assert len(loaded.statements) == 2
    assert [s.parameters for s in loaded.statements] == [frozenset({"who"}), frozenset({"suffix"})]
    assert loaded.parameters == {"who", "suffix"}
    rows = sql.run(duckdb.connect(), name, who="x'); DROP TABLE t; --", suffix=None)
    assert rows.columns == ("who", "text", "suffix")
    assert rows.one() == ("x'); DROP TABLE t; --", "a;b", None)  # a value is a value, never SQL
    assert rows.as_dicts() == [{"who": "x'); DROP TABLE t; --", "text": "a;b", "suffix": None}]
    assert name in sql.loaded()


def test_missing_or_unused_parameters_are_errors_naming_the_file(queries: Path) -> None:
    name = _write(queries, "demo/params.sql", "SELECT $a AS a, $b AS b;")
    con = duckdb.connect()
    with pytest.raises(TypeError, match=r"^queries/demo/params\.sql needs \$b$"):
        sql.run(con, name, a=1)
    with pytest.raises(TypeError, match=r"^queries/demo/params\.sql does not use \$c$"):
        sql.run(con, name, a=1, b=2, c=3)
    with pytest.raises(TypeError, match=r"needs \$a, \$b and does not use \$x"):
        sql.run(con, name, x=1)
    assert sql.run(con, name, a=1, b=[1, 2]).one() == (1, [1, 2])


def test_positional_parameters_are_refused(queries: Path) -> None:
    for index, text in enumerate(("SELECT ?;", "SELECT $1;")):
        name = _write(queries, f"demo/positional{index}.sql", text)
        with pytest.raises(ValueError, match=rf"queries/demo/positional{index}\.sql uses a positional parameter"):
            sql.load(name)


def test_names_stay_under_queries(queries: Path) -> None:
    for bad in ("../x.sql", "/etc/passwd.sql", "demo/x.txt"):
        with pytest.raises(ValueError, match="not a query file name"):
            sql.load(bad)


def test_structs_and_lists_of_structs_bind_as_parameters(queries: Path) -> None:
    name = _write(
        queries,
        "demo/structs.sql",
        "SELECT s.limit_days AS days, list_sum([p.weight FOR p IN $sets]) AS total FROM (SELECT $one AS s);",
    )
    rows = sql.run(duckdb.connect(), name, one={"limit_days": 30}, sets=[{"weight": 2}, {"weight": 3}])
    assert rows.one() == (30, 5)


def test_rows_helpers_and_non_query_statements(queries: Path) -> None:
    con = duckdb.connect()
    assert sql.run(con, _write(queries, "demo/create.sql", "CREATE TABLE t (x INTEGER);")).columns == ("Count",)
    name = _write(queries, "demo/insert.sql", "INSERT INTO t VALUES ($x); SELECT x FROM t ORDER BY x;")
    assert sql.run(con, name, x=2).scalar() == 2
    rows = sql.run(con, name, x=1)
    assert list(rows) == [(1,), (2,)] and len(rows) == 2
    with pytest.raises(ValueError, match="expected one row, got 2"):
        rows.one()
    with pytest.raises(ValueError, match="expected one column"):
        sql.Rows(("a", "b"), [(1, 2)]).scalar()


def test_run_all_shares_parameters_across_files_in_order(queries: Path) -> None:
    first = _write(queries, "model/10_first.sql", "CREATE TEMP TABLE first AS SELECT $scan_id AS scan_id;")
    second = _write(queries, "model/20_second.sql", "CREATE TEMP TABLE second AS SELECT scan_id, $days FROM first;")
    assert sql.files("model") == [first, second]
    con = duckdb.connect()
    sql.run_all(con, sql.files("model"), scan_id="s1", days=3)
    assert con.execute("SELECT * FROM second").fetchall() == [("s1", 3)]
    with pytest.raises(TypeError, match=r"uses \$nobody"):
        sql.run_all(con, sql.files("model"), scan_id="s1", days=3, nobody=1)
    with pytest.raises(TypeError, match=r"queries/model/20_second\.sql needs \$days"):
        sql.run_all(duckdb.connect(), sql.files("model"), scan_id="s1")


def test_relation_is_lazy_and_needs_one_statement(queries: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE n AS SELECT range AS i FROM range(10)")
    name = _write(queries, "demo/rel.sql", "SELECT i FROM n WHERE i >= $low ORDER BY i")
    rel = sql.relation(con, name, low=7)
    assert rel.fetchall() == [(7,), (8,), (9,)]
    rel.create("copied")
    assert con.execute("SELECT count(*) FROM copied").fetchone() == (3,)
    two = _write(queries, "demo/two.sql", "SELECT 1; SELECT 2;")
    with pytest.raises(ValueError, match="holds 2 statements"):
        sql.relation(con, two)


def test_every_bundled_query_file_parses_with_named_parameters_only() -> None:
    names = sorted(p.relative_to(queries_dir()).as_posix() for p in queries_dir().rglob("*.sql"))
    assert names
    for name in names:
        assert sql.load(name).statements, name
