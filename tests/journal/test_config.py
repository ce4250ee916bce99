"""JournalConfig: read from TOVHOLDER_JOURNAL_*, secrets from files, incoherence refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.base.config import ConfigError
from bot.base.crypto import new_key_text, parse_key
from journal.config import JournalConfig, journal_config

SECRET = "s" * 40


def test_everything_is_read_and_secrets_come_from_files(tmp_path: Path) -> None:
    """Every setting is read; *_FILE secrets win over inline ones."""
    key = new_key_text()
    (tmp_path / "key").write_text(key + "\n")
    (tmp_path / "secret").write_text(SECRET)
    (tmp_path / "pw").write_text("hemmelig")
    cfg = JournalConfig.from_env(
        {
            "TOVHOLDER_JOURNAL_EXPORTERS": "file, mail,http",
            "TOVHOLDER_JOURNAL_DROP_DIR": str(tmp_path),
            "TOVHOLDER_JOURNAL_SMTP_HOST": "smtp.kommune.dk",
            "TOVHOLDER_JOURNAL_SMTP_PORT": "587",
            "TOVHOLDER_JOURNAL_SMTP_USERNAME": "tovholder",
            "TOVHOLDER_JOURNAL_SMTP_PASSWORD_FILE": str(tmp_path / "pw"),
            "TOVHOLDER_JOURNAL_MAIL_FROM": "tovholder@kommune.dk",
            "TOVHOLDER_JOURNAL_MAIL_TO": "journal@kommune.dk",
            "TOVHOLDER_JOURNAL_HTTP_URL": "https://esdh.kommune.dk/api/entries",
            "TOVHOLDER_JOURNAL_HTTP_SECRET": "inline-is-ignored",
            "TOVHOLDER_JOURNAL_HTTP_SECRET_FILE": str(tmp_path / "secret"),
            "TOVHOLDER_JOURNAL_HEADS_SINK": str(tmp_path / "heads.jsonl"),
            "TOVHOLDER_JOURNAL_HEADS_KEY_FILE": str(tmp_path / "key"),
            "TOVHOLDER_JOURNAL_EXPORT_TIMEOUT": "3.5",
        }
    )
    assert cfg.exporters == ("file", "mail", "http")
    assert cfg.drop_dir == tmp_path and cfg.smtp_port == 587
    assert cfg.smtp_password == "hemmelig" and cfg.http_secret == SECRET
    assert cfg.heads_key == parse_key(key, what="k")
    assert cfg.export_timeout == 3.5 and cfg.smtp_tls == "starttls"


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"TOVHOLDER_JOURNAL_EXPORTERS": "fax"}, "unknown exporter"),
        ({"TOVHOLDER_JOURNAL_EXPORTERS": "file"}, "DROP_DIR"),
        ({"TOVHOLDER_JOURNAL_EXPORTERS": "mail"}, "SMTP_HOST"),
        ({"TOVHOLDER_JOURNAL_EXPORTERS": "http", "TOVHOLDER_JOURNAL_HTTP_URL": "ftp://x"}, "URL"),
        (
            {
                "TOVHOLDER_JOURNAL_EXPORTERS": "http",
                "TOVHOLDER_JOURNAL_HTTP_URL": "https://esdh",
                "TOVHOLDER_JOURNAL_HTTP_SECRET": "short",
            },
            "32 characters",
        ),
        ({"TOVHOLDER_JOURNAL_HEADS_SINK": "/tmp/x"}, "HEADS_KEY"),
        ({"TOVHOLDER_JOURNAL_HEADS_KEY": "too-short"}, "32 bytes"),
        ({"TOVHOLDER_JOURNAL_HEADS_KEY_FILE": "/nonexistent/key"}, "cannot read"),
        ({"TOVHOLDER_JOURNAL_EXPORT_TIMEOUT": "soon"}, "not a number"),
        ({"TOVHOLDER_JOURNAL_EXPORT_INTERVAL": "0"}, "positive"),
    ],
)
def test_incoherent_settings_are_refused(env: dict[str, str], complaint: str) -> None:
    """Unknown exporters, missing settings, short secrets and bad numbers refuse to start."""
    with pytest.raises(ConfigError, match=complaint):
        JournalConfig.from_env(env)


def test_the_main_config_carries_the_journal_settings() -> None:
    """journal_config reads `config.journal` when present, else TOVHOLDER_JOURNAL_* in extra."""

    class WithJournal:
        journal = JournalConfig(exporters=())

    class WithExtra:
        extra = {"TOVHOLDER_JOURNAL_HEADS_INTERVAL": "7"}

    assert journal_config(WithJournal()) is WithJournal.journal
    assert journal_config(WithExtra()).heads_interval == 7.0
    assert journal_config(object()) == JournalConfig()
