"""Citizen-facing SMS texts: one catalogue, in Danish, English, Ukrainian and Arabic.

Every text the service sends a citizen by SMS (receipts, reminders, notices,
STATUS answers, STOP/START confirmations, the "which case?" question, login
codes, away notices, the 112 line) is named here by a key. The Danish sentence
is the message id; the other languages come from the Babel catalogues in
``bot/base/locale`` (the same ``.po`` files as the citizen's pages), so a
translator sees one list. Short, warm and concrete: who, what, by when.

A message is written whole in one language, picked by the person's language
(set by the case system, the caseworker or the family's secure inbox). A
language we have no catalogue for gets Danish, and the outbound journal entry
says so (:func:`fallback_note`, written by ``bot.domain.outbound``).

The commands a text asks the family to send (STOP, START, OK, …) are said in
their language and accepted in every language (:func:`command_of`).

To add a text: a key in :data:`SMS` with its Danish sentence, then
``pybabel extract`` (the command is in ``bot/base/locale/babel.cfg``) and its
English, Ukrainian and Arabic in the three ``messages.po`` files. The tests
(``tests/bot/test_sms_texts.py``) refuse a text missing in a language, with
other placeholders, harder to read than LIX 40 in Danish, or over the segment
limit in any language with long values filled in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date

from bot.base import i18n
from bot.base.workdays import format_long_date, format_time
from channels.smstext import DEFAULT_MAX_SEGMENTS, analyse


def N_(message: str) -> str:  # noqa: N802 - the gettext name extractors look for
    """Marks a text for the catalogues (``pybabel extract`` finds it); returns it unchanged."""
    return message


# key -> the Danish text, with %(name)s placeholders.
SMS: dict[str, str] = {
    "receipt": N_("Tak for din besked. %(first_name)s svarer dig senest %(reply_by)s."),
    "receipt_covered": N_(
        "Tak for din besked. Din sagsbehandler er fraværende til %(back_on)s. Din besked er"
        " sendt til %(colleague)s, som svarer dig senest %(reply_by)s."
    ),
    "receipt_colleague": N_(
        "Tak for din besked. Den er sendt til %(colleague)s, som svarer dig senest %(reply_by)s."
    ),
    "receipt_fallback_away": N_(
        "Tak for din besked. Din sagsbehandler er fraværende til %(back_on)s. En kollega svarer"
        " dig senest %(reply_by)s."
    ),
    "receipt_fallback": N_("Tak for din besked. En kollega svarer dig senest %(reply_by)s."),
    # When a receipt with its extra lines would not fit in one message (see compose).
    "receipt_short": N_("Tak for din besked. Vi svarer dig senest %(reply_by)s."),
    # An urgent message in opening hours: someone acts today (bot.domain.receipts).
    "receipt_urgent": N_(
        "Tak for din besked. Vi kan se, at det haster, og %(first_name)s eller en kollega"
        " kontakter dig i dag. Er nogen i fare, så ring 112."
    ),
    "receipt_neutral": N_(
        "Tak for din besked. Vi har modtaget den, og en medarbejder ser på den hurtigst muligt."
    ),
    "urgent_after_hours": N_(
        "Er det akut, så ring 112. Du kan også ringe til kommunens døgnvagt på %(phone)s."
    ),
    "urgent_112": N_("Er det akut, så ring 112."),
    "cpr_warning": N_("Send venligst ikke dit CPR-nummer på SMS. Vi har gemt din besked sikkert."),
    "new_contact": N_(
        "Din sag har fået en ny kontaktperson: %(first_name)s. Du kan skrive til"
        " %(first_name)s her på samme nummer."
    ),
    "absence_contact": N_(
        "Din sagsbehandler er fraværende til %(back_on)s. Imens er %(colleague)s din"
        " kontaktperson. Du kan skrive her på samme nummer."
    ),
    "notice": N_(
        "Du har en ny besked fra %(tenant)s. Linket virker i %(days)s dage. Læs den her: %(url)s"
    ),
    "email_subject": N_("Ny besked fra %(tenant)s"),
    "stopped": N_(
        "Du får ikke længere påmindelser og nyheder om din sag på SMS. Du får stadig svar på"
        " dine egne beskeder. Skriv %(start_word)s for at få dem igen."
    ),
    "started": N_(
        "Du får igen påmindelser og nyheder om din sag på SMS. Skriv %(stop_word)s for at stoppe."
    ),
    "choose_case": N_(
        "Tak for din besked. Hvilken sag handler den om? Svar med tallet:\n%(options)s"
    ),
    "choose_case_option": N_("%(n)s: %(administration)s (%(first_name)s)"),
    "login_code": N_(
        "Din kode til den sikre indbakke er %(code)s. Den gælder i %(minutes)s minutter. "
        "Giv den aldrig til andre."
    ),
    # Timelines (milepæle) and STATUS.
    "next": N_("Næste skridt: %(step)s."),
    "expected": N_("Vi regner med at svare dig %(date)s."),
    "status": N_("Din sag: %(step)s."),
    "still_working": N_("Vi arbejder stadig på din sag."),
    "still_next": N_("Næste skridt er: %(step)s."),
    "still_week": N_("Vi forventer at kunne svare dig i uge %(week)s."),
    # Appointments (møder).
    "appointment": N_(
        "Påmindelse: Du har et møde med %(tenant)s %(date)s kl. %(time)s. "
        "Svar %(ok_word)s for at bekræfte, %(move_word)s hvis du vil flytte det, eller"
        " %(cancel_word)s."
    ),
    "appointment_place": N_(
        "Påmindelse: Du har et møde med %(tenant)s %(date)s kl. %(time)s. Sted: %(place)s. "
        "Svar %(ok_word)s for at bekræfte, %(move_word)s hvis du vil flytte det, eller"
        " %(cancel_word)s."
    ),
    "appointment_moved": N_("Dit møde med %(tenant)s er flyttet til %(date)s kl. %(time)s."),
    "appointment_cancelled": N_("Dit møde med %(tenant)s %(date)s kl. %(time)s er aflyst."),
    "confirmed": N_("Tak. Vi har noteret, at du kommer %(date)s kl. %(time)s."),
    "move_asked": N_(
        "Tak. Vi har bedt din sagsbehandler om at finde en ny tid. Du hører fra os senest %(date)s."
    ),
    "cancel_asked": N_(
        "Tak. Vi har sagt til din sagsbehandler, at du vil aflyse. Du hører fra os senest %(date)s."
    ),
    # Deadlines (frister) and a late answer.
    "deadline_partshoering": N_(
        "Husk: Fristen for at sende dine bemærkninger til os er %(date)s. "
        "Skriv til os, hvis du har brug for mere tid."
    ),
    "deadline_dokumentation": N_(
        "Husk: Vi skal have dine papirer senest %(date)s. Skriv til os, hvis du har brug for mere"
        " tid."
    ),
    "deadline_andet": N_(
        "Husk: Du har en frist i din sag %(date)s. Skriv til os, hvis du har spørgsmål."
    ),
    "delayed": N_("Vi beklager: Svaret til dig er forsinket. Du hører fra os senest %(date)s."),
    # An MMS whose picture or file could not be kept (bot.domain.mms).
    "mms_not_kept": N_(
        "Vi har fået din besked, men vi kunne ikke gemme billedet eller filen. Send den gerne i"
        " din sikre indbakke: %(url)s"
    ),
    # A wish in the family's own words that changes something waits for their yes
    # (bot.domain.intents); the yes word is the one each language's text names.
    "confirm_stop": N_("Vil du stoppe påmindelser og nyheder på SMS? Svar JA."),
    "confirm_start": N_("Vil du have påmindelser og nyheder på SMS igen? Svar JA."),
    "confirm_cancel": N_("Vil du aflyse mødet %(date)s kl. %(time)s? Svar JA."),
}

# What the citizen is told when a built-in timeline step is reached
# (scheduler.templates); the titles are in bot.domain.citizen.STEP_TITLES.
STEP_SENTENCES = frozenset(
    {
        N_("Vi har modtaget din sag."),
        N_("Vi er nu i gang med at behandle din sag."),
        N_("Der er truffet afgørelse i din sag. Du får den i Digital Post."),
        N_("Vi har nu de oplysninger, vi skal bruge."),
        N_("Din sag er nu sendt til visitation."),
        N_("Vi er nu i gang med den børnefaglige undersøgelse."),
        N_("Undersøgelsen er færdig. Næste gang ses vi til et møde."),
    }
)

# The words a family may send, per language: the first is the one our texts ask for.
COMMANDS: dict[str, dict[str, tuple[str, ...]]] = {
    "stop": {"da": ("STOP",), "en": ("STOP",), "uk": ("СТОП",), "ar": ("توقف", "قف")},
    "start": {"da": ("START",), "en": ("START",), "uk": ("СТАРТ",), "ar": ("ابدأ", "بدء")},
    "ok": {"da": ("OK",), "en": ("OK",), "uk": ("ТАК", "ОК"), "ar": ("نعم",)},
    "move": {"da": ("FLYT",), "en": ("MOVE",), "uk": ("ПЕРЕНЕСТИ",), "ar": ("تأجيل",)},
    "cancel": {"da": ("AFLYS",), "en": ("CANCEL",), "uk": ("СКАСУВАТИ",), "ar": ("إلغاء",)},
    "status": {"da": ("STATUS",), "en": ("STATUS",), "uk": ("СТАТУС",), "ar": ("الحالة",)},
}

# The placeholder each command fills in a text.
_SLOTS = {
    "stop_word": "stop",
    "start_word": "start",
    "ok_word": "ok",
    "move_word": "move",
    "cancel_word": "cancel",
}

# Arabic letters written more than one way (hamza seats, ta marbuta, alif maqsura).
_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})


def fold(word: str) -> str:
    """A word as commands are compared: case-free, Arabic letters and marks folded."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_AR_FOLD))
    # Drop Arabic vowel marks and tatweel; keep Danish letters whole (å is a letter).
    kept = "".join(ch for ch in decomposed if not ("\u064b" <= ch <= "\u065f" or ch == "\u0640"))
    return unicodedata.normalize("NFC", kept).translate(_AR_FOLD)


_BY_FOLDED: dict[str, str] = {
    fold(word): command
    for command, per_language in COMMANDS.items()
    for words in per_language.values()
    for word in words
}
_WORD = re.compile(r"^\s*[\"'«»“”„]?(\w+)[\"'«»“”]?\s*[.!]*\s*$")


def command_of(body: str) -> str | None:
    """The command an SMS is, in any of our languages ("stop", "ok", …), else None.

    Only a message that is the one word (in quotes, with a full stop or
    exclamation mark at most) is a command.
    """
    match = _WORD.match(body)
    return _BY_FOLDED.get(fold(match.group(1))) if match else None


def word(language: str, command: str) -> str:
    """The word for ``command`` that our texts ask a family writing ``language`` to send."""
    per_language = COMMANDS[command]
    return per_language.get(sms_language(language), per_language[i18n.DEFAULT])[0]


def sms_language(language: str | None) -> str:
    """The language an SMS to someone speaking ``language`` is written in: theirs, else Danish."""
    return i18n.pick(language).code


def fallback_note(language: str | None) -> str | None:
    """The journal line for an SMS written in Danish because ``language`` has no catalogue.

    None when the language is one of ours (or none is recorded: Danish is then no fallback).
    """
    if not language or not language.strip():
        return None
    code = sms_language(language)
    if code != i18n.DEFAULT or language.strip().lower()[:2] == i18n.DEFAULT:
        return None
    shown = re.sub(r"[^A-Za-z_-]", "", language)[:12] or "?"
    return f"sproget «{shown}» findes ikke i SMS-teksterne, så beskeden er sendt på dansk"


def translated(language: str, danish: str) -> str | None:
    """``danish`` in ``language`` if the catalogue has it, else None (Danish is always had)."""
    code = sms_language(language)
    if code == i18n.DEFAULT:
        return danish
    found: str | None = i18n.catalogue_entry(code, danish)
    return found


def template(language: str, key: str) -> str:
    """The unfilled text ``key`` in ``language`` (Danish when we have no catalogue for it)."""
    danish = SMS[key]
    return translated(language, danish) or danish


def text(language: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``language`` (falling back to Danish), filled in.

    The command words (``%(start_word)s`` …) are filled in the same language.
    """
    code = sms_language(language)
    filled = {slot: word(code, command) for slot, command in _SLOTS.items()}
    filled.update(values)
    return template(code, key) % filled


@lru_cache(maxsize=4096)
def long_date(d: date, language: str) -> str:
    """A date in words in the SMS's language ("tirsdag den 25. februar", "25 лютого (середа)")."""
    code = sms_language(language)
    if code == "uk":
        # The month in the genitive reads right after "до", "на" or a colon; a
        # weekday first would be in the nominative ("до середа" is wrong).
        return format_date(d, "d MMMM (EEEE)", locale="uk")
    return format_long_date(d, code)


def clock_time(at: datetime, language: str) -> str:
    """The time of day of ``at`` as the SMS's language writes it ("10:30", "10:30 ص")."""
    return format_time(at, sms_language(language))


def compose(*choices: Sequence[str], max_segments: int = DEFAULT_MAX_SEGMENTS) -> str:
    """The first choice (its sentences joined by spaces) that fits ``max_segments`` SMS.

    A receipt with its extra lines (CPR warning, 112) fits easily in Danish
    but not always in Ukrainian or Arabic (UCS-2: 67 characters a segment).
    The caller lists what to send from the most to the least complete; the
    last choice is sent even if it does not fit (the gateway then refuses it
    visibly rather than a line going missing silently).
    """
    for parts in choices:
        body = " ".join(p for p in parts if p)
        if analyse(body).segments <= max_segments:
            return body
    return " ".join(p for p in choices[-1] if p)
