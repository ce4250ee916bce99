"""Plugs the web pages into the app (listed in ``bot.app.FEATURES``).

``install`` adds the routes, the static files, the Jinja environment and the
pages' middleware (which only acts on the pages' own routes); ``start`` adds
an hourly clean-up of spent sessions and one-time codes.
"""

from __future__ import annotations

import asyncio

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.base import i18n
from bot.base.appkeys import CONFIG
from bot.base.pagesettings import WebSettings
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.domain import identity as oidc
from bot.domain import sessions
from bot.http.pages import (
    STATIC,
    TEMPLATES,
    live,
    views_attachments,
    views_cases,
    views_citizen,
    views_compose,
    views_consent,
    views_filing,
    views_lead,
    views_letters,
    views_oidc,
    views_root,
    views_settings,
    views_staff,
    views_tasks,
    views_teach,
)
from bot.http.pages.page import CATALOGUES, JINJA, SETTINGS, STATIC_PREFIX, pages_middleware


def environment(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(
        app,
        app_key=JINJA,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
    )
    env.globals.update(_=i18n.gettext, gettext=i18n.gettext, ngettext=i18n.ngettext)
    return env


def install(app: web.Application) -> None:
    app[SETTINGS] = WebSettings.from_config(app[CONFIG])
    app[CATALOGUES] = i18n.load_catalogues()
    app[live.STOPPING] = asyncio.Event()
    app[views_oidc.OIDC] = views_oidc.OidcState(oidc.OidcSettings.from_config(app[CONFIG]))
    env = environment(app)
    env.globals.update(
        oidc=app[views_oidc.OIDC].settings,
        notice_waiting=views_oidc.notice_waiting,
        query_has=views_oidc.query_has,
    )
    app.middlewares.append(views_oidc.current_request)
    app.middlewares.append(pages_middleware)
    app.router.add_routes(views_root.routes)
    app.router.add_routes(views_staff.routes)
    app.router.add_routes(views_settings.routes)
    for desk in (
        views_cases,
        views_compose,
        views_tasks,
        views_filing,
        views_lead,
        views_consent,
        views_teach,
    ):
        app.router.add_routes(desk.routes)
    views_letters.install(app)  # the decision guard's offer: an afgørelse as a letter
    app.router.add_routes(live.routes)
    app.router.add_routes(views_citizen.routes)
    app.router.add_routes(views_oidc.routes)
    views_attachments.install(app)  # the upload limit, and the staff download
    app.router.add_static(STATIC_PREFIX, STATIC, name="pages.static", append_version=False)
    app.on_shutdown.append(live.on_shutdown)


def start(app: web.Application, svc: Services, ticker: Ticker) -> None:
    """Hourly: delete sessions and one-time codes nobody can use any more."""
    settings = app[SETTINGS]
    ticker.every("web-sessions-purge", 3600.0, lambda: sessions.purge(svc, settings))
    ticker.every("web-oidc-purge", 3600.0, lambda: oidc.purge(svc))
