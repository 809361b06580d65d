"""Publishing and reading snapshots in the shared store, plus refresh status and progress.

A snapshot is written as two keys, its blob and its meta, under a new generation id; then
the region's pointer is swapped to it in one write. Readers follow the pointer, so they see
the previous snapshot until the swap and the new one after it, never a mix. The replaced
generation expires after MARKET_SNAPSHOT_KEEP seconds (permalinks replay it meanwhile).

Each process keeps the snapshots it has loaded, by generation, so a request costs one small
read of the pointer. When the store cannot be reached, a process keeps serving what it has.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from market.snapshot import Snapshot, SnapshotMeta
from store import Store, get_store

log = logging.getLogger(__name__)


def _pointer_key(region_id: int) -> str:
    return f"market:current:{region_id}"


def _meta_key(region_id: int, generation: str) -> str:
    return f"market:meta:{region_id}:{generation}"


def _blob_key(region_id: int, generation: str) -> str:
    return f"market:blob:{region_id}:{generation}"


def new_generation() -> str:
    """Sortable by time, unique across workers: '20261122T025012-3f9a1c'."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def publish(snapshot: Snapshot, store: Store | None = None) -> None:
    store = store or get_store()
    meta = snapshot.meta
    region = meta.region_id
    previous = store.get_json(_pointer_key(region))
    store.set(_blob_key(region, meta.generation), snapshot.to_bytes())
    store.set_json(_meta_key(region, meta.generation), meta.to_json())
    store.set_json(_pointer_key(region), {"generation": meta.generation})  # the swap
    if previous and previous.get("generation") != meta.generation:
        old = previous["generation"]
        store.expire(_blob_key(region, old), settings.MARKET_SNAPSHOT_KEEP)
        store.expire(_meta_key(region, old), settings.MARKET_SNAPSHOT_KEEP)
    _remember(snapshot)
    log.info(
        "published snapshot region=%s generation=%s orders=%s source=%s",
        region,
        meta.generation,
        meta.orders,
        meta.source,
    )


def update_meta(meta: SnapshotMeta, store: Store | None = None) -> None:
    """Rewrite a published snapshot's meta (a refresh that found nothing changed)."""
    (store or get_store()).set_json(_meta_key(meta.region_id, meta.generation), meta.to_json())
    with _lock:
        cached = _loaded.get(meta.region_id)
        if cached and cached.meta.generation == meta.generation:
            cached.meta = meta


# --- Reading -------------------------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[int, Snapshot] = {}  # region -> the latest snapshot this process loaded


def _remember(snapshot: Snapshot) -> None:
    with _lock:
        _loaded[snapshot.meta.region_id] = snapshot


def forget_loaded() -> None:
    """Drop this process's loaded snapshots (tests)."""
    with _lock:
        _loaded.clear()


def current_generation(region_id: int, store: Store | None = None) -> str | None:
    pointer = (store or get_store()).get_json(_pointer_key(region_id))
    return pointer["generation"] if pointer else None


def current_meta(region_id: int, store: Store | None = None) -> SnapshotMeta | None:
    store = store or get_store()
    generation = current_generation(region_id, store)
    if generation is None:
        return None
    data = store.get_json(_meta_key(region_id, generation))
    return SnapshotMeta.from_json(data) if data else None


def load(
    region_id: int, generation: str | None = None, store: Store | None = None
) -> Snapshot | None:
    """The region's current snapshot (or a kept older generation), or None if there is none."""
    store = store or get_store()
    try:
        wanted = generation or current_generation(region_id, store)
        with _lock:
            cached = _loaded.get(region_id)
        if wanted is None:
            return None
        if cached and cached.meta.generation == wanted:
            meta = store.get_json(_meta_key(region_id, wanted))
            if meta:  # a refresh that found nothing new may have extended its Expires
                cached.meta = SnapshotMeta.from_json(meta)
            return cached
        blob = store.get(_blob_key(region_id, wanted))
        meta = store.get_json(_meta_key(region_id, wanted))
    except Exception:  # the store is down: keep serving what this process has
        log.warning(
            "store unreachable; serving the loaded snapshot of %s", region_id, exc_info=True
        )
        with _lock:
            return _loaded.get(region_id) if generation is None else None
    if blob is None or meta is None:
        return None
    snapshot = Snapshot.from_bytes(SnapshotMeta.from_json(meta), blob)
    if generation is None:
        _remember(snapshot)
    return snapshot


def freshness(meta: SnapshotMeta, now: datetime | None = None) -> dict[str, Any]:
    """The `snapshot` block every market answer carries."""
    now = now or datetime.now(UTC)
    fetched = datetime.fromisoformat(meta.fetched_at)
    expires = datetime.fromisoformat(meta.esi_expires) if meta.esi_expires else fetched
    stale = meta.source == "demo" or now > expires + timedelta(seconds=settings.MARKET_STALE_GRACE)
    return {
        "region_id": meta.region_id,
        "generation": meta.generation,
        "source": meta.source,
        "esi_last_modified": meta.esi_last_modified,
        "esi_expires": meta.esi_expires,
        "fetched_at": meta.fetched_at,
        "age_seconds": max(0, int((now - fetched).total_seconds())),
        "stale": stale,
        "pages": meta.pages,
        "orders": meta.orders,
    }


# --- Refresh status and progress -----------------------------------------------------------


def status_key(region_id: int) -> str:
    return f"market:status:{region_id}"


def read_status(region_id: int, store: Store | None = None) -> dict[str, Any]:
    return dict((store or get_store()).get_json(status_key(region_id), default={}))


def write_status(region_id: int, store: Store | None = None, **changes: Any) -> dict[str, Any]:
    store = store or get_store()
    status = read_status(region_id, store)
    status.update(changes)
    store.set_json(status_key(region_id), status)
    return status


def progress_key(region_id: int) -> str:
    return f"market:progress:{region_id}"


def write_progress(
    region_id: int, state: str, done: int, total: int, store: Store | None = None
) -> None:
    (store or get_store()).set_json(
        progress_key(region_id),
        {"state": state, "done": done, "total": total, "updated": time.time()},
        ttl=3600,
    )


def read_progress(region_id: int, store: Store | None = None) -> dict[str, Any] | None:
    value = (store or get_store()).get_json(progress_key(region_id))
    return dict(value) if value else None
