"""What became of our answer to each family message (bot.domain.conversations)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.domain.conversations import _answer_statuses

MINE = "staff-1"


def _states(*thread: tuple[str, str | None, str]) -> list[Any]:
    """(direction, author, status) in the thread's order -> each family message's state."""
    rows = [SimpleNamespace(direction=d, author_id=a, status=s) for d, a, s in thread]
    items: list[dict[str, Any]] = [{"answer_status": None} for _ in rows]
    _answer_statuses(rows, items)
    return [i["answer_status"] for r, i in zip(rows, items, strict=True) if r.direction == "in"]


def test_the_answer_is_the_newest_of_the_caseworkers_next_messages() -> None:
    """A failed reply, then a resend that got through: answered; receipts and reminders (no
    author) neither answer nor hide a failed answer."""
    assert _states(
        ("in", None, "received"),
        ("out", None, "delivered"),  # the receipt
        ("out", MINE, "failed"),
        ("out", MINE, "delivered"),
    ) == ["delivered"]
    assert _states(
        ("in", None, "received"),
        ("out", MINE, "failed"),
        ("out", None, "delivered"),  # a reminder
    ) == ["failed"]


def test_each_family_message_has_its_own_answer() -> None:
    """Two messages in a row share the answer after them; a later message's failed answer
    does not touch an earlier one that was answered; nobody wrote after it: None."""
    assert _states(
        ("in", None, "received"),
        ("in", None, "received"),
        ("out", MINE, "withheld"),
    ) == ["withheld", "withheld"]
    assert _states(
        ("in", None, "received"),
        ("out", MINE, "delivered"),
        ("in", None, "received"),
        ("out", MINE, "failed"),
        ("in", None, "received"),
    ) == ["delivered", "failed", None]
