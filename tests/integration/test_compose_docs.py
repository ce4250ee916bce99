"""compose.yaml, its gateway files and docs/deploy.md ("Compose") agree.

For each choice of gateways (GatewayAPI only, Twilio only, both) the files are
merged as `docker compose` merges them: every secret a service mounts is
defined and made by the documented commands and readable by the service (uid
10001), every file setting points at a mounted secret, and the service's
configuration loads from what the files give it, with exactly those gateways.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.base import config as config_mod
from bot.base.crypto import new_key_text

ROOT = Path(__file__).resolve().parents[2]
BASE = "compose.yaml"
GATEWAY_FILES = {"twilio": "compose.twilio.yaml", "gatewayapi": "compose.gatewayapi.yaml"}
CHOICES = [("gatewayapi",), ("twilio",), ("twilio", "gatewayapi")]
SERVICES = ("migrate", "tovholder")


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    return data


def _merged(gateways: tuple[str, ...]) -> dict[str, Any]:
    """compose.yaml with the gateways' files on top, merged as compose merges them.

    A service's ``environment`` merges by name and its ``secrets`` by source;
    the top-level ``secrets`` merge by name (the compose specification's rules).
    """
    merged = _load(BASE)
    for gateway in gateways:
        extra = _load(GATEWAY_FILES[gateway])
        for name, service in extra.get("services", {}).items():
            into = merged["services"][name]
            into["environment"] = {**into.get("environment", {}), **service.get("environment", {})}
            into["secrets"] = list(dict.fromkeys([*into.get("secrets", []), *service["secrets"]]))
        merged["secrets"] = {**merged.get("secrets", {}), **extra.get("secrets", {})}
    return merged


def _secret_files(compose: dict[str, Any]) -> dict[str, str]:
    """Secret name -> its file under ./secrets."""
    found = {}
    for name, secret in compose["secrets"].items():
        match = re.fullmatch(r"\./secrets/([\w.-]+)", secret["file"])
        assert match, secret
        found[name] = match.group(1)
    return found


def _docs_blocks() -> str:
    """The shell blocks of docs/deploy.md's "Compose" section, continuation lines joined."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = text.split("### Compose", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks, "the Compose section has no shell block"
    return "\n".join(blocks).replace("\\\n", " ")


def test_the_base_file_names_no_gateway() -> None:
    """compose.yaml alone mounts no gateway secret: each gateway's come only with its file."""
    base = _load(BASE)
    assert not any("twilio" in s or "gatewayapi" in s for s in base["secrets"])
    for name in SERVICES:
        assert not any(
            "TWILIO" in k or "GATEWAYAPI" in k for k in base["services"][name]["environment"]
        )


@pytest.mark.parametrize("gateways", CHOICES, ids=["+".join(c) for c in CHOICES])
def test_every_mounted_secret_is_made_by_the_documented_commands(
    gateways: tuple[str, ...],
) -> None:
    """A secret file the docs never make stops `docker compose up` before anything runs."""
    compose = _merged(gateways)
    files = _secret_files(compose)
    assert {"keks", "journal_signing_key"} <= set(files)
    block = _docs_blocks()
    made = set(re.findall(r">\s*(?:secrets/)?([\w.-]+)\b", block))
    assert sorted(set(files.values()) - made) == []
    chowned: set[str] = set()
    for line in re.findall(r"chown 10001 ([^\n]+)", block):
        chowned |= set(line.split())
    service_reads = {f"secrets/{f}" for s, f in files.items() if s != "db_password"}
    assert sorted(service_reads - chowned) == []
    mounted = {s for svc in compose["services"].values() for s in svc.get("secrets", [])}
    assert mounted == set(files), "a secret is defined but never mounted, or mounted undefined"


@pytest.mark.parametrize("gateways", CHOICES, ids=["+".join(c) for c in CHOICES])
def test_every_file_setting_points_at_a_mounted_secret(gateways: tuple[str, ...]) -> None:
    """Each *_FILE (and PGPASSFILE) of migrate and tovholder names a secret that service mounts."""
    compose = _merged(gateways)
    for name in SERVICES:
        service = compose["services"][name]
        pointed = {
            value.removeprefix("/run/secrets/")
            for key, value in service["environment"].items()
            if key.endswith("_FILE") or key == "PGPASSFILE"
        }
        assert pointed and pointed <= set(service["secrets"]), name


@pytest.mark.parametrize("gateways", CHOICES, ids=["+".join(c) for c in CHOICES])
def test_the_service_starts_with_exactly_the_chosen_gateways(
    gateways: tuple[str, ...], tmp_path: Path
) -> None:
    """The configuration loads from the merged files; GatewayAPI alone needs no Twilio setting."""
    compose = _merged(gateways)
    values = {
        "keks": new_key_text(),
        "index_key": new_key_text(),
        "journal_signing_key": new_key_text(),
        "metrics_token": "m" * 40,
        "pgpass": "db:5432:tovholder:tovholder:pw\n",
        "twilio_auth_token": "t" * 32,
        "gatewayapi_token": "g" * 32,
        "gatewayapi_webhook_secret": "w" * 32,
    }
    for name in SERVICES:
        env = {}
        for key, value in compose["services"][name]["environment"].items():
            secret = value.removeprefix("/run/secrets/")
            if secret != value:
                (tmp_path / secret).write_text(values[secret])
                value = str(tmp_path / secret)
            env[key] = value
        # tovholder.env (docs/deploy.md): the settings that are not secret.
        env["TOVHOLDER_PUBLIC_BASE_URL"] = "https://sms.kommune.dk"
        if "twilio" in gateways:
            env["TOVHOLDER_TWILIO_ACCOUNT_SID"] = "AC" + "0" * 32
        loaded = config_mod.load(env)
        assert set(loaded.gateways) == set(gateways), name
        assert (loaded.twilio is not None) == ("twilio" in gateways)
        assert (loaded.gatewayapi is not None) == ("gatewayapi" in gateways)


def test_the_docs_choose_the_gateway_files() -> None:
    """The documented .env names compose.yaml and a gateway file that exists."""
    block = _docs_blocks()
    chosen = re.findall(r"COMPOSE_FILE=([\w.:-]+)", block)
    assert chosen
    for value in chosen:
        names = value.split(":")
        assert names[0] == BASE and len(names) > 1
        assert all((ROOT / n).is_file() for n in names)
