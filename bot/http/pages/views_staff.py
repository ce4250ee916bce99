"""The caseworker's pages: log in (password + TOTP), inbox, thread, reply, live updates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.workdays import format_time
from bot.domain import (
    accounts,
    attachments,
    inbox,
    person_language,
    reply_templates,
    sessions,
    staffing,
)
from bot.domain import conversations as conv
from bot.domain.accounts import LoginRefused, StaffIdentity
from bot.domain.caselist import NextMeeting, next_meeting
from bot.domain.mms import notes_for_staff
from bot.http.pages.page import SETTINGS, redirect, render, state
from journal import casefile
from scheduler import milestones, scheduled, tasks
from scheduler.quiet import local_instant
from scheduler.store import CaseClosed, local_date
from scheduler.templates import long_date
from scheduler.urgent import BadUrgentReason

routes = web.RouteTableDef()

HOME = "/sagsbehandler/"
LOGIN = "/sagsbehandler/log-ind"
TOTP = "/sagsbehandler/log-ind/kode"
ASSURANCE = "password+totp"

STATUS = {
    "queued": "I kø",
    "sent": "Sendt",
    "delivered": "Leveret",
    "failed": "Kunne ikke leveres",
    "expired": "Udløbet",
    "withdrawn": "Trukket tilbage",
    "withheld": "Ikke sendt",
    "received": "Modtaget",
    "awaiting_case": "Venter på valg af sag",
}
# A family message (or a thread) whose answer never reached them: what became of the
# answer, by its status (bot.domain.conversations: ``answer_status``); "Svar i kø" while it
# waits to go out (the templates); else "Besvaret".
ANSWER = {
    "failed": "Svar kunne ikke leveres",
    "expired": "Svar kunne ikke leveres",
    "withheld": "Svar ikke sendt",
}
# Why the send-time gate held a message back, by its reason word (bot.domain.gate).
WITHHELD = {
    "opted_out": "Ikke sendt (borgeren har sagt STOP til påmindelser og opdateringer)",
    "restricted": "Ikke sendt (behandlingen af borgerens oplysninger er begrænset)",
    "no_consent": "Ikke sendt (sagssystemet har registreret, at borgeren ikke vil have SMS)",
    "authority_not_in_force": "Ikke sendt (fuldmagten gælder ikke i dag)",
    "decision": "Ikke sendt (teksten lyder som en afgørelse; send den med Digital Post)",
}
KINDS = {
    "citizen": "Fra borgeren",
    "reply": "Svar",
    "receipt": "Automatisk kvittering",
    "auto": "Automatisk svar",
    "clarify": "Spørgsmål om sag",
    "login_code": "Engangskode til den sikre indbakke",
    "scheduled": "Planlagt SMS",
}
STEP_STATUS = {"done": "Færdig", "current": "Nu", "pending": "Kommer"}

# What went wrong, in plain Danish, by the domain's stable error codes.
ERRORS = {
    "empty_body": "Skriv et svar, før du sender.",
    "body_too_long": "Svaret er for langt.",
    "too_many_segments": "Svaret fylder for mange SMS'er. Gør det kortere.",
    "case_closed": "Sagen er lukket, så der kan ikke sendes noget.",
    "decision_not_allowed": (
        "Teksten lyder som en afgørelse, så den er ikke sendt. En afgørelse må ikke sendes "
        "på SMS eller i den sikre indbakke: send den som brev med Digital Post med "
        "klagevejledning fra sagssystemet. Her kan du skrive, at afgørelsen er på vej."
    ),
    "bad_promise_date": "Datoen for lovet svar er ikke en gyldig dato.",
    "promise_in_past": "Datoen for lovet svar er overskredet. Vælg i dag eller senere.",
    "promise_not_working_day": (
        "Datoen for lovet svar er en lørdag, søndag eller helligdag, hvor ingen svarer. "
        "Vælg en hverdag."
    ),
    "bad_date": "Datoen ligger mere end et år ude i fremtiden.",
    "promise_without_case": "Et løfte om svar kræver, at beskeden er knyttet til en sag.",
    "bad_send_date": (
        "Tidspunktet for at sende senere er ikke gyldigt. Skriv både dato og klokkeslæt."
    ),
    "send_at_in_past": "Tidspunktet for at sende senere er overskredet. Vælg et senere tidspunkt.",
    "bad_datetime": "Du kan højst planlægge et år frem.",
    "sensitive_not_schedulable": (
        "Følsomme beskeder kan ikke planlægges. Send dem nu, eller fjern markeringen."
    ),
    "promise_with_schedule": (
        "Et løfte om svar kan kun gives med et svar, der sendes nu. "
        "Fjern datoen for lovet svar eller tidspunktet for at sende senere."
    ),
    "already_sent": "Beskeden er allerede sendt og kan ikke trækkes tilbage.",
    "urgent_reason_required": "Begrundelsen for, at svaret haster, må højst være 500 tegn.",
    "bad_note": "Skriv et notat på højst 2000 tegn om, hvordan det blev håndteret.",
    "empty_field": "Skriv notatet, før du gemmer.",
    "field_too_long": "Notatet er for langt.",
    "bad_date_range": "Slutdatoen ligger før startdatoen.",
    "bad_absence_dates": 'Skriv en gyldig dato i både "Fra og med" og "Til og med".',
    "absence_in_past": "Fraværet er allerede slut. Vælg en slutdato i dag eller senere.",
    "bad_substitute": "Vælg en stedfortræder fra dit team (ikke dig selv).",
    "bad_title": "Skriv en titel på højst 80 tegn.",
    "bad_body": "Skriv en tekst på højst 480 tegn.",
    "bad_template": "En krøllet parentes mangler sin partner. Skriv {{ eller }} for en parentes.",
    "unknown_variable": "Skabelonen bruger en ukendt variabel. Brug kun dem, der står på listen.",
    "duplicate_title": "Skabelonen med den titel har allerede en tekst på det sprog.",
    "bad_language": "Vælg dansk, engelsk, ukrainsk eller arabisk.",
}


# A thread opened from its case page comes back there: ``fra`` names the page, and only a
# case page (one exact shape, same site) is ever kept or linked to.
CASE_PAGE = re.compile(r"/sagsbehandler/sager/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def came_from(query: Mapping[str, str]) -> str | None:
    """The case page a thread was opened from (``fra``), or None: no open redirect."""
    fra = query.get("fra", "")
    return fra if CASE_PAGE.fullmatch(fra) else None


def to_thread(request: web.Request, conv_id: str, notice: Mapping[str, str]) -> web.Response:
    """Back to the thread after one of its forms, with what to confirm and the way back."""
    fra = came_from(request.query)
    return redirect(_thread_url(conv_id), {**notice, **({"fra": fra} if fra else {})})


def _safe_next(value: str | None) -> str:
    """Only our own staff pages: no open redirect."""
    if value and value.startswith(HOME) and "//" not in value and "\\" not in value:
        return value
    return HOME


async def current_staff(request: web.Request) -> StaffIdentity | None:
    """The logged-in staff member (both factors), or None."""
    s = state(request).session
    if s is None or s.kind != "staff" or not s.complete or s.staff_id is None:
        return None
    return await accounts.identity(request.app[SERVICES], s.staff_id)


def _to_login(request: web.Request) -> web.Response:
    return redirect(LOGIN, {"next": request.path_qs})


@routes.get("/sagsbehandler", name="pages.staff.root")
async def root(request: web.Request) -> web.Response:
    return redirect(HOME)


@routes.get(LOGIN, name="pages.staff.login")
async def login_form(request: web.Request) -> web.Response:
    if await current_staff(request) is not None:
        return redirect(_safe_next(request.query.get("next")))
    return render(
        request,
        "staff/login.html",
        {
            "next": _safe_next(request.query.get("next")),
            "logged_out": "logget_ud" in request.query,
        },
    )


@routes.post(LOGIN, name="pages.staff.login_post")
async def login(request: web.Request) -> web.Response:
    svc, st = request.app[SERVICES], state(request)
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    nxt = _safe_next(str(form.get("next", "")))
    try:
        staff_id = await accounts.check_password(svc, request.app[SETTINGS], username, password)
    except LoginRefused as exc:
        return render(
            request,
            "staff/login.html",
            {"next": nxt, "error": exc.reason, "username": username, "logged_out": False},
            status=400,
        )
    ident = await accounts.identity(svc, staff_id)
    assert ident is not None  # check_password only accepts active staff
    if st.session is not None:
        await sessions.end(svc, st.session.id)
    token, session = await sessions.create(
        svc,
        tenant_id=ident.user.tenant_id,
        kind="staff",
        stage="totp",
        assurance=ASSURANCE,
        staff_id=staff_id,
    )
    st.start_session(token, session)
    return redirect(TOTP, {"next": nxt})


def _pending(request: web.Request) -> bool:
    s = state(request).session
    return s is not None and s.kind == "staff" and s.stage == "totp"


@routes.get(TOTP, name="pages.staff.totp")
async def totp_form(request: web.Request) -> web.Response:
    if not _pending(request):
        return redirect(LOGIN)
    return render(request, "staff/totp.html", {"next": _safe_next(request.query.get("next"))})


@routes.post(TOTP, name="pages.staff.totp_post")
async def totp(request: web.Request) -> web.Response:
    svc, st = request.app[SERVICES], state(request)
    if not _pending(request):
        return redirect(LOGIN)
    pending = st.session
    assert pending is not None and pending.staff_id is not None
    form = await request.post()
    nxt = _safe_next(str(form.get("next", "")))
    try:
        await accounts.check_totp(
            svc, request.app[SETTINGS], pending.staff_id, str(form.get("code", ""))
        )
    except LoginRefused as exc:
        if exc.reason == "locked":
            await sessions.end(svc, pending.id)
            st.end_session()
        return render(request, "staff/totp.html", {"next": nxt, "error": exc.reason}, status=400)
    # A fresh session id once both factors are in: nothing seen before carries over.
    await sessions.end(svc, pending.id)
    token, session = await sessions.create(
        svc,
        tenant_id=pending.tenant_id,
        kind="staff",
        stage="full",
        assurance=ASSURANCE,
        staff_id=pending.staff_id,
    )
    st.start_session(token, session)
    return redirect(nxt)


@routes.post("/sagsbehandler/log-ud", name="pages.staff.logout")
async def logout(request: web.Request) -> web.Response:
    st = state(request)
    if st.session is not None:
        await sessions.end(request.app[SERVICES], st.session.id)
        st.end_session()
    return redirect(LOGIN, {"logget_ud": "1"})


@routes.get(HOME, name="pages.staff.inbox")
async def inbox_page(request: web.Request) -> web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    groups = await inbox.inbox(svc, who.user)
    if request.query.get("partial"):
        return render(request, "staff/_inbox_groups.html", {"me": who, "groups": groups})
    # Am I away today? Then say so, and who answers instead.
    today = local_date(svc.clock.now()).isoformat()
    away = next(
        (
            a
            for a in await staffing.list_absences(svc, who.user, who.user.id)
            if a["starts_on"] <= today <= a["ends_on"]
        ),
        None,
    )
    away_info = None
    if away is not None:
        names = await inbox.team_names(svc, who.user) if away["substitute_id"] else {}
        away_info = {
            "until": long_date(date.fromisoformat(away["ends_on"]), "da"),
            "substitute": names.get(away["substitute_id"] or "", None),
        }
    open_tasks = await tasks.count_open(svc, who.user)
    return render(
        request,
        "staff/inbox.html",
        {"me": who, "groups": groups, "away": away_info, "tasks": open_tasks},
    )


def _form_text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _day(value: str, code: str) -> date | None:
    """A date from a form field (YYYY-MM-DD), or None when left empty."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadInput("Not a date", code=code) from exc


def _sends_at(value: str | None) -> dict[str, str] | None:
    """When a reply queued in quiet hours goes, in words ("tirsdag den 25. februar", "08:00")."""
    try:
        at = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if at is None or at.tzinfo is None:
        return None
    return {"day": long_date(local_date(at), "da"), "time": format_time(at, "da")}


def _send_at(day_text: str, time_text: str) -> datetime | None:
    """Copenhagen date and wall-clock time as a UTC instant; None when both are empty."""
    if not day_text.strip() and not time_text.strip():
        return None
    day = _day(day_text, "bad_send_date")
    try:
        at = time.fromisoformat(time_text.strip())
    except ValueError as exc:
        raise BadInput("Not a time", code="bad_send_date") from exc
    if day is None:
        raise BadInput("A time without a date", code="bad_send_date")
    return local_instant(day, at.replace(second=0, microsecond=0, tzinfo=None))


def _default_date(svc: Any, ctx: inbox.ThreadContext, messages: list[dict[str, Any]]) -> date:
    """What {dato} means on this thread: the open promise, else the earliest reply-by,
    else two working days from today."""
    if ctx.promise_due is not None:
        return ctx.promise_due
    reply_bys = [m["reply_by_at"] for m in messages if m["awaiting_reply"] and m["reply_by_at"]]
    if reply_bys:
        return local_date(min(reply_bys))
    today: date = local_date(svc.clock.now())
    result: date = svc.calendar.add_working_days(today, 2)
    return result


async def _thread_page(
    request: web.Request,
    who: StaffIdentity,
    *,
    error: str | None = None,
    error_in: str = "reply",
    status: int = 400,
    form: dict[str, str] | None = None,
) -> web.Response:
    svc = request.app[SERVICES]
    conv_id = request.match_info["id"]
    thread = await conv.read_thread(svc, who.user, conv_id)
    reads = await inbox.citizen_reads(svc, who.user, [m["id"] for m in thread["messages"]])
    _parse_message_times(thread["messages"])
    values = dict(form or {})
    fra = came_from(request.query)
    context: dict[str, Any] = {
        "me": who,
        "thread": thread,
        # Kept on the thread's own forms (and the live update's), so the way back survives them.
        "fra": fra,
        "keep_fra": "?" + urlencode({"fra": fra}) if fra else "",
        "reads": reads,
        "status_labels": STATUS,
        "withheld_labels": WITHHELD,
        "answer_labels": ANSWER,
        "kind_labels": KINDS,
        "max_chars": svc.config.max_body_chars,
        # Files the citizen attached, by message id (staff/_attachments.html shows them).
        "attachments": await attachments.for_staff(svc, who.user, conv_id),
        # MMS files not (yet) kept, by message id (bot.domain.mms; the same include).
        "mms_notes": await notes_for_staff(svc, who.user, conv_id),
    }
    if request.query.get("partial"):
        return render(request, "staff/_thread_messages.html", context)
    ctx = await inbox.thread_context(svc, who.user, conv_id)
    filled = await _filled_templates(svc, who, ctx, thread)
    chosen = request.query.get("skabelon")
    if chosen and "body" not in values:
        _choose_template(values, filled, chosen)
    timeline, planned, meeting = await _case_plan(svc, who, ctx, conv_id, thread["messages"])
    # The family's newest message, read above (and access-logged): written in Cyrillic or
    # Arabic letters while their SMS go out in another language? The page says so.
    newest_in = next(
        (m["body"] for m in reversed(thread["messages"]) if m["direction"] == "in"), None
    )
    context.update(
        {
            "ctx": ctx,
            "wrote_in": person_language.wrote_otherwise(newest_in, ctx.citizen_language),
            "sms_languages": person_language.DANISH_NAMES,
            # Back to the case page only if that is where the thread was opened from.
            "back_to_case": ctx.case_id is not None
            and fra == f"/sagsbehandler/sager/{ctx.case_id}",
            "templates": filled,
            "template_language": reply_templates.LANGUAGE_NAMES.get(
                ctx.citizen_language, ctx.citizen_language
            ),
            "translated": all(ok for _, _, ok in filled),
            "template_names": reply_templates.LANGUAGE_NAMES,
            "chosen": chosen,
            "timeline": timeline,
            "planned": planned,
            "meeting": meeting,
            "step_labels": STEP_STATUS,
            "today": local_date(svc.clock.now()),
            "date_text": lambda d: long_date(d, "da") if d else "",
            **_notices(request.query),
            "error": error,
            "error_in": error_in,
            "error_text": ERRORS.get(error or "", "Det kunne ikke gennemføres. Prøv igen."),
            "form": values,
            "open": any(m["awaiting_reply"] for m in thread["messages"]),
            "urgent_open": [
                m for m in thread["messages"] if m.get("urgent") and not m.get("acknowledged_at")
            ],
        }
    )
    return render(request, "staff/thread.html", context, status=status if error else 200)


def _parse_message_times(messages: list[dict[str, Any]]) -> None:
    """Give each message its times as datetimes, for the templates to format."""
    for m in messages:
        m["created"] = datetime.fromisoformat(m["created_at"])
        m["reply_by_at"] = datetime.fromisoformat(m["reply_by"]) if m.get("reply_by") else None


async def _filled_templates(
    svc: Any, who: StaffIdentity, ctx: inbox.ThreadContext, thread: dict[str, Any]
) -> list[tuple[Any, str, bool]]:
    """The caseworker's reply templates in the family's language (else Danish), each with
    this thread's {fornavn}, {dato} … filled in, and whether it is in the family's language."""
    templates = await reply_templates.list_templates(svc, who.user)
    day = _default_date(svc, ctx, thread["messages"])
    variables = {
        "fornavn": ctx.citizen_first_name or "",
        "sagsbehandler": who.first_name,
        "sagsnummer": thread["case_number"] or "",
    }
    # The date in the version's own language: a Ukrainian template gets a Ukrainian date.
    return [
        (t, reply_templates.fill(t.body, {**variables, "dato": long_date(day, t.language)}), ok)
        for t, ok in reply_templates.for_language(templates, ctx.citizen_language)
    ]


def _choose_template(
    values: dict[str, str], filled: list[tuple[Any, str, bool]], chosen: str
) -> None:
    """Put the chosen template's filled text in the reply box."""
    for t, text, _ in filled:
        if t.id == chosen:
            values["body"] = text


async def _case_plan(
    svc: Any,
    who: StaffIdentity,
    ctx: inbox.ThreadContext,
    conv_id: str,
    messages: list[dict[str, Any]],
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], NextMeeting | None]:
    """The case's timeline, the SMS planned on this thread and the case's next meeting (as
    its case page shows it), for those who work on the case."""
    if not (ctx.works_on_case and ctx.case_id is not None):
        return None, [], None
    try:
        timeline: dict[str, Any] | None = await milestones.get_timeline(svc, who.user, ctx.case_id)
    except NotFound:
        timeline = None
    bodies = {m["id"]: m["body"] for m in messages}
    planned = [
        {
            "id": p["id"],
            "send_at": datetime.fromisoformat(p["send_at"]),
            "body": bodies.get(p["id"], ""),
        }
        for p in await scheduled.list_scheduled(svc, who.user, conv_id)
    ]
    if timeline is not None:
        _parse_step_dates(timeline["steps"])
    return timeline, planned, await next_meeting(svc, who.user, ctx.case_id)


def _parse_step_dates(steps: list[dict[str, Any]]) -> None:
    """Give each milestone its expected and completed dates as dates, for the templates."""
    for step in steps:
        expected = step["expected_on"]
        step["expected"] = date.fromisoformat(expected) if expected else None
        completed = step["completed_at"]
        step["completed"] = datetime.fromisoformat(completed) if completed else None


TAUGHT = {"none": "Ikke akut", "akut": "Er akut", "bekymring": "Bekymring"}


def _notices(query: Mapping[str, str]) -> dict[str, Any]:
    """What the page confirms after a redirect (sent, scheduled, withdrawn …), from its query."""
    return {
        "sent": "sendt" in query,
        "sends_at": _sends_at(query.get("kl")),
        "scheduled": "planlagt" in query,
        "withdrawn": "tilbagekaldt" in query,
        "noted": "notat" in query,
        "closed": "lukket" in query,
        "acknowledged": "kvitteret" in query,
        # Triage taught from the thread page (bot.http.pages.views_teach): the label given.
        "taught": query.get("laert") if query.get("laert") in TAUGHT else None,
    }


@routes.get("/sagsbehandler/samtaler/{id}", name="pages.staff.thread")
async def thread_page(request: web.Request) -> web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    return await _thread_page(request, who)


def _thread_url(conv_id: str) -> str:
    return f"/sagsbehandler/samtaler/{conv_id}"


@routes.post("/sagsbehandler/samtaler/{id}/svar", name="pages.staff.reply")
async def reply(request: web.Request) -> web.Response:
    """Answer now (optionally as guidance, sensitive, with a promised date), or schedule it."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    form = await request.post()
    fields = {
        k: _form_text(form, k)
        for k in (
            "body",
            "guidance",
            "sensitive",
            "urgent_reason",
            "promise_due",
            "send_date",
            "send_time",
        )
    }
    conv_id = request.match_info["id"]
    body = fields["body"]
    nature = "guidance" if fields["guidance"] else "message"
    sensitive = bool(fields["sensitive"])
    try:
        promise = _day(fields["promise_due"], "bad_promise_date")
        send_at = _send_at(fields["send_date"], fields["send_time"])
        if send_at is not None:
            if sensitive:
                raise BadInput(
                    "Sensitive messages are not scheduled", code="sensitive_not_schedulable"
                )
            if promise is not None:
                raise BadInput("A promise goes with a reply sent now", code="promise_with_schedule")
            text = body.strip()
            if text and nature == "guidance":
                text = f"{text}\n{conv.GUIDANCE_LINE}"
            await scheduled.schedule_sms(svc, who.user, conv_id, body=text, send_at=send_at)
            return to_thread(request, conv_id, {"planlagt": "1"})
        queued = await conv.reply(
            svc,
            who.user,
            conv_id,
            body,
            sensitive=sensitive,
            promise_due=promise,
            nature=nature,
            urgent_reason=fields["urgent_reason"].strip() or None,
        )
    except (BadInput, BadUrgentReason, CaseClosed) as exc:
        return await _thread_page(request, who, error=exc.code, form=fields, status=exc.status)
    # In quiet hours (stilletid) the page tells when the reply will go.
    later = {"kl": queued["sends_at"]} if queued["sends_at"] else {}
    return to_thread(request, conv_id, {"sendt": "1", **later})


@routes.post("/sagsbehandler/samtaler/{id}/planlagt/{mid}/tilbagekald", name="pages.staff.withdraw")
async def withdraw(request: web.Request) -> web.Response:
    """Withdraw a scheduled SMS that has not gone out yet."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    conv_id = request.match_info["id"]
    try:
        await scheduled.withdraw_scheduled(
            request.app[SERVICES], who.user, conv_id, request.match_info["mid"]
        )
    except Conflict as exc:
        return await _thread_page(
            request, who, error=exc.code, error_in="planned", status=exc.status
        )
    return to_thread(request, conv_id, {"tilbagekaldt": "1"})


@routes.post("/sagsbehandler/samtaler/{id}/telefonnotat", name="pages.staff.phone_note")
async def phone_note(request: web.Request) -> web.Response:
    """Notat om telefonsamtale: filed on the case's journal; the thread stays as it is."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    form = await request.post()
    text = _form_text(form, "phone_note")
    conv_id = request.match_info["id"]
    # Owner or lead of the case's team only (a covering colleague gets a 404, as from the API).
    case_id = await inbox.working_case(svc, who.user, conv_id)
    try:
        await casefile.add_note(svc, who.user, case_id, "Notat om telefonsamtale", text)
    except BadInput as exc:
        return await _thread_page(
            request, who, error=exc.code, error_in="phone", form={"phone_note": text}
        )
    return to_thread(request, conv_id, {"notat": "1"})


@routes.post("/sagsbehandler/samtaler/{id}/haandteret", name="pages.staff.handled")
async def handled(request: web.Request) -> web.Response:
    """Handled another way (e.g. by phone): close the open messages with a journal note."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    form = await request.post()
    note = _form_text(form, "note")
    conv_id = request.match_info["id"]
    try:
        await conv.close_with_note(request.app[SERVICES], who.user, conv_id, note)
    except BadInput as exc:
        return await _thread_page(
            request, who, error=exc.code, error_in="handled", form={"note": note}
        )
    return to_thread(request, conv_id, {"lukket": "1"})


@routes.post("/sagsbehandler/samtaler/{id}/beskeder/{mid}/kvitter", name="pages.staff.ack")
async def acknowledge(request: web.Request) -> web.Response:
    """ "Jeg tager den": pick up an urgent message, which stops its escalation."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    conv_id = request.match_info["id"]
    # Checks that the message's thread is one this user may see (404 otherwise).
    await conv.acknowledge_message(request.app[SERVICES], who.user, request.match_info["mid"])
    return to_thread(request, conv_id, {"kvitteret": "1"})
