"""The family's secure inbox: log in by SMS code, threads from all their cases, reply."""

from __future__ import annotations

from aiohttp import web

from bot.errors import BadInput
from bot.web.keys import SERVICES
from bot.web.pages import citizen, codes, i18n, sessions
from bot.web.pages.citizen import Citizen
from bot.web.pages.codes import CodeRefused, RateLimited
from bot.web.pages.page import CATALOGUES, SETTINGS, Cookie, redirect, render, state

routes = web.RouteTableDef()

HOME = "/borger/"
LOGIN = "/borger/log-ind"
CODE = "/borger/log-ind/kode"
FLOW_COOKIE = "tvh_flow"


def current_citizen(request: web.Request) -> Citizen | None:
    s = state(request).session
    if s is None or s.kind != "citizen" or not s.complete or s.phone_index is None:
        return None
    return Citizen(tenant_id=s.tenant_id, phone_index=s.phone_index, assurance=s.assurance)


def _code_text(request: web.Request) -> codes.CodeText:
    catalogues = request.app[CATALOGUES]

    def text(language: str, code: str, minutes: int) -> str:
        t = catalogues.get(i18n.pick(language).code) or catalogues[i18n.DEFAULT]
        return i18n.translate(
            t,
            "Din kode til den sikre indbakke er %(code)s. Den gælder i %(minutes)s minutter. "
            "Giv den aldrig til andre.",
            code=code,
            minutes=minutes,
        )

    return text


@routes.get("/borger", name="pages.citizen.root")
async def root(request: web.Request) -> web.Response:
    return redirect(HOME)


async def _login_page(
    request: web.Request, *, error: str | None = None, phone: str = "", status: int = 200
) -> web.Response:
    svc = request.app[SERVICES]
    places = await citizen.municipalities(svc)
    chosen = request.query.get("kommune", "")
    return render(
        request,
        "citizen/login.html",
        {
            "municipalities": places,
            "chosen": chosen,
            "error": error,
            "phone": phone,
            "logged_out": "logget_ud" in request.query,
        },
        status=status,
    )


@routes.get(LOGIN, name="pages.citizen.login")
async def login_form(request: web.Request) -> web.Response:
    if current_citizen(request) is not None:
        return redirect(HOME)
    return await _login_page(request)


@routes.post(LOGIN, name="pages.citizen.login_post")
async def login(request: web.Request) -> web.Response:
    svc, st = request.app[SERVICES], state(request)
    form = await request.post()
    phone = str(form.get("phone", "")).strip()
    places = await citizen.municipalities(svc)
    slug = str(form.get("municipality", "")) or (places[0][0] if len(places) == 1 else "")
    tenant_id = await citizen.municipality_id(svc, slug) if slug else None
    if tenant_id is None:
        return await _login_page(request, error="municipality", phone=phone, status=400)
    try:
        flow = await codes.request_code(
            svc,
            request.app[SETTINGS],
            tenant_id=tenant_id,
            phone=phone,
            client_ip=request.remote or "",
            text=_code_text(request),
        )
    except BadInput:
        return await _login_page(request, error="phone", phone=phone, status=400)
    except RateLimited:
        return await _login_page(request, error="rate", phone=phone, status=429)
    st.cookies.append(
        Cookie(FLOW_COOKIE, flow, max_age=int(request.app[SETTINGS].code_valid.total_seconds()))
    )
    return redirect(CODE)


def _flow(request: web.Request) -> str | None:
    st = state(request)
    return request.cookies.get(st.cookie_name(FLOW_COOKIE))


@routes.get(CODE, name="pages.citizen.code")
async def code_form(request: web.Request) -> web.Response:
    if _flow(request) is None:
        return redirect(LOGIN)
    return render(request, "citizen/code.html", {})


@routes.post(CODE, name="pages.citizen.code_post")
async def code(request: web.Request) -> web.Response:
    svc, st = request.app[SERVICES], state(request)
    flow = _flow(request)
    if flow is None:
        return redirect(LOGIN)
    form = await request.post()
    try:
        who = await codes.verify_code(svc, request.app[SETTINGS], flow, str(form.get("code", "")))
    except CodeRefused as exc:
        return render(
            request,
            "citizen/code.html",
            {"error": exc.reason, "remaining": exc.remaining},
            status=400,
        )
    if st.session is not None:
        await sessions.end(svc, st.session.id)
    token, session = await sessions.create(
        svc,
        tenant_id=who.tenant_id,
        kind="citizen",
        stage="full",
        assurance=citizen.SMS_CODE,
        phone_index=who.phone_index,
    )
    st.start_session(token, session)
    if request.cookies.get(st.cookie_name("tvh_lang")) is None:
        on_file = await citizen.preferred_language(
            svc, Citizen(who.tenant_id, who.phone_index, citizen.SMS_CODE)
        )
        if on_file and on_file in i18n.LANGUAGES and on_file != i18n.DEFAULT:
            st.cookies.append(Cookie("tvh_lang", on_file, max_age=365 * 24 * 3600))
    return redirect(HOME)


@routes.post("/borger/log-ud", name="pages.citizen.logout")
async def logout(request: web.Request) -> web.Response:
    st = state(request)
    if st.session is not None:
        await sessions.end(request.app[SERVICES], st.session.id)
        st.end_session()
    return redirect(LOGIN, {"logget_ud": "1"})


@routes.get(HOME, name="pages.citizen.inbox")
async def inbox_page(request: web.Request) -> web.Response:
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    threads = await citizen.threads(request.app[SERVICES], who)
    return render(request, "citizen/inbox.html", {"threads": threads, "who": who})


async def _thread_page(
    request: web.Request, who: Citizen, *, error: str | None = None, draft: str = ""
) -> web.Response:
    svc = request.app[SERVICES]
    thread = await citizen.thread(svc, who, request.match_info["id"])
    return render(
        request,
        "citizen/thread.html",
        {
            "thread": thread,
            "who": who,
            "sent": "sendt" in request.query,
            "error": error,
            "draft": draft,
            "max_chars": svc.config.max_body_chars,
        },
        status=400 if error else 200,
    )


@routes.get("/borger/samtaler/{id}", name="pages.citizen.thread")
async def thread_page(request: web.Request) -> web.Response:
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    return await _thread_page(request, who)


@routes.post("/borger/samtaler/{id}/svar", name="pages.citizen.reply")
async def reply(request: web.Request) -> web.Response:
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    form = await request.post()
    body = str(form.get("body", ""))
    conv_id = request.match_info["id"]
    try:
        await citizen.reply(request.app[SERVICES], who, conv_id, body)
    except BadInput as exc:
        return await _thread_page(request, who, error=exc.code, draft=body)
    return redirect(f"/borger/samtaler/{conv_id}", {"sendt": "1"})
