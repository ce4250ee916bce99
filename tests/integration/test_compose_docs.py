"""compose.yaml and docs/deploy.md ("Compose") agree: every secret file the compose
file mounts is made by the documented commands and readable by the service (uid
10001), and every file secret the service is pointed at is mounted."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> str:
    return (ROOT / "compose.yaml").read_text(encoding="utf-8")


def _docs_block() -> str:
    """The shell block of docs/deploy.md's "Compose" section."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = text.split("### Compose", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "the Compose section has no shell block"
    return found.group(1).replace("\\\n", " ")


def test_every_mounted_secret_is_made_by_the_documented_commands() -> None:
    """A secret file the docs never make stops `docker compose up` before anything runs."""
    secrets = re.findall(r"file: \./secrets/([\w.-]+)", _compose())
    assert "keks" in secrets and "journal_signing_key" in secrets
    block = _docs_block()
    made = set(re.findall(r">\s*([\w.-]+)\b", block))
    assert sorted(set(secrets) - made) == []
    chowned = set(re.search(r"chown 10001 ([^\n]+)", block).group(1).split())  # type: ignore[union-attr]
    service_reads = {f"secrets/{s}" for s in secrets if s != "db_password"}
    assert sorted(service_reads - chowned) == []


def test_every_file_setting_points_at_a_mounted_secret() -> None:
    compose = _compose()
    mounted = set(re.findall(r"file: \./secrets/([\w.-]+)", compose))
    pointed = set(re.findall(r"_FILE: /run/secrets/([\w.-]+)", compose))
    pointed |= set(re.findall(r"PGPASSFILE: /run/secrets/([\w.-]+)", compose))
    assert pointed and pointed <= mounted
