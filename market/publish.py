"""Publishing and reading snapshots in the shared store, plus refresh status and progress.

A snapshot is written as two keys, its blob and its meta, under a new generation id; then
the region's pointer is swapped to it in one write. Readers follow the pointer, so they see
the previous snapshot until the swap and the new one after it, never a mix. The replaced
generation expires after MARKET_SNAPSHOT_KEEP seconds (permalinks replay it meanwhile).

Each process keeps the snapshots it has loaded, by generation, so a request costs at most one
small read, of the pointer (none within POINTER_TTL of the last). When the store cannot be
reached, a process keeps serving what it has.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings

from config import metrics
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

# How long a process answers from the snapshot it has before it reads the region's pointer
# again: a swap published by another process is seen up to this late. (A read per request
# cost a quarter of the order book's throughput under load: docs/benchmarks.md.)
POINTER_TTL = 0.05
# The meta of the loaded generation (which a refresh that found nothing new rewrites, with
# a later Expires) is read again at most this often, so `age_seconds` and `stale` may lag
# such a rewrite by up to this long.
META_TTL = 1.0

_lock = threading.Lock()
_loaded: dict[int, Snapshot] = {}  # region -> the latest snapshot this process loaded
_meta_read: dict[int, float] = {}  # region -> when the loaded snapshot's meta was read
_loaded_at: dict[int, int] = {}  # region -> when (on the `_clock`) it was loaded
_confirmed: dict[int, float] = {}  # region -> when the pointer last named the loaded one
_clock = itertools.count(1)  # orders pointer reads and loads within this process
_region_locks: dict[int, threading.Lock] = {}
_changes = 0  # how many times `_loaded` changed: what readers keeping a copy compare


def _remember(snapshot: Snapshot, confirmed: float | None = None) -> None:
    """Keep a snapshot as the region's current one, which the pointer named at `confirmed`
    (monotonic time; default now, as when this process just published it)."""
    global _changes
    region = snapshot.meta.region_id
    now = time.monotonic()
    with _lock:
        _changes += 1
        _loaded[region] = snapshot
        _meta_read[region] = now
        _loaded_at[region] = next(_clock)
        _confirmed[region] = now if confirmed is None else confirmed


def loaded_changes() -> int:
    """A number that changes whenever this process keeps another snapshot (one it loaded or
    published): a copy of what it serves taken at one value is still true at the same one."""
    return _changes


def forget_loaded() -> None:
    """Drop this process's loaded snapshots (tests)."""
    global _changes
    with _lock:
        _changes += 1
        _loaded.clear()
        _meta_read.clear()
        _loaded_at.clear()
        _confirmed.clear()


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


# Set when the last read of a snapshot found the store unreachable (what is served then is
# this process's copy), cleared by the next read that succeeds: the site banner says so.
_store_down = threading.Event()


def store_down() -> bool:
    """Whether this process's last snapshot read found the shared store unreachable."""
    return _store_down.is_set()


def load(
    region_id: int, generation: str | None = None, store: Store | None = None
) -> Snapshot | None:
    """The region's current snapshot (or a kept older generation), or None if there is none.

    The current one costs at most one small read, of the pointer, and none within
    POINTER_TTL of the last read that named the snapshot this process has. A generation's
    blob is loaded once per process; its meta is read again at most every META_TTL seconds.
    """
    store = store or get_store()
    if generation is not None:
        return _load_generation(region_id, generation, store)
    started = time.monotonic()
    with _lock:
        cached = _loaded.get(region_id)
        recent = cached is not None and started - _confirmed[region_id] < POINTER_TTL
    read = next(_clock)  # before the pointer is read
    try:
        if cached is not None and recent:
            _refresh_meta(cached, store)
            _store_down.clear()
            metrics.cache_lookup("snapshot", hit=True)
            return cached
        wanted = _pointed_generation(region_id, store)
        _store_down.clear()
        if wanted is None:
            return None
        cached = _cached(region_id, wanted, read, started)
        if cached is not None:
            _refresh_meta(cached, store)
            metrics.cache_lookup("snapshot", hit=True)
            return cached
        metrics.cache_lookup("snapshot", hit=False)  # this process loads the blob
        return _load_current(region_id, wanted, read, started, store)
    except Exception:  # the store is down: keep serving what this process has
        _store_down.set()
        log.warning(
            "store unreachable; serving the loaded snapshot of %s", region_id, exc_info=True
        )
        with _lock:
            return _loaded.get(region_id)


def warm(region_ids: list[int] | None = None) -> None:
    """Load the current snapshot of each tracked region into this process (best effort: a
    store that cannot be reached, or a region without a snapshot, is skipped)."""
    for region_id in settings.MARKET_REGIONS if region_ids is None else region_ids:
        try:
            load(region_id)
        except Exception:  # warming must never stop a worker from starting
            log.warning("could not warm the snapshot of %s", region_id, exc_info=True)


def _pointed_generation(region_id: int, store: Store) -> str | None:
    """`current_generation`, parsed with orjson (the hot path's one read)."""
    raw = store.get(_pointer_key(region_id))
    return str(orjson.loads(raw)["generation"]) if raw else None


def _cached(region_id: int, wanted: str, read: int, started: float) -> Snapshot | None:
    """The loaded snapshot if it is the wanted generation (then confirmed as of `started`),
    or if it was loaded after our pointer read began (the pointer moved while we read it:
    it is at least as new)."""
    with _lock:
        cached = _loaded.get(region_id)
        if cached is None:
            return None
        if cached.meta.generation == wanted:
            _confirmed[region_id] = max(_confirmed[region_id], started)
            return cached
        if _loaded_at[region_id] > read:
            return cached
    return None


def _load_current(
    region_id: int, wanted: str, read: int, started: float, store: Store
) -> Snapshot | None:
    """Load the pointer's generation, one thread per region at a time: the others wait and
    take what it loaded, so a generation's blob is read once per process."""
    with _lock:
        region_lock = _region_locks.setdefault(region_id, threading.Lock())
    with region_lock:
        cached = _cached(region_id, wanted, read, started)
        if cached is not None:
            return cached
        snapshot = _read_snapshot(region_id, wanted, store)
        if snapshot is not None:
            _remember(snapshot, confirmed=started)
        return snapshot


def _load_generation(region_id: int, generation: str, store: Store) -> Snapshot | None:
    """A named generation: the loaded snapshot if it is that one, else from the store."""
    with _lock:
        cached = _loaded.get(region_id)
    if cached is not None and cached.meta.generation == generation:
        return cached
    try:
        return _read_snapshot(region_id, generation, store)
    except Exception:
        log.warning("store unreachable; generation %s not readable", generation, exc_info=True)
        return None


def _read_snapshot(region_id: int, generation: str, store: Store) -> Snapshot | None:
    blob = store.get(_blob_key(region_id, generation))
    meta = store.get_json(_meta_key(region_id, generation))
    if blob is None or meta is None:
        return None
    return Snapshot.from_bytes(SnapshotMeta.from_json(meta), blob)


def _refresh_meta(snapshot: Snapshot, store: Store) -> None:
    """Re-read the loaded snapshot's meta once META_TTL has passed since the last read."""
    region = snapshot.meta.region_id
    now = time.monotonic()
    with _lock:
        if now - _meta_read.get(region, 0.0) < META_TTL:
            return
        _meta_read[region] = now  # one thread re-reads; the others keep the current meta
    data = store.get_json(_meta_key(region, snapshot.meta.generation))
    if data:  # a refresh that found nothing new may have extended its Expires
        snapshot.meta = SnapshotMeta.from_json(data)


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
