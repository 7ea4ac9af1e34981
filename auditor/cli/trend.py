"""`auditor trend`: drift across scans; `auditor export`: every table as Parquet."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import (
    day,
    db_option,
    handle_errors,
    policy_option,
    quiet_option,
    scope_option,
    stderr,
    to_option,
)
from auditor.cli.progress import progress_hook


@click.command()
@db_option
@click.option(
    "--since",
    "--from",
    "since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only scans started on or after this date (YYYY-MM-DD, UTC).",
)
@to_option
@scope_option
@policy_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@quiet_option
@handle_errors
def trend(
    db_path: Path,
    since: datetime | None,
    until: datetime | None,
    scope: str,
    policy_path: Path | None,
    output_format: str,
    quiet: bool,
) -> None:
    """Drift across scans: results per scan and control, failures new and resolved since the previous scan,
    fleet size, versions and node-image age, open failures and time to remediate (docs/trend.md); with
    --format json also the period's figures (patch latency, compliance shares, exceptions: docs/period.md)."""
    if since and until and since > until:
        raise click.UsageError(f"--from {since:%Y-%m-%d} is after --to {until:%Y-%m-%d}")
    policy = api.load_policy(policy_path)
    with api.open(db_path) as store, progress_hook(quiet) as progress:
        result = store.trend(
            policy,
            since=day(since),
            until=day(until),
            scope=scope,
            progress=progress,
            details=output_format == "json",
            with_period=output_format == "json",
        )
    if result.trend.other_scopes and not quiet:
        others = "; ".join(f"{o['id']} ({o['label']}, {o['scans']} scan(s))" for o in result.trend.other_scopes)
        stderr(f"note: only scans of one scope are compared; the store also holds {others}: choose with --scope ID")
    if output_format == "json":
        # streamed: a large fleet's lists run to hundreds of MB
        period = result.period.as_dict() if result.period else None
        result.trend.write_json(sys.stdout, extra={"period": period})
    else:
        views.trend_tables(result.trend)


@click.command()
@db_option
@policy_option
@click.option("--format", "output_format", type=click.Choice(["parquet"]), default="parquet", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write the tables into (one sub-directory per table).",
)
@quiet_option
@handle_errors
def export(db_path: Path, policy_path: Path | None, output_format: str, out_dir: Path, quiet: bool) -> None:
    """Export scans, findings, clusters, pools and upgrade events as Parquet partitioned by scan date, for
    Power BI, Fabric or Spark; prints the manifest's path."""
    policy = api.load_policy(policy_path)
    with api.Store(db_path) as store, progress_hook(quiet) as progress:  # not opened here: the export opens it
        result = store.export(out_dir, policy, progress=progress)
    if not quiet:
        for name, table in result.tables.items():
            stderr(f"{name}: {table['rows']:,} rows")
        for note in result.notes:
            stderr(f"note: {note}")
    click.echo(str(result.manifest))
