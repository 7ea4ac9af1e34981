"""`auditor findings`: evaluate the controls over a scan and print the findings; the --fail-on gate."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import (
    EXIT_INCOMPLETE,
    EXIT_THRESHOLD,
    SEVERITY_CHOICES,
    db_option,
    handle_errors,
    policy_option,
    printable,
    scan_option,
    silence_stdout,
    stderr,
)
from auditor.report.tabular import findings_csv, findings_json
from auditor.vocabulary import Severity


@click.command()
@db_option
@scan_option
@policy_option
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITY_CHOICES),
    default=None,
    help="Exit 3 when a failing, unwaived finding has this severity or higher; exit 1 when the scan is partial "
    "or holds no cluster (the gate cannot pass on missing evidence).",
)
@click.option(
    "--allow-partial",
    is_flag=True,
    help="With --fail-on: let a partial or empty scan pass the gate (it is still reported on stderr).",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Only these statuses (repeatable): pass, fail, warn, unknown, waived, not_applicable.",
)
@click.option("--control", "control_ids", multiple=True, help="Only these control ids (repeatable, any case).")
@click.option(
    "--subscription", "subscriptions", multiple=True, help="Only these subscriptions, by id or name (repeatable)."
)
@handle_errors
def findings(
    db_path: Path,
    scan_selector: str,
    policy_path: Path | None,
    output_format: str,
    fail_on: str | None,
    allow_partial: bool,
    statuses: tuple[str, ...],
    control_ids: tuple[str, ...],
    subscriptions: tuple[str, ...],
) -> None:
    """Evaluate the controls over a scan and print the findings."""

    where = api.FindingFilter.parse(statuses, control_ids, subscriptions)  # a typo fails before the evaluation
    with api.open(db_path, read_only=True) as store:
        # The scan is resolved once: a scan committed meanwhile cannot change what `latest` means halfway.
        scan = store.resolve(scan_selector)
        completeness = store.completeness(scan)
        policy = api.load_policy(policy_path)
        for warning in views.policy_warnings(policy):
            stderr(warning)
        with store.evaluate(scan, policy) as evaluation:
            results = evaluation.findings(where)
            worst = evaluation.worst_failing(where)
    try:
        if output_format == "json":
            click.echo(findings_json(results))
        elif output_format == "csv":
            click.echo(findings_csv(results), nl=False)
        else:
            views.findings_table(results)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()  # `| head`: the gate below still decides the exit code
    if completeness.problem:
        stderr(f"warning: {printable(completeness.problem)}")
    if fail_on is None:
        return
    verdict = api.gate(Severity(fail_on), worst, completeness, allow_partial=allow_partial)
    if verdict.threshold_met:
        stderr(f"failing findings at or above severity {fail_on}: exit {EXIT_THRESHOLD}")
        sys.exit(EXIT_THRESHOLD)
    if verdict.blocked_by_missing_evidence:
        stderr(
            f"the gate cannot pass on an incomplete scan: exit {EXIT_INCOMPLETE} "
            "(--allow-partial lets it pass; a complete scan is the fix)"
        )
        sys.exit(EXIT_INCOMPLETE)
