"""Local look-alikes of SMS gateways, for tests and the demo."""

from __future__ import annotations

from channels.simulator.twilio_sim import (
    SimCaseworker,
    SimPhone,
    SimulatorConfig,
    create_simulator_app,
)

__all__ = ["SimCaseworker", "SimPhone", "SimulatorConfig", "create_simulator_app"]
