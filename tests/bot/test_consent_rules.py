"""The consent rule: the latest word wins, and a STOP neither refuses nor restores answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import consent
from bot.domain.consent import ANSWERS, GIVEN, PROACTIVE, REFUSED, WITHDRAWN, Said, Standing

T0 = datetime(2025, 2, 21, 9, 0, tzinfo=UTC)

STOP = (WITHDRAWN, PROACTIVE)
START = (GIVEN, PROACTIVE)
API_NO = (REFUSED, ANSWERS)
API_YES = (GIVEN, ANSWERS)


def _said(*words: tuple[str, str]) -> list[Said]:
    return [
        Said(None, state, scope, T0 + timedelta(minutes=i), f"id-{i:03}")
        for i, (state, scope) in enumerate(words)
    ]


@pytest.mark.parametrize(
    ("words", "proactive", "answers_refused", "recorded"),
    [
        ((), True, False, None),
        ((STOP,), False, False, False),
        ((STOP, START), True, False, True),
        ((API_NO,), False, True, False),
        ((API_NO, STOP), False, True, False),  # STOP does not lift the case system's "no"
        ((API_NO, START), True, False, True),  # START does
        ((STOP, API_YES), True, False, True),  # the latest word wins
        ((API_YES, API_NO), False, True, False),
        ((API_NO, STOP, START), True, False, True),
    ],
)
def test_the_latest_word_wins(
    words: tuple[tuple[str, str], ...],
    proactive: bool,
    answers_refused: bool,
    recorded: bool | None,
) -> None:
    """Each sequence of words leaves proactive messages, answers and the API's view as stated."""
    now = consent.standing(_said(*words))
    assert (now.proactive, now.answers_refused, now.recorded) == (
        proactive,
        answers_refused,
        recorded,
    )


def test_the_order_is_by_time_not_by_insertion() -> None:
    """Records read back in any order give the same standing."""
    said = _said(API_NO, STOP, START)
    assert consent.standing(reversed(said)) == consent.standing(said)


def test_several_parts_in_one_case_hold_back_if_any_does() -> None:
    """A person with two parts in one case: one part's "no" holds answers back."""
    free, refused = Standing(), consent.standing(_said(API_NO))
    both = consent._combine([free, refused])
    assert both.answers_refused and not both.proactive


def test_a_record_that_is_not_one_is_refused() -> None:
    """An unknown channel, state or scope never reaches the table."""
    with pytest.raises(ValueError, match="not a consent record"):
        consent.record_row(
            tenant_id="t",
            person_id="p",
            channel="fax",
            state=GIVEN,
            scope=PROACTIVE,
            source=consent.PAGE,
            at=T0,
            actor="staff:x",
        )


WORDS = st.lists(st.sampled_from([STOP, START, API_NO, API_YES]), max_size=8)


@given(WORDS)
def test_stop_stops_proactive_and_leaves_answers_alone(words: list[tuple[str, str]]) -> None:
    """Whatever was said before, a STOP stops proactive messages and changes nothing for answers."""
    before = consent.standing(_said(*words))
    after = consent.standing(_said(*words, STOP))
    assert not after.proactive and after.recorded is False
    assert after.answers_refused == before.answers_refused


@given(WORDS)
def test_a_yes_lets_everything_through(words: list[tuple[str, str]]) -> None:
    """Whatever was said before, a later yes (START, the API, a page) lets every message go."""
    for yes in (START, API_YES):
        after = consent.standing(_said(*words, yes))
        assert after.proactive and not after.answers_refused and after.recorded is True
