"""Configuration: secrets from the environment or files, and refusal of unsafe settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEMO_INDEX_KEY,
    DEMO_KEK,
    DEMO_TWILIO_TOKEN,
    ConfigError,
    demo_env,
    load,
)
from bot.crypto import KeyRing, key_id, new_key_text, parse_key


def env(**overrides: str) -> dict[str, str]:
    """A minimal valid production environment with fresh keys; overrides by short name."""
    base = {
        "KEKS": new_key_text(),
        "INDEX_KEY": new_key_text(),
        "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
        "TWILIO_AUTH_TOKEN": "a-real-looking-token",
        "DATABASE_URL": "sqlite+aiosqlite:///tovholder.db",
        "PUBLIC_BASE_URL": "https://sms.example.dk",
    }
    base.update(overrides)
    return {f"TOVHOLDER_{k}": v for k, v in base.items()}


def test_a_minimal_environment_loads() -> None:
    """The baseline environment used below is itself valid, so each refusal is about one change."""
    config = load(env())
    assert not config.demo_mode
    assert len(config.keks) == 1 and len(config.index_key) == 32


@pytest.mark.parametrize(
    "overrides",
    [
        {"KEKS": DEMO_KEK},
        {"INDEX_KEY": DEMO_INDEX_KEY},
        {"KEKS": f"{new_key_text()},{DEMO_KEK}"},
        {"TWILIO_AUTH_TOKEN": DEMO_TWILIO_TOKEN},
    ],
    ids=["demo-kek", "demo-index-key", "demo-kek-as-old-kek", "demo-twilio-token"],
)
def test_demo_secrets_are_refused_outside_demo_mode(overrides: dict[str, str]) -> None:
    """Any published demo secret, even as a secondary KEK, stops a non-demo start."""
    with pytest.raises(ConfigError, match="demo"):
        load(env(**overrides))


def test_demo_secrets_are_accepted_in_demo_mode() -> None:
    """With TOVHOLDER_DEMO=1 the published demo environment loads, flagged as demo."""
    config = load(demo_env("sqlite+aiosqlite:///demo.db"))
    assert config.demo_mode
    assert config.keks == (parse_key(DEMO_KEK, what="demo"),)
    assert config.index_key == parse_key(DEMO_INDEX_KEY, what="demo")


def test_demo_keys_without_the_demo_flag_are_refused() -> None:
    """The demo environment minus TOVHOLDER_DEMO is refused: the flag, not the keys, decides."""
    demo = demo_env("sqlite+aiosqlite:///demo.db")
    del demo["TOVHOLDER_DEMO"]
    with pytest.raises(ConfigError, match="demo"):
        load(demo)


def test_secrets_are_read_from_file_paths(tmp_path: Path) -> None:
    """*_FILE paths supply KEKS, INDEX_KEY and the Twilio token; whitespace around is ignored."""
    kek, index = new_key_text(), new_key_text()
    (tmp_path / "keks").write_text(f"{kek}\n")
    (tmp_path / "index").write_text(f"  {index}\n")
    (tmp_path / "token").write_text("token-from-file\n")
    e = env()
    for name in ("KEKS", "INDEX_KEY", "TWILIO_AUTH_TOKEN"):
        del e[f"TOVHOLDER_{name}"]
    e["TOVHOLDER_KEKS_FILE"] = str(tmp_path / "keks")
    e["TOVHOLDER_INDEX_KEY_FILE"] = str(tmp_path / "index")
    e["TOVHOLDER_TWILIO_AUTH_TOKEN_FILE"] = str(tmp_path / "token")
    config = load(e)
    assert config.keks == (parse_key(kek, what="kek"),)
    assert config.index_key == parse_key(index, what="index")
    assert config.twilio.auth_token == "token-from-file"


def test_a_file_path_wins_over_the_inline_value(tmp_path: Path) -> None:
    """When both TOVHOLDER_X and TOVHOLDER_X_FILE are set, the file is used."""
    kek = new_key_text()
    (tmp_path / "keks").write_text(kek)
    config = load({**env(), "TOVHOLDER_KEKS_FILE": str(tmp_path / "keks")})
    assert config.keks == (parse_key(kek, what="kek"),)


def test_an_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    """A *_FILE path that cannot be read is a ConfigError naming the variable, not an OSError."""
    e = {**env(), "TOVHOLDER_INDEX_KEY_FILE": str(tmp_path / "missing")}
    with pytest.raises(ConfigError, match="TOVHOLDER_INDEX_KEY_FILE"):
        load(e)


@pytest.mark.parametrize("name", ["KEKS", "INDEX_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
def test_a_missing_secret_names_the_variable(name: str) -> None:
    """Each required secret, absent or empty, is a ConfigError naming TOVHOLDER_<NAME>."""
    absent = env()
    del absent[f"TOVHOLDER_{name}"]
    for e in (absent, {**absent, f"TOVHOLDER_{name}": ""}):
        with pytest.raises(ConfigError, match=f"TOVHOLDER_{name}"):
            load(e)


@pytest.mark.parametrize("bad", ["too-short", "00" * 16, "00" * 33, "not a key at all!"])
def test_a_malformed_key_names_the_variable(bad: str) -> None:
    """A key that is not 32 bytes of base64 or hex is a ConfigError naming its variable."""
    with pytest.raises(ConfigError, match="TOVHOLDER_KEKS"):
        load(env(KEKS=bad))
    with pytest.raises(ConfigError, match="TOVHOLDER_INDEX_KEY"):
        load(env(INDEX_KEY=bad))


def test_a_kek_list_with_no_keys_is_refused() -> None:
    """TOVHOLDER_KEKS made only of commas and blanks is refused, naming the variable."""
    with pytest.raises(ConfigError, match="TOVHOLDER_KEKS"):
        load(env(KEKS=" , "))


@pytest.mark.parametrize(
    "url",
    ["postgresql://u@db/tovholder", "sqlite:///tovholder.db", "mysql+aiomysql://db/x", ""],
)
def test_an_unsupported_database_url_is_refused(url: str) -> None:
    """Only the async SQLite and PostgreSQL drivers are accepted."""
    with pytest.raises(ConfigError, match="TOVHOLDER_DATABASE_URL"):
        load(env(DATABASE_URL=url))


@pytest.mark.parametrize(
    "url", ["https://sms.example.dk/tovholder", "ftp://sms.example.dk", "sms.example.dk", "https://"]
)
def test_a_public_base_url_with_a_path_or_odd_scheme_is_refused(url: str) -> None:
    """The public base URL must be scheme://host[:port]: webhook signatures are computed on it."""
    with pytest.raises(ConfigError, match="TOVHOLDER_PUBLIC_BASE_URL"):
        load(env(PUBLIC_BASE_URL=url))


def test_a_trailing_slash_on_the_public_base_url_is_dropped() -> None:
    """'https://host/' is accepted and stored without the slash, so paths join cleanly."""
    assert load(env(PUBLIC_BASE_URL="https://sms.example.dk/")).public_base_url == (
        "https://sms.example.dk"
    )


def test_a_public_base_url_with_a_query_is_refused() -> None:
    """A query string or fragment in the public base URL is refused."""
    with pytest.raises(ConfigError, match="TOVHOLDER_PUBLIC_BASE_URL"):
        load(env(PUBLIC_BASE_URL="https://sms.example.dk?x=1"))


def test_an_index_key_equal_to_a_kek_is_refused() -> None:
    """The blind-index key must differ from every KEK, the old ones included."""
    primary, old = new_key_text(), new_key_text()
    for index in (primary, old):
        with pytest.raises(ConfigError, match="blind-index key"):
            load(env(KEKS=f"{primary},{old}", INDEX_KEY=index))


def test_the_same_key_in_another_encoding_still_counts_as_equal() -> None:
    """The KEK-versus-index comparison is on key bytes, so hex versus base64 does not dodge it."""
    kek = new_key_text()
    as_hex = parse_key(kek, what="kek").hex()
    with pytest.raises(ConfigError, match="blind-index key"):
        load(env(KEKS=kek, INDEX_KEY=as_hex))


def test_several_keks_make_a_keyring_whose_primary_is_the_first() -> None:
    """TOVHOLDER_KEKS='new, old' keeps the order: new keys are wrapped under the first."""
    new, old = new_key_text(), new_key_text()
    config = load(env(KEKS=f" {new} , {old} ,"))
    assert config.keks == (parse_key(new, what="new"), parse_key(old, what="old"))
    ring = KeyRing(config.keks)
    assert ring.primary_id == key_id(parse_key(new, what="new"))
    assert ring.key_ids == [key_id(k) for k in config.keks]
    # A key wrapped by the old KEK alone is still readable through this ring.
    dek, wrapped = KeyRing([config.keks[1]]).new_wrapped_key("dek:cases:x")
    assert ring.unwrap(wrapped, "dek:cases:x") == dek


@pytest.mark.parametrize(("name", "value"), [("PORT", "eighty"), ("OUTBOX_INTERVAL", "soon")])
def test_a_non_numeric_setting_is_a_config_error(name: str, value: str) -> None:
    """A number that is not a number is a ConfigError, not a bare ValueError."""
    with pytest.raises(ConfigError, match="not a number"):
        load(env(**{name: value}))


def test_a_twilio_account_sid_must_look_like_one() -> None:
    """An account SID not starting with AC is refused (a common paste-the-wrong-value error)."""
    with pytest.raises(ConfigError, match="TOVHOLDER_TWILIO_ACCOUNT_SID"):
        load(env(TWILIO_ACCOUNT_SID="SK" + "2" * 32))


def test_gateway_order_rates_and_gatewayapi_settings() -> None:
    """TOVHOLDER_GATEWAYS orders the gateways; GatewayAPI needs its token; rates are numbers."""
    config = load(env(GATEWAYS="gatewayapi,twilio", GATEWAYAPI_TOKEN="t" * 20,
                      GATEWAYAPI_WEBHOOK_SECRET="s" * 40, TWILIO_RATE="25"))
    assert config.gateways == ("gatewayapi", "twilio")
    assert config.gatewayapi is not None and config.gatewayapi.token == "t" * 20
    assert config.gateway_rates == {"twilio": 25.0}
    with pytest.raises(ConfigError, match="TOVHOLDER_GATEWAYS"):
        load(env(GATEWAYS="twilio,carrier-pigeon"))
    with pytest.raises(ConfigError, match="GatewayAPI"):
        load(env(GATEWAYS="twilio,gatewayapi"))
