"""Engines and migrations for both backends: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Executable,
    Insert,
    Result,
    Select,
    String,
    Table,
    TextClause,
    TextualSelect,
    bindparam,
    column,
    event,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.base.config import is_sqlite  # noqa: E402  (re-exported: the store's callers ask it)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the pragmas and pool settings each backend wants."""
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Twenty connections, kept: overflow connections would be opened and closed again
    # as load comes and goes, and each new one prepares every statement anew.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    # No pre-ping (a round trip per checkout): a dead connection surfaces as a 503
    # that the gateway retries, and recycling keeps connections from going stale.
    kwargs.setdefault("pool_recycle", 1800)
    # The connection used last goes out first: below the pool's size, the same few
    # connections serve, with their statements prepared and their types known,
    # instead of each of the twenty preparing everything on its first turn.
    kwargs.setdefault("pool_use_lifo", True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _array_types(dbapi_conn: Any, _record: Any) -> None:
        # asyncpg looks up an array type the first time a connection meets it: a slow
        # catalogue query in the middle of a request. Met here, once per connection,
        # all in one look-up.
        cur = dbapi_conn.cursor()
        cur.execute(_ARRAY_TYPES)
        cur.close()

    return engine


# Every array type a batched statement sends (see insert_rows, insert_many, update_many).
_ARRAY_TYPES = (
    "SELECT CAST(NULL AS TEXT[]), CAST(NULL AS VARCHAR[]), CAST(NULL AS INTEGER[]), "
    "CAST(NULL AS BIGINT[]), CAST(NULL AS BOOLEAN[]), CAST(NULL AS BYTEA[]), "
    "CAST(NULL AS TIMESTAMP WITH TIME ZONE[]), CAST(NULL AS DATE[]), CAST(NULL AS FLOAT[])"
)


Rows = Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Then:
    """What ends an :func:`insert_rows` statement on PostgreSQL, after its inserts.

    ``sql`` reads the rows the insert into ``table`` returns (``returning``)
    as ``{returned}``; reading them makes those rows be inserted first.
    """

    table: Table
    returning: str
    sql: str


_COMPUTED = object()
# Per table: the Python-side column defaults Core would fill in for a missing key.
_DEFAULTS: dict[Table, tuple[tuple[str, Any], ...]] = {}
# Prebuilt statements, so SQLAlchemy's compiled cache hits instead of building anew.
_INSERTS: dict[Table, Insert] = {}
_STATEMENTS: dict[tuple[Any, ...], TextClause] = {}


def _insert(table: Table) -> Insert:
    stmt = _INSERTS.get(table)
    if stmt is None:
        stmt = _INSERTS[table] = table.insert()
    return stmt


def _defaults(table: Table) -> tuple[tuple[str, Any], ...]:
    found = _DEFAULTS.get(table)
    if found is None:
        found = _DEFAULTS[table] = tuple(
            (c.key, c.default.arg if c.default.is_scalar else _COMPUTED)  # type: ignore[attr-defined]
            for c in table.columns
            if c.default is not None
        )
    return found


def _runs(table: Table, rows: Rows) -> list[list[Mapping[str, Any]]]:
    """The rows, defaults filled in, as runs of consecutive rows giving the same columns."""
    runs: list[list[Mapping[str, Any]]] = []
    defaults = _defaults(table)
    last: Any = None  # the columns of the run being filled
    for row in rows:
        if defaults and (missing := [(k, v) for k, v in defaults if k not in row]):
            if any(v is _COMPUTED for _, v in missing):
                raise ValueError(f"{table.name}: give every column whose default is computed")
            row = {**row, **dict(missing)}
        keys = row.keys()
        if keys == last:
            runs[-1].append(row)
        else:
            runs.append([row])
            last = keys
    return runs


def _statement(
    todo: Sequence[tuple[Table, list[Mapping[str, Any]]]],
    then: Then | None,
    arrays: Sequence[tuple[bool, ...]] | None,
) -> TextClause:
    """The INSERTs as one statement, earlier ones as data-modifying CTEs; built once per shape.

    With ``arrays`` (per table, which columns are lists: see :func:`_split`), each
    table's rows travel as one array per column (``unnest``), so the shape, and with
    it the prepared statement, does not depend on row counts.
    """
    shape = (
        tuple(
            (t.name, tuple(rows[0]), arrays[i] if arrays is not None else len(rows))
            for i, (t, rows) in enumerate(todo)
        ),
        then,
    )
    stmt = _STATEMENTS.get(shape)
    if stmt is not None:
        return stmt
    parts: list[str] = []
    binds = []
    returned = None
    for t, (table, rows) in enumerate(todo):
        keys = list(rows[0])
        if arrays is not None:
            values = _unnest(table, keys, arrays[t], prefix=f"t{t}")
        else:
            tuples = []
            for r in range(len(rows)):
                names = [f"t{t}r{r}c{c}" for c in range(len(keys))]
                binds += [
                    bindparam(n, type_=table.c[k].type) for n, k in zip(names, keys, strict=True)
                ]
                tuples.append("(" + ", ".join(":" + n for n in names) + ")")
            values = "VALUES " + ", ".join(tuples)
        sql = f"INSERT INTO {table.name} ({', '.join(keys)}) {values}"
        if then is not None and table is then.table:
            if returned is not None:
                raise ValueError(f"{table.name}: rows giving different columns, and a Then")
            returned = f"t{t}"
            sql += f" RETURNING {then.returning}"
        parts.append(sql)
    if then is not None:
        if returned is None:
            raise ValueError(f"nothing inserted into {then.table.name} to end with")
        main, ctes = then.sql.format(returned=returned), parts
    else:
        main, ctes = parts[-1], parts[:-1]
    head = "WITH " + ", ".join(f"t{i} AS ({p})" for i, p in enumerate(ctes)) + " " if ctes else ""
    stmt = _STATEMENTS[shape] = text(head + main).bindparams(*binds)
    return stmt


async def insert_rows(
    conn: AsyncConnection,
    batches: Sequence[tuple[Table, Rows]],
    *,
    then: Then | None = None,
    arrays: bool = False,
) -> bool:
    """Insert rows into several tables, in order, in as few round trips as the backend allows.

    PostgreSQL: one statement, the earlier tables as data-modifying CTEs; its
    foreign keys are checked when the whole statement ends, so a row may name
    a row inserted before it in the same call. SQLite (in-process, no round
    trips): one prebuilt INSERT per table.

    Args:
        then: on PostgreSQL, a statement to end with (see :class:`Then`).
        arrays: on PostgreSQL, send one array per column instead of one parameter
            per value: for callers whose row counts vary from call to call (a
            batch), which then share one prepared statement.

    Returns:
        Whether ``then`` ran (never on SQLite; the caller does its work itself).
    """
    todo = [(table, run) for table, rows in batches if rows for run in _runs(table, rows)]
    if not todo:
        return False
    if conn.dialect.name != "postgresql" or (
        then is None and len(todo) == 1 and len(todo[0][1]) == 1
    ):
        for table, rows in todo:
            await conn.execute(_insert(table), rows)
        return False
    lists: list[tuple[bool, ...]] | None = None
    if arrays:
        params: dict[str, Any] = {}
        lists = []
        for t, (table, rows) in enumerate(todo):
            keys = tuple(rows[0])
            # A value every row shares by construction (the municipality, the batch's
            # time, a state) travels once; anything else as a list.
            listed, split = _split(conn, table, keys, rows, keep=keys[:1], equal=False)
            lists.append(listed)
            params.update({f"t{t}{name}": v for name, v in split.items()})
    else:
        params = {
            f"t{t}r{r}c{c}": row[key]
            for t, (_, rows) in enumerate(todo)
            for r, row in enumerate(rows)
            for c, key in enumerate(rows[0])
        }
    await conn.execute(_statement(todo, then, lists), params)
    return then is not None


# From this many rows, PostgreSQL is sent one array per column (``unnest``): one
# execution for the whole batch instead of one per row, which is most of what a
# row costs it when the rows are small.
UNNEST_FROM = 8
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_UNNEST: dict[tuple[Any, ...], TextClause] = {}


def _split(
    conn: AsyncConnection,
    table: Table,
    keys: Sequence[str],
    rows: Rows,
    keep: Sequence[str],
    *,
    equal: bool = True,
) -> tuple[tuple[bool, ...], dict[str, Any]]:
    """The parameters: one list per column, or one value for a column all rows agree on.

    A batch often gives many columns one value (its municipality, a state, a time);
    those travel once, not once per row. The columns in ``keep`` are always lists.
    Without ``equal``, only a column holding one object in every row travels once
    (values equal by chance do not): which columns are lists then follows from the
    caller's code, not from its data, and so do the statements it prepares.

    Returns:
        (which columns are lists, the parameters ``a<i>`` and ``s<i>``), each value
        through its column type's bind processing.
    """
    arrays: list[bool] = []
    out: dict[str, Any] = {}
    for i, k in enumerate(keys):
        process = table.c[k].type.bind_processor(conn.dialect)
        values = list(map(itemgetter(k), rows))
        if k not in keep and len(set(map(id, values))) == 1:  # one object in every row
            arrays.append(False)
            out[f"s{i}"] = process(values[0]) if process is not None else values[0]
            continue
        if process is not None:
            # Compared as they will be sent: two local times one hour apart at a DST
            # fold are equal in Python, but not once converted to UTC.
            values = [process(v) for v in values]
        if equal and k not in keep and values.count(values[0]) == len(values):
            arrays.append(False)
            out[f"s{i}"] = values[0]
            continue
        arrays.append(True)
        out[f"a{i}"] = values
    return tuple(arrays), out


def _cast_type(table: Table, key: str) -> str:
    """The type a parameter for ``key`` is cast to: its column's, strings without a length.

    An explicit cast to ``VARCHAR(64)`` cuts a longer string short without a word; cast
    to ``TEXT``, the insert's own assignment to the column refuses it, as a plain
    INSERT would.
    """
    kind = table.c[key].type
    if isinstance(kind, String):
        return "TEXT"
    return str(kind.compile(dialect=_PG))


def _unnest(table: Table, keys: Sequence[str], arrays: Sequence[bool], prefix: str = "") -> str:
    """``SELECT … FROM unnest(…) AS u(…)``: the listed columns unnested, the others bound once.

    The parameters are ``<prefix>a<i>`` (lists) and ``<prefix>s<i>`` (single values).
    """
    listed = [(i, k) for i, (k, is_list) in enumerate(zip(keys, arrays, strict=True)) if is_list]
    casts = ", ".join(f"CAST(:{prefix}a{i} AS {_cast_type(table, k)}[])" for i, k in listed)
    picks = ", ".join(
        f"u.{k}" if is_list else f"CAST(:{prefix}s{i} AS {_cast_type(table, k)})"
        for i, (k, is_list) in enumerate(zip(keys, arrays, strict=True))
    )
    return f"SELECT {picks} FROM unnest({casts}) AS u({', '.join(k for _, k in listed)})"


async def insert_many(conn: AsyncConnection, table: Table, rows: Rows) -> None:
    """Insert rows into one table: on PostgreSQL one statement however many rows.

    Column defaults are filled in as Core would (see :func:`_runs`); consecutive rows
    giving the same columns go together.
    """
    for run in _runs(table, rows):
        if conn.dialect.name != "postgresql" or len(run) < UNNEST_FROM:
            await conn.execute(_insert(table), run)
            continue
        keys = tuple(run[0])
        arrays, params = _split(conn, table, keys, run, keep=keys[:1])
        shape = ("insert", table.name, keys, arrays)
        stmt = _UNNEST.get(shape)
        if stmt is None:
            stmt = _UNNEST[shape] = text(
                f"INSERT INTO {table.name} ({', '.join(keys)}) {_unnest(table, keys, arrays)}"
            )
        await conn.execute(stmt, params)


async def update_many(
    conn: AsyncConnection,
    table: Table,
    rows: Rows,
    *,
    fallback: Executable,
    key: str = "id",
    assign: Mapping[str, str] | None = None,
) -> None:
    """Update one row per item of ``rows`` (matched on ``key``), setting the columns given.

    On PostgreSQL with many rows: one ``UPDATE … FROM unnest(…)``; ``assign`` may
    set a column to an SQL expression over the row (``t``) and the item (``v``),
    e.g. ``{"attempts": "t.attempts + 1"}``. Otherwise ``fallback`` runs once per
    item (executemany), with each value bound as ``b_<column>``; it must do the same.
    Keys must be distinct: PostgreSQL updates a row once per statement.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql" or len(rows) < UNNEST_FROM:
        await conn.execute(fallback, [{f"b_{k}": v for k, v in r.items()} for r in rows])
        return
    keys = tuple(rows[0])
    extra = tuple(sorted((assign or {}).items()))
    # The key, and what an ``assign`` expression reads from the item, stay per row.
    keep = [key, *(k for k in keys if any(f"v.{k}" in sql for _, sql in extra))]
    arrays, params = _split(conn, table, keys, rows, keep=keep)
    shape = ("update", table.name, key, keys, extra, arrays)
    stmt = _UNNEST.get(shape)
    if stmt is None:
        sets = {k: f"v.{k}" for k in keys if k != key} | dict(extra)
        stmt = _UNNEST[shape] = text(
            f"UPDATE {table.name} AS t SET {', '.join(f'{k} = {v}' for k, v in sets.items())} "
            f"FROM ({_unnest(table, keys, arrays)}) AS v({', '.join(keys)}) "
            f"WHERE t.{key} = v.{key}"
        )
    await conn.execute(stmt, params)


# Evaluated left to right: the value before, then the change (for this transaction).
_BITMAP_OFF = text(
    "SELECT current_setting('enable_bitmapscan'), set_config('enable_bitmapscan', 'off', true)"
)
_BITMAP_BACK = text("SELECT set_config('enable_bitmapscan', :was, true)")


@asynccontextmanager
async def index_walk(conn: AsyncConnection) -> AsyncIterator[None]:
    """Have PostgreSQL walk an index for the claims inside, whatever its statistics say.

    A claim (``ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED`` along an index in that
    order) on a table that grew since it was last analysed (100,000 reminders
    booked since the last ANALYZE) is otherwise planned as a bitmap scan of every
    due row and a sort of them all, once per batch: at 100,000 due, 250 ms and a
    20 MB sort on disk per claim instead of 6 ms. Inside the caller's transaction;
    the setting is back to what it was afterwards (or gone with a failed transaction).
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    was = (await conn.execute(_BITMAP_OFF)).scalar_one()
    yield
    await conn.execute(_BITMAP_BACK, {"was": was})


_RECORDS: dict[tuple[str, ...], Any] = {}


def records(result: Result[Any]) -> list[Any]:
    """A result's rows as named tuples, for loops over thousands of rows.

    A ``Row``'s attributes are looked up by name on every access; a named tuple's
    are fixed offsets, several times cheaper where a batch reads each row often.
    """
    keys = tuple(result.keys())
    if keys not in _RECORDS:
        try:
            _RECORDS[keys] = namedtuple("Record", keys)._make  # type: ignore[attr-defined]
        except ValueError:  # a name a named tuple cannot have (a keyword, "_x", twice)
            _RECORDS[keys] = None
    make = _RECORDS[keys]
    return list(result) if make is None else list(map(make, result))


def frozen_for_postgresql(stmt: Select[Any]) -> TextualSelect:
    """``stmt`` compiled once for PostgreSQL, kept as text with its parameters' and columns' types.

    For a hot statement SQLAlchemy cannot cache: one using PostgreSQL's
    ``INSERT … ON CONFLICT`` construct (which has no cache key) would otherwise
    be compiled again on every execution. Parameters keep their names.
    """
    dialect = postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
    compiled = stmt.compile(dialect=dialect)
    binds = [
        bindparam(name, type_=bind.type)
        if bind.required
        else bindparam(name, compiled.params[name], type_=bind.type)
        for bind, name in compiled.bind_names.items()
    ]
    columns = [column(str(c.key), c.type) for c in stmt.selected_columns]
    return text(compiled.string).bindparams(*binds).columns(*columns)


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` with Alembic, on the given engine."""

    def _run(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def at_head(conn: AsyncConnection) -> bool:
    """Is the database's schema at the migrations' head (nothing left for ``db upgrade``)?

    The migrations form several branches (one per area) that depend on each
    other, so "at head" means: every revision is applied, i.e. each one is
    among the revisions the database's current heads stand on.
    """

    def _current(sync: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(sync).get_current_heads())

    current = await conn.run_sync(_current)
    if not current:
        return False
    script = _script()
    applied = {rev.revision for rev in script.iterate_revisions(current, "base")}
    return applied >= _all_revisions()


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def _all_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in _script().walk_revisions())
