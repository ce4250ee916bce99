"""Caseworkers' local accounts: password (argon2id) and a TOTP second factor (RFC 6238).

The TOTP secret is sealed under the staff member's own data key. A code is
accepted once (its time step is remembered), within one step of the clock.
After too many failed passwords or codes the account locks for a while.

Where the municipality has an identity provider (OpenID Connect, e.g. AD FS
or Entra ID), caseworkers log in there instead (``bot.domain.identity``);
local accounts stay for demos and small setups.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, or_, select, update

from bot.base.clock import COPENHAGEN
from bot.base.crypto import unseal
from bot.base.errors import BadInput, NotFound
from bot.base.pagesettings import WebSettings
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.store.schema.core import staff
from bot.store.schema.pages import web_staff_credentials

MIN_PASSWORD = 12
TOTP_STEP = 30
# OWASP's argon2id setting (19 MiB, 2 passes, 1 lane): about 0.1 s here, so a
# burst of logins cannot eat the CPU the way the library default (64 MiB, 4 lanes) does.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so both answers take as long.
    return _hasher.hash("tovholder-no-such-user")


class LoginRefused(Exception):
    """The password or code was wrong (``reason="bad"``) or the account is locked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """A staff member as the pages show them."""

    user: StaffUser
    first_name: str
    full_name: str


def normalise_username(username: str) -> str:
    return username.strip().lower()


async def set_credentials(
    svc: Services,
    *,
    staff_id: str,
    username: str,
    password: str,
    totp_secret: str | None = None,
) -> str:
    """Give a staff member a login. Returns the TOTP secret (base32) to enrol in an app.

    Args:
        totp_secret: a given secret (the demo uses a published one); random otherwise.
    """
    username = normalise_username(username)
    if not username or len(username) > 200:
        raise BadInput("The username must be 1 to 200 characters", code="bad_field")
    if len(password) < MIN_PASSWORD:
        raise BadInput(
            f"The password must be at least {MIN_PASSWORD} characters", code="weak_password"
        )
    secret = totp_secret or pyotp.random_base32()
    pyotp.TOTP(secret).now()  # refuses a malformed secret early
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    now = svc.clock.now()
    async with svc.write() as conn:
        row = (
            await conn.execute(select(staff.c.tenant_id, staff.c.dek).where(staff.c.id == staff_id))
        ).first()
        if row is None:
            raise NotFound("No such staff member", code="staff_not_found")
        dek = svc.dek("staff", staff_id, row.dek)
        values = {
            "tenant_id": row.tenant_id,
            "username": username,
            "password_hash": password_hash,
            "totp_secret_enc": svc.seal(dek, "staff", staff_id, "totp_secret", secret),
            "totp_last_step": None,
            "failed_attempts": 0,
            "locked_until": None,
            "updated_at": now,
        }
        done = await conn.execute(
            update(web_staff_credentials)
            .where(web_staff_credentials.c.staff_id == staff_id)
            .values(**values)
        )
        if done.rowcount == 0:
            await conn.execute(
                web_staff_credentials.insert().values(staff_id=staff_id, created_at=now, **values)
            )
    return secret


def provisioning_uri(secret: str, username: str, issuer: str = "Tovholder") -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


async def _reserve_attempt(svc: Services, settings: WebSettings, staff_id: str) -> int:
    """Count one attempt before it is checked; the count it makes.

    One statement that waits for any other attempt on the account, so parallel
    guesses cannot all read the same count while the slow check runs: the
    first ``staff_attempts`` are checked, every later one is refused.

    Raises:
        LoginRefused: ("locked") the account is locked, or this attempt is past the limit.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        count = (
            await conn.execute(
                update(web_staff_credentials)
                .where(
                    web_staff_credentials.c.staff_id == staff_id,
                    or_(
                        web_staff_credentials.c.locked_until.is_(None),
                        web_staff_credentials.c.locked_until <= now,
                    ),
                )
                .values(failed_attempts=web_staff_credentials.c.failed_attempts + 1, updated_at=now)
                .returning(web_staff_credentials.c.failed_attempts)
            )
        ).scalar_one_or_none()
    if count is None:
        raise LoginRefused("locked")
    if count > settings.staff_attempts:
        await _lock(svc, settings, staff_id)
        raise LoginRefused("locked")
    return int(count)


async def _fail(svc: Services, settings: WebSettings, staff_id: str, count: int) -> None:
    """An attempt (already counted) failed: the last one allowed locks the account."""
    if count >= settings.staff_attempts:
        await _lock(svc, settings, staff_id)


async def _lock(svc: Services, settings: WebSettings, staff_id: str) -> None:
    now = svc.clock.now()
    async with svc.write() as conn:
        await conn.execute(
            update(web_staff_credentials)
            .where(web_staff_credentials.c.staff_id == staff_id)
            .values(failed_attempts=0, locked_until=now + settings.staff_lockout, updated_at=now)
        )


async def _give_back(svc: Services, staff_id: str, **values: object) -> None:
    """A right password: the attempt it counted is given back (and ``values`` are stored).

    Not reset: the count also holds wrong TOTP codes, and a known password must
    not buy an attacker fresh tries at the second factor.
    """
    attempts = web_staff_credentials.c.failed_attempts
    async with svc.write() as conn:
        await conn.execute(
            update(web_staff_credentials)
            .where(web_staff_credentials.c.staff_id == staff_id)
            .values(
                failed_attempts=case((attempts > 0, attempts - 1), else_=0),
                updated_at=svc.clock.now(),
                **values,
            )
        )


def _locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


async def check_password(svc: Services, settings: WebSettings, username: str, password: str) -> str:
    """The staff id whose password this is.

    Raises:
        LoginRefused: wrong username or password ("bad"), or the account is locked.
    """
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(web_staff_credentials)
                .join(staff, staff.c.id == web_staff_credentials.c.staff_id)
                .where(
                    web_staff_credentials.c.username == normalise_username(username),
                    staff.c.active.is_(True),
                )
            )
        ).first()
    if row is None:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        raise LoginRefused("bad")
    if _locked(row.locked_until, svc.clock.now()):
        raise LoginRefused("locked")
    count = await _reserve_attempt(svc, settings, row.staff_id)
    if not await asyncio.to_thread(_verify, row.password_hash, password):
        await _fail(svc, settings, row.staff_id, count)
        raise LoginRefused("bad")
    if _hasher.check_needs_rehash(row.password_hash):
        new_hash = await asyncio.to_thread(_hasher.hash, password)
        await _give_back(svc, row.staff_id, password_hash=new_hash)
    else:
        await _give_back(svc, row.staff_id)
    return str(row.staff_id)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def check_totp(svc: Services, settings: WebSettings, staff_id: str, code: str) -> None:
    """Accept a TOTP code once, within one time step of now.

    Raises:
        LoginRefused: a wrong, reused or malformed code ("bad"), or a locked account.
    """
    code = code.strip().replace(" ", "")
    now = svc.clock.now()
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(web_staff_credentials, staff.c.dek)
                .join(staff, staff.c.id == web_staff_credentials.c.staff_id)
                .where(web_staff_credentials.c.staff_id == staff_id, staff.c.active.is_(True))
            )
        ).first()
    if row is None:
        raise LoginRefused("bad")
    if _locked(row.locked_until, now):
        raise LoginRefused("locked")
    count = await _reserve_attempt(svc, settings, staff_id)
    dek = svc.dek("staff", staff_id, row.dek)
    totp = pyotp.TOTP(unseal(dek, row.totp_secret_enc, f"staff:{staff_id}:totp_secret"))
    step = int(now.timestamp()) // TOTP_STEP
    matched = None
    if len(code) == 6 and code.isascii() and code.isdigit():
        for candidate in (step - 1, step, step + 1):
            if hmac.compare_digest(totp.generate_otp(candidate), code):
                matched = candidate
    if matched is None or (row.totp_last_step is not None and matched <= row.totp_last_step):
        await _fail(svc, settings, staff_id, count)
        raise LoginRefused("bad")
    async with svc.write() as conn:
        done = await conn.execute(
            update(web_staff_credentials)
            .where(
                web_staff_credentials.c.staff_id == staff_id,
                # Two browsers racing with the same code: only one wins.
                (web_staff_credentials.c.totp_last_step.is_(None))
                | (web_staff_credentials.c.totp_last_step < matched),
            )
            .values(totp_last_step=matched, failed_attempts=0, updated_at=now)
        )
    if done.rowcount != 1:
        raise LoginRefused("bad")


async def identity(svc: Services, staff_id: str) -> StaffIdentity | None:
    """The active staff member behind a session, with their names decrypted."""
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(staff).where(staff.c.id == staff_id, staff.c.active.is_(True))
            )
        ).first()
    if row is None:
        return None
    dek = svc.dek("staff", row.id, row.dek)
    return StaffIdentity(
        user=StaffUser(
            row.id,
            row.tenant_id,
            row.team_id,
            row.role,
            svc.clock.now().astimezone(COPENHAGEN).date(),
        ),
        first_name=unseal(dek, row.first_name_enc, f"staff:{row.id}:first_name"),
        full_name=unseal(dek, row.full_name_enc, f"staff:{row.id}:full_name"),
    )
