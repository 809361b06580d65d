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
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from esi.errors import EsiError, EsiHttpError, EsiRateLimited
from market.history import fetch_history
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


def average_daily_volume(
    rows: Iterable[Mapping[str, Any]], today: date, days: int = WINDOW_DAYS
) -> float:
    """Units traded per day over the `days` days of history before `today` (see module doc)."""
    by_day: dict[date, int] = {}
    for row in rows:
        day = date.fromisoformat(str(row["date"])[:10])
        by_day[day] = by_day.get(day, 0) + int(row["volume"])
    if not by_day:
        return 0.0
    newest = max(by_day)
    last = newest if today - timedelta(days=2) <= newest < today else today - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    return sum(v for d, v in by_day.items() if first <= d <= last) / days


# --- Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyVolumes:
    """One region's average daily volumes as sorted arrays."""

    region_id: int
    type_ids: IntArray
    volumes: FloatArray
    days: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

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
        wanted = np.asarray(type_ids, dtype=np.int64)
        if not len(self.type_ids):
            return np.full(len(wanted), np.nan)
        pos = np.minimum(np.searchsorted(self.type_ids, wanted), len(self.type_ids) - 1)
        return np.where(self.type_ids[pos] == wanted, self.volumes[pos], np.nan)

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
    return DailyVolumes(
        region_id,
        np.array(data.get("types", []), dtype=np.int64),
        np.array(data.get("volumes", []), dtype=np.float64),
        np.array(data.get("days", []), dtype=np.int64),
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
    from market import publish
    from market.generator import hub_station

    snapshot = publish.load(region_id)
    if snapshot is None:
        return []
    st = snapshot.stations
    at_hub = st["location_id"] == hub_station(region_id)
    types, inverse = np.unique(st["type_id"][at_hub], return_inverse=True)
    counts = np.bincount(inverse, weights=st["orders"][at_hub].astype(np.float64))
    order = np.lexsort((types, -counts))
    return [int(t) for t in types[order]]


def _save(region_id: int, computed: Mapping[int, tuple[float, int]], store: Store) -> None:
    """Merge newly computed volumes into the stored ones."""
    current = _read(region_id, store)
    merged: dict[int, tuple[float, int]] = {
        t: (v, d)
        for t, v, d in zip(
            current.type_ids.tolist(),
            current.volumes.tolist(),
            current.days.tolist() or [0] * len(current.type_ids),
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
            "volumes": [round(v, 3) for _, (v, _) in items],
            "days": [d for _, (_, d) in items],
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
    done_today = set(done.type_ids[done.days == today.toordinal()].tolist())
    todo = [t for t in wanted if t not in done_today]
    result = VolumeRefresh(region_id, remaining=len(todo))
    computed: dict[int, tuple[float, int]] = {}
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
        computed[type_id] = (average_daily_volume(rows, today), today.toordinal())
        result.fetched += 1
        result.remaining -= 1
        if len(computed) >= SAVE_EVERY:
            _save(region_id, computed, store)
            computed = {}
    if computed:
        _save(region_id, computed, store)
    return result
