"""0034_template_languages: existing reply templates get the language their letters tell;
afterwards one title may hold a text per language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain.reply_templates import DEFAULTS, TRANSLATIONS
from bot.store.engine import make_engine, upgrade
from bot.store.schema.core import tenants
from bot.store.schema.pages import web_reply_templates
from tests.migrations import downgrade_one, heads_before

MINE = "0034_template_languages"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

# The table as it stood before 0034 (no language column).
_old = sa.MetaData()
old_templates = sa.Table(
    "web_reply_templates",
    _old,
    sa.Column("id", sa.String(36)),
    sa.Column("tenant_id", sa.String(36)),
    sa.Column("title", sa.String(80)),
    sa.Column("body", sa.Text),
    sa.Column("position", sa.Integer),
    sa.Column("active", sa.Boolean),
    sa.Column("created_by", sa.String(36)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

OLD_ROWS = {  # title -> (body, the language it should get)
    "Tak": ("Hej {fornavn}. Tak for din besked. Hilsen {sagsbehandler}", "da"),
    "Thanks": ("Hi {fornavn}. Thank you. Regards {sagsbehandler}", "da"),
    "Дякую (uk)": ("Вітаю, {fornavn}. Дякую. {sagsbehandler}", "uk"),
    "شكرا (ar)": ("مرحبا {fornavn}. شكرا. {sagsbehandler}", "ar"),
    # An unchanged default (gets its three other languages) and a changed one (does not).
    "Bekræft møde": (dict(DEFAULTS)["Bekræft møde"], "da"),
    "Papirer modtaget": (dict(DEFAULTS)["Papirer modtaget"] + " Vh", "da"),
}


async def test_existing_templates_get_their_language_and_titles_take_one_text_per_language(
    fresh_url: str,
) -> None:
    """Danish, English-in-Latin, Ukrainian and Arabic rows before 0034: after it each has
    the language written_in() guessed (Latin counts as Danish), nothing else changed, and an
    unchanged default gets its English, Ukrainian and Arabic texts; a second
    language under the same title is accepted, a second text in the same language is not;
    the downgrade keeps one row per title."""
    engine = make_engine(fresh_url)
    try:
        for head in heads_before(MINE):
            await upgrade(engine, head)
        tenant = str(uuid.uuid4())
        ids = {title: str(uuid.uuid4()) for title in OLD_ROWS}
        async with engine.begin() as conn:
            await conn.execute(
                tenants.insert().values(
                    id=tenant, slug="kbh", name="Kbh", sms_number="+4570000000", created_at=T0
                )
            )
            for position, (title, (body, _)) in enumerate(OLD_ROWS.items()):
                await conn.execute(
                    old_templates.insert().values(
                        id=ids[title],
                        tenant_id=tenant,
                        title=title,
                        body=body,
                        position=position,
                        active=True,
                        created_by=None,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(web_reply_templates))).all()
        got = {r.title: (r.body, r.language) for r in rows if r.id in ids.values()}
        assert got == OLD_ROWS
        added = {(r.title, r.language): r.body for r in rows if r.id not in ids.values()}
        assert added == {
            ("Bekræft møde", language): bodies["Bekræft møde"]
            for language, bodies in TRANSLATIONS.items()
        }
        assert {r.position for r in rows if r.title == "Bekræft møde"} == {4}

        def add(title: str, language: str) -> Any:
            return web_reply_templates.insert().values(
                id=str(uuid.uuid4()),
                tenant_id=tenant,
                title=title,
                language=language,
                body="Hi {fornavn}",
                position=0,
                active=True,
                created_at=T0,
                updated_at=T0,
            )

        async with engine.begin() as conn:
            await conn.execute(add("Tak", "en"))
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(add("Tak", "da"))
        async with engine.begin() as conn:
            await conn.run_sync(downgrade_one(MINE))
        async with engine.connect() as conn:
            back = (await conn.execute(sa.select(old_templates))).all()
        assert sorted((r.title, r.body) for r in back) == sorted(
            (t, b) for t, (b, _) in OLD_ROWS.items()
        )
        await upgrade(engine)
    finally:
        await engine.dispose()
