"""Bulk import of teams, staff, persons, cases and participants from CSV or JSON.

Rows name each other by the case system's own keys, not our ids: a team by
its name, a staff member or a person by ``ref``, a case by its number.
Each row is imported in its own transaction, so a rejected row leaves
nothing behind; the report names every rejected row and why. A row whose
record already exists (same ref, case number, team name or participant) is
skipped, so an import can be run again after fixing the rejects.

Sections are imported in dependency order: teams, staff, persons, cases,
participants. Formats:

- JSON: ``{"teams": [{...}], "staff": [...], ...}``;
- CSV: one file per kind, with a header row (``,`` or ``;``); the kind is
  given or taken from the file name (``staff.csv``).

Columns: teams ``administration, name[, reply_days]``; staff ``ref, team,
first_name, full_name[, role]``; persons ``ref, name[, first_name, phone,
language]``; cases ``number, team, owner[, case_type, kle_code]`` (owner is
a staff ref); participants ``case, person, role[, entitled, authority_from,
authority_to, consent_sms, consent_web]`` (case number, person ref).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import ApiError, BadInput
from bot.base.services import Services
from bot.domain.integration import participants as roster
from bot.domain.integration import service
from bot.domain.integration.rows import resolve_ref
from bot.http.integration.api import CASE_TYPE, KLE, REF, obj, text
from bot.http.validation import validate
from bot.store.schema.core import administrations, cases, participants, teams

log = logging.getLogger(__name__)

KINDS = ("teams", "staff", "persons", "cases", "participants")

_BOOL = {"": None, "true": True, "false": False, "ja": True, "nej": False, "1": True, "0": False}
_OPT_TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": 200}

ROW_SCHEMAS: dict[str, dict[str, Any]] = {
    "teams": obj(
        {
            "administration": text(200),
            "name": text(200),
            "reply_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 60},
        },
        ("administration", "name"),
    ),
    "staff": obj(
        {
            "ref": REF,
            "team": text(200),
            "first_name": text(100),
            "full_name": text(200),
            "role": {"type": ["string", "null"], "enum": ["caseworker", "lead", "admin", None]},
        },
        ("ref", "team", "first_name", "full_name"),
    ),
    "persons": obj(
        {
            "ref": REF,
            "name": text(200),
            "first_name": {"type": ["string", "null"], "maxLength": 100},
            "phone": {"type": ["string", "null"], "maxLength": 32},
            "language": {"type": ["string", "null"], "pattern": "^[a-z]{2,3}$"},
        },
        ("ref", "name"),
    ),
    "cases": obj(
        {
            "number": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9][A-Za-z0-9./_-]*$",
                "maxLength": 64,
            },
            "team": text(200),
            "owner": REF,
            "case_type": {**CASE_TYPE, "type": ["string", "null"]},
            "kle_code": KLE,
        },
        ("number", "team", "owner"),
    ),
    "participants": obj(
        {
            "case": text(64),
            "person": REF,
            "role": {"type": "string", "enum": ["party", "parent", "bisidder", "representative"]},
            "entitled": {"type": ["boolean", "null"]},
            "authority_from": {"type": ["string", "null"], "format": "date"},
            "authority_to": {"type": ["string", "null"], "format": "date"},
            "consent_sms": {"type": ["boolean", "null"]},
            "consent_web": {"type": ["boolean", "null"]},
        },
        ("case", "person", "role"),
    ),
}
_INTS = {"reply_days"}
_BOOLS = {"entitled", "consent_sms", "consent_web"}


class Progress(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported, and why (no personal data in ``reason``)."""

    kind: str
    line: int
    reason: str
    row: Mapping[str, Any]


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejected] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        for kind in KINDS:
            c, s = self.created[kind], self.skipped[kind]
            r = sum(1 for x in self.rejected if x.kind == kind)
            if c or s or r:
                parts.append(f"{kind}: {c} created, {s} already there, {r} rejected")
        return "; ".join(parts) or "nothing to import"


class _Skip(Exception):
    """The row's record already exists."""


# -- reading files ---------------------------------------------------------------------

Rows = list[tuple[int, dict[str, Any]]]


def read_file(path: Path, kind: str | None = None) -> dict[str, Rows]:
    """Rows per kind from a JSON or CSV file (line numbers for the report)."""
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(raw)
        if not isinstance(data, dict) or not set(data) <= set(KINDS):
            raise BadInput(f"A JSON import is an object with keys among {', '.join(KINDS)}")
        out: dict[str, Rows] = {}
        for k, rows in data.items():
            if not isinstance(rows, list):
                raise BadInput(f"{k} must be a list of rows")
            out[k] = [(i + 1, r if isinstance(r, dict) else {"_": r}) for i, r in enumerate(rows)]
        return out
    kind = kind or path.stem.lower()
    if kind not in KINDS:
        raise BadInput(f"Say which kind the CSV holds ({', '.join(KINDS)}) with --kind")
    first = raw.splitlines()[0] if raw else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
    return {kind: [(reader.line_num, dict(row)) for row in reader]}


def _clean(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """Turn CSV text into typed values (empty → null) and validate the row's shape."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            raise BadInput("The row has more cells than the header")
        name = key.strip().lower()
        if isinstance(value, str):
            value = value.strip()
            if name in _INTS:
                if value == "":
                    value = None
                elif value.isdigit():
                    value = int(value)
            elif name in _BOOLS:
                value = _BOOL.get(value.lower(), value)
            elif value == "":
                value = None
        out[name] = value
    for name in ROW_SCHEMAS[kind]["required"]:
        if out.get(name) is None:
            raise BadInput(f"Missing field: {name}")
    out = {k: v for k, v in out.items() if v is not None or k in _BOOLS}
    validate(out, ROW_SCHEMAS[kind])
    return out


# -- one row each -------------------------------------------------------------------------


async def _team_by_name(conn: AsyncConnection, tenant_id: str, name: str) -> Any:
    found = (
        await conn.execute(
            select(teams).where(teams.c.tenant_id == tenant_id, teams.c.name == name)
        )
    ).all()
    if not found:
        raise BadInput(f"No team named {name!r}")
    if len(found) > 1:
        raise BadInput(f"Several teams are named {name!r}")
    return found[0]


async def _ref(conn: AsyncConnection, tenant_id: str, kind: str, ref: str) -> str:
    row_id = await resolve_ref(conn, tenant_id, kind, ref)
    if row_id is None:
        raise BadInput(f"No {kind} with ref {ref!r}")
    return row_id


async def _team(conn: AsyncConnection, svc: Services, tenant_id: str, r: dict[str, Any]) -> None:
    admin_id = (
        await conn.execute(
            select(administrations.c.id).where(
                administrations.c.tenant_id == tenant_id,
                administrations.c.name == r["administration"],
            )
        )
    ).scalar_one_or_none()
    if admin_id is None:
        admin_id = (
            await service.create_administration(conn, svc, tenant_id, name=r["administration"])
        )["id"]
    exists = (
        await conn.execute(
            select(teams.c.id).where(
                teams.c.tenant_id == tenant_id,
                teams.c.administration_id == admin_id,
                teams.c.name == r["name"],
            )
        )
    ).first()
    if exists is not None:
        raise _Skip
    await service.create_team(
        conn,
        svc,
        tenant_id,
        administration_id=admin_id,
        name=r["name"],
        reply_days=r.get("reply_days", 2),
    )


async def _staff(conn: AsyncConnection, svc: Services, tenant_id: str, r: dict[str, Any]) -> None:
    if await resolve_ref(conn, tenant_id, "staff", r["ref"]) is not None:
        raise _Skip
    team = await _team_by_name(conn, tenant_id, r["team"])
    await service.create_staff(
        conn,
        svc,
        tenant_id,
        team_id=team.id,
        first_name=r["first_name"],
        full_name=r["full_name"],
        role=r.get("role", "caseworker"),
        ref=r["ref"],
    )


async def _person(conn: AsyncConnection, svc: Services, tenant_id: str, r: dict[str, Any]) -> None:
    if await resolve_ref(conn, tenant_id, "person", r["ref"]) is not None:
        raise _Skip
    await service.create_person(
        conn,
        svc,
        tenant_id,
        name=r["name"],
        first_name=r.get("first_name"),
        phone=r.get("phone"),
        language=r.get("language", "da"),
        ref=r["ref"],
    )


async def _case(conn: AsyncConnection, svc: Services, tenant_id: str, r: dict[str, Any]) -> None:
    exists = (
        await conn.execute(
            select(cases.c.id).where(cases.c.tenant_id == tenant_id, cases.c.number == r["number"])
        )
    ).first()
    if exists is not None:
        raise _Skip
    team = await _team_by_name(conn, tenant_id, r["team"])
    owner = await _ref(conn, tenant_id, "staff", r["owner"])
    data = {"number": r["number"], "team_id": team.id, "owner_id": owner}
    for key in ("case_type", "kle_code"):
        if key in r:
            data[key] = r[key]
    await service.create_case(conn, svc, tenant_id, data)


async def _participant(
    conn: AsyncConnection, svc: Services, tenant_id: str, r: dict[str, Any]
) -> None:
    case_id = (
        await conn.execute(
            select(cases.c.id).where(cases.c.tenant_id == tenant_id, cases.c.number == r["case"])
        )
    ).scalar_one_or_none()
    if case_id is None:
        raise BadInput(f"No case numbered {r['case']!r}")
    person_id = await _ref(conn, tenant_id, "person", r["person"])
    exists = (
        await conn.execute(
            select(participants.c.id).where(
                participants.c.case_id == case_id, participants.c.person_id == person_id
            )
        )
    ).first()
    if exists is not None:
        raise _Skip
    data: dict[str, Any] = {"person_id": person_id, "role": r["role"]}
    if r.get("entitled") is not None:
        data["entitled"] = r["entitled"]
    for key in ("authority_from", "authority_to"):
        if key in r:
            data[key] = r[key]
    data["consent"] = {"sms": r.get("consent_sms"), "web": r.get("consent_web")}
    await roster.add_participant(conn, svc, tenant_id, case_id, data)


_IMPORTERS: dict[str, Callable[[AsyncConnection, Services, str, dict[str, Any]], Any]] = {
    "teams": _team,
    "staff": _staff,
    "persons": _person,
    "cases": _case,
    "participants": _participant,
}


async def import_rows(
    svc: Services,
    tenant_id: str,
    kind: str,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    report: ImportReport | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import rows of one kind, one transaction per row."""
    report = report or ImportReport()
    importer = _IMPORTERS[kind]
    for line, raw in rows:
        try:
            row = _clean(kind, raw)
            async with svc.write() as conn:
                await importer(conn, svc, tenant_id, row)
            report.created[kind] += 1
        except _Skip:
            report.skipped[kind] += 1
        except ApiError as exc:
            report.rejected.append(Rejected(kind, line, exc.message, raw))
        except IntegrityError:
            report.rejected.append(Rejected(kind, line, "conflicts with existing data", raw))
        except Exception:
            log.exception("import %s line %s: unexpected failure", kind, line)
            report.rejected.append(Rejected(kind, line, "unexpected error (see the log)", raw))
        if progress is not None:
            progress.update(1)
    return report


async def import_all(
    svc: Services,
    tenant_id: str,
    data: Mapping[str, Rows],
    *,
    progress: Callable[[str, int], Progress] | None = None,
) -> ImportReport:
    """Import every kind present in ``data``, in dependency order."""
    report = ImportReport()
    for kind in KINDS:
        rows = data.get(kind)
        if not rows:
            continue
        bar = progress(kind, len(rows)) if progress is not None else None
        try:
            await import_rows(svc, tenant_id, kind, rows, report=report, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    return report


def write_rejects(report: ImportReport, path: Path) -> None:
    """The rejected rows as CSV: kind, line, reason, then the row's own columns."""
    columns: list[str] = []
    for r in report.rejected:
        for key in r.row:
            if key not in columns:
                columns.append(str(key))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "line", "reason", *columns])
        for r in report.rejected:
            writer.writerow([r.kind, r.line, r.reason, *(r.row.get(c, "") for c in columns)])
