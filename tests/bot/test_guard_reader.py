"""The decision guard's reader, its corpus figures and ``tovholder guard`` (no database)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.guard import classify
from bot.domain.guard import (
    GUIDANCE_LINE,
    DecisionNotAllowed,
    as_sent,
    read,
    refuse_decision,
    system,
)
from bot.domain.guard.corpus import figures, load

DATA = Path(__file__).resolve().parents[1] / "data" / "guard"
ROOT = Path(__file__).resolve().parents[2]

DECISIONS = [
    "Afgørelse: Du får afslag på hjælp til tandbehandling.",
    "Du har fået bevilget 10 timers aflastning om måneden",
    "Din kontanthjælp stopper fra 1. maj",
    "Du skal betale 3.000 kr. tilbage",
    "Vi har besluttet at din søn skal have en kontaktperson",
    "du har ikke ret til boligstøtte",
    "We have decided to stop your cash benefit",
    "Рішення: вам відмовлено в допомозі на житло",
    "Вашу житлову допомогу припинено з 1 серпня",
    "تم رفض طلبك للحصول على إعانة السكن",
    "يجب عليك إرجاع 3000 كرون",
]
NOT_DECISIONS = [
    "Vi har ikke truffet en afgørelse endnu",
    "Du vil få en afgørelse inden for 4 uger",
    "Afgørelsen kommer med Digital Post",
    "Husk at klage over afgørelsen inden 4 uger",
    "Det afslag du fik sidste år gælder ikke længere",
    "Husk mødet på torsdag kl. 10",
    "Kan du sende dine lønsedler for marts?",
    "Du har ret til at have en bisidder med",
    "Hvis du får afslag, kan du klage",
    GUIDANCE_LINE,
    "Ви отримаєте рішення протягом 4 тижнів",
    "Ваша допомога не припиняється",
    "Ви маєте право на перекладача",
    "إعانتك لن تتوقف",
    "قررنا نقل الاجتماع إلى يوم الخميس",
]


# The audit of issue 17 (third round): everyday refusals and complaints notices the guard
# let through before; each must now be refused.
AUDIT = [
    "Kommunen giver dig ikke hjælp til flytning.",
    "Kommunen har valgt ikke at give dig tilskud til briller.",
    "Vi har vurderet, at du ikke kan få hjælp til tandbehandling.",
    "Du får ikke hjælp til depositum, fordi du har formue over grænsen.",
    "Kommunen dækker ikke udgiften til din medicin.",
    "Din sag er afsluttet, og du modtager ikke længere hjælp fra os.",
    "Hvis du er uenig, kan du klage. Klagen skal være modtaget inden 4 uger efter, "
    "at du har fået denne afgørelse.",
    "Hvis du er uenig, kan du klage inden 4 uger efter, at du har modtaget denne afgørelse.",
    "Du kan klage over afgørelsen inden 4 uger.",
]
# Hard negatives that share those words: not now, not money, a condition, general guidance.
AUDIT_NOT_DECISIONS = [
    "Kommunen giver ikke svar før fredag",
    "Vi dækker ikke mødet i dag – jeg er syg",
    "Du kan klage, hvis du er uenig i noget – skriv bare til mig",
    "Du kan altid klage, hvis du synes vi har behandlet dig forkert",
    "Hvis du får afslag, kan du klage inden 4 uger",
    "Du får ikke din boligstøtte udbetalt før den 3., fordi den 1. er en helligdag",
    "Vi har ikke vurderet endnu, om du kan få hjælp til tandbehandling",
    "Lægen har vurderet, at du skal have ro. Vi taler om det på mødet",
    "Skolen har valgt ikke at give Emil en støttelærer. Vi tager det op på mødet",
    "Kommunen dækker normalt ikke udgifter til briller, men søg gerne alligevel",
    "Du modtager ikke længere hjælp fra mig, men fra Anne i jobcentret, fordi din sag er flyttet",
    "Vi har valgt at holde mødet online, linket kommer i morgen",
]


@pytest.mark.parametrize("text", AUDIT)
def test_the_audits_everyday_refusals_and_complaints_notices_are_refused(text: str) -> None:
    """Issue 17 audit: "giver dig ikke", "valgt ikke at", "vurderet, at du ikke kan få",
    "dækker ikke", "modtager ikke længere" and a klagevejledning with a deadline: decisions."""
    reading = read(text)
    assert reading.decision, reading
    assert reading.why and "«" in reading.why[0]


@pytest.mark.parametrize("text", AUDIT_NOT_DECISIONS)
def test_the_same_words_in_guidance_and_practical_no_are_let_through(text: str) -> None:
    """Not yet, not today, not money, someone else's choice, "you can always complain": not one."""
    assert not read(text).decision, read(text)


def test_a_complaints_notice_needs_its_deadline_and_no_condition_on_the_decision() -> None:
    """ "Hvis du er uenig" frames a klagevejledning; "hvis du får afslag" is a condition."""
    assert read("Hvis du er uenig, kan du klage inden 4 uger").decision
    assert not read("Hvis du er uenig, kan du klage").decision
    assert not read("Hvis du får afslag, kan du klage inden 4 uger").decision
    assert not read("Husk at du kan klage over afgørelsen inden 4 uger, se brevet").decision
    assert read("Kommunen giver dig ikke hjælp til flytning").why == [
        "giver ikke: «kommunen giver dig ikke hjaelp»"
    ]


def test_our_guidance_line_is_not_read_as_the_caseworkers_words() -> None:
    """Queued guidance ("…\nDette er vejledning …") is read without our own line (the model
    read "Du kan søge om hjælp til tandpleje." with it as a decision); a decision with the
    line added is still refused."""
    refuse_decision(as_sent("Du kan søge om hjælp til tandpleje.", "guidance"))
    with pytest.raises(DecisionNotAllowed):
        refuse_decision(f"Du får afslag på boligstøtte\n{GUIDANCE_LINE}")


@pytest.mark.parametrize("text", DECISIONS)
def test_decisions_are_read_as_decisions_with_a_reason(text: str) -> None:
    """Grant, refusal, stop, repayment, "besluttet", "ikke ret til": a decision, and why names it."""
    reading = read(text)
    assert reading.decision, reading
    assert reading.why and "«" in reading.why[0]


@pytest.mark.parametrize("text", NOT_DECISIONS)
def test_talk_about_a_decision_is_not_one(text: str) -> None:
    """A decision to come, one announced or made before, a reminder, an appointment: not one."""
    assert not read(text).decision, read(text)


def test_a_decision_flagged_as_guidance_is_refused_and_guidance_gets_its_line() -> None:
    """The flag does not make a decision guidance; real guidance gets the plain line."""
    with pytest.raises(DecisionNotAllowed) as caught:
        as_sent("Du får afslag på boligstøtte", "guidance")
    assert caught.value.code == "decision_not_allowed" and "Digital Post" in caught.value.message
    assert caught.value.why == ["afslag: «afslag»"]
    with pytest.raises(DecisionNotAllowed):
        as_sent("Hej Anna", "decision")
    assert as_sent("Du kan søge om hjælp", "guidance") == f"Du kan søge om hjælp\n{GUIDANCE_LINE}"
    assert as_sent("Hej Anna") == "Hej Anna"


def test_the_corpus_is_as_the_readme_says() -> None:
    """At least 300 held out, a third hard negatives; ids unique; train and held-out disjoint."""
    train, held = load(DATA / "train.jsonl"), load(DATA / "heldout.jsonl")
    assert len(held) >= 300
    assert sum(r["hard_negative"] for r in held) * 3 >= len(held)
    assert not any(r["decision"] and r["hard_negative"] for r in train + held)
    assert len({r["id"] for r in train + held}) == len(train) + len(held)
    assert not {r["text"] for r in train} & {r["text"] for r in held}


def test_the_ukrainian_and_arabic_held_out_addition_is_as_the_readme_says() -> None:
    """At least 60 texts each in uk and ar, a third hard negatives, none also in train."""
    train, held = load(DATA / "train.jsonl"), load(DATA / "heldout-uk-ar.jsonl")
    for lang in ("uk", "ar"):
        rows = [r for r in held if r["lang"] == lang]
        assert len(rows) >= 60
        assert sum(r["hard_negative"] for r in rows) * 3 >= len(rows)
    assert {r["lang"] for r in held} == {"uk", "ar"}
    assert not {r["text"] for r in train} & {r["text"] for r in held}
    assert not {r["id"] for r in train} & {r["id"] for r in held}


def test_ukrainian_and_arabic_held_out_figures_are_what_docs_guard_md_reports() -> None:
    """uk/ar held-out: 56 of 56 decisions caught, 2 of 48 hard negatives refused (0 before
    the fifth round: its model refuses two)."""
    rows = load(DATA / "heldout-uk-ar.jsonl")
    f = figures(rows, [read(r["text"]) for r in rows])
    assert (f.recall.hits, f.recall.total) == (56, 56)
    assert (f.false_refusals_hard.hits, f.false_refusals_hard.total) == (2, 48)


def test_held_out_recall_reaches_the_target() -> None:
    """Decision recall on the held-out split is at least 95 %."""
    rows = load(DATA / "heldout.jsonl")
    f = figures(rows, [read(r["text"]) for r in rows])
    assert f.recall.rate is not None and f.recall.rate >= 0.95, f.recall


def test_held_out_false_refusals_are_what_docs_guard_md_reports() -> None:
    """Held-out: 145 of 148 decisions caught (rules and model, after the eighth round), 3 of 106
    hard negatives and 3 of 153 non-decisions refused with the model retrained on the seventh
    writer's texts (2 and 2 with the sixth round's model; the seventh round's scopes change
    neither figure; docs/guard.md)."""
    rows = load(DATA / "heldout.jsonl")
    f = figures(rows, [read(r["text"]) for r in rows])
    assert (f.recall.hits, f.recall.total) == (145, 148)
    assert (f.false_refusals_hard.hits, f.false_refusals_hard.total) == (3, 106)
    assert (f.false_refusals.hits, f.false_refusals.total) == (3, 153)


def test_held_out_false_refusals_on_hard_negatives_reach_the_target() -> None:
    """At most 5 % of the held-out hard negatives are refused."""
    rows = load(DATA / "heldout.jsonl")
    f = figures(rows, [read(r["text"]) for r in rows])
    assert f.false_refusals_hard.rate is not None and f.false_refusals_hard.rate <= 0.05


# The fifth round's training texts: a second writer's probe, folded in, and four more writers;
# then the third writer's probe and the eighth round's two writers.
OTHER_WRITERS = ("probe2-", "train-r5", "train-r7", "probe3-", "train-r8", "train-r9")


def test_train_split_is_read_right() -> None:
    """The first four rounds' texts (one author; the rules and the model were made from
    them) are read as labelled, but two the model is not sure of (one, "… bortfalder, da I
    ikke har brugt det siden juni": "siden" reads as a past decision mentioned, and the model
    may not overrule a scope). The other writers' texts
    are read as the model learnt them, short of perfect (the model is regularised); since the
    fifth round's scopes (someone else's decision, a reminder, a grant as background, a
    consultation) the rules refuse none of their hard negatives (figures as docs/guard.md
    reports; the sixth round's scopes did the same for its writer, and the seventh round's
    for the seventh writer's plain texts: a lawyer the municipality pays, a test approved, a
    ticket to a meeting, a deadline or a form, an application for a reduction)."""
    rows = load(DATA / "train.jsonl")
    first = [r for r in rows if not r["id"].startswith(OTHER_WRITERS)]
    wrong = [r["id"] for r in first if read(r["text"]).decision != r["decision"]]
    assert wrong == ["train-r4-0019", "train-r4-0089"]
    others = [r for r in rows if r["id"].startswith(OTHER_WRITERS)]
    decisions = [r for r in others if r["decision"]]
    hard = [r for r in others if r["hard_negative"]]
    assert (len(others), len(decisions), len(hard)) == (3278, 1339, 1329)
    assert sum(read(r["text"]).decision for r in decisions) >= 1307
    assert sum(read(r["text"]).decision for r in hard) <= 7
    # The rules alone refuse no hard negative of the whole split (the model may not overrule
    # them): the eighth round's scopes spare a decision referred to, not stated, and the
    # ninth round's (scopes_r9) the eighth round's second writer's (train-r9): a provider who
    # says they stop, the citizen's question repeated, a complaints notice for a letter sent,
    # what is missing, a rule and its condition, nothing decided.
    assert [
        r["id"] for r in rows if r["hard_negative"] and read(r["text"], model=None).decision
    ] == RULES_REFUSE


RULES_REFUSE: list[str] = []


def test_the_rules_alone_read_the_first_three_rounds_right() -> None:
    """Before the fourth round the rules were written against every training text; the
    fourth round's texts were written to be phrased otherwise, and the rules alone miss many
    of its decisions (the model is there for those) but refuse none of its hard negatives."""
    rows = load(DATA / "train.jsonl")
    old = [r for r in rows if not r["id"].startswith(("train-r4-", *OTHER_WRITERS))]
    assert [r["id"] for r in old if read(r["text"], model=None).decision != r["decision"]] == []
    new = [r for r in rows if r["id"].startswith("train-r4-")]
    assert len(new) == 496 and sum(r["decision"] for r in new) == 190
    assert not [r["id"] for r in new if not r["decision"] and read(r["text"], model=None).decision]


def test_the_third_rounds_probe_is_read_right() -> None:
    """probe-r3.jsonl (two batches, each measured once and then tuned on; see the README):
    the rules read it right; the model never saw it, and with it all 60 decisions are still
    caught and 3 of 60 hard negatives refused (the seventh round's model and rules; 1 before
    the fifth round: "Du får desværre ikke svar på din ansøgning … i denne uge": the model
    does not know "not yet" as the rules do)."""
    rows = load(DATA / "probe-r3.jsonl")
    assert len(rows) == 120 and sum(r["decision"] for r in rows) == 60
    wrong = [r["id"] for r in rows if read(r["text"], model=None).decision != r["decision"]]
    assert wrong == []
    f = figures(rows, [read(r["text"]) for r in rows])
    assert (f.recall.hits, f.false_refusals_hard.hits) == (60, 3)


def test_the_probe_shares_no_text_with_the_other_splits() -> None:
    """No probe text is also a training or held-out text."""
    probe = {r["text"] for r in load(DATA / "probe-r3.jsonl")}
    others = load(DATA / "train.jsonl") + load(DATA / "heldout.jsonl")
    others += load(DATA / "heldout-uk-ar.jsonl")
    assert not probe & {r["text"] for r in others}


def test_classify_writes_one_line_per_input_in_order() -> None:
    """JSON lines in, one result per line out, in order; a bad line gets an error line."""
    lines = io.StringIO(
        '{"id": "a", "text": "Du får afslag på boligstøtte"}\n'
        "\n"
        "not json\n"
        '{"id": 7, "text": "Husk mødet i morgen"}\n'
    )
    out = io.StringIO()
    assert classify(lines, out) == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["a", None, 7]
    assert rows[0]["decision"] is True and rows[0]["why"] == ["afslag: «afslag»"]
    assert "error" in rows[1] and rows[1]["line"] == 3
    assert rows[2] == {"id": 7, "decision": False, "why": []}


def test_the_command_needs_no_database() -> None:
    """``tovholder guard classify`` and ``evaluate`` run as commands, with no database set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "guard", "classify"],
        input='{"id": "x", "text": "Vi har besluttet at standse din ydelse"}\n',
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == {
        "id": "x",
        "decision": True,
        "why": ["ophør eller nedsættelse: «standse din ydelse»", "besluttet: «har besluttet»"],
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "guard", "evaluate", str(DATA / "train.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert "decision recall" in done.stdout and "98.1 % (1752/1786)" in done.stdout


def test_the_systems_own_texts_do_not_read_as_decisions() -> None:
    """Reminders, milestones and "still working" (kind ``update`` too) pass the guard,
    also "A decision has been made in your case. You will get it in Digital Post."."""
    texts = system.danish_and_english()
    assert any("Digital Post" in t for t in texts)
    assert [t for t in texts if read(t).decision] == []


@pytest.mark.parametrize("language", ["uk", "ar"])
def test_the_systems_own_ukrainian_and_arabic_texts_do_not_read_as_decisions(
    language: str,
) -> None:
    """Every uk/ar text of the catalogue passes, e.g. "У вашій справі ухвалено рішення …"."""
    texts = system.catalogue_texts(language)
    assert len(texts) > 100 and any("Digital Post" in t for t in texts)
    assert [t for t in texts if read(t).decision] == []


@pytest.mark.parametrize(("probe", "caught", "refused"), [("probe4", 112, 7), ("probe5", 96, 7)])
def test_a_new_writers_probe_does_not_fall(probe: str, caught: int, refused: int) -> None:
    """probe4.jsonl and probe5.jsonl: a fourth and a fifth writer who never saw the guard, its
    corpus or its rules, each committed before its round and never tuned on (only totals are
    read). Floors at the figures measured after the eighth round, rules and model (targets:
    ≥ 95 % caught, ≤ 5 % of hard negatives refused). (probe2 and probe3 are training now.)"""
    rows = load(DATA / f"{probe}.jsonl")
    others = load(DATA / "train.jsonl") + load(DATA / "heldout.jsonl")
    others += load(DATA / "heldout-uk-ar.jsonl") + load(DATA / "probe-r3.jsonl")
    assert not {r["text"] for r in rows} & {r["text"] for r in others}
    got = sum(read(r["text"]).decision for r in rows if r["decision"])
    wrong = sum(read(r["text"]).decision for r in rows if r["hard_negative"])
    assert got >= caught and wrong <= refused, (got, wrong)


# The fifth round's phrasings, written fresh for this test (not corpus texts): an outcome in
# everyday words is refused; the same words as someone else's decision, a reminder, a grant
# mentioned as background or a consultation pass.
@pytest.mark.parametrize(
    "text",
    [
        "Hej Lise, det blev et nej til den nye cykel, beklager.",
        "Du er nu godkendt til ressourceforløb fra 1. juni.",
        "Hjemmehjælp: ja 👍 fra næste mandag",
        "Din mor er visiteret til dagcenter to dage om ugen.",
        "Den tidligere afgørelse fastholdes, og sagen sendes til Ankestyrelsen.",
        "Der kommer en hjemmehjælper hver tirsdag fra 1/9.",
        "Good news: your application for a new wheelchair is approved.",
        "Комуна оплатить вам курси водіння, 6.000 kr.",
        "البلدية وافقت على مساعدة الأثاث، 3.000 kr.",
    ],
)
def test_the_fifth_rounds_phrasings_of_an_outcome_are_refused(text: str) -> None:
    """An outcome without the words afslag, bevilling or besluttet still reads as a decision."""
    reading = read(text, model=None)
    assert reading.decision, reading.why


@pytest.mark.parametrize(
    "text",
    [
        "Hej Per, gymnasiet har besluttet at flytte eksamen til juni.",
        "Det er lægen der har besluttet at du skal sygemeldes en uge mere.",
        "Hi Sam, the landlord has decided to paint the stairs next week.",
        "Husk at bestille den bil, som du allerede har fået bevilget.",
        "En påmindelse: din egenbetaling på 200 kr skal betales d. 1.",
        "Jeg tænker vi må stoppe hjælpen til indkøb, men jeg vil høre dig først.",
        "Du har ret til en gratis advokat, når udvalget behandler sagen.",
        "Ще нічого не вирішено, спочатку поговоримо.",
    ],
)
def test_the_fifth_rounds_scopes_let_the_same_words_pass(text: str) -> None:
    """Someone else's decision, a grant as background, a reminder, a consultation, a
    procedural right: not a decision, and the model may not overrule the scope."""
    reading = read(text)
    assert not reading.decision, reading.why


@pytest.mark.parametrize(
    "text",
    [
        "Svaret er ja",
        "Svaret er nej, du behøver ikke tage papirerne med",
        "Ja til tirsdag kl 10, det passer fint",
        "Nej til kaffe, tak :)",
        "Hej Mette: ja, du må gerne tage din søn med",
        "Det blev et ja fra lægen, så I kan godt komme",
        "Din tolk er godkendt, hun kommer kl 10",
        "Skemaet er godkendt, tak",
        "Mødet er forlænget til kl 12",
        "Du får 2 timer med mig på mandag fra kl 9",
        "We'll pay for the taxi to the meeting, just keep the receipt",
        # The sixth round's cues ("vi kan godt give …", "ikke grundlag for …", samvær changed,
        # a benefit's new level, "fra 1/5 får du … hver", "went through", "du må gerne beholde").
        "Jeg kan godt give dig en tid på torsdag kl 10.",
        "Vi kan godt hjælpe dig med ansøgningen om boligstøtte, kom forbi.",
        "Du kan godt få hjælp til at udfylde skemaet hos borgerservice.",
        "We can help you with the form on Monday.",
        "Der er ikke grundlag for at flytte mødet, vi ses torsdag.",
        "Din boligstøtte er på 1.500 kr – husk at den kommer den 1.",
        "Samværet på søndag er flyttet til kl 14.",
        "Samværet i weekenden bliver aflyst, fordi Liva er syg.",
        "The visit on Saturday will be at the foster family's house.",
        "Fra mandag får du en ny sagsbehandler, hun hedder Line.",
        "Fra næste uge kommer jeg på besøg hver tirsdag.",
        "Skemaet er gået igennem systemet, tak.",
        "Your application went through to the system, we'll look at it next week.",
        "Du må gerne beholde kvitteringen.",
        "Du skylder ikke noget, alt er betalt.",
        "We'll help you with the move on Friday, the van comes at 9.",
        "Du får dækket transporten til mødet, hvis du sender billetten.",
        "Ви можете оскаржити рішення, якщо не згодні.",
        "يمكنك الاتصال بي خلال أسبوعين.",
    ],
)
def test_everyday_answers_with_the_fifth_rounds_words_pass(text: str) -> None:
    """The fifth round's cues ("svaret er nej til …", "ja til aflastning", "er godkendt til
    fleksjob", "aflastningen er forlænget", "du får … 3 timer om ugen fra …") read the
    outcome, not a caseworker's everyday yes, no, approved or extended (a CI run caught
    "Svaret er ja" refused)."""
    assert not read(text).decision, read(text).why


# The sixth round's scopes, written fresh for this test (not corpus texts): a payment recalled
# as agreed, the citizen's words reported, a visit moved, the right to attend.
@pytest.mark.parametrize(
    "text",
    [
        "Vi betaler transporten til kurset som aftalt, husk at gemme billetten.",
        "Kommunen dækker togbilletten til kurset som lovet – jeg sender den på mail.",
        "We'll cover the course fee as agreed, the course starts on Monday at 9.",
        "Du sagde i telefonen, at du har fået afslag på alt – lad os kigge på det sammen.",
        "Du skrev i går, at din ydelse er stoppet. Jeg undersøger det i dag.",
        "You felt you were refused every time – let's talk about it on Monday.",
        "Ви писали, що вашу допомогу припинено. Я перевірю і напишу.",
        "We've decided to reschedule the home visit to Monday at 10.",
        "We have decided to move your appointment to 9 am because of the roadworks.",
        "You have the right to attend the meeting with a friend.",
        "You have the right to be present at the committee meeting on Tuesday.",
        "Ви маєте право бути присутньою на засіданні у вівторок.",
        "لديك الحق في حضور الاجتماع مع صديق.",
    ],
)
def test_the_sixth_rounds_scopes_let_the_same_words_pass(text: str) -> None:
    """A payment recalled "som aftalt", the citizen's words reported ("du sagde, at …", "ви
    писали"), a visit or appointment moved, a right to attend or be present: not a decision,
    and the model may not overrule the scope."""
    reading = read(text)
    assert not reading.decision, reading.why


def test_the_citizens_act_as_the_reason_for_an_outcome_is_still_one() -> None:
    """ "Da du sagde nej til jobbet, stopper …" is the outcome with its reason, not the
    citizen's words reported."""
    assert read(
        "Da du sagde nej til jobbet, stopper din kontanthjælp i 3 uger.", model=None
    ).decision


# The sixth round's phrasings of an outcome, written fresh for this test (not corpus texts):
# each names what it is about (a benefit, an amount, an aid, samvær), not a bare "ja".
@pytest.mark.parametrize(
    "text",
    [
        "Hej Sanne, vi kan godt give dig tilskud til tandregningen, 2.300 kr.",
        "Jeg har talt med min leder, og vi vil gerne betale depositum til den nye lejlighed.",
        "Du kan godt få hjælp til medicinen, jeg sender pengene i morgen.",
        "Du får dækket en ny rollator, den kommer på torsdag.",
        "We can help with the rent for March, 6,200 kr goes straight to the landlord.",
        "You can get the hearing aids after all, the shop will call you.",
        "Der er desværre ikke grundlag for at give dig hjælp til flytningen.",
        "Vi har vurderet, at der ikke er grundlag for merudgifter til kost.",
        "Din boligstøtte bliver 1.640 kr om måneden fra 1. marts.",
        "Dit tilskud fortsætter, men med 300 kr mindre om måneden.",
        "Din kontanthjælp er genoptaget fra mandag.",
        "Samværet med Emil bliver overvåget fra næste måned.",
        "From next week the visits with your son will be supervised.",
        "Ib er nu godkendt som aflastningsfamilie for Noah.",
        "Vi har godkendt den nye kørestol, den bliver leveret i uge 12.",
        "Your application for a wheelchair went through 👍",
        "Fra 1/5 får du rengøring hver anden uge.",
        "Fra næste måned kommer hjemmehjælpen hver morgen.",
        "You owe 1,200 kr from the housing benefit, the bill comes next week.",
        "Desværre bliver det et nej til hjælp til tandlægen.",
        "Din ansøgning er færdigbehandlet, og svaret er desværre nej.",
        "We've had to turn down your application for a new bed.",
        "Du må gerne beholde de 5.000 kr fra din farmor.",
        "Тобі дають гроші на зимову куртку, 900 kr.",
        "Побачення (samvær) з сином тепер будуть під наглядом.",
        "لم تتم الموافقة على طلب إعانة السكن.",
        "لم يعد لك الحق في إعانة السكن من 1/9.",
        "الزيارات (samvær) ستكون تحت الإشراف من الشهر القادم.",
        "ستغطي البلدية تكاليف النظارات، 1.500 كرون.",
        "يمكنك الاعتراض خلال 4 أسابيع.",
    ],
)
def test_the_sixth_rounds_phrasings_of_an_outcome_are_refused(text: str) -> None:
    """Casual grants ("vi kan godt give …", "du får dækket …", "тобі дають гроші на …",
    "ستغطي البلدية"), "ikke grundlag for …", a benefit's new level or amount, samvær changed,
    "fra 1/5 får du … hver", "you owe …", "bliver det et nej til …": decisions, by rules."""
    reading = read(text, model=None)
    assert reading.decision, reading.why


def test_a_sentence_ends_after_a_date_written_with_a_slash() -> None:
    """ "… tilkendt med virkning fra 1/7. Du får brev fra Udbetaling Danmark om beløbet": the
    second sentence's other authority does not set the first sentence's grant aside."""
    text = (
        "Din førtidspension er tilkendt med virkning fra 1/7. Du får brev fra Udbetaling Danmark."
    )
    assert read(text, model=None).decision
    assert not read("Ring til mig d. 1. maj, så taler vi om det.", model=None).decision


# The seventh round's scopes, written fresh for this test (not corpus texts): a lawyer or
# interpreter the municipality pays, the citizen's question reported, a test or exam
# approved, a ticket to a meeting, a deadline extended, a form approved, help with an
# application for a reduction — each in Danish, English, Ukrainian and Arabic.
@pytest.mark.parametrize(
    "text",
    [
        "Du har ret til en bisidder på mødet, og du kan få en advokat, som kommunen betaler.",
        "Kommunen betaler tolken til samtalen på tirsdag.",
        "You can bring a lawyer to the committee meeting, which the council pays for.",
        "Ви маєте право на адвоката, якого оплатить комуна.",
        "لك الحق في محامٍ ستدفع البلدية أتعابه.",
        "Jeg har fået dit spørgsmål om, om du kan få dækket medicinen – jeg ser på det i morgen.",
        "Tak for dit spørgsmål om hvorvidt kommunen betaler for flytningen, jeg vender tilbage.",
        "Thanks for your question about whether we can cover the deposit, I'll reply on Friday.",
        "Отримала ваше питання, чи комуна оплатить окуляри. Відповім у четвер.",
        "وصلني سؤالك عن إمكانية أن تغطي البلدية تكاليف النظارات، سأرد عليك يوم الخميس.",
        "Tillykke, du er godkendt til teoriprøven på fredag!",
        "Great news that you've been approved for the driving test next week 🎉",
        "Вітаю, вас допущено і схвалено до іспиту з мови!",
        "مبروك، تمت الموافقة على امتحان اللغة يوم الجمعة.",
        "Vi betaler togbilletten til mødet i Odense, gem kvitteringen.",
        "The council will pay for the bus ticket to your interview, just keep the receipt.",
        "Комуна оплатить квиток на потяг на зустріч у четвер.",
        "البلدية ستدفع تذكرة القطار إلى الاجتماع يوم الخميس.",
        "Fristen for at sende lønsedlerne er forlænget til fredag.",
        "The deadline for the bank statements has been extended to 1/12.",
        "Термін подачі документів продовжили до п'ятниці.",
        "تم تمديد المهلة لإرسال كشوف الراتب حتى يوم الجمعة.",
        "Skemaet er tjekket og godkendt, tak!",
        "Your form has been checked and approved, thanks.",
        "Бланк перевірено і погоджено, дякую.",
        "تمت الموافقة على الاستمارة، شكرا لك.",
        "Jeg hjælper dig gerne med ansøgningen om nedsat friplads på mandag.",
        "We can help you fill in the application for a reduced fee on Monday.",
        "Допоможу заповнити заяву на зменшення плати за садок у понеділок.",
        "سأساعدك في تعبئة طلب تخفيض الإيجار يوم الاثنين.",
    ],
)
def test_the_seventh_rounds_scopes_let_everyday_texts_pass(text: str) -> None:
    """A lawyer the municipality pays (a procedural right), the citizen's question ("hvorvidt",
    "питання, чи"), someone else's approval of a test, a ticket to a meeting, a deadline or a
    form, help with an application for a reduction: not a decision, and the model may not
    overrule the scope."""
    reading = read(text)
    assert not reading.decision, reading.why


# Decisions that share the seventh round's words: each scope is narrow enough to leave them.
@pytest.mark.parametrize(
    "text",
    [
        "Kommunen betaler din tandregning på 2.300 kr.",
        "Du er godkendt til fleksjob fra 1. juni.",
        "You have been approved for the housing benefit from June.",
        "Tak for skemaet, vi har bevilget hjælp til briller.",
        "Kommunen dækker din transport til hospitalsbehandlingen fra 1/9.",
        "We'll cover your taxi to the hospital appointments from March.",
        "We'll cover your rent for March, 6,200 kr.",
        "Jeg har svaret på dit spørgsmål: du kan få dækket transport til fysioterapi fra 1/3.",
        "Fristen er overholdt, og din boligstøtte er forhøjet fra 1/1.",
        "Du får tolkebistand 10 timer om måneden fra 1/3.",
        "Вашу допомогу продовжено до 31/12.",
        "Вашу заяву схвалено, допомога з 1/9.",
        "Вашу допомогу зменшено з 1/9.",
        "تمت الموافقة على طلبك للحصول على إعانة السكن.",
        "تم تخفيض إعانتك من 1/9.",
        "Din ansøgning er behandlet: din boligstøtte nedsættes fra 1/7.",
    ],
)
def test_the_seventh_rounds_scopes_leave_decisions_alone(text: str) -> None:
    """A payment for a benefit or treatment, an approval for a benefit, a grant after a form,
    a benefit extended or reduced: still refused, by rules."""
    reading = read(text, model=None)
    assert reading.decision, reading.why


# Whole sentences a rule reads as a practical arrangement (a fare to a meeting, a meeting
# moved, a form approved), written for this test: the model alone may not refuse them.
@pytest.mark.parametrize(
    "text",
    [
        "Mødet med din mentor er flyttet til onsdag kl. 13.",
        "Din blanket er godkendt, så nu mangler vi kun lønsedlerne.",
        "Your appointment has been moved to Thursday at 10, same room as last time.",
        "Комуна компенсує проїзд на співбесіду, збережіть квиток.",
        "تم نقل الموعد إلى يوم الأربعاء الساعة العاشرة.",
    ],
)
def test_the_model_may_not_overrule_a_practical_arrangement(text: str) -> None:
    """No cue counts, a sentence is an arrangement: not a decision, and ``why`` says so."""
    reading = read(text)
    assert not reading.decision, reading.why
    assert any("praktisk aftale" in why for why in reading.why), reading.why


def test_the_fare_to_an_interview_is_let_through_and_why_says_the_model_was_held() -> None:
    """The model alone scores it over its threshold (p=0.57); the arrangement holds it."""
    reading = read(
        "The council will pay for the bus ticket to your interview, just keep the receipt."
    )
    assert not reading.decision
    assert reading.why == [
        "ikke en afgørelse (en praktisk udgift til et møde; en praktisk aftale, som modellen "
        "ikke kan underkende): «bus ticket to your interview»"
    ]


# Real decisions with a fare word: a refusal the rules read, and a benefit changed next to
# a fare to a meeting (a benefit named: no arrangement holds the model back).
@pytest.mark.parametrize(
    "text",
    [
        "Du får afslag på at få dækket taxa til samtalen med lægen.",
        "Vi betaler togbilletten til mødet. Din boligstøtte går op til 2.100 kr om måneden fra 1. maj.",
        "The council will pay the bus ticket to your interview. From June your benefit is 300 kr "
        "lower.",
    ],
)
def test_a_decision_with_a_fare_word_is_still_refused(text: str) -> None:
    reading = read(text)
    assert reading.decision, reading.why
