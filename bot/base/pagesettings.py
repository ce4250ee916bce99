"""Settings for the web pages, read from ``TOVHOLDER_WEB_*`` (``Config.extra``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from bot.base.config import Config, ConfigError

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class WebSettings:
    """How sessions, cookies, codes and live updates behave."""

    secure_cookies: bool
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    # A half-finished login (password given, second factor not yet) lives this long.
    pending_login: timedelta = timedelta(minutes=10)
    code_valid: timedelta = timedelta(minutes=10)
    code_attempts: int = 5
    # One-time codes per phone number, and per client address, in `code_window`.
    codes_per_number: int = 3
    codes_per_ip: int = 20
    code_window: timedelta = timedelta(hours=1)
    # Staff: failed passwords/second factors before the account locks, and for how long.
    staff_attempts: int = 5
    staff_lockout: timedelta = timedelta(minutes=15)
    # Server-sent events: how often an open inbox asks the database for news.
    live_poll_seconds: float = 2.0

    @classmethod
    def from_config(cls, config: Config) -> WebSettings:
        """Secure cookies by default; off only when asked, or for plain-http loopback."""
        extra = config.extra
        raw = extra.get("TOVHOLDER_WEB_SECURE_COOKIES", "").strip().lower()
        if raw in ("1", "true", "yes"):
            secure = True
        elif raw in ("0", "false", "no"):
            secure = False
        elif raw == "":
            parts = urlsplit(config.public_base_url)
            secure = not (parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS)
        else:
            raise ConfigError("TOVHOLDER_WEB_SECURE_COOKIES must be 1 or 0")
        try:
            poll = float(extra.get("TOVHOLDER_WEB_LIVE_POLL", "2.0"))
        except ValueError as exc:
            raise ConfigError("TOVHOLDER_WEB_LIVE_POLL must be a number of seconds") from exc
        if not 0.05 <= poll <= 60:
            raise ConfigError("TOVHOLDER_WEB_LIVE_POLL must be between 0.05 and 60 seconds")
        return cls(secure_cookies=secure, live_poll_seconds=poll)
