"""The OpenID Connect login pages, and the notice link from an SMS (``/b/<token>``).

- ``/sagsbehandler/log-ind/oidc``: a caseworker logs in at the municipality's
  identity provider; back at ``…/oidc/svar``.
- ``/borger/log-ind/mitid``: a citizen logs in with MitID through the broker;
  back at ``…/mitid/svar``.
- ``/b/<token>``: the link in an SMS notice (``bot.domain.privacy``). It is spent
  once; the browser remembers which thread it points to (a cookie) and goes
  to the login. After MitID at level substantial the citizen lands on the
  message; after an SMS code (or MitID at a low level) the pages say that the
  message needs MitID.

- ``/sagsbehandler/log-ud/oidc`` and ``/borger/log-ud/mitid`` (POST): log out here
  first, then at the provider (RP-initiated logout, ``bot.domain.identity_session``)
  when the session came from it (through a small page that refreshes to it: see
  ``_onward``); back at the login page with ``logget_ud=1``.

A refused login is a plain page with a stable code; no session is made. A
refusal after the provider answered is journalised (the reason, no personal
data). Starting a login is rate-limited per client address: over the limit,
a plain Danish 429 page and no flow row.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.base import i18n
from bot.base.appkeys import CONFIG, HTTP, SERVICES
from bot.domain import citizen, sessions
from bot.domain import identity as oidc
from bot.domain import identity_rp as rp
from bot.domain import identity_session as around
from bot.domain.identity import MITID, STAFF, OidcRefused, OidcSettings, Provider
from bot.domain.identity_rp import OidcClient
from bot.domain.identity_session import StartLimiter, start_allowed
from bot.domain.privacy import LinkError, follow_link
from bot.domain.sessions import WebSession
from bot.http.clientip import client_ip
from bot.http.pages.page import Cookie, redirect, render, state

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

STAFF_HOME = "/sagsbehandler/"
STAFF_START = "/sagsbehandler/log-ind/oidc"
STAFF_CALLBACK = "/sagsbehandler/log-ind/oidc/svar"
STAFF_LOGIN = "/sagsbehandler/log-ind"
STAFF_LOGOUT = "/sagsbehandler/log-ud/oidc"
CITIZEN_HOME = "/borger/"
CITIZEN_LOGIN = "/borger/log-ind"
MITID_START = "/borger/log-ind/mitid"
MITID_CALLBACK = "/borger/log-ind/mitid/svar"
MITID_LOGOUT = "/borger/log-ud/mitid"
STATE_COOKIE = "tvh_oidc"
# The ID token, sealed, for id_token_hint at logout; as long as a session can live.
HINT_COOKIE = "tvh_idt"
HINT_MAX_AGE = 12 * 3600
# Browsers keep cookies up to about 4 KB: a bigger sealed token is not kept (the
# logout then names only client_id, which RP-Initiated Logout 1.0 allows).
HINT_MAX_LEN = 3800
TOO_MANY = (
    "For mange forsøg på at logge ind fra din adresse på kort tid. "
    "Vent et par minutter, og prøv så igen."
)
NOTICE_COOKIE = "tvh_notice"
NOTICE_PREFIX = "/borger/samtaler/"


@dataclass
class OidcState:
    settings: OidcSettings
    client: OidcClient | None = None
    limiter: StartLimiter | None = None

    def starts(self) -> StartLimiter:
        """The per-address limit on login starts (made on first use)."""
        if self.limiter is None:
            count, window = self.settings.start_limit
            self.limiter = StartLimiter(limit=count, window=window)
        return self.limiter


OIDC = web.AppKey("pages_oidc", OidcState)


def _client(request: web.Request) -> OidcClient:
    holder = request.app[OIDC]
    if holder.client is None:
        holder.client = OidcClient(http=request.app[HTTP])
    return holder.client


def _provider(request: web.Request, name: str) -> Provider:
    provider = request.app[OIDC].settings.get(name)
    if provider is None:
        raise web.HTTPNotFound()
    return provider


def _safe_staff_next(value: str | None) -> str:
    if value and value.startswith(STAFF_HOME) and "//" not in value and "\\" not in value:
        return value
    return STAFF_HOME


def _safe_notice(value: str | None) -> str | None:
    if (
        value
        and value.startswith(NOTICE_PREFIX)
        and len(value) <= 100
        and "//" not in value
        and "\\" not in value
        and "?" not in value
    ):
        return value
    return None


# The request being answered, for the templates' helpers below (render() passes no request).
_REQUEST: ContextVar[web.Request | None] = ContextVar("pages_request", default=None)


@web.middleware
async def current_request(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    token = _REQUEST.set(request)
    try:
        return await handler(request)
    finally:
        _REQUEST.reset(token)


def notice_waiting() -> bool:
    """Did this browser come from an SMS notice whose message is not shown yet? (templates)"""
    request = _REQUEST.get()
    if request is None:
        return False
    st = state(request)
    return _safe_notice(request.cookies.get(st.cookie_name(NOTICE_COOKIE))) is not None


def query_has(name: str) -> bool:
    """Is ``name`` in the page's query string? (templates)"""
    request = _REQUEST.get()
    return request is not None and name in request.query


def _refused(request: web.Request, exc: OidcRefused) -> web.Response:
    st = state(request)
    st.cookies.append(Cookie(STATE_COOKIE, None))
    log.info("oidc login refused: %s", exc.code)
    return render(request, "oidc_refused.html", {"code": exc.code}, status=exc.status)


async def _begin(
    request: web.Request,
    provider: Provider,
    callback: str,
    *,
    tenant_id: str | None = None,
    next_path: str | None = None,
) -> web.Response:
    svc = request.app[SERVICES]
    wait = await start_allowed(svc, request.app[OIDC].starts(), client_ip(request))
    if wait is not None:
        log.info("oidc login start refused: rate limit (%s)", provider.name)
        return web.Response(
            status=429,
            text=TOO_MANY,
            content_type="text/plain",
            charset="utf-8",
            headers={"Retry-After": str(wait)},
        )
    try:
        started = await oidc.start(
            svc,
            _client(request),
            provider,
            redirect_uri=request.app[CONFIG].public_base_url + callback,
            tenant_id=tenant_id,
            next_path=next_path,
        )
    except OidcRefused as exc:
        return _refused(request, exc)
    state(request).cookies.append(
        Cookie(STATE_COOKIE, started.state, max_age=int(oidc.FLOW_LIFETIME.total_seconds()))
    )
    return web.Response(status=303, headers={"Location": started.url})


async def _finish(request: web.Request, provider: Provider, callback: str) -> oidc.Flow:
    """Check the answer from the provider; the flow and the verified claims."""
    st = state(request)
    q = request.query
    flow = await oidc.take_flow(
        request.app[SERVICES],
        provider.name,
        q.get("state", ""),
        request.cookies.get(st.cookie_name(STATE_COOKIE)),
    )
    st.cookies.append(Cookie(STATE_COOKIE, None))
    if "error" in q:
        raise OidcRefused("cancelled" if q["error"] == "access_denied" else "idp_error")
    if q.get("iss") and q["iss"].rstrip("/") != provider.issuer:
        raise OidcRefused("issuer")  # RFC 9207: a mix-up between providers
    if not q.get("code"):
        raise OidcRefused("idp_error")
    return flow


@dataclass(frozen=True)
class _Answer:
    """The provider's verified answer: the raw ID token (for logout) and its claims."""

    id_token: str
    claims: dict[str, Any]


async def _claims(
    request: web.Request, provider: Provider, callback: str, flow: oidc.Flow
) -> _Answer:
    client = _client(request)
    tokens = await rp.exchange(
        client,
        provider,
        code=request.query["code"],
        redirect_uri=request.app[CONFIG].public_base_url + callback,
        verifier=flow.code_verifier,
    )
    claims = await rp.login_claims(request.app[SERVICES], client, provider, tokens, flow.nonce)
    return _Answer(tokens.id_token, claims)


# Refusals that say nothing about who came back (the provider down) are not journalised.
_NOT_RECORDED = frozenset({"unavailable"})


async def _refused_after(
    request: web.Request, provider: Provider, flow: oidc.Flow, exc: OidcRefused
) -> web.Response:
    """A refusal after the provider answered: journalised (the reason only), then the page."""
    if exc.code not in _NOT_RECORDED:
        await around.record_refusal(
            request.app[SERVICES], provider=provider, tenant_id=flow.tenant_id, code=exc.code
        )
    return _refused(request, exc)


def _keep_hint(request: web.Request, session: WebSession, id_token: str) -> None:
    """Keep the ID token (sealed) in the browser for ``id_token_hint`` at logout."""
    st = state(request)
    sealed = around.seal_hint(request.app[SERVICES], session.id, id_token)
    if len(sealed) <= HINT_MAX_LEN:
        st.cookies.append(Cookie(HINT_COOKIE, sealed, max_age=HINT_MAX_AGE))
    else:
        st.cookies.append(Cookie(HINT_COOKIE, None))


# -- caseworkers -----------------------------------------------------------------


@routes.get(STAFF_START, name="pages.staff.oidc")
async def staff_start(request: web.Request) -> web.Response:
    provider = _provider(request, STAFF)
    nxt = _safe_staff_next(request.query.get("next"))
    return await _begin(request, provider, STAFF_CALLBACK, next_path=nxt)


@routes.get(STAFF_CALLBACK, name="pages.staff.oidc_callback")
async def staff_callback(request: web.Request) -> web.Response:
    provider = _provider(request, STAFF)
    svc, st = request.app[SERVICES], state(request)
    try:
        flow = await _finish(request, provider, STAFF_CALLBACK)
    except OidcRefused as exc:
        return _refused(request, exc)
    try:
        answer = await _claims(request, provider, STAFF_CALLBACK, flow)
        tenant_id, staff_id = await oidc.staff_for(svc, provider, answer.claims)
    except OidcRefused as exc:
        return await _refused_after(request, provider, flow, exc)
    if st.session is not None:
        await sessions.end(svc, st.session.id)
    token, session = await sessions.create(
        svc,
        tenant_id=tenant_id,
        kind="staff",
        stage="full",
        assurance=oidc.STAFF_OIDC,
        staff_id=staff_id,
    )
    st.start_session(token, session)
    _keep_hint(request, session, answer.id_token)
    return redirect(_safe_staff_next(flow.next_path))


# -- citizens --------------------------------------------------------------------


@routes.get(MITID_START, name="pages.citizen.mitid")
async def mitid_start(request: web.Request) -> web.Response:
    provider = _provider(request, MITID)
    svc = request.app[SERVICES]
    slug = request.query.get("kommune", "")
    tenant_id = await citizen.municipality_id(svc, slug) if slug else None
    return await _begin(request, provider, MITID_CALLBACK, tenant_id=tenant_id)


@routes.get(MITID_CALLBACK, name="pages.citizen.mitid_callback")
async def mitid_callback(request: web.Request) -> web.Response:
    provider = _provider(request, MITID)
    svc, st = request.app[SERVICES], state(request)
    try:
        flow = await _finish(request, provider, MITID_CALLBACK)
    except OidcRefused as exc:
        return _refused(request, exc)
    broker = provider.claims
    try:
        answer = await _claims(request, provider, MITID_CALLBACK, flow)
        # The eID and the level first: a refusal for them needs no look-up of a person.
        oidc.check_scheme(answer.claims, broker)
        level = oidc.level_of(answer.claims, broker)
        who = await oidc.person_for(svc, answer.claims, flow.tenant_id, broker)
    except OidcRefused as exc:
        return await _refused_after(request, provider, flow, exc)
    if st.session is not None:
        await sessions.end(svc, st.session.id)
    token, session = await sessions.create(
        svc,
        tenant_id=who.tenant_id,
        kind="citizen",
        stage="full",
        assurance=level,
        phone_index=who.phone_index or "",
        person_id=who.person_id,
    )
    st.start_session(token, session)
    # No id_token_hint for families: a MitID token names the CPR number, and the
    # hint would travel in the logout URL into the browser's history (a shared
    # family computer). The logout sends client_id alone, which the spec allows.
    if request.cookies.get(st.cookie_name("tvh_lang")) is None:
        if who.language in i18n.LANGUAGES and who.language != i18n.DEFAULT:
            st.cookies.append(Cookie("tvh_lang", who.language, max_age=365 * 24 * 3600))
    target = _safe_notice(request.cookies.get(st.cookie_name(NOTICE_COOKIE)))
    if target is not None and level == oidc.SUBSTANTIAL:
        st.cookies.append(Cookie(NOTICE_COOKIE, None))
    # At a low level the thread itself says that the message needs MitID.
    return redirect(target or CITIZEN_HOME)


# -- logging out, here and at the provider -------------------------------------------


def _came_from(session: WebSession, name: str) -> bool:
    """Was this session made by a login at provider ``name``?"""
    if name == STAFF:
        return session.kind == "staff" and session.assurance == oidc.STAFF_OIDC
    return session.kind == "citizen" and session.assurance in (oidc.SUBSTANTIAL, oidc.LOW)


async def _logout(request: web.Request, name: str, login_path: str) -> web.Response:
    """End our session first; then, if it came from the provider, log out there too."""
    svc, st = request.app[SERVICES], state(request)
    session = st.session
    sealed = request.cookies.get(st.cookie_name(HINT_COOKIE))
    if session is not None:
        await sessions.end(svc, session.id)
        st.end_session()
    st.cookies.append(Cookie(HINT_COOKIE, None))
    provider = request.app[OIDC].settings.get(name)
    if session is None or provider is None or not _came_from(session, name):
        return redirect(login_path, {"logget_ud": "1"})
    url = await around.logout_url(
        _client(request),
        provider,
        id_token=around.open_hint(svc, session.id, sealed),
        post_logout_redirect_uri=f"{request.app[CONFIG].public_base_url}{login_path}?logget_ud=1",
    )
    if url is None:
        return redirect(login_path, {"logget_ud": "1"})
    return _onward(url)


def _onward(url: str) -> web.Response:
    """A page that sends the browser on to the provider's logout.

    Not a redirect: the logout is a form POST, and our pages' CSP (``form-action
    'self'``) stops a form's redirect to another origin. A refresh from a page of
    our own is a new navigation; the link is there for a browser that does not
    follow it.
    """
    target = html.escape(url, quote=True)
    body = f"""<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0;url={target}">
<title>Du er logget ud</title>
</head>
<body>
<main>
<h1>Du er logget ud her</h1>
<p><a href="{target}">Fortsæt for at logge ud hos login-tjenesten også</a></p>
</main>
</body>
</html>"""
    return web.Response(text=body, content_type="text/html", charset="utf-8")


@routes.post(STAFF_LOGOUT, name="pages.staff.oidc_logout")
async def staff_logout(request: web.Request) -> web.Response:
    return await _logout(request, STAFF, STAFF_LOGIN)


@routes.post(MITID_LOGOUT, name="pages.citizen.mitid_logout")
async def mitid_logout(request: web.Request) -> web.Response:
    return await _logout(request, MITID, CITIZEN_LOGIN)


# -- the link in an SMS notice -----------------------------------------------------


@routes.get("/b/{token}", name="pages.citizen.notice")
async def notice_link(request: web.Request) -> web.Response:
    svc, st = request.app[SERVICES], state(request)
    token = request.match_info["token"]
    now = svc.clock.now()
    try:
        async with svc.write() as conn:
            found = await follow_link(conn, token, now)
        conv_id, slug = found.conversation_id, found.tenant_slug
    except LinkError as exc:
        # Used, expired or unknown: the same friendly way in, without saying which.
        log.info("notice link refused: %s", exc.reason)
        return redirect(CITIZEN_LOGIN, {"link": "brugt"})
    target = f"{NOTICE_PREFIX}{conv_id}" if conv_id else CITIZEN_HOME
    session = st.session
    logged_in = session is not None and session.kind == "citizen" and session.complete
    strong = logged_in and session is not None and session.assurance == oidc.SUBSTANTIAL
    if conv_id and not strong:
        # Remembered until a MitID login at "substantial" comes back for it.
        st.cookies.append(Cookie(NOTICE_COOKIE, target, max_age=3600))
    if logged_in:
        return redirect(target)
    return redirect(CITIZEN_LOGIN, {"kommune": slug, "besked": "1"})
