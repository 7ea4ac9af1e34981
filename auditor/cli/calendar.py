"""`auditor calendar`: maintenance windows, freezes and expected node-image releases of a scan."""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import db_option, handle_errors, policy_option, scan_option, stderr
from auditor.maintenance_calendar import calendar_start, to_ical, to_json
from auditor.paths import output_directory


@click.command()
@db_option
@scan_option
@policy_option
@click.option("--weeks", type=click.IntRange(1, 104), default=8, show_default=True, help="How far ahead.")
@click.option(
    "--from",
    "start_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day (YYYY-MM-DD, UTC); now by default.",
)
@click.option(
    "--format", "output_format", type=click.Choice(["ics", "table", "json"]), default="table", show_default=True
)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here.")
@handle_errors
def calendar(
    db_path: Path,
    scan_selector: str,
    policy_path: Path | None,
    weeks: int,
    start_day: datetime | None,
    output_format: str,
    out_path: Path | None,
) -> None:
    """Maintenance windows, freezes and expected node-image releases of a scan, in UTC (docs/calendar.md)."""
    start = calendar_start(start_day.date() if start_day is not None else None)
    policy = api.load_policy(policy_path)
    with api.open(db_path, read_only=True) as store:
        result = store.calendar(store.resolve(scan_selector), policy, start, weeks)
    if output_format == "ics":
        payload = to_ical(result)
    elif output_format == "json":
        payload = (to_json(result) + "\n").encode()
    elif out_path is not None:
        buffer = io.StringIO()
        views.calendar_table(result, buffer)
        payload = buffer.getvalue().encode()
    else:
        views.calendar_table(result)
        payload = b""
    for warning in views.calendar_problems(result):
        stderr(warning)
    if out_path is not None:
        output_directory(out_path.parent)
        out_path.write_bytes(payload)
        click.echo(str(out_path))
    elif payload:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
