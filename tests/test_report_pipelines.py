"""The published CI pipelines (docs/pipelines/) call only commands and options the CLI has."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from auditor.cli import cli

PIPELINES = sorted((Path(__file__).resolve().parent.parent / "docs" / "pipelines").glob("*.yml"))


def _auditor_calls(text: str) -> list[list[str]]:
    """Each `auditor ...` command line, continuation lines joined, split into words."""
    joined = re.sub(r"\\\n\s*", " ", text)
    joined = re.sub(r"\$\(([A-Za-z_.]+)\)", r"VAR_\1", joined)  # Azure Pipelines macros: $(NAME)
    calls = []
    for line in joined.splitlines():
        line = line.split("#")[0] if not line.strip().startswith("#") else ""
        for match in re.finditer(r"(?:^|[\s(|$])auditor\s+([a-z]+(?:\s+[a-z]+)?)((?:\s+[^|>)]*)?)", line):
            calls.append([*match.group(1).split(), *match.group(2).split()])
    return calls


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: p.name)
def test_pipeline_uses_real_commands_and_options(pipeline: Path) -> None:
    text = pipeline.read_text(encoding="utf-8")
    calls = _auditor_calls(text)
    used = {c[0] for c in calls}
    assert {"scan", "report", "verify", "findings"} <= used
    for words in calls:
        command: click.Command | None = cli
        rest = list(words)
        while isinstance(command, click.Group) and rest and rest[0] in command.commands:
            command = command.commands[rest.pop(0)]
        if command is cli:
            continue  # a word like "auditor only reads" in a comment or message
        assert command is not None
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for word in rest:
            if word.startswith("--"):
                where = f"{pipeline.name}: {' '.join(words)}"
                assert word.split("=")[0] in known, f"{where}: unknown option {word}"
    assert "--fail-on high" in text
    assert "cron:" in text


def test_github_workflow_uses_oidc_login() -> None:
    text = next(p for p in PIPELINES if p.name == "github-actions.yml").read_text(encoding="utf-8")
    assert "azure/login@v2" in text and "id-token: write" in text and "client-secret" not in text
