"""`auditor emulator serve|generate`: the local Azure stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditor.cli.options import handle_errors
from auditor.emulator import banner, serve_forever
from auditor.emulator.generator import generate_fleet, write_fleet


@click.group()
def emulator() -> None:
    """The local Azure stand-in: serve a fleet over HTTPS, or generate one."""


@emulator.command("serve")
@click.option(
    "--fleet",
    "fleet_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Fleet JSON file (a generated one by default).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output/emulator"),
    show_default=True,
    help="Where the CA and server certificate are written.",
)
@click.option("--latency-ms", type=click.FloatRange(0), default=None, help="Added latency per call.")
@click.option("--no-quotas", is_flag=True, help="Do not model Azure's throttling quotas.")
@click.option(
    "--forbid-subscription",
    "forbidden",
    multiple=True,
    help="List this subscription but let no one read its clusters (403; Resource Graph leaves them out).",
)
@click.option(
    "--hide-subscription", "hidden", multiple=True, help="Do not even list this subscription (no access at all)."
)
@click.option("--error-rate", type=click.FloatRange(0, 1), default=None, help="Share of calls answered 5xx.")
@click.option("--storm-seconds", type=click.FloatRange(0), default=None, help="Answer every call 429 for this long.")
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=None, help="Share of calls that hang.")
@click.option("--truncate-results", is_flag=True, help="Resource Graph truncates results longer than a page.")
@handle_errors
def emulator_serve(
    fleet_path: Path | None,
    port: int,
    state_dir: Path,
    latency_ms: float | None,
    no_quotas: bool,
    forbidden: tuple[str, ...],
    hidden: tuple[str, ...],
    error_rate: float | None,
    storm_seconds: float | None,
    timeout_rate: float | None,
    truncate_results: bool,
) -> None:
    """Serve a fleet until interrupted; prints the endpoint and CA file. Faults can also be set in the fleet file."""

    faults: dict[str, Any] = {}
    if storm_seconds:
        faults["storm_seconds"] = storm_seconds
    if timeout_rate:
        faults["timeout_rate"] = timeout_rate
    if truncate_results:
        faults["truncate_results"] = True
    if hidden:
        faults["hidden_subscriptions"] = list(hidden)
    serve_forever(
        fleet_path,
        port=port,
        state_dir=state_dir,
        latency_ms=latency_ms,
        quotas=not no_quotas,
        forbidden=forbidden,
        error_rate=error_rate,
        ready=lambda server: click.echo(banner(server)),
        **faults,
    )


@emulator.command("generate")
@click.option("--clusters", type=click.IntRange(1, 200_000), default=100, show_default=True)
@click.option("--subscriptions", type=click.IntRange(1, 5000), default=10, show_default=True)
@click.option("--regions", type=click.IntRange(1, 30), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("output/fleet.json"),
    show_default=True,
)
@handle_errors
def emulator_generate(clusters: int, subscriptions: int, regions: int, seed: int, out_path: Path) -> None:
    """Generate a realistic fleet file; prints its path."""

    fleet = generate_fleet(clusters=clusters, subscriptions=subscriptions, seed=seed, regions=regions, kubernetes=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_fleet(fleet, out_path)
    click.echo(str(out_path))
