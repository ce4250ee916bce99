"""The triage reader: levels, scope, intents, the municipality's words, and why."""

from __future__ import annotations

import json

import pytest

from bot.domain.triage import DEFAULT_RISK, DEFAULT_URGENT, Triager
from bot.domain.triage.model import MODEL_PATH


@pytest.fixture(scope="module")
def triage() -> Triager:
    return Triager()


@pytest.mark.parametrize(
    "text",
    [
        "det går nok, han er bare vred igen og børnene gemmer sig",
        "jeg vil ikke leve mere",
        "hjæææælp",
        "he's on his way here and he said he will kill me",
        "не хочу жити",
        "بدي انتحر",
        "jozi darabni",
        "hej. tak for i går. han slog mig igen i nat",
        "stop — han står uden for døren med en kniv",
        "ring til mig nu",
        "vi er blevet smidt ud og har ingen steder at sove i nat",
        "min søn på 5 er alene hjemme og jeg er på hospitalet",
        "han er voldelig",
    ],
)
def test_risk_said_without_the_old_words_is_akut(triage: Triager, text: str) -> None:
    """Risk said sideways, misspelt, in the second sentence or another script is read as akut."""
    result = triage(text)
    assert result.urgent and result.level == "akut", result.why
    assert result.intent is None  # urgency always wins over an intent


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("det er ikke akut", "negated"),
        ("det haster overhovedet ikke", "negated"),
        ("not urgent at all", "negated"),
        ("це не терміново", "negated"),
        ("مش مستعجل", "negated"),
        ("for 5 år siden var der vold, nu har jeg det godt", "past"),
        ('i brevet står der "akut anbringelse" hvad betyder det', "quoted"),
        ("hvem ringer jeg til hvis det haster i weekenden?", "hypothetical"),
        ("min søn laver projekt om vold i hjemmet", "topic"),
        ("politiet har afleveret min pung", "topic"),
        ("han slog op med mig i går", "idiom"),
    ],
)
def test_scope_sets_a_frightening_word_aside_and_says_why(
    triage: Triager, text: str, reason: str
) -> None:
    """Negation, past, quotation, hypotheticals, topic and idioms do not page; why names the rule."""
    result = triage(text)
    assert not result.urgent, result.why
    assert any(w.startswith("set aside") and w.endswith(reason) for w in result.why), result.why


def test_a_speech_verb_keeps_a_quoted_threat(triage: Triager) -> None:
    """A threat quoted from the person who made it still counts ("han sagde "jeg slår dig ihjel"")."""
    assert triage('han sagde "jeg slår dig ihjel" og nu står han udenfor').urgent


@pytest.mark.parametrize(
    "text", ["Tak. Skal jeg komme kl 10", "tak skal jeg tage papirerne med", "babyen hoster"]
)
def test_words_are_not_joined_across_a_stop_or_into_a_near_word(triage: Triager, text: str) -> None:
    """'Tak. Skal' is not a misspelt 'tæsk', and 'hoster' (coughs) is not 'haster' (issue #16):
    no word or phrase is found (the model may read a coughing baby as a same-day concern)."""
    result = triage(text)
    assert not result.urgent and not [w for w in result.why if w.startswith(("word", "phrase"))]


def test_a_municipality_term_still_matches() -> None:
    """A word a municipality adds acts as before: found, urgent, and named in matched."""
    triage = Triager(urgent=[*DEFAULT_URGENT, "brand"], risk=DEFAULT_RISK)
    result = triage("der er brand i opgangen")
    assert result.urgent and "brand" in result.matched


@pytest.mark.parametrize(
    ("text", "intent", "exact"),
    [
        ("STOP", "STOP", True),
        ("  frameld ", "STOP", True),
        ("please stop sending these", "STOP", False),
        ("super vi kommer", "OK", False),
        ("fint, vi ses", "OK", False),
        ("kan vi tage det en anden dag", "FLYT", False),
        ("jeg er syg og når det ikke", "AFLYS", False),
        ("hvordan går det med min sag?", "STATUS", False),
        ("START", "START", True),
        ("ستوب", "STOP", True),
        ("скасувати", "AFLYS", True),
    ],
)
def test_intents_in_natural_phrasing_say_whether_they_act_at_once(
    triage: Triager, text: str, intent: str, exact: bool
) -> None:
    """A keyword acts at once (exact); a paraphrase is marked as one (it needs a confirming SMS)."""
    result = triage(text)
    assert (result.intent, result.intent_exact) == (intent, exact), result.why
    assert result.as_json()["intent_source"] == ("keyword" if exact else "paraphrase")


def test_every_result_says_why(triage: Triager) -> None:
    """Urgent, concern, intent and plain messages all carry a reason."""
    for text in ("han slår mig", "jeg har det skidt for tiden", "ok", "hvornår er mødet"):
        assert triage(text).why


def test_the_model_is_plain_json_and_small() -> None:
    """The weights are JSON arrays (never a pickle), aligned, and well under 20 MB."""
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert len(data["vocab"]) == len(data["akut"]) == len(data["concern"]) > 1000
    assert MODEL_PATH.stat().st_size < 20_000_000
