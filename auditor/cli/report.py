"""`auditor report`: one scan's reports, or with --from/--to a period's; `auditor verify`: check a report."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from auditor import api
from auditor.cli import views
from auditor.cli.options import (
    day,
    db_option,
    formats,
    handle_errors,
    policy_option,
    quiet_option,
    scan_option,
    scan_selector,
    scope_option,
    stderr,
    to_option,
)
from auditor.cli.progress import progress_hook
from auditor.signing import load_certificates, load_signing_key


@click.command()
@db_option
@scan_option
@policy_option
@click.option(
    "--format", "formats_text", default="pdf,html", show_default=True, help="Comma-separated: pdf, html, csv, json."
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"), show_default=True
)
@click.option(
    "--sign-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PKCS#12 (.p12/.pfx) key and certificate: sign the PDF (PAdES) and report.intoto.json (DSSE).",
)
@click.option(
    "--sign-password-env",
    metavar="VAR",
    default=None,
    help="Environment variable holding the --sign-key password (default AUDITOR_SIGN_PASSWORD, if set).",
)
@click.option(
    "--from",
    "since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="A period report instead of one scan's: first day of the period (YYYY-MM-DD, UTC; docs/period.md).",
)
@to_option
@scope_option
@quiet_option
@click.pass_context
@handle_errors
def report(
    ctx: click.Context,
    db_path: Path,
    scan_selector: str,
    policy_path: Path | None,
    formats_text: str,
    out_dir: Path,
    sign_key: Path | None,
    sign_password_env: str | None,
    since: datetime | None,
    until: datetime | None,
    scope: str,
    quiet: bool,
) -> None:
    """Write the reports of a scan, or with --from/--to of every scan of one scope in a period; prints their
    paths."""
    chosen = formats(formats_text)
    if sign_password_env and not sign_key:
        raise click.UsageError("--sign-password-env needs --sign-key")
    period = since is not None or until is not None
    if period and ctx.get_parameter_source("scan_selector") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--scan does not go with --from/--to: a period report covers every scan in the period")
    if not period and ctx.get_parameter_source("scope") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--scope selects the scans of a period report: give --from and/or --to with it")
    if since and until and since > until:
        raise click.UsageError(f"--from {since:%Y-%m-%d} is after --to {until:%Y-%m-%d}")
    key = None
    if sign_key:
        key = load_signing_key(sign_key, sign_password_env)
    policy = api.load_policy(policy_path)
    if not period:
        for warning in views.policy_warnings(policy):
            stderr(warning)
    with api.open(db_path) as store, progress_hook(quiet) as progress:
        if period:
            outcome = store.period_report(
                day(since),
                day(until),
                policy,
                chosen,
                out_dir,
                scope=scope,
                sign_key=key,
                progress=progress,
            )
        else:
            outcome = store.report(store.resolve(scan_selector), policy, chosen, out_dir, sign_key=key)
    for path in outcome.written:
        click.echo(str(path))


@click.command()
@db_option
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("output/report-manifest.json"),
    show_default=True,
    help="The report-manifest.json written beside the reports.",
)
@click.option(
    "--scan",
    "scan_selector",
    default=None,
    callback=scan_selector,
    help="Scan id; must be the manifest's (default: the manifest's).",
)
@policy_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Verify a PDF report on its own: its seal, signature and attached findings, manifest and policy.",
)
@click.option(
    "--trust-cert",
    "trust_certs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A certificate (PEM/DER) that signers must chain to (repeatable); without it trust is not judged.",
)
@click.pass_context
@handle_errors
def verify(
    ctx: click.Context,
    db_path: Path,
    manifest_path: Path,
    scan_selector: str | None,
    policy_path: Path | None,
    output_format: str,
    pdf_path: Path | None,
    trust_certs: tuple[Path, ...],
) -> None:
    """Recompute a report's evidence and findings digests from the database, check its files, seal and
    signatures; exit 0 on match, 1 if not."""

    anchors = load_certificates(list(trust_certs))
    if pdf_path is not None:
        for name in ("manifest_path", "policy_path"):
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
                option = "--" + name.removesuffix("_path")
                raise click.UsageError(f"{option} does not go with --pdf: the PDF carries its manifest and policy")
    with api.Store(db_path, read_only=True) as store:  # not opened here: verification opens it when it needs it
        if pdf_path is not None:
            result = store.verify_pdf(pdf_path, scan=scan_selector, trust_anchors=anchors)
        else:
            result = store.verify(manifest_path, scan=scan_selector, policy_path=policy_path, trust_anchors=anchors)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo("\n".join(result.lines()))
    if not result.ok:
        sys.exit(1)
