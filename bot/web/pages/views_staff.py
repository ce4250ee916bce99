"""The caseworker's pages: log in (password + TOTP), inbox, thread, reply, live updates."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot import conversations as conv
from bot.errors import BadInput
from bot.web.keys import SERVICES
from bot.web.pages import accounts, inbox, sessions
from bot.web.pages.accounts import LoginRefused, StaffIdentity
from bot.web.pages.page import SETTINGS, redirect, render, state

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
    "received": "Modtaget",
    "awaiting_case": "Venter på valg af sag",
}
KINDS = {
    "citizen": "Fra borgeren",
    "reply": "Svar",
    "receipt": "Automatisk kvittering",
    "auto": "Automatisk svar",
    "clarify": "Spørgsmål om sag",
    "login_code": "Engangskode til den sikre indbakke",
}


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
    groups = await inbox.inbox(request.app[SERVICES], who.user)
    template = "staff/_inbox_groups.html" if request.query.get("partial") else "staff/inbox.html"
    return render(request, template, {"me": who, "groups": groups})


async def _thread_page(
    request: web.Request,
    who: StaffIdentity,
    *,
    error: str | None = None,
    draft: str = "",
    note: str = "",
) -> web.Response:
    svc = request.app[SERVICES]
    thread = await conv.read_thread(svc, who.user, request.match_info["id"])
    reads = await inbox.citizen_reads(svc, who.user, [m["id"] for m in thread["messages"]])
    for m in thread["messages"]:
        m["created"] = datetime.fromisoformat(m["created_at"])
        m["reply_by_at"] = datetime.fromisoformat(m["reply_by"]) if m.get("reply_by") else None
    partial = bool(request.query.get("partial"))
    return render(
        request,
        "staff/_thread_messages.html" if partial else "staff/thread.html",
        {
            "me": who,
            "thread": thread,
            "reads": reads,
            "status_labels": STATUS,
            "kind_labels": KINDS,
            "sent": "sendt" in request.query,
            "closed": "lukket" in request.query,
            "acknowledged": "kvitteret" in request.query,
            "note": note,
            "error": error,
            "draft": draft,
            "max_chars": svc.config.max_body_chars,
            "open": any(m["awaiting_reply"] for m in thread["messages"]),
            "urgent_open": [
                m for m in thread["messages"] if m.get("urgent") and not m.get("acknowledged_at")
            ],
        },
        status=400 if error else 200,
    )


@routes.get("/sagsbehandler/samtaler/{id}", name="pages.staff.thread")
async def thread_page(request: web.Request) -> web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    return await _thread_page(request, who)


@routes.post("/sagsbehandler/samtaler/{id}/svar", name="pages.staff.reply")
async def reply(request: web.Request) -> web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    form = await request.post()
    body = str(form.get("body", ""))
    conv_id = request.match_info["id"]
    try:
        await conv.reply(request.app[SERVICES], who.user, conv_id, body)
    except BadInput as exc:
        return await _thread_page(request, who, error=exc.code, draft=body)
    return redirect(f"/sagsbehandler/samtaler/{conv_id}", {"sendt": "1"})


@routes.post("/sagsbehandler/samtaler/{id}/haandteret", name="pages.staff.handled")
async def handled(request: web.Request) -> web.Response:
    """Handled another way (e.g. by phone): close the open messages with a journal note."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    form = await request.post()
    note = str(form.get("note", ""))
    conv_id = request.match_info["id"]
    try:
        await conv.close_with_note(request.app[SERVICES], who.user, conv_id, note)
    except BadInput as exc:
        return await _thread_page(request, who, error=exc.code, note=note)
    return redirect(f"/sagsbehandler/samtaler/{conv_id}", {"lukket": "1"})


@routes.post("/sagsbehandler/samtaler/{id}/beskeder/{mid}/kvitter", name="pages.staff.ack")
async def acknowledge(request: web.Request) -> web.Response:
    """ "Jeg tager den": pick up an urgent message, which stops its escalation."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    conv_id = request.match_info["id"]
    # Checks that the message's thread is one this user may see (404 otherwise).
    await conv.acknowledge_message(request.app[SERVICES], who.user, request.match_info["mid"])
    return redirect(f"/sagsbehandler/samtaler/{conv_id}", {"kvitteret": "1"})


# TODO(phone note): "notat om telefonsamtale" without closing the thread, filed
# on the case's journal (needs a service function in bot.conversations).
# TODO(templates, schedule-later, promise, timeline): these come from other
# features; the thread page has marked slots for them.
