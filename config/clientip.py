"""The real client address behind a known number of reverse proxies, and the key that groups
one client's addresses for the rate limits.

Each proxy appends the address it was connected from to `X-Forwarded-For`, so behind
`TRUSTED_PROXIES` = N proxies the client is the N-th address from the end (the nearest proxy
is `REMOTE_ADDR` itself). Addresses further left were written by the client and are never
trusted. With N = 0 (the default: gunicorn faces the clients) the header is ignored.

An IPv6 client is usually given a whole /64 (one home or one server), so it could take a
fresh address for every request: `client_key` counts it by its /64 network.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPV6_PREFIX = 64


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if not forwarded:
        return remote
    return forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]


def address_group(address: str) -> str:
    """ "198.51.100.7" as it is, "2001:db8:1:2::5" as "2001:db8:1:2::/64", an IPv4-mapped
    IPv6 address ("::ffff:198.51.100.7") as its IPv4 address; anything unparsable as it is."""
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def client_key(request: HttpRequest) -> str:
    """Who a request counts against: its client address, an IPv6 one by its /64."""
    return address_group(client_ip(request))
