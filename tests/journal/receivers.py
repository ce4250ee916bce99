"""The case system's receiving ends, honestly implemented over the real protocols.

A drop folder read back from disk, a real SMTP server (aiosmtpd) parsing the
mail, and an HTTP endpoint that checks the signature with its own HMAC code.
Each can be told to refuse or to hang, so the exporters' failure paths run
against the same wire behaviour a real case system would show.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import shutil
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from aiohttp import ClientSession, web
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.base.clock import Clock
from journal.exporters import (
    FileDropExporter,
    HttpExporter,
    JournalExporter,
    MailboxExporter,
)

HTTP_SECRET = "esdh-shared-secret-" + "x" * 24
MAIL_FROM = "tovholder@kbh.dk"
MAIL_TO = "journal@esdh.kbh.dk"


@dataclass
class Delivered:
    """One entry as the case system received it."""

    pdf: bytes
    metadata: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


class Receiver(Protocol):
    """What the tests need from any receiving end."""

    name: str

    def exporter(self, timeout: float = 5.0) -> JournalExporter: ...

    async def delivered(self) -> list[Delivered]: ...

    def refuse(self) -> None: ...

    def accept(self) -> None: ...

    async def close(self) -> None: ...


class FileReceiver:
    """The case system's side of a drop folder: it reads ``*.json`` and the PDF beside it."""

    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()

    def exporter(self, timeout: float = 5.0) -> JournalExporter:
        return FileDropExporter(self.folder)

    async def delivered(self) -> list[Delivered]:
        out = []
        for meta_path in sorted(self.folder.glob("*.json")):
            meta = json.loads(meta_path.read_text())
            pdf = (self.folder / meta["document"]["file_name"]).read_bytes()
            out.append(Delivered(pdf, meta, {"file": meta_path.name}))
        leftovers = [p.name for p in self.folder.iterdir() if p.name.startswith(".")]
        assert leftovers == [], f"temporary files left behind: {leftovers}"
        return out

    def refuse(self) -> None:
        """The share is gone (unmounted, renamed): the folder is not there."""
        shutil.move(self.folder, self.folder.with_name("moved-away"))

    def accept(self) -> None:
        moved = self.folder.with_name("moved-away")
        if moved.exists():
            shutil.move(moved, self.folder)

    async def close(self) -> None:
        return None


class _SmtpHandler:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.mode = "accept"
        self.release = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "refuse":
            return "554 5.7.1 Journal mailbox refuses this message"
        if self.mode == "hang":
            await self.release.wait()
        assert isinstance(envelope.content, bytes)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.envelopes.append(envelope)
        return "250 2.0.0 Filed"


class SmtpReceiver:
    """The journal mailbox: a real SMTP server (aiosmtpd) on a free local port."""

    name = "mail"

    def __init__(self) -> None:
        self.handler = _SmtpHandler()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> SmtpReceiver:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self.handler, hostname="esdh.kbh.dk"), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def exporter(self, timeout: float = 5.0) -> JournalExporter:
        return MailboxExporter(
            host="127.0.0.1",
            port=self.port,
            sender=MAIL_FROM,
            recipient=MAIL_TO,
            tls="none",
            timeout=timeout,
        )

    async def delivered(self) -> list[Delivered]:
        out = []
        for mail, env in zip(self.handler.mails, self.handler.envelopes, strict=True):
            parts = {p.get_filename(): p for p in mail.iter_attachments()}
            meta_part = next(p for n, p in parts.items() if n and n.endswith(".json"))
            meta = json.loads(meta_part.get_content())
            pdf = parts[meta["document"]["file_name"]].get_content()
            assert parts[meta["document"]["file_name"]].get_content_type() == "application/pdf"
            out.append(
                Delivered(
                    pdf,
                    meta,
                    {
                        "subject": mail["Subject"],
                        "to": env.rcpt_tos,
                        "from": env.mail_from,
                        "message_id": mail["Message-ID"],
                    },
                )
            )
        return out

    def refuse(self) -> None:
        self.handler.mode = "refuse"

    def hang(self) -> None:
        self.handler.mode = "hang"
        self.handler.release.clear()

    def accept(self) -> None:
        self.handler.mode = "accept"
        self.handler.release.set()

    async def close(self) -> None:
        self.handler.release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class HttpReceiver:
    """The case system's HTTP endpoint; it verifies the signature with its own code."""

    name = "http"

    def __init__(self, clock: Clock, session: ClientSession) -> None:
        self.clock = clock
        self.session = session
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.rejected: list[str] = []
        self.mode = "accept"
        self.release = asyncio.Event()
        self.url = ""
        self._server: Any = None

    async def start(self, aiohttp_server: Any) -> HttpReceiver:
        app = web.Application()
        app.router.add_post("/esdh/entries", self._receive)
        self._server = await aiohttp_server(app)
        self.url = str(self._server.make_url("/esdh/entries"))
        return self

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.mode == "refuse":
            return web.json_response({"error": "maintenance"}, status=503)
        if self.mode == "hang":
            await self.release.wait()
        stamp = request.headers.get("X-Tovholder-Timestamp", "")
        given = request.headers.get("X-Tovholder-Signature", "")
        # Written from the documented scheme, not imported from the exporter.
        mac = hmac.new(HTTP_SECRET.encode("utf-8"), digestmod=hashlib.sha256)
        mac.update(stamp.encode("ascii"))
        mac.update(b".")
        mac.update(body)
        if not stamp.isdigit() or not hmac.compare_digest(mac.hexdigest(), given):
            self.rejected.append("bad signature")
            return web.json_response({"error": "bad signature"}, status=401)
        self.received.append((dict(request.headers), body))
        return web.json_response({"id": f"esdh-{len(self.received)}"}, status=201)

    def exporter(self, timeout: float = 5.0) -> JournalExporter:
        return HttpExporter(
            url=self.url,
            secret=HTTP_SECRET,
            session=self.session,
            clock=self.clock,
            timeout=timeout,
        )

    async def delivered(self) -> list[Delivered]:
        out = []
        for headers, body in self.received:
            payload = json.loads(body)
            out.append(
                Delivered(
                    base64.b64decode(payload["document"]),
                    payload["metadata"],
                    {
                        "timestamp": headers["X-Tovholder-Timestamp"],
                        "idempotency_key": headers["Idempotency-Key"],
                        "content_type": headers["Content-Type"],
                    },
                )
            )
        return out

    def refuse(self) -> None:
        self.mode = "refuse"

    def hang(self) -> None:
        self.mode = "hang"
        self.release.clear()

    def accept(self) -> None:
        self.mode = "accept"
        self.release.set()

    async def close(self) -> None:
        self.release.set()
