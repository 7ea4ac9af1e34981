"""The README tells the truth: every command line of its usage section runs on the demo store
(scans against the emulator) without an error, and the example policy it points to passes `auditor policy check`."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.emulator import EmulatorServer
from auditor.emulator.generator import generate_fleet
from tests.signing_keys import make_keys

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def usage_lines() -> list[str]:
    """Every command line of the README's `## Usage` section, comments dropped, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Usage") :]
    section = section[: section.index("\n## ", 4)]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for raw in block.splitlines():
            line = raw.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[EmulatorServer, dict[str, str]]]:
    # With in-cluster content: the emulator also serves each cluster's Kubernetes API and writes a kubeconfig.
    fleet = generate_fleet(
        clusters=12, subscriptions=3, seed=41, as_of=datetime(2026, 11, 24, tzinfo=UTC), kubernetes=True
    )
    with EmulatorServer(fleet) as server:
        names = [c["name"] for c in fleet["managedClusters"]]
        unique = sorted(n for n in names if names.count(n) == 1)
        named = next(c for c in fleet["managedClusters"] if c["name"] == unique[0])
        yield (
            server,
            {
                "SUB1": fleet["subscriptions"][0]["subscriptionId"],
                "SUB2": fleet["subscriptions"][1]["subscriptionId"],
                "MG": "contoso-root",
                "NAME": unique[0],
                "ARM_ID": named["id"],
                "POOL": named["properties"]["agentPoolProfiles"][-1]["name"],
                "fleet.kubeconfig": str(server.kubeconfig_file),
            },
        )


def test_the_usage_section_lists_every_command(tmp_path: Path) -> None:
    commands = {shlex.split(line)[1] for line in usage_lines() if line.startswith("auditor ")}
    from auditor.cli import cli

    assert set(cli.commands) <= commands


def test_every_usage_line_runs_on_the_demo_store(
    demo_store: Path, emulator: tuple[EmulatorServer, dict[str, str]], tmp_path: Path
) -> None:
    server, values = emulator
    shutil.copy(demo_store, tmp_path / "store.duckdb")
    values = {**values, "SCOPE": _latest_scope(tmp_path / "store.duckdb")}
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "tests" / "fixtures" / "aks-data", tmp_path / "aks-data")
    keys = make_keys(tmp_path / "keys", password=b"readme password")  # signer.p12 and ca.pem of the README
    shutil.copy(keys.p12, tmp_path / "signer.p12")
    shutil.copy(keys.ca, tmp_path / "ca.pem")
    env = {
        **os.environ,
        "AUDITOR_DB": str(tmp_path / "store.duckdb"),
        "AUDITOR_ACCESS_TOKEN": "readme-token",
        "SIGN_PASSWORD": "readme password",
        "PYTHONPATH": str(ROOT),
    }
    port = str(_free_port())
    background: subprocess.Popen[str] | None = None
    ran = []
    try:
        for line in usage_lines():
            words = shlex.split(line)
            extra_env = {}
            while "=" in words[0]:  # VAR=value auditor ...
                name, _, value = words.pop(0).partition("=")
                extra_env[name] = value
            assert words[0] == "auditor", line
            words = [values.get(w, w).replace("8443", port) for w in words]
            if words[1] in ("scan", "preflight") and "--endpoint" not in words:
                words += ["--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file)]
            argv = [sys.executable, "-m", "auditor", *words[1:]]
            if words[1:3] == ["emulator", "serve"]:
                background = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
                assert background.stdout is not None
                assert "endpoint:" in background.stdout.readline() + background.stdout.readline(), line
                _wait_for(int(port))
                ran.append(line)
                continue
            done = subprocess.run(
                argv, cwd=tmp_path, env={**env, **extra_env}, capture_output=True, text=True, timeout=300
            )
            # 3 is a verdict, not a failure: a gate met, or an upgrade step that must wait.
            allowed = (0, 3) if "--fail-on" in words or words[1] == "preflight" else (0,)
            assert done.returncode in allowed, f"{line}\n{done.stderr}"
            ran.append(line)
    finally:
        if background is not None:
            background.send_signal(signal.SIGTERM)
            background.wait(timeout=30)
    assert len(ran) == len(usage_lines()) >= 20


def _latest_scope(db_path: Path) -> str:
    """The scope id of the store's newest scan, as `auditor trend` prints it."""
    from auditor.store import list_scans, open_db, scan_scopes

    con = open_db(db_path, read_only=True)
    try:
        newest = list_scans(con)[-1]
        return scan_scopes(con, [newest])[newest.scan_id].scope_id
    finally:
        con.close()


def _wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_the_example_policy_passes_policy_check() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "auditor", "policy", "check", str(ROOT / "examples" / "policy.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"OK: {ROOT / 'examples' / 'policy.toml'}: ")
    assert "3 scope(s)" in done.stdout


def test_the_policy_docs_show_the_example_that_ships() -> None:
    doc = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    shown = re.search(r"## A complete example\n\n```toml\n(.*?)```", doc, re.S)
    assert shown is not None
    assert shown.group(1) == (ROOT / "examples" / "policy.toml").read_text(encoding="utf-8")


def _having(option: str) -> set[str]:
    """The top-level commands that take this option."""
    from auditor.cli import cli

    return {
        name
        for name, command in cli.commands.items()
        if not hasattr(command, "commands") and any(option in p.opts for p in command.params)
    }


def _named(segment: str) -> set[str]:
    return set(re.findall(r"`([a-z]+)`", segment))


def test_readme_claims_match_the_command_line() -> None:
    """The options paragraph names exactly the commands that take --db, --scan, --policy and -q."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert _named(text[text.index("selects the store for") :].split(";")[0]) == _having("--db")
    assert _named(text[: text.index("take `--scan ID|latest`")].rsplit(";", 1)[-1]) == _having("--scan")
    assert _named(text[: text.index("take `--policy FILE`")].rsplit(";", 1)[-1]) == _having("--policy")
    assert _named(text[text.index("`-q` exists for") :].split(":")[0]) == _having("-q")
    assert _named(text[text.index("`--scope ID|latest` exists for") :].split("(")[0]) == _having("--scope")
