"""Attempt limits hold under concurrency: passwords, TOTP codes and SMS login codes."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.base.pagesettings import WebSettings
from bot.domain import accounts, codes
from bot.http.pages.page import SETTINGS
from bot.store.schema.pages import web_login_codes, web_staff_credentials
from tests.harness import Stack
from tests.web.conftest import Login, code_from_sms

PARALLEL = 40


def _settings(stack: Stack) -> WebSettings:
    return stack.client.server.app[SETTINGS]


async def _refusals(calls: list) -> list[str]:  # type: ignore[type-arg]
    results = await asyncio.gather(*calls, return_exceptions=True)
    reasons = []
    for result in results:
        assert isinstance(result, accounts.LoginRefused | codes.CodeRefused), result
        reasons.append(result.reason)
    return reasons


async def test_parallel_wrong_passwords_lock_the_account(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Forty wrong passwords at once: at most five are checked, the account locks, and the right password is then refused."""
    mette, settings = logins["mette"], _settings(stack)
    reasons = await _refusals(
        [
            accounts.check_password(stack.svc, settings, mette.username, f"wrong-{i}")
            for i in range(PARALLEL)
        ]
    )
    assert reasons.count("bad") <= settings.staff_attempts
    assert "locked" in reasons
    refused = await _refusals(
        [accounts.check_password(stack.svc, settings, mette.username, mette.password)]
    )
    assert refused == ["locked"]
    async with stack.svc.read() as conn:
        row = (
            await conn.execute(
                select(web_staff_credentials.c.locked_until).where(
                    web_staff_credentials.c.username == mette.username
                )
            )
        ).one()
    assert row.locked_until is not None


async def test_parallel_wrong_totp_codes_lock_the_account(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Forty wrong TOTP codes at once after a right password: at most five are checked, then even the right code is refused."""
    mette, settings = logins["mette"], _settings(stack)
    staff_id = await accounts.check_password(stack.svc, settings, mette.username, mette.password)
    right = mette.code(stack)
    wrong = [f"{(int(right) + i + 1) % 1_000_000:06d}" for i in range(PARALLEL)]
    reasons = await _refusals(
        [accounts.check_totp(stack.svc, settings, staff_id, code) for code in wrong]
    )
    assert reasons.count("bad") <= settings.staff_attempts
    assert await _refusals([accounts.check_totp(stack.svc, settings, staff_id, right)]) == [
        "locked"
    ]


async def test_a_right_password_does_not_buy_fresh_totp_tries(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Four wrong TOTP codes, the right password again, one more wrong code: locked (the password gives back only its own try)."""
    mette, settings = logins["mette"], _settings(stack)
    staff_id = await accounts.check_password(stack.svc, settings, mette.username, mette.password)
    for _ in range(4):
        await _refusals([accounts.check_totp(stack.svc, settings, staff_id, "000000")])
    await accounts.check_password(stack.svc, settings, mette.username, mette.password)
    await _refusals([accounts.check_totp(stack.svc, settings, staff_id, "000000")])
    assert await _refusals(
        [accounts.check_password(stack.svc, settings, mette.username, mette.password)]
    ) == ["locked"]


async def test_parallel_wrong_sms_codes_are_checked_at_most_the_limit(stack: Stack) -> None:
    """Forty wrong SMS codes at once: exactly as many are compared as the limit allows, and then the right code is refused."""
    settings = _settings(stack)
    phone = stack.world.phones["anna"]
    flow = await codes.request_code(
        stack.svc,
        settings,
        tenant_id=stack.world.tenant_id,
        phone=phone,
        client_ip="192.0.2.10",
        text=lambda language, code, minutes: f"Din kode er {code}.",
    )
    right = await code_from_sms(stack, phone)
    wrong = [f"{(int(right) + i + 1) % 1_000_000:06d}" for i in range(PARALLEL)]
    reasons = await _refusals([codes.verify_code(stack.svc, settings, flow, c) for c in wrong])
    assert reasons.count("wrong") == settings.code_attempts - 1
    assert reasons.count("attempts") == PARALLEL - settings.code_attempts + 1
    async with stack.svc.read() as conn:
        attempts = (await conn.execute(select(web_login_codes.c.attempts))).scalar_one()
    assert attempts == settings.code_attempts
    assert await _refusals([codes.verify_code(stack.svc, settings, flow, right)]) == ["attempts"]
