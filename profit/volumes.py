"""Average daily traded volume per (region, type), over the last 30 days of market history.

Station trading shows it (and filters on it); hauling in "list" mode caps what it lists at a
destination by it. It comes from ESI's daily market history, which costs one request per
(region, type) and is limited to 300 requests a minute shared by every process, so it is
never fetched inside a web request: a Celery task (`profit/volume_tasks.py`) walks the types
traded at each tracked region's hub station once a day and stores the averages here.

Stored per region in the shared store, compactly, under `profit:daily-volumes:{region}`:
`{"window_days": 30, "types": [...], "volumes": [...], "days": [...]}`, sorted by type, where
`days[i]` is the date (proleptic ordinal) the volume of `types[i]` was computed on, so a
refresh later the same day skips it.

Average daily volume = (units traded on the 30 days of the window) / 30, the window being the
30 days ending with the newest day of the type's history when that is at most 2 days old
(ESI publishes yesterday's figures after the daily downtime), else ending yesterday. Days
without trades have no history row and count as 0.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from esi.errors import EsiError, EsiHttpError, EsiRateLimited
from market import publish
from market.generator import hub_station
from market.history import fetch_history
from market.snapshot import Snapshot
from profit.engine import lookup, type_location_keys
from store import Store, get_store

log = logging.getLogger(__name__)

WINDOW_DAYS = 30
# The task leaves the rest of the shared 300-a-minute history budget to people browsing
# history pages: it stops for the minute once this many calls were made in it (by anyone).
TASK_CALLS_PER_MINUTE = 200
# Readers keep a region's volumes this long before reading the store again.
READ_TTL = 60.0
SAVE_EVERY = 50

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _key(region_id: int) -> str:
    return f"profit:daily-volumes:{region_id}"


def history_calls_key(moment: datetime) -> str:
    """The shared per-minute counter `market.history.fetch_history` increments."""
    return f"esi:history-calls:{moment.strftime('%Y%m%d%H%M')}"


# --- The average ---------------------------------------------------------------------------


def _by_day(rows: Iterable[Mapping[str, Any]]) -> dict[date, tuple[int, float]]:
    """Units traded and the day's highest trade price, per day (a day's rows merged; NaN for
    a day whose rows give no price)."""
    by_day: dict[date, tuple[int, float]] = {}
    for row in rows:
        day = date.fromisoformat(str(row["date"])[:10])
        units, high = by_day.get(day, (0, float("nan")))
        price = row.get("highest") or row.get("average")
        if price:
            high = float(price) if high != high else max(high, float(price))
        by_day[day] = (units + int(row["volume"]), high)
    return by_day


def _window(days_seen: Iterable[date], today: date, days: int) -> tuple[date, date]:
    newest = max(days_seen)
    last = newest if today - timedelta(days=2) <= newest < today else today - timedelta(days=1)
    return last - timedelta(days=days - 1), last


def average_daily_volume(
    rows: Iterable[Mapping[str, Any]], today: date, days: int = WINDOW_DAYS
) -> float:
    """Units traded per day over the `days` days of history before `today` (see module doc)."""
    by_day = _by_day(rows)
    if not by_day:
        return 0.0
    first, last = _window(by_day, today, days)
    return sum(units for d, (units, _) in by_day.items() if first <= d <= last) / days


def history_price_high(
    rows: Iterable[Mapping[str, Any]], today: date, days: int = WINDOW_DAYS
) -> float:
    """What the type's dearest trades fetched on a usual day of the same window: the median
    of its days' highest prices (one odd day, or one bait fill, does not move it). A listing
    priced above it is not one the market has been paying. NaN when nothing traded in the
    window."""
    by_day = _by_day(rows)
    if not by_day:
        return float("nan")
    first, last = _window(by_day, today, days)
    highs = [high for d, (units, high) in by_day.items() if first <= d <= last and units]
    highs = [high for high in highs if high == high]
    return float(statistics.median(highs)) if highs else float("nan")


# --- Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyVolumes:
    """One region's average daily volumes as sorted arrays."""

    region_id: int
    type_ids: IntArray
    volumes: FloatArray
    days: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # The median of the window's daily highest prices per type (NaN: unknown, or no trade).
    price_highs: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

    @classmethod
    def from_mapping(cls, region_id: int, volumes: Mapping[int, float]) -> DailyVolumes:
        items = sorted(volumes.items())
        return cls(
            region_id,
            np.array([t for t, _ in items], dtype=np.int64),
            np.array([v for _, v in items], dtype=np.float64),
        )

    def lookup(self, type_ids: npt.ArrayLike) -> FloatArray:
        """Volume per type; NaN where unknown."""
        return self._lookup(self.volumes, type_ids)

    def price_high(self, type_ids: npt.ArrayLike) -> FloatArray:
        """The window's median daily highest price per type; NaN where unknown."""
        if len(self.price_highs) != len(self.type_ids):
            return np.full(len(np.asarray(type_ids)), np.nan)
        return self._lookup(self.price_highs, type_ids)

    def _lookup(self, values: FloatArray, type_ids: npt.ArrayLike) -> FloatArray:
        return lookup(self.type_ids, values, type_ids, np.nan)

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.type_ids.tolist(), self.volumes.tolist(), strict=True))


_memo_lock = threading.Lock()
_memo: dict[int, tuple[float, DailyVolumes]] = {}


def forget_read() -> None:
    """Drop this process's copies (tests, or after a refresh in the same process)."""
    with _memo_lock:
        _memo.clear()


def _read(region_id: int, store: Store) -> DailyVolumes:
    data = store.get_json(_key(region_id)) or {}
    types = data.get("types", [])
    # Stored before prices were kept: none known (the next refresh computes them).
    highs = data.get("price_highs") or [None] * len(types)
    return DailyVolumes(
        region_id,
        np.array(types, dtype=np.int64),
        np.array(data.get("volumes", []), dtype=np.float64),
        np.array(data.get("days", []), dtype=np.int64),
        np.array([np.nan if h is None else h for h in highs], dtype=np.float64),
    )


def daily_volume_table(region_id: int, store: Store | None = None) -> DailyVolumes:
    """The region's stored daily volumes (read from the store at most every READ_TTL s)."""
    now = time.monotonic()
    with _memo_lock:
        cached = _memo.get(region_id)
    if store is None and cached is not None and now - cached[0] < READ_TTL:
        return cached[1]
    table = _read(region_id, store or get_store())
    with _memo_lock:
        _memo[region_id] = (now, table)
    return table


def daily_volumes(region_id: int) -> dict[int, float]:
    """Average daily volume over 30 days per type traded at the region's hub (the types the
    daily task has reached so far; an empty dict before its first run)."""
    return daily_volume_table(region_id).as_dict()


def volume_lookup(
    volumes: Mapping[int, float] | DailyVolumes | None, region_id: int, type_ids: npt.ArrayLike
) -> FloatArray:
    """Daily volume per type for an engine: from `volumes` when given, else the region's
    stored volumes; NaN where unknown."""
    if volumes is None:
        table = daily_volume_table(region_id)
    elif isinstance(volumes, DailyVolumes):
        table = volumes
    else:
        table = DailyVolumes.from_mapping(region_id, volumes)
    return table.lookup(type_ids)


# --- A station's share ---------------------------------------------------------------------

# A station holding at least this share of its region's book for a type is the region's
# market for it (a hub): it keeps the whole region's volume.
HUB_SHARE = 0.5


@dataclass(frozen=True)
class _SellOrders:
    """A snapshot's sell orders counted per type and per (type, place)."""

    types: IntArray
    type_orders: FloatArray
    keys: IntArray  # engine.type_location_keys, sorted
    key_orders: FloatArray


_share_lock = threading.Lock()
_shares: weakref.WeakKeyDictionary[Snapshot, _SellOrders] = weakref.WeakKeyDictionary()


def _counted(keys: IntArray, orders: FloatArray) -> tuple[IntArray, FloatArray]:
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=orders).astype(np.float64)


def _sell_orders(snapshot: Snapshot) -> _SellOrders:
    with _share_lock:
        found = _shares.get(snapshot)
    if found is not None:
        return found
    st = snapshot.stations
    sells = ~st["is_buy_order"]
    types = st["type_id"][sells].astype(np.int64)
    orders = st["orders"][sells].astype(np.float64)
    keys = type_location_keys(types, st["location_id"][sells])
    counted = _SellOrders(*_counted(types, orders), *_counted(keys, orders))
    with _share_lock:
        _shares[snapshot] = counted
    return counted


def station_share(
    snapshot: Snapshot, location_ids: npt.ArrayLike, type_ids: npt.ArrayLike
) -> FloatArray:
    """The estimated share of the region's daily volume of each type that trades at a
    station (location and type arrays broadcast together): the station's share of the
    region's sell orders for the type in this snapshot, or 1 when that is HUB_SHARE or more
    (the station holding most of the book is the region's market and keeps its figure). NaN
    for a type with no sell order in the region.

    Sell orders, because they trade only where they sit, while a bid fills from wherever its
    range reaches; and counted, not weighed by units, so one giant junk order (515 million
    units bid at 0.01 ISK) does not move the market."""
    types = np.asarray(type_ids, dtype=np.int64)
    locations = np.asarray(location_ids, dtype=np.int64)
    types, locations = np.broadcast_arrays(types, locations)
    sells = _sell_orders(snapshot)
    keys = type_location_keys(types, locations)
    region = lookup(sells.types, sells.type_orders, types, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        here = lookup(sells.keys, sells.key_orders, keys, 0.0)
        share = np.where(region > 0, here / region, np.nan)
    result: FloatArray = np.where(share >= HUB_SHARE, 1.0, share)
    return result


def history_high(
    volumes: Mapping[int, float] | DailyVolumes | None, region_id: int, type_ids: npt.ArrayLike
) -> FloatArray:
    """The median daily highest price of the 30-day window per type (NaN where unknown):
    from `volumes` when it is a table, else the region's stored one (a plain mapping of
    volumes carries no prices)."""
    if volumes is None:
        return daily_volume_table(region_id).price_high(type_ids)
    if isinstance(volumes, DailyVolumes):
        return volumes.price_high(type_ids)
    return np.full(len(np.asarray(type_ids)), np.nan)


# --- Refreshing (worker only) --------------------------------------------------------------


@dataclass
class VolumeRefresh:
    region_id: int
    fetched: int = 0
    remaining: int = 0
    stopped: str | None = None  # why the run ended early: "budget", "esi", "deadline"
    resume_at: datetime | None = None


def hub_type_ids(region_id: int) -> list[int]:
    """Types with orders at the region's hub station in its current snapshot, the most
    ordered first (so the types people trade most get their volume first)."""
    snapshot = publish.load(region_id)
    if snapshot is None:
        return []
    st = snapshot.stations
    at_hub = st["location_id"] == hub_station(region_id)
    types, inverse = np.unique(st["type_id"][at_hub], return_inverse=True)
    counts = np.bincount(inverse, weights=st["orders"][at_hub].astype(np.float64))
    order = np.lexsort((types, -counts))
    return [int(t) for t in types[order]]


Computed = tuple[float, int, float]  # daily volume, day computed (ordinal), price high


def _save(region_id: int, computed: Mapping[int, Computed], store: Store) -> None:
    """Merge newly computed volumes and price highs into the stored ones."""
    current = _read(region_id, store)
    merged: dict[int, Computed] = {
        t: (v, d, h)
        for t, v, d, h in zip(
            current.type_ids.tolist(),
            current.volumes.tolist(),
            current.days.tolist() or [0] * len(current.type_ids),
            current.price_highs.tolist(),
            strict=True,
        )
    }
    merged.update(computed)
    items = sorted(merged.items())
    store.set_json(
        _key(region_id),
        {
            "window_days": WINDOW_DAYS,
            "types": [t for t, _ in items],
            "volumes": [round(v, 3) for _, (v, _, _) in items],
            "days": [d for _, (_, d, _) in items],
            "price_highs": [None if h != h else round(h, 2) for _, (_, _, h) in items],
        },
    )
    forget_read()


def _calls_this_minute(store: Store, now: datetime) -> int:
    raw = store.get(history_calls_key(now))
    return int(raw) if raw else 0


def refresh_daily_volumes(
    region_id: int,
    *,
    type_ids: Sequence[int] | None = None,
    today: date | None = None,
    deadline: float | None = None,
    calls_per_minute: int = TASK_CALLS_PER_MINUTE,
    store: Store | None = None,
) -> VolumeRefresh:
    """Compute today's volume for the hub's types that lack one, until done, the minute's
    share of the history budget is used, ESI fails, or `deadline` (monotonic) passes.

    Harmless to repeat: types already computed today are skipped. Progress is saved as it
    goes, so a run that stops early loses nothing.
    """
    store = store or get_store()
    today = today or datetime.now(UTC).date()
    wanted = list(type_ids) if type_ids is not None else hub_type_ids(region_id)
    done = _read(region_id, store)
    fresh = (done.days == today.toordinal()) & (done.price_highs == done.price_highs)
    # A type that traded in the window has a price high: one without was stored before
    # prices were kept (or nothing traded), so it is done only if its volume is 0.
    fresh |= (done.days == today.toordinal()) & (done.volumes == 0)
    done_today = set(done.type_ids[fresh].tolist())
    todo = [t for t in wanted if t not in done_today]
    result = VolumeRefresh(region_id, remaining=len(todo))
    computed: dict[int, Computed] = {}
    for type_id in todo:
        now = datetime.now(UTC)
        if deadline is not None and time.monotonic() > deadline:
            result.stopped = "deadline"
            break
        if _calls_this_minute(store, now) >= calls_per_minute:
            result.stopped = "budget"
            result.resume_at = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            break
        try:
            rows = fetch_history(region_id, type_id)
        except EsiRateLimited as exc:
            result.stopped, result.resume_at = "budget", exc.resume_at
            break
        except EsiHttpError as exc:  # e.g. a type ESI has no history for: volume 0 today
            log.info("no history for region=%s type=%s: %s", region_id, type_id, exc)
            rows = []
        except EsiError as exc:
            log.warning("daily volumes of %s stopped: %s", region_id, exc)
            result.stopped = "esi"
            break
        computed[type_id] = (
            average_daily_volume(rows, today),
            today.toordinal(),
            history_price_high(rows, today),
        )
        result.fetched += 1
        result.remaining -= 1
        if len(computed) >= SAVE_EVERY:
            _save(region_id, computed, store)
            computed = {}
    if computed:
        _save(region_id, computed, store)
    return result
