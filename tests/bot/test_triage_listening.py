"""Issue #16, second round: risk in English, Ukrainian and Arabic as families write it."""

from __future__ import annotations

import pytest

from bot.domain.triage import Triager
from bot.domain.triage.model import Model

WORDS_ONLY = Triager(model=None)  # the lexicon and its scope rules, whatever the model learns
TRIAGE = Triager()


@pytest.mark.parametrize(
    "text",
    [
        "the house is on fire",
        "my baby isnt breathing",
        "i dont want to be here anymore",
        "he said if i leave he will kill me",
        "he wont stop hitting her",
        "діти одні вдома",
        "ми на вулиці з дітьми",
        "пожежа в квартирі",
        "наковтався таблеток",
        "ابني طلع وما رجع عالبيت",
        "الولاد لحالن",
        "ما عنا شي لا مصاري ولا اكل والولاد جوعانين",
        "في حريق بالبيت",
        "بدي موت والله",
        "hjææælp",
        "der brænder i opgangen",
    ],
)
def test_the_lexicon_reads_these_risks_as_akut(text: str) -> None:
    """Fire, breathing, goodbye, a reported threat, stacked negations, clitics: akut by the lexicon."""
    result = WORDS_ONLY(text)
    assert result.level == "akut", result.why


@pytest.mark.parametrize(
    "text",
    [
        "vi er fire i familien",
        "fire drill at school today",
        "це краще ніж минулого разу",
        "два роки тому нас вигнали, але зараз маємо квартиру",
        "min søn vil være politibetjent",
        "ولا مره ضرب الولاد",
        "the knife block we got from you is great",
    ],
)
def test_words_that_only_look_like_risk_are_not_akut(text: str) -> None:
    """'fire' is four in Danish, 'ніж' is also 'than', the past and 'never' set a risk aside."""
    assert WORDS_ONLY(text).level != "akut", WORDS_ONLY(text).why


@pytest.mark.parametrize("text", ["Og en ting mere", "En ting mere", "One more thing"])
def test_one_more_thing_is_not_akut(text: str) -> None:
    """'Og en ting mere' opens a message; the shipped model no longer pages it."""
    assert not TRIAGE(text).urgent, TRIAGE(text).why


def test_a_reply_read_as_an_intent_is_not_paged_on_the_model_alone() -> None:
    """A model sure of akut makes an intent reply a concern, not a page; without an intent it pages."""
    sure = Model(
        {
            "vocab": ["w:tonight"],
            "akut": [10.0],
            "concern": [10.0],
            "bias": [0.0, 0.0],
            "thresholds": {"akut": 0.5, "concern": 0.5},
        }
    )
    triage = Triager(model=sure)
    reply = triage("we cant make it tonight")
    assert (reply.level, reply.intent) == ("bekymring", "AFLYS")
    alone = triage("tonight")
    assert (alone.level, alone.intent) == ("akut", None)


def _doubting(veto: float) -> Triager:
    """A model nearly sure that a message with "qxv" in it is not urgent."""
    return Triager(
        model=Model(
            {
                "vocab": ["w:qxv"],
                "akut": [-50.0],
                "concern": [0.0],
                "bias": [0.0, 0.0],
                "thresholds": {"akut": 0.7, "concern": 0.9, "veto": veto},
            }
        )
    )


def test_a_model_nearly_sure_it_is_not_urgent_makes_a_phrases_page_a_concern() -> None:
    """Under the veto threshold the lexicon's page becomes a concern (top of the inbox, a
    same-day reply-by), and says why; the phrase is still named."""
    read = _doubting(0.02)("jeg vil ikke leve mere qxv")
    assert (read.urgent, read.level) == (False, "bekymring")
    assert any(w.startswith("model veto") for w in read.why), read.why
    assert read.matched and "leve" in " ".join(read.matched)
    # Without "qxv" the model is unsure (p = 0.5): the phrase pages.
    assert _doubting(0.02)("jeg vil ikke leve mere").urgent
    # Weights trained before the veto existed (no "veto" threshold) never veto.
    assert _doubting(0.0)("jeg vil ikke leve mere qxv").urgent


def test_a_municipalitys_own_word_is_never_vetoed() -> None:
    """The municipality's own urgent and risk words page whatever the model thinks."""
    read = _doubting(0.02)("han slår mig qxv")
    assert read.urgent and not any(w.startswith("model veto") for w in read.why), read.why
