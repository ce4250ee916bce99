"""For a test of one migration: the schema just before it, and the step back down.

Seed the database as it stood before the revision (:func:`heads_before`), upgrade,
check; then :func:`downgrade_one` and check again. The empty database per backend
is the ``fresh_url`` fixture (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.script import ScriptDirectory

from bot.store.engine import alembic_config


def heads_before(revision: str) -> list[str]:
    """Every head whose history does not hold ``revision``, and ``revision``'s own parents."""
    script = ScriptDirectory.from_config(alembic_config())
    others = [
        head
        for head in script.get_heads()
        if revision not in {r.revision for r in script.iterate_revisions(head, "base")}
    ]
    mine = script.get_revision(revision)
    assert mine is not None
    return [*others, *mine._all_down_revisions]


def downgrade_one(revision: str) -> Any:
    """For ``conn.run_sync``: undo ``revision`` on that connection."""

    def run(conn: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, f"{revision}@-1")

    return run
