"""The relay loop: claim a batch, triage it, send it both ways at once, and count the outcome."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.base import metrics
from bot.base.clock import COPENHAGEN
from bot.base.services import Services
from bot.domain import gate
from bot.domain.guard import sendtime
from bot.domain.outbox.batch import send_plain
from bot.domain.outbox.claim import claim_batch
from bot.domain.outbox.settle import settle_plain, withhold
from bot.domain.outbox.single import send_one
from bot.domain.outbox.triage import triage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelayStats:
    """What one relay round did: rows claimed, and SMS sent, put back to retry, or failed."""

    claimed: int
    sent: int
    retried: int
    failed: int
    # Held back by the send-time gate (STOP, restriction, no consent, authority).
    withheld: int = 0


async def relay_once(svc: Services, limit: int | None = None) -> RelayStats:
    """Claim and send one batch of due outbound SMS. Safe to run in several workers.

    The batch is claimed and loaded with two statements; plain SMS go to the
    gateway many per request (or concurrently, bounded) and are marked done
    together as soon as the gateway has answered, which keeps the window in
    which a crash could make a retry send one twice as short as it can be.
    Everything else (staff notices, e-mail, inbox-first, sensitive content)
    goes one by one.
    """
    claimed = await claim_batch(svc, limit or svc.config.outbox_batch)
    if not claimed:
        return RelayStats(0, 0, 0, 0)
    held = await _gate(svc, claimed)
    plain, single, _quiet = await triage(svc, [r for r in claimed if r.id not in held])
    gate = asyncio.Semaphore(svc.config.send_concurrency)

    async def one(oid: str) -> str:
        async with gate:
            try:
                return await send_one(svc, oid)
            except Exception:
                # The lease expires and the row is claimed again: nothing is lost.
                log.exception("outbox %s: unexpected failure while sending", oid)
                return "error"

    async def plain_batch() -> tuple[int, int, int]:
        if not plain:
            return 0, 0, 0
        return await settle_plain(svc, plain, await send_plain(svc, plain))

    outcomes, (sent, retried, failed) = await asyncio.gather(
        asyncio.gather(*(one(i) for i in single)), plain_batch()
    )
    if outcomes.count("sent"):
        metrics.message_sent("sms", outcomes.count("sent"))
    return RelayStats(
        claimed=len(claimed),
        withheld=len(held),
        sent=sent + outcomes.count("sent"),
        retried=retried + outcomes.count("retried"),
        failed=failed + outcomes.count("failed"),
    )


async def _gate(svc: Services, claimed: list[Any]) -> set[str]:
    """Ask the send-time gate about every citizen SMS of the batch; settle those it holds back.

    This is the one place every outbound citizen SMS passes, whatever made it.
    Returns the outbox ids held back.
    """
    to_citizens = {r.message_id: r.id for r in claimed if r.message_id and not r.staff_notice_id}
    if not to_citizens:
        return set()
    # Periods of authority are Danish calendar days.
    today = svc.clock.now().astimezone(COPENHAGEN).date()
    async with svc.read() as conn:
        reasons = await gate.withheld(
            conn, list(to_citizens), today, email_relay=svc.email is not None
        )
        rest = [m for m in to_citizens if m not in reasons]
        reasons |= dict.fromkeys(await sendtime.decisions(svc, conn, rest), gate.DECISION)
    for message_id, reason in reasons.items():
        await withhold(svc, to_citizens[message_id], message_id, reason)
    return {to_citizens[m] for m in reasons}


async def drain(svc: Services, *, max_rounds: int = 100) -> int:
    """Relay until nothing is due (tests and the CLI use this). Returns how many were sent."""
    sent = 0
    for _ in range(max_rounds):
        stats = await relay_once(svc)
        sent += stats.sent
        if stats.claimed == 0:
            break
    return sent
