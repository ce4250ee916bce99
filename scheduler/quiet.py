"""Stilletid: when a non-urgent SMS to a citizen may go out.

By default nothing non-urgent is sent between 20:00 and 08:00 (Copenhagen
wall-clock time), nor on Sundays and public holidays (helligdage). A
municipality sets its own window, and a participant may have a preference of
their own (scheduler.settings stores both).

The rule, :func:`allowed_send_time`, is a pure function of the instant, the
settings, the working calendar and, optionally, when the thing the message is
about happens:

- an instant outside quiet hours is kept as it is;
- an instant inside quiet hours moves *earlier*, to shortly before the quiet
  period began, when what it is about happens before the quiet period ends
  (a reminder for an 07:30 meeting is no use at 08:00);
- otherwise it moves to the first allowed moment after the quiet period.

Everything is reasoned in local time and handed back as aware UTC, so a
daylight-saving change (a night with no 02:30, or two) needs no special case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from bot.base.clock import COPENHAGEN

__all__ = [
    "DEFAULT",
    "EARLY_MARGIN",
    "HolidayCalendar",
    "QuietSettings",
    "allowed_send_time",
    "is_quiet",
    "local_instant",
]

# Moving earlier lands this long before the quiet period starts, so a message
# handed to the relay then is out well before the quiet period.
EARLY_MARGIN = timedelta(minutes=15)


class HolidayCalendar(Protocol):
    """What the rule needs of the calendar (bot.base.workdays.WorkingCalendar has it)."""

    def is_public_holiday(self, d: date) -> bool: ...


@dataclass(frozen=True, slots=True)
class QuietSettings:
    """Quiet hours for a municipality or a participant.

    Attributes:
        enabled: False: no quiet hours at all (the participant asked for it).
        quiet_from: local time quiet hours start (inclusive).
        quiet_until: local time they end (exclusive); before ``quiet_from``
            means the window spans midnight, the usual case.
        sundays: all of Sunday is quiet.
        holidays: all of a public holiday is quiet.
    """

    enabled: bool = True
    quiet_from: time = time(20, 0)
    quiet_until: time = time(8, 0)
    sundays: bool = True
    holidays: bool = True

    def __post_init__(self) -> None:
        if self.quiet_from == self.quiet_until:
            raise ValueError("quiet hours must start and end at different times")
        if self.quiet_from.tzinfo is not None or self.quiet_until.tzinfo is not None:
            raise ValueError("quiet hours are local Copenhagen times; pass naive times")


DEFAULT = QuietSettings()


def local_instant(d: date, t: time) -> datetime:
    """The UTC instant of local wall-clock ``t`` on ``d`` in Copenhagen.

    A wall-clock time that does not exist (02:30 on the spring-forward night)
    is read with the offset in force before the change, i.e. it lands at the
    same distance after the gap (03:30 summer time); an ambiguous one (02:30
    on the fall-back night) is its first occurrence.
    """
    return datetime.combine(d, t, tzinfo=COPENHAGEN).astimezone(UTC)


def _quiet_day(d: date, s: QuietSettings, cal: HolidayCalendar) -> bool:
    return (s.sundays and d.weekday() == 6) or (s.holidays and cal.is_public_holiday(d))


def _in_window(t: time, s: QuietSettings) -> bool:
    if s.quiet_from > s.quiet_until:  # spans midnight: 20:00-08:00
        return t >= s.quiet_from or t < s.quiet_until
    return s.quiet_from <= t < s.quiet_until


def _local(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("quiet hours need an aware datetime")
    return at.astimezone(COPENHAGEN)


def is_quiet(at: datetime, settings: QuietSettings, calendar: HolidayCalendar) -> bool:
    """Tell whether ``at`` falls in quiet hours."""
    if not settings.enabled:
        return False
    local = _local(at)
    return _quiet_day(local.date(), settings, calendar) or _in_window(local.time(), settings)


def _allowed_ranges(
    d: date, s: QuietSettings, cal: HolidayCalendar
) -> list[tuple[datetime, datetime]]:
    """The allowed [start, end) UTC ranges of local day ``d``."""
    if _quiet_day(d, s, cal):
        return []
    start, end = local_instant(d, time(0)), local_instant(d + timedelta(days=1), time(0))
    a, b = local_instant(d, s.quiet_until), local_instant(d, s.quiet_from)
    if s.quiet_from > s.quiet_until:
        return [(a, b)]  # e.g. 08:00-20:00
    return [(start, b), (a, end)]  # quiet in the day, e.g. 09:00-17:00


def _next_allowed(at: datetime, s: QuietSettings, cal: HolidayCalendar) -> datetime:
    d = _local(at).date()
    for _ in range(400):
        for lo, hi in _allowed_ranges(d, s, cal):
            if hi > at:
                return max(lo, at)
        d += timedelta(days=1)
    raise ValueError("no allowed send time within a year")  # pragma: no cover


def _previous_allowed_end(at: datetime, s: QuietSettings, cal: HolidayCalendar) -> datetime:
    """Where the allowed time before ``at`` ended (the start of the quiet period)."""
    d = _local(at).date()
    for _ in range(400):
        for lo, hi in reversed(_allowed_ranges(d, s, cal)):
            if lo < at:
                return min(hi, at)
        d -= timedelta(days=1)
    raise ValueError("no allowed send time within a year")  # pragma: no cover


def allowed_send_time(
    instant: datetime,
    settings: QuietSettings,
    calendar: HolidayCalendar,
    event_time: datetime | None = None,
) -> datetime:
    """When a non-urgent SMS meant for ``instant`` may go out.

    Args:
        instant: when the message would be sent (aware, any zone).
        settings: the quiet hours that apply to the recipient.
        calendar: tells public holidays.
        event_time: when what the message is about happens (a meeting), if
            anything; it decides whether a quiet-hours message moves earlier.

    Returns:
        An aware UTC instant: ``instant`` itself when it is allowed; otherwise
        the moment shortly before the quiet period began when ``event_time``
        falls before the quiet period ends; otherwise the first allowed
        moment after it.

    Raises:
        ValueError: if a datetime is naive.
    """
    at = _local(instant).astimezone(UTC)
    if not is_quiet(at, settings, calendar):
        return at
    after = _next_allowed(at, settings, calendar)
    if event_time is not None and _local(event_time) < after:
        began = _previous_allowed_end(at, settings, calendar)
        return began - EARLY_MARGIN
    return after
