"""Triage scope and matching: near words, optional first words, greetings, topics, jokes."""

from __future__ import annotations

import pytest

from bot.domain.triage import Triager
from bot.domain.triage.phrases import _keys


@pytest.fixture(scope="module")
def triage() -> Triager:
    return Triager()


@pytest.fixture(scope="module")
def words_only() -> Triager:
    return Triager(model=None)


@pytest.mark.parametrize(
    "text",
    [
        "jeg har tænkt over det",
        "Tak. Skal jeg komme",
        "is the office open on the friday before easter?",
        "han kaster med bolden",
        "min hest halter lidt",
        "that is true",
    ],
)
def test_an_everyday_word_is_not_a_slip_of_a_short_term(words_only: Triager, text: str) -> None:
    """A word one change from a short term ("tænkt"/"tæsk", "kaster"/"haster") is not the term."""
    assert words_only(text).matched == (), words_only(text).why


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("det hatser", "haster"),
        ("ring til politti", "politi"),
        ("ring til politiet", "politi"),
        ("det handler om selvmrod", "selvmord"),
        ("han har selvmordstanker", "selvmord"),
        ("han tæsker mig", "tæsk"),
        ("h aster", "haster"),
    ],
)
def test_a_slip_or_compound_of_a_term_still_matches(
    words_only: Triager, text: str, term: str
) -> None:
    """Two letters swapped, a letter too many, a compound and a long term's slip still match."""
    assert term in words_only(text).matched, words_only(text).why


@pytest.mark.parametrize(
    ("first", "keys"),
    [
        ("(jeg )?vil", ["jeg", "vil"]),
        ("(ude |ud )?pa", ["pa", "ud", "ude"]),
        ("(u)?tryg", ["tryg", "utryg"]),
        ("(han|hun)", ["han", "hun"]),
        ("sla*", ["\x00sl"]),
    ],
)
def test_a_pattern_is_looked_up_under_each_word_it_can_start_with(
    first: str, keys: list[str]
) -> None:
    """An optional first group is indexed with and without it ("(jeg )?vil" under jeg and vil)."""
    assert _keys(first) == keys


@pytest.mark.parametrize(
    "text",
    [
        "han står på skinnerne",
        "han står ude på skinnerne",
        "this is my last message",
        "last message from me",
        "дуже терміново",
        "це дуже терміново",
        "يرتاحوا مني",
        "رح يرتاحوا مني",
    ],
)
def test_a_pattern_with_an_optional_first_word_is_found_without_it(
    words_only: Triager, text: str
) -> None:
    """'(ude )?på skinnerne', '(my )?last message', '(це )?дуже терміново', '(رح )?يرتاحوا مني'."""
    assert words_only(text).urgent, words_only(text).why
