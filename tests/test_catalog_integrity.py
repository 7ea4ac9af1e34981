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
    _load_control,
    evaluate,
    load_catalog,
    load_frameworks,
)
from auditor.errors import AuditorError
from auditor.paths import queries_dir
from auditor.policy import THRESHOLDS, default_policy
from auditor.store import open_db
from tests.evidence import store_scan

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
        for control in CATALOG:
            assert evaluate(con, scan_id, default_policy(), controls=(control,)) == []
            con.execute(control.sql)
            assert [d[0] for d in con.description or []] == RESULT_COLUMNS, control.id
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


def test_references_are_https_pages() -> None:
    """Controls that cite their sources list https URLs; the calendar's controls must cite Microsoft's pages."""
    for control in CATALOG:
        assert all(r.startswith("https://") for r in control.references), control.id
    for control_id in ("AKS-WIN-04", "AKS-WIN-05", "AKS-WIN-06", "AKS-RNG-02"):
        control = next(c for c in CATALOG if c.id == control_id)
        assert control.references, control_id
        assert all(r.startswith("https://learn.microsoft.com/") for r in control.references), control_id


def test_bad_metadata_is_refused(tmp_path: Path) -> None:
    source = queries_dir() / "controls"
    for name, edit, complaint in [
        ("AKS-XXX-01", lambda t: t, "must match the file name"),
        ("AKS-VER-04", lambda t: t + 'frameworks = ["PCI"]\n', "queries/frameworks"),
        ("AKS-VER-04", lambda t: t.replace("{pool}", "{poool}"), "unknown placeholder"),
        ("AKS-VER-04", lambda t: t.replace('evidence = ["cluster"]', "evidence = []"), "evidence"),
        ("AKS-VER-04", lambda t: t.replace('severity = "high"', 'severity = "urgent"'), "severity"),
        ("AKS-VER-04", lambda t: t + 'references = ["http://example.com"]\n', "https URLs"),
        ("AKS-VER-04", lambda t: t + "references = []\n", "https URLs"),
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
    """docs/controls.md has a section per control with its title, remediation template and frameworks."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "controls.md").read_text(encoding="utf-8")
    for control in CATALOG:
        heading = f"## {control.id} — {control.title}"
        assert heading in doc, heading
        section = doc.split(heading, 1)[1].split("\n## ", 1)[0]
        assert control.remediation in section, control.id
        for reference in control.frameworks:
            assert reference in section, (control.id, reference)
