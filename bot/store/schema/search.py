"""The search index (søgeindeks): keyed blind-index tokens of people's names.

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0024_case_search``. One row per person and normalised word of their name:
``token`` is HMAC-SHA256 under the deployment's index key of
``"name-word:<tenant id>:<word>"`` (see :mod:`bot.domain.search_index`), so the
table holds no name, and the same word in two municipalities gives two tokens.
A phone number needs no row here: ``persons.phone_index`` is already its
blind index. What the table reveals and what it does not: docs/search-index.md.

Also here, as the case list is what asks for it: ``ix_messages_awaiting_case``,
the open messages by case (partial: only messages awaiting a reply).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, PrimaryKeyConstraint, String, Table, text

from bot.store.schema.core import messages, metadata

person_search_tokens = Table(
    "person_search_tokens",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    Column("person_id", String(36), ForeignKey("persons.id"), nullable=False),
    Column("token", String(64), nullable=False),
    PrimaryKeyConstraint("person_id", "token"),
    # The search's question: who in this municipality has this word in their name.
    Index("ix_person_search_tokens_lookup", "tenant_id", "token"),
)

# The case list's open items: a case's open messages (only those are in the index).
_AWAITING = text("awaiting_reply IS TRUE")
ix_messages_awaiting_case = Index(
    "ix_messages_awaiting_case",
    messages.c.case_id,
    postgresql_where=_AWAITING,
    sqlite_where=_AWAITING,
)
