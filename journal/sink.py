"""The heads sink: chain heads copied to an append-only file outside the database.

Every line is one JSON object ``{"chain", "seq", "hash", "at", "mac"}`` where
``mac`` is HMAC-SHA256, under a key the database never sees, over the
canonical JSON of the other four fields. Someone who rewrites the whole
database (and recomputes every hash) cannot rewrite these lines without the
key, so ``journal verify`` finds the rewrite by comparing the two.

Lines are appended with ``O_APPEND`` in one ``write`` and fsynced; several
workers may append the same head twice, which is harmless.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.base.services import Services
from bot.store.schema.core import journal_heads
from bot.store.schema.journal import journal_anchors
from journal.config import JournalConfig, journal_config
from journal.sinkfile import append_lines, format_line

log = logging.getLogger(__name__)


async def heads_tick(svc: Services, config: JournalConfig | None = None) -> int:
    """Write every chain head that moved since the last tick to the heads sink.

    Args:
        svc: the service context.
        config: the journal configuration; by default ``svc.config.journal``.

    Returns:
        How many heads were written (0 when no sink is configured).
    """
    cfg = config or journal_config(svc.config)
    if cfg.heads_sink is None or cfg.heads_key is None:
        return 0
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(
                    journal_heads.c.chain,
                    journal_heads.c.tenant_id,
                    journal_heads.c.seq,
                    journal_heads.c.hash,
                    journal_anchors.c.seq.label("anchored_seq"),
                )
                .outerjoin(journal_anchors, journal_anchors.c.chain == journal_heads.c.chain)
                .where(
                    journal_heads.c.seq > 0,
                    or_(
                        journal_anchors.c.seq.is_(None),
                        journal_anchors.c.seq != journal_heads.c.seq,
                    ),
                )
                .order_by(journal_heads.c.chain)
            )
        ).all()
    if not rows:
        return 0
    now = svc.clock.now()
    key = cfg.heads_key
    lines = [format_line(key, r.chain, r.seq, r.hash, now) for r in rows]
    # The sink first: an anchor row claims a line that is already durable.
    await asyncio.to_thread(append_lines, cfg.heads_sink, lines)
    async with svc.write() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        for r in rows:
            stmt = insert(journal_anchors).values(
                chain=r.chain, tenant_id=r.tenant_id, seq=r.seq, hash=r.hash, anchored_at=now
            )
            # Another worker may have anchored the same chain meanwhile: last write wins.
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[journal_anchors.c.chain],
                    set_={"seq": r.seq, "hash": r.hash, "anchored_at": now},
                )
            )
    log.info("heads sink: %d chain heads written", len(rows))
    return len(rows)
