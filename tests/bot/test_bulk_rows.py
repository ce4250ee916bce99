"""insert_many / update_many: the same rows as executemany, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, event, func, select, update

from bot.store.engine import UNNEST_FROM, insert_many, make_engine, update_many
from bot.store.schema.core import tenants

AT = datetime(2025, 2, 24, 9, 0, tzinfo=UTC)
# What update_many runs row by row where it does not take arrays.
_RENAME = (
    update(tenants)
    .where(tenants.c.id == bindparam("b_id"))
    .values(name=bindparam("b_name"), language="en")
)

_RENAME_LOWER = (
    update(tenants)
    .where(tenants.c.id == bindparam("b_id"))
    .values(name=bindparam("b_name"), language=func.lower(bindparam("b_name")))
)


async def test_many_rows_go_in_with_defaults_and_come_back_changed(db_url: str) -> None:
    """A batch above the array threshold and one below: every row stored, the language
    filled in from its Python default, then renamed with a constant set beside."""
    engine = make_engine(db_url)
    n = UNNEST_FROM * 3
    rows = [
        {
            "id": f"t{i:03d}",
            "slug": f"k{i}",
            "name": f"Kommune {i}",
            "sms_number": f"+45700{i:05d}",
            "created_at": AT,
        }
        for i in range(n)
    ]
    try:
        async with engine.begin() as conn:
            await insert_many(conn, tenants, rows[: UNNEST_FROM - 1])
            await insert_many(conn, tenants, rows[UNNEST_FROM - 1 :])
            stored = (await conn.execute(select(tenants).order_by(tenants.c.id))).all()
            assert [r.id for r in stored] == [r["id"] for r in rows]
            assert {r.language for r in stored} == {"da"}
            assert stored[5].created_at == AT
            for part in (rows[:2], rows[2:]):  # executemany, then one array statement
                await update_many(
                    conn,
                    tenants,
                    [{"id": r["id"], "name": r["name"].upper()} for r in part],
                    fallback=_RENAME,
                    assign={"language": "'en'"},
                )
            changed = (await conn.execute(select(tenants).order_by(tenants.c.id))).all()
        assert [r.name for r in changed] == [r["name"].upper() for r in rows]
        assert {r.language for r in changed} == {"en"}
    finally:
        await engine.dispose()


async def test_a_value_every_row_shares_is_sent_once(db_url: str) -> None:
    """Columns all rows agree on travel as one value, not one per row; the rows are the
    same either way, and a column an ``assign`` reads stays per row."""
    engine = make_engine(db_url)
    n = UNNEST_FROM * 2
    rows = [
        {
            "id": f"s{i:03d}",
            "slug": f"s{i}",
            "name": "Fælles Kommune",
            "sms_number": f"+45800{i:05d}",
            "language": "kl",
            "created_at": AT,
        }
        for i in range(n)
    ]
    sent: list[object] = []

    def remember(_conn: object, _cursor: object, _sql: str, params: object, *_: object) -> None:
        sent.append(params)

    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    try:
        async with engine.begin() as conn:
            await insert_many(conn, tenants, rows)
            stored = (await conn.execute(select(tenants).order_by(tenants.c.id))).all()
            assert [(r.id, r.name, r.language, r.created_at) for r in stored] == [
                (r["id"], "Fælles Kommune", "kl", AT) for r in rows
            ]
            await update_many(
                conn,
                tenants,
                [{"id": r["id"], "name": "Ny"} for r in rows],
                fallback=_RENAME_LOWER,
                assign={"language": "lower(v.name)"},
            )
            changed = (await conn.execute(select(tenants).order_by(tenants.c.id))).all()
        assert {(r.name, r.language) for r in changed} == {("Ny", "ny")}
        if engine.dialect.name == "postgresql":
            lists = [sum(isinstance(v, list) for v in p) for p in sent[:3:2]]  # type: ignore[attr-defined]
            # The insert: id, slug and sms_number differ row to row; name, language and
            # created_at went once. The update: the key and the name ``assign`` reads.
            assert lists == [3, 2]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", remember)
        await engine.dispose()


async def test_records_read_like_rows(db_url: str) -> None:
    """``records`` gives the rows' values by name; a result whose names a named tuple
    cannot take (a keyword, a name twice) comes back as the rows themselves."""
    from sqlalchemy import literal_column

    from bot.store.engine import records

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = records(
                await conn.execute(
                    select(literal_column("1").label("a"), literal_column("'x'").label("b"))
                )
            )
            assert [(r.a, r.b) for r in rows] == [(1, "x")]
            odd = records(
                await conn.execute(
                    select(literal_column("2").label("class"), literal_column("3").label("ok"))
                )
            )
            assert [(r[0], r.ok) for r in odd] == [(2, 3)]
    finally:
        await engine.dispose()


async def test_times_equal_in_python_but_not_in_utc_stay_apart(db_url: str) -> None:
    """02:30 in Copenhagen on the night clocks go back happens twice; Python calls the
    two equal, UTC does not. A batch holding both stores both."""
    from zoneinfo import ZoneInfo

    first = datetime(2024, 10, 27, 2, 30, tzinfo=ZoneInfo("Europe/Copenhagen"))
    second = first.replace(fold=1)
    assert first == second and first.astimezone(UTC) != second.astimezone(UTC)
    engine = make_engine(db_url)
    rows = [
        {
            "id": f"f{i:03d}",
            "slug": f"f{i}",
            "name": "K",
            "sms_number": f"+45810{i:05d}",
            "created_at": first if i % 2 else second,
        }
        for i in range(UNNEST_FROM * 2)
    ]
    try:
        async with engine.begin() as conn:
            await insert_many(conn, tenants, rows)
            stored = (
                await conn.execute(
                    select(tenants.c.id, tenants.c.created_at).order_by(tenants.c.id)
                )
            ).all()
        assert [r.created_at for r in stored] == [r["created_at"].astimezone(UTC) for r in rows]
    finally:
        await engine.dispose()


async def test_array_inserts_never_cut_a_string_too_long_for_its_column(db_url: str) -> None:
    """insert_many and insert_rows(arrays=True) refuse an over-long string on PostgreSQL,
    as a plain INSERT does, instead of storing it cut short (SQLite keeps it whole)."""
    from sqlalchemy.exc import DBAPIError

    from bot.store.engine import insert_rows

    engine = make_engine(db_url)
    long_slug = "x" * 200
    rows = [
        {
            "id": f"v{i:03d}",
            "slug": long_slug if i == 3 else f"v{i}",
            "name": "K",
            "sms_number": f"+45900{i:05d}",
            "created_at": AT,
        }
        for i in range(UNNEST_FROM)
    ]
    refused = []
    try:
        for write in (
            lambda c: insert_many(c, tenants, rows),
            lambda c: insert_rows(c, [(tenants, rows)], arrays=True),
        ):
            async with engine.connect() as conn:
                trans = await conn.begin()
                try:
                    await write(conn)
                    stored = (
                        await conn.execute(select(tenants.c.slug).where(tenants.c.id == "v003"))
                    ).scalar_one()
                    assert stored == long_slug
                except DBAPIError as exc:
                    refused.append("too long" in str(exc))
                finally:
                    await trans.rollback()
    finally:
        await engine.dispose()
    assert refused == ([True, True] if db_url.startswith("postgresql") else [])
