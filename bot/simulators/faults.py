"""Fault injection shared by the gateway simulators: ``/_sim/faults``.

Tests and benchmarks make a simulated SMS gateway misbehave with
``POST /_sim/faults`` and a JSON object (every key optional):

* ``mode``: ``ok``; ``fail_5xx`` (the gateway's HTTP 500); ``fail_4xx`` (a
  valid message refused permanently, in the gateway's own words); ``hang`` (no
  answer until the simulator shuts down, or an hour); ``garbage`` (HTTP 200
  with an HTML page, as a broken proxy answers).
* ``count``: how many sends ``mode`` and ``delay`` apply to; ``null``: all.
* ``delay``: seconds each such send waits before it is handled.
* ``undeliverable``: recipients whose delivery reports end in failure.
* ``reorder_reports``: the final delivery report is sent first.

``GET`` shows the faults in force, ``DELETE`` resets them; each answers the
faults as JSON in the shape ``POST`` takes. What differs between gateways (the
error bodies, how a phone number is written) comes from :class:`GatewayWords`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from aiohttp import web

from bot.simulators.base import SimulatorState, read_json, sim_error

logger = logging.getLogger(__name__)

FAULT_MODES: Final = frozenset({"ok", "fail_5xx", "fail_4xx", "hang", "garbage"})
HANG_SECONDS: Final = 3600.0


@dataclass(frozen=True, slots=True)
class GatewayWords:
    """How one gateway's wire format says what the shared faults do.

    Attributes:
        unavailable: The HTTP 503 answer of a send that shutdown cut short
            (during a ``delay`` or a ``hang``).
        server_error: The HTTP 500 answer of ``fail_5xx``.
        number_key: A number named in ``undeliverable`` as the simulator writes
            a message's ``to``; ``None`` if the gateway takes no such number.
        number_error: The refusal when ``undeliverable`` is not a list of
            numbers the gateway takes.
    """

    unavailable: Callable[[], web.Response]
    server_error: Callable[[], web.Response]
    number_key: Callable[[str], str | None]
    number_error: str


@dataclass(slots=True)
class Faults:
    """The faults in force (see the module docstring for what each means)."""

    mode: str = "ok"
    count: int | None = None
    delay: float = 0.0
    undeliverable: frozenset[str] = frozenset()
    reorder_reports: bool = False

    def as_json(self) -> dict[str, Any]:
        """The faults as ``/_sim/faults`` shows them."""
        return {
            "mode": self.mode,
            "count": self.count,
            "delay": self.delay,
            "undeliverable": sorted(self.undeliverable),
            "reorder_reports": self.reorder_reports,
        }

    def report_steps(
        self, to: str, *, progress: Sequence[str], delivered: str, failed: str
    ) -> list[str]:
        """The statuses a message to ``to`` reports, in the order they are sent.

        Args:
            to: The recipient as the simulator writes it (see ``number_key``).
            progress: The gateway's statuses before the final one.
            delivered: The gateway's final status for a delivered message.
            failed: The gateway's final status for an undeliverable one.

        Returns:
            ``progress`` then the final status, or the final status first when
            ``reorder_reports`` is set.
        """
        final = failed if to in self.undeliverable else delivered
        return [final, *progress] if self.reorder_reports else [*progress, final]


class SendFault(NamedTuple):
    """What the faults do to one send.

    Attributes:
        answer: The answer to give at once, before the request is read; None
            to handle the send.
        refuse: Refuse the message with the gateway's 4xx once it is found
            valid (``fail_4xx``).
    """

    answer: web.Response | None
    refuse: bool


def parse_faults(data: object, words: GatewayWords) -> Faults | str:
    """Read a ``POST /_sim/faults`` body.

    Args:
        data: The decoded JSON body; None if it was not JSON.
        words: The gateway's way of writing numbers.

    Returns:
        The faults, or why they are refused.
    """
    if not isinstance(data, dict):
        return "expected a JSON object"
    mode = data.get("mode", "ok")
    count = data.get("count")
    delay = data.get("delay", 0.0)
    reorder = data.get("reorder_reports", False)
    if mode not in FAULT_MODES:
        return f"mode must be one of {sorted(FAULT_MODES)}"
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        return "count must be a positive integer or null"
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        return "delay must be a non-negative number"
    undeliverable = _number_keys(data.get("undeliverable", []), words)
    if undeliverable is None:
        return words.number_error
    if not isinstance(reorder, bool):
        return "reorder_reports must be true or false"
    return Faults(
        mode=mode,
        count=count,
        delay=float(delay),
        undeliverable=undeliverable,
        reorder_reports=reorder,
    )


def _number_keys(value: object, words: GatewayWords) -> frozenset[str] | None:
    """The numbers of ``undeliverable`` as messages' ``to``; None if it is not such a list."""
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        return None
    keys = [words.number_key(n) for n in value]
    if None in keys:
        return None
    return frozenset(k for k in keys if k is not None)


class FaultInjection:
    """One simulator's fault injection: the faults in force and what they do to a send."""

    def __init__(self, words: GatewayWords) -> None:
        self.words = words
        self.current = Faults()

    def take(self) -> tuple[str, float]:
        """Return the fault mode and delay for one send, counting ``count`` down."""
        faults = self.current
        mode, delay = faults.mode, faults.delay
        if (mode != "ok" or delay > 0) and faults.count is not None:
            faults.count -= 1
            if faults.count <= 0:
                faults.mode, faults.delay, faults.count = "ok", 0.0, None
        return mode, delay

    async def before_send(self, state: SimulatorState) -> SendFault:
        """Take one send's fault and play the part that comes before the request is read.

        Args:
            state: The simulator, whose shutdown ends a delay or a hang early.

        Returns:
            The answer to give at once, if any, and whether to refuse the
            message once it is valid.
        """
        mode, delay = self.take()
        if delay > 0 and not await state.pause(delay):
            return SendFault(self.words.unavailable(), refuse=False)
        if mode == "hang":
            await state.pause(HANG_SECONDS)
            return SendFault(self.words.unavailable(), refuse=False)
        if mode == "fail_5xx":
            return SendFault(self.words.server_error(), refuse=False)
        if mode == "garbage":
            garbage = web.Response(
                status=200, text="<html><body>502 Bad Gateway</body>", content_type="text/html"
            )
            return SendFault(garbage, refuse=False)
        return SendFault(None, refuse=mode == "fail_4xx")


FAULTS_KEY: Final = web.AppKey("simulator_faults", FaultInjection)


def add_fault_routes(app: web.Application, injection: FaultInjection) -> None:
    """Serve ``GET|POST|DELETE /_sim/faults`` for ``injection`` on ``app``."""
    app[FAULTS_KEY] = injection
    app.router.add_get("/_sim/faults", _get_faults)
    app.router.add_post("/_sim/faults", _set_faults)
    app.router.add_delete("/_sim/faults", _reset_faults)


async def _get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS_KEY].current.as_json())


async def _set_faults(request: web.Request) -> web.Response:
    injection = request.app[FAULTS_KEY]
    faults = parse_faults(await read_json(request), injection.words)
    if isinstance(faults, str):
        return sim_error(400, faults)
    injection.current = faults
    logger.info(
        "simulator faults set: mode=%s count=%s delay=%s", faults.mode, faults.count, faults.delay
    )
    return web.json_response(faults.as_json())


async def _reset_faults(request: web.Request) -> web.Response:
    request.app[FAULTS_KEY].current = Faults()
    return web.json_response(Faults().as_json())
