"""The exporter Protocol: how a journal entry reaches the case system (ESDH).

An exporter delivers one :class:`ExportDocument` (the entry's PDF and its
metadata) and returns a short receipt, or raises :class:`ExportError`. It
never retries by itself: the export relay (:mod:`journal.export`) owns
retries, backoff and timeouts, and records the outcome on the entry's
export row. Implementations: :mod:`.file_drop`, :mod:`.mailbox`, :mod:`.http`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.base.clock import COPENHAGEN


class ExportError(Exception):
    """The case system did not take the entry. ``code`` is short and stable (no content)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Party:
    """A party to the case (part, forælder, bisidder, …) as named in the case file.

    ``identifier`` is how the case system tells them apart: its own reference
    for the person (``ref. P-1001``) or else their phone number masked to its
    last two digits (``tlf. xxxxxx34``). Never a CPR number.
    """

    role: str
    name: str
    identifier: str = ""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ExportDocument:
    """One journal entry, ready for the case system: the PDF and what describes it."""

    entry_id: str
    tenant_id: str
    municipality: str
    case_id: str
    case_number: str
    chain: str
    seq: int
    kind: str
    direction: str
    channel: str
    subject: str
    actor: str
    created_at: datetime
    entry_hash: str
    parties: tuple[Party, ...]
    pdf: bytes = field(repr=False)
    #: The signed head of the commit that filed the entry, as this chain's view of it
    #: (:func:`journal.signing.head_view`: its own move in clear, the commit's other
    #: moves as digests): the case system keeps a witness of the chain it can check
    #: under the journal's public key (``tovholder journal verify --against-exports``).
    signed_head: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def stem(self) -> str:
        """A file-name stem unique per entry and sortable per case: ``2025-001_000007_<id>``."""
        number = _UNSAFE.sub("_", self.case_number).strip("._") or "sag"
        return f"{number}_{self.seq:06d}_{self.entry_id}"

    @property
    def pdf_name(self) -> str:
        return f"{self.stem}.pdf"

    def metadata(self) -> dict[str, Any]:
        """What every exporter sends beside the PDF (JSON-ready)."""
        return {
            "schema": "tovholder.journal-entry/1",
            "entry_id": self.entry_id,
            "municipality": self.municipality,
            "case_number": self.case_number,
            "time": self.created_at.isoformat(),
            "local_time": self.created_at.astimezone(COPENHAGEN).isoformat(),
            "subject": self.subject,
            "kind": self.kind,
            "direction": self.direction,
            "channel": self.channel,
            "actor": self.actor,
            "parties": [{"role": p.role, "name": p.name, "identifier": p.identifier}
                        for p in self.parties],
            "document": {"file_name": self.pdf_name, "media_type": "application/pdf",
                         "sha256": self.pdf_sha256, "bytes": len(self.pdf)},
            "chain": {"name": self.chain, "seq": self.seq, "entry_hash": self.entry_hash},
            "signed_head": dict(self.signed_head) if self.signed_head is not None else None,
        }  # fmt: skip


@runtime_checkable
class JournalExporter(Protocol):
    """Delivers journal entries to one case system endpoint."""

    #: ``file`` | ``mail`` | ``http``: the name in TOVHOLDER_JOURNAL_EXPORTERS and in
    #: ``journal_exports.exporter``.
    name: str

    async def export(self, doc: ExportDocument) -> str:
        """Deliver one entry.

        Returns:
            A short receipt (file name, Message-ID, HTTP status) kept on the export row.

        Raises:
            ExportError: the entry was not delivered; the relay retries later.
        """
        ...
