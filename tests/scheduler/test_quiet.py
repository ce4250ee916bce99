"""The quiet-hours rule as a pure function: edges, Sundays, holidays, early meetings, DST."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.base.clock import COPENHAGEN
from bot.base.workdays import WorkingCalendar
from bot.domain.gate import QuietHold, quiet_hours
from scheduler.quiet import (
    DEFAULT,
    EARLY_MARGIN,
    QuietSettings,
    allowed_send_time,
    is_quiet,
    local_instant,
)

CAL = WorkingCalendar()
ROOT = Path(__file__).resolve().parents[2]


def cph(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Copenhagen wall-clock time."""
    return datetime(y, m, d, h, mi, tzinfo=COPENHAGEN)


def test_evening_edge_1959_is_allowed_and_2000_is_quiet() -> None:
    """19:59 on a Tuesday goes as it is; 20:00 waits until 08:00 the next morning."""
    assert allowed_send_time(cph(2025, 2, 25, 19, 59), DEFAULT, CAL) == cph(2025, 2, 25, 19, 59)
    assert allowed_send_time(cph(2025, 2, 25, 20, 0), DEFAULT, CAL) == cph(2025, 2, 26, 8, 0)


def test_morning_edge_0759_is_quiet_and_0800_is_allowed() -> None:
    """07:59 waits until 08:00; 08:00 itself is allowed."""
    assert allowed_send_time(cph(2025, 2, 26, 7, 59), DEFAULT, CAL) == cph(2025, 2, 26, 8, 0)
    assert allowed_send_time(cph(2025, 2, 26, 8, 0), DEFAULT, CAL) == cph(2025, 2, 26, 8, 0)
    assert not is_quiet(cph(2025, 2, 26, 8, 0), DEFAULT, CAL)
    assert is_quiet(cph(2025, 2, 26, 7, 59), DEFAULT, CAL)


def test_sunday_and_public_holidays_are_quiet_all_day() -> None:
    """Saturday 21:00 waits for Monday 08:00; Easter Monday and Christmas Day are skipped too."""
    assert allowed_send_time(cph(2025, 2, 22, 21, 0), DEFAULT, CAL) == cph(2025, 2, 24, 8, 0)
    # Påskedag (Sunday 20 April) and 2. påskedag (Monday 21 April 2025).
    assert allowed_send_time(cph(2025, 4, 19, 20, 30), DEFAULT, CAL) == cph(2025, 4, 22, 8, 0)
    assert allowed_send_time(cph(2025, 12, 25, 12, 0), DEFAULT, CAL) == cph(2025, 12, 27, 8, 0)
    # 24 December is closed for the municipality but is not a public holiday.
    assert not is_quiet(cph(2025, 12, 24, 12, 0), DEFAULT, CAL)


def test_early_meeting_moves_the_reminder_earlier() -> None:
    """A 05:30 reminder for a 07:30 meeting goes the evening before, just before quiet hours."""
    evening = cph(2025, 2, 25, 20, 0) - EARLY_MARGIN
    assert (
        allowed_send_time(cph(2025, 2, 26, 5, 30), DEFAULT, CAL, cph(2025, 2, 26, 7, 30)) == evening
    )
    # A 09:00 meeting is after the quiet hours: the reminder waits until 08:00 instead.
    assert allowed_send_time(cph(2025, 2, 26, 7, 0), DEFAULT, CAL, cph(2025, 2, 26, 9, 0)) == cph(
        2025, 2, 26, 8, 0
    )
    # A Monday 07:30 meeting: Sunday is quiet, so the reminder goes Saturday evening.
    assert (
        allowed_send_time(cph(2025, 3, 3, 5, 30), DEFAULT, CAL, cph(2025, 3, 3, 7, 30))
        == cph(2025, 3, 1, 20, 0) - EARLY_MARGIN
    )


def test_spring_forward_night_0230_does_not_exist_and_is_handled() -> None:
    """02:30 on 30 March 2025 is read as 01:30 UTC (03:30 summer time) and moved to 08:00 CEST."""
    gap = local_instant(date(2025, 3, 30), time(2, 30))
    assert gap == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    # 30 March 2025 is a Sunday: the default waits for Monday 08:00 summer time (06:00 UTC).
    assert allowed_send_time(gap, DEFAULT, CAL) == datetime(2025, 3, 31, 6, 0, tzinfo=UTC)
    weekdays_only = QuietSettings(sundays=False)
    assert allowed_send_time(gap, weekdays_only, CAL) == datetime(2025, 3, 30, 6, 0, tzinfo=UTC)
    assert not is_quiet(gap, QuietSettings(enabled=False), CAL)


def test_fall_back_night_0230_happens_twice_and_both_wait_for_0800_winter_time() -> None:
    """Both 02:30s of 26 October 2025 move to 08:00 CET (07:00 UTC) on a no-Sunday policy."""
    first = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET
    s = QuietSettings(sundays=False)
    assert allowed_send_time(first, s, CAL) == datetime(2025, 10, 26, 7, 0, tzinfo=UTC)
    assert allowed_send_time(second, s, CAL) == datetime(2025, 10, 26, 7, 0, tzinfo=UTC)


def test_daytime_quiet_window_and_invalid_settings() -> None:
    """A night worker's 09:00-17:00 window is honoured; a window that starts where it ends is refused."""
    day_sleeper = QuietSettings(quiet_from=time(9, 0), quiet_until=time(17, 0), sundays=False)
    assert allowed_send_time(cph(2025, 2, 25, 12, 0), day_sleeper, CAL) == cph(2025, 2, 25, 17, 0)
    assert allowed_send_time(cph(2025, 2, 25, 23, 0), day_sleeper, CAL) == cph(2025, 2, 25, 23, 0)
    with pytest.raises(ValueError):
        QuietSettings(quiet_from=time(8, 0), quiet_until=time(8, 0))
    with pytest.raises(ValueError):
        allowed_send_time(datetime(2025, 2, 25, 12, 0), DEFAULT, CAL)


_instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(at=_instants, event_in=st.integers(min_value=0, max_value=3 * 24 * 60))
def test_result_is_never_in_quiet_hours(at: datetime, event_in: int) -> None:
    """Whatever the instant and event, the answer is allowed; without moving earlier it is never early."""
    plain = allowed_send_time(at, DEFAULT, CAL)
    assert not is_quiet(plain, DEFAULT, CAL)
    assert plain >= at
    event = at + timedelta(minutes=event_in)
    moved = allowed_send_time(at, DEFAULT, CAL, event)
    assert not is_quiet(moved, DEFAULT, CAL)
    if moved < at:
        assert event < plain  # earlier only for something that happens before quiet hours end


def test_the_gates_quiet_hours_decision_waits_or_skips_a_late_reminder() -> None:
    """gate.quiet_hours: by day nothing; in quiet hours wait until they end; skip what would come after its meeting or expiry."""
    evening = cph(2025, 2, 25, 22, 0)
    assert quiet_hours(cph(2025, 2, 25, 10, 0), DEFAULT, CAL) is None
    morning = cph(2025, 2, 26, 8, 0)
    assert quiet_hours(evening, DEFAULT, CAL) == QuietHold(morning)
    # A 09:00 meeting is after the quiet hours: the reminder waits until 08:00.
    assert quiet_hours(evening, DEFAULT, CAL, event_at=cph(2025, 2, 26, 9, 0)) == QuietHold(morning)
    # A 07:30 meeting is before they end, and the evening before has passed: skipped.
    assert quiet_hours(evening, DEFAULT, CAL, event_at=cph(2025, 2, 26, 7, 30)) == QuietHold(None)
    # Pointless after 07:00 (a reminder that expires): skipped too.
    assert quiet_hours(evening, DEFAULT, CAL, expires_at=cph(2025, 2, 26, 7, 0)) == QuietHold(None)
    assert quiet_hours(evening, QuietSettings(enabled=False), CAL) is None


# Where a message is about to be sent (the relay) or queued (the reminder runner), quiet
# hours are asked through the gate's one decision, never from the rule's parts.
ASKS_QUIET_HOURS = (
    "scheduler/runner.py",
    "bot/domain/outbox/triage.py",
    "bot/domain/outbox/single.py",
)


def _names(path: Path) -> tuple[set[str], set[str]]:
    """What ``path`` imports from scheduler.quiet, and every name it uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "scheduler.quiet"
        for alias in node.names
    }
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return imported, used


def test_the_relay_and_the_runner_ask_quiet_hours_in_one_place() -> None:
    """The runner and the relay's modules use gate.quiet_hours, not is_quiet/allowed_send_time of their own."""
    for path in [ROOT / p for p in ASKS_QUIET_HOURS] + sorted(
        (ROOT / "bot/domain/outbox").glob("*.py")
    ):
        imported, _ = _names(path)
        assert not imported & {"is_quiet", "allowed_send_time"}, (path, imported)
    for rel in ASKS_QUIET_HOURS:
        _, used = _names(ROOT / rel)
        assert "quiet_hours" in used or "gate" in used, rel
