"""The SMS catalogue: every text in da, en, uk and ar, readable, and within the segment limit."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime
from itertools import product
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.base import i18n
from bot.domain import consent, texts
from bot.domain.privacy import LINK_LIFETIME
from channels.smstext import DEFAULT_MAX_SEGMENTS, analyse
from scheduler import hooks
from scheduler.milestones import update_text
from scheduler.templates import (
    CASE_TYPES,
    CaseTypePolicy,
    StepTemplate,
    reached,
    say,
    speaks,
    title,
)

LANGUAGES = ["da", "en", "uk", "ar"]
OTHERS = [code for code in LANGUAGES if code != i18n.DEFAULT]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Wednesday 23 September: the longest weekday and month names in Danish.
LONG_DAY = date(2026, 9, 23)
# Pieces that are filled into another text, never sent alone (checked inside "choose_case").
FRAGMENTS = {"choose_case_option"}
MESSAGES = sorted(set(texts.SMS) - FRAGMENTS)


def _catalogue_problems(catalogues: dict[str, Any]) -> list[str]:
    """Every SMS text (and built-in step sentence) missing, or with other placeholders."""
    problems = []
    sources = [*texts.SMS.values(), *sorted(texts.STEP_SENTENCES)]
    for lang, danish in product(OTHERS, sources):
        found = getattr(catalogues[lang], "_catalog", {}).get(danish)
        if not found:
            problems.append(f"{lang}: missing {danish!r}")
        elif set(_PLACEHOLDER.findall(found)) != set(_PLACEHOLDER.findall(danish)):
            problems.append(f"{lang}: placeholders differ in {found!r}")
    return problems


def test_every_sms_text_exists_in_every_language_with_the_same_placeholders() -> None:
    """Each SMS key is translated into en, uk and ar (none fuzzy) with exactly its placeholders."""
    assert len(texts.SMS) >= 35
    assert _catalogue_problems(i18n.load_catalogues()) == []


def test_the_completeness_check_notices_a_missing_or_broken_translation(tmp_path: Path) -> None:
    """A Ukrainian catalogue without one SMS text, or with a placeholder lost, is reported."""
    shutil.copytree(i18n.CATALOGUE_DIR, tmp_path / "locale")
    po = tmp_path / "locale" / "uk" / "LC_MESSAGES" / "messages.po"
    source = po.read_text(encoding="utf-8")
    source = source.replace("Наступний крок: %(step)s.", "Наступний крок.")
    stopped = re.escape(texts.SMS["stopped"])
    source = re.sub(rf'msgid "{stopped}"\nmsgstr ".*"\n', "", source)
    po.write_text(source, encoding="utf-8")
    problems = _catalogue_problems(i18n.load_catalogues(tmp_path / "locale"))
    assert problems == [
        f"uk: missing {texts.SMS['stopped']!r}",
        "uk: placeholders differ in 'Наступний крок.'",
    ]


def _lix(text: str) -> float:
    """LIX (Björnsson): words per sentence plus the share of words over six letters, in %."""
    words = re.findall(r"[^\W\d_]+", text)
    sentences = max(1, len(re.findall(r"[.:!?]+(?=\s|$)", text)))
    long_words = sum(1 for w in words if len(w) > 6)
    return len(words) / sentences + 100 * long_words / len(words)


def test_lix_counts_as_the_formula_says() -> None:
    """Short plain sentences score low; one long official sentence scores high."""
    assert _lix("Tak for din besked. Vi svarer dig senest tirsdag.") == pytest.approx(
        9 / 2 + 100 / 9
    )
    heavy = (
        "Kommunalbestyrelsens beslutning vedrørende tilkendelse af økonomisk støtte "
        "forudsætter dokumentation for indtægtsforhold."
    )
    assert _lix(heavy) > 40


def _values(lang: str) -> dict[str, Any]:
    """Realistic long values: long names, the longest dates, a real link's length."""
    day = texts.long_date(LONG_DAY, lang)
    return {
        "first_name": "Marie-Louise",
        "colleague": "Christoffer",
        "reply_by": day,
        "back_on": day,
        "date": day,
        "time": texts.clock_time(datetime(2026, 9, 23, 11, 30, tzinfo=UTC), lang),
        "phone": "+45 33 66 33 66",
        "tenant": "Ringkøbing-Skjern Kommune",
        "url": "https://tovholder.rksk.dk/b/" + "x" * 32,
        "days": LINK_LIFETIME.days,
        "options": "1: Jobcenter Ringkøbing (Marie-Louise)\n2: Børn og Familie (Christoffer)",
        "n": 2,
        "administration": "Jobcenter Ringkøbing",
        "code": "123456",
        "minutes": 10,
        "step": title(CASE_TYPES["kontanthjaelp"].steps[2], lang),
        "week": 39,
        "place": "Jobcenter Ringkøbing, Vellingvej 11, 2. sal",
    }


@pytest.mark.parametrize("key", MESSAGES)
def test_danish_sms_texts_are_easy_to_read(key: str) -> None:
    """Every Danish SMS text, filled in, has LIX at most 40 (easy reading)."""
    body = texts.text("da", key, **_values("da"))
    assert _lix(body) <= 40, f"{key}: LIX {_lix(body):.0f}: {body}"


@pytest.mark.parametrize(("key", "lang"), list(product(MESSAGES, LANGUAGES)))
def test_every_text_fits_the_segment_limit_in_every_language(key: str, lang: str) -> None:
    """Filled with long values: Danish in at most 2 GSM-7 segments, every language within 3;
    Ukrainian and Arabic are counted as UCS-2 (70 characters, 67 a part)."""
    body = texts.text(lang, key, **_values(lang))
    sms = analyse(body)
    if lang in ("uk", "ar"):
        assert sms.encoding == "UCS-2"
    if lang == "da":
        assert sms.encoding == "GSM-7" and sms.segments <= 2, body
    assert sms.segments <= DEFAULT_MAX_SEGMENTS, f"{lang} {key}: {sms}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_timeline_message_fits_in_every_language(lang: str) -> None:
    """A step's sentence with the next step and its date fits, for every built-in step."""
    for policy in CASE_TYPES.values():
        assert speaks(policy, lang)
        for step, nxt in zip(policy.steps, policy.steps[1:], strict=False):
            body = " ".join(
                [
                    reached(step, lang),
                    say(lang, "next", step=title(nxt, lang)),
                    say(lang, "expected", date=texts.long_date(LONG_DAY, lang)),
                ]
            )
            assert analyse(body).segments <= DEFAULT_MAX_SEGMENTS, body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_receipt_with_every_extra_line_still_fits_and_keeps_112(lang: str) -> None:
    """Receipt + CPR warning + emergency line: in UCS-2 the CPR line, then the detail, give way."""
    v = _values(lang)
    mains = [
        texts.text(lang, key, **v)
        for key in ("receipt", "receipt_covered", "receipt_colleague", "receipt_fallback_away")
    ]
    urgent = texts.text(lang, "urgent_after_hours", **v)
    for main in mains:
        body = texts.compose(
            (main, texts.text(lang, "cpr_warning"), urgent),
            (main, urgent),
            (texts.text(lang, "receipt_short", **v), urgent),
        )
        assert analyse(body).segments <= DEFAULT_MAX_SEGMENTS
        assert body.endswith(urgent)
    full = texts.compose((mains[0], texts.text(lang, "cpr_warning"), urgent))
    if lang == "da":  # GSM-7 has room for all of it
        assert full == " ".join([mains[0], texts.text(lang, "cpr_warning"), urgent])


def test_a_long_text_is_refused_by_compose_only_as_the_last_resort() -> None:
    """When no choice fits, the last one is sent whole (never cut), so the gateway refuses it."""
    too_long = " ".join(["Дуже довге повідомлення."] * 20)
    assert texts.compose((too_long,), ("Коротко.",)) == "Коротко."
    assert texts.compose((too_long,)) == too_long


@pytest.mark.parametrize("lang", LANGUAGES)
def test_stop_and_start_confirmations_give_the_command_in_the_familys_language(lang: str) -> None:
    """The STOP reply names the START word of that language (and START the STOP word); inbound
    takes both words as the commands, whatever language the sender is recorded with."""
    start, stop = texts.word(lang, "start"), texts.word(lang, "stop")
    assert start in texts.text(lang, "stopped")
    assert stop in texts.text(lang, "started")
    assert consent.command(start) == "start" and consent.command(f" {start.lower()}! ") == "start"
    assert consent.command(stop) == "stop" and consent.command(f"«{stop}»") == "stop"
    assert consent.command(f"{stop} nu tak") is None


def test_the_words_are_the_ones_families_write() -> None:
    """Ukrainian СТАРТ/СТОП, Arabic ابدأ/توقف (with or without hamza) are START/STOP."""
    assert texts.word("uk", "start") == "СТАРТ" and texts.word("ar", "start") == "ابدأ"
    assert texts.word("so", "start") == "START"  # a language we lack: the Danish text's word
    assert [consent.command(w) for w in ("СТАРТ", "старт", "ابدأ", "ابدا", "إبدأ")] == ["start"] * 5
    assert [consent.command(w) for w in ("СТОП", "توقف", "STOP påmindelser")] == ["stop"] * 3
    assert consent.command("Старт роботи") is None


@pytest.mark.parametrize(
    ("body", "word"),
    [("ТАК", "OK"), ("так.", "OK"), ("نعم", "OK"), ("ПЕРЕНЕСТИ", "FLYT"), ("MOVE", "FLYT")]
    + [("«تأجيل»", "FLYT"), ("СКАСУВАТИ", "AFLYS"), ("إلغاء", "AFLYS"), ("СТАТУС", "STATUS")]
    + [("الحالة", "STATUS"), ("ok", "OK"), ("flyt", "FLYT"), ("hej", "HEJ")],
)
def test_appointment_and_status_words_are_understood_in_every_language(
    body: str, word: str
) -> None:
    """What the reminder asks for in Ukrainian, Arabic or English reaches the same hooks."""
    assert hooks.keyword(body) == word


def test_the_reminder_names_the_place_and_the_notice_how_long_its_link_works() -> None:
    """Time and place in the appointment reminder; the notice says the link works 14 days."""
    v = _values("uk")
    assert "Місце: Jobcenter Ringkøbing, Vellingvej 11, 2. sal." in texts.text(
        "uk", "appointment_place", **v
    )
    assert "23 вересня (середа) о 13:30" in texts.text("uk", "appointment_place", **v)
    assert "Linket virker i 14 dage." in texts.text("da", "notice", **_values("da"))
    assert "Посилання діє 14 днів." in texts.text("uk", "notice", **v)


CASEWORKER = {"da": "sagsbehandler", "en": "caseworker", "uk": "куратор", "ar": "المسؤول عن ملفك"}


def test_one_word_for_the_caseworker() -> None:
    """Danish texts say "sagsbehandler", never "rådgiver"; each language keeps its one word."""
    danish = " ".join(texts.SMS.values())
    assert "rådgiver" not in danish and danish.count("sagsbehandler") >= 4
    for key, source in texts.SMS.items():
        if "sagsbehandler" in source:
            for lang, word in CASEWORKER.items():
                assert word in texts.template(lang, key).casefold(), (lang, key)


def test_a_language_we_lack_falls_back_to_danish_and_says_so() -> None:
    """Somali: the Danish text with a Danish date, and a journal line naming the language."""
    v = _values("so")
    assert v["date"] == "onsdag den 23. september"
    assert texts.text("so", "receipt", **v) == texts.text("da", "receipt", **v)
    assert texts.fallback_note("so") == (
        "sproget «so» findes ikke i SMS-teksterne, så beskeden er sendt på dansk"
    )
    assert [texts.fallback_note(code) for code in ("da", "uk", "ar", "en", "", None)] == [None] * 6


def test_dates_are_written_in_the_language_of_the_text() -> None:
    """One language per message: the date follows the text's language, Ukrainian in the genitive."""
    assert texts.long_date(LONG_DAY, "da") == "onsdag den 23. september"
    assert texts.long_date(LONG_DAY, "en") == "Wednesday 23 September"
    assert texts.long_date(LONG_DAY, "uk") == "23 вересня (середа)"
    assert texts.long_date(LONG_DAY, "ar") == "الأربعاء، 23 سبتمبر"
    assert texts.text("uk", "receipt", first_name="Олена", reply_by="X") == (
        "Дякуємо за повідомлення. Олена відповість вам до X."
    )


def test_a_timeline_step_without_the_language_makes_the_whole_update_danish() -> None:
    """A municipality's own step texts in Danish only: a Ukrainian family's update is Danish
    throughout (never half and half); the built-in steps are Ukrainian."""
    built_in = CASE_TYPES["general"]
    rows = [SimpleNamespace(step=s.key, expected_on=None) for s in built_in.steps]
    assert update_text(built_in, rows, "received", "uk") == (
        "Ми отримали вашу справу. Наступний крок: Ми працюємо над вашою справою."
    )
    own = StepTemplate(
        "check", {"da": "Vi tjekker papirerne"}, {"da": "Vi tjekker nu dine papirer."}, 3
    )
    custom = CaseTypePolicy("eget", (built_in.steps[0], own), nudge_days=5, auto_update=False)
    assert not speaks(custom, "uk") and speaks(custom, "da")
    rows = [SimpleNamespace(step=s.key, expected_on=None) for s in custom.steps]
    assert update_text(custom, rows, "received", "uk") == (
        "Vi har modtaget din sag. Næste skridt: Vi tjekker papirerne."
    )
