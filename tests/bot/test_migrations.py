"""The Alembic migrations and the schema in code agree."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.engine import make_engine
from bot.store.schema import metadata


async def test_migrations_match_the_schema(db_url: str) -> None:
    """After `db upgrade`, autogenerate finds nothing to add, drop or alter."""
    engine = make_engine(db_url)

    def diff(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))

    try:
        async with engine.connect() as conn:
            changes = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert changes == []
