"""Demo logins for the caseworkers' web inbox (``tovholder demo`` only).

The password and the TOTP secret are published here on purpose, like the demo
keys in ``bot.base.config``: ``seed_logins`` refuses to run outside demo mode.
"""

from __future__ import annotations

from bot.base.services import Services
from bot.domain.accounts import provisioning_uri, set_credentials

DEMO_PASSWORD = "tovholder-demo-kode"
# Base32; enter it in any authenticator app, or run: python -c "import pyotp;
# print(pyotp.TOTP('JBSWY3DPEHPK3PXPTOVHOLDERDEMO234').now())"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPTOVHOLDERDEMO234"


async def seed_logins(svc: Services, staff_ids: dict[str, str]) -> list[tuple[str, str]]:
    """Give each demo staff member a web login. Returns (username, otpauth URI) pairs.

    Args:
        staff_ids: demo key (e.g. "mette") -> staff id; the username is ``<key>@demo``.
    """
    if not svc.config.demo_mode:
        raise RuntimeError("demo logins are only for demo mode")
    result = []
    for key, staff_id in staff_ids.items():
        username = f"{key}@demo"
        await set_credentials(
            svc,
            staff_id=staff_id,
            username=username,
            password=DEMO_PASSWORD,
            totp_secret=DEMO_TOTP_SECRET,
        )
        result.append((username, provisioning_uri(DEMO_TOTP_SECRET, username)))
    return result
