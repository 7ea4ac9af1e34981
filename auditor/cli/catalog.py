"""`auditor controls`, `auditor policy check` and `auditor catalog refresh`: the catalog and the policy."""

from __future__ import annotations

import json
from pathlib import Path

import click

from auditor import api
from auditor.catalog.refresh import refresh
from auditor.cli import views
from auditor.cli.options import handle_errors, policy_option


@click.command()
@policy_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@handle_errors
def controls(policy_path: Path | None, output_format: str) -> None:
    """List the control catalog with the thresholds in effect."""
    listing = api.catalog_listing(api.load_policy(policy_path))
    if output_format == "json":
        click.echo(json.dumps(listing.as_json(), indent=2))
    else:
        views.catalog_tables(listing)


@click.group()
def policy() -> None:
    """Policy files: thresholds, scopes and waivers (docs/policy.md)."""


@policy.command("check")
@click.argument("policy_file", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def policy_check(policy_file: Path) -> None:
    """Validate a policy file: print a summary, or one error line naming the line, and exit 1."""
    for line in api.check_policy(policy_file).lines():
        click.echo(line)


@click.group()
def catalog() -> None:
    """The bundled AKS catalog: version calendar and node-image releases."""


@catalog.command("refresh")
@click.option(
    "--from",
    "source_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A directory shaped like tests/fixtures/aks-data (calendar CSV, endoflife page, node-image releases).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the catalog files (default: the package's own data directory).",
)
@handle_errors
def catalog_refresh(source_dir: Path, out_dir: Path | None) -> None:
    """Regenerate the bundled catalog from its sources; prints what changed."""
    click.echo(json.dumps(refresh(source_dir, out_dir), indent=2, default=str))
