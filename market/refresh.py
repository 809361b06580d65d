"""Refreshing one region's snapshot from ESI: the one service behind the Celery task, the
`market_refresh` command and the refresh button.

1. Take the region's lock (one refresh per region at a time; it expires if the worker dies).
2. Fetch every page of /markets/{region}/orders/ through the ESI client, sending the ETags of
   the current snapshot's pages: a page that answers 304 is reused from that snapshot.
3. Validate and build the new snapshot, and publish it by a pointer swap. Only a complete,
   consistent set is ever published; on any failure the previous snapshot stays.
4. Record the result and when to refresh next: ESI's Expires plus jitter (or a back-off).

When ESI cannot be reached and the region never had a snapshot, the demo market (generated
from the SDE, source "demo") is published instead, so a fresh install shows something
clearly labelled; a later successful refresh replaces it.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from esi.client import EsiClient, PagedResponse, shared_client
from esi.errors import EsiError, EsiRateLimited
from market import publish
from market.generator import generate_orders
from market.snapshot import (
    Arrays,
    InvalidOrders,
    Snapshot,
    SnapshotMeta,
    columns_from_pages,
    merge_columns,
    page_columns,
    utc_iso,
)
from store import Store, get_store

log = logging.getLogger(__name__)

# Orders in the demo market of each region (The Forge is the biggest hub, as in the game).
DEMO_ORDERS = {10000002: 120_000, 19000001: 1_500}  # 19000001: the global PLEX market
DEMO_ORDERS_DEFAULT = 30_000
# After a failure, try again after this long (doubling, up to the cap) unless ESI said when.
RETRY_AFTER_FAILURE = 60.0
RETRY_AFTER_FAILURE_MAX = 900.0

Progress = Callable[[int, int], None]


class RefreshBusy(Exception):
    """Another worker is refreshing this region right now."""


class RefreshFailed(Exception):
    """Nothing was published; the message is the one-line reason."""


@dataclass(frozen=True)
class RefreshOutcome:
    region_id: int
    result: str  # "published", "not_modified" or "demo"
    meta: SnapshotMeta
    seconds: float


def refresh_region(
    region_id: int,
    *,
    client: EsiClient | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    demo_fallback: bool | None = None,
) -> RefreshOutcome:
    store = store or get_store()
    lock = store.lock(f"market:refresh:{region_id}", ttl=settings.MARKET_REFRESH_LOCK_TTL)
    if not lock.acquire():
        raise RefreshBusy(f"region {region_id} is being refreshed by another worker")
    started = time.monotonic()
    publish.write_status(region_id, store, running=True, last_attempt_at=utc_iso(datetime.now(UTC)))
    try:
        outcome = fetch_book(
            region_id,
            f"/markets/{region_id}/orders/",
            {"order_type": "all"},
            client=client or shared_client(),
            store=store,
            progress=progress,
            lock=lock,
        )
    except (EsiError, InvalidOrders) as exc:
        reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, InvalidOrders) else str(exc)
        fallback = settings.MARKET_DEMO_FALLBACK if demo_fallback is None else demo_fallback
        _record_failure(region_id, store, reason, exc)
        if fallback and publish.current_generation(region_id, store) is None:
            publish_demo(region_id, store)
            publish.write_progress(region_id, "demo", 0, 0, store)
            raise RefreshFailed(f"{reason} (published the demo market instead)") from exc
        publish.write_progress(region_id, "failed", 0, 0, store)
        raise RefreshFailed(reason) from exc
    finally:
        lock.release()
        publish.write_status(region_id, store, running=False)
    elapsed = time.monotonic() - started
    _record_success(region_id, store, outcome.meta)
    return RefreshOutcome(region_id, outcome.result, outcome.meta, elapsed)


@dataclass(frozen=True)
class Fetched:
    result: str
    meta: SnapshotMeta


def fetch_book(
    book_id: int,
    path: str,
    params: dict[str, Any],
    *,
    client: EsiClient,
    store: Store,
    lock: Any,
    progress: Progress | None = None,
    token: str | None = None,
    transform: Callable[[int, list[dict[str, Any]]], Arrays] = page_columns,
) -> Fetched:
    """Fetch a book (a region's, or a structure's with a member's `token`) and publish it
    under `book_id`; the pages of the current snapshot are asked with their ETags, and a
    book ESI has not changed is kept with its new Expires ("not_modified")."""
    current = publish.load(book_id, store=store)
    reusable = current if current and current.meta.source == "esi" else None
    etags = (
        {page: etag for page, etag in enumerate(reusable.meta.page_etags, 1) if etag}
        if reusable
        else {}
    )

    last_write = [0.0]

    def on_page(done: int, total: int) -> None:
        # The status page polls every second or two: a few writes a second are plenty.
        if done == total or time.monotonic() - last_write[0] >= 0.2:
            last_write[0] = time.monotonic()
            publish.write_progress(book_id, "fetching", done, total, store)
        if done % 50 == 0:
            lock.extend(settings.MARKET_REFRESH_LOCK_TTL)
        if progress:
            progress(done, total)

    publish.write_progress(book_id, "fetching", 0, 0, store)
    if reusable is not None and 1 in etags:
        # ESI regenerates every page of a route together, all stamped with one Last-Modified:
        # page 1 unchanged under the same Last-Modified means no page changed.
        probe = client.get(path, params={**params, "page": 1}, etag=etags[1], token=token)
        if probe.status == 304 and utc_iso(probe.last_modified) == reusable.meta.esi_last_modified:
            return _unchanged(book_id, reusable, probe.expires, store)
    with _short_gil_turns():
        fetched = client.get_pages(
            path,
            params=params,
            etags=etags,
            unique_key="order_id",
            progress=on_page,
            transform=transform,  # in the waiting thread, as each page arrives
            token=token,
        )
    if fetched.not_modified and reusable is not None:
        return _unchanged(book_id, reusable, fetched.expires, store)

    publish.write_progress(book_id, "building", len(fetched.pages), len(fetched.pages), store)
    parts: list[Arrays] = []
    for n, page in enumerate(fetched.pages, 1):
        if page.data is not None:
            parts.append(page.data)
        elif reusable is not None:  # answered 304: the previous snapshot has this page's orders
            parts.append(reusable.page_rows(n))
        else:
            raise InvalidOrders(f"page {n} answered 304 but no snapshot holds it")
    columns = merge_columns(parts)
    meta = fetched_meta(book_id, fetched, len(columns["order_id"]))
    snapshot = Snapshot.build(meta, columns)
    publish.publish(snapshot, store)
    publish.write_progress(book_id, "published", meta.pages, meta.pages, store)
    return Fetched("published", meta)


_turns_lock = threading.Lock()
_turns_users = 0
_turns_saved = 0.005


@contextmanager
def _short_gil_turns(interval: float = 0.0005) -> Iterator[None]:
    """While the pages come in, hand the GIL over every 0.5 ms instead of Python's 5 ms: a
    fetching thread whose answer has arrived then waits less behind the thread turning the
    previous page into columns (a full Forge refresh: 1.32-1.35x of the latency floor at
    5 ms, 1.28-1.29x at 0.5 ms; benchmarks/ingest.py)."""
    global _turns_users, _turns_saved
    with _turns_lock:
        if _turns_users == 0:
            _turns_saved = sys.getswitchinterval()
            sys.setswitchinterval(interval)
        _turns_users += 1
    try:
        yield
    finally:
        with _turns_lock:
            _turns_users -= 1
            if _turns_users == 0:
                sys.setswitchinterval(_turns_saved)


def _unchanged(
    region_id: int, current: Snapshot, expires: datetime | None, store: Store
) -> Fetched:
    """Nothing changed at ESI: keep the snapshot, with ESI's new Expires."""
    meta = _replace(
        current.meta, esi_expires=utc_iso(expires), fetched_at=utc_iso(datetime.now(UTC))
    )
    publish.update_meta(meta, store)
    publish.write_progress(region_id, "not_modified", meta.pages, meta.pages, store)
    return Fetched("not_modified", meta)


def publish_demo(region_id: int, store: Store | None = None) -> SnapshotMeta:
    """Publish the generated demo market for a region (source "demo", always marked stale)."""
    now = datetime.now(UTC)
    orders = generate_orders(region_id, DEMO_ORDERS.get(region_id, DEMO_ORDERS_DEFAULT), now=now)
    meta = SnapshotMeta(
        region_id=region_id,
        generation=publish.new_generation(),
        source="demo",
        esi_last_modified=None,
        esi_expires=None,
        fetched_at=utc_iso(now) or "",
        pages=0,
        orders=len(orders),
    )
    snapshot = Snapshot.build(meta, columns_from_pages([(0, orders)]))
    publish.publish(snapshot, store)
    return meta


def fetched_meta(book_id: int, fetched: PagedResponse, orders: int) -> SnapshotMeta:
    """The meta of a new snapshot of a book fetched from ESI (a region's, or a structure's
    under its id: market/structure_refresh.py), fetched now."""
    return SnapshotMeta(
        region_id=book_id,
        generation=publish.new_generation(),
        source="esi",
        esi_last_modified=utc_iso(fetched.last_modified),
        esi_expires=utc_iso(fetched.expires),
        fetched_at=utc_iso(datetime.now(UTC)) or "",
        pages=len(fetched.pages),
        orders=orders,
        page_etags=[page.etag for page in fetched.pages],
    )


def _replace(meta: SnapshotMeta, **changes: Any) -> SnapshotMeta:
    return SnapshotMeta.from_json({**meta.to_json(), **changes})


def _record_success(region_id: int, store: Store, meta: SnapshotMeta) -> None:
    expires = datetime.fromisoformat(meta.esi_expires) if meta.esi_expires else datetime.now(UTC)
    next_at = max(expires, datetime.now(UTC)) + timedelta(
        seconds=random.uniform(1.0, max(1.0, settings.MARKET_REFRESH_JITTER))
    )
    publish.write_status(
        region_id,
        store,
        last_result="ok",
        last_error=None,
        last_success_at=utc_iso(datetime.now(UTC)),
        failures=0,
        next_refresh_at=utc_iso(next_at),
    )


def _record_failure(region_id: int, store: Store, reason: str, exc: Exception) -> None:
    status = publish.read_status(region_id, store)
    failures = int(status.get("failures", 0)) + 1
    wait = min(RETRY_AFTER_FAILURE * 2 ** (failures - 1), RETRY_AFTER_FAILURE_MAX)
    next_at = datetime.now(UTC) + timedelta(seconds=wait)
    resume_at = getattr(exc, "resume_at", None) or getattr(exc, "retry_at", None)
    if isinstance(resume_at, datetime):
        next_at = max(next_at, resume_at) if isinstance(exc, EsiRateLimited) else resume_at
    log.warning("refresh of region %s failed: %s", region_id, reason)
    publish.write_status(
        region_id,
        store,
        last_result="error",
        last_error=reason,
        failures=failures,
        next_refresh_at=utc_iso(next_at),
    )


def is_due(region_id: int, store: Store | None = None, now: datetime | None = None) -> bool:
    status = publish.read_status(region_id, store)
    next_at = status.get("next_refresh_at")
    if not next_at:
        return True
    return (now or datetime.now(UTC)) >= datetime.fromisoformat(next_at)
