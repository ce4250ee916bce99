"""Table for limits that every worker shares: gateway token buckets, breakers, login starts.

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0032_shared_limits``. One row per key (``gateway:twilio``, ``login:10.0.0.1``),
updated with one atomic statement per claim batch (``bot.store.limits``). Only
PostgreSQL deployments use it; a SQLite deployment is one process, whose limits
stay in its memory. No personal data: a key is a gateway's name or a client
address, which the login limiter forgets after its window.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table

from bot.store.schema.core import UTCDateTime, metadata

shared_limits = Table(
    "shared_limits",
    metadata,
    Column("key", String(80), primary_key=True),
    # A token bucket: tokens left at ``stamp`` (negative: reserved ahead, a queue).
    Column("tokens", Float, nullable=False),
    Column("stamp", UTCDateTime(timezone=True), nullable=False),
    # A circuit breaker: consecutive failures, open until, a half-open trial out until.
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("open_until", UTCDateTime(timezone=True), nullable=True),
    Column("trial_until", UTCDateTime(timezone=True), nullable=True),
)
