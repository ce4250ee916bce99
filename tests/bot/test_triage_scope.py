"""Triage scope and matching: near words, optional first words, greetings, topics, jokes."""

from __future__ import annotations

import pytest

from bot.domain.triage import Triager


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
