"""Daily market history per (region, type), fetched on demand and cached for the day.

A web request never waits on ESI for it: `history_or_ask` answers from the shared cache
when ESI's answer of today is kept, and otherwise queues `fetch_history_task` (once for
everyone who asks meanwhile) and raises `HistoryPending`; the API answers 202 with
Retry-After and the item page's chart asks again. A failed fetch is kept for a minute
(`HistoryFailed`: 404 when ESI has no such history, else 503 with ESI's reason), so the
callers who wait learn it instead of waiting. A fetch that cannot be queued (the broker
is unreachable) is made in the request.

ESI refreshes history once a day (its Expires says when), so the client's Expires cache
answers every later request that day without a call. ESI allows at most 300 history
requests a minute per IP; a shared counter keeps every process under that together.

People opening history pages share that budget with the worker's volume fill
(profit/volumes.py leaves them at least 300 - TASK_CALLS_PER_MINUTE). So that one client
cannot spend it for all, a fetch a client causes (`for_client`, its rate-limit key) also
counts against that client's share, `RATE_LIMIT_HISTORY_CALLS` a minute; past it the call
is refused with `HistoryShareSpent` before ESI is asked. Answers ESI still has cached cost
nothing, and a store that cannot be reached does not refuse anyone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings

from esi.client import EsiClient, shared_client
from esi.errors import EsiError, EsiHttpError, EsiRateLimited
from store import get_store
from store.base import Store
from store.queued import QueuedOnce

log = logging.getLogger(__name__)

PER_MINUTE = 300
# A queued fetch no worker has started after this long may be queued again.
QUEUED = QueuedOnce(key="esi:history-queued:{}".format, ttl=30.0)
FAILED_TTL = 60  # how long a failed fetch answers for ESI before it is asked again
RETRY_AFTER = 1  # seconds a caller of a pending history waits before asking again


class HistoryShareSpent(Exception):
    """One client has caused its share of this minute's history calls."""

    def __init__(self, share: int, retry_after: int) -> None:
        self.share = share
        self.retry_after = retry_after
        super().__init__(
            f"Too many market history requests: one address may load at most {share} "
            f"histories a minute that are not cached yet (ESI's budget is shared by "
            f"everyone). Try again in {retry_after} s."
        )


def _spend_client_share(client_key: str, now: datetime) -> None:
    share = settings.RATE_LIMIT_HISTORY_CALLS
    key = f"esi:history-calls:{now.strftime('%Y%m%d%H%M')}:client:{client_key}"
    try:
        calls = get_store().incr(key, ttl=120)
    except Exception:
        log.warning("history share store unreachable: letting the call through", exc_info=True)
        return
    if calls > share:
        raise HistoryShareSpent(share, retry_after=max(1, 60 - now.second))


def fetch_history(
    region_id: int,
    type_id: int,
    client: EsiClient | None = None,
) -> list[dict[str, Any]]:
    client = client or shared_client()
    path = _path(region_id)
    params = {"type_id": type_id}
    if not client.is_fresh(path, params=params):
        now = datetime.now(UTC)
        minute = now.strftime("%Y%m%d%H%M")
        if get_store().incr(f"esi:history-calls:{minute}", ttl=120) > PER_MINUTE:
            resume = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            raise EsiRateLimited(
                "market history: 300 requests this minute already", resume_at=resume
            )
    response = client.get_cached(path, params=params)
    return list(response.data or [])


def _path(region_id: int) -> str:
    return f"/markets/{region_id}/history/"


def _failed_key(region_id: int, type_id: int) -> str:
    return f"esi:history-failed:{region_id}:{type_id}"


class HistoryPending(Exception):
    """A worker is fetching this history from ESI; ask again in `retry_after` seconds."""

    retry_after = RETRY_AFTER

    def __init__(self) -> None:
        super().__init__(
            f"The price history is being fetched from ESI; ask again in {self.retry_after} s."
        )


class HistoryFailed(Exception):
    """The last fetch of this history failed (kept FAILED_TTL seconds): `status` 404 when
    ESI has no such history, else 503."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        super().__init__(detail)


def cached_history(
    region_id: int, type_id: int, client: EsiClient | None = None
) -> list[dict[str, Any]] | None:
    """The history from the shared cache while ESI's answer is fresh, else None."""
    client = client or shared_client()
    response = client.fresh_response(_path(region_id), params={"type_id": type_id})
    return None if response is None else list(response.data or [])


def fresh_for(region_id: int, type_id: int) -> float | None:
    """Seconds the cached history stays fresh (ESI's Expires: the next daily update), None
    when it is not cached or no longer fresh."""
    client = shared_client()
    response = client.fresh_response(_path(region_id), params={"type_id": type_id})
    if response is None or response.expires is None:
        return None
    return (response.expires - client.now()).total_seconds()


def history_or_ask(
    region_id: int, type_id: int, *, for_client: str | None = None
) -> list[dict[str, Any]]:
    """The history now if it is cached; otherwise queue its fetch and raise HistoryPending
    (or HistoryFailed with the last fetch's failure). The client that causes a fetch spends
    one of its history calls (`HistoryShareSpent` past them)."""
    rows = cached_history(region_id, type_id)
    if rows is not None:
        return rows
    store = get_store()
    _raise_failure(region_id, type_id, store)
    subject = f"{region_id}:{type_id}"
    if QUEUED.is_queued(subject, store):
        raise HistoryPending()
    if for_client is not None:
        _spend_client_share(for_client, datetime.now(UTC))
    QUEUED.mark(subject, store)
    try:
        fetch_history_task.delay(region_id, type_id)
    except Exception:  # no broker: fetch it here rather than never
        log.warning("history fetch not queued: fetching it in the request", exc_info=True)
        QUEUED.clear(subject, store)
        return fetch_history(region_id, type_id)
    rows = cached_history(region_id, type_id)  # a worker that runs tasks eagerly is done
    if rows is not None:
        return rows
    _raise_failure(region_id, type_id, store)
    raise HistoryPending()


def _raise_failure(region_id: int, type_id: int, store: Store) -> None:
    """HistoryFailed when the last fetch of this history failed (within FAILED_TTL)."""
    failed = store.get_json(_failed_key(region_id, type_id))
    if failed:
        raise HistoryFailed(int(failed["status"]), str(failed["detail"]))


@shared_task(ignore_result=True)
def fetch_history_task(region_id: int, type_id: int) -> None:
    """Fetch one history into the shared cache; a failure is kept for the callers waiting."""
    store = get_store()
    try:
        fetch_history(region_id, type_id)
    except EsiHttpError as exc:
        status = 404 if exc.status == 404 else 503
        detail = str(exc) if status == 404 else f"ESI answered: {exc}"
        failure = {"status": status, "detail": detail}
        store.set_json(_failed_key(region_id, type_id), failure, ttl=FAILED_TTL)
    except EsiError as exc:
        store.set_json(
            _failed_key(region_id, type_id),
            {"status": 503, "detail": f"ESI is unavailable: {exc}"},
            ttl=FAILED_TTL,
        )
    finally:
        QUEUED.clear(f"{region_id}:{type_id}", store)
