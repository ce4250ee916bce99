"""Configuration: read from the environment (secrets from files), validated at start.

Every setting is a ``TOVHOLDER_*`` environment variable. A secret ``X`` may be
given inline as ``TOVHOLDER_X`` or, preferably, as a path in
``TOVHOLDER_X_FILE``. The service refuses to start with the published demo
keys unless demo mode is on.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from bot.base.crypto import KeyConfigError, parse_key
from channels.email import SmtpConfig

log = logging.getLogger(__name__)

# Published in this repository for the demo only. Config refuses them otherwise.
DEMO_KEK = "ZGVtby1rZWstZG8tbm90LXVzZS1pbi1wcm9kdWN0aW8"
DEMO_INDEX_KEY = "ZGVtby1pbmRleC1rZXktbm90LWZvci1wcm9kdWN0aW8"
DEMO_TWILIO_SID = "AC" + "d" * 32
DEMO_TWILIO_TOKEN = "demo-twilio-auth-token"


class ConfigError(ValueError):
    """The configuration is missing something or is unsafe."""


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    base_url: str = "https://api.twilio.com"
    timeout: float = 10.0


@dataclass(frozen=True)
class GatewayApiConfig:
    token: str
    webhook_secret: str
    base_url: str = "https://gatewayapi.com"
    timeout: float = 10.0


KNOWN_GATEWAYS = ("twilio", "gatewayapi")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """``10.0.0.0/8, 192.0.2.7, ::1`` → networks; a bare address is a /32 (or /128)."""
    nets: list[IPNetwork] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(
                "TOVHOLDER_TRUSTED_PROXIES must be a comma-separated list of addresses or CIDRs"
            ) from exc
    return tuple(nets)


def _smtp(env: Mapping[str, str]) -> SmtpConfig | None:
    host = env.get("TOVHOLDER_SMTP_HOST")
    if not host:
        return None
    tls = env.get("TOVHOLDER_SMTP_TLS", "starttls")
    if tls not in ("starttls", "tls", "none"):
        raise ConfigError("TOVHOLDER_SMTP_TLS must be starttls, tls or none")
    return SmtpConfig(
        host=host,
        port=int(env.get("TOVHOLDER_SMTP_PORT", "587")),
        sender=env.get("TOVHOLDER_SMTP_FROM", "tovholder@localhost"),
        tls=tls,
        username=env.get("TOVHOLDER_SMTP_USERNAME", ""),
        password=_secret(env, "SMTP_PASSWORD") or "",
    )


@dataclass(frozen=True)
class Config:
    database_url: str
    public_base_url: str
    keks: tuple[bytes, ...]
    index_key: bytes
    # None: no Twilio account here (e.g. a GatewayAPI-only municipality).
    twilio: TwilioConfig | None
    host: str = "127.0.0.1"
    port: int = 8080
    demo_mode: bool = False
    # Ticks: the outbox relay runs every this many seconds (and on demand).
    outbox_interval: float = 1.0
    scheduler_enabled: bool = True
    # A thread the citizen was active in this recently is where a new SMS goes.
    thread_recent_days: int = 14
    max_body_chars: int = 1600
    max_request_bytes: int = 64 * 1024
    # Rows per claim: outbox rows per relay pass, due reminders per transaction.
    outbox_batch: int = 50
    reminder_batch: int = 200
    send_concurrency: int = 16
    # Inbound SMS filed together in one transaction at most (PostgreSQL; 1: one at a time),
    # and how many such batches run at once.
    inbound_batch: int = 64
    inbound_lanes: int = 2
    extra: Mapping[str, str] = field(default_factory=dict)
    # Sending order: the first is the primary, the next take over when its breaker opens.
    gateways: tuple[str, ...] = ("twilio",)
    gatewayapi: GatewayApiConfig | None = None
    # Messages per second per gateway (0: no limit).
    gateway_rates: Mapping[str, float] = field(default_factory=dict)
    # "Secure inbox first": minutes a message may stay unread before an SMS notice.
    inbox_unread_minutes: int = 120
    # The SMTP relay for e-mail notices (never content); None: no e-mail.
    smtp: SmtpConfig | None = None
    # Reverse proxies whose X-Forwarded-For is believed (per-IP rate limits).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Live updates: with LISTEN/NOTIFY up, an open inbox still asks this often (safety net).
    live_fallback_seconds: float = 60.0
    # Where the LISTEN connection goes when the pool goes through a transaction-mode
    # PgBouncer (which cannot LISTEN); None: TOVHOLDER_DATABASE_URL.
    listen_database_url: str | None = None

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> Config:
        """Refuse unsafe or incoherent settings; return self for chaining.

        The checks run in a fixed order, so a setting with several faults is
        always refused with the same (first) message.
        """
        self._check_database_url()
        self._check_public_base_url()
        self._check_keys()
        self._check_gateways()
        self._check_credentials()
        self._check_live_updates()
        return self

    def _check_database_url(self) -> None:
        if not self.database_url.startswith(("sqlite+aiosqlite:", "postgresql+asyncpg:")):
            raise ConfigError(
                "TOVHOLDER_DATABASE_URL must be sqlite+aiosqlite:// or postgresql+asyncpg://"
            )

    def _check_public_base_url(self) -> None:
        # Links in SMS and e-mail are this plus a path: anything after the host would break them.
        parts = urlsplit(self.public_base_url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ConfigError(
                "TOVHOLDER_PUBLIC_BASE_URL must be scheme://host[:port] without path or query"
            )

    def _check_keys(self) -> None:
        if not self.keks:
            raise ConfigError("TOVHOLDER_KEKS must hold at least one key")
        if not self.demo_mode:
            self._refuse_demo_secrets()

    def _refuse_demo_secrets(self) -> None:
        demo = {parse_key(DEMO_KEK, what="demo"), parse_key(DEMO_INDEX_KEY, what="demo")}
        if demo & set(self.keks) or self.index_key in demo:
            raise ConfigError("refusing to start with the published demo keys outside demo mode")
        if self.twilio is not None and self.twilio.auth_token == DEMO_TWILIO_TOKEN:
            raise ConfigError("refusing to start with the demo Twilio token outside demo mode")

    def _check_gateways(self) -> None:
        unknown = [g for g in self.gateways if g not in KNOWN_GATEWAYS]
        if unknown or not self.gateways:
            raise ConfigError(
                f"TOVHOLDER_GATEWAYS must list gateways from {', '.join(KNOWN_GATEWAYS)}"
            )
        self.require_gateways(self.gateways)

    def _check_credentials(self) -> None:
        if self.index_key in self.keks:
            raise ConfigError("the blind-index key must differ from every key-encryption key")
        if self.twilio is not None and not self.twilio.account_sid.startswith("AC"):
            raise ConfigError("TOVHOLDER_TWILIO_ACCOUNT_SID must start with AC")

    def _check_live_updates(self) -> None:
        if self.listen_database_url is not None and not (
            self.database_url.startswith("postgresql+asyncpg:")
            and self.listen_database_url.startswith("postgresql+asyncpg:")
        ):
            raise ConfigError(
                "TOVHOLDER_LISTEN_DATABASE_URL must be postgresql+asyncpg://, "
                "and only with a PostgreSQL TOVHOLDER_DATABASE_URL"
            )
        if not 1.0 <= self.live_fallback_seconds <= 3600.0:
            raise ConfigError("TOVHOLDER_LIVE_FALLBACK_SECONDS must be between 1 and 3600")

    def require_gateways(self, names: Iterable[str]) -> None:
        """Refuse unless every named gateway has its credentials here.

        ``validate`` calls it for ``TOVHOLDER_GATEWAYS``; call it too with the
        gateways a municipality's own settings name (``tenant_settings.gateways``).
        """
        for name in names:
            if name == "twilio" and self.twilio is None:
                raise ConfigError(
                    "Twilio is used but TOVHOLDER_TWILIO_ACCOUNT_SID and "
                    "TOVHOLDER_TWILIO_AUTH_TOKEN are not set"
                )
            if name == "gatewayapi" and self.gatewayapi is None:
                raise ConfigError("GatewayAPI needs TOVHOLDER_GATEWAYAPI_TOKEN and _WEBHOOK_SECRET")


def _secret(env: Mapping[str, str], name: str) -> str | None:
    path = env.get(f"TOVHOLDER_{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read TOVHOLDER_{name}_FILE: {exc.strerror}") from exc
    return env.get(f"TOVHOLDER_{name}")


def number_setting(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    low: float,
    high: float,
    what: str,
    whole: bool = False,
) -> float:
    """A number from the environment within [low, high]; a ConfigError names the variable.

    ``what`` says what the number is ("a number of seconds"); ``whole`` refuses fractions.
    """
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {what}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}")
    return value


def count_setting(env: Mapping[str, str], name: str, default: int, *, high: int) -> int:
    """A whole number from the environment, from 1 to ``high``."""
    return int(
        number_setting(env, name, default, low=1, high=high, what="a whole number", whole=True)
    )


def batch_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """A batch size from the environment: a whole number from 1 to 10,000."""
    return count_setting(env, name, default, high=10_000)


def throughput_settings(env: Mapping[str, str]) -> dict[str, int]:
    """Batch sizes and concurrency, for the service and the stand-alone worker."""
    return {
        "outbox_batch": batch_setting(env, "TOVHOLDER_OUTBOX_BATCH", 50),
        "reminder_batch": batch_setting(env, "TOVHOLDER_REMINDER_BATCH", 200),
        "inbound_batch": batch_setting(env, "TOVHOLDER_INBOUND_BATCH", 64),
        "inbound_lanes": count_setting(env, "TOVHOLDER_INBOUND_LANES", 2, high=16),
        "send_concurrency": count_setting(env, "TOVHOLDER_SEND_CONCURRENCY", 16, high=256),
    }


def _required(env: Mapping[str, str], name: str) -> str:
    value = _secret(env, name)
    if not value:
        raise ConfigError(f"TOVHOLDER_{name} (or TOVHOLDER_{name}_FILE) is required")
    return value


def load(env: Mapping[str, str] | None = None) -> Config:
    """Build and validate a Config from environment variables."""
    env = os.environ if env is None else env
    demo = env.get("TOVHOLDER_DEMO", "") in ("1", "true", "yes")
    try:
        # KEKS: comma-separated; the first wraps new keys, the rest only unwrap.
        keks = tuple(
            parse_key(k, what="TOVHOLDER_KEKS")
            for k in _required(env, "KEKS").split(",")
            if k.strip()
        )
        index_key = parse_key(_required(env, "INDEX_KEY"), what="TOVHOLDER_INDEX_KEY")
    except KeyConfigError as exc:
        raise ConfigError(str(exc)) from exc
    twilio_given = any(
        env.get(f"TOVHOLDER_TWILIO_{n}")
        for n in ("ACCOUNT_SID", "AUTH_TOKEN", "AUTH_TOKEN_FILE", "ACCOUNT_SID_FILE")
    )
    gatewayapi_given = bool(_secret(env, "GATEWAYAPI_TOKEN"))
    gateways = _gateways(env, twilio_given=twilio_given, gatewayapi_given=gatewayapi_given)
    # Twilio settings are needed when Twilio sends, or to verify its webhooks
    # when it only receives; a GatewayAPI-only deployment sets none of them.
    twilio_wanted = "twilio" in gateways or twilio_given
    try:
        config = Config(
            database_url=env.get("TOVHOLDER_DATABASE_URL", "sqlite+aiosqlite:///tovholder.db"),
            public_base_url=env.get("TOVHOLDER_PUBLIC_BASE_URL", "http://127.0.0.1:8080").rstrip(
                "/"
            ),
            keks=keks,
            index_key=index_key,
            twilio=(
                TwilioConfig(
                    account_sid=_required(env, "TWILIO_ACCOUNT_SID"),
                    auth_token=_required(env, "TWILIO_AUTH_TOKEN"),
                    base_url=env.get("TOVHOLDER_TWILIO_BASE_URL", "https://api.twilio.com").rstrip(
                        "/"
                    ),
                    timeout=number_setting(
                        env,
                        "TOVHOLDER_TWILIO_TIMEOUT",
                        10.0,
                        low=0.1,
                        high=300,
                        what="a number of seconds",
                    ),
                )
                if twilio_wanted
                else None
            ),
            host=env.get("TOVHOLDER_HOST", "127.0.0.1"),
            port=int(
                number_setting(
                    env, "TOVHOLDER_PORT", 8080, low=1, high=65535, what="a port number", whole=True
                )
            ),
            demo_mode=demo,
            outbox_interval=number_setting(
                env,
                "TOVHOLDER_OUTBOX_INTERVAL",
                1.0,
                low=0.01,
                high=3600,
                what="a number of seconds",
            ),
            thread_recent_days=int(
                number_setting(
                    env,
                    "TOVHOLDER_THREAD_RECENT_DAYS",
                    14,
                    low=0,
                    high=365,
                    what="a whole number of days",
                    whole=True,
                )
            ),
            gateways=gateways,
            gatewayapi=(
                GatewayApiConfig(
                    token=_required(env, "GATEWAYAPI_TOKEN"),
                    webhook_secret=_required(env, "GATEWAYAPI_WEBHOOK_SECRET"),
                    base_url=env.get("TOVHOLDER_GATEWAYAPI_BASE_URL", "https://gatewayapi.com"),
                )
                if gatewayapi_given
                else None
            ),
            gateway_rates={
                name: number_setting(
                    env,
                    f"TOVHOLDER_{name.upper()}_RATE",
                    0.0,
                    low=0,
                    high=100_000,
                    what="messages per second",
                )
                for name in KNOWN_GATEWAYS
                if env.get(f"TOVHOLDER_{name.upper()}_RATE")
            },
            smtp=_smtp(env),
            inbox_unread_minutes=int(
                number_setting(
                    env,
                    "TOVHOLDER_INBOX_UNREAD_MINUTES",
                    120,
                    low=1,
                    high=10_080,
                    what="a whole number of minutes",
                    whole=True,
                )
            ),
            trusted_proxies=parse_networks(env.get("TOVHOLDER_TRUSTED_PROXIES", "")),
            live_fallback_seconds=number_setting(
                env,
                "TOVHOLDER_LIVE_FALLBACK_SECONDS",
                60.0,
                low=0,
                high=86_400,
                what="a number of seconds",
            ),
            listen_database_url=env.get("TOVHOLDER_LISTEN_DATABASE_URL") or None,
            # Feature modules read their own TOVHOLDER_* settings from here.
            extra={k: v for k, v in env.items() if k.startswith("TOVHOLDER_")},
        )
    except ConfigError:
        raise
    except ValueError as exc:  # a value no setting check caught: say what it was
        raise ConfigError(f"a setting has a value that cannot be used: {exc}") from exc
    return config.with_(**throughput_settings(env)).validate()


def _gateways(
    env: Mapping[str, str], *, twilio_given: bool, gatewayapi_given: bool
) -> tuple[str, ...]:
    """The gateways in sending order: as set, or else those whose settings are given."""
    named = tuple(g.strip() for g in env.get("TOVHOLDER_GATEWAYS", "").split(",") if g.strip())
    if named:
        return named
    configured = tuple(
        name
        for name, given in (("twilio", twilio_given), ("gatewayapi", gatewayapi_given))
        if given
    )
    if not configured:
        raise ConfigError(
            "no SMS gateway is configured: set TOVHOLDER_TWILIO_ACCOUNT_SID and "
            "TOVHOLDER_TWILIO_AUTH_TOKEN, or TOVHOLDER_GATEWAYAPI_TOKEN and "
            "TOVHOLDER_GATEWAYAPI_WEBHOOK_SECRET"
        )
    return configured


# What `tovholder demo` takes from its own environment, so the demo can be tried with
# another MitID broker's dialect or the operator's API; everything else is the demo's own.
DEMO_PASSTHROUGH = (
    "TOVHOLDER_OIDC_MITID_BROKER",
    "TOVHOLDER_OPERATOR_TOKEN",
    "TOVHOLDER_OPERATOR_TOKEN_FILE",
)


def demo_env(
    database_url: str,
    *,
    port: int = 8080,
    sim_port: int = 8081,
    outer: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment `tovholder demo` runs with (plus DEMO_PASSTHROUGH from ``outer``)."""
    given = {k: v for k, v in (outer or {}).items() if k in DEMO_PASSTHROUGH and v.strip()}
    return {
        **given,
        "TOVHOLDER_DEMO": "1",
        "TOVHOLDER_DATABASE_URL": database_url,
        "TOVHOLDER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TOVHOLDER_PORT": str(port),
        "TOVHOLDER_KEKS": DEMO_KEK,
        "TOVHOLDER_INDEX_KEY": DEMO_INDEX_KEY,
        "TOVHOLDER_TWILIO_ACCOUNT_SID": DEMO_TWILIO_SID,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": DEMO_TWILIO_TOKEN,
        "TOVHOLDER_TWILIO_BASE_URL": f"http://127.0.0.1:{sim_port}",
        # The demo runs on this machine only: its metrics need no token.
        "TOVHOLDER_METRICS_PUBLIC": "1",
    }


def is_sqlite(url: str) -> bool:
    """Is ``url`` an SQLite database (one writer, the demo and one-node trials)?"""
    return url.startswith("sqlite")
