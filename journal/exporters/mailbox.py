"""Journal mailbox: one e-mail per entry to the case system's journalising address.

The subject carries the case number (``[Sag 2025-001] SMS fra borger``) so the
mailbox files it; the PDF and the metadata JSON are attached. The
Message-ID is derived from the entry id, so a retried delivery is
recognisably the same message.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from journal.exporters.base import ExportDocument, ExportError


def _party(p: dict[str, str]) -> str:
    """``Anna Andersen (party, ref. P-1001)``: a party as the mail's text names them."""
    return f"{p['name']} ({', '.join(x for x in (p['role'], p.get('identifier', '')) if x)})"


class MailboxExporter:
    """Sends each entry by SMTP (aiosmtplib) to one journal address."""

    name = "mail"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipient: str,
        tls: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipient = recipient
        self.tls = tls
        self.username = username
        self.password = password
        self.timeout = timeout

    def message(self, doc: ExportDocument) -> EmailMessage:
        """The e-mail for one entry (public so tests and operators can see it)."""
        meta = doc.metadata()
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = self.recipient
        msg["Subject"] = f"[Sag {doc.case_number}] {doc.subject}"
        msg["Date"] = format_datetime(doc.created_at)
        domain = self.sender.rpartition("@")[2] or "tovholder.invalid"
        msg["Message-ID"] = f"<journal-{doc.entry_id}@{domain}>"
        msg["X-Tovholder-Case-Number"] = doc.case_number
        msg["X-Tovholder-Entry-Id"] = doc.entry_id
        msg["X-Tovholder-Sha256"] = doc.pdf_sha256
        msg.set_content(
            f"Journalpost til sag {doc.case_number}\n"
            f"Tidspunkt: {meta['local_time']} (Europe/Copenhagen)\n"
            f"Emne: {doc.subject}\n"
            f"Parter: {'; '.join(_party(p) for p in meta['parties']) or '-'}\n"
            f"Dokument: {doc.pdf_name} (SHA-256 {doc.pdf_sha256})\n"
        )
        msg.add_attachment(doc.pdf, maintype="application", subtype="pdf", filename=doc.pdf_name)
        msg.add_attachment(
            json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode(),
            maintype="application",
            subtype="json",
            filename=f"{doc.stem}.json",
        )
        return msg

    async def export(self, doc: ExportDocument) -> str:
        msg = self.message(doc)
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username or None,
            password=self.password or None,
            use_tls=self.tls == "tls",
            start_tls=True if self.tls == "starttls" else False,
            timeout=self.timeout,
        )
        try:
            await client.connect()  # logs in when a username is configured
            await client.send_message(msg)
        except BaseException as exc:
            # Drop the connection at once: a polite QUIT to a server that has
            # stopped answering would outlast the relay's timeout.
            client.close()
            if isinstance(exc, aiosmtplib.SMTPTimeoutError):
                raise ExportError("smtp_timeout", "the mail server did not answer") from exc
            if isinstance(exc, aiosmtplib.SMTPConnectError):
                raise ExportError("smtp_unreachable", "cannot connect to the mail server") from exc
            if isinstance(exc, aiosmtplib.SMTPResponseException):
                raise ExportError(f"smtp_{exc.code}", "the mail server refused the entry") from exc
            if isinstance(exc, aiosmtplib.SMTPException | OSError):
                raise ExportError("smtp_error", type(exc).__name__) from exc
            raise
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()  # delivered already; the goodbye does not matter
        return str(msg["Message-ID"])
