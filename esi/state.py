"""Helpers for the client's state shared through the store: clock conversions and a
read-modify-write done under a short store lock, so concurrent workers do not lose updates.

Times are kept in the store as seconds since the epoch (floats), taken from the client's
injectable clock, so tests with a fake clock see the same times the client decides on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from store.base import Store

Clock = Callable[[], datetime]

_UPDATE_LOCK_TTL = 5.0  # seconds; an update is a GET and a SET
_UPDATE_WAIT = 0.5  # how long to wait for a busy update lock before updating anyway


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def update_json(
    store: Store,
    key: str,
    change: Callable[[Any], Any],
    *,
    ttl: float | None = None,
) -> Any:
    """Replace the JSON value under `key` by `change(old)` (old is None when absent) and
    return the new value. Holds the store lock `key` meanwhile; when another holder keeps it
    longer than half a second the update goes ahead anyway (a lost update beats a stuck
    worker: the values are counters and times that the next response corrects)."""
    lock = store.lock(f"update:{key}", ttl=_UPDATE_LOCK_TTL)
    deadline = time.monotonic() + _UPDATE_WAIT
    held = lock.acquire()
    while not held and time.monotonic() < deadline:
        time.sleep(0.005)
        held = lock.acquire()
    try:
        new = change(store.get_json(key))
        store.set_json(key, new, ttl)
        return new
    finally:
        if held:
            lock.release()
