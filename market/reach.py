"""Which buy orders a seller standing at one station can fill: EVE's order ranges.

A buy order carries a range around its own station: `station` (only there), `solarsystem`
(any station of its system), 1 to 40 jumps (any station whose system is at most that many
stargate jumps from its own, on the shortest route whatever the security), or `region`
(anywhere in its region). A seller at station L in system S fills it when

    range = region                                  (same region: a region's book holds only it)
    range = station      and the order sits at L
    range = solarsystem  and the order's system is S
    range = N jumps      and jumps(order's system, S) <= N

So a station's buyers are not only the bids located there: a `region` bid in Perimeter
competes at Jita IV - Moon 4. In the global PLEX market (region 19000001, `market.plex`)
every order fills against every other, wherever it was placed: there every bid reaches every
station. `fills_at` is the rule over arrays; `bids_reaching` applies it
to a whole snapshot for one station (what station trading outbids, and what a hauler standing
there can sell into), summarised per type.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from market import plex
from market.snapshot import (
    RANGE_REGION,
    RANGE_SOLARSYSTEM,
    RANGE_STATION,
    Arrays,
    Snapshot,
)
from sde import routes

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def fills_at(
    order_range: npt.ArrayLike,
    order_location: npt.ArrayLike,
    order_system: npt.ArrayLike,
    location: npt.ArrayLike,
    system: npt.ArrayLike,
    jumps: npt.ArrayLike,
) -> BoolArray:
    """Whether each buy order (range, station, system) can be filled by a seller at
    `location` in `system`, `jumps` stargate jumps from the order's system (-1: no route).
    All arguments broadcast against each other."""
    rng = np.asarray(order_range, dtype=np.int64)
    jumps = np.asarray(jumps, dtype=np.int64)
    result: BoolArray = (
        (rng == RANGE_REGION)
        | (np.asarray(order_location) == np.asarray(location))
        | ((rng >= RANGE_SOLARSYSTEM) & (np.asarray(order_system) == np.asarray(system)))
        | ((rng > 0) & (jumps >= 0) & (jumps <= rng))
    )
    return result


def jumps_to(systems: npt.ArrayLike, target_system: int) -> IntArray:
    """Jumps on the shortest route (any security) from each system to `target_system`;
    -1 where there is no route. Stargates work both ways, so this is one row of routes."""
    systems = np.asarray(systems, dtype=np.int64)
    unique, inverse = np.unique(systems, return_inverse=True)
    if not len(unique):
        return np.empty(0, dtype=np.int64)
    row = routes.jump_matrix([target_system], unique, "shortest", "any")[0]
    result: IntArray = row.astype(np.int64)[inverse.ravel()]
    return result


def reaching_rows(
    book: Arrays, rows: IntArray, location_id: int, system_id: int, *, region_id: int = 0
) -> BoolArray:
    """Of the given buy-order rows of a book (of `region_id`), those a seller at the station
    can fill."""
    if plex.is_plex_region(region_id):
        return np.ones(len(rows), dtype=bool)
    order_system = book["system_id"][rows].astype(np.int64)
    order_range = book["range"][rows]
    # Only the numbered ranges need a route: look jumps up for those rows alone.
    jumps = np.full(len(rows), -1, dtype=np.int64)
    numbered = (order_range > 0) & (order_range != RANGE_REGION)
    if numbered.any():
        jumps[numbered] = jumps_to(order_system[numbered], system_id)
    return fills_at(
        order_range, book["location_id"][rows], order_system, location_id, system_id, jumps
    )


# --- One station's buyers, per type --------------------------------------------------------

_KEPT = 64  # station answers kept per snapshot (a snapshot's go when it is dropped)
_cache: weakref.WeakKeyDictionary[Snapshot, OrderedDict[tuple[int, int], Arrays]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def bids_reaching(snapshot: Snapshot, location_id: int, system_id: int) -> Arrays:
    """Per type, the buy orders a seller at the station can fill, summarised like
    `snapshot.stations`: `type_id` (sorted), `best_price` and where that bid sits
    (`best_location`), `volume` (units), `orders`, and `elsewhere` (how many of those orders
    sit at another station). Kept per snapshot."""
    key = (location_id, system_id)
    with _lock:
        kept = _cache.setdefault(snapshot, OrderedDict())
        found = kept.get(key)
        if found is not None:
            kept.move_to_end(key)
            return found
    summary = _summarise(
        snapshot.book, _bid_rows(snapshot), location_id, system_id, snapshot.meta.region_id
    )
    with _lock:
        kept[key] = summary
        while len(kept) > _KEPT:
            kept.popitem(last=False)
    return summary


def _bid_rows(snapshot: Snapshot) -> IntArray:
    rows: IntArray = np.flatnonzero(snapshot.book["is_buy_order"]).astype(np.int64)
    return rows


def _summarise(
    book: Arrays, bids: IntArray, location_id: int, system_id: int, region_id: int
) -> Arrays:
    rows = bids[reaching_rows(book, bids, location_id, system_id, region_id=region_id)]
    # The book is sorted by type, then buys dearest first: the first row of a type is its best.
    type_id = book["type_id"][rows]
    n = len(rows)
    starts = np.flatnonzero(np.r_[True, type_id[1:] != type_id[:-1]]) if n else rows[:0]
    volume = book["volume_remain"][rows]
    elsewhere = (book["location_id"][rows] != location_id).astype(np.int64)
    return {
        "type_id": type_id[starts].astype(np.int64),
        "best_price": book["price"][rows][starts].astype(np.float64),
        "best_location": book["location_id"][rows][starts].astype(np.int64),
        "volume": np.add.reduceat(volume, starts).astype(np.int64) if n else volume[:0],
        "orders": np.diff(np.append(starts, n)).astype(np.int64),
        "elsewhere": np.add.reduceat(elsewhere, starts) if n else elsewhere[:0],
    }


_ranged: weakref.WeakKeyDictionary[Snapshot, tuple[IntArray, npt.NDArray[np.float64]]] = (
    weakref.WeakKeyDictionary()
)


def ranged_best(snapshot: Snapshot) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Per type (sorted), the dearest buy order whose range is wider than its station: the
    most any seller away from the bids' own stations might be paid (a bound, kept per
    snapshot)."""
    with _lock:
        found = _ranged.get(snapshot)
    if found is not None:
        return found
    book = snapshot.book
    rows = np.flatnonzero(book["is_buy_order"] & (book["range"] != RANGE_STATION))
    types = book["type_id"][rows].astype(np.int64)
    # Buys are dearest first within a type: the first row of each type is its best.
    first = np.flatnonzero(np.r_[True, types[1:] != types[:-1]]) if len(rows) else rows[:0]
    result = (types[first], book["price"][rows][first].astype(np.float64))
    with _lock:
        _ranged[snapshot] = result
    return result
