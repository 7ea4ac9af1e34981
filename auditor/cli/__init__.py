"""The command line: thin click commands over the library (auditor.api). Exit codes: 0 ok, 2 usage, 3 --fail-on
met, 1 anything else (an error, or --fail-on on a scan that could not collect what the gate needs); 130 / 143
after Ctrl-C / SIGTERM. Each command parses its options, calls the library, prints (views.py) and sets the exit
code; the options every command shares are defined once (options.py)."""

from __future__ import annotations

import logging
import os
import sys

import click

from auditor.cli.calendar import calendar
from auditor.cli.catalog import catalog, controls, policy
from auditor.cli.demo import demo
from auditor.cli.emulator import emulator
from auditor.cli.findings import findings
from auditor.cli.history import history
from auditor.cli.options import EXIT_INCOMPLETE, EXIT_THRESHOLD, install_signal_handlers, silence_stdout
from auditor.cli.preflight import preflight
from auditor.cli.report import report, verify
from auditor.cli.scan import scan
from auditor.cli.trend import export, trend
from auditor.version import __version__

__all__ = ["EXIT_INCOMPLETE", "EXIT_THRESHOLD", "cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Audit AKS fleets for upgrade and patching controls."""
    if not os.environ.get("AUDITOR_DEBUG"):
        # The Azure SDK logs (with tracebacks) what it tolerates, such as an error body that is not JSON; each
        # failure is already a collection error or an error line, so its log stays out of stderr.
        logging.getLogger("azure").addHandler(logging.NullHandler())
        logging.getLogger("azure").propagate = False


# In the order `auditor --help` lists them (click sorts them by name).
for command in (scan, findings, report, verify, controls, policy, demo, trend, export, history, calendar, preflight):
    cli.add_command(command)
cli.add_command(emulator)
cli.add_command(catalog)


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
