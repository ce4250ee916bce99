"""The eighth round's rules, on sentences written for the test (not corpus rows): soft and
indirect outcomes count in the four languages, and a decision referred to does not."""

from __future__ import annotations

import pytest

from bot.domain.guard import read

DECISIONS = [
    "Hej Per, det bliver desværre ikke til noget med tilskuddet denne gang.",
    "Der kommer 1.800 kr ind på din konto på torsdag til de nye briller.",
    "Vi kan dække halvdelen af udgiften til lejrskolen.",
    "Hi Tom, I have approved the funding for your course.",
    "Hi Sue, good news: it's a yes for the respite weekend.",
    "Fra januar får du 900 kr mindre i kontanthjælp, fordi din kæreste er flyttet ind.",
    "Hi Ben, 3 days will be deducted from your kontanthjælp because you missed the meeting.",
    "Ольго, ми покриємо половину вартості курсу.",
    "مرحبا، تمت إحالتك إلى برنامج تدريب لمدة سنة.",
]
NOT_DECISIONS = [
    "Hej Per, der er intet besluttet endnu, vi taler om det på mødet.",
    "I brevet står der, hvad vi har besluttet. Ring hvis noget er uklart.",
    "Hej Jan, det betyder ikke, at kørestolen er bevilget endnu.",
    "Hi Ann, the doctor at the hospital has decided to wait. That's their call.",
    "Hej Eva, hvis du er uenig i afgørelsen om hjemmehjælp, kan du klage inden 4 uger.",
    "Hej Bo, badestole bevilges normalt ikke, men skriv gerne alligevel.",
    "Hej Kim, fra tirsdag får du en ny mentor-tid hver uge, kl 10 i stedet for kl 9.",
    "Mødet i morgen bliver desværre ikke til noget, jeg er syg.",
    "Ірино, ви маєте право переглянути матеріали справи.",
]


@pytest.mark.parametrize("text", DECISIONS)
def test_soft_outcomes_count(text: str) -> None:
    assert read(text, model=None).decision


@pytest.mark.parametrize("text", NOT_DECISIONS)
def test_a_decision_referred_to_does_not(text: str) -> None:
    assert not read(text, model=None).decision


# The ninth round's scopes (train-r9's kinds, phrased anew): a provider who says they stop,
# the citizen's question repeated, a complaints notice for a letter already sent, the right
# to bring someone along, what is missing, a rule and its condition, nothing decided.
NINTH_ROUND_NOT_DECISIONS = [
    "Hej Sara, din kontaktperson har sagt, at hun desværre stopper efter jul. Vi finder en ny.",
    "Hej Ida, du har spurgt om du 'får afslag på boligstøtte'. Vi ser på hele din økonomi.",
    "You can appeal the refusal within 4 weeks after you got the letter. Want me to help?",
    "يحق لك أن يأتي زوجك معك إلى الاجتماع.",
    "Uden lønsedlerne kan vi ikke bevilge noget. Send dem gerne i dag.",
    "Tilskud til briller gives kun hvis udgiften er stor. Vil du søge?",
    "Hej Bo, vi har talt om et kursus. Ingen ting er besluttet. Vi ses torsdag.",
]
NINTH_ROUND_DECISIONS = [
    "Kommunen har sagt, at de stopper din hjælp fra 1. maj.",
    "Du kan klage over afgørelsen inden 4 uger.",
    "Vi har besluttet at standse din kontanthjælp fra 1/6.",
]


@pytest.mark.parametrize("text", NINTH_ROUND_NOT_DECISIONS)
def test_the_ninth_rounds_kinds_are_not_decisions(text: str) -> None:
    assert not read(text, model=None).decision, read(text, model=None).why


@pytest.mark.parametrize("text", NINTH_ROUND_DECISIONS)
def test_the_ninth_rounds_scopes_leave_decisions_alone(text: str) -> None:
    assert read(text, model=None).decision


@pytest.mark.parametrize(
    "text",
    [
        "Hej Anna. Jeg dækker for Mette i dag. Hilsen Sofie",
        "Hi Sam, I'm covering for Mette this week. Call me if you need anything.",
    ],
)
def test_a_colleague_covering_is_not_a_decision(text: str) -> None:
    """Who answers while the caseworker is away: a practical arrangement the model may not
    overrule ("dækker" is also the word for paying an expense)."""
    assert not read(text).decision, read(text).why
