"""Attached files over HTTP: the caseworker's download, and what both sides send back.

``install`` reads the upload limit (``TOVHOLDER_UPLOAD_MAX_BYTES``, refusing a
bad value at start-up) and adds the caseworker's download route. The
citizen's upload and download live with the rest of the secure inbox
(``views_citizen``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from bot.base.appkeys import CONFIG, SERVICES
from bot.domain import attachments
from bot.domain.attachments import Download
from bot.http.pages.page import redirect
from bot.http.pages.views_staff import LOGIN, current_staff

routes = web.RouteTableDef()

UPLOAD_LIMIT = web.AppKey("pages_upload_limit", int)

# A file is never shown as a page of ours: no scripts, no plugins, no framing.
FILE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def install(app: web.Application) -> None:
    app[UPLOAD_LIMIT] = attachments.max_bytes(app[CONFIG].extra)
    app.router.add_routes(routes)


def disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one (RFC 6266 / 5987)."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", filename).strip() or "fil"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(download: Download) -> web.Response:
    """The file as a download (never displayed inline), with its detected type."""
    return web.Response(
        body=download.content,
        headers={
            "Content-Type": download.media_type,
            "Content-Disposition": disposition(download.filename),
            "Content-Security-Policy": FILE_CSP,
            "Cache-Control": "no-store",
        },
    )


@routes.get("/sagsbehandler/samtaler/{id}/filer/{aid}", name="pages.staff.attachment")
async def staff_download(request: web.Request) -> web.Response:
    """A caseworker downloads a file on a thread they may see (logged; 404 otherwise)."""
    who = await current_staff(request)
    if who is None:
        return redirect(LOGIN, {"next": request.path_qs})
    download = await attachments.staff_download(
        request.app[SERVICES],
        who.user,
        request.match_info["id"],
        request.match_info["aid"],
        purpose=f"vedhæftet fil {request.match_info['aid']}",
    )
    return file_response(download)
