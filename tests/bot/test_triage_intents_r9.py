"""Triage intents, round nine: the kinds of reply new writers send (lexicon alone)."""

from __future__ import annotations

import pytest

from bot.domain.triage import Triager


@pytest.fixture(scope="module")
def words_only() -> Triager:
    return Triager(model=None)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Opting out, in other words than "stop".
        ("vi ønsker ikke at få påmindelser længere", "STOP"),
        ("behøver ik flere sms'er, tak", "STOP"),
        ("I skriver til et forkert nummer", "STOP"),
        ("please take me off your reminder list", "STOP"),
        ("більше не надсилайте мені нічого", "STOP"),
        ("стоп нагадування", "STOP"),
        ("يرجى عدم ارسال التذكيرات لهذا الرقم", "STOP"),
        ("لا تبعتولي بعد اليوم", "STOP"),
        # Opting back in.
        ("kan I sende påmindelserne til mig igen", "START"),
        ("start beskeder igen", "START"),
        ("new number, could you send the text reminders to it again", "START"),
        ("поновіть мені смс-нагадування будь ласка", "START"),
        ("ممكن ترجعون ترسلون الرسايل", "START"),
        # Another time.
        ("ka vi rykke til ugen efter?", "FLYT"),
        ("kan vi tage det når ferien er ovre", "FLYT"),
        ("is there any other day possible", "FLYT"),
        ("could we change the time to 2pm", "FLYT"),
        ("не виходить у вівторок, може четвер?", "FLYT"),
        ("davajte na inshyj den, mozhna v sredu", "FLYT"),
        ("مش فاضية، ممكن نخليها الاسبوع الجاي؟", "FLYT"),
        ("momken nbadlou el maw3ed?", "FLYT"),
        # Cancelling without a new time.
        ("vi dropper mødet, det er løst", "AFLYS"),
        ("we will not be coming on tuesday", "AFLYS"),
        ("відмовляюсь від зустрічі, дякую", "AFLYS"),
        ("ما رح نجي، الغوا الموعد", "AFLYS"),
        ("ma ghadich nji ghedda", "AFLYS"),
        # Asking for news.
        ("ved I hvor langt ansøgningen er?", "STATUS"),
        ("hører jeg noget snart om sagen", "STATUS"),
        ("any word about the housing claim yet?", "STATUS"),
        ("when do we hear back about the school transport?", "STATUS"),
        ("на якому етапі наша заява?", "STATUS"),
        ("وين وصلت معاملتنا؟", "STATUS"),
        ("emta yjawbouni 3la demande?", "STATUS"),
        # Confirming.
        ("modtaget, tak", "OK"),
        ("har skrevet det ind i kalenderen", "OK"),
        ("ses på onsdag", "OK"),
        ("noted with thanks", "OK"),
        ("we shall be there on time", "OK"),
        ("буду у середу", "OK"),
        ("ان شاء الله موجودين الساعة ١١", "OK"),
    ],
)
def test_a_reply_is_read_as_its_intent(words_only: Triager, text: str, intent: str) -> None:
    """New phrasings of each reply, misspelt and mixed, read as their intent."""
    got = words_only(text)
    assert got.intent == intent, got.why


@pytest.mark.parametrize(
    "text",
    [
        "hvor langt er der fra stationen til jer",
        "har du fået min mail?",
        "is the form due friday or monday?",
        "ما رح نقدر نجي بكرا، البنت مريضة",
        "bussen er forsinket, kommer 10 min senere",
        "хазяїн каже може наступного тижня",
    ],
)
def test_a_near_miss_is_not_that_intent(words_only: Triager, text: str) -> None:
    """Questions about distance or mail, due dates, lateness and others' plans are not a move
    or news request (and a plain cancel stays a cancel)."""
    got = words_only(text)
    assert got.intent in (None, "AFLYS"), got.why
