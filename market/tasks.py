"""Celery tasks of the market app: thin, idempotent, one refresh per region at a time.

Beat runs `dispatch_due_refreshes` every few seconds; it queues a region's refresh when the
time recorded after its last refresh (ESI's Expires plus jitter, or a back-off after a
failure) has come. So refreshes follow ESI's cache, never a fixed cron, and a dead chain of
refreshes cannot happen: the next dispatch finds the region due again.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from market import publish
from market.refresh import RefreshBusy, RefreshFailed, is_due, refresh_region
from store import get_store

log = logging.getLogger(__name__)

# A queued refresh that no worker has started after this long may be queued again.
QUEUED_TTL = 120.0


def _queued_key(region_id: int) -> str:
    return f"market:queued:{region_id}"


@shared_task(ignore_result=True)
def dispatch_due_refreshes() -> list[int]:
    """Queue a refresh for every configured region that is due and not queued or running."""
    store = get_store()
    queued = []
    for region_id in settings.MARKET_REGIONS:
        if not is_due(region_id, store) or store.get(_queued_key(region_id)):
            continue
        if publish.read_status(region_id, store).get("running") and not _lock_free(region_id):
            continue
        store.set(_queued_key(region_id), b"1", ttl=QUEUED_TTL)
        refresh_region_task.delay(region_id)
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
    store.delete(_queued_key(region_id))
    try:
        outcome = refresh_region(region_id, store=store)
    except RefreshBusy:
        return "busy"
    except RefreshFailed as exc:
        log.warning("market refresh of %s failed: %s", region_id, exc)
        return "failed"
    if outcome.result == "published":  # the opportunity boards follow each new snapshot
        from profit.tasks import recompute_boards

        recompute_boards.delay()
    return outcome.result


@shared_task(ignore_result=True)
def refresh_prices() -> None:
    """Keep /markets/prices/ cached (the client only asks ESI once its Expires has passed)."""
    from market.prices import fetch_prices

    fetch_prices()
