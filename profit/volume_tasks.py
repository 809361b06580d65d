"""Celery tasks that keep the daily volumes (`profit/volumes.py`) filled, in the worker only.

`dispatch_daily_volumes` (run by beat every few minutes) queues one `refresh_daily_volumes_task`
per tracked region that is not complete for today. A refresh runs under a per-region lock,
fetches history for the hub's types until the minute's share of the shared history budget is
used, saves what it got, and queues itself again for the next minute while types remain. A
lost chain is harmless: the next dispatch queues the region again.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import partial

from celery import shared_task
from django.conf import settings

from profit.volumes import refresh_daily_volumes
from store import get_store
from store.queued import QueuedOnce

log = logging.getLogger(__name__)

LOCK_TTL = 120.0
RUN_SECONDS = 90.0  # one run stops after this long and queues the next
QUEUED_TTL = 600.0
QUEUED = QueuedOnce(key="profit:daily-volumes-queued:{}".format, ttl=QUEUED_TTL)


def _done_key(region_id: int) -> str:
    return f"profit:daily-volumes-done:{region_id}"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@shared_task(ignore_result=True)
def dispatch_daily_volumes() -> list[int]:
    """Queue the volume refresh of every tracked region not done today (nor queued)."""
    store = get_store()
    queued = []
    for region_id in settings.MARKET_REGIONS:
        done = store.get(_done_key(region_id))
        if done and done.decode() == _today():
            continue
        if QUEUED.queue(region_id, partial(refresh_daily_volumes_task.delay, region_id), store):
            queued.append(region_id)
    return queued


@shared_task(ignore_result=True)
def refresh_daily_volumes_task(region_id: int) -> str:
    """One run of a region's volume refresh; repeats itself while types remain."""
    store = get_store()
    lock = store.lock(f"profit:daily-volumes:{region_id}", ttl=LOCK_TTL)
    if not lock.acquire():
        return "busy"
    try:
        result = refresh_daily_volumes(
            region_id, deadline=time.monotonic() + RUN_SECONDS, store=store
        )
    finally:
        lock.release()
    if result.remaining == 0:
        store.set(_done_key(region_id), _today().encode(), ttl=2 * 86_400)
        QUEUED.clear(region_id, store)
        return "done"
    if result.stopped == "esi":
        QUEUED.clear(region_id, store)  # the next dispatch tries again
        return "esi"
    delay = 1.0
    if result.resume_at is not None:
        delay = max(1.0, (result.resume_at - datetime.now(UTC)).total_seconds() + 1.0)
    QUEUED.mark(region_id, store)  # still queued: by itself, for the next minute
    refresh_daily_volumes_task.apply_async((region_id,), countdown=delay)
    return "continues"
