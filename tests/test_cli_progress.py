"""The command line's progress hook: lines on a pipe, nothing when quiet (bars on a terminal are rich's)."""

from __future__ import annotations

import pytest

from auditor.cli.progress import progress_hook


def test_quiet_gives_no_hook() -> None:
    with progress_hook(quiet=True) as hook:
        assert hook is None


def test_a_pipe_gets_one_line_per_step(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_hook(quiet=False) as hook:  # pytest's captured stderr is not a terminal
        assert hook is not None
        hook("evaluating scans (kept for next time)", 1, 3)
        hook("computing the period over 2 scan(s)", 0, 0)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "evaluating scans (kept for next time): 1 of 3",
        "computing the period over 2 scan(s)",
    ]
