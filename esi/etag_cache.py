"""Cached ESI responses in the shared store, for `EsiClient.get_cached`.

An entry is the response's ETag, Expires, Last-Modified, headers and raw body, kept under a
key derived from the URL and its query (and, for authenticated calls, the caller's own
per-character scope: a token is never part of a key or an entry). While Expires lies ahead
the body is served without a request; afterwards the entry is revalidated with
If-None-Match, and a 304 keeps the body. Entries stay in the store `keep` seconds past their
Expires so that revalidation has an ETag to send.

Stored value: one line of JSON metadata, a newline, then the body bytes untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import orjson

from store.base import Store

PREFIX = "esi:cache:"
_DROPPED_HEADERS = frozenset({"set-cookie", "connection", "keep-alive", "transfer-encoding"})


@dataclass(frozen=True)
class CacheEntry:
    etag: str | None
    expires: float | None  # epoch seconds
    last_modified: float | None
    fetched_at: float  # when the body was last fetched or revalidated
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def fresh(self, now: float, max_age: float | None = None) -> bool:
        """Still usable without asking ESI: before Expires and, with `max_age`, no older
        than that many seconds since it was fetched or revalidated."""
        if self.expires is None or now >= self.expires:
            return False
        return max_age is None or now - self.fetched_at < max_age

    def revalidated(
        self, *, now: float, expires: float | None, last_modified: float | None
    ) -> CacheEntry:
        return replace(
            self,
            expires=expires,
            last_modified=last_modified if last_modified is not None else self.last_modified,
            fetched_at=now,
        )


def cache_key(url: str, params: Mapping[str, Any] | None, scope: str | None = None) -> str:
    query = urlencode(sorted((str(k), str(v)) for k, v in (params or {}).items()))
    text = f"{url}?{query}" + (f"#{scope}" if scope else "")
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()


def keep_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROPPED_HEADERS}


class ResponseCache:
    def __init__(self, store: Store, *, keep: float = 86400.0) -> None:
        self.store = store
        self.keep = keep

    def load(self, key: str) -> CacheEntry | None:
        raw = self.store.get(key)
        if raw is None:
            return None
        meta_line, sep, body = raw.partition(b"\n")
        if not sep:
            return None
        try:
            meta = orjson.loads(meta_line)
            return CacheEntry(
                etag=meta["etag"],
                expires=meta["expires"],
                last_modified=meta["last_modified"],
                fetched_at=meta["fetched_at"],
                headers=dict(meta["headers"]),
                body=body,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.store.delete(key)  # written by an older layout, or damaged: refetch
            return None

    def save(self, key: str, entry: CacheEntry, now: float) -> None:
        meta = {
            "etag": entry.etag,
            "expires": entry.expires,
            "last_modified": entry.last_modified,
            "fetched_at": entry.fetched_at,
            "headers": entry.headers,
        }
        ttl = max((entry.expires or now) - now, 0.0) + self.keep
        self.store.set(key, orjson.dumps(meta) + b"\n" + entry.body, ttl=ttl)
