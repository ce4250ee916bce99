"""0037_tenant_logo: the logos' table comes and goes; a municipality keeps what it had."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.store.engine import make_engine, upgrade
from bot.store.schema.core import tenant_logos, tenants
from tests.migrations import downgrade_one, heads_before

MINE = "0037_tenant_logo"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


async def test_the_logo_table_comes_with_0037_and_goes_with_its_downgrade(fresh_url: str) -> None:
    """Before 0037 a municipality exists without a logo table; after it one logo per
    municipality may be filed (a second is refused); the downgrade drops the table and
    leaves the municipality; upgrading again works."""
    engine = make_engine(fresh_url)
    try:
        for head in heads_before(MINE):
            await upgrade(engine, head)
        tenant = str(uuid.uuid4())
        async with engine.begin() as conn:
            await conn.execute(
                tenants.insert().values(
                    id=tenant, slug="kbh", name="Kbh", sms_number="+4570000000", created_at=T0
                )
            )
            assert not await conn.run_sync(lambda c: sa.inspect(c).has_table("tenant_logos"))
        await upgrade(engine)

        def logo() -> sa.Insert:
            return tenant_logos.insert().values(
                tenant_id=tenant,
                content_type="image/svg+xml",
                body=b"<svg/>",
                sha256="0" * 64,
                updated_at=T0,
            )

        async with engine.begin() as conn:
            await conn.execute(logo())
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(logo())
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(tenant_logos))).one()
        assert (row.tenant_id, bytes(row.body), row.updated_at) == (tenant, b"<svg/>", T0)

        async with engine.begin() as conn:
            await conn.run_sync(downgrade_one(MINE))
        async with engine.connect() as conn:
            assert not await conn.run_sync(lambda c: sa.inspect(c).has_table("tenant_logos"))
            assert (await conn.execute(sa.select(tenants.c.slug))).scalars().all() == ["kbh"]
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(lambda c: sa.inspect(c).has_table("tenant_logos"))
    finally:
        await engine.dispose()
