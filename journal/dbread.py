"""Reading the database for verify and the witness: straight from the driver.

sqlite3 and asyncpg, not SQLAlchemy's result machinery: verify reads millions of
rows, and its worker processes import only the standard library (asyncpg when
the database is PostgreSQL).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def pg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` → the libpq-style DSN asyncpg takes."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        raise ValueError("not a PostgreSQL URL")
    return f"postgresql://{rest}"


def _sqlite_path(url: str) -> str:
    """``sqlite+aiosqlite:///path`` → ``path``."""
    _, sep, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    if not sep or not path or path == ":memory:":
        raise ValueError("verify needs a file-backed SQLite database")
    return path


def sqlite_ro(url: str) -> sqlite3.Connection:
    """A read-only connection: verify never writes, not even by accident."""
    return sqlite3.connect(f"{Path(_sqlite_path(url)).resolve().as_uri()}?mode=ro", uri=True)


async def queries(url: str, *todo: tuple[str, Sequence[Any]]) -> list[list[Any]]:
    """The rows of each (query, arguments), on one connection straight from the driver.

    SQLite is read here, not in a thread: worker processes fork best from one thread.
    """
    if url.startswith("sqlite"):
        db = sqlite_ro(url)
        try:
            return [db.execute(re.sub(r"\$\d", "?", sql), args).fetchall() for sql, args in todo]
        finally:
            db.close()
    import asyncpg

    conn = await asyncpg.connect(pg_dsn(url))
    try:
        return [list(await conn.fetch(sql, *args)) for sql, args in todo]
    finally:
        await conn.close()


async def query(url: str, sql: str, *args: Any) -> list[Any]:
    """The rows of one query ($1-style marks)."""
    return (await queries(url, (sql, args)))[0]
