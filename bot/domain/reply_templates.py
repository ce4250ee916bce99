"""Svarskabeloner: a municipality's short, plain-language reply templates.

A template is text with a few whitelisted variables in braces, e.g.
``Hej {fornavn}. Jeg svarer dig senest {dato}. Hilsen {sagsbehandler}``.
It is filled by plain substitution of the parsed fields: no attribute or
index access, no conversions, no format specs — anything but a bare known
name is refused when the template is saved, and never evaluated.

Every municipality starts with a handful of good templates (seeded on first
use); its team leads may add, edit and retire them.

A template exists in one or more languages (da, en, uk, ar) under one title:
one row per language. The caseworker's picker offers each title in the
family's language, else in Danish (and says so). Filled with long names and
the longest date of its language, each version must fit the municipality's SMS
segment limit in that language's encoding: Ukrainian and Arabic go as UCS-2, 70
characters a segment, so a text that fits in Danish may not in Ukrainian. A
version over the limit is refused, naming its language.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import texts
from bot.domain.guard import refuse_decision
from bot.domain.privacy import tenant_settings_for
from bot.store.schema.pages import web_reply_templates
from channels.smstext import analyse

TITLE_MAX = 80
BODY_MAX = 480

# name -> what it becomes (shown to whoever writes a template)
VARIABLES: dict[str, str] = {
    "fornavn": "borgerens fornavn",
    "sagsbehandler": "dit fornavn",
    "dato": "en dato: dit løfte om svar, ellers svarfristen",
    "sagsnummer": "sagens nummer",
}

# Short, warm and concrete: who, what, by when. GSM-7 only, so one SMS each.
DEFAULTS: tuple[tuple[str, str], ...] = (
    (
        "Tak, jeg vender tilbage",
        "Hej {fornavn}. Tak for din besked. Jeg ser på det og svarer dig senest {dato}. "
        "Hilsen {sagsbehandler}",
    ),
    (
        "Jeg arbejder stadig på sagen",
        "Hej {fornavn}. Jeg arbejder stadig på din sag. Vi venter på svar fra andre. "
        "Du hører fra mig senest {dato}. Hilsen {sagsbehandler}",
    ),
    (
        "Bekræft møde",
        "Hej {fornavn}. Jeg bekræfter vores møde {dato}. Skriv til mig, hvis det ikke passer. "
        "Hilsen {sagsbehandler}",
    ),
    (
        "Jeg ringer til dig",
        "Hej {fornavn}. Jeg vil gerne tale med dig, så jeg ringer {dato}. "
        "Skriv, hvis et andet tidspunkt passer bedre. Hilsen {sagsbehandler}",
    ),
    (
        "Papirer modtaget",
        "Hej {fornavn}. Vi har fået dine papirer til sag {sagsnummer}. "
        "Jeg giver dig besked senest {dato}. Hilsen {sagsbehandler}",
    ),
    (
        "Jeg dækker for en kollega",
        "Hej {fornavn}. Jeg hjælper med din sag, mens din sagsbehandler er væk. "
        "Jeg svarer dig senest {dato}. Hilsen {sagsbehandler}",
    ),
)

# The defaults in the other languages families write in, by Danish title: seeded as
# their own language versions, which a lead may change like the Danish ones.
TRANSLATIONS: dict[str, dict[str, str]] = {
    "en": {
        "Tak, jeg vender tilbage": "Hi {fornavn}. Thank you for your message. I am looking "
        "into it and will answer you by {dato}. Regards {sagsbehandler}",
        "Jeg arbejder stadig på sagen": "Hi {fornavn}. I am still working on your case. We "
        "are waiting for answers from others. You will hear from me by {dato}. "
        "Regards {sagsbehandler}",
        "Bekræft møde": "Hi {fornavn}. I confirm our meeting {dato}. Write to me if it does "
        "not suit you. Regards {sagsbehandler}",
        "Jeg ringer til dig": "Hi {fornavn}. I would like to talk with you, so I will call "
        "you {dato}. Write if another time suits you better. Regards {sagsbehandler}",
        "Papirer modtaget": "Hi {fornavn}. We have received your papers for case "
        "{sagsnummer}. I will let you know by {dato}. Regards {sagsbehandler}",
        "Jeg dækker for en kollega": "Hi {fornavn}. I am helping with your case while your "
        "caseworker is away. I will answer you by {dato}. Regards {sagsbehandler}",
    },
    "uk": {
        "Tak, jeg vender tilbage": "Вітаю, {fornavn}. Дякую за повідомлення. Я розгляну його "
        "і відповім вам до {dato}. {sagsbehandler}",
        "Jeg arbejder stadig på sagen": "Вітаю, {fornavn}. Я ще працюю над вашою справою. "
        "Ми чекаємо відповіді від інших. Я напишу вам до {dato}. {sagsbehandler}",
        "Bekræft møde": "Вітаю, {fornavn}. Підтверджую нашу зустріч {dato}. Напишіть мені, "
        "якщо вам не підходить. {sagsbehandler}",
        "Jeg ringer til dig": "Вітаю, {fornavn}. Я хочу поговорити з вами і зателефоную "
        "{dato}. Напишіть, якщо вам зручніше інший час. {sagsbehandler}",
        "Papirer modtaget": "Вітаю, {fornavn}. Ми отримали ваші документи до справи "
        "{sagsnummer}. Я напишу вам до {dato}. {sagsbehandler}",
        "Jeg dækker for en kollega": "Вітаю, {fornavn}. Я допомагаю з вашою справою, поки "
        "вашого працівника немає. Я відповім вам до {dato}. {sagsbehandler}",
    },
    "ar": {
        "Tak, jeg vender tilbage": "مرحبا {fornavn}. شكرا على رسالتك. سأنظر فيها وأرد عليك "
        "قبل {dato}. {sagsbehandler}",
        "Jeg arbejder stadig på sagen": "مرحبا {fornavn}. ما زلت أعمل على قضيتك. ننتظر ردا "
        "من جهات أخرى. ستسمع مني قبل {dato}. {sagsbehandler}",
        "Bekræft møde": "مرحبا {fornavn}. أؤكد موعدنا {dato}. اكتب لي إذا كان الموعد لا "
        "يناسبك. {sagsbehandler}",
        "Jeg ringer til dig": "مرحبا {fornavn}. أريد أن أتحدث معك، لذلك سأتصل بك {dato}. "
        "اكتب لي إذا كان وقت آخر يناسبك أكثر. {sagsbehandler}",
        "Papirer modtaget": "مرحبا {fornavn}. وصلتنا أوراقك للقضية {sagsnummer}. سأخبرك "
        "قبل {dato}. {sagsbehandler}",
        "Jeg dækker for en kollega": "مرحبا {fornavn}. أساعد في قضيتك أثناء غياب الموظف "
        "المسؤول عنها. سأرد عليك قبل {dato}. {sagsbehandler}",
    },
}
_DEFAULT_BODIES = dict(DEFAULTS)
# The languages a template may be written in, named in Danish for the team lead.
LANGUAGE_NAMES = {"da": "dansk", "en": "engelsk", "uk": "ukrainsk", "ar": "arabisk"}


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    id: str
    title: str
    body: str
    position: int
    active: bool
    language: str = "da"


def _fields(body: str) -> list[tuple[str, str | None]]:
    """The template as (literal, variable name or None) pairs; refuses anything but bare names."""
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:  # a lone "{" or "}"
        raise BadInput(
            "A brace without its partner; write {{ or }} for a brace", code="bad_template"
        ) from exc
    out: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            out.append((literal, None))
            continue
        if name not in VARIABLES or spec or conversion:
            raise BadInput(f"Unknown variable: {{{name}}}", code="unknown_variable")
        out.append((literal, name))
    return out


def check(title: str, body: str) -> tuple[str, str]:
    """A template's title and text, trimmed and checked (BadInput with a stable code).

    A text that reads as an afgørelse is refused (``decision_not_allowed``): what
    the template would send never goes by SMS (:mod:`bot.domain.guard`).
    """
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX:
        raise BadInput(f"A title of 1–{TITLE_MAX} characters is required", code="bad_title")
    if not body or len(body) > BODY_MAX:
        raise BadInput(f"A text of 1–{BODY_MAX} characters is required", code="bad_body")
    _fields(body)
    refuse_decision(body)
    return title, body


def fill(body: str, values: dict[str, str]) -> str:
    """The template with its variables replaced (a missing value becomes "…" to fill in)."""
    parts = []
    for literal, name in _fields(body):
        parts.append(literal)
        if name is not None:
            parts.append(values.get(name) or "…")
    return "".join(parts)


def in_language(t: ReplyTemplate, language: str) -> tuple[str, bool]:
    """The template's text for a family writing ``language``, and whether it is in it.

    A Danish default nobody has changed comes in the family's language when we
    have it; anything else comes as written. (The picker uses the stored language
    versions: :func:`for_language`.)
    """
    if t.language != "da" or language == "da":
        return t.body, t.language == language
        return t.body, True
    translated = TRANSLATIONS.get(language, {}).get(t.title)
    if translated is not None and _DEFAULT_BODIES.get(t.title) == t.body:
        return translated, True
    return t.body, False


# The language a template is written in, told by its letters (Latin: Danish or English,
# the same GSM-7 arithmetic); named in Danish for the team lead.
_SCRIPTS = (("uk", re.compile("[\u0400-\u04ff]")), ("ar", re.compile("[\u0600-\u06ff]")))
# Wednesday 23 September: the longest weekday and month names in Danish.
LONG_DAY = date(2026, 9, 23)


def written_in(body: str) -> str:
    """The language of a template by its script: "uk" (Cyrillic), "ar" (Arabic), else "da"."""
    for code, letters in _SCRIPTS:
        if letters.search(body):
            return code
    return "da"


def check_segments(body: str, max_segments: int, language: str | None = None) -> str:
    """Refuse a template that, filled in, needs more SMS segments than allowed in its language.

    The variables are filled with long values (a long first name, a long case
    number, the longest date written in the template's language).

    Args:
        body: The template text (already checked by :func:`check`).
        max_segments: The municipality's limit.
        language: The template's language; None tells it from the letters.

    Returns:
        The template's language.

    Raises:
        BadInput: ``template_too_long``, the message naming the language and the count.
    """
    language = language or written_in(body)
    filled = fill(
        body,
        {
            "fornavn": "Marie-Louise",
            "sagsbehandler": "Christoffer",
            "sagsnummer": "2025-1234567",
            "dato": texts.long_date(LONG_DAY, language),
        },
    )
    refuse_if_too_long(filled, max_segments, language)
    return language


def refuse_if_too_long(
    filled: str, max_segments: int, language: str, what: str = "Skabelonen"
) -> None:
    """Refuse a template whose text, filled with long values, needs too many SMS in ``language``.

    The one count of a template against the segment limit (GSM-7, or UCS-2 for
    Ukrainian and Arabic: :func:`channels.smstext.analyse`), for reply templates
    and case-type timelines alike.

    Args:
        filled: The text as an SMS would carry it, filled with long names and dates.
        max_segments: The municipality's limit.
        language: The text's language, named in the refusal.
        what: What is too long, as the refusal starts ("Skabelonen", "Trin 2 …").

    Raises:
        BadInput: ``template_too_long``, the message naming the language and the count.
    """
    sms = analyse(filled)
    if sms.segments > max_segments:
        name = LANGUAGE_NAMES.get(language, language)
        raise BadInput(
            f"{what} på {name} fylder {sms.segments} SMS'er ({sms.encoding}, {sms.units} tegn"
            f" med lange navne og datoer); højst {max_segments} er tilladt. Gør teksten på"
            f" {name} kortere.",
            code="template_too_long",
        )


def _row(r: Any) -> ReplyTemplate:
    return ReplyTemplate(r.id, r.title, r.body, r.position, r.active, r.language)


def for_language(templates: list[ReplyTemplate], language: str) -> list[tuple[ReplyTemplate, bool]]:
    """One version per title for a family writing ``language``, and whether it is in it.

    The family's language first; else the Danish version; else any version there is.
    The order of ``templates`` (by position) is kept.
    """
    groups: dict[str, dict[str, ReplyTemplate]] = {}
    for t in templates:
        groups.setdefault(t.title, {})[t.language] = t
    out = []
    for versions in groups.values():
        chosen = versions.get(language) or versions.get("da") or next(iter(versions.values()))
        out.append((chosen, chosen.language == language))
    return out


def versions(templates: list[ReplyTemplate]) -> list[tuple[str, list[ReplyTemplate]]]:
    """The templates by title, each with its language versions in LANGUAGE_NAMES order."""
    order = list(LANGUAGE_NAMES)
    groups: dict[str, list[ReplyTemplate]] = {}
    for t in templates:
        groups.setdefault(t.title, []).append(t)
    return [
        (title, sorted(group, key=lambda t: order.index(t.language) if t.language in order else 9))
        for title, group in groups.items()
    ]


def _default_rows() -> list[tuple[int, str, str, str]]:
    """The defaults as (position, title, language, body): every default in every language."""
    rows = []
    for position, (title, body) in enumerate(DEFAULTS):
        rows.append((position, title, "da", body))
        for language, bodies in TRANSLATIONS.items():
            rows.append((position, title, language, bodies[title]))
    return rows


async def _seed(svc: Services, tenant_id: str) -> None:
    now = svc.clock.now()
    try:
        async with svc.write() as conn:
            if (
                await conn.execute(
                    select(func.count())
                    .select_from(web_reply_templates)
                    .where(web_reply_templates.c.tenant_id == tenant_id)
                )
            ).scalar_one():
                return
            for position, title, language, body in _default_rows():
                await conn.execute(
                    web_reply_templates.insert().values(
                        id=new_id(),
                        tenant_id=tenant_id,
                        title=title,
                        language=language,
                        body=body,
                        position=position,
                        active=True,
                        created_by=None,
                        created_at=now,
                        updated_at=now,
                    )
                )
    except IntegrityError:
        pass  # another request seeded them at the same moment


async def list_templates(
    svc: Services, user: StaffUser, *, include_retired: bool = False
) -> list[ReplyTemplate]:
    """The municipality's templates in order (seeded with the defaults on first use)."""
    where = [web_reply_templates.c.tenant_id == user.tenant_id]
    if not include_retired:
        where.append(web_reply_templates.c.active.is_(True))
    query = (
        select(web_reply_templates)
        .where(*where)
        .order_by(
            web_reply_templates.c.position,
            web_reply_templates.c.title,
            web_reply_templates.c.language,
        )
    )
    async with svc.read() as conn:
        rows = (await conn.execute(query)).all()
        if not rows:
            seeded = (
                await conn.execute(
                    select(func.count())
                    .select_from(web_reply_templates)
                    .where(web_reply_templates.c.tenant_id == user.tenant_id)
                )
            ).scalar_one()
    if not rows and not seeded:
        await _seed(svc, user.tenant_id)
        async with svc.read() as conn:
            rows = (await conn.execute(query)).all()
    return [_row(r) for r in rows]


async def get_template(svc: Services, user: StaffUser, template_id: str) -> ReplyTemplate:
    """One of the user's municipality's templates (404 for anyone else's)."""
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(web_reply_templates).where(
                    web_reply_templates.c.id == template_id,
                    web_reply_templates.c.tenant_id == user.tenant_id,
                )
            )
        ).first()
    if row is None:
        raise NotFound("No such template", code="template_not_found")
    return _row(row)


def may_edit(user: StaffUser) -> bool:
    return user.role in ("lead", "admin")


def _language(language: str | None, body: str) -> str:
    if language is None or not language.strip():
        return written_in(body)
    if language not in LANGUAGE_NAMES:
        raise BadInput("Choose Danish, English, Ukrainian or Arabic", code="bad_language")
    return language


async def save_template(
    svc: Services,
    user: StaffUser,
    template_id: str | None,
    *,
    title: str,
    body: str,
    active: bool = True,
    language: str | None = None,
) -> str:
    """Add (``template_id`` None) or change one language version of a template.

    Team leads and admins only. A new version under an existing title joins that
    template (its place in the list); a changed title renames every version.

    Args:
        language: da, en, uk or ar; None or empty tells it from the letters.

    Raises:
        NotFound: not a lead or admin, or no such template in the municipality.
        BadInput: bad_title, bad_body, bad_template, unknown_variable, bad_language,
            template_too_long (over the SMS segment limit in its language, named in
            the message), or duplicate_title (that title already has a version in
            that language).
    """
    if not may_edit(user):
        raise NotFound("No such template", code="template_not_found")
    title, body = check(title, body)
    language = _language(language, body)
    values = {"title": title, "language": language, "body": body, "active": active}
    try:
        async with svc.write() as conn:
            settings = await tenant_settings_for(conn, user.tenant_id)
            check_segments(body, settings.max_segments, language)
            if template_id is None:
                template_id = new_id()
                await _insert(conn, user, template_id, values, svc.clock.now())
            else:
                await _update(conn, user, template_id, values, svc.clock.now())
    except IntegrityError as exc:
        raise BadInput(
            f"That title already has a text in {LANGUAGE_NAMES[language]}",
            code="duplicate_title",
        ) from exc
    return template_id


async def _insert(
    conn: Any, user: StaffUser, template_id: str, values: dict[str, Any], now: Any
) -> None:
    """A new version: at its title's place in the list, or last."""
    mine = web_reply_templates.c.tenant_id == user.tenant_id
    position = (
        await conn.execute(
            select(func.min(web_reply_templates.c.position)).where(
                mine, web_reply_templates.c.title == values["title"]
            )
        )
    ).scalar_one()
    if position is None:
        last = (
            await conn.execute(select(func.max(web_reply_templates.c.position)).where(mine))
        ).scalar_one()
        position = (last if last is not None else -1) + 1
    await conn.execute(
        web_reply_templates.insert().values(
            id=template_id,
            tenant_id=user.tenant_id,
            position=position,
            created_by=user.id,
            created_at=now,
            updated_at=now,
            **values,
        )
    )


async def _update(
    conn: Any, user: StaffUser, template_id: str, values: dict[str, Any], now: Any
) -> None:
    """Change one version; a new title renames the template's other versions too."""
    mine = web_reply_templates.c.tenant_id == user.tenant_id
    old = (
        await conn.execute(
            select(web_reply_templates.c.title).where(mine, web_reply_templates.c.id == template_id)
        )
    ).scalar_one_or_none()
    if old is None:
        raise NotFound("No such template", code="template_not_found")
    if old != values["title"]:
        await conn.execute(
            update(web_reply_templates)
            .where(mine, web_reply_templates.c.title == old)
            .values(title=values["title"], updated_at=now)
        )
    await conn.execute(
        update(web_reply_templates)
        .where(mine, web_reply_templates.c.id == template_id)
        .values(updated_at=now, **values)
    )
