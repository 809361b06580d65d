"""The real client address behind a known number of reverse proxies.

Each proxy appends the address it was connected from to `X-Forwarded-For`, so behind
`TRUSTED_PROXIES` = N proxies the client is the N-th address from the end (the nearest proxy
is `REMOTE_ADDR` itself). Addresses further left were written by the client and are never
trusted. With N = 0 (the default: gunicorn faces the clients) the header is ignored.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
