"""Progress display for long work: rich bars on a terminal, one line per step elsewhere, nothing when quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from auditor.cli.options import stderr
from auditor.vocabulary import ProgressHook


@contextmanager
def rich_progress() -> Iterator[ProgressHook]:
    """A progress hook (stage, done, total) drawing one bar per stage on stderr."""
    progress = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def hook(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done if total else 1)

    with progress:
        yield hook


def _line(stage: str, done: int, total: int) -> None:
    """One line per step, for logs and CI (no terminal to redraw a bar on)."""
    stderr(f"{stage}: {done} of {total}" if total else stage)


@contextmanager
def progress_hook(quiet: bool) -> Iterator[ProgressHook | None]:
    """The hook a command passes to the library: bars on a terminal, lines on a pipe or file, none when quiet."""
    if quiet:
        yield None
    elif sys.stderr.isatty():
        with rich_progress() as hook:
            yield hook
    else:
        yield _line
