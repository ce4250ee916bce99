"""Triage of a claimed batch: what may go as a plain SMS now, what waits, what goes one by one.

One query loads every message of the batch. A plain SMS to a citizen goes out
with the batch; quiet hours put a proactive SMS back to wait; what needs more
than a plain SMS (a staff notice, e-mail, an inbox-first citizen, a notice
instead of sensitive content or of a text over the segment limit) goes the
one-by-one way, which knows all of that. A message put back for quiet hours is
journalised with when it may go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from bot.base.crypto import unseal
from bot.base.services import Services
from bot.domain.gate import quiet_hours
from bot.domain.outbox.notes import note_delays
from bot.domain.outbox.policy import QUIET_HOURS_EXEMPT, SEGMENT_LIMIT_EXEMPT, over_limit
from bot.domain.privacy import TenantChannelSettings, needs_notice, tenant_settings_for
from bot.store.engine import records
from bot.store.schema.core import cases, messages, outbox, persons, tenants
from channels.base import OutboundSms
from scheduler.quiet import QuietSettings
from scheduler.settings import pick, settings_map
from scheduler.urgent import urgent_ids


@dataclass(slots=True)
class Plain:
    """A claimed row that is an ordinary SMS to a citizen, ready to go."""

    outbox_id: str
    message_id: str
    kind: str
    attempts: int
    sms: OutboundSms


async def triage(svc: Services, claimed: list[Any]) -> tuple[list[Plain], list[str], list[str]]:
    """Split a claimed batch: (plain SMS to send together, rows for one-by-one, quiet rows).

    One query loads every message of the batch. What needs more than a plain
    SMS (a staff notice, e-mail, an inbox-first citizen, a notice instead of
    sensitive content) goes the one-by-one way, which knows all of that.

    Args:
        svc: The services.
        claimed: The claimed outbox rows, in queue order.

    Returns:
        The plain SMS, the outbox ids to send one by one, and the outbox ids put
        back to wait for the end of quiet hours.
    """
    by_message = {r.message_id: r for r in claimed if r.staff_notice_id is None and r.message_id}
    single = [r.id for r in claimed if r.message_id not in by_message]
    if not by_message:
        return [], single, []
    now = svc.clock.now()
    batch = await _load_batch(svc, list(by_message))
    single += [by_message[m].id for m in by_message if m not in batch.rows]
    plain: list[Plain] = []
    held: list[tuple[str, datetime, str]] = []
    sorter = _Sorter(svc, batch, now)
    for mid, claim in by_message.items():
        row = batch.rows.get(mid)
        if row is None:
            continue
        when = sorter.held_until(row)
        if when is not None:
            held.append((claim.id, when, row.id))
            continue
        sms = sorter.plain_sms(row)
        if sms is None:
            single.append(claim.id)
            continue
        plain.append(Plain(claim.id, row.id, row.kind, claim.attempts, sms))
    if held:
        await _hold_for_quiet_hours(svc, [(oid, when) for oid, when, _ in held])
        await note_delays(svc, [(mid, when) for _, when, mid in held])
    return plain, single, [oid for oid, _, _ in held]


@dataclass(frozen=True, slots=True)
class _Batch:
    """What one read brings for a claimed batch."""

    rows: dict[str, Any]  # the messages, by id
    quiet: dict[tuple[str, str | None], QuietSettings]
    urgent: set[str]
    settings: dict[str, TenantChannelSettings]  # by tenant id


async def _load_batch(svc: Services, message_ids: list[str]) -> _Batch:
    """Load the batch's messages, their quiet hours, urgency marks and tenant settings."""
    async with svc.read() as conn:
        rows = records(
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.tenant_id,
                    messages.c.key_scope,
                    messages.c.body_enc,
                    messages.c.case_id,
                    messages.c.person_id,
                    messages.c.sensitive,
                    messages.c.via,
                    messages.c.kind,
                    cases.c.dek.label("case_dek"),
                    persons.c.dek.label("person_dek"),
                    persons.c.phone_enc,
                    persons.c.channel_pref,
                    tenants.c.sms_number,
                )
                .join(persons, persons.c.id == messages.c.person_id)
                .join(tenants, tenants.c.id == messages.c.tenant_id)
                .outerjoin(cases, cases.c.id == messages.c.case_id)
                .where(messages.c.id.in_(message_ids))
            )
        )
        tenant_ids = sorted({r.tenant_id for r in rows})
        proactive = [r for r in rows if r.kind not in QUIET_HOURS_EXEMPT]
        quiet = (
            await settings_map(conn, tenant_ids, sorted({r.person_id for r in proactive}))
            if proactive
            else {}
        )
        urgent = await urgent_ids(conn, [r.id for r in proactive]) if proactive else set()
        settings = {t: await tenant_settings_for(conn, t) for t in tenant_ids}
    return _Batch({r.id: r for r in rows}, quiet, urgent, settings)


def _needs_more_than_sms(row: Any) -> bool:
    """True when the row's own fields already send it the one-by-one way."""
    return (
        row.phone_enc is None
        or row.via is not None
        or row.channel_pref in ("email", "inbox_first")
        or row.sensitive
    )


@dataclass(slots=True)
class _Sorter:
    """Decides row by row how a claimed SMS goes, doing shared work once per batch."""

    svc: Services
    batch: _Batch
    now: datetime
    # A batch often holds many SMS of one case or one text: unwrap and check each once.
    deks: dict[tuple[str, str], bytes] = field(default_factory=dict)
    notice: dict[tuple[str, str], bool] = field(default_factory=dict)
    long: dict[tuple[str, str], bool] = field(default_factory=dict)
    # Most rows share their municipality's quiet hours: until when they hold, once each.
    allowed: dict[int, datetime | None] = field(default_factory=dict)

    def held_until(self, row: Any) -> datetime | None:
        """When quiet hours (:func:`bot.domain.gate.quiet_hours`) let a proactive,
        non-urgent SMS go, if that is later than now."""
        if row.kind in QUIET_HOURS_EXEMPT or row.id in self.batch.urgent:
            return None
        applies = pick(self.batch.quiet, row.tenant_id, row.person_id)
        if id(applies) not in self.allowed:
            hold = quiet_hours(self.now, applies, self.svc.calendar)
            # Without what the SMS is about, quiet hours only ever delay (never "too late").
            self.allowed[id(applies)] = hold.until if hold is not None else None
        return self.allowed[id(applies)]

    def plain_sms(self, row: Any) -> OutboundSms | None:
        """The row as a plain SMS, or None when it must go the one-by-one way."""
        if _needs_more_than_sms(row):
            return None
        body = self._body(row)
        tenant = self.batch.settings[row.tenant_id]
        if self._needs_notice(row.tenant_id, body, tenant, row.kind in SEGMENT_LIMIT_EXEMPT):
            return None  # the one-by-one way sends a notice with a link instead
        person_dek = self._dek("persons", row.person_id, row.person_dek)
        return OutboundSms(
            reference=row.id,
            sender=row.sms_number,
            recipient=unseal(person_dek, row.phone_enc, f"persons:{row.person_id}:phone"),
            body=body,
            route=tenant.gateways,
        )

    def _dek(self, table: str, row_id: str, wrapped: bytes) -> bytes:
        if (table, row_id) not in self.deks:
            self.deks[(table, row_id)] = self.svc.dek(table, row_id, wrapped)
        return self.deks[(table, row_id)]

    def _body(self, row: Any) -> str:
        if row.key_scope == "case":
            body_dek = self._dek("cases", row.case_id, row.case_dek)
        else:
            body_dek = self._dek("persons", row.person_id, row.person_dek)
        return unseal(body_dek, row.body_enc, f"messages:{row.id}:body")

    def _needs_notice(
        self, tenant_id: str, body: str, tenant: TenantChannelSettings, exempt: bool
    ) -> bool:
        """Sensitive, or (unless ``exempt``) over the segment limit: checked once per text."""
        if (tenant_id, body) not in self.notice:
            self.notice[(tenant_id, body)] = needs_notice(
                body, sensitive=False, terms=tenant.sensitive_terms
            )
        if self.notice[(tenant_id, body)]:
            return True
        if exempt:
            return False
        if (tenant_id, body) not in self.long:
            self.long[(tenant_id, body)] = over_limit("", body, tenant.max_segments) is not None
        return self.long[(tenant_id, body)]


async def _hold_for_quiet_hours(svc: Services, held: list[tuple[str, datetime]]) -> None:
    """Put rows that fell due in quiet hours back to wait, uncounted, in one statement."""
    async with svc.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("b_id"))
            .values(
                state="pending",
                next_attempt_at=bindparam("b_when"),
                lease_until=None,
                attempts=outbox.c.attempts - 1,
            ),
            [{"b_id": oid, "b_when": when} for oid, when in held],
        )
