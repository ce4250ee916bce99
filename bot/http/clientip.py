"""The client's address behind reverse proxies we trust (``TOVHOLDER_TRUSTED_PROXIES``).

Per-address limits (the citizen's SMS-code requests) must count the family's
phone, not the load balancer in front of us. ``X-Forwarded-For`` is believed
only as far as it was written by proxies we trust: starting from the direct
peer, walk the header from the right (nearest hop first) past every trusted
proxy; the first address that is not one is the client. Anything to its left
came from the client and may be made up. With no trusted proxies configured,
or a peer that is not one, the header is ignored entirely.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from bot.base.appkeys import CONFIG
from bot.base.config import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: web.Request) -> str:
    """The address to rate-limit this request by (see the module docstring)."""
    return resolve(
        request.remote or "",
        request.headers.getall("X-Forwarded-For", []),
        request.app[CONFIG].trusted_proxies,
    )


def resolve(peer: str, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's address from the direct peer, X-Forwarded-For lines and trusted proxies."""
    current = _parse(peer)
    if current is None:
        return peer
    if not trusted:
        return str(current)
    hops = [h.strip() for line in forwarded_for for h in line.split(",")]
    while _trusted(current, trusted) and hops:
        nearer = _parse(hops.pop())
        if nearer is None:
            # A trusted proxy writes well-formed addresses: the junk came from
            # whoever sent to it, so that sender (``current``) is the client.
            break
        current = nearer
    return str(current)


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def _parse(raw: str) -> IPAddress | None:
    """An address as proxies write it: bare, ``[v6]:port`` or ``v4:port``."""
    text = raw.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
