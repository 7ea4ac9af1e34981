"""The catalog as a whole: every control file parses, runs against an empty model, has valid metadata whose
framework references resolve, and has a passing and a failing fixture."""

from __future__ import annotations

import importlib
import re
import string
from pathlib import Path

import pytest

from auditor.controls import (
    LEVELS,
    RESULT_COLUMNS,
    SEVERITIES,
    Control,
    evaluate,
    evaluate_scan,
    load_catalog,
    load_frameworks,
)
from auditor.controls.catalog import _load_control
from auditor.errors import AuditorError
from auditor.model import Model
from auditor.paths import queries_dir
from auditor.policy import THRESHOLDS, default_policy
from auditor.store import open_db
from tests.evidence import cluster, store_scan

# The catalog (README's table): ids are a public contract, and so is each control's level.
DESIGN_LEVELS = {
    "AKS-VER-01": "cluster",
    "AKS-VER-02": "cluster",
    "AKS-VER-03": "cluster",
    "AKS-VER-04": "pool",
    "AKS-IMG-01": "pool",
    "AKS-IMG-02": "pool",
    "AKS-CHN-01": "cluster",
    "AKS-CHN-02": "cluster",
    "AKS-WIN-01": "cluster",
    "AKS-WIN-02": "cluster",
    "AKS-SRG-01": "pool",
    "AKS-ORD-01": "cluster",
    "AKS-HLT-01": "cluster",
    "AKS-RNG-01": "fleet",
    "AKS-FLT-01": "fleet",
    "AKS-FLT-02": "cluster",
    "AKS-PDB-01": "cluster",
    "AKS-NOD-01": "pool",
    "AKS-OVR-01": "cluster",
    "AKS-OS-01": "pool",
    "AKS-UPG-01": "pool",
    "AKS-WIN-03": "cluster",
    "AKS-WIN-04": "subscription",
    "AKS-WIN-05": "fleet",
    "AKS-WIN-06": "pool",
    "AKS-RNG-02": "fleet",
}
CATALOG = load_catalog()


def _registries() -> dict[str, list[object]]:
    """CASES of every tests/test_controls_*.py module that has one, merged by control id."""
    merged: dict[str, list[object]] = {}
    for path in sorted(Path(__file__).parent.glob("test_controls_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        for control_id, cases in getattr(module, "CASES", {}).items():
            merged.setdefault(control_id, []).extend(cases)
    return merged


def test_catalog_holds_the_design_ids() -> None:
    ids = {c.id for c in CATALOG}
    assert set(DESIGN_LEVELS) <= ids
    assert ids <= set(DESIGN_LEVELS), f"controls not in the contract: {ids - set(DESIGN_LEVELS)}"
    for control in CATALOG:
        assert control.level == DESIGN_LEVELS[control.id], control.id


@pytest.mark.parametrize("control", CATALOG, ids=[c.id for c in CATALOG])
def test_metadata_validates(control: Control) -> None:
    assert control.severity in SEVERITIES and control.level in LEVELS
    assert control.title and control.rationale and control.rule and control.evidence
    fields = {name for _, name, _, _ in string.Formatter().parse(control.remediation) if name}
    assert fields <= {"resource_group", "cluster", "pool", "target"}
    assert control.remediation.startswith("az "), "remediations are az CLI commands"
    # Thresholds: declared ones exist and are read by the SQL; the rule names no undeclared one.
    named = set(re.findall(r"\[([a-z_]+)\]", control.rule))
    assert named <= set(control.thresholds), f"rule names undeclared thresholds {named - set(control.thresholds)}"
    for threshold in control.thresholds:
        assert threshold in THRESHOLDS
        assert threshold in control.sql, f"{control.id} declares {threshold} but its SQL does not read it"
    assert control.sql.lstrip().startswith(f"-- {control.id}"), "the SQL opens with a comment naming its control"
    for target, template in control.remediation_variants:
        assert target and template.startswith("az "), (control.id, target)
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert used <= {"resource_group", "cluster", "pool", "target"}, (control.id, target)


def test_in_cluster_controls_cite_their_sources() -> None:
    """The controls added with the in-cluster evidence cite the Microsoft pages their rules rest on."""
    for control_id in ("AKS-PDB-01", "AKS-NOD-01"):
        control = next(c for c in CATALOG if c.id == control_id)
        assert control.references and all(r.startswith("https://") for r in control.references)
        assert any(r.startswith("https://learn.microsoft.com/") for r in control.references)


@pytest.mark.parametrize("control", CATALOG, ids=[c.id for c in CATALOG])
def test_framework_references_resolve(control: Control) -> None:
    labels = {fw.label(req): (fw, req) for fw in load_frameworks() for req in fw.requirements}
    for reference in control.frameworks:
        framework, requirement = labels[reference]
        assert requirement.controls[control.id]


def test_frameworks_cover_the_required_requirements() -> None:
    labels = {fw.label(req) for fw in load_frameworks() for req in fw.requirements}
    assert {
        "PCI DSS v4.0 6.3.3",
        "ISO/IEC 27001:2022 A.8.8",
        "CIS Controls v8 7.3",
        "CIS Controls v8 7.4",
        "NIST SP 800-53 SI-2",
    } <= labels


def test_every_control_runs_against_an_empty_model(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    scan_id = store_scan(db, [])
    con = open_db(db)
    try:
        with Model(con, scan_id, default_policy()) as model:
            for control in CATALOG:
                assert list(evaluate(model, controls=(control,)).findings()) == []
                assert model.cursor.sql(control.sql).columns == RESULT_COLUMNS, control.id
    finally:
        con.close()


def test_every_control_has_a_passing_and_a_failing_fixture() -> None:
    registry = _registries()
    for control in CATALOG:
        expected = {getattr(case, "expect", None) for case in registry.get(control.id, [])}
        # A control whose worst verdict is warn (its rule says `warn` and never `fail`) has a warning fixture instead.
        failing = "warn" if "`warn`" in control.rule and "`fail`" not in control.rule else "fail"
        assert {"pass", failing} <= expected, f"{control.id} lacks a passing or {failing} fixture (has {expected})"
    assert set(registry) <= {c.id for c in CATALOG}, "fixtures for controls that do not exist"


def _without_references(toml: str) -> str:
    return re.sub(r"references = \[[^\]]*\]\n", "", toml)


def _with_references(toml: str, value: str) -> str:
    return _without_references(toml) + f"references = {value}\n"


@pytest.mark.parametrize("control", CATALOG, ids=[c.id for c in CATALOG])
def test_every_rule_cites_microsofts_pages(control: Control) -> None:
    """Every control names the pages its rule rests on: distinct https URLs, Microsoft's own documentation, or the
    AKS team's own repository where retirements and releases are announced (github.com/Azure/AKS), or the upstream
    Kubernetes documentation for what Kubernetes itself defines (a PodDisruptionBudget's semantics)."""
    assert control.references, control.id
    assert any(url.startswith("https://learn.microsoft.com/") for url in control.references), control.id
    for url in control.references:
        assert url.startswith(
            (
                "https://learn.microsoft.com/",
                "https://docs.microsoft.com/",
                "https://github.com/Azure/AKS/",
                "https://kubernetes.io/docs/",
            )
        ), url


def test_bad_metadata_is_refused(tmp_path: Path) -> None:
    source = queries_dir() / "controls"
    for name, edit, complaint in [
        ("AKS-XXX-01", lambda t: t, "must match the file name"),
        ("AKS-VER-04", lambda t: t + 'frameworks = ["PCI"]\n', "queries/frameworks"),
        ("AKS-VER-04", lambda t: t.replace("{pool}", "{poool}"), "unknown placeholder"),
        ("AKS-VER-04", lambda t: t.replace('evidence = ["cluster"]', "evidence = []"), "evidence"),
        ("AKS-VER-04", lambda t: t.replace('severity = "high"', 'severity = "urgent"'), "severity"),
        ("AKS-VER-04", lambda t: _without_references(t), "lacks references"),
        ("AKS-VER-04", lambda t: _with_references(t, "[]"), "'references' must be a non-empty list"),
        ("AKS-VER-04", lambda t: _with_references(t, '["http://learn.microsoft.com/x"]'), "https URLs"),
        ("AKS-VER-04", lambda t: _with_references(t, '["learn.microsoft.com/x"]'), "https URLs"),
        ("AKS-VER-04", lambda t: _with_references(t, '"https://learn.microsoft.com/x"'), "https URLs"),
        ("AKS-VER-04", lambda t: _with_references(t, '["https://a.example/x", "https://a.example/x"]'), "distinct"),
        ("AKS-VER-04", lambda t: t.replace('level = "pool"', 'level = "subscription"'), "unknown placeholder"),
    ]:
        target = tmp_path / f"{name}.toml"
        target.write_text(edit((source / "AKS-VER-04.toml").read_text(encoding="utf-8")), encoding="utf-8")
        (tmp_path / f"{name}.sql").write_text((source / "AKS-VER-04.sql").read_text(encoding="utf-8"))
        with pytest.raises(AuditorError) as raised:
            _load_control(target)
        if complaint:
            assert complaint in str(raised.value)
        target.unlink()


def test_docs_describe_every_control() -> None:
    """docs/controls.md has a section per control with its title, remediation template, frameworks and sources."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "controls.md").read_text(encoding="utf-8")
    for control in CATALOG:
        heading = f"## {control.id} — {control.title}"
        assert heading in doc, heading
        section = doc.split(heading, 1)[1].split("\n## ", 1)[0]
        assert control.remediation in section, control.id
        for reference in control.frameworks:
            assert reference in section, (control.id, reference)
        for url in control.references:
            assert url in section, (control.id, url)


def test_a_remediation_never_shows_a_placeholder() -> None:
    """A value the evidence lacks leaves its option out and says so in a trailing comment; names are quoted; a pool
    known only by its place in agentPoolProfiles has no name to use."""
    by_id = {c.id: c for c in CATALOG}
    upgrade = by_id["AKS-VER-03"]
    assert (
        upgrade.remediation_for("rg1", "c1", None, "1.33.2")
        == "az aks upgrade -g rg1 -n c1 --kubernetes-version 1.33.2"
    )
    assert upgrade.remediation_for("rg1", "c1", None, None) == (
        "az aks upgrade -g rg1 -n c1  # --kubernetes-version omitted: the evidence gives no target to name"
    )
    pool = by_id["AKS-IMG-01"]
    assert pool.remediation_for("rg 1", "c1", "agentPoolProfiles[2]", None) == (
        "az aks nodepool upgrade -g 'rg 1' --cluster-name c1 --node-image-only  # -n omitted: the pool has no name "
        "in the evidence"
    )
    # A variant (picked by the target) follows the same rules; a value glued to its placeholder goes with it.
    os_support = by_id["AKS-OS-01"]
    assert os_support.remediation_for("rg1", "c1", "win", "Windows2022") == (
        "az aks nodepool add -g rg1 --cluster-name c1 -n win2 --os-type Windows --os-sku Windows2022"
    )
    assert os_support.remediation_for("rg1", "c1", "agentPoolProfiles[1]", "Windows2022") == (
        "az aks nodepool add -g rg1 --cluster-name c1 --os-type Windows --os-sku Windows2022  # -n omitted: the pool "
        "has no name in the evidence"
    )
    for control in CATALOG:
        targets = [None, *(target for target, _ in control.remediation_variants)]
        missing = [("", "", None), ("rg", "c", "agentPoolProfiles[0]")]
        for values in [(rg, c, p, t) for rg, c, p in missing for t in targets]:
            command = control.remediation_for(*values)
            for placeholder in ("RG", "NAME", "POOL", "VERSION", "FLEET"):
                assert not re.search(rf"\b{placeholder}\b", command), (control.id, command)
            # Nor any other stand-in to fill by hand (CLUSTER, RESOURCE_GROUP, DAY, HH:MM) in the command itself.
            assert not re.search(r"\b[A-Z][A-Z_]+\b|HH:MM", command.split("  #")[0]), (control.id, command)
            assert not re.search(r"(?<!\{)\{[a-z_]+\}(?!\})", command), (control.id, command)


def test_auditor_controls_lists_each_controls_sources() -> None:
    """`auditor controls` shows the references: a list per control in JSON, one unwrapped line per URL in the table
    (a URL must survive copy and paste)."""
    import json

    from click.testing import CliRunner

    from auditor.cli import cli

    result = CliRunner().invoke(cli, ["controls", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {c["id"]: c["references"] for c in json.loads(result.output)["controls"]}
    assert listed == {c.id: list(c.references) for c in CATALOG}
    result = CliRunner().invoke(cli, ["controls"], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for control in CATALOG:
        for url in control.references:
            assert f"  {control.id}  {url}" in lines, (control.id, url)


def test_a_control_that_gives_no_message_is_never_a_silent_pass(tmp_path: Path) -> None:
    """Should a control's SQL yield a NULL message (a value it concatenates was missing), the finding says so and a
    pass becomes unknown: findings.json always has a message, and missing evidence is never a pass."""
    from dataclasses import replace

    scan_id = store_scan(tmp_path / "a.duckdb", [cluster("c1")])
    sloppy = replace(
        CATALOG[0],
        sql="SELECT cluster_id AS resource_id, NULL AS node_pool, 'pass' AS status, NULL AS message, "
        "'x' AS evidence, NULL AS target FROM clusters",
    )
    con = open_db(tmp_path / "a.duckdb")
    try:
        (finding,) = evaluate_scan(con, scan_id, default_policy(), controls=(sloppy,))
    finally:
        con.close()
    assert finding.status == "unknown"
    assert finding.message == f"{sloppy.id} gave no message for this resource: a value it reads is missing"
    assert finding.cluster == "c1"


# Controls that may still repeat a condition in two CASE expressions, each with the reason it is allowed to.
REPEATS_ALLOWED: dict[str, str] = {
    "AKS-OS-01": "another change reworks its SQL for speed at the same time; it names its facts after that lands",
}


def _bare(node: object) -> object:
    """A parse tree node without its position, alias and table qualifiers: equal conditions compare equal wherever
    they stand (`p.failing > 0` in one CTE is `failing > 0` in the next)."""
    if isinstance(node, dict) and node.get("class") == "COLUMN_REF":
        names = node["column_names"]
        assert isinstance(names, list)
        return {"class": "COLUMN_REF", "type": "COLUMN_REF", "column_names": names[-1:]}
    if isinstance(node, dict):
        return {k: _bare(v) for k, v in node.items() if k not in ("query_location", "query_location_length", "alias")}
    if isinstance(node, list):
        return [_bare(v) for v in node]
    return node


def _nodes(node: object) -> list[dict[str, object]]:
    """Every expression node of a parse tree, depth first."""
    found: list[dict[str, object]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _as_sql(expression: object) -> str:
    """A parse tree expression written back as SQL (json_deserialize_sql of `SELECT <expression>`)."""
    import json

    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute("SELECT json_serialize_sql('SELECT 1')").fetchone()
        assert row is not None
        tree = json.loads(row[0])
        tree["statements"][0]["node"]["select_list"] = [expression]
        written = con.execute("SELECT json_deserialize_sql($tree::JSON)", {"tree": json.dumps(tree)}).fetchone()
    finally:
        con.close()
    assert written is not None
    return str(written[0]).removeprefix("SELECT ")


def _repeated_conditions(sql: str) -> list[str]:
    """Conditions (a CASE's WHEN or any comparison, conjunction or operator inside it) found in two CASE expressions.

    Two tests may recur, as they are how a decided status builds its message: a named fact used as it is
    (`bluegreen`, `NOT collected`), and the decided value compared with constants (`status = 'fail'`,
    `reason IN ('quiet', 'none')`). Anything else (`x IS NULL`, `n > 0`, `a > b`) is a condition: decide it once and
    name it.
    """
    import json

    import duckdb

    def named_fact(expr: dict[str, object]) -> bool:
        if expr.get("class") == "COLUMN_REF":
            return True
        children = expr.get("children")
        if expr.get("type") == "OPERATOR_NOT" and isinstance(children, list) and len(children) == 1:
            return bool(children[0].get("class") == "COLUMN_REF")
        nodes = _nodes(expr)
        columns = [n["column_names"] for n in nodes if n.get("class") == "COLUMN_REF"]
        plain = {"COLUMN_REF", "CONSTANT", "COMPARISON", "OPERATOR"}
        decided = len(columns) == 1 and isinstance(columns[0], list) and columns[0][-1] in ("status", "reason")
        return decided and {str(n["class"]) for n in nodes if "class" in n} <= plain

    con = duckdb.connect()
    try:
        row = con.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
    finally:
        con.close()
    assert row is not None
    tree = json.loads(row[0])
    assert not tree["error"], tree
    cases_of: dict[str, set[int]] = {}
    cases = [n for n in _nodes(tree) if n.get("class") == "CASE"]
    for number, case in enumerate(cases):
        checks = case["case_checks"]
        assert isinstance(checks, list)
        for check in checks:
            condition = check["when_expr"]
            parts = [condition] + [
                n for n in _nodes(condition) if n.get("class") in ("CONJUNCTION", "COMPARISON", "OPERATOR", "BETWEEN")
            ]
            for part in parts:
                if not named_fact(part):
                    cases_of.setdefault(json.dumps(_bare(part), sort_keys=True), set()).add(number)
    return sorted(_as_sql(json.loads(key)) for key, numbers in cases_of.items() if len(numbers) > 1)


def test_no_control_repeats_a_condition_in_two_case_expressions() -> None:
    """Each control decides its status once (a CTE) and builds the message from that status and named facts
    (AKS-SRG-01 is the model): a condition written in two CASE expressions can drift apart."""
    repeating = {c.id: _repeated_conditions(c.sql) for c in CATALOG}
    assert {cid: found for cid, found in repeating.items() if found and cid not in REPEATS_ALLOWED} == {}
    # The allowance only shrinks: a control that no longer repeats leaves the list.
    assert [cid for cid in REPEATS_ALLOWED if not repeating[cid]] == []


def test_the_repeat_check_finds_a_condition_written_twice() -> None:
    twice = (
        "SELECT CASE WHEN a > b THEN 'fail' ELSE 'pass' END AS status, "
        "CASE WHEN a > b AND c THEN 'too many' WHEN d THEN 'd' END AS message FROM t"
    )
    assert len(_repeated_conditions(twice)) == 1
    once = (
        "WITH decided AS (SELECT *, CASE WHEN a > b THEN 'fail' WHEN NOT c THEN 'warn' ELSE 'pass' END AS status "
        "FROM t) SELECT status, CASE WHEN status = 'fail' AND c THEN 'too many' WHEN status = 'fail' THEN 'x' "
        "WHEN NOT c THEN 'no c' END FROM decided"
    )
    assert _repeated_conditions(once) == []
    # A single fact tested the same way twice is a condition too: name it.
    assert _repeated_conditions("SELECT CASE WHEN n > 0 THEN 1 END, CASE WHEN n > 0 THEN 'some' END FROM t") == [
        "(n > 0)"
    ]
