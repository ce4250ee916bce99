"""Aktindsigt i egne oplysninger (GDPR art. 15): the citizen's own copy.

For one person, everything recorded about them across their cases: who we
have them as, the cases they are party to, every message to and from them
(decrypted), the caseworkers' notes on their cases, the case's journal records
(routing, urgent flags and escalations, consent confirmations, letters...:
time, kind and subject), their appointments, their consent records, and when
and why staff looked their messages or cases up.

What is left out is left out under a named rule, and the copy lists each rule
with its legal ground and how many items it withheld (:data:`ALWAYS`, and the
rules a municipality chose from :data:`CHOSEN`):

- other people's data is never in it: a journal record tied to another
  person's message (a parent on the same case, a family sharing a phone), an
  appointment they do not attend, another person's consent;
- staff are named by neither name nor id (the citizen gets dates, actions and
  purposes), and the internal content of routing records is not shown;
- internal working notes, only when the municipality has chosen to exempt
  them (offentlighedsloven § 23).

Producing the copy is itself a look-up and is recorded in the access log
(action ``export``, purpose ``aktindsigt``), so it shows in the next copy.
Only a lead or an admin of the person's municipality may produce it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain import consent
from bot.store.schema.core import (
    access_log,
    cases,
    journal_entries,
    messages,
    participants,
    persons,
    staff,
    tenants,
)
from bot.store.schema.journal import access_copy_exemptions
from bot.store.schema.scheduler import appointments
from journal.pdf import access_copy_pdf, local_time

PURPOSE = "aktindsigt"
ROLES = {"party": "part", "parent": "forælder", "bisidder": "bisidder",
         "representative": "partsrepræsentant"}  # fmt: skip
ACTIONS = {"read": "læst", "search": "søgt", "export": "udleveret", "audit": "kontrolleret"}
DIRECTIONS = {"in": "Fra dig", "out": "Til dig"}
CONSENT_STATES = {"given": "givet", "withdrawn": "trukket tilbage", "refused": "afvist"}

# Rules that always apply, each with its ground.
ALWAYS: dict[str, str] = {
    "other_persons": "Databeskyttelsesforordningen art. 15, stk. 4: oplysninger om andre "
    "personer (fx andre i husstanden eller på samme sag) udleveres ikke",
    "staff_identity": "Databeskyttelsesforordningen art. 15, stk. 4: medarbejdere nævnes "
    "hverken ved navn eller id, og interne visiteringsdetaljer vises ikke; tidspunkt, "
    "handling og formål er med",
}
# Rules a municipality may choose (access_copy_exemptions), each with its ground.
CHOSEN: dict[str, str] = {
    "internal_notes": "Offentlighedsloven § 23, stk. 1, nr. 1, jf. databeskyttelsesloven "
    "§ 22: interne arbejdsdokumenter (sagsbehandlernes notater) er undtaget efter "
    "kommunens valg",
}


async def _requester(conn: Any, staff_id: str, tenant_id: str) -> None:
    row = (
        await conn.execute(
            select(staff.c.role).where(
                staff.c.id == staff_id, staff.c.tenant_id == tenant_id, staff.c.active.is_(True)
            )
        )
    ).first()
    if row is None or row.role not in ("lead", "admin"):
        raise NotFound("No such person", code="person_not_found")


async def set_exemption(svc: Services, tenant_id: str, rule: Any, on: Any) -> list[str]:
    """Choose (or stop choosing) a rule that exempts material from the citizen's copy.

    Returns the municipality's chosen rules afterwards.

    Raises:
        BadInput: ``bad_rule`` for a rule that is not in :data:`CHOSEN`, ``bad_field``
            when ``on`` is not a boolean.
    """
    if rule not in CHOSEN:
        raise BadInput(f"rule must be one of {', '.join(CHOSEN)}", code="bad_rule")
    if not isinstance(on, bool):
        raise BadInput("on must be true or false", code="bad_field")
    async with svc.write() as conn:
        await conn.execute(
            delete(access_copy_exemptions).where(
                access_copy_exemptions.c.tenant_id == tenant_id,
                access_copy_exemptions.c.rule == rule,
            )
        )
        if on:
            await conn.execute(
                access_copy_exemptions.insert().values(
                    tenant_id=tenant_id, rule=rule, created_at=svc.clock.now()
                )
            )
        return sorted(await _chosen(conn, tenant_id))


async def _chosen(conn: AsyncConnection, tenant_id: str) -> set[str]:
    rows = await conn.execute(
        select(access_copy_exemptions.c.rule).where(access_copy_exemptions.c.tenant_id == tenant_id)
    )
    return {r for r in rows.scalars() if r in CHOSEN}


class _Copy:
    """What one copy gathers, and what it withheld under which rule."""

    def __init__(self, svc: Services, person: Any, chosen: set[str]) -> None:
        self.svc = svc
        self.person = person
        self.chosen = chosen
        self.withheld: Counter[str] = Counter()
        self.case_keys: dict[str, bytes] = {}
        self.numbers: dict[str, str] = {}

    def case_key(self, case_id: str) -> bytes:
        return self.case_keys[case_id]

    def exemptions(self) -> list[dict[str, Any]]:
        rules = {**ALWAYS, **{r: g for r, g in CHOSEN.items() if r in self.chosen}}
        return [
            {"rule": rule, "ground": ground, "withheld": self.withheld[rule]}
            for rule, ground in rules.items()
        ]


async def _cases(conn: AsyncConnection, copy: _Copy) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(cases.c.id, cases.c.number, cases.c.dek, participants.c.role)
            .join(participants, participants.c.case_id == cases.c.id)
            .where(participants.c.person_id == copy.person.id, cases.c.status != "removed")
            .order_by(cases.c.number)
        )
    ).all()
    for c in rows:
        copy.case_keys[c.id] = copy.svc.dek("cases", c.id, c.dek)
        copy.numbers[c.id] = c.number
    return [{"case_number": c.number, "role": c.role} for c in rows]


async def _messages(conn: AsyncConnection, copy: _Copy) -> list[Any]:
    rows: list[Any] = list(
        await conn.execute(
            select(messages, cases.c.number, cases.c.dek.label("case_dek"))
            .outerjoin(cases, cases.c.id == messages.c.case_id)
            .where(messages.c.person_id == copy.person.id)
            .order_by(messages.c.created_at, messages.c.direction, messages.c.id)
        )
    )
    return rows


def _message_item(copy: _Copy, m: Any, pdek: bytes) -> dict[str, Any]:
    dek = copy.svc.dek("cases", m.case_id, m.case_dek) if m.key_scope == "case" else pdek
    return {
        "id": m.id,
        "at": m.created_at.isoformat(),
        "direction": m.direction,
        "kind": m.kind,
        "case_number": m.number,
        "status": m.status,
        "urgent": bool(m.urgent),
        "text": copy.svc.unseal(dek, "messages", m.id, "body", m.body_enc),
    }


def _chunks(items: Sequence[str], n: int = 500) -> list[Sequence[str]]:
    return [items[i : i + n] for i in range(0, len(items), n)] or [[]]


async def _journal(
    conn: AsyncConnection, copy: _Copy, own: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Notes and records on the person's cases, and records tied to their own messages."""
    chains = [f"case:{c}" for c in copy.case_keys]
    rows: dict[str, Any] = {}
    for part in _chunks(sorted(own)):
        q = select(journal_entries).where(
            or_(journal_entries.c.chain.in_(chains), journal_entries.c.message_id.in_(part))
        )
        rows.update({r.id: r for r in await conn.execute(q)})
    notes: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for e in sorted(rows.values(), key=lambda r: (r.created_at, r.chain, r.seq)):
        if e.message_id is not None and e.message_id not in own:
            copy.withheld["other_persons"] += 1
            continue
        number = copy.numbers.get(e.case_id) if e.case_id else None
        if e.kind != "note":
            if e.kind in ("routed", "escalation") and e.content_enc is not None:
                copy.withheld["staff_identity"] += 1
            records.append(
                {
                    "at": e.created_at.isoformat(),
                    "kind": e.kind,
                    "subject": e.subject,
                    "case_number": number,
                }  # fmt: skip
            )
        elif "internal_notes" in copy.chosen:
            copy.withheld["internal_notes"] += 1
        else:
            notes.append(_note(copy, e, number))
    return notes, records


def _note(copy: _Copy, e: Any, number: str | None) -> dict[str, Any]:
    text = None
    if e.content_enc is not None and e.key_scope == "case" and e.key_owner_id in copy.case_keys:
        key = copy.case_key(e.key_owner_id)
        text = copy.svc.unseal(key, "journal_entries", e.id, "content", e.content_enc)
    return {
        "at": e.created_at.isoformat(),
        "case_number": number,
        "subject": e.subject,
        "text": text,
    }


async def _appointments(conn: AsyncConnection, copy: _Copy) -> list[dict[str, Any]]:
    """The appointments on the person's cases that the person attends."""
    rows = await conn.execute(
        select(appointments)
        .where(appointments.c.case_id.in_(list(copy.case_keys)))
        .order_by(appointments.c.starts_at)
    )
    out = []
    for a in rows:
        if copy.person.id not in json.loads(a.attendees).get("persons", []):
            copy.withheld["other_persons"] += 1
            continue
        key = copy.case_key(a.case_id)

        def open_(col: str, blob: bytes | None, a: Any = a, key: bytes = key) -> str | None:
            return None if blob is None else copy.svc.unseal(key, "appointments", a.id, col, blob)

        out.append(
            {
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat() if a.ends_at else None,
                "place": open_("place", a.place_enc),
                "video_url": open_("video_url", a.video_url_enc),
                "status": a.status,
                "case_number": copy.numbers[a.case_id],
            }
        )
    return out


async def _consent(conn: AsyncConnection, copy: _Copy) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(participants.c.id, participants.c.case_id).where(
            participants.c.person_id == copy.person.id
        )
    )
    parts: dict[str, str] = {r.id: r.case_id for r in rows}
    return [
        {
            "at": r.at.isoformat(),
            "channel": r.channel,
            "state": r.state,
            "scope": r.scope,
            "source": r.source,
            "by": "citizen" if r.actor == "citizen" else r.actor.split(":", 1)[0],
            "case_number": copy.numbers.get(parts.get(r.participant_id, ""))
            if r.participant_id
            else None,
        }
        for r in await consent.records_of(conn, copy.person.id)
    ]


async def _lookups(conn: AsyncConnection, copy: _Copy, ids: list[str]) -> list[dict[str, Any]]:
    """Staff look-ups of the person's messages, and of their cases as a whole."""
    counted: Counter[tuple[datetime, str, str, str | None]] = Counter()
    where: list[Any] = [
        access_log.c.case_id.in_(list(copy.case_keys)) & access_log.c.message_id.is_(None)
    ]
    for part in _chunks(ids):
        where.append(access_log.c.message_id.in_(part))
    for cond in where:
        rows = await conn.execute(
            select(access_log.c.at, access_log.c.action, access_log.c.purpose, cases.c.number)
            .outerjoin(cases, cases.c.id == access_log.c.case_id)
            .where(cond, access_log.c.tenant_id == copy.person.tenant_id)
        )
        for r in rows:
            counted[(r.at, r.action, r.purpose, r.number)] += 1
    return [
        {
            "at": at.isoformat(),
            "action": action,
            "purpose": purpose,
            "case_number": number,
            "messages": count,
        }  # fmt: skip
        for (at, action, purpose, number), count in sorted(
            counted.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or "")
        )
    ]


async def _log_export(
    conn: AsyncConnection, copy: _Copy, msg_rows: Sequence[Any], staff_id: str, now: datetime
) -> None:
    """Handing out the copy is a look-up too, and the next copy will say so."""
    targets: list[tuple[str | None, str | None]] = [(m.case_id, m.id) for m in msg_rows]
    if not targets:
        targets = [(c, None) for c in copy.case_keys] or [(None, None)]
    await conn.execute(
        access_log.insert(),
        [
            {
                "id": new_id(),
                "tenant_id": copy.person.tenant_id,
                "staff_id": staff_id,
                "action": "export",
                "case_id": case_id,
                "message_id": message_id,
                "purpose": PURPOSE,
                "at": now,
            }
            for case_id, message_id in targets
        ],
    )


async def access_copy(
    svc: Services, person_id: str, *, staff_id: str, tenant_id: str | None = None
) -> dict[str, Any]:
    """Build the copy for ``person_id`` on behalf of ``staff_id`` and log that it was made.

    Args:
        staff_id: the lead or admin producing the copy.
        tenant_id: the requester's municipality; the person must belong to it
            (None: the person's own, for the CLI, still checked against the staff).

    Raises:
        NotFound: no such person in that municipality, or the requester may not.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        q = select(persons, tenants.c.name.label("municipality")).join(
            tenants, tenants.c.id == persons.c.tenant_id
        )
        q = q.where(persons.c.id == person_id)
        if tenant_id is not None:
            q = q.where(persons.c.tenant_id == tenant_id)
        person = (await conn.execute(q)).first()
        if person is None:
            raise NotFound("No such person", code="person_not_found")
        await _requester(conn, staff_id, person.tenant_id)
        pdek = svc.dek("persons", person.id, person.dek)
        copy = _Copy(svc, person, await _chosen(conn, person.tenant_id))

        def own(col: str) -> str | None:
            blob = getattr(person, f"{col}_enc")
            return None if blob is None else svc.unseal(pdek, "persons", person.id, col, blob)

        case_items = await _cases(conn, copy)
        msg_rows = await _messages(conn, copy)
        items = [_message_item(copy, m, pdek) for m in msg_rows]
        ids = [m.id for m in msg_rows]
        notes, records = await _journal(conn, copy, set(ids))
        appts = await _appointments(conn, copy)
        consents = await _consent(conn, copy)
        lookups = await _lookups(conn, copy, ids)
        await _log_export(conn, copy, msg_rows, staff_id, now)
    return {
        "kind": "tovholder.access-copy/2",
        "legal_basis": "GDPR art. 15 (indsigt i egne oplysninger)",
        "generated_at": now.isoformat(),
        "municipality": person.municipality,
        "person": {
            "id": person.id,
            "name": own("name"),
            "phone": own("phone"),
            "language": person.language,
        },
        "cases": case_items,
        "messages": items,
        "notes": notes,
        "records": records,
        "appointments": appts,
        "consent": consents,
        "lookups": lookups,
        "exemptions": copy.exemptions(),
    }


def access_copy_as_pdf(copy: dict[str, Any], font: Path | None = None) -> bytes:
    """The same copy as a PDF, in Danish, times in Danish local time."""
    return access_copy_pdf(
        municipality=copy["municipality"],
        person_name=copy["person"]["name"] or copy["person"]["phone"] or "(ukendt)",
        generated_at=datetime.fromisoformat(copy["generated_at"]),
        cases=[(c["case_number"], ROLES.get(c["role"], c["role"])) for c in copy["cases"]],
        messages=[
            {
                "at": local_time(datetime.fromisoformat(m["at"])),
                "direction": DIRECTIONS.get(m["direction"], m["direction"]),
                "case_number": m["case_number"] or "-",
                "text": m["text"],
            }
            for m in copy["messages"]
        ],
        lookups=[
            {
                "at": local_time(datetime.fromisoformat(look["at"])),
                "action": ACTIONS.get(look["action"], look["action"]),
                "purpose": look["purpose"],
                "case_number": look["case_number"] or "-",
                "count": str(look["messages"]),
            }
            for look in copy["lookups"]
        ],
        font=font,
        sections=_sections(copy),
    )


def _when(iso: str | None) -> str:
    return local_time(datetime.fromisoformat(iso)) if iso else "-"


def _sections(copy: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The parts of the copy beyond messages and look-ups, as PDF lines."""
    notes = [
        (_when(n["at"]), f"Sag {n['case_number'] or '-'}: {n['subject']}. {n['text'] or ''}")
        for n in copy["notes"]
    ]
    records = [
        (_when(r["at"]), f"Sag {r['case_number'] or '-'}: {r['subject']} ({r['kind']})")
        for r in copy["records"]
    ]
    appts = [
        (
            _when(a["starts_at"]),
            f"Sag {a['case_number']}: {a['place'] or a['video_url'] or '-'} ({a['status']})",
        )
        for a in copy["appointments"]
    ]
    consents = [
        (
            _when(c["at"]),
            f"{c['channel']}: {CONSENT_STATES.get(c['state'], c['state'])} ({c['scope']}, "
            f"{c['source']}{', sag ' + c['case_number'] if c['case_number'] else ''})",
        )
        for c in copy["consent"]
    ]
    exempt = [(e["rule"], f"{e['ground']}. Udeladt: {e['withheld']}.") for e in copy["exemptions"]]
    return [
        ("Notater på dine sager", notes),
        ("Registreringer på dine sager (visitering, akut, samtykke m.m.)", records),
        ("Dine aftaler", appts),
        ("Dit samtykke", consents),
        ("Udeladt, og hvorfor", exempt),
    ]
