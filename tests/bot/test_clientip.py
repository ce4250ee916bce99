"""The client's address for per-IP limits: X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from aiohttp import web

from bot.base.appkeys import CONFIG
from bot.base.config import Config, TwilioConfig, parse_networks
from bot.http.clientip import client_ip, resolve

PROXIES = parse_networks("10.0.0.0/8, 2001:db8::/32")


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        # No trusted proxies: the header is ignored, whoever sends it.
        ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),
        # A peer that is not a trusted proxy cannot speak for anyone else.
        ("203.0.113.9", ["198.51.100.1"], PROXIES, "203.0.113.9"),
        # Through one trusted proxy: the address it saw.
        ("10.1.2.3", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        # A client that forges the header only adds to the left of what our proxy wrote.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], PROXIES, "198.51.100.1"),
        # Two trusted hops (header lines from each proxy), the client on the far left.
        ("10.1.2.3", ["198.51.100.1", "10.9.9.9"], PROXIES, "198.51.100.1"),
        # Every hop trusted: the left-most is as far as we can see.
        ("10.1.2.3", ["10.4.4.4, 10.5.5.5"], PROXIES, "10.4.4.4"),
        # Trusted proxy, no header: the proxy itself.
        ("10.1.2.3", [], PROXIES, "10.1.2.3"),
        # Junk next to a trusted hop: stop at the last address a trusted proxy vouched for.
        ("10.1.2.3", ["not-an-ip"], PROXIES, "10.1.2.3"),
        ("10.1.2.3", ["198.51.100.1, ;drop table"], PROXIES, "10.1.2.3"),
        # Ports and brackets as some proxies write them; IPv6 proxies; mapped IPv4.
        ("10.1.2.3", ["198.51.100.1:51234"], PROXIES, "198.51.100.1"),
        ("2001:db8::1", ["[2001:db8:ffff::5]:443, 2a00:1450::7"], PROXIES, "2a00:1450::7"),
        ("::ffff:10.1.2.3", ["198.51.100.1"], PROXIES, "198.51.100.1"),
    ],
)
def test_resolve(peer: str, xff: list[str], trusted: Any, expected: str) -> None:
    """The right-most address not written by a trusted proxy is the client."""
    assert resolve(peer, xff, trusted) == expected


def test_an_unknown_peer_is_passed_through() -> None:
    """No peer address (a Unix socket): nothing to trust, the empty string comes back."""
    assert resolve("", ["198.51.100.1"], PROXIES) == ""


def _app(trusted: str) -> web.Application:
    app = web.Application()
    app[CONFIG] = Config(
        database_url="sqlite+aiosqlite:///unused.db",
        public_base_url="http://127.0.0.1:8080",
        keks=(b"k" * 32,),
        index_key=b"i" * 32,
        twilio=TwilioConfig(account_sid="AC" + "0" * 32, auth_token="unused"),
        trusted_proxies=parse_networks(trusted),
    )

    async def whoami(request: web.Request) -> web.Response:
        return web.Response(text=client_ip(request))

    app.router.add_get("/whoami", whoami)
    return app


async def test_over_http_the_header_counts_only_from_a_trusted_peer(aiohttp_client: Any) -> None:
    """Over a real connection from 127.0.0.1: X-Forwarded-For is used only when 127.0.0.1 is trusted."""
    untrusted = await aiohttp_client(_app(""))
    resp = await untrusted.get("/whoami", headers={"X-Forwarded-For": "198.51.100.1"})
    assert await resp.text() == "127.0.0.1"

    trusted = await aiohttp_client(_app("127.0.0.1/32"))
    resp = await trusted.get("/whoami", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.1"})
    assert await resp.text() == "198.51.100.1"
    resp = await trusted.get("/whoami")
    assert await resp.text() == "127.0.0.1"


def test_networks_parse_bare_addresses_as_single_hosts() -> None:
    """A bare address in TOVHOLDER_TRUSTED_PROXIES trusts that one host only."""
    (net,) = parse_networks("192.0.2.7")
    assert net == ipaddress.ip_network("192.0.2.7/32")
    assert ipaddress.ip_address("192.0.2.8") not in net
