"""The family's secure inbox: log in by SMS code, threads from all their cases, reply."""

from __future__ import annotations

import hmac

from aiohttp import BodyPartReader, web

from bot.base import i18n
from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.base.workdays import format_long_date
from bot.domain import attachments, citizen, codes, sessions, tenant_logo
from bot.domain.attachments import Upload, UploadRefused
from bot.domain.citizen import Citizen
from bot.domain.codes import CodeRefused, RateLimited
from bot.domain.person_language import UnsupportedLanguage
from bot.http.clientip import client_ip
from bot.http.pages.page import SETTINGS, Cookie, redirect, render, state
from bot.http.pages.views_attachments import UPLOAD_LIMIT, file_response

routes = web.RouteTableDef()

HOME = "/borger/"
LOGIN = "/borger/log-ind"
CODE = "/borger/log-ind/kode"
FLOW_COOKIE = "tvh_flow"
# An SVG logo opened on its own is a document: it may draw (inline styles), not run.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def current_citizen(request: web.Request) -> Citizen | None:
    s = state(request).session
    if s is None or s.kind != "citizen" or not s.complete or s.phone_index is None:
        return None
    return Citizen(
        tenant_id=s.tenant_id,
        phone_index=s.phone_index,
        assurance=s.assurance,
        person_id=s.person_id,
    )


@routes.get("/borger/logo/{slug}", name="pages.citizen.logo")
async def logo(request: web.Request) -> web.Response:
    """The municipality's logo (public): cached a day, revalidated by its ETag.

    The pages link it with its version (``?v=``), so a new logo shows at once. It is
    served under a CSP that lets an SVG draw and nothing else, should anyone open it.
    """
    found = await tenant_logo.logo_of(request.app[SERVICES], request.match_info["slug"])
    if found is None:
        raise web.HTTPNotFound()
    etag = f'"{found.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=86400",
        "Content-Security-Policy": LOGO_CSP,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.body, content_type=found.content_type, headers=headers)


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
            client_ip=client_ip(request),
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


async def _inbox_page(
    request: web.Request, who: Citizen, *, language_error: bool = False, status: int = 200
) -> web.Response:
    svc = request.app[SERVICES]
    threads = await citizen.threads(svc, who)
    masthead = await citizen.masthead(svc, who)
    return render(
        request,
        "citizen/inbox.html",
        {
            "threads": threads,
            "who": who,
            "municipality": masthead.name,
            "municipality_logo": masthead.logo_url,
            "sms_language": await citizen.sms_language(svc, who),
            "language_error": language_error,
        },
        status=status,
    )


@routes.get(HOME, name="pages.citizen.inbox")
async def inbox_page(request: web.Request) -> web.Response:
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    return await _inbox_page(request, who)


def _back_to(value: object) -> str:
    """Where the language choice returns to: a page of the secure inbox, else its front page."""
    if (
        isinstance(value, str)
        and value.startswith("/borger/")
        and "//" not in value
        and "\\" not in value
        and len(value) <= 200
    ):
        return value
    return HOME


@routes.post("/borger/sprog", name="pages.citizen.language")
async def choose_language(request: web.Request) -> web.Response:
    """The family's language choice: the pages' language and the language of their SMS."""
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    form = await request.post()
    chosen = form.get("lang")
    try:
        await citizen.choose_language(request.app[SERVICES], who, chosen)
    except UnsupportedLanguage:
        return await _inbox_page(request, who, language_error=True, status=422)
    # choose_language has checked it: one of the catalogues' codes.
    state(request).cookies.append(Cookie("tvh_lang", str(chosen), max_age=365 * 24 * 3600))
    return redirect(_back_to(form.get("next")))


async def _thread_page(
    request: web.Request,
    who: Citizen,
    *,
    error: str | None = None,
    draft: str = "",
    status: int | None = None,
) -> web.Response:
    svc = request.app[SERVICES]
    thread = await citizen.thread(svc, who, request.match_info["id"])
    masthead = await citizen.masthead(svc, who)
    limit = request.app[UPLOAD_LIMIT]
    return render(
        request,
        "citizen/thread.html",
        {
            "thread": thread,
            "who": who,
            "municipality": masthead.name,
            "municipality_logo": masthead.logo_url,
            "sent": "sendt" in request.query,
            "error": error,
            "draft": draft,
            "max_chars": svc.config.max_body_chars,
            "accept": attachments.ACCEPT,
            "max_size": attachments.size_text(limit),
            "max_files": attachments.MAX_FILES,
            "on_day": lambda d: format_long_date(d, state(request).language.code),
            "sms_language": await citizen.sms_language(svc, who),
        },
        status=status or (400 if error else 200),
    )


@routes.get("/borger/samtaler/{id}", name="pages.citizen.thread")
async def thread_page(request: web.Request) -> web.Response:
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    return await _thread_page(request, who)


class _CsrfRefused(Exception):
    """The reply form came without the session's CSRF token (or not first)."""


class _BadForm(Exception):
    """A form part we do not expect."""


class _FileRefused(Exception):
    """A file we do not take; the text written so far goes back into the form."""

    def __init__(self, refused: UploadRefused, draft: str) -> None:
        super().__init__(refused.code)
        self.refused, self.draft = refused, draft


def _csrf_ok(request: web.Request, sent: str | None) -> bool:
    st = state(request)
    expected = st.session.csrf if st.session is not None else st.pre_csrf
    return bool(
        sent is not None and expected and hmac.compare_digest(sent.encode(), expected.encode())
    )


async def _field(part: BodyPartReader, limit: int) -> str | None:
    """A text field of at most ``limit`` bytes (None if longer), read in chunks."""
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > limit:
            return None
    return data.decode("utf-8", errors="replace")


async def _file(part: BodyPartReader, limit: int) -> Upload | None:
    """A file part, refused as soon as it is too big or its first bytes are not a type we take.

    None when no file was chosen (browsers send an empty part).
    """
    data = bytearray()
    sniffed = False
    while chunk := await part.read_chunk(65536):
        data += chunk
        if len(data) > limit:
            raise UploadRefused("The file is too large", code="file_too_large", status=413)
        if not sniffed and len(data) >= 64:
            sniffed = True
            if attachments.sniff(bytes(data[:64])) is None:
                raise UploadRefused("Only JPEG, PNG, HEIC and PDF files", code="file_type")
    if not data and not part.filename:
        return None
    return attachments.check(part.filename or "", bytes(data), limit)


async def _reply_form(request: web.Request, body_limit: int) -> tuple[str, list[Upload]]:
    """The reply form, streamed: the CSRF token first, then the text, then up to 3 files.

    Nothing is read past a missing or wrong token, and no file is kept whole
    in memory beyond the upload limit (checked while it arrives).
    """
    if request.content_type != "multipart/form-data":
        form = await request.post()  # a plain form: small, aiohttp's own size limit
        sent = form.get("csrf")
        if not _csrf_ok(request, sent if isinstance(sent, str) else None):
            raise _CsrfRefused
        return str(form.get("body", "")), []
    limit = request.app[UPLOAD_LIMIT]
    reader = await request.multipart()
    checked, body = False, ""
    uploads: list[Upload] = []
    parts = 0
    while (part := await reader.next()) is not None:
        parts += 1
        if not isinstance(part, BodyPartReader) or parts > attachments.MAX_FILES + 3:
            raise _BadForm
        if part.name == "csrf":
            if not _csrf_ok(request, await _field(part, 256)):
                raise _CsrfRefused
            checked = True
        elif not checked:
            raise _CsrfRefused
        elif part.name == "body":
            text = await _field(part, body_limit)
            if text is None:
                raise BadInput("The message is too long", code="body_too_long")
            body = text
        elif part.name == "file":
            try:
                upload = await _file(part, limit)
                if upload is not None and len(uploads) >= attachments.MAX_FILES:
                    raise UploadRefused("Too many files", code="too_many_files")
            except UploadRefused as exc:
                raise _FileRefused(exc, body) from exc
            if upload is not None:
                uploads.append(upload)
        else:
            raise _BadForm
    if not checked:
        raise _CsrfRefused
    return body, uploads


@routes.post("/borger/samtaler/{id}/svar", name="pages.citizen.reply")
async def reply(request: web.Request) -> web.Response:
    """The family's answer, with photos or PDFs (multipart, streamed; see page.OWN_CSRF)."""
    svc = request.app[SERVICES]
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)  # before reading a byte of the upload
    try:
        # UTF-8 takes at most four bytes a character; the length in characters is checked later.
        body, uploads = await _reply_form(request, svc.config.max_body_chars * 4 + 16)
    except _CsrfRefused:
        return render(request, "error.html", {"error": "csrf"}, status=403)
    except _BadForm:
        return render(request, "error.html", {"error": "bad"}, status=400)
    except _FileRefused as exc:
        return await _thread_page(
            request, who, error=exc.refused.code, draft=exc.draft, status=exc.refused.status
        )
    except BadInput as exc:
        return await _thread_page(request, who, error=exc.code)
    conv_id = request.match_info["id"]
    try:
        await citizen.reply(svc, who, conv_id, body, uploads)
    except BadInput as exc:
        return await _thread_page(request, who, error=exc.code, draft=body)
    return redirect(f"/borger/samtaler/{conv_id}", {"sendt": "1"})


@routes.get("/borger/samtaler/{id}/filer/{aid}", name="pages.citizen.attachment")
async def attachment(request: web.Request) -> web.Response:
    """A file the family attached themselves (404 for anyone else's)."""
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    download = await citizen.download(
        request.app[SERVICES], who, request.match_info["id"], request.match_info["aid"]
    )
    return file_response(download)


@routes.get("/borger/samtaler/{id}/moeder/{appt}.ics", name="pages.citizen.ics")
async def meeting_ics(request: web.Request) -> web.Response:
    """ "Føj til kalender": the appointment as an .ics file (404 if not theirs)."""
    who = current_citizen(request)
    if who is None:
        return redirect(LOGIN)
    body = await citizen.appointment_ics(
        request.app[SERVICES],
        who,
        request.match_info["id"],
        request.match_info["appt"],
        state(request).translations,
    )
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'attachment; filename="moede.ics"',
        },
    )
