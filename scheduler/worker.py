"""A stand-alone reminder worker: ``python -m scheduler.worker``.

Runs the reminder tick loop against a database without the web app, e.g. as
an extra worker process or in tests and benchmarks that start several of them.

Environment: ``TOVHOLDER_DATABASE_URL``, ``TOVHOLDER_KEKS``,
``TOVHOLDER_INDEX_KEY`` (as for the service), and optionally
``TOVHOLDER_WORKER_UNTIL_IDLE=1`` (stop when nothing is due),
``TOVHOLDER_WORKER_NOW`` (an ISO instant: run as if it were then; tests),
``TOVHOLDER_REMINDER_BATCH`` (rows per transaction) and ``TOVHOLDER_OUTBOX_BATCH``
(rows per relay pass, for callers that relay too).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.base.clock import Clock, SystemClock
from bot.base.config import Config, TwilioConfig, throughput_settings
from bot.base.crypto import BlindIndex, KeyRing, parse_key
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar
from bot.store.engine import make_engine
from channels.base import DeliveryReport, InboundSms, OutboundSms, SendResult, WebhookRequest
from journal.config import journal_config
from journal.signing import install_signer
from scheduler.runner import BATCH, FireStats, fire_due

log = logging.getLogger(__name__)


class FixedClock:
    """A clock that stays where it is put (a worker run "as of" an instant)."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at


class NoGateway:
    """The reminder worker never talks to a gateway: the outbox relay does."""

    name = "none"

    async def send(self, sms: OutboundSms) -> SendResult:
        raise RuntimeError("the reminder worker does not send SMS itself")

    def verify_inbound(self, request: WebhookRequest) -> InboundSms:
        raise RuntimeError("not a webhook endpoint")

    def verify_status(self, request: WebhookRequest) -> DeliveryReport:
        raise RuntimeError("not a webhook endpoint")


def services_from_env(env: Mapping[str, str], clock: Clock | None = None) -> Services:
    """Services enough for the runner: database, keys, clock and calendar."""
    keks = tuple(parse_key(k, what="TOVHOLDER_KEKS") for k in env["TOVHOLDER_KEKS"].split(","))
    index_key = parse_key(env["TOVHOLDER_INDEX_KEY"], what="TOVHOLDER_INDEX_KEY")
    config = Config(
        database_url=env["TOVHOLDER_DATABASE_URL"],
        public_base_url="http://127.0.0.1:8080",
        keks=keks,
        index_key=index_key,
        twilio=TwilioConfig(account_sid="AC" + "0" * 32, auth_token="reminder-worker-unused"),
        scheduler_enabled=False,
        extra=dict(env),
    )
    config = config.with_(**throughput_settings(env)).validate()
    engine_options = {} if config.database_url.startswith("sqlite") else {"pool_size": 2}
    engine = make_engine(config.database_url, **engine_options)
    # Reminders are journalised: the worker signs the heads it moves, like the service.
    journal = journal_config(config)
    install_signer(engine, journal.signer(), journal.signed_sink())
    return Services(
        config=config,
        engine=engine,
        clock=clock or SystemClock(),
        keyring=KeyRing(config.keks),
        blind_index=BlindIndex(config.index_key),
        calendar=WorkingCalendar(),
        gateway=NoGateway(),
    )


async def run(
    svc: Services, *, until_idle: bool, batch: int = BATCH, pause: float = 1.0
) -> FireStats:
    """Fire due reminders in a loop; with ``until_idle``, stop when nothing is due."""
    total = FireStats()
    while True:
        stats = await fire_due(svc, limit=batch)
        total.add(stats)
        if stats.claimed == 0:
            if until_idle:
                return total
            await asyncio.sleep(pause)


async def _main(env: Mapping[str, str]) -> FireStats:
    clock: Clock | None = None
    if env.get("TOVHOLDER_WORKER_NOW"):
        clock = FixedClock(datetime.fromisoformat(env["TOVHOLDER_WORKER_NOW"]))
    svc = services_from_env(env, clock)
    try:
        return await run(
            svc,
            until_idle=env.get("TOVHOLDER_WORKER_UNTIL_IDLE", "") in ("1", "true", "yes"),
            batch=svc.config.reminder_batch,
        )
    finally:
        await svc.engine.dispose()


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    stats = asyncio.run(_main(os.environ))
    print(
        f"claimed={stats.claimed} sent={stats.sent} skipped={stats.skipped} "
        f"postponed={stats.postponed} failed={stats.failed}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
