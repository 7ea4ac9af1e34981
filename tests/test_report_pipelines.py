"""The published CI pipelines (docs/pipelines/) call only commands and options the CLI has."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from auditor.cli import cli

PIPELINES = sorted((Path(__file__).resolve().parent.parent / "docs" / "pipelines").glob("*.yml"))
# The upgrade pipelines (preflight before each upgrade step); the others are the monthly audit.
UPGRADES = [p for p in PIPELINES if p.name.startswith("upgrade-")]
AUDITS = [p for p in PIPELINES if p not in UPGRADES]


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


def _check_options(pipeline: Path, calls: list[list[str]]) -> None:
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


@pytest.mark.parametrize("pipeline", AUDITS, ids=lambda p: p.name)
def test_pipeline_uses_real_commands_and_options(pipeline: Path) -> None:
    text = pipeline.read_text(encoding="utf-8")
    calls = _auditor_calls(text)
    used = {c[0] for c in calls}
    assert {"scan", "report", "verify", "findings"} <= used
    _check_options(pipeline, calls)
    assert "--fail-on high" in text
    assert "cron:" in text


@pytest.mark.parametrize("pipeline", UPGRADES, ids=lambda p: p.name)
def test_upgrade_pipelines_gate_every_step_in_order(pipeline: Path) -> None:
    """Each `az aks upgrade` / `az aks nodepool upgrade` runs right after an `auditor preflight` of that step, and
    the steps come in the order AKS requires: control plane, System pools, User pools."""
    text = pipeline.read_text(encoding="utf-8")
    _check_options(pipeline, _auditor_calls(text))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    steps = []
    for number, line in enumerate(lines):
        if line.startswith(("az aks upgrade", "az aks nodepool upgrade")):
            gate = next(
                lines[i] for i in range(number - 1, -1, -1) if "auditor preflight" in lines[i] or "az aks" in lines[i]
            )
            assert gate.startswith("auditor preflight"), f"{pipeline.name}: no preflight right before {line!r}"
            if line.startswith("az aks upgrade"):
                assert "--control-plane-only" in line and "--pool" not in gate
                steps.append("control plane")
            else:
                assert '--pool "$POOL"' in gate
                mode = next(lines[i] for i in range(number - 1, -1, -1) if "nodepool list" in lines[i])
                steps.append("system" if "mode=='System'" in mode else "user")
    assert steps == ["control plane", "system", "user"], steps
    assert len(UPGRADES) == 2


def test_github_workflow_uses_oidc_login() -> None:
    text = next(p for p in PIPELINES if p.name == "github-actions.yml").read_text(encoding="utf-8")
    assert "azure/login@v2" in text and "id-token: write" in text and "client-secret" not in text
