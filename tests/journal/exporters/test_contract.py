"""The exporter contract: every exporter (file drop, journal mailbox, HTTP) passes these."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime

import pytest

from journal.exporters import ExportDocument, ExportError, JournalExporter, Party
from journal.pdf import entry_pdf
from tests.journal.receivers import MAIL_FROM, MAIL_TO, Receiver

WHEN = datetime(2025, 2, 21, 9, 0, 0, 123456, tzinfo=UTC)


@functools.lru_cache(maxsize=16)
def document(seq: int = 7, text: str = "Hej, kan vi flytte mødet? Привіт.") -> ExportDocument:
    parties = (
        Party("party", "Anna Andersen", "ref. P-1001"),
        Party("bisidder", "Søren Ølgaard", "tlf. xxxxxx34"),
    )
    pdf = entry_pdf(
        municipality="Københavns Kommune",
        case_number="2025/001",
        created_at=WHEN,
        kind="sms_in",
        direction="in",
        channel="sms",
        subject="SMS fra borger",
        actor="Anna Andersen (borger)",
        parties=[(p.role, p.name, p.identifier) for p in parties],
        content=text,
        entry_id=f"entry-{seq}",
        chain="case:c1",
        seq=seq,
        entry_hash="ab" * 32,
    )
    return ExportDocument(
        entry_id=f"entry-{seq}",
        tenant_id="t1",
        municipality="Københavns Kommune",
        case_id="c1",
        case_number="2025/001",
        chain="case:c1",
        seq=seq,
        kind="sms_in",
        direction="in",
        channel="sms",
        subject="SMS fra borger",
        actor="Anna Andersen (borger)",
        created_at=WHEN,
        entry_hash="ab" * 32,
        parties=parties,
        pdf=pdf,
    )


async def test_an_entry_arrives_whole_with_its_metadata(receiver: Receiver) -> None:
    """The receiver gets the exact PDF, and metadata naming case, time, parties, subject, SHA-256."""
    exporter = receiver.exporter()
    assert isinstance(exporter, JournalExporter) and exporter.name == receiver.name
    doc = document()
    receipt = await exporter.export(doc)
    assert receipt
    [got] = await receiver.delivered()
    assert got.pdf == doc.pdf and got.pdf.startswith(b"%PDF-")
    meta = got.metadata
    assert meta["case_number"] == "2025/001"
    assert meta["time"] == "2025-02-21T09:00:00.123456+00:00"
    assert meta["local_time"] == "2025-02-21T10:00:00.123456+01:00"
    assert meta["subject"] == "SMS fra borger"
    assert meta["parties"] == [
        {"role": "party", "name": "Anna Andersen", "identifier": "ref. P-1001"},
        {"role": "bisidder", "name": "Søren Ølgaard", "identifier": "tlf. xxxxxx34"},
    ]
    assert meta["document"]["sha256"] == hashlib.sha256(got.pdf).hexdigest()
    assert meta["entry_id"] == "entry-7"
    assert meta["chain"] == {"name": "case:c1", "seq": 7, "entry_hash": "ab" * 32}


async def test_each_entry_is_told_apart_and_a_retry_is_recognisable(receiver: Receiver) -> None:
    """Two entries arrive as two documents; delivering one again carries the same identity."""
    exporter = receiver.exporter()
    first, second = document(1, "første"), document(2, "anden")
    await exporter.export(first)
    await exporter.export(second)
    await exporter.export(first)  # a retry after a lost answer
    got = await receiver.delivered()
    ids = [d.metadata["entry_id"] for d in got]
    assert set(ids) == {"entry-1", "entry-2"}
    by_id = {d.metadata["entry_id"]: d for d in got}
    assert by_id["entry-1"].pdf == first.pdf and by_id["entry-2"].pdf == second.pdf
    if receiver.name == "file":  # the same file names, replaced with the same bytes
        assert sorted(ids) == ["entry-1", "entry-2"]
    else:  # delivered twice, with the same identity for the receiver to de-duplicate
        assert sorted(ids) == ["entry-1", "entry-1", "entry-2"]
        key = "message_id" if receiver.name == "mail" else "idempotency_key"
        assert got[0].details[key] == got[2].details[key] != got[1].details[key]


async def test_a_refusing_receiver_is_an_export_error(receiver: Receiver) -> None:
    """When the case system refuses, export raises ExportError with a stable code and nothing
    arrives; once it accepts again the same entry goes through."""
    exporter = receiver.exporter()
    receiver.refuse()
    with pytest.raises(ExportError) as failed:
        await exporter.export(document())
    assert failed.value.code in ("drop_dir_missing", "smtp_554", "http_503")
    assert "Anna" not in str(failed.value)  # no content in errors or logs
    receiver.accept()
    assert await receiver.delivered() == []
    await exporter.export(document())
    assert len(await receiver.delivered()) == 1


async def test_the_envelope_names_the_case(receiver: Receiver) -> None:
    """Mail carries the case number in its subject; HTTP is JSON; files are named by case."""
    await receiver.exporter().export(document())
    [got] = await receiver.delivered()
    if receiver.name == "mail":
        assert got.details["subject"] == "[Sag 2025/001] SMS fra borger"
        assert (got.details["from"], got.details["to"]) == (MAIL_FROM, [MAIL_TO])
    elif receiver.name == "http":
        assert got.details["content_type"] == "application/json"
    else:
        assert got.details["file"] == "2025_001_000007_entry-7.json"
