"""Tables for what staff teach the triage (bot.domain.triage_teach).

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0030_triage_examples``.

- ``triage_examples``: one citizen message a member of staff labelled ("Ikke
  akut", "Er akut", "Bekymring"). The text is sealed under the same data key as
  the message body (the case's, or the person's while unassigned), so erasing
  the case erases the example with it.
- ``triage_models``: one municipality's trained weights (``tovholder triage train
  --tenant``): plain JSON arrays, never pickle, sealed under the row's own data
  key because the vocabulary holds word fragments of the municipality's examples.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table, UniqueConstraint

from bot.store.schema.core import UTCDateTime, metadata

triage_examples = Table(
    "triage_examples",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=True),
    Column("person_id", String(36), ForeignKey("persons.id"), nullable=False),
    # Whose data key seals text_enc: "case" or "person" (as messages.key_scope).
    Column("key_scope", String(8), nullable=False),
    Column("text_enc", LargeBinary, nullable=False),
    # akut | bekymring | none
    Column("level", String(12), nullable=False),
    Column("staff_id", String(36), ForeignKey("staff.id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # One label per message: a second click relabels it.
    UniqueConstraint("message_id"),
)

triage_models = Table(
    "triage_models",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    Column("dek", LargeBinary, nullable=False),
    Column("weights_enc", LargeBinary, nullable=False),
    Column("examples", Integer, nullable=False),
    Column("trained_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant_id"),
)
