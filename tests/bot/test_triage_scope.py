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


@pytest.mark.parametrize(
    "text",
    [
        "tak for alt, god jul",
        "tak for alt i år og god jul til jer alle",
        "tak for alt jeres hjælp",
        "tak for alt, godt nytår",
        "tak for alt, vi ses",
        "tak for alt det I gør",
        "Tak for alt. God jul og godt nytår!",
        "thank you for everything, merry christmas",
        "thanks for everything, merry christmas",
        "thank you for everything. see you in january",
    ],
)
def test_thanks_with_a_greeting_is_no_farewell(triage: Triager, text: str) -> None:
    """'Tak for alt' next to a season's greeting or thanks for the help does not page."""
    assert not triage(text).urgent, triage(text).why


@pytest.mark.parametrize(
    "text",
    [
        "farvel og tak for alt",
        "tak for alt. jeg kan ikke mere",
        "kan I passe på min hund. tak for alt",
        "tak for alt. vi ses på den anden side",
        "farvel og tak for alt, god jul",
        "thank you for everything. please look after my dog",
    ],
)
def test_a_farewell_without_a_greeting_still_pages(triage: Triager, text: str) -> None:
    """A goodbye ('farvel og tak for alt', 'tak for alt. jeg kan ikke mere') is still akut."""
    assert triage(text).urgent, triage(text).why


@pytest.mark.parametrize(
    "text",
    [
        "han er blevet bidt af en hund og bløder meget",
        "han er ikke kommet hjem fra fodbold og tager ikke telefonen",
        "han blev slået ned efter fodbold og bløder meget",
    ],
)
def test_an_animal_or_sport_where_it_happened_does_not_cancel_a_risk(
    words_only: Triager, text: str
) -> None:
    """A dog or football as the cause or place of a real event sets nothing aside."""
    assert words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize(
    "text",
    [
        "hunden bløder meget",
        "vores hund døde i weekenden så børnene er kede af det",
        "vi så en film om selvmord i skolen",
        "min søn laver projekt om vold i hjemmet",
    ],
)
def test_a_risk_about_an_animal_a_film_or_a_project_is_set_aside(
    words_only: Triager, text: str
) -> None:
    """The dog bleeding, a film or a school project about a risk does not page."""
    assert not words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize(
    "text", ["ok vi ses tirsdag 😂", "fint 😂 vi kommer", "ja vi kommer 😂😂", "vi kommer haha"]
)
def test_a_laugh_does_not_void_a_reply(words_only: Triager, text: str) -> None:
    """A laughing emoji sets a risk aside as a joke but leaves an OK an OK."""
    assert words_only(text).intent == "OK", words_only(text).why


@pytest.mark.parametrize("text", ["det er ikke ok", "jeg slår ham ihjel 😂"])
def test_a_negated_ok_is_no_reply_and_a_laughed_threat_no_risk(
    words_only: Triager, text: str
) -> None:
    """'ikke ok' is still no OK; a threat with 😂 is still set aside as a joke."""
    result = words_only(text)
    assert result.intent is None and not result.urgent, result.why


@pytest.mark.parametrize(
    "text",
    [
        "haha he said he'd kill me tonight and hes on his way",
        "هههه قال رح يقتلني الليلة وهو جاي",
        "lol i dont even care anymore, i took all the pills",
    ],
)
def test_a_laugh_before_the_risk_is_nervous_not_a_joke(words_only: Triager, text: str) -> None:
    """A laugh makes a joke of what came before it, not of what follows."""
    assert words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize(
    "text",
    [
        "haha my boss is gonna kill me if i'm late again",
        "i'll kill him lol he ate my chocolate",
        "jk jk han slår mig ihjel i fifa",
        "طلع عندهم عرس 😅 سامحوني عالإزعاج",
    ],
)
def test_a_joke_or_an_idiom_around_a_laugh_is_still_set_aside(
    words_only: Triager, text: str
) -> None:
    """A laugh after the risk, "jk", or an idiom ("my boss is gonna kill me")."""
    assert not words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize(
    "text",
    [
        "my son is home alone for an hour after school, is that ok?",
        "can my daughter stay home alone for two hours after school?",
        "må han være alene hjemme en time efter skole?",
        "min søn på 10 er alene hjemme en time efter skole, er det ok?",
    ],
)
def test_asking_about_a_short_arranged_time_alone_is_a_concern(triage: Triager, text: str) -> None:
    """A parent asking whether a child may be alone an hour after school is bekymring at most."""
    assert triage(text).level == "bekymring", triage(text).why


@pytest.mark.parametrize(
    "text",
    [
        "my son is home alone at night",
        "my son is home alone at night for an hour, is that ok?",
        "my 4 year old is home alone for an hour, is that ok?",
        "nobody came and the children are alone",
        "the kids are alone, nobody came after school. is that ok?",
        "min søn er alene hjemme om natten",
        "børnene har været alene i tre dage",
        "børnene er alene. jeg har ikke hørt fra dem i en time",
    ],
)
def test_a_child_alone_at_night_for_days_or_small_still_pages(triage: Triager, text: str) -> None:
    """A child alone at night, for days, a small child, or nobody came: still akut."""
    assert triage(text).urgent, triage(text).why


@pytest.mark.parametrize(
    "text", ["han lå bevidstløs på gulvet", "min mor lå bevidstløs i køkkenet"]
)
def test_a_danish_word_that_folds_to_an_arabic_negator_negates_nothing(
    words_only: Triager, text: str
) -> None:
    """'lå' folds to 'la' (Arabic 'no' in Latin letters): a Danish risk is negated only in Danish."""
    assert words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize("text", ["det er ikke akut", "مش مستعجل", "це не терміново", "not urgent"])
def test_a_negation_in_the_risks_own_language_still_sets_it_aside(
    words_only: Triager, text: str
) -> None:
    """'ikke akut', 'مش مستعجل', 'не терміново', 'not urgent' are still negated."""
    assert not words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize(
    "text",
    [
        "naboen banker på hos os hver morgen for at låne mælk",
        "han banker på døren når han kommer hjem fra arbejde",
        "min søn øver sig på at cykle og skal snart cykle i skole alene",
        "han sad inde for vold for ti år siden, nu vil han gerne se sin datter",
        "vi fik brev om tilsyn. tror I at vi slår vores børn?",
        "the toddler isnt breathing through his nose at night, just a cold",
        "my brother will kill me if he eats my chips again haha",
        "I'll kill him if he eats my last biscuit again",
        "when we were together he was violent, now we share custody fine",
    ],
)
def test_knocking_a_record_an_accusation_and_everyday_threats_do_not_page(
    words_only: Triager, text: str
) -> None:
    """Knocking ("banker på"), walking to school alone, a sentence served, a question about
    an accusation, a stuffy nose, a sibling 'threat' and a past relationship are no alarm."""
    assert not words_only(text).urgent, words_only(text).why


@pytest.mark.parametrize(
    "text",
    [
        "hvad sker der med ungerne hvis jeg ikke er her mere",
        "what happens to my kids if i die tonight",
        "hvor mange piller skal man tage før man dør? jeg spørger for mig selv",
        "how many paracetamol is too many lol. asking for me",
        "han banker børnene igen",
    ],
)
def test_an_own_if_or_an_earnest_word_keeps_the_risk(words_only: Triager, text: str) -> None:
    """An "if" inside the phrase, or "asking for me" anywhere, keeps a risk that a question,
    an "if" or a laugh would otherwise set aside; "banker" with whom still hits."""
    assert words_only(text).urgent, words_only(text).why
