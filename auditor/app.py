"""What the commands do, as library functions: scan, evaluate, report, demo. The CLI only parses and exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from auditor.controls import Finding, evaluate, load_catalog
from auditor.errors import AuditorError
from auditor.paths import output_directory
from auditor.policy import THRESHOLDS, load_policy
from auditor.signing import SigningKey
from auditor.store import open_db, resolve_scan, write_scan

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


@dataclass
class ScanResult:
    """What a committed scan reports back."""

    scan_id: str
    status: str
    stats: dict[str, Any]
    errors: int

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
        return line


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
) -> ScanResult:
    """Collect a scan and commit it whole to the database."""
    from auditor.collect import AzureClients, ScanOptions, credential_from_environment, run_scan

    # Open (and migrate) the store first: a bad database fails before any call is made.
    con = open_db(db_path, create=True)
    try:
        clients = AzureClients(
            credential or credential_from_environment(), cloud=cloud, endpoint=endpoint, ca_bundle=ca_bundle
        )
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
                record = run_scan(clients, options, progress=hook)
        else:
            record = run_scan(clients, options)
        write_scan(con, record)
        # The upgrade ledger, in its own transaction right after the scan committed (auditor/history.py).
        from auditor.history import record_scan

        record_scan(con)
        return ScanResult(record.scan_id, record.status, record.stats, len(record.errors))
    finally:
        con.close()


def evaluate_scan(db_path: Path, scan_selector: str, policy_path: Path | None) -> list[Finding]:
    """Findings of one scan under a policy."""
    policy = load_policy(policy_path)
    con = open_db(db_path)
    try:
        scan = resolve_scan(con, scan_selector)
        return evaluate(con, scan.scan_id, policy)
    finally:
        con.close()


def filter_findings(
    findings: Iterable[Finding],
    *,
    statuses: Sequence[str] = (),
    control_ids: Sequence[str] = (),
    subscriptions: Sequence[str] = (),
) -> list[Finding]:
    """Keep the findings matching every given filter (case-insensitive)."""
    wanted_status = {s.lower() for s in statuses}
    wanted_control = {c.upper() for c in control_ids}
    wanted_sub = {s.lower() for s in subscriptions}
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
    """Findings as a table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("Control", "Status", "Severity", "Cluster", "Pool", "Message"):
        table.add_column(column, overflow="fold")
    for f in findings:
        # rich markup in untrusted names must not be interpreted: pass plain Text via escape.
        from rich.markup import escape

        table.add_row(
            f.control_id, f.status, f.severity, escape(f.cluster), escape(f.node_pool or ""), escape(f.message)
        )
    Console(file=sys.stdout, soft_wrap=False).print(table)


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

    policy = load_policy(policy_path)
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
    sign_key: SigningKey | None = None,
    progress: Any = None,
) -> list[Path]:
    """Render the period report of every scan of one scope between start and end (docs/period.md): the chosen
    formats (pdf, html, csv) and period.json; the PDF signed when a key is given."""
    from auditor.period import build_period
    from auditor.report.period import PERIOD_PDF
    from auditor.report.period import write_period_reports as render

    policy = load_policy(policy_path)
    con = open_db(db_path)
    try:
        period = build_period(con, policy, start=start, end=end, progress=progress)
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
    policy = load_policy(policy_path)
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
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout)
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


def generate_fleet_file(out_path: Path, *, clusters: int, subscriptions: int, regions: int, seed: int) -> Path:
    """Write a generated fleet to a JSON file."""
    from auditor.emulator.generator import generate_fleet, write_fleet

    fleet = generate_fleet(clusters=clusters, subscriptions=subscriptions, seed=seed, regions=regions)
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

    The demo database (out_dir/auditor.duckdb) is replaced on each run, so the history is always `months`
    scans; a database holding scans of anything but the emulator is never replaced.
    """
    import time
    from datetime import UTC, datetime, timedelta

    from auditor.emulator import EmulatorServer
    from auditor.emulator.evolve import evolve_fleet, month_steps
    from auditor.emulator.generator import generate_fleet

    output_directory(out_dir)
    db_path = out_dir / "auditor.duckdb"
    _replace_demo_database(db_path)
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
    for number, (moment, fleet) in enumerate(history, start=1):
        clock = None
        if number < len(history):
            # Each month's scan runs at this time of day; the last one runs now.
            began, scan_start = time.monotonic(), moment + (now - today)

            def clock(began: float = began, scan_start: datetime = scan_start) -> datetime:
                return scan_start + timedelta(seconds=time.monotonic() - began)

        with EmulatorServer(fleet, state_dir=out_dir / "emulator") as server:
            result = scan_and_store(
                db_path,
                endpoint=server.endpoint,
                ca_bundle=str(server.ca_file),
                show_progress=not quiet and sys.stderr.isatty(),
                clock=clock,
                credential=demo_credential,
            )
        results.append(result)
        if not quiet:
            print(f"month {number}/{len(history)} ({moment:%Y-%m-%d}): {result.summary()}", file=sys.stderr)
    if not quiet and any(r.status != "complete" for r in results):
        print("warning: a demo scan is partial", file=sys.stderr)
    paths = write_reports(db_path, results[-1].scan_id, None, list(formats), out_dir)
    if not paths:
        raise AuditorError("the demo wrote no report")
    # The period report over the months scanned (docs/period.md): patch latency, compliance shares, exceptions.
    first_day = history[0][0].date()
    paths += write_period_reports(db_path, first_day, today.date(), None, list(formats), out_dir)
    return paths


def _replace_demo_database(db_path: Path) -> None:
    """Remove a previous demo database; refuse when it holds any scan that did not come from the emulator."""
    from urllib.parse import urlparse

    import duckdb

    if not db_path.exists():
        return
    try:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            endpoints = [row[0] for row in con.execute("SELECT DISTINCT endpoint FROM scans").fetchall()]
        finally:
            con.close()
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:200]
        raise AuditorError(
            f"{db_path} exists and is not a demo database ({detail}): the demo will not "
            "replace it; choose another --out"
        ) from exc
    loopback = ("127.0.0.1", "localhost", "::1")
    foreign = [e for e in endpoints if (urlparse(e).hostname or "") not in loopback]
    if foreign:
        raise AuditorError(
            f"{db_path} holds scans of {foreign[0]}, not only of the emulator: the demo will "
            "not replace it; choose another --out"
        )
    db_path.unlink()
    db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
