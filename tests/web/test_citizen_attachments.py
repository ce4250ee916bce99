"""The family attaches photos and PDFs; the caseworker downloads them (logged); bad files refused."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import FormData
from fpdf import FPDF
from PIL import Image
from sqlalchemy import func, select

from bot.base.config import ConfigError
from bot.domain import attachments
from bot.domain.accounts import set_credentials
from bot.domain.directory import create_administration, create_staff, create_team, create_tenant
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import access_log, journal_entries, messages
from scheduler.store import conversation_for
from tests.harness import Stack, start_stack
from tests.web.conftest import (
    FRIDAY_MORNING,
    PASSWORD,
    Login,
    citizen_login,
    csrf_of,
    staff_login,
)

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def jpeg() -> bytes:
    """A real (tiny) JPEG photo."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def big_jpeg() -> bytes:
    """A real photo of noise: far larger than the app's 64 KiB limit on other requests."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(buf, "PNG")
    return buf.getvalue()


def pdf() -> bytes:
    """A real one-page PDF."""
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="Lægeerklæring")
    return bytes(doc.output())


# The start of an iPhone photo: an ISO BMFF "ftyp" box with the HEIC brand.
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


async def anna_thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, her kommer papirerne.")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def bo_threads(stack: Stack) -> dict[str, str]:
    """Bo's two threads (children's case, jobcentre case), by case key."""
    result = {}
    async with stack.svc.write() as c:
        for case in ("bo_children", "bo_jobs"):
            result[case] = await conversation_for(
                c,
                tenant_id=stack.world.tenant_id,
                case_id=stack.world.cases[case],
                person_id=stack.world.persons["bo"],
                at=stack.clock.now(),
            )
    return result


def upload_form(csrf: str | None, body: str, *files: tuple[str, bytes, str]) -> FormData:
    form = FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field("body", body)
    for name, content, ctype in files:
        form.add_field("file", content, filename=name, content_type=ctype)
    return form


async def send(
    stack: Stack, conv: str, body: str, *files: tuple[str, bytes, str], csrf: str | None = ""
) -> Any:
    """GET the thread, then POST the reply form as a browser does (multipart, CSRF first)."""
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    token = csrf_of(html) if csrf == "" else csrf
    return await stack.client.post(
        f"/borger/samtaler/{conv}/svar",
        data=upload_form(token, body, *files),
        allow_redirects=False,
    )


async def count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def written(stack: Stack) -> tuple[int, int, int]:
    return (
        await count(stack, messages, messages.c.kind == "citizen"),
        await count(stack, message_attachments),
        # (Delivery reports of the login SMS are journalised meanwhile: count only ours.)
        await count(stack, journal_entries, journal_entries.c.kind.in_(["web_in", "attachment"])),
    )


async def test_family_attaches_a_photo_and_a_pdf_and_the_caseworker_downloads(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Sealed at rest, journalised with the checksum, shown to both sides, downloads logged."""
    conv = await anna_thread(stack)
    await citizen_login(stack, stack.world.phones["anna"])
    photo, paper = big_jpeg(), pdf()
    assert len(photo) > 150_000
    resp = await send(
        stack,
        conv,
        "Her er billedet og lægeerklæringen.",
        # The browser's name and content type are ignored: the content decides.
        ("IMG_0042.jpg", photo, "application/octet-stream"),
        ("lægeerklæring.pdf", paper, "image/png"),
    )
    assert resp.status == 303, await resp.text()
    async with stack.svc.read() as c:
        rows = (
            await c.execute(select(message_attachments).order_by(message_attachments.c.size))
        ).all()
        subjects = list(
            (
                await c.execute(
                    select(journal_entries.c.subject).where(journal_entries.c.kind == "attachment")
                )
            ).scalars()
        )
    assert [r.media_type for r in rows] == ["image/jpeg", "application/pdf"] or [
        r.media_type for r in rows
    ] == ["application/pdf", "image/jpeg"]
    for r in rows:
        assert b"Laegeerkl" not in r.content_enc and photo[:32] not in r.content_enc
        assert b"IMG_0042" not in r.filename_enc and r.key_scope == "case"
    digests = {hashlib.sha256(photo).hexdigest(), hashlib.sha256(paper).hexdigest()}
    assert {r.sha256 for r in rows} == digests
    assert len(subjects) == 2 and all(
        any(d in s for d in digests) and s.startswith("Vedhæftet fil fra borger") for s in subjects
    )

    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "IMG_0042.jpg" in html and "lægeerklæring.pdf" in html
    by_type = {r.media_type: r.id for r in rows}
    own = await stack.client.get(f"/borger/samtaler/{conv}/filer/{by_type['application/pdf']}")
    assert own.status == 200 and await own.read() == paper
    assert own.headers["Content-Type"] == "application/pdf"
    assert own.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in own.headers["Content-Security-Policy"]
    assert own.headers["X-Content-Type-Options"] == "nosniff"

    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["mette"])
    before = await count(stack, access_log, access_log.c.action == "download")
    got = await stack.client.get(f"/sagsbehandler/samtaler/{conv}/filer/{by_type['image/jpeg']}")
    assert got.status == 200 and await got.read() == photo
    assert got.headers["Content-Type"] == "image/jpeg"
    assert 'filename="IMG_0042.jpg"' in got.headers["Content-Disposition"]
    async with stack.svc.read() as c:
        log = (await c.execute(select(access_log).where(access_log.c.action == "download"))).all()
    assert len(log) == before + 1
    assert log[-1].staff_id == stack.world.mette and log[-1].case_id == stack.world.cases["anna"]
    assert by_type["image/jpeg"] in log[-1].purpose


async def test_wrong_type_and_too_big_are_refused_plainly_and_nothing_is_written(
    small: Stack,
) -> None:
    """A web page named .jpg is a 400, a file over the limit a 413: a plain message, no rows."""
    stack = small
    conv = await anna_thread(stack)
    await citizen_login(stack, stack.world.phones["anna"])
    before = await written(stack)
    html_page = b"<html><script>alert(1)</script></html>" * 4
    resp = await send(stack, conv, "Se billedet", ("foto.jpg", html_page, "image/jpeg"))
    assert resp.status == 400
    text = await resp.text()
    assert "Du kan kun sende billeder (JPEG, PNG, HEIC) og PDF-filer." in text
    assert "Se billedet" in text  # the text they wrote is kept in the form
    big = jpeg() + b"\x00" * 5000  # JPEG magic, over the 4 KiB limit of this stack
    resp = await send(stack, conv, "Stor fil", ("stor.jpg", big, "image/jpeg"))
    assert resp.status == 413
    assert "Filen er for stor. En fil må højst fylde <bdi>4 kB</bdi>." in await resp.text()
    four = [(f"{i}.png", png(), "image/png") for i in range(4)]
    resp = await send(stack, conv, "Mange", *four)
    assert resp.status == 400 and "Du kan højst sende 3 filer ad gangen." in await resp.text()
    resp = await send(stack, conv, "", ("tom.pdf", b"", "application/pdf"))
    assert resp.status == 400
    assert await written(stack) == before

    await stack.client.get(f"/borger/samtaler/{conv}?lang=en")
    resp = await send(stack, conv, "Photo", ("photo.jpg", html_page, "image/jpeg"))
    assert resp.status == 400
    assert "You can only send pictures (JPEG, PNG, HEIC) and PDF files." in await resp.text()
    assert await written(stack) == before


async def test_upload_without_its_csrf_token_first_is_refused(stack: Stack) -> None:
    """No token, a wrong one, or a file before the token: 403 and nothing written."""
    conv = await anna_thread(stack)
    await citizen_login(stack, stack.world.phones["anna"])
    before = await written(stack)
    photo = ("a.jpg", jpeg(), "image/jpeg")
    assert (await send(stack, conv, "Hej", photo, csrf=None)).status == 403
    assert (await send(stack, conv, "Hej", photo, csrf="forged")).status == 403
    token = csrf_of(await (await stack.client.get(f"/borger/samtaler/{conv}")).text())
    late = FormData()
    late.add_field("file", jpeg(), filename="a.jpg", content_type="image/jpeg")
    late.add_field("csrf", token)
    late.add_field("body", "Hej")
    resp = await stack.client.post(f"/borger/samtaler/{conv}/svar", data=late)
    assert resp.status == 403 and "Formularen er udløbet" in await resp.text()
    # A plain (urlencoded) form is checked the same way.
    resp = await stack.client.post(f"/borger/samtaler/{conv}/svar", data={"body": "Hej"})
    assert resp.status == 403
    assert await written(stack) == before
    assert (await send(stack, conv, "", photo)).status == 303  # a photo alone is a message
    assert await written(stack) == (before[0] + 1, before[1] + 1, before[2] + 2)


async def test_other_families_cases_and_municipalities_get_not_found(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Another family, another thread of the same family, another caseworker or tenant: 404."""
    conv = await anna_thread(stack)
    bo = await bo_threads(stack)
    await citizen_login(stack, stack.world.phones["anna"])
    assert (await send(stack, conv, "Foto", ("a.jpg", jpeg(), "image/jpeg"))).status == 303
    async with stack.svc.read() as c:
        aid = (await c.execute(select(message_attachments.c.id))).scalar_one()
    stack.client.session.cookie_jar.clear()
    await citizen_login(stack, stack.world.phones["bo"])
    assert (await send(stack, bo["bo_children"], "", ("b.png", png(), "image/png"))).status == 303
    async with stack.svc.read() as c:
        bo_aid = (
            await c.execute(select(message_attachments.c.id).where(message_attachments.c.id != aid))
        ).scalar_one()
    ok = await stack.client.get(f"/borger/samtaler/{bo['bo_children']}/filer/{bo_aid}")
    assert ok.status == 200
    for path in (
        f"/borger/samtaler/{conv}/filer/{aid}",
        f"/borger/samtaler/{bo['bo_children']}/filer/{aid}",
        f"/borger/samtaler/{bo['bo_jobs']}/filer/{bo_aid}",
        f"/borger/samtaler/{conv}/filer/nope",
    ):
        resp = await stack.client.get(path)
        assert resp.status == 404 and "Siden findes ikke" in await resp.text(), path
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["lars"])  # another team: not his case
    assert (await stack.client.get(f"/sagsbehandler/samtaler/{conv}/filer/{aid}")).status == 404
    svc = stack.svc
    async with svc.write() as c:
        t = await create_tenant(
            c, svc, slug="other", name="Anden Kommune", sms_number="+4533123457"
        )
        a = await create_administration(c, svc, tenant_id=t, name="X")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Y")
        ole = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="Ole", full_name="Ole O", role="lead"
        )
    secret = await set_credentials(svc, staff_id=ole, username="ole@o.example", password=PASSWORD)
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, Login("ole@o.example", PASSWORD, secret))
    assert (await stack.client.get(f"/sagsbehandler/samtaler/{conv}/filer/{aid}")).status == 404
    assert await count(stack, access_log, access_log.c.action == "download") == 0
    stack.client.session.cookie_jar.clear()
    resp = await stack.client.get(
        f"/sagsbehandler/samtaler/{conv}/filer/{aid}", allow_redirects=False
    )
    assert resp.status == 303 and "/sagsbehandler/log-ind" in resp.headers["Location"]


def test_type_is_decided_by_content() -> None:
    """JPEG, PNG, HEIC and PDF by their first bytes; anything else, or nothing, is refused."""
    assert attachments.sniff(jpeg()) == "image/jpeg"
    assert attachments.sniff(png()) == "image/png"
    assert attachments.sniff(pdf()) == "application/pdf"
    assert attachments.sniff(HEIC_HEAD) == "image/heic"
    assert attachments.sniff(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42") is None
    for bad in (b"", b"GIF89a", b"<html>", b"MZ\x90\x00", b"PK\x03\x04word/"):
        assert attachments.sniff(bad) is None
    with pytest.raises(attachments.UploadRefused) as refused:
        attachments.check("x.pdf", b"%PDF-1.7" + b"\x00" * 100, limit=50)
    assert refused.value.status == 413 and refused.value.code == "file_too_large"
    up = attachments.check("../../etc/Lægeerklæring.exe", pdf(), limit=10**6)
    assert up.filename == "Lægeerklæring.pdf" and up.media_type == "application/pdf"
    assert attachments.clean_name("\u202eevil\x00.jpg", "image/png") == "evil.png"


def test_upload_limit_is_configurable_and_checked() -> None:
    """TOVHOLDER_UPLOAD_MAX_BYTES: default 10 MB; nonsense refuses to start."""
    assert attachments.max_bytes({}) == 10 * 1024 * 1024
    assert attachments.size_text(10 * 1024 * 1024) == "10 MB"
    assert attachments.size_text(2_450_000) == "2,5 MB" and attachments.size_text(340) == "1 kB"
    assert attachments.max_bytes({"TOVHOLDER_UPLOAD_MAX_BYTES": "2048"}) == 2048
    for bad in ("ten", "10", str(10**9)):
        with pytest.raises(ConfigError):
            attachments.max_bytes({"TOVHOLDER_UPLOAD_MAX_BYTES": bad})


@sqlite_only
async def test_staff_partial_lists_files_it_is_given(stack: Stack) -> None:
    """staff/_attachments.html shows the message's files with download links, nothing without."""
    from datetime import UTC, datetime

    from bot.http.pages.page import JINJA

    app = stack.client.app
    assert app is not None
    env = app[JINJA]
    tpl = env.get_template("staff/_attachments.html")
    a = attachments.Attachment(
        id="att1",
        message_id="m1",
        conversation_id="c1",
        filename="<b>lægeerklæring</b>.pdf",
        media_type="application/pdf",
        size=123_456,
        sha256="ab" * 32,
        created_at=datetime(2025, 2, 21, tzinfo=UTC),
    )
    html = tpl.render(attachments={"m1": [a]}, m={"id": "m1"}, thread={"id": "c1"})
    assert 'href="/sagsbehandler/samtaler/c1/filer/att1"' in html
    assert "&lt;b&gt;lægeerklæring&lt;/b&gt;.pdf" in html and "(PDF, 123 kB)" in html
    assert tpl.render(m={"id": "m1"}, thread={"id": "c1"}).strip() == ""
    assert tpl.render(attachments={}, m={"id": "m1"}, thread={"id": "c1"}).strip() == ""


@pytest.fixture
async def small(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    """A stack whose upload limit is 4 KiB (TOVHOLDER_UPLOAD_MAX_BYTES)."""
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_UPLOAD_MAX_BYTES": "4096"},
    )
    try:
        yield s
    finally:
        await s.session.close()
