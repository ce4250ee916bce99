"""Table for a family's wish that waits for their "yes" (bekræftelse af ønske).

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0029_intent_confirm``. When a family writes something that reads like an
opt-out or a cancellation in their own words, the service asks once by SMS
("Vil du aflyse mødet …? Svar JA") and keeps the question here, durably, until
they answer yes (``confirmed``) or it lapses (``lapsed``: another message came
first, or a day passed). :mod:`bot.domain.intents` reads and writes it.

- ``intent``: STOP | START | AFLYS (the side effect that waits).
- ``phone_index``: the number's blind index (the yes comes from the same number).
- ``case_id`` / ``appointment_id``: the case and the meeting an AFLYS is about
  (NULL for STOP/START: they hold for the number).
- ``message_id``: the family's message that was read as the wish;
  ``question_id``: the question sent; ``answer_id``: the message that settled it.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from bot.store.schema.core import UTCDateTime, metadata

intent_confirmations = Table(
    "intent_confirmations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    Column("phone_index", String(64), nullable=False),
    Column("person_id", String(36), ForeignKey("persons.id"), nullable=False),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=True),
    Column("appointment_id", String(36), ForeignKey("appointments.id"), nullable=True),
    Column("intent", String(8), nullable=False),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False),
    # NULL when the question went as a hook's answer (then the next SMS on the thread).
    Column("question_id", String(36), ForeignKey("messages.id"), nullable=True),
    # open → confirmed | lapsed
    Column("state", String(12), nullable=False),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("settled_at", UTCDateTime(), nullable=True),
    Column("answer_id", String(36), ForeignKey("messages.id"), nullable=True),
    Index("ix_intent_confirmations_open", "tenant_id", "phone_index", "state"),
)
