"""What the commands do, as library functions: scan, evaluate, report, demo. The CLI only parses and exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from auditor.controls import Finding, control_ids, evaluate, load_catalog
from auditor.errors import AuditorError, InputError
from auditor.model import Model
from auditor.paths import output_directory
from auditor.policy import THRESHOLDS, Policy, load_policy
from auditor.signing import SigningKey
from auditor.store import check_creatable, open_db, resolve_scan, write_scan

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


@dataclass
class ScanResult:
    """What a committed scan reports back."""

    scan_id: str
    status: str
    stats: dict[str, Any]
    errors: int
    # One line per subscription whose clusters are not all in the evidence (auditor/collect/coverage.py).
    coverage_gaps: list[str] = field(default_factory=list)

    def summary(self) -> str:
        calls = ", ".join(f"{kind} {n}" for kind, n in self.stats.get("calls", {}).items())
        retries = sum(self.stats.get("retries", {}).values())
        line = (
            f"scan {self.scan_id} {self.status}: {self.stats.get('clusters', 0)} clusters in "
            f"{self.stats.get('subscriptions', 0)} subscriptions; calls: {calls}; retries {retries}; "
            f"errors {self.errors}; {self.stats.get('seconds', 0)} s"
        )
        if self.status == "partial":
            line += "\nwarning: the scan is partial: controls that needed the missing evidence report unknown"
        if self.coverage_gaps:
            coverage = self.stats.get("coverage", {})
            line += (
                f"\nwarning: the population is not proven complete: {len(self.coverage_gaps)} of "
                f"{coverage.get('in_scope', '?')} subscriptions in scope not covered"
            )
            shown = self.coverage_gaps[:GAPS_SHOWN]
            line += "".join(f"\n  {gap}" for gap in shown)
            if len(self.coverage_gaps) > len(shown):
                line += f"\n  and {len(self.coverage_gaps) - len(shown)} more (the report's Population reconciliation)"
        return line


GAPS_SHOWN = 20


def _coverage_gaps(con: Any, record: Any) -> list[str]:
    """A line per uncovered subscription; where clusters went missing unseen, how many an earlier scan of this
    store saw there (the identity cannot count them any more)."""
    gaps = []
    for row in record.coverage:
        if row.status == "complete":
            continue
        line = row.note
        if row.status in ("forbidden", "not_listed") and not row.graph_clusters:
            earlier = con.execute(
                "SELECT s.scan_id, count(*) FROM evidence e JOIN scans s USING (scan_id) "
                "WHERE e.kind = 'cluster' AND lower(e.payload->>'$.subscriptionId') = ? AND s.started_at < ? "
                "GROUP BY s.scan_id, s.started_at ORDER BY s.started_at DESC, s.scan_id DESC LIMIT 1",
                [row.subscription_id, record.started_at.replace(tzinfo=None)],
            ).fetchone()
            if earlier:
                line += f"; the previous scan of this store ({earlier[0]}) saw {earlier[1]} cluster(s) there"
        gaps.append(line)
    return gaps


def scan_and_store(
    db_path: Path,
    *,
    subscriptions: Sequence[str] = (),
    management_groups: Sequence[str] = (),
    endpoint: str | None = None,
    ca_bundle: str | None = None,
    cloud: str = "AzureCloud",
    concurrency: int = 16,
    all_pool_profiles: bool = False,
    show_progress: bool = False,
    clock: Any = None,
    credential: Any = None,
    kubernetes: bool = False,
    kubeconfig: str | None = None,
) -> ScanResult:
    """Collect a scan and commit it whole to the database; with `kubernetes`, also read inside every cluster a
    context of the kubeconfig (default: $KUBECONFIG or ~/.kube/config) reaches.

    The store is held only twice, briefly: to check it before any call is made (a bad store fails first), and to
    commit. Readers (`findings`, `trend`, `report`) work while the scan collects; a scan that fails before its
    commit leaves no new file behind.
    """
    from auditor.collect import AzureClients, ScanOptions, credential_from_environment, run_scan
    from auditor.collect.kubernetes import KubernetesClients

    # An unusable kubeconfig is a one-line error before anything is opened or called.
    kube = KubernetesClients.from_kubeconfig(kubeconfig) if kubernetes else None
    existed = db_path.exists()
    if existed:
        open_db(db_path).close()  # checks the schema, migrates it forward
    else:
        check_creatable(db_path)
    clients = AzureClients(
        credential or credential_from_environment(), cloud=cloud, endpoint=endpoint, ca_bundle=ca_bundle
    )
    clients.check_credential()
    options = ScanOptions(
        subscriptions=subscriptions,
        management_groups=management_groups,
        concurrency=concurrency,
        all_pool_profiles=all_pool_profiles,
    )
    if clock is not None:
        options.clock = clock
    if show_progress:
        from auditor.progress import rich_progress

        with rich_progress() as hook:
            record = run_scan(clients, options, progress=hook, kubernetes=kube)
    else:
        record = run_scan(clients, options, kubernetes=kube)
    try:
        con = open_db(db_path, create=True)
    except BaseException:
        record.discard()
        raise
    try:
        write_scan(con, record)
    except BaseException:
        con.close()
        if not existed:
            _remove_store_files(db_path)  # this scan created the file and committed nothing into it
        raise
    try:
        # The upgrade ledger, in its own transaction right after the scan committed (auditor/ledger.py).
        from auditor.ledger import record_scan

        record_scan(con)
        return ScanResult(record.scan_id, record.status, record.stats, len(record.errors), _coverage_gaps(con, record))
    finally:
        con.close()


@dataclass(frozen=True)
class ScanCompleteness:
    """Whether a stored scan holds what a gate needs: every source collected, and at least one cluster."""

    scan_id: str
    status: str
    clusters: int
    errors: dict[str, int]  # collection errors per call

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


def scan_completeness(db_path: Path, scan_selector: str) -> ScanCompleteness:
    """Resolve a scan and tell whether it is complete."""
    con = open_db(db_path, read_only=True)
    try:
        scan = resolve_scan(con, scan_selector)
        clusters = con.execute(
            "SELECT count(*) FROM evidence WHERE scan_id = ? AND kind = 'cluster'", [scan.scan_id]
        ).fetchone()
        errors = con.execute(
            "SELECT call, count(*) FROM collection_errors WHERE scan_id = ? GROUP BY call ORDER BY call",
            [scan.scan_id],
        ).fetchall()
    finally:
        con.close()
    return ScanCompleteness(scan.scan_id, scan.status, int(clusters[0]) if clusters else 0, dict(errors))


def warn_policy(policy: Policy) -> None:
    """A valid policy's warnings (a fleet-wide waiver with a far expiry), on stderr."""
    for warning in policy.warnings:
        print(f"warning: {warning}", file=sys.stderr)


@dataclass
class ScanFindings:
    """One scan's findings under a policy, and the subscriptions in its scope (id -> display name)."""

    scan_id: str
    findings: list[Finding]
    subscriptions: dict[str, str]


def evaluate_scan(db_path: Path, scan_selector: str, policy_path: Path | None) -> ScanFindings:
    """Findings of one scan under a policy."""
    policy = load_policy(policy_path, known_controls=control_ids())
    warn_policy(policy)
    con = open_db(db_path, read_only=True)
    try:
        scan = resolve_scan(con, scan_selector)
        with Model(con, scan.scan_id, policy) as model:
            findings = list(evaluate(model).findings())
            names = dict(
                model.cursor.execute("SELECT subscription_id, coalesce(display_name, '') FROM subscriptions").fetchall()
            )
    finally:
        con.close()
    for sid in scan.scope.get("subscriptions") or []:
        names.setdefault(str(sid).lower(), "")
    for f in findings:
        if f.subscription_id:
            names.setdefault(f.subscription_id, f.subscription_name)
    return ScanFindings(scan.scan_id, findings, dict(sorted(names.items())))


def check_filters(statuses: Sequence[str], control_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """The --status and --control values normalised (case-insensitive); an unknown one is an InputError that
    lists the valid values."""
    from auditor.controls import STATUSES

    wanted_status = [s.strip().lower() for s in statuses]
    unknown = [s for s, w in zip(statuses, wanted_status, strict=True) if w not in STATUSES]
    if unknown:
        raise InputError(f"unknown --status {', '.join(map(repr, unknown))}: choose from {', '.join(STATUSES)}")
    known = [c.id for c in load_catalog()]
    wanted_control = [c.strip().upper() for c in control_ids]
    unknown = [c for c, w in zip(control_ids, wanted_control, strict=True) if w not in known]
    if unknown:
        raise InputError(f"unknown --control {', '.join(map(repr, unknown))}: choose from {', '.join(known)}")
    return wanted_status, wanted_control


def filter_findings(
    findings: Iterable[Finding],
    *,
    statuses: Sequence[str] = (),
    control_ids: Sequence[str] = (),
    subscriptions: Sequence[str] = (),
    known_subscriptions: dict[str, str] | None = None,
) -> list[Finding]:
    """Keep the findings matching every given filter (case-insensitive). Statuses and control ids must be known;
    subscriptions (ids or display names) must be in `known_subscriptions` when it is given."""
    wanted_status, wanted_control = check_filters(statuses, control_ids)
    wanted_sub = {s.strip().lower() for s in subscriptions}
    if known_subscriptions is not None and wanted_sub:
        valid = set(known_subscriptions) | {n.lower() for n in known_subscriptions.values() if n}
        unknown = [s for s in subscriptions if s.strip().lower() not in valid]
        if unknown:
            listed = [f"{sid} ({name})" if name else sid for sid, name in known_subscriptions.items()]
            shown = ", ".join(listed[:20]) + (f" and {len(listed) - 20} more" if len(listed) > 20 else "")
            raise InputError(
                f"unknown --subscription {', '.join(map(repr, unknown))}: the scan covers {shown or 'no subscription'}"
            )
    return [
        f
        for f in findings
        if (not wanted_status or f.status in wanted_status)
        and (not wanted_control or f.control_id in wanted_control)
        and (not wanted_sub or f.subscription_id in wanted_sub or f.subscription_name.lower() in wanted_sub)
    ]


def threshold_met(findings: Iterable[Finding], severity: str) -> bool:
    """True when a failing, unwaived finding has `severity` or higher."""
    floor = SEVERITY_ORDER.index(severity)
    return any(f.status == "fail" and SEVERITY_ORDER.index(f.severity) >= floor for f in findings)


def print_findings_table(findings: list[Finding]) -> None:
    """Findings as a table on stdout; a cluster name that repeats shows its subscription."""
    from rich.markup import escape
    from rich.table import Table

    from auditor.safetext import one_line
    from auditor.terminal import cluster_labels, stdout_console

    def cell(text: str) -> str:
        # Untrusted names and messages: rich markup is not interpreted, and line breaks, NUL, ESC and bidirectional
        # overrides are shown as escapes, so no cell can add rows, recolour or reorder the terminal.
        return escape(one_line(text))

    labels = cluster_labels(
        (f.resource_id, f.cluster, f.subscription_name or f.subscription_id, f.resource_group)
        for f in findings
        if f.cluster
    )
    table = Table(show_lines=False)
    for column in ("Control", "Status", "Severity", "Cluster", "Pool", "Message"):
        table.add_column(column, overflow="fold")
    for f in findings:
        cluster = labels.get(f.resource_id.lower(), f.cluster)
        table.add_row(f.control_id, f.status, f.severity, cell(cluster), cell(f.node_pool or ""), cell(f.message))
    stdout_console().print(table)


def write_reports(
    db_path: Path,
    scan_selector: str,
    policy_path: Path | None,
    formats: Sequence[str],
    out_dir: Path,
    *,
    sign_key: SigningKey | None = None,
) -> list[Path]:
    """Render the chosen formats of one scan's report into out_dir, sign the PDF when a key is given, then
    write report-manifest.json and report.intoto.json (a DSSE envelope when signed) beside them."""
    from auditor.report import RENDERERS, build_report
    from auditor.report.attestation import write_attestation
    from auditor.report.manifest import write_manifest

    policy = load_policy(policy_path, known_controls=control_ids())
    warn_policy(policy)
    con = open_db(db_path)
    try:
        data = build_report(con, scan_selector, policy)
    finally:
        con.close()
    output_directory(out_dir)
    paths = [RENDERERS[name](data, out_dir) for name in formats]
    if sign_key is not None and "pdf" in formats:
        from auditor.signing import sign_pdf

        sign_pdf(
            paths[list(formats).index("pdf")],
            sign_key,
            reason=f"aks-upgrade-auditor report of scan {data.scan.scan_id}",
        )
    manifest = write_manifest(data, out_dir, paths)
    return [*paths, manifest, write_attestation(data, manifest, sign_key)]


def write_period_reports(
    db_path: Path,
    start: date | None,
    end: date | None,
    policy_path: Path | None,
    formats: Sequence[str],
    out_dir: Path,
    *,
    scope: str | None = None,
    sign_key: SigningKey | None = None,
    progress: Any = None,
) -> list[Path]:
    """Render the period report of every scan of one scope (`scope`, or the newest scan's up to `end`) between
    start and end (docs/period.md): the chosen formats (pdf, html, csv) and period.json; the PDF signed when a key
    is given."""
    from auditor.period import build_period
    from auditor.report.period import PERIOD_PDF
    from auditor.report.period import write_period_reports as render

    policy = load_policy(policy_path, known_controls=control_ids())
    con = open_db(db_path)
    try:
        period = build_period(con, policy, start=start, end=end, scope=scope, progress=progress)
    finally:
        con.close()
    output_directory(out_dir)
    paths = render(period, list(formats), out_dir)
    if sign_key is not None and "pdf" in formats:
        from auditor.signing import sign_pdf

        sign_pdf(
            out_dir / PERIOD_PDF, sign_key, reason=f"aks-upgrade-auditor period report {period.start} to {period.end}"
        )
    return paths


def print_catalog(policy_path: Path | None, output_format: str) -> None:
    """The catalog with the thresholds in effect."""
    policy = load_policy(policy_path, known_controls=control_ids())
    catalog = load_catalog()
    if output_format == "json":
        payload = {
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
                for c in catalog
            ],
            "thresholds": policy.thresholds,
        }
        print(json.dumps(payload, indent=2))
        return
    from rich.table import Table

    from auditor.terminal import stdout_console

    console = stdout_console()
    table = Table(title="Controls")
    for column in ("ID", "Level", "Severity", "Title"):
        table.add_column(column)
    for c in catalog:
        table.add_row(c.id, c.level, c.severity, c.title)
    console.print(table)
    # One line per source, never wrapped: a URL must survive copy and paste.
    console.print("Sources (the pages each rule rests on):", markup=False, highlight=False)
    for c in catalog:
        for url in c.references:
            console.print(f"  {c.id}  {url}", soft_wrap=True, markup=False, highlight=False)
    thresholds = Table(title=f"Thresholds in effect ({policy.source})")
    for column in ("Threshold", "Value", "Meaning"):
        thresholds.add_column(column)
    for name, (_, _, meaning) in THRESHOLDS.items():
        thresholds.add_row(name, json.dumps(policy.thresholds[name]), meaning)
    console.print(thresholds)


def write_calendar(
    db_path: Path,
    scan_selector: str,
    policy_path: Path | None,
    weeks: int,
    start_day: Any,
    output_format: str,
    out_path: Path | None,
) -> Path | None:
    """The maintenance calendar of a scan as ics, table or json: to out_path (returned), or to stdout."""
    from datetime import UTC, datetime

    from auditor.maintenance_calendar import calendar_of_scan, print_table, to_ical, to_json

    start = (
        datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
        if start_day is not None
        else datetime.now(UTC).replace(second=0, microsecond=0)
    )
    policy = load_policy(policy_path, known_controls=control_ids())
    calendar = calendar_of_scan(db_path, scan_selector, policy, start, weeks)
    if output_format == "ics":
        payload = to_ical(calendar)
    elif output_format == "json":
        payload = (to_json(calendar) + "\n").encode()
    elif out_path is not None:
        import io

        buffer = io.StringIO()
        print_table(calendar, buffer)
        payload = buffer.getvalue().encode()
    else:
        print_table(calendar)
        payload = b""
    for problem in calendar.problems:
        print(f"warning: {problem['cluster']}/{problem['configuration']}: {problem['problem']}", file=sys.stderr)
    if out_path is not None:
        output_directory(out_path.parent)
        out_path.write_bytes(payload)
        return out_path
    if payload:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    return None


def generate_fleet_file(out_path: Path, *, clusters: int, subscriptions: int, regions: int, seed: int) -> Path:
    """Write a generated fleet to a JSON file."""
    from auditor.emulator.generator import generate_fleet, write_fleet

    fleet = generate_fleet(clusters=clusters, subscriptions=subscriptions, seed=seed, regions=regions, kubernetes=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_fleet(fleet, out_path)
    return out_path


def serve_emulator(
    fleet_path: Path | None,
    *,
    port: int,
    state_dir: Path,
    latency_ms: float | None,
    quotas: bool,
    forbidden: Sequence[str],
    error_rate: float | None,
    **faults: Any,
) -> None:
    """Run the emulator in the foreground until interrupted."""
    from auditor.emulator import serve_forever

    serve_forever(
        fleet_path,
        port=port,
        state_dir=state_dir,
        latency_ms=latency_ms,
        quotas=quotas,
        forbidden=forbidden,
        error_rate=error_rate,
        **faults,
    )


DEMO_REPORTS = ("pdf", "html", "csv", "json")
DEMO_WARMUP_MONTHS = 3


DEMO_DB_NAME = "demo.duckdb"
DEMO_ORIGIN = "demo"  # auditor_meta 'origin' of a store `auditor demo` created, and may therefore replace


def run_demo(
    out_dir: Path,
    *,
    clusters: int,
    subscriptions: int,
    seed: int,
    quiet: bool,
    months: int = 6,
    formats: Sequence[str] = DEMO_REPORTS,
) -> list[Path]:
    """Generate a fleet, let it evolve month by month, serve each month with the emulator and scan it (the
    last scan today), then write the reports of the latest scan, drift section included, and the period
    report over the months scanned.

    The demo keeps its scans in a store of its own, out_dir/demo.duckdb, never in `scan`'s default store. It is
    built beside under a temporary name and moved into place only once whole, and it replaces only a store that
    an earlier demo created (marked so in auditor_meta): a store holding anyone else's scans is never touched.
    """
    import os
    import time
    from datetime import UTC, datetime, timedelta

    from auditor.emulator import EmulatorServer
    from auditor.emulator.evolve import evolve_fleet, month_steps
    from auditor.emulator.generator import generate_fleet
    from auditor.emulator.workloads import kubernetes_sections

    output_directory(out_dir)
    db_path = out_dir / DEMO_DB_NAME
    _check_demo_database(db_path)
    building = out_dir / f".{DEMO_DB_NAME}.building-{os.getpid()}"
    _remove_store_files(building)
    now = datetime.now(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    # The generated fleet lives a few unseen months first, so the scanned history starts from a fleet already
    # shaped by its owners' habits rather than by the generator's draw.
    start = month_steps(today, months + DEMO_WARMUP_MONTHS, end=today)[0]
    base = generate_fleet(clusters=clusters, subscriptions=subscriptions, seed=seed, as_of=start)
    history = evolve_fleet(base, months + DEMO_WARMUP_MONTHS, seed, end=today)[DEMO_WARMUP_MONTHS:]
    from auditor.collect.clients import StaticTokenCredential

    demo_credential = StaticTokenCredential("demo-token")  # the emulator accepts any bearer token
    results: list[ScanResult] = []
    try:
        for number, (moment, fleet) in enumerate(history, start=1):
            clock = None
            if number < len(history):
                # Each month's scan runs at this time of day; the last one runs now.
                began, scan_start = time.monotonic(), moment + (now - today)

                def clock(began: float = began, scan_start: datetime = scan_start) -> datetime:
                    return scan_start + timedelta(seconds=time.monotonic() - began)

            # What runs inside each cluster this month (evolution carries the ARM side only): the demo scans with
            # --kubernetes against the emulator's API servers, through the kubeconfig the emulator writes. Every
            # context is granted, so blocking PDBs and node drift show, not access faults (tests cover those).
            fleet["kubernetes"] = kubernetes_sections(fleet["managedClusters"], seed, access_faults=False)
            with EmulatorServer(fleet, state_dir=out_dir / "emulator") as server:
                result = scan_and_store(
                    building,
                    endpoint=server.endpoint,
                    ca_bundle=str(server.ca_file),
                    show_progress=not quiet and sys.stderr.isatty(),
                    clock=clock,
                    credential=demo_credential,
                    kubernetes=True,
                    kubeconfig=str(server.kubeconfig_file),
                )
            results.append(result)
            if not quiet:
                print(f"month {number}/{len(history)} ({moment:%Y-%m-%d}): {result.summary()}", file=sys.stderr)
        _mark_demo_database(building)
        _check_demo_database(db_path)  # again: another process may have put a store there meanwhile
        _remove_store_files(db_path)
        os.replace(building, db_path)
    finally:
        _remove_store_files(building)
    if not quiet and any(r.status != "complete" for r in results):
        print("warning: a demo scan is partial", file=sys.stderr)
    paths = write_reports(db_path, results[-1].scan_id, None, list(formats), out_dir)
    if not paths:
        raise AuditorError("the demo wrote no report")
    # The period report over the months scanned (docs/period.md): patch latency, compliance shares, exceptions.
    first_day = history[0][0].date()
    paths += write_period_reports(db_path, first_day, today.date(), None, list(formats), out_dir)
    paths.append(_demo_calendar(db_path, results[-1].scan_id, out_dir))
    paths.append(_demo_preflight(history[-1][1], out_dir, quiet=quiet, credential=demo_credential))
    return paths


def _remove_store_files(db_path: Path) -> None:
    db_path.unlink(missing_ok=True)
    db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)


def _demo_calendar(db_path: Path, scan_id: str, out_dir: Path) -> Path:
    """The latest scan's maintenance calendar for the next eight weeks, as output/maintenance.ics."""
    from datetime import UTC, datetime

    from auditor.maintenance_calendar import calendar_of_scan, to_ical
    from auditor.policy import default_policy

    start = datetime.now(UTC).replace(second=0, microsecond=0)
    path = out_dir / "maintenance.ics"
    path.write_bytes(to_ical(calendar_of_scan(db_path, scan_id, default_policy(), start, 8)))
    return path


def _demo_preflight(fleet: dict[str, Any], out_dir: Path, *, quiet: bool, credential: Any) -> Path:
    """Three upgrade gates against the demo fleet served by the emulator, one cluster caught mid-upgrade:
    a User pool while its System pool still upgrades (blocked), a control plane with an available target (allowed),
    and a User pool of that cluster before its control plane moved (blocked). Written to output/preflight.json."""
    from auditor.collect.clients import AzureClients
    from auditor.emulator import EmulatorServer
    from auditor.emulator.scenarios import mid_upgrade
    from auditor.preflight import read_cluster, run_preflight

    def modes(cluster: dict[str, Any]) -> set[str]:
        return {str(p.get("mode", "User")) for p in cluster.get("properties", {}).get("agentPoolProfiles", [])}

    candidates = [
        c
        for c in sorted(fleet["managedClusters"], key=lambda c: c["id"].lower())
        if {"System", "User"} <= modes(c)
        and c.get("properties", {}).get("provisioningState") == "Succeeded"
        and c.get("properties", {}).get("powerState", {}).get("code", "Running") == "Running"
    ]
    path = out_dir / "preflight.json"
    gates: list[dict[str, Any]] = []
    with EmulatorServer(fleet, state_dir=out_dir / "emulator") as server:
        clients = AzureClients(credential, endpoint=server.endpoint, ca_bundle=str(server.ca_file))
        targets: dict[str, str] = {}
        for cluster in candidates:
            profile = read_cluster(clients, cluster["id"])["profile"].get("properties", {})
            upgrades = sorted(
                (str(u["kubernetesVersion"]) for u in profile.get("controlPlaneProfile", {}).get("upgrades", [])),
                key=lambda v: tuple(int(p) for p in v.split(".")),
            )
            if upgrades:
                targets[cluster["id"]] = upgrades[0]
            if len(targets) == 2:
                break
    if len(targets) < 2:
        # A fleet this small has nothing to show: say so in the file rather than invent a cluster.
        note = "the demo fleet has no two running clusters with System and User pools and an available upgrade"
        path.write_text(json.dumps({"gates": [], "note": note}, indent=2) + "\n", encoding="utf-8")
        return path
    (busy, busy_target), (idle, idle_target) = list(targets.items())
    user_pool = {
        c["id"]: next(p["name"] for p in c["properties"]["agentPoolProfiles"] if p.get("mode") == "User")
        for c in candidates
        if c["id"] in targets
    }
    caught = mid_upgrade(fleet, busy, "system-pools", busy_target)
    with EmulatorServer(caught, state_dir=out_dir / "emulator") as server:
        for cluster_id, pool, target in (
            (busy, user_pool[busy], None),
            (idle, None, idle_target),
            (idle, user_pool[idle], idle_target),
        ):
            result = run_preflight(
                cluster_id,
                pool=pool,
                target=target,
                endpoint=server.endpoint,
                ca_bundle=str(server.ca_file),
                credential=credential,
            )
            gates.append(result.as_dict())
            if not quiet:
                print(
                    f"preflight {cluster_id.split('/')[-1]} {pool or 'control plane'}: {result.verdict()}",
                    file=sys.stderr,
                )
    path.write_text(json.dumps({"gates": gates}, indent=2) + "\n", encoding="utf-8")
    return path


def _mark_demo_database(db_path: Path) -> None:
    con = open_db(db_path)
    try:
        con.execute("INSERT OR REPLACE INTO auditor_meta VALUES ('origin', ?)", [DEMO_ORIGIN])
    finally:
        con.close()


def _check_demo_database(db_path: Path) -> None:
    """Refuse to go on when db_path exists and is not a store an earlier demo created."""
    import duckdb

    if not db_path.exists():
        return
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            row = con.execute("SELECT value FROM auditor_meta WHERE key = 'origin'").fetchone()
        finally:
            con.close()
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:200]
        raise AuditorError(
            f"{db_path} exists and is not a demo store ({detail}): the demo will not replace it; choose another --out"
        ) from exc
    if not row or row[0] != DEMO_ORIGIN:
        raise AuditorError(
            f"{db_path} exists and was not created by `auditor demo`: the demo will not replace it; "
            "choose another --out"
        )
