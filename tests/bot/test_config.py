"""Configuration: secrets from the environment or files, and refusal of unsafe settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.config import (
    DEMO_INDEX_KEY,
    DEMO_KEK,
    DEMO_TWILIO_TOKEN,
    ConfigError,
    demo_env,
    load,
)
from bot.base.crypto import KeyRing, key_id, new_key_text, parse_key
from bot.domain.directory import create_tenant
from bot.store.schema.core import tenant_settings


def env(**overrides: str) -> dict[str, str]:
    """A minimal valid production environment with fresh keys; overrides by short name."""
    base = {
        "KEKS": new_key_text(),
        "INDEX_KEY": new_key_text(),
        "JOURNAL_SIGNING_KEY": new_key_text(),
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
    assert config.twilio is not None and config.twilio.auth_token == "token-from-file"


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
    "url",
    ["https://sms.example.dk/tovholder", "ftp://sms.example.dk", "sms.example.dk", "https://"],
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
    """A number that is not a number is a ConfigError naming the setting, not a bare ValueError."""
    with pytest.raises(ConfigError, match=f"^TOVHOLDER_{name} must be a"):
        load(env(**{name: value}))


def test_missing_twilio_settings_are_named_as_missing() -> None:
    """Twilio in the gateways without its credentials names them as required (never as 'not a number')."""
    bare = {k: v for k, v in env().items() if not k.startswith("TOVHOLDER_TWILIO_")}
    with pytest.raises(ConfigError, match="^TOVHOLDER_TWILIO_ACCOUNT_SID .*is required"):
        load({**bare, "TOVHOLDER_GATEWAYS": "twilio"})
    with pytest.raises(ConfigError, match="^no SMS gateway is configured"):
        load(bare)


def test_a_gatewayapi_only_deployment_needs_no_twilio_settings() -> None:
    """With only GatewayAPI's settings and no TOVHOLDER_GATEWAYS, GatewayAPI is the gateway and Twilio is off."""
    bare = {k: v for k, v in env().items() if not k.startswith("TOVHOLDER_TWILIO_")}
    config = load(
        {
            **bare,
            "TOVHOLDER_GATEWAYAPI_TOKEN": "gw-token",
            "TOVHOLDER_GATEWAYAPI_WEBHOOK_SECRET": "s" * 40,
        }
    )
    assert config.gateways == ("gatewayapi",) and config.twilio is None


def test_a_twilio_account_sid_must_look_like_one() -> None:
    """An account SID not starting with AC is refused (a common paste-the-wrong-value error)."""
    with pytest.raises(ConfigError, match="TOVHOLDER_TWILIO_ACCOUNT_SID"):
        load(env(TWILIO_ACCOUNT_SID="SK" + "2" * 32))


def test_gateway_order_rates_and_gatewayapi_settings() -> None:
    """TOVHOLDER_GATEWAYS orders the gateways; GatewayAPI needs its token; rates are numbers."""
    config = load(
        env(
            GATEWAYS="gatewayapi,twilio",
            GATEWAYAPI_TOKEN="t" * 20,
            GATEWAYAPI_WEBHOOK_SECRET="s" * 40,
            TWILIO_RATE="25",
        )
    )
    assert config.gateways == ("gatewayapi", "twilio")
    assert config.gatewayapi is not None and config.gatewayapi.token == "t" * 20
    assert config.gateway_rates == {"twilio": 25.0}
    with pytest.raises(ConfigError, match="TOVHOLDER_GATEWAYS"):
        load(env(GATEWAYS="twilio,carrier-pigeon"))
    with pytest.raises(ConfigError, match="GatewayAPI"):
        load(env(GATEWAYS="twilio,gatewayapi"))


def gatewayapi_only(**overrides: str) -> dict[str, str]:
    """A GatewayAPI-only municipality: no Twilio variable at all."""
    e = env(GATEWAYS="gatewayapi", GATEWAYAPI_TOKEN="t" * 20, GATEWAYAPI_WEBHOOK_SECRET="s" * 40)
    del e["TOVHOLDER_TWILIO_ACCOUNT_SID"], e["TOVHOLDER_TWILIO_AUTH_TOKEN"]
    e.update({f"TOVHOLDER_{k}": v for k, v in overrides.items()})
    return e


def test_a_gatewayapi_only_deployment_needs_no_twilio_credentials() -> None:
    """TOVHOLDER_GATEWAYS=gatewayapi loads without any Twilio setting; Twilio is then absent."""
    config = load(gatewayapi_only())
    assert config.gateways == ("gatewayapi",)
    assert config.twilio is None
    assert config.gatewayapi is not None


def test_twilio_settings_are_required_when_twilio_is_used() -> None:
    """Twilio in TOVHOLDER_GATEWAYS without its credentials is refused, naming the variable."""
    e = env(
        GATEWAYS="gatewayapi,twilio", GATEWAYAPI_TOKEN="t" * 20, GATEWAYAPI_WEBHOOK_SECRET="s" * 40
    )
    del e["TOVHOLDER_TWILIO_AUTH_TOKEN"]
    with pytest.raises(ConfigError, match="TOVHOLDER_TWILIO_AUTH_TOKEN"):
        load(e)
    with pytest.raises(ConfigError, match="TOVHOLDER_TWILIO_ACCOUNT_SID"):
        load({k: v for k, v in env().items() if k != "TOVHOLDER_TWILIO_ACCOUNT_SID"})


def test_twilio_credentials_given_alongside_gatewayapi_are_kept_and_checked() -> None:
    """Twilio that only receives (its webhooks verified) keeps its settings, half a pair is refused."""
    config = load(gatewayapi_only(TWILIO_ACCOUNT_SID="AC" + "3" * 32, TWILIO_AUTH_TOKEN="tok"))
    assert config.twilio is not None and config.twilio.account_sid == "AC" + "3" * 32
    with pytest.raises(ConfigError, match="TOVHOLDER_TWILIO_AUTH_TOKEN"):
        load(gatewayapi_only(TWILIO_ACCOUNT_SID="AC" + "3" * 32))


def test_a_municipalitys_own_gateways_must_be_configured_too() -> None:
    """require_gateways: a tenant routing via Twilio on a GatewayAPI-only deployment is refused."""
    config = load(gatewayapi_only())
    config.require_gateways(["gatewayapi"])
    with pytest.raises(ConfigError, match="Twilio"):
        config.require_gateways(["gatewayapi", "twilio"])
    with pytest.raises(ConfigError, match="GatewayAPI"):
        load(env()).require_gateways(["gatewayapi"])


def test_trusted_proxies_are_networks_and_bad_ones_are_refused() -> None:
    """TOVHOLDER_TRUSTED_PROXIES takes addresses and CIDRs; anything else is a ConfigError."""
    config = load(env(TRUSTED_PROXIES=" 10.0.0.0/8, 192.0.2.7 , fd00::/8,"))
    assert [str(n) for n in config.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]
    assert load(env()).trusted_proxies == ()
    for bad in ("10.0.0.0/33", "proxy.internal", "10.0.0.0/8;"):
        with pytest.raises(ConfigError, match="TOVHOLDER_TRUSTED_PROXIES"):
            load(env(TRUSTED_PROXIES=bad))


def test_the_live_update_safety_net_interval_is_bounded() -> None:
    """TOVHOLDER_LIVE_FALLBACK_SECONDS is read, and refused outside one second to an hour."""
    assert load(env(LIVE_FALLBACK_SECONDS="120")).live_fallback_seconds == 120.0
    for bad in ("0", "7200"):
        with pytest.raises(ConfigError, match="LIVE_FALLBACK_SECONDS"):
            load(env(LIVE_FALLBACK_SECONDS=bad))


async def test_a_gatewayapi_only_app_refuses_twilio_webhooks_and_is_ready(
    aiohttp_client: Any, db_url: str
) -> None:
    """Without Twilio the app starts, /readyz is ready, and a Twilio webhook is 404 (never 500)."""
    config = load(gatewayapi_only(DATABASE_URL=db_url)).with_(scheduler_enabled=False)
    client = await aiohttp_client(create_app(config))
    assert set(client.app[SERVICES].gateways) == {"gatewayapi"}
    resp = await client.post(
        "/webhooks/twilio/sms",
        data={"From": "+4520123401", "Body": "hej"},
        headers={"X-Twilio-Signature": "x"},
    )
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "unknown_gateway"
    resp = await client.get("/readyz")
    assert resp.status == 200, await resp.text()


async def test_a_municipality_routing_through_an_unconfigured_gateway_stops_the_start(
    aiohttp_client: Any, db_url: str
) -> None:
    """A tenant whose own gateway order names Twilio refuses a GatewayAPI-only start, naming it."""
    config = load(gatewayapi_only(DATABASE_URL=db_url)).with_(scheduler_enabled=False)
    first = await aiohttp_client(create_app(config))
    svc = first.app[SERVICES]
    async with svc.write() as conn:
        tenant = await create_tenant(conn, svc, slug="ltk", name="Lyngby", sms_number="+4545970000")
        await conn.execute(tenant_settings.insert().values(tenant_id=tenant, gateways="gatewayapi"))
    await aiohttp_client(create_app(config))  # its own gateway is configured: starts
    async with svc.write() as conn:
        await conn.execute(tenant_settings.update().values(gateways="gatewayapi,twilio"))
    server = TestServer(create_app(config))
    try:
        with pytest.raises(ConfigError, match="Twilio"):
            await server.start_server()
    finally:
        await server.close()


def test_a_separate_listen_url_is_postgresql_only() -> None:
    """TOVHOLDER_LISTEN_DATABASE_URL (LISTEN past a transaction-mode PgBouncer) needs PostgreSQL."""
    pg = "postgresql+asyncpg://tovholder@db.internal/tovholder"
    direct = "postgresql+asyncpg://tovholder@db-direct.internal/tovholder"
    config = load(env(DATABASE_URL=pg, LISTEN_DATABASE_URL=direct))
    assert config.listen_database_url == direct
    assert load(env(DATABASE_URL=pg)).listen_database_url is None
    with pytest.raises(ConfigError, match="TOVHOLDER_LISTEN_DATABASE_URL"):
        load(env(LISTEN_DATABASE_URL=direct))  # SQLite
    with pytest.raises(ConfigError, match="TOVHOLDER_LISTEN_DATABASE_URL"):
        load(env(DATABASE_URL=pg, LISTEN_DATABASE_URL="mysql://x@y/z"))


@pytest.mark.parametrize(
    "name",
    ["REMINDER_BATCH", "OUTBOX_BATCH", "INBOUND_BATCH", "INBOUND_LANES", "SEND_CONCURRENCY"],
)
@pytest.mark.parametrize("bad", ["0", "10001", "-5", "many", "2.5"])
def test_a_batch_size_out_of_range_names_the_variable(name: str, bad: str) -> None:
    """Batch sizes (1 to 10,000), inbound lanes (1 to 16) and send concurrency (1 to 256) are
    whole numbers; anything else names its variable."""
    with pytest.raises(ConfigError, match=f"TOVHOLDER_{name}"):
        load(env(**{name: bad}))


def test_batch_sizes_come_from_the_environment() -> None:
    config = load(env(REMINDER_BATCH="2000", OUTBOX_BATCH="500", SEND_CONCURRENCY="8"))
    assert (config.reminder_batch, config.outbox_batch, config.send_concurrency) == (2000, 500, 8)
    assert (load(env()).reminder_batch, load(env()).outbox_batch) == (200, 50)


def test_inbound_batching_comes_from_the_environment() -> None:
    """Inbound batch size and lanes: 64 and 2 unless set."""
    config = load(env(INBOUND_BATCH="1", INBOUND_LANES="3"))
    assert (config.inbound_batch, config.inbound_lanes) == (1, 3)
    assert (load(env()).inbound_batch, load(env()).inbound_lanes) == (64, 2)


def test_with_several_faults_the_first_check_in_order_names_the_problem() -> None:
    """Checks run in a fixed order: database, base URL, keys, gateways, credentials, live updates."""
    kek = new_key_text()
    faults = {
        "DATABASE_URL": ("mysql://x", "TOVHOLDER_DATABASE_URL"),
        "PUBLIC_BASE_URL": ("ftp://sms.example.dk", "TOVHOLDER_PUBLIC_BASE_URL"),
        "GATEWAYS": ("carrier-pigeon", "TOVHOLDER_GATEWAYS"),
        "INDEX_KEY": (kek, "blind-index key"),
        "LIVE_FALLBACK_SECONDS": ("0", "TOVHOLDER_LIVE_FALLBACK_SECONDS"),
    }
    names = list(faults)
    for i, name in enumerate(names):
        given = {n: faults[n][0] for n in names[i:]}
        with pytest.raises(ConfigError, match=faults[name][1]):
            load(env(KEKS=kek, **given))


def test_demo_takes_the_broker_and_operator_token_from_its_environment(tmp_path: Path) -> None:
    """`tovholder demo` honours TOVHOLDER_OIDC_MITID_BROKER and the operator token, nothing else."""
    from bot.domain.identity import OidcSettings
    from bot.simulators import idp as idp_sim

    outer = {
        "TOVHOLDER_OIDC_MITID_BROKER": "nemlogin",
        "TOVHOLDER_OPERATOR_TOKEN": "o" * 40,
        "TOVHOLDER_GATEWAYS": "gatewayapi",
    }
    env = demo_env("sqlite+aiosqlite:///demo.db", outer=outer)
    assert env["TOVHOLDER_OPERATOR_TOKEN"] == "o" * 40
    assert "TOVHOLDER_GATEWAYS" not in env
    full = idp_sim.demo_env(env, staff_port=18082, mitid_port=18083, secrets_dir=tmp_path)
    mitid = OidcSettings.from_config(load(full)).mitid
    assert mitid is not None and mitid.broker == "nemlogin"
