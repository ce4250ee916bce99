"""A family texts the municipality: identify, file, store encrypted, receipt, journal.

Everything here happens in one transaction that commits before the webhook is
answered, so an SMS is either stored with its receipt queued and its journal
entries written, or not at all (and the gateway retries). This module is the
door: it checks the SMS, then files it alone (bot.domain.inbound_filing) or in a
batch with others that arrive with it (bot.domain.inbound_batch).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import phonenumbers
from sqlalchemy.exc import IntegrityError

from bot.base import metrics
from bot.base.errors import BadInput, NotFound
from bot.base.services import Services
from bot.domain import intents
from bot.domain.inbound_batch import BatchedSms
from bot.domain.inbound_filing import STORE, InboundResult, Intake, tenant_by_number
from channels.base import InboundSms

log = logging.getLogger(__name__)


class UnknownRecipient(NotFound):
    code = "unknown_recipient"


_DANISH_E164 = re.compile(r"\+45[1-9][0-9]{7}")


def normalise_number(raw: str, *, field: str = "From") -> str:
    """E.164 for a phone number as gateways send it (default region: Denmark)."""
    if _DANISH_E164.fullmatch(raw):
        # Already E.164, as gateways send it: only its validity to check (parsing is slow).
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(45, int(raw[3:]))):
            return raw
        raise BadInput(f"{field} is not a valid phone number", code="bad_number")
    try:
        parsed = phonenumbers.parse(raw, "DK")
    except phonenumbers.NumberParseException as exc:
        raise BadInput(f"{field} is not a phone number", code="bad_number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise BadInput(f"{field} is not a valid phone number", code="bad_number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=64)
def _municipality_number(raw: str) -> str:
    """The E.164 form of a number SMS are sent *to*: a municipality's, public, few."""
    return normalise_number(raw, field="To")


async def receive_sms(svc: Services, sms: InboundSms, *, provider: str) -> InboundResult:
    """Handle one verified inbound SMS. Commits before returning.

    On PostgreSQL under load, the SMS is filed in a batch with others that arrive
    with it (see bot.domain.inbound_batch and bot.base.batcher), exactly as it would
    be alone; what a batch cannot file that way, and every SMS on SQLite, goes alone
    (_alone).

    Raises:
        BadInput: a malformed number or an over-long body (nothing is written).
        UnknownRecipient: the SMS was sent to a number no municipality here owns.
        StorageUnavailable: the database is down; the gateway should retry.
    """
    if len(sms.body) > svc.config.max_body_chars:
        raise BadInput(
            f"Body is longer than {svc.config.max_body_chars} characters", code="body_too_long"
        )
    sender = normalise_number(sms.sender, field="From")
    recipient = _municipality_number(sms.recipient)
    if svc.batcher is None or intents.goes_alone(sms.body):
        return await _alone(svc, sms, provider, sender, recipient)
    item = BatchedSms(sms, provider, recipient, sender, svc.blind_index(sender))
    async with svc.batcher.turn(item) as batched:
        if batched is not None:
            return _received(svc, sms, batched)
        # Left to us: filed alone, while no batch takes this sender's next SMS.
        return await _alone(svc, sms, provider, sender, recipient)


async def _alone(
    svc: Services, sms: InboundSms, provider: str, sender: str, recipient: str
) -> InboundResult:
    """One SMS in its own transaction (see receive_sms)."""
    try:
        async with svc.write() as conn:
            tenant = await tenant_by_number(conn, svc, recipient)
            if tenant is None:
                seen = await STORE.seen(conn, provider=provider, provider_id=sms.provider_id)
                if seen is not None:
                    return InboundResult(seen, True, "duplicate")
                raise UnknownRecipient("No municipality here uses that number")
            # Deduplication on the provider's id is part of the first query of the flow.
            result = await Intake(svc, conn, sms, provider, tenant, sender).run()
    except IntegrityError:
        # A concurrent retry of the same webhook won the race: same answer as a replay.
        async with svc.read() as conn:
            seen = await STORE.seen(conn, provider=provider, provider_id=sms.provider_id)
        if seen is None:
            raise
        return InboundResult(seen, True, "duplicate")
    return _received(svc, sms, result)


def _received(svc: Services, sms: InboundSms, result: InboundResult) -> InboundResult:
    """After the commit: log, count, wake the relay."""
    if result.duplicate:
        return result
    log.info("inbound %s stored as %s (%s)", sms.provider_id, result.message_id, result.outcome)
    metrics.message_received()
    if result.queued:  # else the relay would wake for nothing to send
        svc.wake_relay()
    return result
