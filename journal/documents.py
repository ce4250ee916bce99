"""The documents the case system (ESDH) receives: one per journal entry on a case.

:func:`load_documents` reads a batch of entries in a handful of queries
(entries, parties and their references, staff, senders, keys, signed heads),
unseals their content, and renders each entry's PDF in a worker thread. Staff
are named by name and role (also where an entry's text names them by id),
parties carry the case system's reference for them or a masked phone number,
and each document carries the signed head of the commit that filed its entry
(:mod:`journal.signing`), so the case system holds a witness of the chain.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import unseal
from bot.base.services import Services
from bot.store.schema.core import (
    cases,
    journal_entries,
    messages,
    participants,
    persons,
    staff,
    tenants,
)
from bot.store.schema.integration import external_refs
from bot.store.schema.journal import journal_signed_heads
from journal.config import JournalConfig, journal_config
from journal.exporters import ExportDocument, Party
from journal.pdf import entry_pdf
from journal.signing import head_view, moves_of

ACTORS = {
    "system": "Tovholder (automatisk)",
    "gateway": "SMS-gateway (leveringsstatus)",
    "citizen": "Borger",
}
# Roles as the case file names them.
PARTY_ROLES = {"party": "part", "parent": "forælder", "bisidder": "bisidder",
               "representative": "partsrepræsentant"}  # fmt: skip
STAFF_ROLES = {"caseworker": "sagsbehandler", "lead": "teamleder", "admin": "administrator"}
# A row id (ours are UUIDs) in an entry's text: a "routed" entry names staff by id.
_ROW_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def _name(svc: Services, table: str, row_id: str, dek: bytes, blob: bytes | None, col: str) -> str:
    if blob is None:
        return ""
    return unseal(svc.dek(table, row_id, dek), blob, f"{table}:{row_id}:{col}")


def mask_phone(phone: str | None) -> str:
    """A phone number down to its last two digits: ``xxxxxx34`` (the country code dropped)."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) > 8 and (phone or "").lstrip().startswith(("+", "00")):
        digits = digits[-8:]  # a Danish number after +45; others keep their own length
    return "x" * max(len(digits) - 2, 0) + digits[-2:] if digits else ""


def party_identifier(ref: str | None, phone: str | None) -> str:
    """How the case system tells a party apart: its own reference, else a masked number."""
    if ref:
        return f"ref. {ref}"
    masked = mask_phone(phone)
    return f"tlf. {masked}" if masked else ""


def _actor_name(actor: str, staff_names: dict[str, str], citizen: str | None) -> str:
    """Who did it, as the case file names them (never an id where a name is known)."""
    kind, _, ref = actor.partition(":")
    if kind == "staff" and ref:
        return staff_names.get(ref, "Medarbejder")
    if actor == "citizen":
        return f"{citizen} (borger)" if citizen else "Borger (ukendt afsender)"
    return ACTORS.get(actor, actor)


@dataclass(frozen=True, slots=True)
class _Sources:
    """What a batch of documents is made from, read in a handful of queries."""

    entries: Sequence[Any]  # the entries, with their case's number and key, municipality
    party_rows: Sequence[Any]  # the cases' participants, in the order the case file lists them
    party_refs: dict[str, str]  # the case system's reference for a person, by person id
    contents: dict[str, str | None]  # each entry's content, unsealed, by entry id
    staff_rows: Sequence[Any]  # the staff members the entries name, as actors or in their text
    sender_rows: Sequence[Any]  # the citizens who sent the messages citizen entries file
    person_deks: dict[str, bytes]  # content keys held by a person, by person id
    case_deks: dict[str, bytes]  # content keys held by a case, by case id
    signed: dict[str, dict[str, Any]]  # the signed head that covers each entry, by entry id


async def _entry_rows(conn: AsyncConnection, ids: Sequence[str]) -> Sequence[Any]:
    """The case entries ``ids``, with their case's number and key and their municipality."""
    return (
        await conn.execute(
            select(
                journal_entries,
                cases.c.number,
                cases.c.dek.label("case_dek"),
                tenants.c.name.label("municipality"),
            )
            .join(cases, cases.c.id == journal_entries.c.case_id)
            .join(tenants, tenants.c.id == journal_entries.c.tenant_id)
            .where(journal_entries.c.id.in_(ids))
        )
    ).all()


async def _party_rows(conn: AsyncConnection, entries: Sequence[Any]) -> Sequence[Any]:
    """The participants of the entries' cases, in the order the case file lists them."""
    case_ids = sorted({e.case_id for e in entries})
    return (
        await conn.execute(
            select(
                participants.c.case_id,
                participants.c.role,
                persons.c.id,
                persons.c.dek,
                persons.c.name_enc,
                persons.c.phone_enc,
            )
            .join(persons, persons.c.id == participants.c.person_id)
            .where(participants.c.case_id.in_(case_ids))
            .order_by(participants.c.case_id, participants.c.created_at, persons.c.id)
        )
    ).all()


async def _party_refs(conn: AsyncConnection, party_rows: Sequence[Any]) -> dict[str, str]:
    """The case system's own reference for each party that has one, by person id."""
    ids = sorted({p.id for p in party_rows})
    if not ids:
        return {}
    rows = (
        await conn.execute(
            select(external_refs.c.row_id, external_refs.c.ref)
            .where(external_refs.c.kind == "person", external_refs.c.row_id.in_(ids))
            .order_by(external_refs.c.row_id, external_refs.c.created_at.desc())
        )
    ).all()
    refs: dict[str, str] = {}
    for r in rows:
        refs.setdefault(r.row_id, r.ref)  # the newest reference the case system gave
    return refs


async def _staff_rows(
    conn: AsyncConnection, entries: Sequence[Any], contents: dict[str, str | None]
) -> Sequence[Any]:
    """The staff members the entries name: as actors (``staff:<id>``) or by id in their text."""
    staff_ids = {
        ref for e in entries for k, _, ref in [e.actor.partition(":")] if k == "staff" and ref
    }
    staff_ids.update(i for text in contents.values() if text for i in _ROW_ID.findall(text))
    if not staff_ids:
        return []
    return (
        await conn.execute(
            select(
                staff.c.id, staff.c.tenant_id, staff.c.role, staff.c.dek, staff.c.full_name_enc
            ).where(staff.c.id.in_(sorted(staff_ids)))
        )
    ).all()


async def _sender_rows(conn: AsyncConnection, entries: Sequence[Any]) -> Sequence[Any]:
    """Who sent the messages that the citizen's entries file, by message id."""
    citizen_msgs = sorted(
        {e.message_id for e in entries if e.actor == "citizen" and e.message_id is not None}
    )
    if not citizen_msgs:
        return []
    return (
        await conn.execute(
            select(
                messages.c.id.label("message_id"),
                persons.c.id,
                persons.c.dek,
                persons.c.name_enc,
            )
            .join(persons, persons.c.id == messages.c.person_id)
            .where(messages.c.id.in_(citizen_msgs))
        )  # fmt: skip
    ).all()


async def _person_deks(conn: AsyncConnection, entries: Sequence[Any]) -> dict[str, bytes]:
    """The keys of the persons whose key seals an entry's content, by person id."""
    person_keys = sorted(
        {e.key_owner_id for e in entries if e.content_enc is not None and e.key_scope != "case"}
    )
    if not person_keys:
        return {}
    return dict(
        (
            await conn.execute(
                select(persons.c.id, persons.c.dek).where(persons.c.id.in_(person_keys))
            )
        )
        .tuples()
        .all()
    )


async def _case_deks(conn: AsyncConnection, entries: Sequence[Any]) -> dict[str, bytes]:
    """The keys of the cases whose key seals an entry's content, by case id.

    An entry's own case came with it; another case's (content filed before the
    message was moved to this case) is read.
    """
    case_keys = sorted(
        {e.key_owner_id for e in entries if e.content_enc is not None and e.key_scope == "case"}
        - {e.case_id for e in entries}
    )
    case_deks = {e.case_id: e.case_dek for e in entries}
    if case_keys:
        case_deks.update(
            (await conn.execute(select(cases.c.id, cases.c.dek).where(cases.c.id.in_(case_keys))))
            .tuples()
            .all()
        )
    return case_deks


# How far the entries of one commit may be dated apart (journal.verify's backdate tolerance):
# the signed head of a commit is dated by its last entry.
_COMMIT_SPREAD = timedelta(minutes=5)


async def _signed_rows(conn: AsyncConnection, entries: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """The signed head of the commit that filed each entry, by entry id.

    That commit moved the entry's chain from ``start`` to ``seq`` with
    ``start < entry.seq <= seq``: the first signed head that covers the entry,
    the same whenever the entry is exported again. Only the signed rows dated
    around the entries, and naming their chains, are read.
    """
    if not entries:
        return {}
    sh = journal_signed_heads.c
    # Signed rows are dated in UTC ISO form (journal.journal), compared as text.
    lo = min(e.created_at for e in entries).astimezone(UTC) - _COMMIT_SPREAD
    hi = max(e.created_at for e in entries).astimezone(UTC) + _COMMIT_SPREAD
    chains = sorted({e.chain for e in entries})
    rows = (
        await conn.execute(
            select(sh.id, sh.key_id, sh.at, sh.heads, sh.signature).where(
                sh.at >= lo.isoformat(),
                sh.at <= hi.isoformat(),
                or_(*(sh.heads.contains(json.dumps(c)) for c in chains)),
            )
        )
    ).all()
    covering: dict[str, list[tuple[int, int, Any]]] = {}
    for r in rows:
        for chain, start, seq, _hash in moves_of(r.heads):
            covering.setdefault(chain, []).append((int(start), int(seq), r))
    found: dict[str, dict[str, Any]] = {}
    for e in entries:
        for start, seq, r in covering.get(e.chain, ()):
            if start < e.seq <= seq:
                # Only this chain's move in clear: the commit may have filed on other cases.
                found[e.id] = head_view(dict(r._mapping), e.chain)
                break
    return found


async def _read_sources(svc: Services, ids: Sequence[str]) -> _Sources:
    """Read what the documents for entries ``ids`` are made from, in one read."""
    async with svc.read() as conn:
        entries = await _entry_rows(conn, ids)
        person_deks = await _person_deks(conn, entries)
        case_deks = await _case_deks(conn, entries)
        contents = {e.id: _content(svc, e, person_deks, case_deks) for e in entries}
        party_rows = await _party_rows(conn, entries)
        return _Sources(
            entries=entries,
            party_rows=party_rows,
            party_refs=await _party_refs(conn, party_rows),
            contents=contents,
            staff_rows=await _staff_rows(conn, entries, contents),
            sender_rows=await _sender_rows(conn, entries),
            person_deks=person_deks,
            case_deks=case_deks,
            signed=await _signed_rows(conn, entries),
        )


def _content(
    svc: Services, e: Any, person_deks: dict[str, bytes], case_deks: dict[str, bytes]
) -> str | None:
    """The entry's content, unsealed with the key of the case or person it was sealed for."""
    if e.content_enc is None:
        return None
    if e.key_scope == "case":
        dek = svc.dek("cases", e.key_owner_id, case_deks[e.key_owner_id])
    else:
        dek = svc.dek("persons", e.key_owner_id, person_deks[e.key_owner_id])
    return unseal(dek, e.content_enc, f"journal_entries:{e.id}:content")


def _named(text: str | None, names: dict[str, str]) -> str | None:
    """The entry's text with each staff id in it replaced by the name and role it stands for.

    The stored text (hashed into the chain) keeps the id; only the document names.
    """
    if not text:
        return text
    return _ROW_ID.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def _parties(svc: Services, src: _Sources) -> dict[str, list[Party]]:
    """Each case's parties, named and identified as the case system knows them."""
    parties: dict[str, list[Party]] = {}
    for p in src.party_rows:
        name = _name(svc, "persons", p.id, p.dek, p.name_enc, "name") or "(ukendt)"
        phone = _name(svc, "persons", p.id, p.dek, p.phone_enc, "phone")
        parties.setdefault(p.case_id, []).append(
            Party(p.role, name, party_identifier(src.party_refs.get(p.id), phone))
        )
    return parties


def _staff_names(svc: Services, src: _Sources) -> dict[tuple[str, str], str]:
    """``Mette Hansen (sagsbehandler)`` for each staff member, by (municipality, staff id)."""
    return {
        (r.tenant_id, r.id): f"{_name(svc, 'staff', r.id, r.dek, r.full_name_enc, 'full_name')}"
        f" ({STAFF_ROLES.get(r.role, r.role)})"
        for r in src.staff_rows
    }


async def _document(
    e: Any,
    *,
    content: str | None,
    actor: str,
    parties: tuple[Party, ...],
    signed_head: Mapping[str, Any] | None,
    cfg: JournalConfig,
) -> ExportDocument:
    """One entry as the case system receives it, its PDF rendered in a worker thread."""
    pdf = await asyncio.to_thread(
        entry_pdf,
        municipality=e.municipality,
        case_number=e.number,
        created_at=e.created_at,
        kind=e.kind,
        direction=e.direction,
        channel=e.channel,
        subject=e.subject,
        actor=actor,
        parties=[(PARTY_ROLES.get(p.role, p.role), p.name, p.identifier) for p in parties],
        content=content,
        entry_id=e.id,
        chain=e.chain,
        seq=e.seq,
        entry_hash=e.hash,
        font=cfg.pdf_font,
    )
    return ExportDocument(
        entry_id=e.id,
        tenant_id=e.tenant_id,
        municipality=e.municipality,
        case_id=e.case_id,
        case_number=e.number,
        chain=e.chain,
        seq=e.seq,
        kind=e.kind,
        direction=e.direction,
        channel=e.channel,
        subject=e.subject,
        actor=actor,
        created_at=e.created_at,
        entry_hash=e.hash,
        parties=parties,
        pdf=pdf,
        signed_head=signed_head,
    )


async def load_documents(
    svc: Services, entry_ids: Sequence[str], config: JournalConfig | None = None
) -> dict[str, ExportDocument]:
    """Case entries, decrypted and rendered as the case system receives them.

    A batch is read in a handful of queries (entries, parties, staff, senders,
    keys, signed heads), whatever its size; each PDF is then rendered in a
    worker thread.
    """
    cfg = config or journal_config(svc.config)
    ids = list(dict.fromkeys(entry_ids))
    if not ids:
        return {}
    src = await _read_sources(svc, ids)
    parties = _parties(svc, src)
    all_staff = _staff_names(svc, src)
    senders = {
        r.message_id: _name(svc, "persons", r.id, r.dek, r.name_enc, "name")
        for r in src.sender_rows
    }
    out: dict[str, ExportDocument] = {}
    for e in src.entries:
        # Only the entry's own municipality's staff are named in its document.
        staff_names = {i: n for (t, i), n in all_staff.items() if t == e.tenant_id}
        out[e.id] = await _document(
            e,
            content=_named(src.contents[e.id], staff_names),
            actor=_actor_name(e.actor, staff_names, senders.get(e.message_id)),
            parties=tuple(parties.get(e.case_id, ())),
            signed_head=src.signed.get(e.id),
            cfg=cfg,
        )
    return out


async def load_document(
    svc: Services, entry_id: str, config: JournalConfig | None = None
) -> ExportDocument:
    """One case entry, decrypted and rendered as the case system receives it."""
    found = await load_documents(svc, [entry_id], config)
    if entry_id not in found:
        raise LookupError(f"no case entry {entry_id}")
    return found[entry_id]
