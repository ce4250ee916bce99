"""Exporters to the case system (ESDH): file drop, journal mailbox, signed HTTP."""

from __future__ import annotations

import aiohttp

from bot.base.clock import Clock
from journal.config import JournalConfig
from journal.exporters.base import ExportDocument, ExportError, JournalExporter, Party
from journal.exporters.file_drop import FileDropExporter
from journal.exporters.http import HttpExporter
from journal.exporters.mailbox import MailboxExporter

__all__ = [
    "ExportDocument",
    "ExportError",
    "FileDropExporter",
    "HttpExporter",
    "JournalExporter",
    "MailboxExporter",
    "Party",
    "build_exporters",
]


def build_exporters(
    config: JournalConfig, *, session: aiohttp.ClientSession | None, clock: Clock
) -> list[JournalExporter]:
    """The exporters TOVHOLDER_JOURNAL_EXPORTERS enables, in that order.

    Args:
        session: the HTTP client session (needed only when ``http`` is enabled).
    """
    made: list[JournalExporter] = []
    for name in config.exporters:
        if name == "file":
            assert config.drop_dir is not None  # JournalConfig.validate
            made.append(FileDropExporter(config.drop_dir))
        elif name == "mail":
            made.append(
                MailboxExporter(
                    host=config.smtp_host,
                    port=config.smtp_port,
                    sender=config.mail_from,
                    recipient=config.mail_to,
                    tls=config.smtp_tls,
                    username=config.smtp_username,
                    password=config.smtp_password,
                    timeout=config.export_timeout,
                )
            )
        elif name == "http":
            if session is None:
                raise ValueError("the http exporter needs an HTTP client session")
            made.append(
                HttpExporter(
                    url=config.http_url,
                    secret=config.http_secret,
                    session=session,
                    clock=clock,
                    timeout=config.export_timeout,
                )
            )
    return made
