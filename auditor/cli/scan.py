"""`auditor scan`: collect every AKS cluster in scope into the store."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import (
    ca_bundle_option,
    cloud_option,
    db_option,
    endpoint_option,
    handle_errors,
    management_groups,
    quiet_option,
    stderr,
    subscription_ids,
)
from auditor.cli.progress import rich_progress


@click.command()
@db_option
@click.option(
    "--subscription",
    "subscriptions",
    multiple=True,
    callback=subscription_ids,
    help="Subscription id (a GUID) to scan (repeatable).",
)
@click.option(
    "--management-group",
    "management_groups",
    multiple=True,
    callback=management_groups,
    help="Management group id to scan (repeatable).",
)
@endpoint_option
@ca_bundle_option
@cloud_option
@click.option(
    "--concurrency", type=click.IntRange(1, 256), default=16, show_default=True, help="Calls in flight at once."
)
@click.option(
    "--all-pool-profiles", is_flag=True, help="One upgrade-profile call per pool instead of per image family."
)
@click.option(
    "--kubernetes",
    is_flag=True,
    help="Also read inside each cluster a kubeconfig context reaches: PDBs, workloads, nodes (read-only).",
)
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Kubeconfig for --kubernetes (default: $KUBECONFIG, else ~/.kube/config).",
)
@quiet_option
@handle_errors
def scan(
    db_path: Path,
    subscriptions: tuple[str, ...],
    management_groups: tuple[str, ...],
    endpoint: str | None,
    ca_bundle: str | None,
    cloud: str,
    concurrency: int,
    all_pool_profiles: bool,
    kubernetes: bool,
    kubeconfig: str | None,
    quiet: bool,
) -> None:
    """Collect every AKS cluster in scope into the database; prints the scan id."""
    if kubeconfig and not kubernetes:
        raise click.UsageError("--kubeconfig is read only with --kubernetes (reading inside clusters is opt-in)")
    request = api.ScanRequest(
        subscriptions=subscriptions,
        management_groups=management_groups,
        endpoint=endpoint,
        ca_bundle=ca_bundle,
        cloud=cloud,
        concurrency=concurrency,
        all_pool_profiles=all_pool_profiles,
        kubernetes=kubernetes,
        kubeconfig=kubeconfig,
    )
    with api.open(db_path, create=True) as store, contextlib.ExitStack() as stack:
        hook = stack.enter_context(rich_progress()) if not quiet and sys.stderr.isatty() else None
        outcome = store.scan(request, progress=hook)
    warning = views.ledger_warning(outcome)
    if warning:
        stderr(warning)
    if not quiet:
        stderr(views.scan_summary(outcome))
    click.echo(outcome.scan_id)
