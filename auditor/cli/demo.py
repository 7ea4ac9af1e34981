"""`auditor demo`: the whole product against the emulator, no Azure account needed."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from auditor import demo as library_demo
from auditor.cli import views
from auditor.cli.options import handle_errors, quiet_option, stderr
from auditor.cli.progress import rich_progress


@click.command()
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
    with contextlib.ExitStack() as stack:
        hook = stack.enter_context(rich_progress()) if not quiet and sys.stderr.isatty() else None
        result = library_demo.run(
            out_dir,
            clusters=clusters,
            subscriptions=subscriptions,
            seed=seed,
            months=months,
            progress=hook,
            on_month=None if quiet else lambda *month: stderr(views.demo_month(*month)),
            on_gate=None if quiet else lambda *gate: stderr(views.demo_gate(*gate)),
        )
    if not quiet and result.partial:
        stderr("warning: a demo scan is partial")
    for path in result.paths:
        click.echo(str(path))
