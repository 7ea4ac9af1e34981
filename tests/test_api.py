"""The library API (docs/library.md): every Store method against a real DuckDB store filled by real scans of the
emulator through the Azure SDK, typed results, and nothing printed by the library."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import auditor
from auditor import api
from auditor.collect.clients import StaticTokenCredential
from auditor.emulator import EmulatorServer
from auditor.emulator.generator import generate_fleet
from auditor.errors import InputError, StoreError
from auditor.export import ExportResult
from auditor.ledger import LedgerUpdate
from auditor.maintenance_calendar import MaintenanceCalendar
from auditor.policy import Policy
from auditor.preflight import PreflightResult
from auditor.store import Scan
from auditor.verify.manifest import VerifyResult
from auditor.vocabulary import Severity, Status
from tests.evidence import cluster, store_scan

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
FLEET = generate_fleet(clusters=6, subscriptions=2, seed=3, as_of=AS_OF)
CREDENTIAL = StaticTokenCredential("test-token")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def nothing_printed(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The library never prints: every test here leaves stdout and stderr empty."""
    yield
    out, err = capsys.readouterr()
    assert (out, err) == ("", ""), "the library printed"


def _scan(store: api.Store, server: EmulatorServer, moment: datetime) -> api.ScanOutcome:
    request = api.ScanRequest(endpoint=server.endpoint, ca_bundle=str(server.ca_file))
    return store.scan(request, credential=CREDENTIAL, clock=lambda: moment)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(FLEET) as server:
        yield server


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorServer) -> tuple[Path, list[api.ScanOutcome]]:
    """A store holding two scans of the fleet, a week apart."""
    db = tmp_path_factory.mktemp("api") / "store.duckdb"
    with api.open(db, create=True) as store:
        outcomes = [_scan(store, emulator, AS_OF - timedelta(days=7)), _scan(store, emulator, AS_OF)]
    return db, outcomes


def test_scan_returns_a_typed_outcome_and_commits_the_scan(tmp_path: Path, emulator: EmulatorServer) -> None:
    db = tmp_path / "new.duckdb"
    with api.open(db, create=True) as store:
        assert not db.exists()  # create: the first scan makes the file, not open()
        outcome = _scan(store, emulator, AS_OF)
        assert isinstance(outcome, api.ScanOutcome)
        assert outcome.status == "complete" and not outcome.partial
        assert outcome.clusters == len(FLEET["managedClusters"])
        assert outcome.subscriptions == len(FLEET["subscriptions"])
        assert outcome.errors == 0 and outcome.coverage_gaps == ()
        assert outcome.calls and all(isinstance(n, int) for n in outcome.calls.values())
        assert isinstance(outcome.ledger, LedgerUpdate) and outcome.ledger_error is None
        assert [s.scan_id for s in store.scans()] == [outcome.scan_id]


def test_scans_resolve_and_completeness(filled: tuple[Path, list[api.ScanOutcome]]) -> None:
    db, outcomes = filled
    with api.open(db, read_only=True) as store:
        scans = store.scans()
        assert [s.scan_id for s in scans] == [o.scan_id for o in outcomes]  # oldest first
        assert all(isinstance(s, Scan) for s in scans)
        assert store.resolve().scan_id == outcomes[-1].scan_id
        assert store.resolve(outcomes[0].scan_id[:12]).scan_id == outcomes[0].scan_id
        with pytest.raises(StoreError, match="no scan 'nope'"):
            store.resolve("nope")
        assert store.scans(scope="not-a-scope-id") == []
        complete = store.completeness(scans[-1])
        assert isinstance(complete, api.Completeness)
        assert (complete.clusters, dict(complete.errors), complete.problem) == (len(FLEET["managedClusters"]), {}, None)


def test_evaluate_gives_findings_counts_and_the_worst_failing_severity(
    filled: tuple[Path, list[api.ScanOutcome]],
) -> None:
    db, _ = filled
    with api.open(db, read_only=True) as store, store.evaluate(store.resolve(), api.load_policy(None)) as ev:
        findings = ev.findings()
        assert findings and {f.control_id for f in findings} == set(ev.counts())
        counts = ev.counts()
        assert all(set(per) == set(Status) for per in counts.values())
        assert sum(n for per in counts.values() for n in per.values()) == len(findings)
        failing = ev.findings(api.FindingFilter.parse(statuses=["FAIL"]))
        assert all(f.status == Status.FAIL for f in failing)
        worst = ev.worst_failing()
        assert worst == max((Severity(f.severity) for f in failing), default=None)
        assert worst is None or isinstance(worst, Severity)
        one = findings[0]
        by_control = ev.findings(api.FindingFilter.parse(controls=[one.control_id.lower()]))
        assert by_control and {f.control_id for f in by_control} == {one.control_id}
        sid, name = next(iter(ev.subscriptions.items()))
        by_name = ev.findings(api.FindingFilter.parse(subscriptions=[name.upper()]))
        assert by_name == ev.findings(api.FindingFilter.parse(subscriptions=[sid]))
        with pytest.raises(InputError, match="unknown --subscription 'elsewhere'"):
            ev.findings(api.FindingFilter.parse(subscriptions=["elsewhere"]))


def test_an_evaluation_keeps_its_findings_in_duckdb_until_closed(filled: tuple[Path, list[api.ScanOutcome]]) -> None:
    db, _ = filled
    with api.open(db, read_only=True) as store:
        scan = store.resolve()
        with store.evaluate(scan, api.load_policy(None)) as ev:
            first = ev.findings()
            # Read twice, the same findings: they are read from the evaluation's table, not consumed.
            assert ev.findings() == first
        with pytest.raises(duckdb.Error):  # the model's tables are gone once the evaluation is closed
            ev.findings()
        # A second evaluation of the same scan on the same store gives the same findings.
        with store.evaluate(scan, api.load_policy(None)) as again:
            assert again.findings() == first


def test_a_filter_typo_is_an_input_error_listing_the_valid_values() -> None:
    with pytest.raises(InputError, match="unknown --status 'failed': choose from pass, fail"):
        api.FindingFilter.parse(statuses=["failed"])
    with pytest.raises(InputError, match="unknown --control 'AKS-XXX-99': choose from AKS-"):
        api.FindingFilter.parse(controls=["AKS-XXX-99"])
    assert api.FindingFilter.parse(statuses=[" Waived "]).statuses == frozenset({Status.WAIVED})


def test_report_verify_and_verify_pdf(filled: tuple[Path, list[api.ScanOutcome]], tmp_path: Path) -> None:
    db, _ = filled
    out = tmp_path / "report"
    with api.open(db) as store:
        outcome = store.report(store.resolve(), api.load_policy(None), ["pdf", "json"], out)
        assert isinstance(outcome, api.ReportOutcome)
        assert [p.name for p in outcome.written] == [
            "report.pdf",
            "findings.json",
            "report-manifest.json",
            "report.intoto.json",
        ]
        assert all(p.is_file() for p in outcome.written)
        checked = store.verify(out / "report-manifest.json")
        assert isinstance(checked, VerifyResult) and checked.ok, checked.lines()
        from_pdf = store.verify_pdf(out / "report.pdf")
        assert isinstance(from_pdf, VerifyResult) and from_pdf.ok, from_pdf.lines()


def test_period_report_and_trend(filled: tuple[Path, list[api.ScanOutcome]], tmp_path: Path) -> None:
    db, outcomes = filled
    policy = api.load_policy(None)
    with api.open(db) as store:
        period = store.period_report(None, None, policy, ["csv"], tmp_path)
        assert isinstance(period, api.ReportOutcome) and period.manifest is None
        assert period.paths and all(p.is_file() for p in period.paths)
        result = store.trend(policy)
        assert isinstance(result, api.TrendResult)
        assert [e.scan.scan_id for e in result.trend.entries] == [o.scan_id for o in outcomes]
        assert result.period is not None
        assert store.trend(policy, with_period=False).period is None


def test_timeline_rebuild_and_calendar(filled: tuple[Path, list[api.ScanOutcome]]) -> None:
    db, outcomes = filled
    policy = api.load_policy(None)
    with api.open(db) as store:
        scan = store.resolve()
        timeline = store.timeline(scan, policy)
        assert isinstance(timeline, api.Timeline)
        assert timeline.scan_id == outcomes[-1].scan_id and timeline.rebuilt is None
        assert isinstance(timeline.events, tuple)
        rebuilt = store.timeline(scan, policy, rebuild=True).rebuilt
        assert isinstance(rebuilt, LedgerUpdate) and rebuilt.rebuilt and rebuilt.scans == len(outcomes)
        again = store.rebuild_ledger()
        assert (again.scans, again.new_events) == (rebuilt.scans, rebuilt.new_events)
        calendar = store.calendar(scan, policy, AS_OF, 2)
        assert isinstance(calendar, MaintenanceCalendar)
        assert calendar.start == AS_OF and calendar.until == AS_OF + timedelta(weeks=2)


def test_export(filled: tuple[Path, list[api.ScanOutcome]], tmp_path: Path) -> None:
    db, _ = filled
    with api.open(db) as store:
        result = store.export(tmp_path / "parquet", api.load_policy(None))
    assert isinstance(result, ExportResult)
    assert result.manifest is not None and result.manifest.is_file()
    assert result.tables["findings"]["rows"] > 0


def test_module_functions(emulator: EmulatorServer) -> None:
    policy = api.load_policy(ROOT / "examples" / "policy.toml")
    assert isinstance(policy, Policy)
    assert api.check_policy(ROOT / "examples" / "policy.toml").lines()
    listing = api.catalog_listing(policy)
    assert isinstance(listing, api.CatalogListing)
    assert [t.name for t in listing.thresholds] == list(policy.thresholds)
    assert listing.as_json()["thresholds"] == policy.thresholds
    cluster_id = FLEET["managedClusters"][0]["id"]
    gate = api.preflight(cluster_id, endpoint=emulator.endpoint, ca_bundle=str(emulator.ca_file), credential=CREDENTIAL)
    assert isinstance(gate, PreflightResult) and gate.checks
    with pytest.raises(InputError):
        api.preflight("not-an-id", endpoint=emulator.endpoint, ca_bundle=str(emulator.ca_file), credential=CREDENTIAL)


def test_a_store_that_cannot_be_used_fails_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at"):
        api.open(tmp_path / "missing.duckdb")
    foreign = tmp_path / "foreign.duckdb"
    foreign.write_bytes(b"not a database at all" * 1000)
    with pytest.raises(StoreError):
        api.open(foreign)
    # A store the first scan would create: open() leaves it alone; a read creates it empty.
    with api.open(tmp_path / "empty.duckdb", create=True) as store:
        store.check()
        with pytest.raises(StoreError, match="the database holds no scan yet"):
            store.resolve()


def test_the_package_facade_is_lazy() -> None:
    assert auditor.open is api.open and auditor.Store is api.Store and auditor.load_policy is api.load_policy
    code = (
        "import sys, auditor.emulator.server; "
        "print(sorted(m for m in ('weasyprint', 'auditor.api', 'duckdb') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"


def test_a_duckdb_error_inside_a_method_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    store_scan(db, [cluster("aks-one")])
    with api.open(db, read_only=True) as store, pytest.raises(StoreError, match="cannot use the database .*read-only"):
        store.trend(api.load_policy(None))  # the trend caches findings: a read-only store refuses the write


def test_the_worked_example_of_docs_library_md_runs(
    demo_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the example names examples/policy.toml relative to the repository
    text = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    example = text.split("```python\n")[1].split("```")[0]
    assert '"output/demo.duckdb"' in example
    namespace: dict[str, object] = {}
    exec(compile(example.replace('"output/demo.duckdb"', repr(str(demo_store))), "docs/library.md", "exec"), namespace)
    assert isinstance(namespace["gate_met"], bool) and namespace["problem"] is None
    printed = capsys.readouterr().out  # the example's own prints, not the library's
    assert printed.strip().splitlines()[-1].isdigit()
