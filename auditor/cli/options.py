"""What every command shares, defined once: the options, the exit codes, and the error handling that turns the
library's errors into one line and an exit code."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from auditor.api import DEFAULT_DB
from auditor.collect.clients import TOKEN_ENV
from auditor.errors import AuditorError, InputError
from auditor.report import RENDERERS
from auditor.safetext import clean_message
from auditor.vocabulary import Severity

EXIT_THRESHOLD = 3
# --fail-on on a scan that could not collect what the gate needs (partial, or no cluster): "1 anything else", told
# apart from an error by its stderr line.
EXIT_INCOMPLETE = 1
SEVERITY_CHOICES = tuple(s.value for s in Severity)
CLOUDS = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud")


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop the way Ctrl-C does (queued calls dropped, nothing partial stored), exit 143."""


def stderr(message: str) -> None:
    click.echo(message, err=True)


def printable(message: str) -> str:
    """A message from the library or from outside, safe to print: the access token and anything that looks like
    a bearer token redacted, on one line, control and bidirectional characters shown as escapes."""

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
            stderr(f"error: {printable(str(exc))}")
            sys.exit(1)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            stderr(f"{'terminated' if terminated else 'interrupted'}: nothing partial was stored")
            exit_now(143 if terminated else 130)
        except Exception as exc:  # a bug or an unforeseen failure: still one line, the details on request
            if os.environ.get("AUDITOR_DEBUG"):
                raise
            stderr(
                f"error: unexpected {type(exc).__name__}: {printable(str(exc))[:500]} "
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


def exit_now(code: int) -> None:
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


def day(value: datetime | None) -> Any:
    """A --from/--to option's date, or None."""
    return value.date() if value is not None else None


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


def scan_selector(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("an empty scan id names no scan: give a scan id, a unique prefix of one, or 'latest'")
    return value.strip() if value is not None else None


scan_option = click.option(
    "--scan",
    "scan_selector",
    default="latest",
    show_default=True,
    callback=scan_selector,
    help="Scan id (or unique prefix), or 'latest'.",
)

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Management group ids: 1-90 alphanumerics, hyphens, underscores, periods and parentheses, not ending with a
# period (https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules).
_MANAGEMENT_GROUP = re.compile(r"[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]")


def subscription_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
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


def management_groups(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
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


def formats(value: str) -> list[str]:
    """The comma-separated report formats, checked against the renderers; a usage error otherwise."""

    chosen = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in RENDERERS]
    if unknown or not chosen:
        raise click.UsageError(f"choose from {', '.join(RENDERERS)} (comma-separated), not {value!r}")
    return chosen


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
endpoint_option = click.option(
    "--endpoint", default=None, help="ARM endpoint URL (e.g. the emulator's); Azure by default."
)
ca_bundle_option = click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CA certificate file to trust for --endpoint.",
)
cloud_option = click.option("--cloud", type=click.Choice(CLOUDS), default="AzureCloud", show_default=True)
