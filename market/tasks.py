"""Celery tasks of the market app: thin, idempotent, one refresh per region at a time.

Beat runs `dispatch_due_refreshes` every few seconds; it queues a region's refresh when the
time recorded after its last refresh (ESI's Expires plus jitter, or a back-off after a
failure) has come. So refreshes follow ESI's cache, never a fixed cron, and a dead chain of
refreshes cannot happen: the next dispatch finds the region due again.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.conf import settings

from market import publish, structures
from market.history import fetch_history_task  # noqa: F401 (the worker registers it here)
from market.prices import fetch_prices
from market.refresh import RefreshBusy, RefreshFailed, is_due, refresh_region
from market.signals import snapshot_published
from store import get_store
from store.queued import QueuedOnce

log = logging.getLogger(__name__)

# A queued refresh that no worker has started after this long may be queued again.
QUEUED_TTL = 120.0
QUEUED = QueuedOnce(key="market:queued:{}".format, ttl=QUEUED_TTL)


@shared_task(ignore_result=True)
def dispatch_due_refreshes() -> list[int]:
    """Queue a refresh for every configured region that is due and not queued or running."""
    store = get_store()
    queued = []
    for region_id in settings.MARKET_REGIONS:
        if not is_due(region_id, store) or QUEUED.is_queued(region_id, store):
            continue
        if publish.read_status(region_id, store).get("running") and not _lock_free(region_id):
            continue
        if QUEUED.queue(region_id, partial(refresh_region_task.delay, region_id), store):
            queued.append(region_id)
    return queued


def _lock_free(region_id: int) -> bool:
    lock = get_store().lock(f"market:refresh:{region_id}", ttl=1)
    if lock.acquire():
        lock.release()
        return True
    return False


@shared_task(ignore_result=True)
def refresh_region_task(region_id: int) -> str:
    """Refresh one region; harmless to repeat (a second copy finds the lock taken)."""
    store = get_store()
    QUEUED.clear(region_id, store)
    try:
        outcome = refresh_region(region_id, store=store)
    except RefreshBusy:
        return "busy"
    except RefreshFailed as exc:
        log.warning("market refresh of %s failed: %s", region_id, exc)
        return "failed"
    if outcome.result == "published":  # who follows new snapshots hears of it (signals.py)
        structures.learn_from_published(region_id)
        snapshot_published.send(
            sender=refresh_region_task, region_id=region_id, generation=outcome.meta.generation
        )
    return outcome.result


@shared_task(ignore_result=True)
def learn_public_structures() -> int:
    """ESI's public list of structures with a market, recorded (market/structures.py)."""
    return structures.fetch_public_list()


@shared_task(ignore_result=True)
def refresh_prices() -> None:
    """Keep /markets/prices/ cached (the client only asks ESI once its Expires has passed)."""
    fetch_prices()
