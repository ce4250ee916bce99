"""The shared limits on PostgreSQL: one row per key, one atomic statement per change.

Gateway buckets and breakers (:class:`PgLimitBook`) and login starts per client
address (:func:`count_start`) live in ``shared_limits``.

Every statement reads the time from the database (``clock_timestamp()``), so
workers on hosts whose clocks disagree still share one bucket and one breaker.
A row is created by the first statement that needs it (``INSERT … ON CONFLICT``);
the row lock that statement takes is all the coordination there is: two workers
reserving at once are serialised by PostgreSQL, each sees the other's tokens gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, Integer, String, TextClause, bindparam
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.schema.core import UTCDateTime
from channels.base import GatewayError
from channels.limits import Health

_KEY = bindparam("key", type_=String())
_RATE = bindparam("rate", type_=Float())
_BURST = bindparam("burst", type_=Float())
_COUNT = bindparam("count", type_=Integer())
_THRESHOLD = bindparam("threshold", type_=Integer())
_SECONDS = bindparam("seconds", type_=Float())
_OPEN_FOR = "EXTRACT(EPOCH FROM (open_until - clock_timestamp()))::float8 AS open_for"

# Refill since the last reservation (at most a full bucket), then take: below zero is a queue.
_TAKE = sql_text(
    """
WITH now AS (SELECT clock_timestamp() AS t)
INSERT INTO shared_limits AS s (key, tokens, stamp, failures)
SELECT :key, :burst - :count, now.t, 0 FROM now
ON CONFLICT (key) DO UPDATE SET
    tokens = LEAST(
        :burst,
        s.tokens + GREATEST(EXTRACT(EPOCH FROM (EXCLUDED.stamp - s.stamp))::float8, 0) * :rate
    ) - :count,
    stamp = GREATEST(EXCLUDED.stamp, s.stamp)
RETURNING s.tokens + :count AS before
"""
).bindparams(_KEY, _RATE, _BURST, _COUNT)

_HEALTH = sql_text(f"SELECT failures, {_OPEN_FOR} FROM shared_limits WHERE key = :key").bindparams(
    _KEY
)

# One more failure; open for the cooldown at the threshold, and again when it was open
# (a failed half-open trial). A bucket made here starts full (LEAST caps it at TAKE).
_FAILED = sql_text(
    f"""
WITH now AS (SELECT clock_timestamp() AS t)
INSERT INTO shared_limits AS s (key, tokens, stamp, failures, open_until)
SELECT :key, 1e9, now.t, 1,
       CASE WHEN :threshold <= 1 THEN now.t + make_interval(secs => :seconds) END
FROM now
ON CONFLICT (key) DO UPDATE SET
    failures = s.failures + 1,
    trial_until = NULL,
    open_until = CASE
        WHEN s.open_until IS NOT NULL OR s.failures + 1 >= :threshold
        THEN clock_timestamp() + make_interval(secs => :seconds)
    END
RETURNING failures, {_OPEN_FOR}
"""
).bindparams(_KEY, _THRESHOLD, _SECONDS)

_HEALED = sql_text(
    "UPDATE shared_limits SET failures = 0, open_until = NULL, trial_until = NULL WHERE key = :key"
).bindparams(_KEY)

# The one half-open trial: the cooldown is over and no other worker's trial is out.
_TRIAL = sql_text(
    """
UPDATE shared_limits SET trial_until = clock_timestamp() + make_interval(secs => :seconds)
WHERE key = :key AND open_until <= clock_timestamp()
  AND (trial_until IS NULL OR trial_until <= clock_timestamp())
RETURNING key
"""
).bindparams(_KEY, _SECONDS)


class PgLimitBook:
    """A :class:`channels.limits.LimitBook` in the ``shared_limits`` table (PostgreSQL only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _one(self, stmt: TextClause, **params: Any) -> Any:
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(stmt, params)
                return result.first() if result.returns_rows else None
        except (DBAPIError, OSError) as exc:
            # Without the shared state nothing may be sent: the rows wait and try again.
            raise GatewayError(
                f"the shared gateway limits are unavailable ({type(exc).__name__})",
                transient=True,
            ) from exc

    async def take(self, key: str, rate: float, burst: float, count: int) -> float:
        row = await self._one(_TAKE, key=key, rate=rate, burst=burst, count=count)
        return float(row.before)

    async def health(self, key: str) -> Health:
        row = await self._one(_HEALTH, key=key)
        return Health(0, None) if row is None else Health(row.failures, row.open_for)

    async def failed(self, key: str, threshold: int, cooldown: float) -> Health:
        row = await self._one(_FAILED, key=key, threshold=threshold, seconds=cooldown)
        return Health(row.failures, row.open_for)

    async def healed(self, key: str) -> None:
        await self._one(_HEALED, key=key)

    async def trial(self, key: str, hold: float) -> bool:
        return await self._one(_TRIAL, key=key, seconds=hold) is not None


# -- login starts per client address: a fixed window per address -------------------------

_START = sql_text(
    """
INSERT INTO shared_limits AS s (key, tokens, stamp, failures) VALUES (:key, 1, :now, 0)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN s.stamp <= :since THEN 1 ELSE s.tokens + 1 END,
    stamp = CASE WHEN s.stamp <= :since THEN EXCLUDED.stamp ELSE s.stamp END
RETURNING tokens, stamp
"""
).bindparams(_KEY, bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime()))
_FORGET = sql_text(
    "DELETE FROM shared_limits WHERE key LIKE :prefix AND stamp <= :since"
).bindparams(bindparam("prefix", type_=String()), bindparam("since", type_=UTCDateTime()))


async def count_start(
    conn: AsyncConnection, key: str, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Count one start under ``key`` in its window (a new window once the last is over).

    Returns:
        The starts counted in the current window (this one included) and when it began.
    """
    row = (await conn.execute(_START, {"key": key, "now": now, "since": now - window})).one()
    return int(row.tokens), row.stamp


async def forget_starts(conn: AsyncConnection, prefix: str, before: datetime) -> None:
    """Drop the start counts under ``prefix`` whose window began before ``before``."""
    await conn.execute(_FORGET, {"prefix": prefix + "%", "since": before})
