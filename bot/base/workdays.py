"""Arbejdsdage: the Danish working-day calendar behind every reply-by promise.

A municipality promises families an answer within a number of working days
(arbejdsdage). This module decides which days count, turns "received at" into
a deadline instant, and formats dates and times the way the messages show them.

All wall-clock reasoning happens in Europe/Copenhagen; every instant handed
back is timezone-aware UTC. Nothing here reads the current time: callers pass
the instant in, so tests move time by passing datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import holidays
from babel import Locale
from babel.dates import format_date, tokenize_pattern, untokenize_pattern
from babel.dates import format_time as _babel_format_time

from bot.base.clock import COPENHAGEN

__all__ = ["WorkingCalendar", "format_long_date", "format_time"]

# Days a Danish municipality is customarily closed although they are not
# statutory public holidays (helligdage): juleaftensdag, nytårsaftensdag and
# grundlovsdag. The holidays package already lists all three in its OPTIONAL
# category for DK, together with 1 May (arbejdernes kampdag), which is *not* a
# general closing day for municipalities, hence the filter by calendar date.
_CUSTOMARY_CLOSURES: frozenset[tuple[int, int]] = frozenset({(12, 24), (12, 31), (6, 5)})

_WEEKDAYS = frozenset(range(7))


class WorkingCalendar:
    """Arbejdsdagskalender: which days and hours a Danish municipality works.

    A day is a working day unless it falls on a closed weekday (Saturday and
    Sunday by default), is a Danish public holiday (helligdag), is a customary
    closure (24 December, 31 December, 5 June; see
    ``include_customary_closures``) or is one of the municipality's own
    ``extra_closed`` days. Store bededag is a holiday only up to and
    including 2023; it was abolished from 2024.

    Holidays are computed lazily, one year at a time, as dates are asked about,
    so the calendar works for any year without configuration.
    """

    def __init__(
        self,
        *,
        extra_closed: Iterable[date] = (),
        closed_weekdays: frozenset[int] = frozenset({5, 6}),
        opening: time = time(8, 0),
        closing: time = time(16, 0),
        include_customary_closures: bool = True,
    ) -> None:
        """Build a calendar.

        Args:
            extra_closed: The municipality's own closing days (e.g. a
                "lukkedag" between Christmas and New Year).
            closed_weekdays: Weekdays that are never working days, as
                ``date.weekday()`` numbers (Monday is 0). Defaults to
                Saturday and Sunday.
            opening: Local Copenhagen opening time on working days.
            closing: Local Copenhagen closing time on working days.
            include_customary_closures: Whether 24 December, 31 December and
                5 June are closed.

        Raises:
            ValueError: If ``closed_weekdays`` holds a number outside 0-6 or
                closes every weekday, if ``opening`` is not before
                ``closing``, or if either time carries a timezone.
        """
        if not closed_weekdays <= _WEEKDAYS:
            raise ValueError(f"closed_weekdays must be within 0-6, got {sorted(closed_weekdays)}")
        if closed_weekdays == _WEEKDAYS:
            raise ValueError("closed_weekdays closes every day of the week")
        if opening.tzinfo is not None or closing.tzinfo is not None:
            raise ValueError("opening and closing are local Copenhagen times; pass naive times")
        if opening >= closing:
            raise ValueError(f"opening {opening} must be before closing {closing}")
        self._extra_closed = frozenset(extra_closed)
        self._closed_weekdays = frozenset(closed_weekdays)
        self._opening = opening
        self._closing = closing
        self._include_customary = include_customary_closures
        # Empty ``years`` with the default ``expand=True``: each year is
        # populated the first time a date in it is looked up.
        self._public = holidays.country_holidays("DK", categories=(holidays.PUBLIC,))
        self._optional = holidays.country_holidays("DK", categories=(holidays.OPTIONAL,))

    @property
    def opening(self) -> time:
        """Local opening time on working days."""
        return self._opening

    @property
    def closing(self) -> time:
        """Local closing time on working days."""
        return self._closing

    def is_working_day(self, d: date) -> bool:
        """Tell whether ``d`` is a working day (arbejdsdag).

        Args:
            d: A calendar date (a ``datetime`` is treated as its date part).

        Returns:
            True if the municipality works on ``d``.
        """
        if isinstance(d, datetime):
            d = d.date()
        if d.weekday() in self._closed_weekdays or d in self._extra_closed:
            return False
        if d in self._public:
            return False
        return not (
            self._include_customary
            and (d.month, d.day) in _CUSTOMARY_CLOSURES
            and d in self._optional
        )

    def is_public_holiday(self, d: date) -> bool:
        """Tell whether ``d`` is a Danish public holiday (helligdag).

        Only statutory holidays count; customary closures such as 24 December
        and the municipality's own closing days do not.

        Args:
            d: A calendar date (a ``datetime`` is treated as its date part).

        Returns:
            True on a public holiday.
        """
        if isinstance(d, datetime):
            d = d.date()
        return d in self._public

    def working_days_before(self, d: date, n: int) -> date:
        """Return the ``n``-th working day strictly before ``d`` (``n`` ≥ 1).

        Args:
            d: The day counting starts from.
            n: Number of working days to go back.

        Returns:
            The resulting working day.

        Raises:
            ValueError: If ``n`` is less than 1.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if isinstance(d, datetime):
            d = d.date()
        for _ in range(n):
            d -= timedelta(days=1)
            while not self.is_working_day(d):
                d -= timedelta(days=1)
        return d

    def next_working_day(self, d: date) -> date:
        """Return the first working day strictly after ``d``.

        Args:
            d: A calendar date.

        Returns:
            The next working day.
        """
        if isinstance(d, datetime):
            d = d.date()
        d += timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """Return the ``n``-th working day strictly after ``start``.

        With ``n == 0`` the result is ``start`` itself if it is a working day,
        otherwise the next working day. Friday plus one working day is the
        following Monday (unless that is a holiday).

        Args:
            start: The day counting starts from.
            n: Number of working days to add; must not be negative.

        Returns:
            The resulting working day.

        Raises:
            ValueError: If ``n`` is negative.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        if isinstance(start, datetime):
            start = start.date()
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        d = start
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def reply_by(self, received_at: datetime, working_days: int) -> datetime:
        """Svarfrist: the latest instant a reply is due.

        The rule:

        1. ``received_at`` is converted to Copenhagen local time.
        2. The *effective day* is the local date if that is a working day and
           the local time is before closing (a message at 06:00 or at 15:59
           counts that day). A message received at or after closing (16:00,
           16:01) or on a non-working day counts as received at the next
           working day's opening.
        3. The deadline is closing time on
           ``add_working_days(effective_day, working_days)``; with
           ``working_days == 0`` that is closing time on the effective day.

        Example: received Thursday 2025-02-20 10:00 with 2 working days gives
        Monday 2025-02-24 16:00 local (15:00 UTC); received at 16:01 the same
        Thursday, the effective day is Friday and the deadline Tuesday 16:00.

        Args:
            received_at: When the message arrived; timezone-aware, any zone.
            working_days: The promised number of working days (≥ 0).

        Returns:
            The deadline as an aware UTC datetime. Daylight saving time is
            handled by building the local closing time in Copenhagen, so 16:00
            is 15:00 UTC in winter and 14:00 UTC in summer.

        Raises:
            ValueError: If ``received_at`` is naive or ``working_days`` is
                negative.
        """
        if working_days < 0:
            raise ValueError(f"working_days must not be negative, got {working_days}")
        local = _to_local(received_at, "received_at")
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self._closing):
            day = self.next_working_day(day)
        deadline_day = self.add_working_days(day, working_days)
        return _local_instant(deadline_day, self._closing)

    def is_open(self, at: datetime) -> bool:
        """Tell whether the municipality is open at instant ``at``.

        Open means a working day and ``opening <= local time < closing``.

        Args:
            at: A timezone-aware instant, any zone.

        Returns:
            True if open.

        Raises:
            ValueError: If ``at`` is naive.
        """
        local = _to_local(at, "at")
        return self.is_working_day(local.date()) and (self._opening <= local.time() < self._closing)

    def next_opening(self, at: datetime) -> datetime:
        """Return ``at`` if open, otherwise the next opening instant.

        Args:
            at: A timezone-aware instant, any zone.

        Returns:
            An aware UTC datetime: ``at`` converted to UTC if the municipality
            is open then, else opening time on the next working day (which may
            be later the same day, if ``at`` is before opening).

        Raises:
            ValueError: If ``at`` is naive.
        """
        local = _to_local(at, "at")
        day = local.date()
        if self.is_working_day(day):
            if self._opening <= local.time() < self._closing:
                return at.astimezone(UTC)
            if local.time() < self._opening:
                return _local_instant(day, self._opening)
        return _local_instant(self.next_working_day(day), self._opening)


def _to_local(at: datetime, name: str) -> datetime:
    """Convert an aware instant to Copenhagen local time; reject naive ones."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")
    return at.astimezone(COPENHAGEN)


def _local_instant(d: date, t: time) -> datetime:
    """Return the UTC instant of Copenhagen wall-clock time ``t`` on ``d``."""
    return datetime.combine(d, t, tzinfo=COPENHAGEN).astimezone(UTC)


# Explicit patterns where CLDR's year-less forms are not what we write.
# Danish letters say "tirsdag den 25. februar"; bare "en" in CLDR is US
# English, but a Danish municipality writes day-before-month English.
_LONG_DATE_OVERRIDES: dict[str, str] = {
    "da": "EEEE 'den' d. MMMM",
    "da_DK": "EEEE 'den' d. MMMM",
    "da_GL": "EEEE 'den' d. MMMM",
    "en": "EEEE d MMMM",
    "en_DK": "EEEE d MMMM",
}
_TIME_OVERRIDES: dict[str, str] = {
    # CLDR's Danish short time is "HH.mm"; our messages use "14:02".
    "da": "HH:mm",
    "da_DK": "HH:mm",
    "da_GL": "HH:mm",
    "en": "HH:mm",
    "en_DK": "HH:mm",
}
# Year-less skeletons, best first; the fallbacks are widened to full names.
_LONG_DATE_SKELETONS = ("MMMMEEEEd", "MMMMEd", "MMMEd")


def _parse_locale(locale: str) -> Locale:
    """Parse ``da``, ``da_DK`` or ``da-DK`` into a Babel locale."""
    return Locale.parse(locale.replace("-", "_"))


def _widen(pattern: str) -> str:
    """Widen weekday and month fields of a CLDR pattern to their full names."""
    tokens: list[tuple[str, str | tuple[str, int]]] = []
    for kind, value in tokenize_pattern(pattern):
        if kind == "field" and isinstance(value, tuple):
            char, width = value
            if (char in "Ec" and width < 4) or (char in "ML" and width == 3):
                value = (char, 4)
        tokens.append((kind, value))
    return untokenize_pattern(tokens)


def _long_date_pattern(loc: Locale) -> str:
    """Pick a "weekday, day, month name" pattern without year for ``loc``."""
    override = _LONG_DATE_OVERRIDES.get(str(loc))
    if override is not None:
        return override
    skeletons = loc.datetime_skeletons
    for skeleton in _LONG_DATE_SKELETONS:
        found = skeletons.get(skeleton)
        if found is not None:
            return _widen(found.pattern)
    # Last resort: CLDR's full date (this includes the year).
    return str(loc.date_formats["full"].pattern)


def format_long_date(d: date, locale: str = "da") -> str:
    """Format a date the way messages write it, without the year.

    Danish gives "tirsdag den 25. februar"; English gives
    "Tuesday 25 February". Other locales use CLDR's year-less
    weekday-day-month pattern for that language with full weekday and month
    names (e.g. Swedish "tisdag 25 februari").

    Args:
        d: The date to format.
        locale: A Babel/CLDR locale identifier such as ``da``, ``en``,
            ``en_GB`` or ``de-DE``.

    Returns:
        The formatted date.

    Raises:
        babel.UnknownLocaleError: If ``locale`` is not a known locale.
        ValueError: If ``locale`` is not a valid locale identifier.
    """
    if isinstance(d, datetime):
        d = d.date()
    loc = _parse_locale(locale)
    return format_date(d, _long_date_pattern(loc), locale=loc)


def format_time(t: datetime, locale: str = "da") -> str:
    """Format the Copenhagen local wall-clock time of an instant.

    Danish and English give 24-hour "14:02"; other locales use CLDR's short
    time format for that language.

    Args:
        t: A timezone-aware instant, any zone.
        locale: A Babel/CLDR locale identifier.

    Returns:
        The formatted local time.

    Raises:
        ValueError: If ``t`` is naive.
        babel.UnknownLocaleError: If ``locale`` is not a known locale.
    """
    local = _to_local(t, "t")
    loc = _parse_locale(locale)
    pattern = _TIME_OVERRIDES.get(str(loc), "short")
    return _babel_format_time(local, pattern, tzinfo=COPENHAGEN, locale=loc)
