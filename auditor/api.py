"""The library: one noun over a store of scans (docs/library.md).

`auditor.open(path)` gives a `Store` that owns the store's DuckDB connection; its methods scan, list, resolve,
evaluate, report, trend, verify and export, and return small typed results. The library never prints and never
exits: what a command shows (warnings, problems, notes) comes back as data, and the command line prints it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import duckdb

from auditor import sql
from auditor.collect import AzureClients, ScanOptions, credential_from_environment, run_scan
from auditor.collect.kubernetes import KubernetesClients
from auditor.controls import Control, Finding, control_ids, load_catalog
from auditor.controls import evaluate as evaluate_controls
from auditor.errors import AuditorError, InputError, StoreError
from auditor.export import ExportResult, export_parquet
from auditor.ledger import LedgerUpdate, rebuild_ledger, record_scan
from auditor.maintenance_calendar import MaintenanceCalendar, calendar_of_scan
from auditor.model import Model
from auditor.paths import output_directory
from auditor.period import Period, build_period, trend_and_period
from auditor.policy import THRESHOLDS, Policy
from auditor.policy import load_policy as load_policy_file
from auditor.policy_check import PolicyCheck
from auditor.policy_check import check_policy as check_policy_file
from auditor.preflight import PreflightResult, run_preflight
from auditor.report import RENDERERS, build_report
from auditor.report.attestation import write_attestation
from auditor.report.manifest import write_manifest
from auditor.report.period import PERIOD_PDF, write_period_reports
from auditor.signing import SigningKey, sign_pdf
from auditor.store import (
    DEFAULT_DB,
    Scan,
    ScanRecord,
    check_creatable,
    list_scans,
    open_db,
    resolve_scan,
    scan_scopes,
    unreadable_store,
    write_scan,
)
from auditor.timeline import history_timeline
from auditor.trend import Trend
from auditor.verify.manifest import VerifyResult
from auditor.verify.pdf import verify_pdf, verify_with_signatures
from auditor.vocabulary import ProgressHook, Severity, Status

if TYPE_CHECKING:
    from cryptography import x509


__all__ = [
    "DEFAULT_DB",
    "CatalogListing",
    "Completeness",
    "Evaluation",
    "FindingFilter",
    "ReportOutcome",
    "ScanOutcome",
    "ScanRequest",
    "Store",
    "ThresholdInfo",
    "Timeline",
    "TrendResult",
    "catalog_listing",
    "check_policy",
    "load_policy",
    "open",
    "preflight",
]

P = ParamSpec("P")
R = TypeVar("R")

# How many uncovered subscriptions a scan's summary names; the report's Population reconciliation lists them all.
GAPS_SHOWN = 20


# ------------------------------------------------------------------------------------------- module functions


def load_policy(path: Path | None) -> Policy:
    """The policy file at path (the built-in defaults for None), its waivers checked against the catalog's ids."""
    return load_policy_file(path, known_controls=control_ids())


def check_policy(path: Path, *, today: date | None = None) -> PolicyCheck:
    """Validate a policy file: what a reviewer should know about it, or a PolicyError naming the line."""
    return check_policy_file(path, known_controls=control_ids(), today=today)


@dataclass(frozen=True)
class ThresholdInfo:
    """One policy threshold: its name, the value in effect and what it means."""

    name: str
    value: Any
    meaning: str


@dataclass(frozen=True)
class CatalogListing:
    """The control catalog with the thresholds a policy puts in effect."""

    controls: tuple[Control, ...]
    thresholds: tuple[ThresholdInfo, ...]
    policy_source: str

    def as_json(self) -> dict[str, Any]:
        """What `auditor controls --format json` prints."""
        return {
            "controls": [
                {
                    "id": c.id,
                    "title": c.title,
                    "level": c.level,
                    "severity": c.severity,
                    "rule": c.rule,
                    "evidence": list(c.evidence),
                    "remediation": c.remediation,
                    "frameworks": list(c.frameworks),
                    "references": list(c.references),
                }
                for c in self.controls
            ],
            "thresholds": {t.name: t.value for t in self.thresholds},
        }


def catalog_listing(policy: Policy) -> CatalogListing:
    """The catalog and the thresholds `policy` puts in effect, in the catalog's and the threshold table's order."""
    thresholds = tuple(
        ThresholdInfo(name, policy.thresholds[name], meaning) for name, (_, _, meaning) in THRESHOLDS.items()
    )
    return CatalogListing(load_catalog(), thresholds, policy.source)


def preflight(
    cluster_id: str,
    *,
    pool: str | None = None,
    target: str | None = None,
    endpoint: str | None = None,
    ca_bundle: str | None = None,
    cloud: str = "AzureCloud",
    credential: Any = None,
) -> PreflightResult:
    """The live gate before one upgrade step (auditor/preflight.py); a bad id or version is an InputError."""

    return run_preflight(
        cluster_id, pool=pool, target=target, endpoint=endpoint, ca_bundle=ca_bundle, cloud=cloud, credential=credential
    )


def open(path: Path | str = DEFAULT_DB, *, read_only: bool = False, create: bool = False) -> Store:  # noqa: A001
    """Open the store at path (a context manager) and check it: a missing, foreign or newer store fails here, in one
    line. `create` lets a missing store be created by the first scan; `read_only` lets other readers in."""
    store = Store(Path(path), read_only=read_only, create=create)
    store.check()
    return store


# ---------------------------------------------------------------------------------------------- typed results


@dataclass(frozen=True)
class ScanRequest:
    """What to collect: the scope (every readable subscription when both lists are empty) and how."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()
    endpoint: str | None = None
    ca_bundle: str | None = None
    cloud: str = "AzureCloud"
    concurrency: int = 16
    all_pool_profiles: bool = False
    kubernetes: bool = False
    kubeconfig: str | None = None


@dataclass(frozen=True)
class ScanOutcome:
    """What a committed scan reports back."""

    scan_id: str
    status: str  # 'complete' | 'partial'
    clusters: int
    subscriptions: int
    calls: Mapping[str, int]
    retries: int
    errors: int
    seconds: float
    # One line per subscription in scope whose clusters are not all in the evidence (auditor/collect/coverage.py).
    coverage_gaps: tuple[str, ...]
    subscriptions_in_scope: int | None
    ledger: LedgerUpdate | None  # None when the ledger update failed (ledger_error says why)
    ledger_error: str | None
    stats: Mapping[str, Any] = field(repr=False)

    @property
    def partial(self) -> bool:
        return self.status != "complete"


@dataclass(frozen=True)
class Completeness:
    """Whether a stored scan holds what a gate needs: every source collected, and at least one cluster."""

    scan_id: str
    status: str
    clusters: int
    errors: Mapping[str, int]  # collection errors per call

    @property
    def problem(self) -> str | None:
        """Why findings of this scan cannot be trusted to be whole, in one line; None when they can."""
        if self.status == "partial":
            calls = ", ".join(f"{call} {count}" for call, count in self.errors.items())
            total = sum(self.errors.values())
            return (
                f"scan {self.scan_id} is partial: {total} collection error(s) ({calls}); findings that needed the "
                "missing evidence are unknown, and clusters Azure did not return are not judged at all"
            )
        if self.clusters == 0:
            return f"scan {self.scan_id} holds no cluster: there was nothing to judge"
        return None


@dataclass(frozen=True)
class GateVerdict:
    """What the --fail-on gate decides over a scan's findings; the command line turns it into an exit code."""

    fail_on: Severity
    worst: Severity | None  # the highest severity among the failing (unwaived) findings
    incomplete: str | None  # why the scan cannot be trusted to be whole (Completeness.problem)
    allow_partial: bool

    @property
    def threshold_met(self) -> bool:
        """A failing finding has the gate's severity or a higher one."""
        return self.worst is not None and self.worst >= self.fail_on

    @property
    def blocked_by_missing_evidence(self) -> bool:
        """The gate cannot pass on a partial or empty scan, unless the caller allows it."""
        return self.incomplete is not None and not self.allow_partial


def gate(fail_on: Severity, worst: Severity | None, completeness: Completeness, *, allow_partial: bool) -> GateVerdict:
    """The --fail-on gate over one scan's worst failing severity and its completeness."""
    return GateVerdict(fail_on, worst, completeness.problem, allow_partial)


@dataclass(frozen=True)
class FindingFilter:
    """Which findings to keep: every given set must match (an empty set keeps all)."""

    statuses: frozenset[Status] = frozenset()
    controls: frozenset[str] = frozenset()
    subscriptions: frozenset[str] = frozenset()  # ids or display names, lower case

    @classmethod
    def parse(
        cls, statuses: Iterable[str] = (), controls: Iterable[str] = (), subscriptions: Iterable[str] = ()
    ) -> FindingFilter:
        """From the command line's words (any case); an unknown status or control id is an InputError that lists
        the valid ones."""
        statuses, controls = list(statuses), list(controls)
        known_status = [s.value for s in Status]
        unknown = [s for s in statuses if s.strip().lower() not in known_status]
        if unknown:
            raise InputError(f"unknown --status {', '.join(map(repr, unknown))}: choose from {', '.join(known_status)}")
        known = [c.id for c in load_catalog()]
        unknown = [c for c in controls if c.strip().upper() not in known]
        if unknown:
            raise InputError(f"unknown --control {', '.join(map(repr, unknown))}: choose from {', '.join(known)}")
        return cls(
            frozenset(Status(s.strip().lower()) for s in statuses),
            frozenset(c.strip().upper() for c in controls),
            frozenset(s.strip().lower() for s in subscriptions),
        )

    def matches(self, finding: Finding) -> bool:
        return (
            (not self.statuses or finding.status in self.statuses)
            and (not self.controls or finding.control_id in self.controls)
            and (
                not self.subscriptions
                or finding.subscription_id in self.subscriptions
                or finding.subscription_name.lower() in self.subscriptions
            )
        )


class Evaluation:
    """One scan's findings under a policy, held in DuckDB on the scan's Model until read (a context manager: the
    model and its tables are released on close), and the subscriptions in its scope (id -> name)."""

    def __init__(self, scan: Scan, policy: Policy, model: Model) -> None:
        self.scan = scan
        self.policy = policy
        self._model = model
        self._evaluation = evaluate_controls(model)
        # What --subscription may name: the model's subscriptions, those the scan was asked for, those findings name.
        names = dict(sql.run(model.cursor, "library/subscription_names.sql").rows)
        for sid in scan.scope.get("subscriptions") or []:
            names.setdefault(str(sid).lower(), "")
        for sid, name in sql.run(model.cursor, "library/finding_subscriptions.sql").rows:
            names.setdefault(sid, name)
        self.subscriptions: Mapping[str, str] = dict(sorted(names.items()))

    def __enter__(self) -> Evaluation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the model's tables and the findings; reading after this is an error."""
        self._model.close()

    def findings(self, where: FindingFilter | None = None) -> list[Finding]:
        """The findings in canonical order, those `where` keeps; a subscription the scan does not cover is an
        InputError listing the ones it does."""
        if where is None:
            return list(self._evaluation.findings())
        if where.subscriptions:
            valid = set(self.subscriptions) | {n.lower() for n in self.subscriptions.values() if n}
            unknown = sorted(s for s in where.subscriptions if s not in valid)
            if unknown:
                listed = [f"{sid} ({name})" if name else sid for sid, name in self.subscriptions.items()]
                shown = ", ".join(listed[:20]) + (f" and {len(listed) - 20} more" if len(listed) > 20 else "")
                raise InputError(
                    f"unknown --subscription {', '.join(map(repr, unknown))}: the scan covers "
                    f"{shown or 'no subscription'}"
                )
        return [f for f in self._evaluation.findings() if where.matches(f)]

    def counts(self) -> dict[str, dict[Status, int]]:
        """Findings per control and status (every status present, zero included), controls in canonical order."""
        tally: dict[str, dict[Status, int]] = {}
        for control_id, status, count in sql.run(self._model.cursor, "library/counts_by_control.sql").rows:
            tally.setdefault(control_id, dict.fromkeys(Status, 0))[Status(status)] = int(count)
        return tally

    def worst_failing(self, where: FindingFilter | None = None) -> Severity | None:
        """The highest severity among the failing (unwaived) findings `where` keeps; None when none fails."""
        if where is None:
            worst = self._evaluation.worst_failing()
            return Severity(worst) if worst is not None else None
        failing = [Severity(f.severity) for f in self.findings(where) if f.status == Status.FAIL]
        return max(failing, default=None)


@dataclass(frozen=True)
class ReportOutcome:
    """The files a report wrote: the renderers' files, then (for one scan's report) its manifest and attestation."""

    paths: tuple[Path, ...]
    manifest: Path | None = None
    attestation: Path | None = None

    @property
    def written(self) -> tuple[Path, ...]:
        """Every file, in the order written."""
        return self.paths + tuple(p for p in (self.manifest, self.attestation) if p is not None)


@dataclass(frozen=True)
class TrendResult:
    """The trend of one scope's scans, and the period's figures over the same days when asked for."""

    trend: Trend
    period: Period | None


@dataclass(frozen=True)
class Timeline:
    """The upgrade events of the ledger as of one scan, and what a rebuild of the ledger did."""

    scan_id: str
    events: tuple[dict[str, Any], ...]
    rebuilt: LedgerUpdate | None

    @property
    def clusters(self) -> int:
        """How many clusters the events are of."""
        return len({e["cluster_id"] for e in self.events})


# -------------------------------------------------------------------------------------------------- the store


def _store_errors(method: Callable[P, R]) -> Callable[P, R]:
    """A DuckDB error inside the store becomes a StoreError in one line naming the store."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except duckdb.Error as exc:
            store = args[0]
            path = store.path if isinstance(store, Store) else "the database"
            raise StoreError(unreadable_store(path, exc)) from exc

    return wrapper


class Store:
    """A store of scans (one DuckDB file). Holds at most one connection, opened by `open()` or on first use; a step
    that must not hold the file (collecting a scan) or that opens it itself releases the connection first."""

    def __init__(self, path: Path, *, read_only: bool = False, create: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.create = create
        self._con: duckdb.DuckDBPyConnection | None = None

    def check(self) -> None:
        """Open the store now (a missing, foreign or newer store fails here, in one line); for a store the first
        scan will create, check that it could."""
        if self.create and not self.path.exists():
            check_creatable(self.path)
        else:
            self._connection()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection (the Store opens it again if used after this)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = open_db(self.path, read_only=self.read_only, create=self.create)
        return self._con

    def _shaped_connection(self) -> duckdb.DuckDBPyConnection:
        """The connection with queries/shape/ loaded: the library queries read the cluster evidence through it."""
        con = self._connection()
        sql.run_all(con, sql.files("shape"))
        return con

    # ------------------------------------------------------------------------------------------ scans

    @_store_errors
    def scan(
        self,
        request: ScanRequest,
        *,
        credential: Any = None,
        progress: ProgressHook | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> ScanOutcome:
        """Collect a scan and commit it whole, then fold it into the upgrade ledger; with `request.kubernetes`,
        also read inside every cluster a context of the kubeconfig reaches.

        The store is held only twice, briefly: to check it before any call is made (a bad store fails first), and
        to commit. Readers work while the scan collects; a scan that fails before its commit leaves no new file.
        """

        if self.read_only:
            raise AuditorError(f"{self.path} is open read-only: a scan needs it writable")
        # An unusable kubeconfig is a one-line error before anything is opened or called.
        kube = KubernetesClients.from_kubeconfig(request.kubeconfig) if request.kubernetes else None
        existed = self.path.exists()
        if existed:
            self._connection()  # checks the schema, migrates it forward
        else:
            check_creatable(self.path)
        self.close()  # not held while collecting
        clients = AzureClients(
            credential or credential_from_environment(),
            cloud=request.cloud,
            endpoint=request.endpoint,
            ca_bundle=request.ca_bundle,
        )
        clients.check_credential()
        options = ScanOptions(
            subscriptions=request.subscriptions,
            management_groups=request.management_groups,
            concurrency=request.concurrency,
            all_pool_profiles=request.all_pool_profiles,
        )
        if clock is not None:
            options.clock = clock
        record = run_scan(clients, options, progress=progress, kubernetes=kube)
        try:
            con = open_db(self.path, create=True)
        except BaseException:
            record.discard()
            raise
        self._con = con
        try:
            write_scan(con, record)
        except BaseException:
            self.close()
            if not existed:
                remove_store_files(self.path)  # this scan created the file and committed nothing into it
            raise
        # The upgrade ledger, in its own transaction right after the scan committed. The scan is already safe: a
        # failure here is a warning, not an error (the next update catches up; evaluation folds the scan itself).
        ledger = record_scan(con)
        return _outcome(record, self._coverage_gaps(record), ledger.update, ledger.problem)

    def _coverage_gaps(self, record: ScanRecord) -> tuple[str, ...]:
        """A line per uncovered subscription; where clusters went missing unseen, how many an earlier scan of this
        store saw there (the identity cannot count them any more)."""
        gaps = []
        for row in record.coverage:
            if row.status == "complete":
                continue
            line = row.note
            if row.status in ("forbidden", "not_listed") and not row.graph_clusters:
                earlier = sql.run(
                    self._shaped_connection(),
                    "library/earlier_clusters.sql",
                    subscription_id=row.subscription_id,
                    before=record.started_at.replace(tzinfo=None),
                ).rows
                if earlier:
                    line += f"; the previous scan of this store ({earlier[0][0]}) saw {earlier[0][1]} cluster(s) there"
            gaps.append(line)
        return tuple(gaps)

    @_store_errors
    def scans(self, scope: str | None = None) -> list[Scan]:
        """Every committed scan, oldest first; with `scope`, those of the scope whose id starts with it."""
        con = self._connection()
        scans = list_scans(con)
        if scope is None:
            return scans
        scopes = scan_scopes(con, scans)
        return [s for s in scans if scopes[s.scan_id].scope_id.startswith(scope.strip().lower())]

    @_store_errors
    def resolve(self, selector: str = "latest") -> Scan:
        """The scan named by id (or a unique id prefix), or the newest one for 'latest'."""
        return resolve_scan(self._connection(), selector)

    @_store_errors
    def completeness(self, scan: Scan) -> Completeness:
        """Whether the scan is complete and holds a cluster."""
        clusters, errors = sql.run(self._shaped_connection(), "library/completeness.sql", scan_id=scan.scan_id).one()
        return Completeness(scan.scan_id, scan.status, int(clusters), {e["call"]: int(e["errors"]) for e in errors})

    # ---------------------------------------------------------------------------------------- findings

    @_store_errors
    def evaluate(self, scan: Scan, policy: Policy) -> Evaluation:
        """Every control over the scan, waivers applied; the findings stay in DuckDB until read, so use the result
        as a context manager (closing it, or the store, releases them)."""
        model = Model(self._connection(), scan.scan_id, policy)
        try:
            return Evaluation(scan, policy, model)
        except BaseException:
            model.close()
            raise

    # ----------------------------------------------------------------------------------------- reports

    @_store_errors
    def report(
        self,
        scan: Scan,
        policy: Policy,
        formats: Sequence[str],
        out_dir: Path,
        *,
        sign_key: SigningKey | None = None,
    ) -> ReportOutcome:
        """Render the chosen formats of one scan's report into out_dir, sign the PDF when a key is given, then write
        report-manifest.json and report.intoto.json (a DSSE envelope when signed) beside them."""

        # The report keeps the scan's model (its findings in DuckDB) until every renderer has read them.
        with build_report(self._connection(), scan.scan_id, policy) as data:
            output_directory(out_dir)
            paths = [RENDERERS[name](data, out_dir) for name in formats]
            if sign_key is not None and "pdf" in formats:
                reason = f"aks-upgrade-auditor report of scan {data.scan.scan_id}"
                sign_pdf(paths[list(formats).index("pdf")], sign_key, reason=reason)
            manifest = write_manifest(data, out_dir, paths)
            return ReportOutcome(tuple(paths), manifest, write_attestation(data, manifest, sign_key))

    @_store_errors
    def period_report(
        self,
        start: date | None,
        end: date | None,
        policy: Policy,
        formats: Sequence[str],
        out_dir: Path,
        *,
        scope: str | None = None,
        sign_key: SigningKey | None = None,
        progress: ProgressHook | None = None,
    ) -> ReportOutcome:
        """The period report of every scan of one scope (`scope`, or the newest scan's up to `end`) between start
        and end (docs/period.md): the chosen formats (pdf, html, csv) and period.json; the PDF signed when a key
        is given."""

        period = build_period(self._connection(), policy, start=start, end=end, scope=scope, progress=progress)
        output_directory(out_dir)
        paths = write_period_reports(period, list(formats), out_dir)
        if sign_key is not None and "pdf" in formats:
            reason = f"aks-upgrade-auditor period report {period.start} to {period.end}"
            sign_pdf(out_dir / PERIOD_PDF, sign_key, reason=reason)
        return ReportOutcome(tuple(paths))

    # ----------------------------------------------------------------------------------- across scans

    @_store_errors
    def trend(
        self,
        policy: Policy,
        *,
        since: date | None = None,
        until: date | None = None,
        scope: str | None = None,
        details: bool = True,
        with_period: bool = True,
        progress: ProgressHook | None = None,
    ) -> TrendResult:
        """The trend of one scope's scans from `since` to `until` (docs/trend.md), and with `with_period` the
        period's figures over the same days (docs/period.md)."""

        trend, period = trend_and_period(
            self._connection(),
            policy,
            since=since,
            until=until,
            scope=scope,
            progress=progress,
            details=details,
            with_period=with_period,
        )
        return TrendResult(trend, period)

    @_store_errors
    def timeline(self, scan: Scan, policy: Policy, *, cluster: str | None = None, rebuild: bool = False) -> Timeline:
        """The upgrade timeline from the ledger as of the scan (one cluster's, by name or ARM id, when given);
        with `rebuild`, the ledger is rebuilt from every stored scan first."""

        self.close()  # history_timeline opens the store itself
        scan_id, events, rebuilt = history_timeline(
            self.path, policy, scan_selector=scan.scan_id, cluster=cluster, rebuild=rebuild
        )
        return Timeline(scan_id, tuple(events), rebuilt)

    @_store_errors
    def rebuild_ledger(self) -> LedgerUpdate:
        """Empty the upgrade ledger and fold every scan again."""

        return rebuild_ledger(self._connection())

    @_store_errors
    def calendar(self, scan: Scan, policy: Policy, start: datetime, weeks: int) -> MaintenanceCalendar:
        """Maintenance windows, freezes and expected node-image releases of the scan over `weeks` from `start`;
        configurations that could not be expanded are in its `problems`."""

        self.close()  # calendar_of_scan opens the store itself
        return calendar_of_scan(self.path, scan.scan_id, policy, start, weeks)

    @_store_errors
    def export(self, out_dir: Path, policy: Policy, *, progress: ProgressHook | None = None) -> ExportResult:
        """Every table as Parquet under out_dir, partitioned by scan date; what was written, and notes."""

        self.close()  # export_parquet opens the store itself
        return export_parquet(self.path, out_dir, policy, progress=progress)

    # ------------------------------------------------------------------------------------------ verify

    @_store_errors
    def verify(
        self,
        manifest: Path,
        *,
        scan: str | None = None,
        policy_path: Path | None = None,
        trust_anchors: Sequence[x509.Certificate] = (),
    ) -> VerifyResult:
        """Recompute a report's digests from the store; check its files, the PDF's seal and signatures and the
        attestation beside the manifest."""

        self.close()  # verification opens the store itself
        return verify_with_signatures(
            self.path, manifest, scan_selector=scan, policy_path=policy_path, trust_anchors=list(trust_anchors)
        )

    @_store_errors
    def verify_pdf(
        self, pdf: Path, *, scan: str | None = None, trust_anchors: Sequence[x509.Certificate] = ()
    ) -> VerifyResult:
        """Verify a PDF report on its own: its seal, signatures and attachments, the digests they state
        recomputed from the store."""

        self.close()
        return verify_pdf(self.path, pdf, scan_selector=scan, trust_anchors=list(trust_anchors))


def _outcome(
    record: ScanRecord, gaps: tuple[str, ...], ledger: LedgerUpdate | None, ledger_error: str | None
) -> ScanOutcome:
    stats = record.stats
    coverage = stats.get("coverage") or {}
    in_scope = coverage.get("in_scope")
    return ScanOutcome(
        scan_id=record.scan_id,
        status=record.status,
        clusters=int(stats.get("clusters", 0)),
        subscriptions=int(stats.get("subscriptions", 0)),
        calls=dict(stats.get("calls", {})),
        retries=sum(stats.get("retries", {}).values()),
        errors=len(record.errors),
        seconds=stats.get("seconds", 0),
        coverage_gaps=gaps,
        subscriptions_in_scope=int(in_scope) if in_scope is not None else None,
        ledger=ledger,
        ledger_error=ledger_error,
        stats=stats,
    )


def remove_store_files(db_path: Path) -> None:
    """Remove a store file and its write-ahead log."""
    db_path.unlink(missing_ok=True)
    db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
