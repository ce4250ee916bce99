"""The service context: everything domain code needs, built once by the app factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.base.batcher import GroupCommit
from bot.base.clock import Clock
from bot.base.config import Config, is_sqlite
from bot.base.crypto import BlindIndex, KeyRing, SealingKey, seal, unseal
from bot.base.errors import Conflict, StorageUnavailable
from bot.base.workdays import WorkingCalendar
from channels.base import SmsGateway
from channels.email import EmailNotices

# An open connection (inside a transaction when it came from Services.write): what
# a view holds and hands to the domain without running statements on it itself.
Connection = AsyncConnection


@dataclass(frozen=True, slots=True)
class FiledSms:
    """A citizen's SMS as filed on a case, with what a hook needs to act on it."""

    svc: Services
    conn: AsyncConnection
    tenant_id: str
    case_id: str
    person_id: str
    conversation_id: str
    message_id: str
    body: str
    language: str
    key: SealingKey
    now: datetime
    # What the pipeline settled the SMS means (a wish the family confirmed with "JA"),
    # else None: a hook reads the body itself.
    intent: str | None = None
    # Filed in a batch: what the hooks fetched for all the batch's SMS at once (one dict,
    # shared; each hook its own keys: bot.base.hooks.prefetch). None alone: a hook asks itself.
    batch: dict[Any, Any] | None = None


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What the hook decided.

    Attributes:
        reply: sent to the citizen instead of the standard receipt (None: the
            standard receipt, if one is due).
        awaiting_reply: False when no caseworker needs to answer (e.g. "OK").
    """

    reply: str | None = None
    awaiting_reply: bool = True


class InboundHook(Protocol):
    async def __call__(self, filed: FiledSms) -> HookOutcome | None: ...


@dataclass
class Services:
    """One per process: config, database, clock, keys, calendar and the SMS gateway."""

    config: Config
    engine: AsyncEngine
    clock: Clock
    keyring: KeyRing
    blind_index: BlindIndex
    calendar: WorkingCalendar
    # Sends (primary, then secondary when its breaker is open).
    gateway: SmsGateway
    # Every gateway by name, to verify its own webhooks.
    gateways: dict[str, SmsGateway] = field(default_factory=dict)
    # E-mail notices (never content), when an SMTP relay is configured.
    email: EmailNotices | None = None
    # Called after a commit that queued outbound work, to run the relay soon.
    wake_relay: Callable[[], None] = lambda: None
    # Run after a citizen's SMS is filed on a case; see bot.base.hooks.
    inbound_hooks: list[InboundHook] = field(default_factory=list)
    # Files inbound SMS that arrive together in one transaction (PostgreSQL); see
    # bot.domain.inbound.receive_sms. None: each SMS in its own.
    batcher: GroupCommit[Any, Any] | None = None
    _sqlite_write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.config.database_url)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. SQLite allows one writer, so writes queue here."""
        try:
            if self.sqlite:
                async with self._sqlite_write_lock, self.engine.begin() as conn:
                    yield conn
            else:
                async with self.engine.begin() as conn:
                    yield conn
        except (OperationalError, ConnectionError, OSError) as exc:
            raise StorageUnavailable("the database is unavailable; try again") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StorageUnavailable("the database is unavailable; try again") from exc
            raise

    @asynccontextmanager
    async def write_or_conflict(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction whose constraint violations answer 409 ``conflict``.

        For views that let the client retry a change that met another one (a
        unique key taken meanwhile): the transaction rolls back whole.
        """
        try:
            async with self.write() as conn:
                yield conn
        except IntegrityError as exc:
            raise Conflict("The change conflicts with another one; retry", code="conflict") from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except (OperationalError, ConnectionError, OSError) as exc:
            raise StorageUnavailable("the database is unavailable; try again") from exc

    # -- encryption helpers: one DEK per case / person / staff member -------------

    def dek(self, table: str, row_id: str, wrapped: bytes) -> bytes:
        return self.keyring.unwrap(wrapped, f"dek:{table}:{row_id}")

    def new_dek(self, table: str, row_id: str) -> tuple[bytes, bytes]:
        return self.keyring.new_wrapped_key(f"dek:{table}:{row_id}")

    @staticmethod
    def seal(dek: bytes, table: str, row_id: str, column: str, text: str) -> bytes:
        return seal(dek, text, f"{table}:{row_id}:{column}")

    @staticmethod
    def unseal(dek: bytes, table: str, row_id: str, column: str, blob: bytes) -> str:
        return unseal(dek, blob, f"{table}:{row_id}:{column}")
