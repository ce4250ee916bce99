"""Run the Twilio simulator on its own: ``python -m bot.simulators``.

Credentials come from the environment (``TWILIO_SIM_ACCOUNT_SID``,
``TWILIO_SIM_AUTH_TOKEN``) or the command line; caseworker tokens from
``--caseworker NAME=TOKEN`` or ``TWILIO_SIM_CASEWORKERS`` (``NAME=TOKEN`` pairs
separated by ``;``).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

from aiohttp import web

from bot.simulators.twilio import (
    SimCaseworker,
    SimPhone,
    SimulatorConfig,
    create_simulator_app,
)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name.strip(), value.strip()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The parsed options.
    """
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m bot.simulators")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--account-sid", default=env.get("TWILIO_SIM_ACCOUNT_SID"))
    parser.add_argument("--auth-token", default=env.get("TWILIO_SIM_AUTH_TOKEN"))
    parser.add_argument(
        "--inbound-webhook-url",
        default=env.get("TWILIO_SIM_INBOUND_WEBHOOK_URL"),
        help="the service's incoming-SMS webhook, as the service computes its public URL",
    )
    parser.add_argument("--service-number", default=env.get("TWILIO_SIM_SERVICE_NUMBER"))
    parser.add_argument(
        "--media-base-url",
        default=env.get("TWILIO_SIM_MEDIA_BASE_URL"),
        help="this simulator's address as the service knows it (for MMS media URLs)",
    )
    parser.add_argument(
        "--phone",
        type=_pair,
        action="append",
        default=[],
        metavar="NUMBER=LABEL",
        help="a demo family phone; repeatable",
    )
    parser.add_argument("--caseworker-api-base", default=env.get("TWILIO_SIM_CASEWORKER_API"))
    parser.add_argument(
        "--caseworker",
        type=_pair,
        action="append",
        default=[_pair(p) for p in env.get("TWILIO_SIM_CASEWORKERS", "").split(";") if p],
        metavar="NAME=TOKEN",
        help="a caseworker the demo panel can act as; repeatable",
    )
    parser.add_argument("--status-delay", type=float, default=1.0)
    args = parser.parse_args(argv)
    if not args.account_sid or not args.auth_token:
        parser.error("--account-sid and --auth-token (or their environment variables) are required")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Start the simulator and serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = SimulatorConfig(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        inbound_webhook_url=args.inbound_webhook_url,
        phones=[SimPhone(number=n, label=label) for n, label in args.phone],
        caseworker_api_base=args.caseworker_api_base,
        caseworker_tokens=[SimCaseworker(name=n, token=t) for n, t in args.caseworker],
        status_delay=args.status_delay,
        service_number=args.service_number,
        media_base_url=args.media_base_url,
    )
    # No access log: request paths name phone numbers.
    web.run_app(
        create_simulator_app(config),
        host=args.host,
        port=args.port,
        shutdown_timeout=5,
        access_log=None,
    )


if __name__ == "__main__":
    main()
