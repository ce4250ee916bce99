"""Idempotency-Key: the same POST twice gives one effect and the same answer.

The key's row is inserted first, in the same transaction as the effect, and
the answer is stored in it before commit. A concurrent duplicate blocks on the
unique constraint (PostgreSQL) or on the single-writer lock (SQLite) until the
first commits, then finds the row and replays its answer. If the first fails,
its row is rolled back with everything else and the duplicate runs instead.
A key reused with a different request is refused (422). Rows are kept for
``RETENTION``; after that the key may be used afresh.

Caseworker (staff-token) and operator POSTs cannot share the view's
transaction: those views open their own. Their key is therefore *claimed* first in a committed
row (``pending``), the view runs, and the answer is stored (``done``). A
duplicate that finds the claim waits for the answer and replays it; if the
view fails with a client error the claim is released and a retry runs
afresh. If the server stops between the view's commit and storing the answer,
nobody can know whether the effect happened: the key then answers 409
``idempotency_key_in_doubt`` (never a second effect) until it expires. Whose
keys they are is an :class:`Owner`: a caseworker's (``staff_idempotency_keys``)
or the deployment operator's, per operator token (``operator_idempotency_keys``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, overload

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.errors import ApiError, BadInput
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain.integration.credentials import Integration
from bot.store.schema.integration import (
    idempotency_keys,
    operator_idempotency_keys,
    staff_idempotency_keys,
)

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
# A staff claim older than this without an answer: its server stopped mid-way.
LEASE = timedelta(minutes=2)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

# The answer for a row that is inserted but not yet finished (never committed).
_PENDING = 0


@dataclass(frozen=True, slots=True)
class Stored:
    """A previous request's hash and answer."""

    request_hash: str
    status: int
    payload: dict[str, Any] | None


@overload
def key_from(headers: Any) -> str: ...


@overload
def key_from(headers: Any, *, required: bool) -> str | None: ...


def key_from(headers: Any, *, required: bool = True) -> str | None:
    """The request's Idempotency-Key, checked (400 when missing or malformed).

    With ``required=False`` a missing header gives None.
    """
    values = headers.getall(HEADER, [])
    if not values:
        if not required:
            return None
        raise BadInput(f"POST needs an {HEADER} header", code="idempotency_key_required")
    if len(values) > 1 or not _KEY.match(values[0]):
        raise BadInput(
            f"{HEADER} must be 1-200 printable ASCII characters", code="bad_idempotency_key"
        )
    return str(values[0])


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def reused() -> ApiError:
    return ApiError(
        "This Idempotency-Key was used with a different request",
        code="idempotency_key_reused",
        status=422,
    )


async def lookup(conn: AsyncConnection, svc: Services, who: Integration, key: str) -> Stored | None:
    row = (
        await conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.key_id == who.key_id, idempotency_keys.c.idem_key == key
            )
        )
    ).first()
    if row is None or row.created_at < svc.clock.now() - RETENTION:
        return None
    dek = svc.dek("idempotency_keys", row.id, row.dek)
    text = svc.unseal(dek, "idempotency_keys", row.id, "response", row.response_enc)
    payload = json.loads(text)
    return Stored(row.request_hash, row.status, payload)


async def begin(
    conn: AsyncConnection, svc: Services, who: Integration, key: str, req_hash: str
) -> tuple[str, bytes]:
    """Claim the key inside the caller's transaction (IntegrityError: someone else has it)."""
    # An expired row of the same key makes room for the new one.
    await conn.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.key_id == who.key_id,
            idempotency_keys.c.idem_key == key,
            idempotency_keys.c.created_at < svc.clock.now() - RETENTION,
        )
    )
    row_id = new_id()
    dek, wrapped = svc.new_dek("idempotency_keys", row_id)
    await conn.execute(
        idempotency_keys.insert().values(
            id=row_id,
            tenant_id=who.tenant_id,
            key_id=who.key_id,
            idem_key=key,
            request_hash=req_hash,
            status=_PENDING,
            dek=wrapped,
            response_enc=b"",
            created_at=svc.clock.now(),
        )
    )
    return row_id, dek


async def finish(
    conn: AsyncConnection,
    svc: Services,
    row_id: str,
    dek: bytes,
    status: int,
    payload: dict[str, Any] | None,
) -> None:
    """Store the answer in the claimed row, in the same transaction as the effect."""
    await conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.id == row_id)
        .values(
            status=status,
            response_enc=svc.seal(dek, "idempotency_keys", row_id, "response", json.dumps(payload)),
        )
    )


async def purge(svc: Services) -> int:
    """Forget answers older than RETENTION. Returns how many rows went."""
    async with svc.write() as conn:
        done = await conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.created_at < svc.clock.now() - RETENTION
            )
        )
        claimed = 0
        for table in (staff_idempotency_keys, operator_idempotency_keys):
            gone = await conn.execute(
                delete(table).where(table.c.created_at < svc.clock.now() - RETENTION)
            )
            claimed += int(gone.rowcount or 0)
    return int(done.rowcount or 0) + claimed


# -- caseworker (staff-token) and operator POSTs: claimed keys ----------------


@dataclass(frozen=True, slots=True)
class ClaimedAnswer:
    """An earlier request with this claimed key: its hash and, once done, its answer."""

    request_hash: str
    done: bool
    status: int
    content_type: str | None
    body: bytes
    created_at: datetime


def in_progress() -> ApiError:
    return ApiError(
        "A request with this Idempotency-Key is still being handled; retry shortly",
        code="idempotency_key_in_progress",
        status=409,
    )


def in_doubt() -> ApiError:
    return ApiError(
        "A request with this Idempotency-Key stopped before it answered; check the result "
        "and use a new key",
        code="idempotency_key_in_doubt",
        status=409,
    )


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose claimed keys: a caseworker's (per municipality and staff member) or the operator's.

    A key is the owner's alone: the same key from another caller is another key.
    """

    table: Table
    match: tuple[tuple[str, str], ...]

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions that pick this owner's rows."""
        return [self.table.c[name] == value for name, value in self.match]


def staff_owner(tenant_id: str, staff_id: str) -> Owner:
    """A caseworker's keys."""
    return Owner(staff_idempotency_keys, (("tenant_id", tenant_id), ("staff_id", staff_id)))


def operator_owner(token: str) -> Owner:
    """The deployment operator's keys, scoped by the token (its SHA-256; never the token)."""
    digest = hashlib.sha256(f"tovholder-operator:{token}".encode()).hexdigest()
    return Owner(operator_idempotency_keys, (("caller", digest),))


async def claim_lookup(
    conn: AsyncConnection, svc: Services, owner: Owner, key: str
) -> ClaimedAnswer | None:
    """The owner's earlier request with this key (within ``RETENTION``), answered or not."""
    t = owner.table
    row = (await conn.execute(select(t).where(*owner.where(), t.c.idem_key == key))).first()
    if row is None or row.created_at < svc.clock.now() - RETENTION:
        return None
    body = b""
    if row.state == "done" and row.response_enc:
        dek = svc.dek(t.name, row.id, row.dek)
        body = svc.unseal(dek, t.name, row.id, "response", row.response_enc).encode()
    return ClaimedAnswer(
        row.request_hash, row.state == "done", row.status, row.content_type, body, row.created_at
    )


async def claim(svc: Services, owner: Owner, key: str, req_hash: str) -> tuple[str, bytes] | None:
    """Claim the key in its own committed transaction; None when it is already held.

    The table's unique constraint on (owner, key) is what lets only one of two
    concurrent duplicates through.
    """
    t = owner.table
    now = svc.clock.now()
    row_id = new_id()
    dek, wrapped = svc.new_dek(t.name, row_id)
    try:
        async with svc.write() as conn:
            await conn.execute(
                delete(t).where(
                    *owner.where(), t.c.idem_key == key, t.c.created_at < now - RETENTION
                )
            )
            await conn.execute(
                t.insert().values(
                    id=row_id,
                    **dict(owner.match),
                    idem_key=key,
                    request_hash=req_hash,
                    state="pending",
                    status=_PENDING,
                    content_type=None,
                    dek=wrapped,
                    response_enc=b"",
                    created_at=now,
                )
            )
    except IntegrityError:
        return None
    return row_id, dek


async def claim_finish(
    svc: Services,
    owner: Owner,
    row_id: str,
    dek: bytes,
    status: int,
    content_type: str | None,
    body: str,
) -> None:
    """Store the view's answer in the claimed row."""
    t = owner.table
    async with svc.write() as conn:
        await conn.execute(
            update(t)
            .where(t.c.id == row_id)
            .values(
                state="done",
                status=status,
                content_type=content_type,
                response_enc=svc.seal(dek, t.name, row_id, "response", body),
            )
        )


async def claim_release(svc: Services, owner: Owner, row_id: str) -> None:
    """Give the key back: the view failed without an effect, so a retry may run."""
    t = owner.table
    async with svc.write() as conn:
        await conn.execute(delete(t).where(t.c.id == row_id, t.c.state == "pending"))
