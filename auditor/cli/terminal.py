"""What tables printed on stdout share: a console that does not fold rows for a pipe, and cluster labels that stay
unambiguous when two clusters share a name."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterable

from rich.console import Console

# A table written to a pipe or a file keeps one row per line up to this width, instead of rich's 80 columns.
PIPE_WIDTH = 4096


class PipeAwareConsole(Console):
    """A rich Console that leaves a broken pipe to the command line."""

    def on_broken_pipe(self) -> None:
        # rich would exit 1 here; the command line decides instead (auditor/cli/options.py: quiet, exit code kept).
        self.quiet = True
        raise BrokenPipeError


def stdout_console() -> Console:
    """A rich Console on stdout: the terminal's width on a terminal; wide (COLUMNS if set) for a pipe or a file."""
    width: int | None = None
    if not sys.stdout.isatty():
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH
    return PipeAwareConsole(file=sys.stdout, soft_wrap=False, width=width)


def cluster_labels(clusters: Iterable[tuple[str, str, str, str]]) -> dict[str, str]:
    """A label per cluster ARM id (lower case) from (id, name, subscription, resource group): the name alone where
    it is unique, with the subscription where names repeat, and the resource group too where that is not enough."""
    by_name: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    names: dict[str, tuple[str, str, str]] = {}
    for cluster_id, name, subscription, group in clusters:
        key = cluster_id.lower()
        names[key] = (name, subscription, group)
        by_name[name.lower()].add((key, subscription.lower(), group.lower()))
    labels = {}
    for key, (name, subscription, group) in names.items():
        same = by_name[name.lower()]
        if len({k for k, _, _ in same}) == 1:
            labels[key] = name
        elif len({k for k, s, _ in same if s == subscription.lower()}) == 1:
            labels[key] = f"{name} ({subscription})"
        else:
            labels[key] = f"{name} ({subscription}/{group})"
    return labels
