"""Every piece of terminal output: tables, summaries and warnings, from the library's typed results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from auditor.api import GAPS_SHOWN, CatalogListing, ScanOutcome
from auditor.cli.terminal import cluster_labels, stdout_console
from auditor.controls import Finding, load_catalog
from auditor.ledger import LedgerUpdate
from auditor.maintenance_calendar import MaintenanceCalendar
from auditor.policy import Policy
from auditor.preflight import PreflightResult
from auditor.safetext import one_line
from auditor.timeline import describe_change, describe_target, describe_time, json_ready
from auditor.trend import Trend
from auditor.vocabulary import ArmId

# ---------------------------------------------------------------------------------------------------- scan


def scan_summary(outcome: ScanOutcome) -> str:
    """What a committed scan did, in a line, and what it lacks in the lines after."""
    calls = ", ".join(f"{kind} {n}" for kind, n in outcome.calls.items())
    line = (
        f"scan {outcome.scan_id} {outcome.status}: {outcome.clusters} clusters in {outcome.subscriptions} "
        f"subscriptions; calls: {calls}; retries {outcome.retries}; errors {outcome.errors}; {outcome.seconds} s"
    )
    if outcome.status == "partial":
        line += "\nwarning: the scan is partial: controls that needed the missing evidence report unknown"
    if outcome.coverage_gaps:
        in_scope = "?" if outcome.subscriptions_in_scope is None else outcome.subscriptions_in_scope
        line += (
            f"\nwarning: the population is not proven complete: {len(outcome.coverage_gaps)} of "
            f"{in_scope} subscriptions in scope not covered"
        )
        shown = outcome.coverage_gaps[:GAPS_SHOWN]
        line += "".join(f"\n  {gap}" for gap in shown)
        if len(outcome.coverage_gaps) > len(shown):
            line += f"\n  and {len(outcome.coverage_gaps) - len(shown)} more (the report's Population reconciliation)"
    return line


def ledger_warning(outcome: ScanOutcome) -> str | None:
    """The warning when the upgrade ledger could not be updated after the scan committed."""
    if outcome.ledger_error is None:
        return None
    return (
        f"warning: the upgrade ledger was not updated ({outcome.ledger_error}); the scan is stored and its findings "
        "are unaffected; `auditor history --rebuild` retries"
    )


def ledger_summary(update: LedgerUpdate) -> str:
    """What an update of the upgrade ledger did, in a line."""
    if not update.scans:
        return "upgrade ledger: up to date"
    verb = "rebuilt from" if update.rebuilt else "updated with"
    return (
        f"upgrade ledger {verb} {update.scans} scan(s): {update.new_events} new event(s), "
        f"{update.seen_events} seen again"
    )


def policy_warnings(policy: Policy) -> list[str]:
    """A valid policy's warnings (a fleet-wide waiver with a far expiry)."""
    return [f"warning: {warning}" for warning in policy.warnings]


# ------------------------------------------------------------------------------------------------ findings


def findings_table(findings: list[Finding]) -> None:
    """Findings as a table on stdout; a cluster name that repeats shows its subscription."""

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


# ------------------------------------------------------------------------------------------------- catalog


def catalog_tables(listing: CatalogListing) -> None:
    """The catalog, the pages each rule rests on, and the thresholds in effect."""
    console = stdout_console()
    table = Table(title="Controls")
    for column in ("ID", "Level", "Severity", "Title"):
        table.add_column(column)
    for c in listing.controls:
        table.add_row(c.id, c.level, c.severity, c.title)
    console.print(table)
    # One line per source, never wrapped: a URL must survive copy and paste.
    console.print("Sources (the pages each rule rests on):", markup=False, highlight=False)
    for c in listing.controls:
        for url in c.references:
            console.print(f"  {c.id}  {url}", soft_wrap=True, markup=False, highlight=False)
    thresholds = Table(title=f"Thresholds in effect ({listing.policy_source})")
    for column in ("Threshold", "Value", "Meaning"):
        thresholds.add_column(column)
    for t in listing.thresholds:
        thresholds.add_row(t.name, json.dumps(t.value), t.meaning)
    console.print(thresholds)


# ------------------------------------------------------------------------------------------------ timeline


def timeline(events: Iterable[dict[str, Any]], output_format: str, *, show_cluster: bool = True) -> None:
    """The timeline on stdout: a table (notes and references are in the JSON), or a JSON array."""
    events = list(events)
    if output_format == "json":
        print(json.dumps(json_ready(events), indent=2))
        return

    def part(resource_id: str, segment: str) -> str:
        try:
            return ArmId.parse(resource_id).get(segment)
        except (ValueError, KeyError):
            return ""

    labels = cluster_labels(
        (
            e["cluster_id"],
            str(e["cluster"]),
            part(e["cluster_id"], "subscriptions"),
            part(e["cluster_id"], "resourcegroups"),
        )
        for e in events
    )
    table = Table(show_lines=False)
    columns = ["When (UTC)", "Cluster", "Target", "Change", "Source", "Campaign"]
    if not show_cluster:
        columns.remove("Cluster")
    for column in columns:
        table.add_column(column, overflow="fold")
    for event in events:
        cells = [
            describe_time(event).replace("between ", "").replace(" and ", " .. "),
            labels.get(str(event["cluster_id"]).lower(), str(event["cluster"])),
            describe_target(event),
            f"{'node image' if event['kind'] == 'node-image' else 'kubernetes'} {describe_change(event)}",
            str(event["source"]),
            str(event.get("campaign") or ""),
        ]
        if not show_cluster:
            del cells[1]
        table.add_row(*(escape(c) for c in cells))
    stdout_console().print(table)


# --------------------------------------------------------------------------------------------------- trend


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def trend_tables(trend: Trend) -> None:
    """The trend as tables on stdout: one row per scan, then compliance per control across the scans."""
    # A terminal decides its width; a pipe or a file gets wide tables rather than folded cells.
    console = stdout_console()
    if trend.scope is not None:
        console.print(f"Scope: {trend.scope.label} (id {trend.scope.scope_id})", markup=False, highlight=False)
    if not trend.entries:
        console.print("No scan in the selection.")
        return
    partial = any(e.scan.status != "complete" for e in trend.entries)
    table = Table(title=f"Scans (policy: {trend.policy.source})", caption="* partial scan" if partial else None)
    table.add_column("Scan", no_wrap=True)
    table.add_column("Date", no_wrap=True)
    for column in ("Clusters", "Pools", "Score", "Fail", "New", "Fixed", "Img age p50/p90"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("Top minor", no_wrap=True)
    for e in trend.entries:
        top = e.top_minor or ("—", 0)
        table.add_row(
            e.scan.scan_id + ("*" if e.scan.status != "complete" else ""),
            e.scan.started_at.strftime("%Y-%m-%d"),
            f"{e.fleet['clusters']:,}",
            f"{e.fleet['pools']:,}",
            "—" if e.score is None else f"{e.score:.1f}%",
            f"{e.totals['fail']:,}",
            f"{e.new_count:,}" if e.previous_scan_id else "—",
            f"{e.resolved_count:,}" if e.previous_scan_id else "—",
            f"{_fmt(e.image_age_median)}/{_fmt(e.image_age_p90)} d",
            f"{top[0]} ({top[1]})",
        )
    console.print(table)
    per_control = Table(title="Score per control (pass share)")
    per_control.add_column("Control", no_wrap=True)
    shown = trend.entries[-6:]
    for e in shown:
        per_control.add_column(e.scan.started_at.strftime("%y-%m-%d"), justify="right", no_wrap=True)
    per_control.add_column("Open", justify="right", no_wrap=True)
    per_control.add_column("MTTR d", justify="right", no_wrap=True)
    for control in load_catalog():
        cells = []
        for e in shown:
            value = e.control_score(control.id)
            cells.append("—" if value is None else f"{value:.0f}%")
        stats = trend.remediation["by_control"].get(control.id, {})
        cells.append(str(stats.get("open", 0)))
        cells.append(_fmt(stats.get("mean_days")))
        per_control.add_row(control.id, *cells)
    console.print(per_control)
    r = trend.remediation
    console.print(
        f"Open failures: {r['open']}; remediated: {r['resolved']} (mean {_fmt(r['mean_days'])} d, "
        f"median {_fmt(r['median_days'])} d); removed while failing: {r['removed_while_failing']}"
    )


# ------------------------------------------------------------------------------------------------ calendar


def calendar_rows(calendar: MaintenanceCalendar) -> list[tuple[str, str, str, str, str, str, str]]:
    """(start, end, kind, cluster, environment, subscription, detail) per event, in calendar order."""
    rows = []
    for e in calendar.events:
        if e.starts is not None and e.ends is not None:
            begin, finish = f"{e.starts:%Y-%m-%d %H:%M}", f"{e.ends:%Y-%m-%d %H:%M}"
        else:
            begin, finish = f"{e.first_day}", f"{e.last_day} (all day)"
        if e.kind == "node-image":
            detail = e.summary
        else:
            detail = f"{e.configuration}: {e.schedule}" + (" (cut short by a freeze)" if e.clipped else "")
        label = e.window_kind if e.kind == "window" else ("freeze" if e.kind == "freeze" else "node image")
        rows.append((begin, finish, label, e.cluster, e.environment, e.subscription, detail))
    return rows


def calendar_table(calendar: MaintenanceCalendar, out: IO[str] | None = None) -> None:
    """The calendar as a table (rich markup in names is not interpreted)."""
    table = Table(title=f"Maintenance calendar {calendar.start:%Y-%m-%d %H:%M} – {calendar.until:%Y-%m-%d %H:%M} UTC")
    for column in ("Start (UTC)", "End (UTC)", "Kind", "Cluster", "Environment", "Subscription", "Detail"):
        table.add_column(column, overflow="fold")
    for row in calendar_rows(calendar):
        table.add_row(*(escape(value) for value in row))
    target = out or sys.stdout
    # Piped or written to a file, a table wide enough to read (a terminal keeps its own width).
    console = Console(file=target, soft_wrap=False, width=None if target.isatty() else 200)
    console.print(table)


def calendar_problems(calendar: MaintenanceCalendar) -> list[str]:
    """A warning per maintenance configuration that could not be expanded."""
    return [f"warning: {p['cluster']}/{p['configuration']}: {p['problem']}" for p in calendar.problems]


# --------------------------------------------------------------------------------------------- pre-flight


def preflight_lines(result: PreflightResult) -> list[str]:
    """One line per check, then the verdict."""
    return [f"{check.status:5}  {check.name}: {check.detail}" for check in result.checks] + [result.verdict()]


def demo_month(number: int, months: int, moment: datetime, outcome: ScanOutcome) -> str:
    return f"month {number}/{months} ({moment:%Y-%m-%d}): {scan_summary(outcome)}"


def demo_gate(cluster_id: str, pool: str | None, result: PreflightResult) -> str:
    return f"preflight {cluster_id.split('/')[-1]} {pool or 'control plane'}: {result.verdict()}"
