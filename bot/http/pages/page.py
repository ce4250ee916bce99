"""What every page request goes through: session, language, CSRF, headers, errors.

The middleware acts only on this package's routes (names starting ``pages.``,
or paths under ``/borger`` and ``/sagsbehandler``): the JSON API and the
webhooks share the app and keep their own rules.

- Session: the cookie's token is looked up server-side (``sessions.load``).
- CSRF: every POST must carry the form field ``csrf``; it must equal the
  session's token, or, before login, the double-submit cookie's value.
  Anything else is refused (403) before the view runs.
- Headers: a strict Content-Security-Policy (scripts, styles and fonts only
  from our own origin; no inline script, no eval), no framing, no sniffing, no
  referrer leaving the site, no caching of pages with personal data.
- Errors: a domain "not found" is a 404 page; no internals are shown.
"""

from __future__ import annotations

import gettext
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy

from bot.base import i18n
from bot.base.appkeys import SERVICES
from bot.base.clock import COPENHAGEN
from bot.base.errors import ApiError
from bot.base.pagesettings import WebSettings
from bot.base.phones import grouped
from bot.base.workdays import format_long_date, format_time
from bot.domain import sessions
from bot.domain.sessions import WebSession
from bot.http.middleware import REQUEST_ID

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

JINJA = web.AppKey("pages_jinja", jinja2.Environment)
SETTINGS = web.AppKey("pages_settings", WebSettings)
CATALOGUES = web.AppKey("pages_catalogues", dict)

STATIC_PREFIX = "/static/pages"
# Routes that stream their own multipart body (uploads, size-limited while reading)
# and check the CSRF token themselves before reading any file: see views_citizen.
OWN_CSRF = frozenset({"pages.citizen.reply", "pages.staff.compose_post"})
PAGE_PREFIXES = ("/borger", "/sagsbehandler")

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@dataclass
class Cookie:
    name: str
    value: str | None  # None: delete
    max_age: int | None = None


@dataclass
class PageState:
    """Per request: who, which language, which CSRF token, and cookies to set."""

    settings: WebSettings
    session: WebSession | None = None
    pre_csrf: str | None = None
    language: i18n.Language = field(default_factory=lambda: i18n.LANGUAGES[i18n.DEFAULT])
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)
    cookies: list[Cookie] = field(default_factory=list)

    def cookie_name(self, base: str) -> str:
        # __Host-: only over https, only this host, Path=/ (browsers enforce it).
        return f"__Host-{base}" if self.settings.secure_cookies else base

    @property
    def csrf(self) -> str:
        if self.session is not None:
            return self.session.csrf
        if self.pre_csrf is None:
            self.pre_csrf = secrets.token_urlsafe(32)
            self.cookies.append(Cookie("tvh_csrf", self.pre_csrf))
        return self.pre_csrf

    def start_session(self, token: str, session: WebSession) -> None:
        self.session = session
        self.cookies.append(Cookie("tvh_session", token))

    def end_session(self) -> None:
        self.session = None
        self.cookies.append(Cookie("tvh_session", None))

    def _(self, message: str, **values: Any) -> str:
        return i18n.translate(self.translations, message, **values)


STATE = web.RequestKey("pages_state", PageState)


def state(request: web.Request) -> PageState:
    return request[STATE]


def _is_page(request: web.Request) -> bool:
    name = request.match_info.route.name or ""
    if name.startswith("pages."):
        return True
    return request.path.startswith(PAGE_PREFIXES)


def redirect(location: str, query: Mapping[str, str] | None = None) -> web.Response:
    """A 303 See Other (after a POST the browser GETs the new page)."""
    if query:
        location = f"{location}?{urlencode(dict(query))}"
    return web.Response(status=303, headers={"Location": location})


# Babel formats a date or a time in tens of microseconds; a list of 250 threads
# asks for 500 of them. Dates and minutes repeat, so their words are kept.
@lru_cache(maxsize=4096)
def _long_date(d: date, lang: str) -> str:
    return format_long_date(d, lang)


@lru_cache(maxsize=4096)
def _clock(minute: datetime, lang: str) -> str:
    return format_time(minute, lang)


def when(value: datetime | None, lang: str = "da", now: datetime | None = None) -> str:
    """ "14:02" today, otherwise "fredag den 21. februar 14:02" (Copenhagen time)."""
    if value is None:
        return ""
    local = value.astimezone(COPENHAGEN)
    time = _clock(local.replace(second=0, microsecond=0), lang)
    if now is not None and now.astimezone(COPENHAGEN).date() == local.date():
        return time
    return f"{_long_date(local.date(), lang)} {time}"


def day(value: datetime | None, lang: str = "da") -> str:
    """ "tirsdag den 25. februar" (the Copenhagen date of an instant)."""
    if value is None:
        return ""
    return _long_date(value.astimezone(COPENHAGEN).date(), lang)


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    st = state(request)
    svc = request.app[SERVICES]
    now = svc.clock.now()
    base = {
        "csrf": st.csrf,
        "lang": st.language,
        "languages": list(i18n.LANGUAGES.values()),
        "translations": st.translations,
        "static": lambda path: f"{STATIC_PREFIX}/{path}",
        "now": now,
        "when": lambda value: when(value, st.language.code, now),
        "day": lambda value: day(value, st.language.code),
        # Isolate names and case numbers from the page's direction (Arabic is right-to-left).
        "bdi": lambda value: Markup("<bdi>%s</bdi>") % value,
        "phone_text": grouped,
        "request_path": request.path,
        "error": None,
    }
    base.update(context)
    return aiohttp_jinja2.render_template(template, request, base, app_key=JINJA, status=status)


def _language(request: web.Request, st: PageState) -> None:
    catalogues: dict[str, gettext.NullTranslations] = request.app[CATALOGUES]
    asked = request.query.get("lang")
    if asked in i18n.LANGUAGES:
        st.cookies.append(Cookie("tvh_lang", asked, max_age=365 * 24 * 3600))
    chosen = i18n.pick(asked if asked in i18n.LANGUAGES else None, _cookie(request, st, "tvh_lang"))
    if not request.path.startswith("/borger"):
        chosen = i18n.LANGUAGES[i18n.DEFAULT]  # staff pages are Danish
    st.language = chosen
    st.translations = catalogues.get(chosen.code, gettext.NullTranslations())


def _cookie(request: web.Request, st: PageState, base: str) -> str | None:
    return request.cookies.get(st.cookie_name(base))


def apply_headers(response: web.StreamResponse, st: PageState) -> None:
    """Security headers and pending cookies; call before ``prepare`` on a stream."""
    if response.prepared:
        return
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Cache-Control", "no-store")
    for c in st.cookies:
        name = st.cookie_name(c.name)
        if c.value is None:
            response.del_cookie(
                name, path="/", secure=st.settings.secure_cookies, httponly=True, samesite="Lax"
            )
        else:
            response.set_cookie(
                name,
                c.value,
                path="/",
                max_age=c.max_age,
                secure=st.settings.secure_cookies,
                httponly=True,
                samesite="Lax",
            )


async def _form(request: web.Request) -> MultiDictProxy[str | Any]:
    return await request.post()


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_page(request):
        return await handler(request)
    if request.match_info.route.name == "pages.static":
        asset = await handler(request)
        for key, value in SECURITY_HEADERS.items():
            asset.headers.setdefault(key, value)
        return asset
    settings = request.app[SETTINGS]
    st = PageState(settings=settings)
    request[STATE] = st
    st.pre_csrf = _cookie(request, st, "tvh_csrf")
    _language(request, st)
    try:
        st.session = await sessions.load(
            request.app[SERVICES], settings, _cookie(request, st, "tvh_session")
        )
        if request.method == "POST" and request.match_info.route.name not in OWN_CSRF:
            form = await _form(request)
            sent = form.get("csrf")
            expected = st.session.csrf if st.session is not None else st.pre_csrf
            if not (
                isinstance(sent, str)
                and expected
                and hmac.compare_digest(sent.encode(), expected.encode())
            ):
                refused = render(request, "error.html", {"error": "csrf"}, status=403)
                apply_headers(refused, st)
                return refused
        response = await handler(request)
    except ApiError as exc:
        if exc.status >= 500:
            log.warning("page %s: %s", request[REQUEST_ID], exc.code)
        kind = "not_found" if exc.status == 404 else "unavailable" if exc.status >= 500 else "bad"
        response = render(request, "error.html", {"error": kind}, status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = "not_found" if exc.status == 404 else "bad"
        response = render(request, "error.html", {"error": kind}, status=exc.status)
    except Exception:
        log.exception("page request %s failed", request[REQUEST_ID])
        response = render(request, "error.html", {"error": "internal"}, status=500)
    apply_headers(response, st)
    return response
