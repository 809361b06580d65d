"""Heavy computations run at most `PROFIT_HEAVY_SLOTS` at a time per process.

A heavy computation (a station-trading or hauling scan, the trade calculator) takes a slot
for as long as it runs: `with heavy_slot(): ...`. The slots are a bounded count, not a queue
that grows: a request that finds none free within `PROFIT_HEAVY_WAIT` seconds raises `Busy`
at once, and its caller answers 503 with `Retry-After` (`refusal`: JSON with a `detail`
under /api/, the refusal page elsewhere), so light requests (an item search, a cached
answer) keep the process's other threads. Work that needs no computation (an answer kept in
profit.selectors.computed) takes no slot; a CSV of more rows than a page holds one while it
is written (`take`, released when the response closes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.protection import _refusal

_lock = threading.Lock()
_semaphores: dict[int, threading.BoundedSemaphore] = {}


class Busy(Exception):
    """Every heavy slot of this process is taken; try again in `retry_after` seconds."""

    def __init__(self, slots: int, retry_after: int) -> None:
        self.slots = slots
        self.retry_after = retry_after
        super().__init__(
            f"The server is busy: it runs at most {slots} heavy "
            f"search{'' if slots == 1 else 'es'} at a time per process and "
            f"{'it is' if slots == 1 else 'all are'} taken (PROFIT_HEAVY_SLOTS). "
            f"Try again in {retry_after} s."
        )


def _semaphore(slots: int) -> threading.BoundedSemaphore:
    """The process's slots for this setting (one semaphore per value, so a test or a
    reloaded setting never shares a half-taken count)."""
    with _lock:
        if slots not in _semaphores:
            _semaphores[slots] = threading.BoundedSemaphore(slots)
        return _semaphores[slots]


def slot_count() -> int:
    return max(1, int(settings.PROFIT_HEAVY_SLOTS))


def take() -> Callable[[], None]:
    """Take one heavy slot; returns its release (safe to call more than once). `Busy` when
    none frees up within PROFIT_HEAVY_WAIT seconds."""
    slots = slot_count()
    semaphore = _semaphore(slots)
    wait = max(0.0, float(settings.PROFIT_HEAVY_WAIT))
    taken = semaphore.acquire(timeout=wait) if wait else semaphore.acquire(blocking=False)
    if not taken:
        raise Busy(slots, max(1, int(settings.PROFIT_HEAVY_RETRY_AFTER)))
    released = threading.Event()
    once = threading.Lock()

    def release() -> None:
        with once:
            if not released.is_set():
                released.set()
                semaphore.release()

    return release


@contextmanager
def heavy_slot() -> Iterator[None]:
    """Hold one heavy slot while the block runs; `Busy` when none frees up in time."""
    release = take()
    try:
        yield
    finally:
        release()


def refusal(request: HttpRequest, message: str, retry_after: int) -> HttpResponse:
    """503 with Retry-After, in the house style of the other refusals (JSON under /api/,
    the refusal page elsewhere)."""
    response = _refusal(request, 503, message)
    response["Retry-After"] = str(retry_after)
    return response
