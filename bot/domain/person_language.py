"""SMS-sprog: the language a person's SMS are written in (``persons.language``).

Three doors set it, and all three call :func:`set_language`, the one rule:

- the case system: ``PATCH /api/v1/persons/{id}`` (actor ``integration:<key>``);
- the caseworker: the field beside each participant on the case page
  (actor ``staff:<id>``);
- the family: the language choice in the secure inbox (actor ``citizen``).

A language is one the catalogues have (:data:`bot.base.i18n.LANGUAGES`: da,
en, uk, ar); anything else is refused with ``unsupported_language`` and nothing
changes. A change is journalised on every case the person takes part in, with
the old and the new language and who changed it (never a name or a number).
The next SMS to the person (receipt, reminder, update…) is read from the row
at send time, so it comes in the new language.

:func:`written_in` and :func:`wrote_otherwise` tell the caseworker when a family writes
in Cyrillic or Arabic letters while its SMS go out in another language (the thread page
and the case page say so); Latin letters are never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import i18n
from bot.base.errors import ApiError, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.store import caselist as case_store
from bot.store.schema.core import participants, persons
from journal.journal import append
from scheduler.store import local_date

# The languages' Danish names, for the journal and the caseworker's page.
DANISH_NAMES = {"da": "dansk", "en": "engelsk", "uk": "ukrainsk", "ar": "arabisk"}

# Who changed it, as the journal says it.
DOORS = {
    "case_system": ("Sagssystemet", "api"),
    "caseworker": ("Sagsbehandleren", "web"),
    "family": ("Familien (i den sikre indbakke)", "web"),
}


# Letters by script (Unicode blocks): Cyrillic reads as Ukrainian, Arabic script as Arabic,
# the only two of our catalogues a script tells apart. Latin letters are never guessed:
# Danish, English and Arabic in Latin letters (Arabizi) look alike.
SCRIPTS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("uk", ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))),
    (
        "ar",
        (
            (0x0600, 0x06FF),
            (0x0750, 0x077F),
            (0x0870, 0x08FF),
            (0xFB50, 0xFDFF),
            (0xFE70, 0xFEFF),
        ),
    ),
)
# The share of a text's letters that must be of one script for it to count.
SCRIPT_SHARE = 0.5


class UnsupportedLanguage(ApiError):
    """A language we have no catalogue for: 422, nothing changed."""

    status = 422
    code = "unsupported_language"


@dataclass(frozen=True, slots=True)
class LanguageChange:
    """One person's language before and after (equal when nothing changed)."""

    person_id: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def checked(language: object) -> str:
    """``language`` if the catalogues have it, else :class:`UnsupportedLanguage`."""
    if not isinstance(language, str) or language not in i18n.LANGUAGES:
        raise UnsupportedLanguage(
            f"language: one of {', '.join(i18n.LANGUAGES)}", code="unsupported_language"
        )
    return language


def danish_name(code: str) -> str:
    """``dansk``, ``engelsk``…; an unknown code as it is."""
    return DANISH_NAMES.get(code, code)


def written_in(text: str) -> str | None:
    """The language a text's letters point to: ``uk`` (Cyrillic), ``ar`` (Arabic script).

    A script counts when at least :data:`SCRIPT_SHARE` of the letters (digits, spaces,
    punctuation and emoji do not count) are of it. Anything else, Latin letters above
    all, or a text without letters: None.
    """
    letters = [ord(ch) for ch in text if ch.isalpha()]
    if not letters:
        return None
    for code, blocks in SCRIPTS:
        inside = sum(1 for c in letters if any(lo <= c <= hi for lo, hi in blocks))
        if inside >= SCRIPT_SHARE * len(letters):
            return code
    return None


def wrote_otherwise(text: str | None, sms_language: str) -> str | None:
    """The language a family's message is written in when their SMS go out in another.

    Args:
        text: the family's newest message (None: they have not written).
        sms_language: the person's SMS-sprog (``persons.language``).

    Returns:
        ``uk`` or ``ar`` when the letters say so and the SMS language is something else;
        else None (Latin letters are never guessed).
    """
    written = written_in(text) if text is not None else None
    return written if written is not None and written != sms_language else None


async def set_language(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    person_ids: Sequence[str],
    language: object,
    door: str,
    actor: str,
) -> list[LanguageChange]:
    """Write the persons' SMS language and journalise each change on their cases.

    Args:
        person_ids: persons of this municipality (another's, or none: ``person_not_found``).
        language: the wanted code; checked before anything is read or written.
        door: ``case_system``, ``caseworker`` or ``family`` (see :data:`DOORS`).
        actor: who, for the journal (``integration:<key>``, ``staff:<id>``, ``citizen``).

    Returns:
        One :class:`LanguageChange` per person, in the order given.

    Raises:
        UnsupportedLanguage: not da, en, uk or ar; nothing changed.
        NotFound: ``person_not_found``; nothing changed.
    """
    code = checked(language)
    who, channel = DOORS[door]
    wanted = list(dict.fromkeys(person_ids))
    rows = {
        r.id: r.language
        for r in await conn.execute(
            select(persons.c.id, persons.c.language).where(
                persons.c.tenant_id == tenant_id, persons.c.id.in_(wanted)
            )
        )
    }
    if not wanted or set(rows) != set(wanted):
        raise NotFound("No such person", code="person_not_found")
    now = svc.clock.now()
    result: list[LanguageChange] = []
    for pid in wanted:
        change = LanguageChange(pid, rows[pid], code)
        result.append(change)
        if not change.changed:
            continue
        await conn.execute(update(persons).where(persons.c.id == pid).values(language=code))
        case_ids = (
            await conn.execute(
                select(participants.c.case_id)
                .where(participants.c.tenant_id == tenant_id, participants.c.person_id == pid)
                .distinct()
                .order_by(participants.c.case_id)
            )
        ).scalars()
        for case_id in case_ids:
            await append(
                conn,
                tenant_id=tenant_id,
                case_id=case_id,
                kind="person_language",
                direction="internal",
                channel=channel,
                subject=(
                    f"{who}: SMS til en deltager skrives nu på {danish_name(code)}"
                    f" (før: {danish_name(change.before)})"
                ),
                actor=actor,
                at=now,
            )
    return result


async def set_by_caseworker(
    svc: Services, user: StaffUser, case_id: str, participant_id: str, language: object
) -> LanguageChange:
    """The caseworker sets a participant's SMS language from the case page.

    Anyone who may see the case (as its page) may set it; the change is journalised
    on every case the person takes part in.

    Raises:
        NotFound: ``case_not_found`` for a case the user may not see (or none), or
            ``participant_not_found`` for someone not on this case; nothing changed.
        UnsupportedLanguage: not da, en, uk or ar; nothing changed.
    """
    async with svc.write() as conn:
        row = await case_store.case_row(conn, user, case_id, local_date(svc.clock.now()))
        if row is None:
            raise NotFound("No such case", code="case_not_found")
        person_id = (
            await conn.execute(
                select(participants.c.person_id).where(
                    participants.c.id == participant_id,
                    participants.c.case_id == case_id,
                    participants.c.tenant_id == user.tenant_id,
                )
            )
        ).scalar_one_or_none()
        if person_id is None:
            raise NotFound("No such participant", code="participant_not_found")
        changes = await set_language(
            conn,
            svc,
            tenant_id=user.tenant_id,
            person_ids=[str(person_id)],
            language=language,
            door="caseworker",
            actor=f"staff:{user.id}",
        )
    return changes[0]
