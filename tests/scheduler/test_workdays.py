"""Tests for the Danish working-day calendar and date formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.base.clock import COPENHAGEN
from bot.base.workdays import WorkingCalendar, format_long_date, format_time

CAL = WorkingCalendar()


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """Build an aware Copenhagen wall-clock datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=COPENHAGEN)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- working days -----------------------------------------------------------


def test_weekend_friday_plus_one_is_monday() -> None:
    """Friday plus one working day is the following Monday."""
    assert CAL.add_working_days(date(2025, 2, 21), 1) == date(2025, 2, 24)
    assert not CAL.is_working_day(date(2025, 2, 22))
    assert not CAL.is_working_day(date(2025, 2, 23))


def test_ordinary_weekdays_are_working_days() -> None:
    """An ordinary Monday to Friday are all working days."""
    assert all(CAL.is_working_day(date(2025, 2, day)) for day in range(17, 22))


def test_add_zero_working_days() -> None:
    """Adding zero keeps a working day and rolls a closed day forward."""
    assert CAL.add_working_days(date(2025, 2, 20), 0) == date(2025, 2, 20)
    assert CAL.add_working_days(date(2025, 2, 22), 0) == date(2025, 2, 24)


def test_negative_working_days_rejected() -> None:
    """A negative number of working days is a ValueError."""
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2025, 2, 20), -1)
    with pytest.raises(ValueError):
        CAL.reply_by(local(2025, 2, 20, 10, 0), -1)


def test_next_working_day_is_strictly_after() -> None:
    """next_working_day skips the given day even when it is a working day."""
    assert CAL.next_working_day(date(2025, 2, 20)) == date(2025, 2, 21)
    assert CAL.next_working_day(date(2025, 2, 21)) == date(2025, 2, 24)


@pytest.mark.parametrize(
    "closed",
    [
        date(2025, 4, 17),  # skærtorsdag
        date(2025, 4, 18),  # langfredag
        date(2025, 4, 21),  # 2. påskedag
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 6),
    ],
)
def test_easter_days_closed(closed: date) -> None:
    """Skærtorsdag, langfredag and 2. påskedag are closed in 2025 and 2026."""
    assert not CAL.is_working_day(closed)


def test_easter_2026_skips_four_days() -> None:
    """Wednesday before Easter 2026 plus one working day is the Tuesday after."""
    assert CAL.add_working_days(date(2026, 4, 1), 1) == date(2026, 4, 7)


def test_easter_2025_skips_four_days() -> None:
    """Wednesday before Easter 2025 plus one working day is the Tuesday after."""
    assert CAL.add_working_days(date(2025, 4, 16), 1) == date(2025, 4, 22)


def test_kristi_himmelfartsdag_closed() -> None:
    """Kristi himmelfartsdag (Ascension Thursday) is closed."""
    assert not CAL.is_working_day(date(2025, 5, 29))
    assert not CAL.is_working_day(date(2026, 5, 14))
    assert CAL.add_working_days(date(2025, 5, 28), 1) == date(2025, 5, 30)


def test_anden_pinsedag_closed() -> None:
    """2. pinsedag (Whit Monday) is closed."""
    assert not CAL.is_working_day(date(2025, 6, 9))
    assert CAL.add_working_days(date(2025, 6, 6), 1) == date(2025, 6, 10)


def test_christmas_closed() -> None:
    """23 December 2025 plus one working day skips 24-26 December and the weekend."""
    for day in (24, 25, 26):
        assert not CAL.is_working_day(date(2025, 12, day))
    assert CAL.add_working_days(date(2025, 12, 23), 1) == date(2025, 12, 29)


def test_new_years_eve_and_day_closed() -> None:
    """Nytårsaftensdag and nytårsdag are closed."""
    assert not CAL.is_working_day(date(2025, 12, 31))
    assert not CAL.is_working_day(date(2026, 1, 1))
    assert CAL.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 2)


def test_grundlovsdag_closed() -> None:
    """Grundlovsdag, 5 June, is closed."""
    assert not CAL.is_working_day(date(2025, 6, 5))
    assert CAL.add_working_days(date(2025, 6, 4), 1) == date(2025, 6, 6)


def test_first_of_may_is_a_working_day() -> None:
    """1 May is in the package's optional category but is a working day."""
    assert CAL.is_working_day(date(2025, 5, 1))


def test_customary_closures_can_be_switched_off() -> None:
    """Without customary closures 24 Dec, 31 Dec and 5 June are working days."""
    cal = WorkingCalendar(include_customary_closures=False)
    assert cal.is_working_day(date(2025, 12, 24))
    assert cal.is_working_day(date(2025, 12, 31))
    assert cal.is_working_day(date(2025, 6, 5))
    assert not cal.is_working_day(date(2025, 12, 25))


def test_holidays_package_lists_customary_closures_as_optional() -> None:
    """The holidays package has 24 Dec, 31 Dec and 5 June as optional, not public."""
    public = holidays.country_holidays("DK", years=2025, categories=(holidays.PUBLIC,))
    optional = holidays.country_holidays("DK", years=2025, categories=(holidays.OPTIONAL,))
    customary = {date(2025, 12, 24), date(2025, 12, 31), date(2025, 6, 5)}
    assert customary <= set(optional)
    assert not customary & set(public)


def test_store_bededag_abolished_from_2024() -> None:
    """Store bededag is closed in 2023 but a working day from 2024."""
    assert not CAL.is_working_day(date(2023, 5, 5))
    assert CAL.is_working_day(date(2024, 4, 26))
    assert CAL.is_working_day(date(2025, 5, 16))


def test_extra_closed_days() -> None:
    """The municipality's own closing days are not working days."""
    cal = WorkingCalendar(extra_closed=[date(2025, 5, 30)])
    assert CAL.is_working_day(date(2025, 5, 30))
    assert not cal.is_working_day(date(2025, 5, 30))
    assert cal.add_working_days(date(2025, 5, 28), 1) == date(2025, 6, 2)


def test_custom_closed_weekdays() -> None:
    """A calendar closed on Fridays too skips from Thursday to Monday."""
    cal = WorkingCalendar(closed_weekdays=frozenset({4, 5, 6}))
    assert cal.add_working_days(date(2025, 2, 20), 1) == date(2025, 2, 24)


def test_far_future_year_populated_lazily() -> None:
    """Holidays are available for years never configured (lazy expansion)."""
    assert not CAL.is_working_day(date(2087, 12, 25))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"closed_weekdays": frozenset(range(7))},
        {"closed_weekdays": frozenset({7})},
        {"opening": time(16, 0), "closing": time(8, 0)},
        {"opening": time(8, 0, tzinfo=UTC)},
    ],
)
def test_invalid_configuration_rejected(kwargs: dict[str, object]) -> None:
    """Impossible calendars are refused at construction."""
    with pytest.raises(ValueError):
        WorkingCalendar(**kwargs)  # type: ignore[arg-type]


# --- reply_by ---------------------------------------------------------------


def test_reply_by_thursday_plus_two_is_monday_close() -> None:
    """Thursday 10:00 plus two working days is Monday 16:00 local (15:00 UTC)."""
    assert CAL.reply_by(local(2025, 2, 20, 10, 0), 2) == utc(2025, 2, 24, 15, 0)


def test_reply_by_returns_aware_utc() -> None:
    """The deadline is timezone-aware UTC."""
    assert CAL.reply_by(local(2025, 2, 20, 10, 0), 2).tzinfo is UTC


def test_reply_by_before_and_after_closing() -> None:
    """15:59 counts that day; 16:00 and 16:01 count from the next working day."""
    assert CAL.reply_by(local(2025, 2, 20, 15, 59), 2) == utc(2025, 2, 24, 15, 0)
    assert CAL.reply_by(local(2025, 2, 20, 16, 0), 2) == utc(2025, 2, 25, 15, 0)
    assert CAL.reply_by(local(2025, 2, 20, 16, 1), 2) == utc(2025, 2, 25, 15, 0)


def test_reply_by_before_opening_counts_that_day() -> None:
    """A message at 06:00 on a working day counts that day."""
    assert CAL.reply_by(local(2025, 2, 20, 6, 0), 2) == utc(2025, 2, 24, 15, 0)


def test_reply_by_zero_days_is_same_day_close() -> None:
    """Zero working days means closing time on the effective day."""
    assert CAL.reply_by(local(2025, 2, 20, 10, 0), 0) == utc(2025, 2, 20, 15, 0)
    assert CAL.reply_by(local(2025, 2, 20, 17, 0), 0) == utc(2025, 2, 21, 15, 0)


def test_reply_by_saturday_counts_from_monday() -> None:
    """A message on Saturday counts as received Monday morning."""
    assert CAL.reply_by(local(2025, 2, 22, 11, 0), 1) == utc(2025, 2, 25, 15, 0)


def test_reply_by_converts_other_zones() -> None:
    """received_at in another zone is judged by Copenhagen local time."""
    # 14:59 UTC is 15:59 in Copenhagen (winter): still counts that Thursday.
    assert CAL.reply_by(utc(2025, 2, 20, 14, 59), 2) == utc(2025, 2, 24, 15, 0)
    # 10:01 in New York is 16:01 in Copenhagen: counts from Friday.
    new_york = datetime(2025, 2, 20, 10, 1, tzinfo=ZoneInfo("America/New_York"))
    assert CAL.reply_by(new_york, 2) == utc(2025, 2, 25, 15, 0)


def test_reply_by_across_spring_dst_change() -> None:
    """Across the last Sunday of March, 16:00 local becomes 14:00 UTC."""
    received = local(2025, 3, 28, 10, 0)  # Friday, CET
    assert CAL.reply_by(received, 1) == utc(2025, 3, 31, 14, 0)  # Monday, CEST


def test_reply_by_across_autumn_dst_change() -> None:
    """Across the last Sunday of October, 16:00 local becomes 15:00 UTC."""
    received = local(2025, 10, 24, 10, 0)  # Friday, CEST
    assert CAL.reply_by(received, 1) == utc(2025, 10, 27, 15, 0)  # Monday, CET


def test_reply_by_naive_rejected() -> None:
    """A naive received_at is a ValueError."""
    with pytest.raises(ValueError):
        CAL.reply_by(datetime(2025, 2, 20, 10, 0), 2)


def test_reply_by_over_christmas() -> None:
    """A message on 23 December afternoon is due 29 December at closing."""
    assert CAL.reply_by(local(2025, 12, 23, 12, 0), 1) == utc(2025, 12, 29, 15, 0)


# --- opening hours ----------------------------------------------------------


def test_is_open_boundaries() -> None:
    """Open from 08:00 inclusive to 16:00 exclusive on working days only."""
    assert not CAL.is_open(local(2025, 2, 20, 7, 59))
    assert CAL.is_open(local(2025, 2, 20, 8, 0))
    assert CAL.is_open(local(2025, 2, 20, 15, 59))
    assert not CAL.is_open(local(2025, 2, 20, 16, 0))
    assert not CAL.is_open(local(2025, 2, 22, 10, 0))
    assert not CAL.is_open(local(2025, 12, 24, 10, 0))


def test_is_open_naive_rejected() -> None:
    """A naive instant is a ValueError."""
    with pytest.raises(ValueError):
        CAL.is_open(datetime(2025, 2, 20, 10, 0))


def test_next_opening_when_open_is_now() -> None:
    """When open, the next opening is the instant itself, in UTC."""
    at = local(2025, 2, 20, 10, 30)
    result = CAL.next_opening(at)
    assert result == at
    assert result.tzinfo is UTC


def test_next_opening_before_and_after_hours() -> None:
    """Before opening it is 08:00 that day; after closing, 08:00 next working day."""
    assert CAL.next_opening(local(2025, 2, 20, 6, 0)) == utc(2025, 2, 20, 7, 0)
    assert CAL.next_opening(local(2025, 2, 21, 16, 0)) == utc(2025, 2, 24, 7, 0)
    assert CAL.next_opening(local(2025, 2, 22, 6, 0)) == utc(2025, 2, 24, 7, 0)


def test_next_opening_across_dst() -> None:
    """Saturday before the March change opens Monday 08:00 CEST (06:00 UTC)."""
    assert CAL.next_opening(local(2025, 3, 29, 12, 0)) == utc(2025, 3, 31, 6, 0)


# --- formatting -------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2025, 2, 25), "tirsdag den 25. februar"),
        (date(2025, 12, 29), "mandag den 29. december"),
        (date(2026, 4, 7), "tirsdag den 7. april"),
        (date(2025, 5, 1), "torsdag den 1. maj"),
        (date(2025, 6, 8), "søndag den 8. juni"),
    ],
)
def test_format_long_date_danish(d: date, expected: str) -> None:
    """Danish long dates read "tirsdag den 25. februar"."""
    assert format_long_date(d) == expected
    assert format_long_date(d, "da") == expected


def test_format_long_date_english() -> None:
    """English long dates put the day before the month, without year."""
    assert format_long_date(date(2025, 2, 25), "en") == "Tuesday 25 February"
    assert format_long_date(date(2025, 2, 25), "en_GB") == "Tuesday 25 February"


def test_format_long_date_other_locales_use_full_names_without_year() -> None:
    """Other locales get CLDR's year-less pattern with full weekday and month."""
    assert format_long_date(date(2025, 2, 25), "sv") == "tisdag 25 februari"
    assert format_long_date(date(2025, 2, 25), "de-DE") == "Dienstag, 25. Februar"
    assert "2025" not in format_long_date(date(2025, 2, 25), "uk")


def test_format_time_local_copenhagen() -> None:
    """Times are shown as Copenhagen wall-clock "HH:MM", DST included."""
    assert format_time(utc(2025, 2, 25, 13, 2)) == "14:02"
    assert format_time(utc(2025, 7, 1, 12, 2)) == "14:02"
    assert format_time(local(2025, 2, 25, 9, 5), "en") == "09:05"


def test_format_time_naive_rejected() -> None:
    """A naive datetime is a ValueError."""
    with pytest.raises(ValueError):
        format_time(datetime(2025, 2, 25, 14, 2))


# --- properties -------------------------------------------------------------


@settings(deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_working_days_property(start: date, n: int) -> None:
    """add_working_days(d, n) is a working day after d and monotonic in n."""
    result = CAL.add_working_days(start, n)
    assert result > start
    assert CAL.is_working_day(result)
    assert CAL.add_working_days(start, n + 1) > result
    # Only non-strict from 0 to 1: n == 0 on a closed day already rolls forward.
    assert CAL.add_working_days(start, n - 1) <= result
    if n >= 2 or CAL.is_working_day(start):
        assert CAL.add_working_days(start, n - 1) < result
    # Exactly n working days lie in (start, result].
    span = (result - start).days
    days = (start + timedelta(days=i) for i in range(1, span + 1))
    assert sum(CAL.is_working_day(d) for d in days) == n
