"""New message / quick update from a case or a person; files to the family (#19 points 1, 5).

``/sagsbehandler/sager/{case}/ny-besked``: pick one participant or all, a
reply template in the family's language, the live SMS count, sensitive (a
notice with a link), send now or later, a promised date, and PDF or image
files for the family's secure inbox. The form is multipart and streamed: the
CSRF token is checked before any file is read, and a file is refused as soon
as it is too big or not a type we take (see ``page.OWN_CSRF``).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import BodyPartReader, web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import attachments, compose, gate, recipients, reply_templates
from bot.domain.attachments import Upload, UploadRefused
from bot.domain.compose import ALL, CaseToWrite, Draft
from bot.domain.reply_templates import ReplyTemplate
from bot.http.pages.page import redirect, render, state
from bot.http.pages.views_attachments import UPLOAD_LIMIT
from bot.http.pages.views_staff import ERRORS as STAFF_ERRORS
from bot.http.pages.views_staff import _day, _send_at, _sends_at, current_staff
from bot.http.pages.views_staff import _to_login as to_login
from scheduler.store import CaseClosed, local_date
from scheduler.templates import long_date

routes = web.RouteTableDef()

PATH = "/sagsbehandler/sager/{case}/ny-besked"
FIELDS = ("to", "body", "sensitive", "promise_due", "send_date", "send_time")

ERRORS = {
    **STAFF_ERRORS,
    "empty_body": "Skriv en besked, før du sender.",
    "body_too_long": "Beskeden er for lang.",
    "too_many_segments": (
        "Beskeden fylder for mange SMS'er. Gør den kortere, eller markér den som følsom, "
        "så den kun står i den sikre indbakke."
    ),
    "bad_recipient": "Vælg, hvem beskeden skal sendes til.",
    "no_recipients": "Ingen af de valgte kan få beskeden nu, så intet er sendt.",
    "files_not_schedulable": "Filer sendes med det samme. Fjern tidspunktet for at sende senere.",
    "promise_with_schedule": (
        "Et løfte om svar kan kun gives med en besked, der sendes nu. "
        "Fjern datoen for lovet svar eller tidspunktet for at sende senere."
    ),
    "file_type": "Filen kan ikke sendes. Kun PDF og billeder (JPEG, PNG, HEIC).",
    "file_too_large": "Filen er for stor. Intet er sendt.",
    "too_many_files": f"Du kan højst sende {attachments.MAX_FILES} filer ad gangen.",
    "bad_form": "Formularen kunne ikke læses. Prøv igen.",
}
# Why a participant gets nothing: the gate's words where the rule is the gate's.
SKIP_WORDS = {
    recipients.NOT_ENTITLED: "har ikke ret til beskeder på sagen",
    recipients.NO_CONSENT: gate.REASON_WORDS[gate.NO_CONSENT],
    recipients.AUTHORITY_NOT_IN_FORCE: gate.REASON_WORDS[gate.AUTHORITY_NOT_IN_FORCE],
    recipients.NO_PHONE: "der er intet telefonnummer",
    recipients.OPTED_OUT: gate.REASON_WORDS[gate.OPTED_OUT],
}
ROLE_WORDS = {
    "party": "part",
    "parent": "forælder",
    "bisidder": "bisidder",
    "representative": "partsrepræsentant",
}
LANGUAGES = {"da": "dansk", "en": "engelsk", "ar": "arabisk", "uk": "ukrainsk"}
_PAIR = re.compile(r"^[0-9a-f-]{36}~[0-9a-z_-]{1,40}$")


def compose_url(case_id: str) -> str:
    return PATH.replace("{case}", case_id)


@dataclass(slots=True)
class _Form:
    """The posted form: text fields and checked files."""

    values: dict[str, str] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)


class _CsrfRefused(Exception):
    """No CSRF token, a wrong one, or not first in the form."""


def _csrf_ok(request: web.Request, sent: str | None) -> bool:
    s = state(request).session
    expected = s.csrf if s is not None else None
    return bool(sent and expected and hmac.compare_digest(sent.encode(), expected.encode()))


async def _text(part: BodyPartReader, limit: int) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > limit:
            raise BadInput("A field is too long", code="body_too_long")
    return data.decode("utf-8", errors="replace")


async def _upload(part: BodyPartReader, limit: int) -> Upload | None:
    """A file part, refused as soon as it is too big or not a type we take."""
    data = bytearray()
    while chunk := await part.read_chunk(65536):
        data += chunk
        if len(data) > limit:
            raise UploadRefused("The file is too large", code="file_too_large", status=413)
        if len(data) >= 64 and attachments.sniff(bytes(data[:64])) is None:
            raise UploadRefused("Only PDF and images", code="file_type")
    if not data and not part.filename:
        return None  # no file chosen
    return attachments.check(part.filename or "", bytes(data), limit)


async def _read_form(request: web.Request, form: _Form) -> None:
    """The form, streamed: CSRF first, then the fields and up to ``MAX_FILES`` files.

    Fills ``form`` as it reads, so what was written goes back on the page if a file is refused.
    """
    if request.content_type != "multipart/form-data":
        raise BadInput("Not a multipart form", code="bad_form")
    limit = request.app[UPLOAD_LIMIT]
    body_limit = request.app[SERVICES].config.max_body_chars * 4 + 16
    reader = await request.multipart()
    checked = False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadInput("Nested multipart", code="bad_form")
        if part.name == "csrf":
            checked = _csrf_ok(request, await _text(part, 256))
            if not checked:
                raise _CsrfRefused
        elif not checked:
            raise _CsrfRefused
        elif part.name in FIELDS:
            form.values[part.name] = await _text(part, body_limit)
        elif part.name == "file":
            upload = await _upload(part, limit)
            if upload is not None:
                if len(form.uploads) >= attachments.MAX_FILES:
                    raise UploadRefused("Too many files", code="too_many_files")
                form.uploads.append(upload)
        else:
            raise BadInput("An unknown field", code="bad_form")
    if not checked:
        raise _CsrfRefused


def _pairs(value: str) -> list[tuple[str, str]]:
    """``id~word,id~word`` from a confirmation's query (anything else is ignored)."""
    return [(p.split("~")[0], p.split("~")[1]) for p in value.split(",") if _PAIR.match(p.strip())]


def _language(case: CaseToWrite, to: str) -> str:
    """The family's language for templates: the chosen one's, or the one all share (else da)."""
    going = [p for p in case.participants if p.skip is None and (to == ALL or p.id == to)]
    languages = {p.language for p in going}
    return languages.pop() if len(languages) == 1 else "da"


def _first_name(case: CaseToWrite, to: str) -> str:
    """The chosen recipient's first name; none for "all" (the greeting stays neutral)."""
    return next((p.first_name or "" for p in case.participants if p.id == to), "")


def _filled(
    svc: Any, who: Any, case: CaseToWrite, to: str, templates: list[ReplyTemplate]
) -> list[tuple[ReplyTemplate, str, bool]]:
    """Each template in the recipient's language (else Danish), their first name and the
    date filled in. To all participants the greeting names nobody ("Hej. …", not "Hej Maria
    og Peter")."""
    language = _language(case, to)
    when = svc.calendar.add_working_days(local_date(svc.clock.now()), 2)
    values = {
        "fornavn": _first_name(case, to),
        "sagsbehandler": who.first_name,
        "sagsnummer": case.number,
    }
    out = []
    for t, in_language in reply_templates.for_language(templates, language):
        text = t.body.replace(" {fornavn}", "") if to == ALL else t.body
        dated = {**values, "dato": long_date(when, t.language)}
        out.append((t, reply_templates.fill(text, dated), in_language))
    return out


def _per_recipient(
    svc: Any, who: Any, case: CaseToWrite, templates: list[ReplyTemplate]
) -> dict[str, dict[str, str]]:
    """Template title → recipient (participant id or "alle") → the filled text in that
    recipient's language, so the picker follows the recipient chosen on the page without a
    reload (each language version of a template shares its title)."""
    out: dict[str, dict[str, str]] = {}
    for to in [ALL] + [p.id for p in case.participants if p.skip is None]:
        for t, text, _ in _filled(svc, who, case, to, templates):
            out.setdefault(t.title, {})[to] = text
    return out


async def _page(
    request: web.Request,
    who: Any,
    *,
    error: str | None = None,
    skipped: list[tuple[str, str]] | None = None,
    form: dict[str, str] | None = None,
    status: int = 400,
) -> web.Response:
    svc = request.app[SERVICES]
    case = await compose.case_to_write(svc, who.user, request.match_info["case"])
    values = dict(form or {})
    to = values.get("to") or request.query.get("til") or ALL
    templates = await reply_templates.list_templates(svc, who.user)
    filled = _filled(svc, who, case, to, templates)
    chosen = request.query.get("skabelon")
    if chosen and "body" not in values:
        values["body"] = next((text for t, text, _ in filled if t.id == chosen), "")
    people = {p.id: p for p in case.participants}
    language = _language(case, to)
    context = {
        "me": who,
        "case": case,
        "to": to,
        "all": ALL,
        "people": people,
        "templates": filled,
        "per_recipient": _per_recipient(svc, who, case, templates),
        "chosen": chosen,
        "language": LANGUAGES.get(language, language),
        "translated": all(ok for _, _, ok in filled),
        "template_names": reply_templates.LANGUAGE_NAMES,
        "role_words": ROLE_WORDS,
        "skip_words": SKIP_WORDS,
        "languages": LANGUAGES,
        "form": values,
        "today": local_date(svc.clock.now()),
        "max_chars": svc.config.max_body_chars,
        "accept": attachments.ACCEPT,
        "max_size": attachments.size_text(request.app[UPLOAD_LIMIT]),
        "max_files": attachments.MAX_FILES,
        "error": error,
        "error_text": ERRORS.get(error or "", "Beskeden kunne ikke sendes. Prøv igen."),
        "skipped": [(people[p], r) for p, r in skipped or [] if p in people],
        "sent_to": [
            (people[p], c) for p, c in _pairs(request.query.get("sendt", "")) if p in people
        ],
        "held": [(people[p], r) for p, r in _pairs(request.query.get("ikke", "")) if p in people],
        "later": "planlagt" in request.query,
        "sends_at": _sends_at(request.query.get("kl")),
        "files_sent": request.query.get("filer", "").isdigit() and int(request.query["filer"]),
    }
    return render(request, "staff/compose.html", context, status=status if error else 200)


@routes.get(PATH, name="pages.staff.compose")
async def compose_page(request: web.Request) -> web.Response:
    """The form (404 for a case this caseworker does not work on)."""
    who = await current_staff(request)
    if who is None:
        return to_login(request)
    return await _page(request, who)


def _draft(form: _Form) -> Draft:
    v = form.values
    return Draft(
        body=v.get("body", ""),
        to=v.get("to", "").strip(),
        sensitive=bool(v.get("sensitive")),
        send_at=_send_at(v.get("send_date", ""), v.get("send_time", "")),
        promise_due=_promise(v.get("promise_due", "")),
        uploads=form.uploads,
    )


def _promise(value: str) -> date | None:
    return _day(value, "bad_promise_date")


@routes.post(PATH, name="pages.staff.compose_post")
async def compose_send(request: web.Request) -> web.Response:
    """Send (or schedule) the message; any refusal is shown on the form, nothing is sent."""
    who = await current_staff(request)
    if who is None:
        return to_login(request)  # before reading a byte of the upload
    svc = request.app[SERVICES]
    case_id = request.match_info["case"]
    await compose.case_to_write(svc, who.user, case_id)  # 404 before reading any file
    form = _Form()
    try:
        await _read_form(request, form)
        sent = await compose.send(svc, who.user, case_id, _draft(form))
    except _CsrfRefused:
        return render(request, "error.html", {"error": "csrf"}, status=403)
    except compose.NoRecipients as exc:
        return await _page(request, who, error=exc.code, skipped=exc.skipped, form=form.values)
    except (BadInput, CaseClosed) as exc:
        return await _page(request, who, error=exc.code, form=form.values, status=exc.status)
    query = {
        "sendt": ",".join(f"{p}~{c}" for p, c, _ in sent.messages),
        "ikke": ",".join(f"{p}~{r}" for p, r in sent.skipped),
    }
    if sent.later:
        query["planlagt"] = "1"
    if sent.sends_at is not None:
        query["kl"] = sent.sends_at.isoformat()
    if form.uploads:
        query["filer"] = str(len(form.uploads))
    return redirect(compose_url(case_id), {k: v for k, v in query.items() if v})
