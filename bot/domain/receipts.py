"""What a receipt says: who answers and by when, and what the citizen must know now.

The words are the catalogue's (:mod:`bot.domain.texts`), in the citizen's
language; this module picks which sentences apply. Every receipt fits the
segment limit in every language: the CPR warning goes first, then the detail,
and the 112 line is never dropped.
"""

from __future__ import annotations

from datetime import datetime

from bot.base.clock import COPENHAGEN
from bot.base.phones import grouped
from bot.base.workdays import WorkingCalendar
from bot.domain import texts
from bot.domain.dispatch import Decision
from bot.domain.routing import FrontDesk, Route
from bot.domain.texts import text


def urgent_line(language: str, decision: Decision, after_hours_phone: str | None) -> str:
    """ "Er det akut, så ring 112 …" for an urgent message outside opening hours, else ""."""
    if not decision.urgent or decision.open_now:
        return ""
    if after_hours_phone:
        return text(language, "urgent_after_hours", phone=grouped(after_hours_phone))
    return text(language, "urgent_112")


def case_receipt(
    language: str,
    *,
    owner_first_name: str,
    colleague: str | None,
    reply_by: datetime,
    route: Route,
    urgent_line: str,
    has_cpr: bool,
    urgent_now: bool = False,
) -> str:
    """The receipt for a message filed on a case.

    Args:
        urgent_now: urgent, and the team is open: the receipt says someone acts today.
        colleague: the first name of whoever answers instead of the caseworker
            (None when the caseworker answers, or nobody is available).
    """
    when = texts.long_date(reply_by.astimezone(COPENHAGEN).date(), language)
    if urgent_now:
        # Open now and urgent: someone acts today, not "by Wednesday".
        who = colleague or owner_first_name
        cpr = text(language, "cpr_warning") if has_cpr else ""
        body = text(language, "receipt_urgent", first_name=who)
        return texts.compose((body, cpr), (body,))
    if route.reason == "owner":
        body = text(language, "receipt", first_name=owner_first_name, reply_by=when)
    elif colleague is not None and route.back_on is not None:
        back_on = texts.long_date(route.back_on, language)
        body = text(
            language, "receipt_covered", back_on=back_on, colleague=colleague, reply_by=when
        )
    elif colleague is not None:
        body = text(language, "receipt_colleague", colleague=colleague, reply_by=when)
    elif route.back_on is not None:
        back_on = texts.long_date(route.back_on, language)
        body = text(language, "receipt_fallback_away", back_on=back_on, reply_by=when)
    else:
        body = text(language, "receipt_fallback", reply_by=when)
    cpr = text(language, "cpr_warning") if has_cpr else ""
    return texts.compose(
        (body, cpr, urgent_line),
        (body, urgent_line),
        (text(language, "receipt_short", reply_by=when), urgent_line),
    )


def neutral_receipt(language: str, *, urgent: bool, desk: FrontDesk | None, has_cpr: bool) -> str:
    """The receipt for a message on no case: it names nobody; the 112 line when urgent."""
    cpr = text(language, "cpr_warning") if has_cpr else ""
    line = ""
    if urgent and desk is not None and not desk.open_now and desk.after_hours_phone:
        line = text(language, "urgent_after_hours", phone=grouped(desk.after_hours_phone))
    elif urgent:
        line = text(language, "urgent_112")
    return texts.compose((text(language, "receipt_neutral"), cpr, line), (line or cpr,))


def reply_by(
    calendar: WorkingCalendar,
    at: datetime,
    reply_days: int,
    decision: Decision,
    already_open: datetime | None,
) -> datetime:
    """By when the thread must be answered: the team's promise, or today when urgent.

    An urgent message is due by the end of its working day (the next one's when
    it came after closing), earlier than an answer already owed on the thread.
    """
    due = already_open or calendar.reply_by(at, reply_days)
    if decision.urgent:
        due = min(due, calendar.reply_by(at, 0))
    return due
