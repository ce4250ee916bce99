"""Samtykke: the one consent record, per person (or one part in one case) and channel.

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0027_one_consent``, which moved the core ``consents`` (STOP/START) and the
integration API's ``participant_consents`` into it and dropped both.

A row is one thing someone said about consent, kept for good (the latest word
wins; :mod:`bot.domain.consent` reads it, nobody else does):

- ``participant_id``: NULL for the person on every case (STOP/START, a page),
  set when the case system said it for one part in one case.
- ``channel``: sms | email | digital_post | web (the secure inbox, as the
  integration API names it).
- ``state``: given | withdrawn | refused.
- ``scope``: proactive (reminders, milestones, nudges, updates: what STOP
  stops) | answers (every message but the automatic answers to the
  citizen's own SMS, as the case system's "no SMS" means).
- ``source``: sms_stop (the citizen's STOP/START) | api | page | migration
  (moved by 0027 where the old row did not say where it came from).
- ``actor``: who said it (citizen, integration:<key id>, staff:<id>, migration:<table>...).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from bot.store.schema.core import UTCDateTime, metadata

consent_records = Table(
    "consent_records",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("person_id", String(36), ForeignKey("persons.id"), nullable=False),
    Column("participant_id", String(36), ForeignKey("participants.id"), nullable=True, index=True),
    Column("channel", String(16), nullable=False),
    Column("state", String(12), nullable=False),
    Column("scope", String(12), nullable=False),
    Column("source", String(16), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(80), nullable=False),
    # A person's word on a channel, newest first: what every reader asks.
    Index("ix_consent_records_person", "person_id", "channel", "at"),
)
