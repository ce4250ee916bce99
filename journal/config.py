"""The journal's configuration: exporters to the case system (ESDH) and the heads sink.

Every setting is a ``TOVHOLDER_JOURNAL_*`` environment variable; a secret ``X``
may also be given as a path in ``TOVHOLDER_JOURNAL_X_FILE`` (preferred).

====================================  =============================================
TOVHOLDER_JOURNAL_EXPORTERS           comma list of ``file``, ``mail``, ``http``
TOVHOLDER_JOURNAL_DROP_DIR            file drop: the folder the ESDH picks up from
TOVHOLDER_JOURNAL_SMTP_HOST / _PORT   journal mailbox: the SMTP server (port 25)
TOVHOLDER_JOURNAL_SMTP_TLS            ``none`` | ``starttls`` | ``tls`` (``starttls``)
TOVHOLDER_JOURNAL_SMTP_USERNAME       optional login; password is the secret
TOVHOLDER_JOURNAL_SMTP_PASSWORD       (secret)
TOVHOLDER_JOURNAL_MAIL_FROM / _TO     sender, and the journal mailbox address
TOVHOLDER_JOURNAL_HTTP_URL            HTTP: the ESDH endpoint that receives JSON
TOVHOLDER_JOURNAL_HTTP_SECRET         (secret) HMAC-SHA256 key, at least 32 chars
TOVHOLDER_JOURNAL_EXPORT_TIMEOUT      seconds one export may take (10)
TOVHOLDER_JOURNAL_EXPORT_INTERVAL     seconds between export ticks (5)
TOVHOLDER_JOURNAL_EXPORT_BATCH        entries claimed per round (50); a tick takes
                                      rounds until the backlog is gone (≤ 10 s)
TOVHOLDER_JOURNAL_HEADS_SINK          JSON-lines file the chain heads go to
TOVHOLDER_JOURNAL_HEADS_KEY           (secret) 32-byte HMAC key for the sink lines
TOVHOLDER_JOURNAL_HEADS_INTERVAL      seconds between heads ticks (60)
TOVHOLDER_JOURNAL_PDF_FONT            a TrueType font for PDFs (DejaVu Sans if found)
TOVHOLDER_JOURNAL_SIGNING_KEY         (secret) 32-byte Ed25519 seed that signs every
                                      head moved; the service refuses to start without
TOVHOLDER_JOURNAL_VERIFY_KEYS         comma list of the public keys of earlier signing
                                      keys (rotation), for start-up and ``verify``
====================================  =============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from bot.base.config import ConfigError
from bot.base.crypto import KeyConfigError, parse_key
from journal.signing import HeadSigner, public_keys

EXPORTERS = ("file", "mail", "http")
SMTP_TLS = ("none", "starttls", "tls")
PREFIX = "TOVHOLDER_JOURNAL_"


@dataclass(frozen=True)
class JournalConfig:
    """Where journal entries are exported to, and where chain heads are anchored."""

    exporters: tuple[str, ...] = ()
    drop_dir: Path | None = None
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    mail_to: str = ""
    http_url: str = ""
    http_secret: str = ""
    export_timeout: float = 10.0
    export_interval: float = 5.0
    export_batch: int = 50
    heads_sink: Path | None = None
    heads_key: bytes | None = None
    heads_interval: float = 60.0
    pdf_font: Path | None = None
    signing_key: bytes | None = None
    verify_keys: tuple[bytes, ...] = ()

    def with_(self, **changes: object) -> JournalConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    def signer(self) -> HeadSigner:
        """The key that signs every head the service moves.

        Raises:
            ConfigError: none is configured (the service must not start).
        """
        if self.signing_key is None:
            raise ConfigError(
                f"{PREFIX}SIGNING_KEY (or _FILE) is not set: the journal signs every head it "
                "moves and will not write unsigned heads (make one with `tovholder keys new`)"
            )
        return HeadSigner.from_seed(self.signing_key)

    def signed_sink(self) -> tuple[Path, bytes] | None:
        """The heads sink every signed head also goes to (path, HMAC key), if configured."""
        if self.heads_sink is None or self.heads_key is None:
            return None
        return self.heads_sink, self.heads_key

    def known_keys(self) -> dict[str, bytes]:
        """Every public key whose signatures verify: the signing key's and earlier ones."""
        known = public_keys(self.verify_keys)
        if self.signing_key is not None:
            current = HeadSigner.from_seed(self.signing_key)
            known[current.key_id] = current.public
        return known

    def validate(self) -> JournalConfig:
        """Refuse incoherent settings; return self for chaining."""
        self._check_exporter_names()
        if "file" in self.exporters and self.drop_dir is None:
            raise ConfigError(f"the file exporter needs {PREFIX}DROP_DIR")
        if "mail" in self.exporters:
            self._check_mail()
        if "http" in self.exporters:
            self._check_http()
        if self.heads_sink is not None and self.heads_key is None:
            raise ConfigError(f"{PREFIX}HEADS_SINK needs {PREFIX}HEADS_KEY (or _FILE)")
        if self.export_timeout <= 0 or self.export_interval <= 0 or self.heads_interval <= 0:
            raise ConfigError("journal timeouts and intervals must be positive")
        if self.export_batch < 1:
            raise ConfigError(f"{PREFIX}EXPORT_BATCH must be at least 1")
        return self

    def _check_exporter_names(self) -> None:
        """Every exporter named is known, and named once."""
        for name in self.exporters:
            if name not in EXPORTERS:
                raise ConfigError(
                    f"{PREFIX}EXPORTERS: unknown exporter {name!r} (use {', '.join(EXPORTERS)})"
                )
        if len(set(self.exporters)) != len(self.exporters):
            raise ConfigError(f"{PREFIX}EXPORTERS names an exporter twice")

    def _check_mail(self) -> None:
        """The journal mailbox exporter has a server, a sender, a mailbox and a TLS mode."""
        if not (self.smtp_host and self.mail_from and self.mail_to):
            raise ConfigError(
                f"the mail exporter needs {PREFIX}SMTP_HOST, {PREFIX}MAIL_FROM and {PREFIX}MAIL_TO"
            )
        if self.smtp_tls not in SMTP_TLS:
            raise ConfigError(f"{PREFIX}SMTP_TLS must be one of {', '.join(SMTP_TLS)}")

    def _check_http(self) -> None:
        """The HTTP exporter has an http(s) endpoint and a long enough signing secret."""
        parts = urlsplit(self.http_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"the http exporter needs {PREFIX}HTTP_URL (http[s]://…)")
        if len(self.http_secret) < 32:
            raise ConfigError(f"{PREFIX}HTTP_SECRET must be at least 32 characters")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JournalConfig:
        """Build and validate a JournalConfig from ``TOVHOLDER_JOURNAL_*`` variables."""
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(PREFIX + name, default).strip()

        def path(name: str) -> Path | None:
            value = get(name)
            return Path(value) if value else None

        heads_key = _key(_secret(env, "HEADS_KEY"), "HEADS_KEY")
        signing_key = _key(_secret(env, "SIGNING_KEY"), "SIGNING_KEY")
        verify_keys = tuple(
            _key(k, "VERIFY_KEYS") or b"" for k in get("VERIFY_KEYS").split(",") if k.strip()
        )
        try:
            config = cls(
                exporters=tuple(x.strip() for x in get("EXPORTERS").split(",") if x.strip()),
                drop_dir=path("DROP_DIR"),
                smtp_host=get("SMTP_HOST"),
                smtp_port=int(get("SMTP_PORT", "25")),
                smtp_tls=get("SMTP_TLS", "starttls"),
                smtp_username=get("SMTP_USERNAME"),
                smtp_password=_secret(env, "SMTP_PASSWORD") or "",
                mail_from=get("MAIL_FROM"),
                mail_to=get("MAIL_TO"),
                http_url=get("HTTP_URL"),
                http_secret=_secret(env, "HTTP_SECRET") or "",
                export_timeout=float(get("EXPORT_TIMEOUT", "10")),
                export_interval=float(get("EXPORT_INTERVAL", "5")),
                export_batch=int(get("EXPORT_BATCH", "50")),
                heads_sink=path("HEADS_SINK"),
                heads_key=heads_key,
                heads_interval=float(get("HEADS_INTERVAL", "60")),
                pdf_font=path("PDF_FONT"),
                signing_key=signing_key,
                verify_keys=verify_keys,
            )
        except ValueError as exc:
            raise ConfigError(f"a numeric journal setting is not a number: {exc}") from exc
        return config.validate()


def _key(text: str | None, name: str) -> bytes | None:
    """A 32-byte key written as base64 or hex, or None when not given."""
    if not text:
        return None
    try:
        return parse_key(text, what=f"{PREFIX}{name}")
    except KeyConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _secret(env: Mapping[str, str], name: str) -> str | None:
    file = env.get(f"{PREFIX}{name}_FILE")
    if file:
        try:
            return Path(file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read {PREFIX}{name}_FILE: {exc.strerror}") from exc
    value = env.get(f"{PREFIX}{name}")
    return value.strip() if value else None


def journal_config(config: object) -> JournalConfig:
    """The journal settings of a main Config.

    ``config.journal`` when the main Config carries one; otherwise read from
    the ``TOVHOLDER_JOURNAL_*`` variables in ``config.extra``.
    """
    found = getattr(config, "journal", None)
    if isinstance(found, JournalConfig):
        return found
    extra = getattr(config, "extra", None)
    return JournalConfig.from_env(extra if isinstance(extra, Mapping) else {})
