"""Average daily traded volume per (region, type), over the last 30 days of market history.

Station trading shows it (and filters on it); hauling in "list" mode caps what it lists at a
destination by it. It comes from ESI's daily market history, which costs one request per
(region, type) and is limited to 300 requests a minute shared by every process, so it is
never fetched inside a web request: a Celery task (`profit/volume_tasks.py`) walks the types
traded at each tracked region's hub station once a day, those in current opportunities first,
and stores the averages here.

Stored per region in the shared store, compactly, under `profit:daily-volumes:{region}`:
`{"window_days": 30, "types": [...], "volumes": [...], "days": [...], "price_highs": [...],
"price_mids": [...]}`, sorted by type, where `days[i]` is the date (proleptic ordinal) the
volume of `types[i]` was computed on, so a refresh later the same day skips it (a price
unknown is null; data stored before a list existed reads as all unknown). When the fill has
reached every hub type of a region for the day, `profit:daily-volumes-done:{region}` holds
that day (ISO): until then the region is "filling" (`volume_coverage`).

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
from collections.abc import Callable, Iterable, Mapping, Sequence
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


def done_key(region_id: int) -> str:
    """The day (ISO) the fill last reached every hub type of the region."""
    return f"profit:daily-volumes-done:{region_id}"


def history_calls_key(moment: datetime) -> str:
    """The shared per-minute counter `market.history.fetch_history` increments."""
    return f"esi:history-calls:{moment.strftime('%Y%m%d%H%M')}"


# --- The average ---------------------------------------------------------------------------


@dataclass
class _Day:
    """One day of a type's history (its rows merged)."""

    units: int = 0
    high: float = float("nan")  # the highest trade price (NaN: no row gave a price)
    value: float = 0.0  # sum of the rows' average price x units, over rows with an average
    priced_units: int = 0

    @property
    def average(self) -> float:
        """The day's average trade price (its rows' averages weighed by their units)."""
        return self.value / self.priced_units if self.priced_units else float("nan")


def _by_day(rows: Iterable[Mapping[str, Any]]) -> dict[date, _Day]:
    by_day: dict[date, _Day] = {}
    for row in rows:
        day = by_day.setdefault(date.fromisoformat(str(row["date"])[:10]), _Day())
        units = int(row["volume"])
        day.units += units
        price = row.get("highest") or row.get("average")
        if price:
            day.high = float(price) if day.high != day.high else max(day.high, float(price))
        if row.get("average") and units > 0:
            day.value += float(row["average"]) * units
            day.priced_units += units
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
    return sum(day.units for d, day in by_day.items() if first <= d <= last) / days


def _window_median(rows: Iterable[Mapping[str, Any]], today: date, days: int, price: str) -> float:
    """The median of one daily price (`_Day.high` or `.average`) over the window's days that
    traded and have it; NaN when there are none."""
    by_day = _by_day(rows)
    if not by_day:
        return float("nan")
    first, last = _window(by_day, today, days)
    prices = [getattr(day, price) for d, day in by_day.items() if first <= d <= last and day.units]
    prices = [p for p in prices if p == p]
    return float(statistics.median(prices)) if prices else float("nan")


def history_price_high(
    rows: Iterable[Mapping[str, Any]], today: date, days: int = WINDOW_DAYS
) -> float:
    """What the type's dearest trades fetched on a usual day of the same window: the median
    of its days' highest prices (one odd day, or one bait fill, does not move it). A listing
    priced above it is not one the market has been paying. NaN when nothing traded in the
    window."""
    return _window_median(rows, today, days, "high")


def history_price_mid(
    rows: Iterable[Mapping[str, Any]], today: date, days: int = WINDOW_DAYS
) -> float:
    """What the type usually traded at in the same window: the median of its days' average
    prices (a day of several rows: their averages weighed by units). A price far from it is
    not one the market has been trading at. NaN when nothing traded in the window."""
    return _window_median(rows, today, days, "average")


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
    # The median of the window's daily average prices per type (NaN: unknown, or no trade).
    price_mids: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    # The day the fill last reached every hub type of the region (None: not yet, or unread).
    filled_on: date | None = None

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

    def price_mid(self, type_ids: npt.ArrayLike) -> FloatArray:
        """The window's median daily average price per type; NaN where unknown."""
        if len(self.price_mids) != len(self.type_ids):
            return np.full(len(np.asarray(type_ids)), np.nan)
        return self._lookup(self.price_mids, type_ids)

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


def _prices(data: Mapping[str, Any], name: str, count: int) -> FloatArray:
    # Stored before these prices were kept: none known (the next refresh computes them).
    values = data.get(name) or [None] * count
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _read(region_id: int, store: Store) -> DailyVolumes:
    data = store.get_json(_key(region_id)) or {}
    types = data.get("types", [])
    return DailyVolumes(
        region_id,
        np.array(types, dtype=np.int64),
        np.array(data.get("volumes", []), dtype=np.float64),
        np.array(data.get("days", []), dtype=np.int64),
        _prices(data, "price_highs", len(types)),
        _prices(data, "price_mids", len(types)),
        filled_on(region_id, store),
    )


def filled_on(region_id: int, store: Store | None = None) -> date | None:
    """The day the fill last reached every hub type of the region (None: never, or over
    two days ago)."""
    raw = (store or get_store()).get(done_key(region_id))
    try:
        return date.fromisoformat(raw.decode()) if raw else None
    except ValueError:
        return None


def mark_filled(region_id: int, day: date, store: Store | None = None) -> None:
    """The fill reached every hub type of the region on `day`."""
    (store or get_store()).set(done_key(region_id), day.isoformat().encode(), ttl=2 * 86_400)


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


@dataclass(frozen=True)
class VolumeCoverage:
    """How many of a list of types have a daily volume, and whether more are coming today."""

    known: int  # types with a volume computed (on any day)
    total: int  # distinct types asked about
    filling: bool  # the region's fill has not reached every hub type today


def volume_coverage(region_id: int, type_ids: npt.ArrayLike) -> VolumeCoverage:
    """Coverage of `type_ids` by the region's stored volumes (the memoised table: no store
    read more than every READ_TTL s), for a page to say "daily volumes known for N of M
    types, filling"."""
    types = np.unique(np.asarray(type_ids, dtype=np.int64))
    table = daily_volume_table(region_id)
    return VolumeCoverage(
        known=int(np.count_nonzero(~np.isnan(table.lookup(types)))),
        total=len(types),
        filling=table.filled_on != datetime.now(UTC).date(),
    )


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
    """The median daily highest price of the 30-day window per type (NaN where unknown)."""
    return _history_price(volumes, region_id, type_ids, DailyVolumes.price_high)


def history_mid(
    volumes: Mapping[int, float] | DailyVolumes | None, region_id: int, type_ids: npt.ArrayLike
) -> FloatArray:
    """The median daily average price of the 30-day window per type (NaN where unknown)."""
    return _history_price(volumes, region_id, type_ids, DailyVolumes.price_mid)


def _history_price(
    volumes: Mapping[int, float] | DailyVolumes | None,
    region_id: int,
    type_ids: npt.ArrayLike,
    price: Callable[[DailyVolumes, npt.ArrayLike], FloatArray],
) -> FloatArray:
    """A price of the history per type: from `volumes` when it is a table, else the region's
    stored one (a plain mapping of volumes carries no prices: NaN)."""
    if volumes is None:
        return price(daily_volume_table(region_id), type_ids)
    if isinstance(volumes, DailyVolumes):
        return price(volumes, type_ids)
    return np.full(len(np.asarray(type_ids)), np.nan)


# --- Refreshing (worker only) --------------------------------------------------------------


@dataclass
class VolumeRefresh:
    region_id: int
    fetched: int = 0
    remaining: int = 0
    stopped: str | None = None  # why the run ended early: "budget", "esi", "deadline"
    resume_at: datetime | None = None


@dataclass
class VolumeFill:
    """One run over (region, type) pairs of several regions."""

    fetched: int = 0
    remaining: dict[int, int] = field(default_factory=dict)  # region -> types left today
    stopped: str | None = None  # why the run ended early: "budget", "esi", "deadline"
    resume_at: datetime | None = None


def hub_book_values(snapshot: Snapshot, station_id: int) -> tuple[IntArray, FloatArray]:
    """The types with orders at the station, and the ISK on its book for each: the sum of
    price x units remaining over its orders there, bids and asks (sorted by type)."""
    book = snapshot.book
    here = book["location_id"] == station_id
    types, inverse = np.unique(book["type_id"][here].astype(np.int64), return_inverse=True)
    value = book["price"][here] * book["volume_remain"][here].astype(np.float64)
    return types, np.bincount(inverse, weights=value, minlength=len(types)).astype(np.float64)


def hub_types_by_value(snapshot: Snapshot) -> list[int]:
    """The types with orders at the region's hub station, the most ISK on its book first
    (ties by type id)."""
    types, values = hub_book_values(snapshot, hub_station(snapshot.meta.region_id))
    return [int(t) for t in types[np.lexsort((types, -values))]]


def hub_type_ids(region_id: int) -> list[int]:
    """Types with orders at the region's hub station in its current snapshot, the most ISK
    on its book first (see `hub_types_by_value`); none without a snapshot."""
    snapshot = publish.load(region_id)
    return [] if snapshot is None else hub_types_by_value(snapshot)


Computed = tuple[float, int, float, float]  # daily volume, day computed (ordinal), high, mid


def _save(region_id: int, computed: Mapping[int, Computed], store: Store) -> None:
    """Merge newly computed volumes and prices into the stored ones."""
    current = _read(region_id, store)
    merged: dict[int, Computed] = {
        t: (v, d, h, m)
        for t, v, d, h, m in zip(
            current.type_ids.tolist(),
            current.volumes.tolist(),
            current.days.tolist() or [0] * len(current.type_ids),
            current.price_highs.tolist(),
            current.price_mids.tolist(),
            strict=True,
        )
    }
    merged.update(computed)
    items = sorted(merged.items())

    def prices(at: int) -> list[float | None]:
        return [None if c[at] != c[at] else round(c[at], 2) for _, c in items]

    store.set_json(
        _key(region_id),
        {
            "window_days": WINDOW_DAYS,
            "types": [t for t, _ in items],
            "volumes": [round(c[0], 3) for _, c in items],
            "days": [c[1] for _, c in items],
            "price_highs": prices(2),
            "price_mids": prices(3),
        },
    )
    forget_read()


def _done_today(table: DailyVolumes, today: date) -> set[int]:
    """The types whose volume and prices were computed today. A type that traded in the
    window has both prices: one without either was stored before that price was kept (or
    nothing traded), so it is done only if its volume is 0."""
    priced = (table.price_highs == table.price_highs) & (table.price_mids == table.price_mids)
    fresh = (table.days == today.toordinal()) & (priced | (table.volumes == 0))
    return set(table.type_ids[fresh].tolist())


def _calls_this_minute(store: Store, now: datetime) -> int:
    raw = store.get(history_calls_key(now))
    return int(raw) if raw else 0


def fill_daily_volumes(
    wanted: Iterable[tuple[int, int]],
    *,
    today: date | None = None,
    deadline: float | None = None,
    calls_per_minute: int = TASK_CALLS_PER_MINUTE,
    store: Store | None = None,
) -> VolumeFill:
    """Compute today's volume and prices of each wanted (region, type) that lacks them, in
    the order given, until done, the minute's share of the history budget is used, ESI
    fails, or `deadline` (monotonic) passes.

    Harmless to repeat: types already computed today are skipped. Progress is saved as it
    goes, so a run that stops early loses nothing.
    """
    store = store or get_store()
    today = today or datetime.now(UTC).date()
    plan = list(dict.fromkeys(wanted))
    done = {r: _done_today(_read(r, store), today) for r in dict.fromkeys(r for r, _ in plan)}
    todo = [(r, t) for r, t in plan if t not in done[r]]
    result = VolumeFill(remaining=dict.fromkeys(done, 0))
    for region_id, _ in todo:
        result.remaining[region_id] += 1
    computed: dict[int, dict[int, Computed]] = {}
    for region_id, type_id in todo:
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
        computed.setdefault(region_id, {})[type_id] = (
            average_daily_volume(rows, today),
            today.toordinal(),
            history_price_high(rows, today),
            history_price_mid(rows, today),
        )
        result.fetched += 1
        result.remaining[region_id] -= 1
        if len(computed[region_id]) >= SAVE_EVERY:
            _save(region_id, computed.pop(region_id), store)
    for region_id, values in computed.items():
        _save(region_id, values, store)
    return result


def refresh_daily_volumes(
    region_id: int,
    *,
    type_ids: Sequence[int] | None = None,
    today: date | None = None,
    deadline: float | None = None,
    calls_per_minute: int = TASK_CALLS_PER_MINUTE,
    store: Store | None = None,
) -> VolumeRefresh:
    """`fill_daily_volumes` for one region: `type_ids`, or its hub's types (the most ISK on
    the book first)."""
    wanted = list(type_ids) if type_ids is not None else hub_type_ids(region_id)
    fill = fill_daily_volumes(
        [(region_id, t) for t in wanted],
        today=today,
        deadline=deadline,
        calls_per_minute=calls_per_minute,
        store=store,
    )
    return VolumeRefresh(
        region_id,
        fetched=fill.fetched,
        remaining=fill.remaining.get(region_id, 0),
        stopped=fill.stopped,
        resume_at=fill.resume_at,
    )
