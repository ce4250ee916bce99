"""reply templates per language: ``web_reply_templates.language``

One template may exist in several languages under one title (one row per
language; unique per municipality, title and language). Existing rows get the
language their letters tell (Cyrillic: uk, Arabic: ar, else da), as
``bot.domain.reply_templates.written_in`` guessed it before. A municipality's
unchanged Danish defaults also get their English, Ukrainian and Arabic texts
(before, English was offered for them from code; new municipalities are seeded
with all four).

Revision ID: 0034_template_languages
Revises: 0033_case_retention
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0034_template_languages"
down_revision = "0033_case_retention"
branch_labels = None
depends_on = "0014_reply_templates"  # web_reply_templates comes from its own branch

# A copy of written_in() as it was at this revision (migrations do not import the domain).
_SCRIPTS = (("uk", re.compile("[\u0400-\u04ff]")), ("ar", re.compile("[\u0600-\u06ff]")))


def _written_in(body: str) -> str:
    for code, letters in _SCRIPTS:
        if letters.search(body):
            return code
    return "da"


def upgrade() -> None:
    with op.batch_alter_table("web_reply_templates") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=8), server_default="da", nullable=False)
        )
    table = sa.table(
        "web_reply_templates",
        sa.column("id", sa.String),
        sa.column("body", sa.Text),
        sa.column("language", sa.String),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(table.c.id, table.c.body)).all():
        language = _written_in(row.body)
        if language != "da":
            conn.execute(table.update().where(table.c.id == row.id).values(language=language))
    with op.batch_alter_table("web_reply_templates") as batch:
        batch.drop_constraint("uq_web_reply_templates_tenant_id_title", type_="unique")
        batch.create_unique_constraint(
            "uq_web_reply_templates_tenant_id_title_language", ["tenant_id", "title", "language"]
        )
    _translate_unchanged_defaults(conn)


def _translate_unchanged_defaults(conn: sa.Connection) -> None:
    """Each unchanged Danish default gets its other languages (texts as the code has them)."""
    from bot.domain.reply_templates import DEFAULTS, TRANSLATIONS

    table = sa.table(
        "web_reply_templates",
        sa.column("id", sa.String),
        sa.column("tenant_id", sa.String),
        sa.column("title", sa.String),
        sa.column("language", sa.String),
        sa.column("body", sa.Text),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("created_by", sa.String),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    defaults = dict(DEFAULTS)
    rows = conn.execute(sa.select(table).where(table.c.language == "da")).all()
    for row in rows:
        if defaults.get(row.title) != row.body:
            continue
        for language, bodies in TRANSLATIONS.items():
            conn.execute(
                table.insert().values(
                    id=str(uuid.uuid4()),
                    tenant_id=row.tenant_id,
                    title=row.title,
                    language=language,
                    body=bodies[row.title],
                    position=row.position,
                    active=row.active,
                    created_by=None,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                )
            )


def downgrade() -> None:
    # Keeps one row per title (the Danish one, else any): the other languages are lost.
    table = sa.table(
        "web_reply_templates",
        sa.column("id", sa.String),
        sa.column("tenant_id", sa.String),
        sa.column("title", sa.String),
        sa.column("language", sa.String),
    )
    conn = op.get_bind()
    seen: set[tuple[str, str]] = set()
    rows = conn.execute(
        sa.select(table.c.id, table.c.tenant_id, table.c.title, table.c.language).order_by(
            sa.case((table.c.language == "da", 0), else_=1), table.c.id
        )
    ).all()
    for row in rows:
        key = (row.tenant_id, row.title)
        if key in seen:
            conn.execute(table.delete().where(table.c.id == row.id))
        seen.add(key)
    with op.batch_alter_table("web_reply_templates") as batch:
        batch.drop_constraint("uq_web_reply_templates_tenant_id_title_language", type_="unique")
        batch.create_unique_constraint(
            "uq_web_reply_templates_tenant_id_title", ["tenant_id", "title"]
        )
        batch.drop_column("language")
