"""Progress display for long work: rich on a terminal, nothing elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

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
