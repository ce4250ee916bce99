"""The database schema: one ``metadata``, a module per area.

Every area's tables are defined on :data:`bot.store.schema.core.metadata`;
importing this package registers them all, so Alembic and the tests see the
whole schema. Feature code imports its tables from the area's module.
"""

from __future__ import annotations

from bot.store.schema import (  # noqa: F401  (registers every area's tables)
    attachments,
    consent,
    core,
    integration,
    intents,
    journal,
    letters,
    limits,
    mms,
    oidc,
    pages,
    scheduler,
    search,
    triage,
)

metadata = core.metadata

__all__ = ["metadata"]
