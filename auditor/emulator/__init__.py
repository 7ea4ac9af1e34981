"""A local Azure stand-in (ARM + Resource Graph, read-only, HTTPS) and the synthetic fleet generator."""

from auditor.emulator.faults import CALL_KINDS, Behaviour
from auditor.emulator.fleet import (
    FLEET_SCHEMA,
    Fleet,
    FleetError,
    fleet_from_azure_examples,
    load_fleet,
    write_fleet,
)
from auditor.emulator.server import COUNTER_NAMES, DEFAULT_SERVE_PORT, EmulatorServer, banner, serve_forever

__all__ = [
    "CALL_KINDS",
    "COUNTER_NAMES",
    "DEFAULT_SERVE_PORT",
    "FLEET_SCHEMA",
    "Behaviour",
    "EmulatorServer",
    "Fleet",
    "FleetError",
    "fleet_from_azure_examples",
    "load_fleet",
    "banner",
    "serve_forever",
    "write_fleet",
]
