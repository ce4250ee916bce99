"""E-mail notices through an SMTP relay: "you have a new message, read it here" — never content."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from channels.base import GatewayError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    tls: str = "starttls"  # starttls | tls | none
    username: str = ""
    password: str = ""
    timeout: float = 10.0


class EmailNotices:
    """Sends plain-text notices. SMTP 4xx and timeouts are transient; 5xx are permanent."""

    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, *, to: str, subject: str, text: str, reference: str) -> str:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(idstring=reference.replace("-", ""), domain="tovholder")
        msg.set_content(text)
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            username=cfg.username or None,
            password=cfg.password or None,
            use_tls=cfg.tls == "tls",
            start_tls=cfg.tls == "starttls",
            timeout=cfg.timeout,
        )
        try:
            await client.connect()
            await client.send_message(msg)
        except aiosmtplib.SMTPResponseException as exc:
            raise GatewayError(
                f"smtp {exc.code}", transient=exc.code < 500, status=exc.code
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise GatewayError("smtp relay unreachable", transient=True) from exc
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except aiosmtplib.SMTPException:
                    client.close()
        log.info("e-mail notice %s handed to the relay", reference)
        return str(msg["Message-ID"])
