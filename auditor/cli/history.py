"""`auditor history`: the upgrade timeline from the ledger as of a scan."""

from __future__ import annotations

from pathlib import Path

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import db_option, handle_errors, policy_option, scan_option, stderr


@click.command()
@db_option
@scan_option
@policy_option
@click.option("--cluster", default=None, help="Only this cluster (name or ARM id).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--rebuild", is_flag=True, help="Rebuild the upgrade ledger from every stored scan first.")
@handle_errors
def history(
    db_path: Path, scan_selector: str, policy_path: Path | None, cluster: str | None, output_format: str, rebuild: bool
) -> None:
    """Upgrade timeline from the upgrade ledger as of a scan, with each event's campaign (docs/history.md)."""
    policy = api.load_policy(policy_path)
    with api.open(db_path, read_only=not rebuild) as store:
        result = store.timeline(store.resolve(scan_selector), policy, cluster=cluster, rebuild=rebuild)
    if result.rebuilt is not None:
        stderr(views.ledger_summary(result.rebuilt))
    views.timeline(result.events, output_format, show_cluster=cluster is None)
    if output_format != "json":
        stderr(f"{len(result.events)} upgrade event(s) of {result.clusters} cluster(s) as of scan {result.scan_id}")
