"""Local look-alikes of SMS gateways, for tests and the demo."""

from __future__ import annotations

from bot.simulators.gatewayapi import (
    GatewayApiSimulatorConfig,
    create_gatewayapi_simulator,
)
from bot.simulators.twilio import (
    SimCaseworker,
    SimPhone,
    SimulatorConfig,
    create_simulator_app,
)

__all__ = [
    "GatewayApiSimulatorConfig",
    "SimCaseworker",
    "SimPhone",
    "SimulatorConfig",
    "create_gatewayapi_simulator",
    "create_simulator_app",
]
