"""`auditor preflight`: the live gate before one upgrade step."""

from __future__ import annotations

import json
import sys

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import EXIT_THRESHOLD, ca_bundle_option, cloud_option, endpoint_option, handle_errors, stderr


@click.command()
@click.option("--cluster", "cluster_id", required=True, help="The managed cluster's ARM id.")
@click.option("--pool", default=None, help="The agent pool about to be upgraded (the control plane when absent).")
@click.option("--target-version", default=None, help="The Kubernetes version of the step (X.Y.Z).")
@endpoint_option
@ca_bundle_option
@cloud_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def preflight(
    cluster_id: str,
    pool: str | None,
    target_version: str | None,
    endpoint: str | None,
    ca_bundle: str | None,
    cloud: str,
    output_format: str,
) -> None:
    """Live gate before one upgrade step: exit 0 allowed, 3 blocked (one line: what blocks, what to do first)."""
    result = api.preflight(
        cluster_id, pool=pool, target=target_version, endpoint=endpoint, ca_bundle=ca_bundle, cloud=cloud
    )
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
        if not result.allowed:
            stderr(result.verdict())
    else:
        for line in views.preflight_lines(result):
            click.echo(line)
    if not result.allowed:
        sys.exit(EXIT_THRESHOLD)
