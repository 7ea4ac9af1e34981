"""The command line: thin click commands over the library. Exit codes: 0 ok, 2 usage, 3 --fail-on met, 1 anything
else (an error, or --fail-on on a scan that could not collect what the gate needs); 130 / 143 after Ctrl-C /
SIGTERM."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from auditor.errors import AuditorError, InputError
from auditor.store import DEFAULT_DB
from auditor.version import __version__

EXIT_THRESHOLD = 3
SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


# --fail-on on a scan that could not collect what the gate needs (partial, or no cluster): DESIGN's "1 anything
# else", told apart from an error by its stderr line.
EXIT_INCOMPLETE = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop the way Ctrl-C does (queued calls dropped, nothing partial stored), exit 143."""


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _printable(message: str) -> str:
    """A message from the library or from outside, safe to print: the access token and anything that looks like
    a bearer token redacted, on one line, control and bidirectional characters shown as escapes."""
    from auditor.collect.clients import TOKEN_ENV
    from auditor.safetext import clean_message

    return clean_message(message, [os.environ.get(TOKEN_ENV, "").strip()], limit=2000)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into one line on stderr and exit 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise  # usage errors keep click's own message and exit code 2
        except BrokenPipeError:
            # The reader went away (`| head`): what it did not read is not wanted. Stop quietly, and keep the
            # interpreter's final flush from complaining about the closed pipe.
            silence_stdout()
            sys.exit(0)
        except InputError as exc:
            raise click.UsageError(str(exc)) from exc
        except AuditorError as exc:
            _stderr(f"error: {_printable(str(exc))}")
            sys.exit(1)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            _stderr(f"{'terminated' if terminated else 'interrupted'}: nothing partial was stored")
            _exit_now(143 if terminated else 130)
        except Exception as exc:  # a bug or an unforeseen failure: still one line, the details on request
            if os.environ.get("AUDITOR_DEBUG"):
                raise
            import duckdb

            if isinstance(exc, duckdb.Error):
                from auditor.store import unreadable_store

                _stderr(f"error: {_printable(unreadable_store(kwargs.get('db_path') or 'the database', exc))}")
                sys.exit(1)
            _stderr(
                f"error: unexpected {type(exc).__name__}: {_printable(str(exc))[:500]} "
                "(set AUDITOR_DEBUG=1 for the traceback)"
            )
            sys.exit(1)

    return wrapper


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so nothing more is written to the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # stdout is not a file descriptor (an in-memory stream under test): nothing will flush to a pipe


def _exit_now(code: int) -> None:
    """Exit after an interrupt. Worker threads still inside an HTTP call would hold the interpreter's exit until
    their call ends (it joins them): their scan is already discarded, so the process leaves without waiting."""
    busy = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if not busy:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM stop the command cleanly; a second signal while it cleans up exits at once, quietly
    (a spool it leaves behind is removed by the next scan)."""
    received: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) > 1:
            with contextlib.suppress(OSError):
                os.write(2, b"interrupted again: exiting now\n")
            os._exit(128 + signum)
        if signum == signal.SIGTERM:
            raise Terminated()
        raise KeyboardInterrupt()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    envvar="AUDITOR_DB",
    show_envvar=True,
    help="DuckDB database file (the store of scans).",
)


def _scan_selector(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("an empty scan id names no scan: give a scan id, a unique prefix of one, or 'latest'")
    return value.strip() if value is not None else None


scan_option = click.option(
    "--scan",
    "scan_selector",
    default="latest",
    show_default=True,
    callback=_scan_selector,
    help="Scan id (or unique prefix), or 'latest'.",
)

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Management group ids: 1-90 alphanumerics, hyphens, underscores, periods and parentheses, not ending with a
# period (https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules).
_MANAGEMENT_GROUP = re.compile(r"[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]")


def _subscription_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Subscription GUIDs, also accepted as /subscriptions/<guid>; anything else is a usage error."""
    checked = []
    for value in values:
        candidate = value.strip()
        if candidate.lower().startswith("/subscriptions/"):
            candidate = candidate[len("/subscriptions/") :].strip("/")
        if not _GUID.fullmatch(candidate):
            raise click.BadParameter(
                f"{value!r} is not a subscription id: expected a GUID such as 00000000-0000-0000-0000-000000000000"
            )
        checked.append(candidate.lower())
    return tuple(dict.fromkeys(checked))


def _management_groups(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Management group ids, also accepted as /providers/Microsoft.Management/managementGroups/<id>."""
    checked = []
    prefix = "/providers/microsoft.management/managementgroups/"
    for value in values:
        candidate = value.strip()
        if candidate.lower().startswith(prefix):
            candidate = candidate[len(prefix) :].strip("/")
        if not _MANAGEMENT_GROUP.fullmatch(candidate):
            raise click.BadParameter(
                f"{value!r} is not a management group id: 1 to 90 letters, digits, '-', '_', '.', '(' or ')', "
                "not ending with '.'"
            )
        checked.append(candidate)
    return tuple(dict.fromkeys(checked))


policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Policy TOML file (built-in defaults otherwise).",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print only results, no progress or summaries.")
to_option = click.option(
    "--to",
    "until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the period (YYYY-MM-DD, UTC; scans started on or before it).",
)
scope_option = click.option(
    "--scope",
    "scope",
    default="latest",
    show_default=True,
    help="Scope id (or prefix) whose scans to take; 'latest' is the newest scan's (up to --to). The others are listed.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Audit AKS fleets for upgrade and patching controls."""
    if not os.environ.get("AUDITOR_DEBUG"):
        # The Azure SDK logs (with tracebacks) what it tolerates, such as an error body that is not JSON; each
        # failure is already a collection error or an error line, so its log stays out of stderr.
        logging.getLogger("azure").addHandler(logging.NullHandler())
        logging.getLogger("azure").propagate = False


@cli.command()
@db_option
@click.option(
    "--subscription",
    "subscriptions",
    multiple=True,
    callback=_subscription_ids,
    help="Subscription id (a GUID) to scan (repeatable).",
)
@click.option(
    "--management-group",
    "management_groups",
    multiple=True,
    callback=_management_groups,
    help="Management group id to scan (repeatable).",
)
@click.option("--endpoint", default=None, help="ARM endpoint URL (e.g. the emulator's); Azure by default.")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CA certificate file to trust for --endpoint.",
)
@click.option(
    "--cloud",
    type=click.Choice(["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"]),
    default="AzureCloud",
    show_default=True,
)
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
    from auditor.app import scan_and_store

    if kubeconfig and not kubernetes:
        raise click.UsageError("--kubeconfig is read only with --kubernetes (reading inside clusters is opt-in)")
    result = scan_and_store(
        db_path,
        subscriptions=subscriptions,
        management_groups=management_groups,
        endpoint=endpoint,
        ca_bundle=ca_bundle,
        cloud=cloud,
        concurrency=concurrency,
        all_pool_profiles=all_pool_profiles,
        show_progress=not quiet and sys.stderr.isatty(),
        kubernetes=kubernetes,
        kubeconfig=kubeconfig,
    )
    if not quiet:
        _stderr(result.summary())
    click.echo(result.scan_id)


@cli.command()
@db_option
@scan_option
@policy_option
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITY_ORDER),
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
    from auditor.app import check_filters, evaluate_scan, filter_findings, scan_completeness, threshold_met
    from auditor.report.tabular import findings_csv, findings_json

    check_filters(statuses, control_ids)  # a typo fails before the scan is evaluated
    # The scan is resolved once: a scan committed meanwhile cannot change what `latest` means halfway.
    completeness = scan_completeness(db_path, scan_selector)
    evaluated = evaluate_scan(db_path, completeness.scan_id, policy_path)
    results = filter_findings(
        evaluated.findings,
        statuses=statuses,
        control_ids=control_ids,
        subscriptions=subscriptions,
        known_subscriptions=evaluated.subscriptions,
    )
    try:
        if output_format == "json":
            click.echo(findings_json(results))
        elif output_format == "csv":
            click.echo(findings_csv(results), nl=False)
        else:
            from auditor.app import print_findings_table

            print_findings_table(results)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()  # `| head`: the gate below still decides the exit code
    if completeness.problem:
        _stderr(f"warning: {_printable(completeness.problem)}")
    if fail_on and threshold_met(results, fail_on):
        _stderr(f"failing findings at or above severity {fail_on}: exit {EXIT_THRESHOLD}")
        sys.exit(EXIT_THRESHOLD)
    if fail_on and completeness.problem and not allow_partial:
        _stderr(
            f"the gate cannot pass on an incomplete scan: exit {EXIT_INCOMPLETE} "
            "(--allow-partial lets it pass; a complete scan is the fix)"
        )
        sys.exit(EXIT_INCOMPLETE)


def _formats(value: str) -> list[str]:
    from auditor.report import RENDERERS

    chosen = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in RENDERERS]
    if unknown or not chosen:
        raise click.BadParameter(f"choose from {', '.join(RENDERERS)} (comma-separated), not {value!r}")
    return chosen


@cli.command()
@db_option
@scan_option
@policy_option
@click.option(
    "--format", "formats", default="pdf,html", show_default=True, help="Comma-separated: pdf, html, csv, json."
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
    formats: str,
    out_dir: Path,
    sign_key: Path | None,
    sign_password_env: str | None,
    since: Any,
    until: Any,
    scope: str,
    quiet: bool,
) -> None:
    """Write the reports of a scan, or with --from/--to of every scan of one scope in a period; prints their
    paths."""
    from auditor.app import write_period_reports, write_reports

    try:
        chosen = _formats(formats)
    except click.BadParameter as exc:
        raise click.UsageError(str(exc)) from exc
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
        from auditor.signing import load_signing_key

        key = load_signing_key(sign_key, sign_password_env)
    if period:
        paths = write_period_reports(
            db_path,
            since.date() if since else None,
            until.date() if until else None,
            policy_path,
            chosen,
            out_dir,
            scope=scope,
            sign_key=key,
            progress=None if quiet else _stderr,
        )
    else:
        paths = write_reports(db_path, scan_selector, policy_path, chosen, out_dir, sign_key=key)
    for path in paths:
        click.echo(str(path))


@cli.command()
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
    callback=_scan_selector,
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
    import json

    from auditor.signing import load_certificates
    from auditor.verify_pdf import verify_pdf, verify_with_signatures

    anchors = load_certificates(list(trust_certs))
    if pdf_path is not None:
        for name in ("manifest_path", "policy_path"):
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
                option = "--" + name.removesuffix("_path")
                raise click.UsageError(f"{option} does not go with --pdf: the PDF carries its manifest and policy")
        result = verify_pdf(db_path, pdf_path, scan_selector=scan_selector, trust_anchors=anchors)
    else:
        result = verify_with_signatures(
            db_path, manifest_path, scan_selector=scan_selector, policy_path=policy_path, trust_anchors=anchors
        )
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo("\n".join(result.lines()))
    if not result.ok:
        sys.exit(1)


@cli.command()
@policy_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@handle_errors
def controls(policy_path: Path | None, output_format: str) -> None:
    """List the control catalog with the thresholds in effect."""
    from auditor.app import print_catalog

    print_catalog(policy_path, output_format)


@cli.group()
def policy() -> None:
    """Policy files: thresholds, scopes and waivers (docs/policy.md)."""


@policy.command("check")
@click.argument("policy_file", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def policy_check(policy_file: Path) -> None:
    """Validate a policy file: print a summary, or one error line naming the line, and exit 1."""
    from auditor.controls import control_ids
    from auditor.policy_check import check_policy

    for line in check_policy(policy_file, known_controls=control_ids()).lines():
        click.echo(line)


@cli.command()
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"), show_default=True
)
@click.option("--clusters", type=click.IntRange(1, 100_000), default=60, show_default=True)
@click.option("--subscriptions", type=click.IntRange(1, 1000), default=6, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--months",
    type=click.IntRange(1, 60),
    default=6,
    show_default=True,
    help="Monthly scans of the evolving fleet; the last one today.",
)
@quiet_option
@handle_errors
def demo(out_dir: Path, clusters: int, subscriptions: int, seed: int, months: int, quiet: bool) -> None:
    """Generate a fleet, let it evolve over months, scan each month with the emulator and write the reports of
    the latest scan (with its drift). No Azure account needed. The scans go to --out/demo.duckdb, the demo's own
    store (replaced on each run), never to `scan`'s default store."""
    from auditor.app import run_demo

    for path in run_demo(
        out_dir, clusters=clusters, subscriptions=subscriptions, seed=seed, quiet=quiet, months=months
    ):
        click.echo(str(path))


@cli.command()
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
    db_path: Path, since: Any, until: Any, scope: str, policy_path: Path | None, output_format: str, quiet: bool
) -> None:
    """Drift across scans: results per scan and control, failures new and resolved since the previous scan,
    fleet size, versions and node-image age, open failures and time to remediate (docs/trend.md); with
    --format json also the period's figures (patch latency, compliance shares, exceptions: docs/period.md)."""
    from auditor.controls import control_ids
    from auditor.period import trend_and_period
    from auditor.policy import load_policy
    from auditor.store import open_db
    from auditor.trend import print_trend_table

    if since and until and since > until:
        raise click.UsageError(f"--from {since:%Y-%m-%d} is after --to {until:%Y-%m-%d}")
    policy = load_policy(policy_path, known_controls=control_ids())
    con = open_db(db_path)
    try:
        result, period = trend_and_period(
            con,
            policy,
            since=since.date() if since else None,
            until=until.date() if until else None,
            scope=scope,
            progress=None if quiet else _stderr,
            details=output_format == "json",
            with_period=output_format == "json",
        )
    finally:
        con.close()
    if result.other_scopes and not quiet:
        others = "; ".join(f"{o['id']} ({o['label']}, {o['scans']} scan(s))" for o in result.other_scopes)
        _stderr(f"note: only scans of one scope are compared; the store also holds {others}: choose with --scope ID")
    if output_format == "json":
        # streamed: a large fleet's lists run to hundreds of MB
        result.write_json(sys.stdout, extra={"period": period.as_dict() if period else None})
    else:
        print_trend_table(result)


@cli.command()
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
    from auditor.controls import control_ids
    from auditor.export import export_parquet
    from auditor.policy import load_policy

    policy = load_policy(policy_path, known_controls=control_ids())
    result = export_parquet(db_path, out_dir, policy, progress=None if quiet else _stderr)
    if not quiet:
        for name, table in result.tables.items():
            _stderr(f"{name}: {table['rows']:,} rows")
        for note in result.notes:
            _stderr(f"note: {note}")
    click.echo(str(result.manifest))


@cli.command()
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
    from auditor.controls import control_ids
    from auditor.policy import load_policy
    from auditor.timeline import history_timeline, print_timeline

    policy = load_policy(policy_path, known_controls=control_ids())
    scan_id, events, rebuilt = history_timeline(
        db_path, policy, scan_selector=scan_selector, cluster=cluster, rebuild=rebuild
    )
    if rebuilt is not None:
        _stderr(rebuilt.summary())
    print_timeline(events, output_format, show_cluster=cluster is None)
    if output_format != "json":
        clusters = len({e["cluster_id"] for e in events})
        _stderr(f"{len(events)} upgrade event(s) of {clusters} cluster(s) as of scan {scan_id}")


@cli.command()
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
    start_day: Any,
    output_format: str,
    out_path: Path | None,
) -> None:
    """Maintenance windows, freezes and expected node-image releases of a scan, in UTC (docs/calendar.md)."""
    from auditor.app import write_calendar

    result = write_calendar(db_path, scan_selector, policy_path, weeks, start_day, output_format, out_path)
    if out_path is not None:
        click.echo(str(result))


@cli.command()
@click.option("--cluster", "cluster_id", required=True, help="The managed cluster's ARM id.")
@click.option("--pool", default=None, help="The agent pool about to be upgraded (the control plane when absent).")
@click.option("--target-version", default=None, help="The Kubernetes version of the step (X.Y.Z).")
@click.option("--endpoint", default=None, help="ARM endpoint URL (e.g. the emulator's); Azure by default.")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CA certificate file to trust for --endpoint.",
)
@click.option(
    "--cloud",
    type=click.Choice(["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"]),
    default="AzureCloud",
    show_default=True,
)
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
    import json

    from auditor.preflight import PreflightUsageError, run_preflight

    try:
        result = run_preflight(
            cluster_id, pool=pool, target=target_version, endpoint=endpoint, ca_bundle=ca_bundle, cloud=cloud
        )
    except PreflightUsageError as exc:
        raise click.UsageError(str(exc)) from exc
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
        if not result.allowed:
            _stderr(result.verdict())
    else:
        for check in result.checks:
            click.echo(f"{check.status:5}  {check.name}: {check.detail}")
        click.echo(result.verdict())
    if not result.allowed:
        sys.exit(EXIT_THRESHOLD)


@cli.group()
def emulator() -> None:
    """The local Azure stand-in: serve a fleet over HTTPS, or generate one."""


@emulator.command("serve")
@click.option(
    "--fleet",
    "fleet_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Fleet JSON file (a generated one by default).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output/emulator"),
    show_default=True,
    help="Where the CA and server certificate are written.",
)
@click.option("--latency-ms", type=click.FloatRange(0), default=None, help="Added latency per call.")
@click.option("--no-quotas", is_flag=True, help="Do not model Azure's throttling quotas.")
@click.option(
    "--forbid-subscription",
    "forbidden",
    multiple=True,
    help="List this subscription but let no one read its clusters (403; Resource Graph leaves them out).",
)
@click.option(
    "--hide-subscription", "hidden", multiple=True, help="Do not even list this subscription (no access at all)."
)
@click.option("--error-rate", type=click.FloatRange(0, 1), default=None, help="Share of calls answered 5xx.")
@click.option("--storm-seconds", type=click.FloatRange(0), default=None, help="Answer every call 429 for this long.")
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=None, help="Share of calls that hang.")
@click.option("--truncate-results", is_flag=True, help="Resource Graph truncates results longer than a page.")
@handle_errors
def emulator_serve(
    fleet_path: Path | None,
    port: int,
    state_dir: Path,
    latency_ms: float | None,
    no_quotas: bool,
    forbidden: tuple[str, ...],
    hidden: tuple[str, ...],
    error_rate: float | None,
    storm_seconds: float | None,
    timeout_rate: float | None,
    truncate_results: bool,
) -> None:
    """Serve a fleet until interrupted; prints the endpoint and CA file. Faults can also be set in the fleet file."""
    from auditor.app import serve_emulator

    faults: dict[str, Any] = {}
    if storm_seconds:
        faults["storm_seconds"] = storm_seconds
    if timeout_rate:
        faults["timeout_rate"] = timeout_rate
    if truncate_results:
        faults["truncate_results"] = True
    if hidden:
        faults["hidden_subscriptions"] = list(hidden)
    serve_emulator(
        fleet_path,
        port=port,
        state_dir=state_dir,
        latency_ms=latency_ms,
        quotas=not no_quotas,
        forbidden=forbidden,
        error_rate=error_rate,
        **faults,
    )


@emulator.command("generate")
@click.option("--clusters", type=click.IntRange(1, 200_000), default=100, show_default=True)
@click.option("--subscriptions", type=click.IntRange(1, 5000), default=10, show_default=True)
@click.option("--regions", type=click.IntRange(1, 30), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("output/fleet.json"),
    show_default=True,
)
@handle_errors
def emulator_generate(clusters: int, subscriptions: int, regions: int, seed: int, out_path: Path) -> None:
    """Generate a realistic fleet file; prints its path."""
    from auditor.app import generate_fleet_file

    click.echo(
        str(generate_fleet_file(out_path, clusters=clusters, subscriptions=subscriptions, regions=regions, seed=seed))
    )


@cli.group()
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
    import json

    from auditor.catalog.refresh import refresh

    target = out_dir or Path(__file__).resolve().parent / "catalog" / "data"
    click.echo(json.dumps(refresh(source_dir, target), indent=2, default=str))


def _configure_logging() -> None:
    """The tool's own notices (e.g. waiting for a store another process holds) as one line each on stderr. (The
    Azure SDK's log records are kept off the terminal by `cli` itself.)"""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    ours = logging.getLogger("auditor")
    if not ours.handlers:
        ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()  # the last buffered output met a closed pipe: nothing to report


def main() -> None:
    """Entry point of the `auditor` console script."""
    install_signal_handlers()
    _configure_logging()
    try:
        cli(prog_name="auditor")
    finally:
        _flush_stdout()
