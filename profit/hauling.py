"""Hauling: buy at one place, carry it, sell at another, with quantities from the order books.

A row is one (type, source location, destination location). Two modes:

- "instant": buy from the sell orders at the source (cheapest first) and sell into the buy
  orders a seller standing at the destination can fill (dearest first): the bids there and
  the ranged bids placed elsewhere whose range reaches it (`market.reach`). Units are taken
  while the next unit still earns something: its sale price after sales tax above its
  purchase price. No broker fee is paid (no order is placed).
- "list": buy from the sell orders at the source, then list one sell order at the
  destination one step of EVE's price grid under its best ask (no ask there: no row), but
  never above the median of its daily highest prices there over 30 days (when the
  history is known; `list_price_basis` says which). Units are taken while list price x
  (1 - sales tax - broker fee) is above the purchase price; the broker fee of the listing is
  then charged on the whole order, at least the minimum charge. The quantity is also capped
  by what the destination sells in `days_to_sell` days (its estimated daily volume).

Both are capped by cargo (packaged volume, `invVolumes`, so a ship counts as its packaged
hull) and by budget (ISK spent at the source). A buy order whose minimum volume exceeds what
would be sold into it is skipped (the walk is done again without it). A destination that is
a system or a region is stood in at each of its stations where a bid for the type sits.

How it stays fast: candidates come from the snapshot's per-station summary (best price per
type, station and side), pruned per type before any pair is formed; only the orders of
candidate (type, station) books are gathered, and the depth walk of every candidate pair is
one set of numpy operations over all pairs at once (see docs/profit-engine.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from market.reach import bids_reaching, fills_at, ranged_best
from market.snapshot import RANGE_REGION, RANGE_STATION, Snapshot
from profit import fees, flags
from profit.engine import (
    BoolArray,
    Columns,
    FloatArray,
    IntArray,
    LazyRows,
    cross_join,
    exclusive_cumsum,
    group_starts,
    in_item_filters,
    listing_prices,
    lookup,
    ranges,
    rows_from_columns,
    segment_ids,
    snapshot_ref,
    sort_order,
    type_location_keys,
    type_names,
    type_table,
)
from profit.fees import Skills
from profit.locations import location_systems, place_mask
from profit.volumes import (
    DailyVolumes,
    history_high,
    history_mid,
    station_share,
    volume_lookup,
)
from sde import routes
from sde.places import Place, location_names

MODES = ("instant", "list")
FIELDS = (
    "type_id",
    "type_name",
    "from_location_id",
    "from_name",
    "to_location_id",
    "to_name",
    "quantity",
    "volume_m3",
    "avg_buy",
    "avg_sell",
    "buy_total",
    "sell_total",
    "buy_broker_fee",
    "sell_broker_fee",
    "sales_tax",
    "net_profit",
    "roi",
    "isk_per_m3",
    "jumps",
    "profit_per_jump",
    "buy_orders_used",
    "sell_orders_used",
    "daily_volume",
    "list_price_basis",
    "flags",
)
_TIES = ("type_id", "from_location_id", "to_location_id")
# A pair whose best buy order keeps failing its minimum volume is given up after this many
# walks (each walk drops one such order per pair).
MAX_WALKS = 8

Entry = tuple[Snapshot, Place]


@dataclass(frozen=True)
class HaulingParams:
    mode: str = "instant"
    cargo_m3: float | None = None  # None: no limit
    budget: float | None = None  # ISK; None: no limit
    min_profit: float = 0.0  # net ISK per row; a row always needs a profit above 0 as well
    min_roi: float | None = None  # fraction
    max_jumps: int | None = None
    preference: str = routes.DEFAULT_PREFERENCE
    security: str = routes.DEFAULT_SECURITY
    sort: str = "-net_profit"
    limit: int | None = None
    days_to_sell: float = 3.0  # list mode: list at most what the destination sells in these
    hide: frozenset[str] = flags.DEFAULT_HIDDEN  # rows with these flags are left out
    market_group_id: int | None = None  # only this market group and its sub-groups
    category_id: int | None = None

    def check(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"Mode must be one of {', '.join(MODES)}.")
        if self.preference not in routes.PREFERENCES:
            raise ValueError(f"Route preference must be one of {', '.join(routes.PREFERENCES)}.")
        if self.security not in routes.SECURITY:
            raise ValueError(f"Security filter must be one of {', '.join(routes.SECURITY)}.")
        for name in ("cargo_m3", "budget"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be a number of at least 0.")
        if not self.days_to_sell > 0:
            raise ValueError("days_to_sell must be a number of days above 0.")


@dataclass(frozen=True)
class HaulRates:
    """The rates one hauling answer uses: sales tax, the minimum broker charge, and the broker
    fee rate of a sell order at each destination location (only "list" mode pays it)."""

    sales_tax: float
    min_broker_fee: float
    broker_fee: Callable[[IntArray], FloatArray]
    schedule: str = ""
    statement: Callable[[Sequence[int]], dict[str, Any]] | None = None

    @classmethod
    def flat(cls, sales_tax: float, broker_fee: float, min_broker_fee: float = 100.0) -> HaulRates:
        """The same broker fee everywhere (tests, and what-if figures)."""
        return cls(
            sales_tax=sales_tax,
            min_broker_fee=min_broker_fee,
            broker_fee=lambda locations: np.full(len(locations), broker_fee),
            schedule="flat",
        )

    @classmethod
    def for_skills(cls, skills: Skills, on: date | None = None) -> HaulRates:
        """The fee schedule in force on `on` (default today), for these skills."""
        schedule = fees.schedule_on(on)
        return cls(
            sales_tax=fees.sales_tax_rate(skills, schedule),
            min_broker_fee=schedule.broker_fee_min_charge,
            broker_fee=lambda locations: fees.broker_fee_rates(locations, skills, schedule),
            schedule=schedule.label,
            statement=lambda locations: fees.rates_used(skills, locations, schedule),
        )

    def describe(self, locations: Sequence[int]) -> dict[str, Any]:
        if self.statement is not None:
            return self.statement(locations)
        rates = self.broker_fee(np.array(locations, dtype=np.int64)).tolist()
        return {
            "schedule": self.schedule,
            "sales_tax": self.sales_tax,
            "min_broker_fee": self.min_broker_fee,
            "locations": [
                {"location_id": loc, "broker_fee": rate}
                for loc, rate in zip(locations, rates, strict=True)
            ],
        }


@dataclass(frozen=True)
class Haul:
    rows: Sequence[dict[str, Any]]  # a LazyRows: rows are made when read
    total: int  # rows that passed the filters, before `limit`
    rates: dict[str, Any]  # statement of the rates used
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    params: HaulingParams = field(default_factory=HaulingParams)
    hidden: dict[str, int] = field(default_factory=dict)  # rows each `hide` flag left out


# What only ranks the routes found: `found` is the same for every value of these.
RANKING = ("min_profit", "min_roi", "sort", "limit", "hide")


def finding(params: HaulingParams) -> HaulingParams:
    """`params` with the ranking ones at their defaults: what `found` depends on."""
    defaults = HaulingParams()
    return replace(params, **{name: getattr(defaults, name) for name in RANKING})


@dataclass(frozen=True)
class Found:
    """Every route with a profit, before the ranking parameters (`RANKING`): the costly part
    of a haul, one per question whatever the filters, sort and page."""

    columns: Columns  # one row per route, flags included
    sold: _Sold | None  # None: no route
    snapshots: list[dict[str, Any]]
    rates: HaulRates
    mode: str

    def __len__(self) -> int:
        return len(self.columns["type_id"])


def hauling(
    sources: Sequence[Entry],
    destinations: Sequence[Entry],
    skills: Skills,
    params: HaulingParams | None = None,
    *,
    rates: HaulRates | None = None,
    volumes: Mapping[int, Mapping[int, float] | DailyVolumes] | None = None,
    on: date | None = None,
) -> Haul:
    """Every profitable haul from a source place to a destination place, filtered, sorted.

    `sources` / `destinations`: (snapshot of the place's region, place) pairs; a place is a
    station, structure, system or region. `rates`: default, the fee schedule in force `on`
    for `skills`. `volumes`: daily volumes per region for "list" mode (default: stored).
    """
    params = params or HaulingParams()
    found = find(sources, destinations, skills, params, rates=rates, volumes=volumes, on=on)
    return rank(found, params)


def find(
    sources: Sequence[Entry],
    destinations: Sequence[Entry],
    skills: Skills,
    params: HaulingParams,
    *,
    rates: HaulRates | None = None,
    volumes: Mapping[int, Mapping[int, float] | DailyVolumes] | None = None,
    on: date | None = None,
) -> Found:
    """Every route with a profit above 0 and its flags; the ranking parameters are not read."""
    params.check()
    rates = rates or HaulRates.for_skills(skills, on)
    snapshots = list(dict.fromkeys([s for s, _ in sources] + [s for s, _ in destinations]))
    pairs = _candidates(sources, destinations, snapshots, params, rates, volumes)
    pairs, src_books, dst_books = _with_jumps(pairs, snapshots, params, rates.sales_tax)
    result, sold = _walk(pairs, snapshots, src_books, dst_books, params, rates, volumes)
    net = result["net_profit"]
    profitable = np.flatnonzero((result["quantity"] > 0) & (net > 0))
    result["flags"] = _flags(result, pairs, snapshots, params, volumes, profitable)
    return Found(
        columns={name: values[profitable] for name, values in result.items()},
        sold=sold,
        snapshots=[snapshot_ref(snapshot) for snapshot in snapshots],
        rates=rates,
        mode=params.mode,
    )


def rank(found: Found, params: HaulingParams) -> Haul:
    """The routes `params` keep (min_profit, min_roi, hide), sorted, the first `limit`."""
    keep = _filter(found.columns, params)
    counts = flags.hidden_counts(found.columns["flags"][keep], params.hide)
    keep &= ~flags.hidden_rows(found.columns["flags"], params.hide)
    kept = np.flatnonzero(keep)
    columns = {name: values[kept] for name, values in found.columns.items()}
    total = len(kept)
    sort_name = params.sort.removeprefix("-")
    if sort_name in ("type_name", "from_name", "to_name"):
        _add_names(columns)
    order = sort_order(columns, params.sort, FIELDS, _TIES)
    if params.limit is not None:
        order = order[: max(params.limit, 0)]
    ranked = kept[order]  # positions in the found columns, which the rows share
    to = found.columns["to_location_id"][ranked]
    listed = sorted(set(to.tolist())) if found.mode == "list" else []
    return Haul(
        rows=LazyRows(found.columns, partial(_make_rows, sold=found.sold), ranked),
        total=total,
        rates={"mode": found.mode, **found.rates.describe(listed)},
        snapshots=found.snapshots,
        params=params,
        hidden=counts,
    )


# --- Candidates ----------------------------------------------------------------------------


def _summary_rows(snapshot: Snapshot, place: Place, is_buy: bool) -> IntArray:
    """Rows of the snapshot's per-station summary inside the place, on one side (sorted by
    type, then location, as the summary is)."""
    st = snapshot.stations
    side = st["is_buy_order"] == is_buy
    if place.kind == "region":
        inside = side if snapshot.meta.region_id == place.id else np.zeros_like(side)
    elif place.kind == "system":
        locations = np.unique(snapshot.book["location_id"][place_mask(snapshot, place)])
        inside = side & np.isin(st["location_id"], locations)
    else:
        inside = side & (st["location_id"] == place.id)
    return np.flatnonzero(inside).astype(np.int64)


def _group_extreme(
    keys: IntArray, values: FloatArray, biggest: bool
) -> tuple[IntArray, FloatArray]:
    """Per distinct key (keys sorted): the key and the max (or min) of its values."""
    starts = group_starts(keys)
    if not len(starts):
        return keys[:0], values[:0]
    reduce = np.maximum if biggest else np.minimum
    return keys[starts], reduce.reduceat(values, starts)


@dataclass(frozen=True)
class _Destination:
    """Per (type, location where the hauler stands) at one destination: the price met there
    (the best bid a seller there can fill, or the list price) and, for a listing, how it was
    priced (engine.listing_prices; "" when selling into bids)."""

    type_id: IntArray
    price: FloatArray
    location: IntArray
    basis: npt.NDArray[Any]


def _destination(snapshot: Snapshot, place: Place, listing: bool, volumes: Any) -> _Destination:
    st = snapshot.stations
    if not listing and place.kind in ("station", "structure"):
        system = int(location_systems(snapshot, [place.id])[0])
        bids = bids_reaching(snapshot, place.id, system)
        n = len(bids["type_id"])
        return _Destination(bids["type_id"], bids["best_price"], np.full(n, place.id), _no_basis(n))
    rows = _summary_rows(snapshot, place, is_buy=not listing)
    types = st["type_id"][rows].astype(np.int64)
    locations = st["location_id"][rows].astype(np.int64)
    best = st["best_price"][rows].astype(np.float64)
    n = len(rows)
    if not listing:
        # A stand point of a system or region: its own bids and any ranged bid that reaches
        # it, bounded here by the dearest ranged bid of the region (the walk is exact).
        ranged_types, ranged_price = ranged_best(snapshot)
        best = np.maximum(best, lookup(ranged_types, ranged_price, types, -np.inf))
        return _Destination(types, best, locations, _no_basis(n))
    high = history_high(_region_volumes(volumes, snapshot), snapshot.meta.region_id, types)
    price, basis = listing_prices(best, high)
    # A sell order at or under a bid that reaches it is filled at once by that bid: that is an
    # instant sale (the instant mode's rows), not a listing.
    price = np.where(price > _best_bid_met(snapshot, place, types, locations), price, np.nan)
    return _Destination(types, price, locations, basis)


def _best_bid_met(
    snapshot: Snapshot, place: Place, types: IntArray, locations: IntArray
) -> FloatArray:
    """The best bid a seller at each listing's station meets: every bid reaching it at a
    station or structure destination; at a system or region destination, the bids placed at
    that station (reaching every one of its stations would cost a pass over the region's bids
    per station)."""
    if place.kind in ("station", "structure"):
        system = int(location_systems(snapshot, [place.id])[0])
        bids = bids_reaching(snapshot, place.id, system)
        return lookup(bids["type_id"], bids["best_price"], types, -np.inf)
    st = snapshot.stations
    buys = np.flatnonzero(st["is_buy_order"])
    keys = type_location_keys(st["type_id"][buys], st["location_id"][buys])
    order = np.argsort(keys)
    wanted = type_location_keys(types, locations)
    return lookup(keys[order], st["best_price"][buys][order].astype(np.float64), wanted, -np.inf)


def _no_basis(n: int) -> npt.NDArray[Any]:
    return np.full(n, "", dtype=object)


def _region_volumes(volumes: Any, snapshot: Snapshot) -> Any:
    return None if volumes is None else volumes.get(snapshot.meta.region_id, {})


def _candidates(
    sources: Sequence[Entry],
    destinations: Sequence[Entry],
    snapshots: Sequence[Snapshot],
    params: HaulingParams,
    rates: HaulRates,
    volumes: Any,
) -> Columns:
    """Every (type, source location, destination location) whose best prices earn something,
    with the snapshots they come from (`src_snap`, `dst_snap` index `snapshots`)."""
    index = {id(s): i for i, s in enumerate(snapshots)}
    parts: list[Columns] = []
    listing = params.mode == "list"
    ends = {
        (id(snap), place): _destination(snap, place, listing, volumes)
        for snap, place in destinations
    }
    for src_snap, src_place in sources:
        s_rows = _summary_rows(src_snap, src_place, is_buy=False)
        s_st = src_snap.stations
        if params.market_group_id is not None or params.category_id is not None:
            s_rows = s_rows[
                in_item_filters(s_st["type_id"][s_rows], params.market_group_id, params.category_id)
            ]
        if not len(s_rows):
            continue
        s_type = s_st["type_id"][s_rows].astype(np.int64)
        s_price = s_st["best_price"][s_rows]
        for dst_snap, dst_place in destinations:
            end = ends[(id(dst_snap), dst_place)]
            if not len(end.type_id):
                continue
            d_type, d_price, d_loc = end.type_id, end.price, end.location
            if listing:
                d_value = d_price * (1.0 - rates.sales_tax - _broker_rates(rates, d_loc))
                d_value = np.where(d_price > 0, d_value, -np.inf)  # NaN: nothing to undercut
            else:
                d_value = d_price * (1.0 - rates.sales_tax)
            # Per type: the most a unit can earn anywhere at the destination, the least it
            # costs anywhere at the source; rows that cannot beat those are dropped first.
            dk, dmax = _group_extreme(d_type, d_value, biggest=True)
            sk, smin = _group_extreme(s_type, s_price, biggest=False)
            s_keep = np.flatnonzero(s_price < lookup(dk, dmax, s_type, -np.inf))
            d_keep = np.flatnonzero(d_value > lookup(sk, smin, d_type, np.inf))
            if not len(s_keep) or not len(d_keep):
                continue
            i, j = cross_join(s_type[s_keep], d_type[d_keep])
            i, j = s_keep[i], d_keep[j]
            good = d_value[j] > s_price[i]
            i, j = i[good], j[good]
            parts.append(
                {
                    "type_id": s_type[i],
                    "src_snap": np.full(len(i), index[id(src_snap)], dtype=np.int64),
                    "dst_snap": np.full(len(i), index[id(dst_snap)], dtype=np.int64),
                    "src_loc": s_st["location_id"][s_rows[i]].astype(np.int64),
                    "dst_loc": d_loc[j],
                    "src_best": s_price[i],
                    "dst_value": d_value[j],
                    "dst_price": d_price[
                        j
                    ],  # best bid (a bound for systems and regions), or the list price
                    "list_price_basis": end.basis[j],
                }
            )
    return _dedupe(_concat(parts))


def _broker_rates(rates: HaulRates, locations: IntArray) -> FloatArray:
    unique, inverse = np.unique(locations, return_inverse=True)
    return rates.broker_fee(unique)[inverse]


_PAIR_COLUMNS = {
    "type_id": np.int64,
    "src_snap": np.int64,
    "dst_snap": np.int64,
    "src_loc": np.int64,
    "dst_loc": np.int64,
    "src_best": np.float64,
    "dst_value": np.float64,
    "dst_price": np.float64,
    "list_price_basis": object,
}


def _concat(parts: list[Columns]) -> Columns:
    if not parts:
        return {name: np.empty(0, dtype=dtype) for name, dtype in _PAIR_COLUMNS.items()}
    return {name: np.concatenate([p[name] for p in parts]) for name in _PAIR_COLUMNS}


def _dedupe(pairs: Columns) -> Columns:
    """One pair per (type, source, destination) even when places overlap; sorted by it."""
    order = np.lexsort((pairs["dst_loc"], pairs["src_loc"], pairs["type_id"]))
    pairs = {name: values[order] for name, values in pairs.items()}
    n = len(order)
    if n:
        first = np.ones(n, dtype=bool)
        first[1:] = (
            (pairs["type_id"][1:] != pairs["type_id"][:-1])
            | (pairs["src_loc"][1:] != pairs["src_loc"][:-1])
            | (pairs["dst_loc"][1:] != pairs["dst_loc"][:-1])
        )
        pairs = {name: values[first] for name, values in pairs.items()}
    return pairs


# --- Order books of the candidates ---------------------------------------------------------


@dataclass
class _Books:
    """The orders of some (snapshot, type, location, side) books, each book contiguous and in
    price order (sells cheapest first, buys dearest first). A buy-side book holds the buy
    orders a seller at its location can fill, wherever they sit."""

    price: FloatArray
    volume: FloatArray
    min_volume: FloatArray
    order_id: IntArray
    system_id: IntArray
    location_id: IntArray
    start: IntArray  # per book
    length: IntArray


_BOOK_FIELDS = ("price", "volume", "min_volume", "order_id", "system_id", "location_id", "book")


def _gather(
    snapshots: Sequence[Snapshot],
    snap: IntArray,
    type_id: IntArray,
    location: IntArray,
    is_buy: bool,
    limit: FloatArray,
    factor: float,
    stand_system: IntArray | None = None,
) -> tuple[_Books, IntArray]:
    """The books of the given (snapshot, type, location) triples on one side, and the book
    index of each triple. Orders that cannot earn anything are left out: a book keeps the
    orders whose `price x factor` is below `limit` (sells: the most a paired destination pays
    for a unit) or above it (buys: the least a paired source asks), a prefix of the book.
    With `stand_system` (the system of each triple's location), a buy-side book also holds
    the ranged buy orders placed elsewhere that reach its location."""
    by_key = np.lexsort((location, type_id, snap))
    new = np.ones(len(by_key), dtype=bool)
    k_snap, k_type, k_loc = snap[by_key], type_id[by_key], location[by_key]
    new[1:] = (k_snap[1:] != k_snap[:-1]) | (k_type[1:] != k_type[:-1]) | (k_loc[1:] != k_loc[:-1])
    book_of = np.empty(len(by_key), dtype=np.int64)
    book_of[by_key] = np.cumsum(new) - 1
    book_keys = (k_snap[new], k_type[new], k_loc[new])
    n_books = int(new.sum())
    book_system = np.full(n_books, -1, dtype=np.int64)
    if stand_system is not None:
        book_system[book_of] = stand_system
    # The loosest limit over the pairs that share a book.
    book_limit = np.full(n_books, np.inf if is_buy else -np.inf)
    (np.minimum if is_buy else np.maximum).at(book_limit, book_of, limit)
    columns: dict[str, list[npt.NDArray[Any]]] = {k: [] for k in _BOOK_FIELDS}
    for s, snapshot in enumerate(snapshots):
        mine = np.flatnonzero(book_keys[0] == s)
        if not len(mine):
            continue
        book = snapshot.book
        types = book_keys[1][mine]
        locations = book_keys[2][mine]
        wanted_types = np.unique(types)
        first = np.searchsorted(book["type_id"], wanted_types, side="left")
        last = np.searchsorted(book["type_id"], wanted_types, side="right")
        side_rows = ranges(first.astype(np.int64), (last - first).astype(np.int64))
        side_rows = side_rows[book["is_buy_order"][side_rows] == is_buy]
        rows, which = _located(book, side_rows, types, locations, mine)
        if stand_system is not None:
            more_rows, more_which = _reaching_from_elsewhere(
                book, side_rows, types, locations, book_system[mine], mine
            )
            rows, which = np.concatenate([rows, more_rows]), np.concatenate([which, more_which])
        price = book["price"][rows]
        value = price * factor
        worth = value > book_limit[which] if is_buy else value < book_limit[which]
        rows, which, price = rows[worth], which[worth], price[worth]
        columns["price"].append(price)
        columns["volume"].append(book["volume_remain"][rows].astype(np.float64))
        columns["min_volume"].append(book["min_volume"][rows].astype(np.float64))
        columns["order_id"].append(book["order_id"][rows].astype(np.int64))
        columns["system_id"].append(book["system_id"][rows].astype(np.int64))
        columns["location_id"].append(book["location_id"][rows].astype(np.int64))
        columns["book"].append(which)
    if columns["book"]:
        flat = {k: np.concatenate(v) for k, v in columns.items()}
    else:
        flat = {k: np.empty(0) for k in columns}
    # Group by book, each in the book's price order (ties by order id, as in the snapshot).
    price_key = -flat["price"] if is_buy else flat["price"]
    order = np.lexsort((flat["order_id"], price_key, flat["book"]))
    flat = {k: v[order] for k, v in flat.items()}
    book_ids = flat["book"].astype(np.int64)
    length = np.bincount(book_ids, minlength=n_books).astype(np.int64)
    start = (np.cumsum(length) - length).astype(np.int64)
    books = _Books(
        price=flat["price"].astype(np.float64),
        volume=flat["volume"].astype(np.float64),
        min_volume=flat["min_volume"].astype(np.float64),
        order_id=flat["order_id"].astype(np.int64),
        system_id=flat["system_id"].astype(np.int64),
        location_id=flat["location_id"].astype(np.int64),
        start=start,
        length=length,
    )
    return books, book_of


def _located(
    book: Mapping[str, npt.NDArray[Any]],
    rows: IntArray,
    types: IntArray,
    locations: IntArray,
    mine: IntArray,
) -> tuple[IntArray, IntArray]:
    """The rows (of one side of the wanted types) that sit at a wanted book's own location,
    and the book each belongs to."""
    all_locations = np.unique(locations)
    nloc = len(all_locations)
    row_loc = book["location_id"][rows]
    loc_rank = np.minimum(np.searchsorted(all_locations, row_loc), nloc - 1)
    row_key = book["type_id"][rows].astype(np.int64) * nloc + loc_rank
    wanted_key = types * nloc + np.searchsorted(all_locations, locations)
    key_order = np.argsort(wanted_key)
    sorted_keys = wanted_key[key_order]
    at = np.minimum(np.searchsorted(sorted_keys, row_key), len(sorted_keys) - 1)
    hit = (sorted_keys[at] == row_key) & (all_locations[loc_rank] == row_loc)
    return rows[hit], mine[key_order[at[hit]]]


def _reaching_from_elsewhere(
    book: Mapping[str, npt.NDArray[Any]],
    rows: IntArray,
    types: IntArray,
    locations: IntArray,
    systems: IntArray,
    mine: IntArray,
) -> tuple[IntArray, IntArray]:
    """Ranged buy orders (of the wanted types) placed away from a wanted book's location
    whose range reaches it, and the book each joins (one order may join several books)."""
    ranged = rows[book["range"][rows] != RANGE_STATION]
    if not len(ranged) or not len(types):
        return rows[:0], mine[:0]
    by_type = np.argsort(types, kind="stable")  # cross_join wants both sides sorted
    i, j = cross_join(book["type_id"][ranged].astype(np.int64), types[by_type])
    r, k = ranged[i], by_type[j]
    order_range = book["range"][r].astype(np.int64)
    order_system = book["system_id"][r].astype(np.int64)
    jumps = np.full(len(r), -1, dtype=np.int64)
    numbered = (order_range > 0) & (order_range != RANGE_REGION)
    if numbered.any():
        from_systems, fi = np.unique(systems[k[numbered]], return_inverse=True)
        to_systems, ti = np.unique(order_system[numbered], return_inverse=True)
        matrix = routes.jump_matrix(from_systems, to_systems, "shortest", "any")
        jumps[numbered] = matrix[fi.ravel(), ti.ravel()]
    elsewhere = book["location_id"][r] != locations[k]
    reach = elsewhere & fills_at(
        order_range, book["location_id"][r], order_system, locations[k], systems[k], jumps
    )
    return r[reach], mine[k[reach]]


# --- Jumps ---------------------------------------------------------------------------------


def _with_jumps(
    pairs: Columns, snapshots: Sequence[Snapshot], params: HaulingParams, tax: float
) -> tuple[Columns, _Books, _Books | None]:
    """Gather the candidates' books, find each pair's systems and jumps, drop the pairs out of
    reach (no route under the security filter, or more than `max_jumps`)."""
    listing = params.mode == "list"
    n = len(pairs["type_id"])

    src_books, src_book = _gather(
        snapshots,
        pairs["src_snap"],
        pairs["type_id"],
        pairs["src_loc"],
        is_buy=False,
        limit=pairs["dst_value"],
        factor=1.0,
    )
    pairs["src_book"] = src_book
    src_system = _book_system(src_books, src_book)
    # Where the hauler stands at the destination: the location's own system.
    dst_system = _location_systems(snapshots, pairs["dst_snap"], pairs["dst_loc"])
    dst_books: _Books | None = None
    if not listing:
        dst_books, pairs["dst_book"] = _gather(
            snapshots,
            pairs["dst_snap"],
            pairs["type_id"],
            pairs["dst_loc"],
            is_buy=True,
            limit=pairs["src_best"],
            factor=1.0 - tax,
            stand_system=dst_system,
        )
    pairs["src_system"], pairs["dst_system"] = src_system, dst_system
    jumps = np.full(n, -1, dtype=np.int64)
    if n:
        from_systems, fi = np.unique(src_system, return_inverse=True)
        to_systems, ti = np.unique(dst_system, return_inverse=True)
        matrix = routes.jump_matrix(from_systems, to_systems, params.preference, params.security)
        jumps = matrix[fi.ravel(), ti.ravel()].astype(np.int64)
    pairs["jumps"] = jumps
    keep = jumps >= 0
    if params.max_jumps is not None:
        keep &= jumps <= params.max_jumps
    return {name: values[keep] for name, values in pairs.items()}, src_books, dst_books


def _book_system(books: _Books, book_of: IntArray) -> IntArray:
    if not len(book_of):
        return np.empty(0, dtype=np.int64)
    first = books.start[book_of]
    has = books.length[book_of] > 0
    return np.where(has, books.system_id[np.minimum(first, max(len(books.system_id) - 1, 0))], -1)


def _location_systems(
    snapshots: Sequence[Snapshot], snap: IntArray, location: IntArray
) -> IntArray:
    """The system of each (snapshot, location): a station's from the SDE, a structure's from
    the snapshot's own rows."""
    result = np.full(len(location), -1, dtype=np.int64)
    for s, snapshot in enumerate(snapshots):
        mine = np.flatnonzero(snap == s)
        if len(mine):
            result[mine] = location_systems(snapshot, location[mine])
    return result


# --- The depth walk ------------------------------------------------------------------------


def _destination_volumes(pairs: Columns, snapshots: Sequence[Snapshot], volumes: Any) -> FloatArray:
    """The estimated daily volume of each pair's type at its destination location: the
    region's 30-day average times the location's share of the region's book; NaN unknown."""
    daily = np.full(len(pairs["type_id"]), np.nan)
    for s, snapshot in enumerate(snapshots):
        mine = np.flatnonzero(pairs["dst_snap"] == s)
        if len(mine):
            region = snapshot.meta.region_id
            types = pairs["type_id"][mine]
            region_volume = volume_lookup(_region_volumes(volumes, snapshot), region, types)
            daily[mine] = region_volume * station_share(snapshot, pairs["dst_loc"][mine], types)
    return daily


def _unit_caps(
    pairs: Columns, daily: FloatArray, params: HaulingParams
) -> tuple[FloatArray, FloatArray]:
    """Units a pair may carry (cargo, and in list mode what the destination sells in
    `days_to_sell` days), and the packaged volume of one unit."""
    unit_m3 = type_table().volumes(pairs["type_id"])
    unit_m3 = np.where(np.isnan(unit_m3), 0.0, unit_m3)
    cap = np.full(len(unit_m3), np.inf)
    if params.cargo_m3 is not None:
        with np.errstate(divide="ignore"):
            cap = np.where(unit_m3 > 0, np.floor(params.cargo_m3 / unit_m3 + 1e-9), np.inf)
    if params.mode == "list":
        demand = np.floor(daily * params.days_to_sell + 1e-9)
        cap = np.where(np.isnan(daily), cap, np.minimum(cap, demand))
    return cap, unit_m3


def _take(
    pair: IntArray, length: FloatArray, cost: FloatArray, unit_cap: FloatArray, budget: float
) -> FloatArray:
    """Units taken from each segment (segments of a pair contiguous, in walk order, the
    profitable prefix already cut) under the pair's unit cap and the budget."""
    before_units = exclusive_cumsum(length, pair)
    before_cost = exclusive_cumsum(length * cost, pair)
    by_units = np.maximum(unit_cap[pair] - before_units, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_budget = np.floor(np.maximum(budget - before_cost, 0.0) / cost + 1e-9)
    by_budget = np.where(cost > 0, by_budget, np.inf)
    take: FloatArray = np.minimum(length, np.minimum(by_units, by_budget))
    return take


def _prefix(pair: IntArray, good: BoolArray) -> BoolArray:
    """Segments before the first bad one of their pair."""
    bad = (~good).astype(np.int64)
    result: BoolArray = (exclusive_cumsum(bad, pair) + bad) == 0
    return result


@dataclass
class _Walked:
    quantity: FloatArray
    buy_total: FloatArray
    sell_total: FloatArray
    buy_orders: IntArray
    sell_orders: IntArray
    violation: IntArray  # per pair: position of a buy order to skip, or -1
    # Instant mode: the units sold into each buy order, as segments of the walk (pair, the
    # order's row in the destination books, units).
    sold: tuple[IntArray, IntArray, FloatArray] | None = None


def _sum_by(pair: IntArray, values: FloatArray, n: int) -> FloatArray:
    return np.bincount(pair, weights=values, minlength=n).astype(np.float64)


def _count_used(pair: IntArray, index: IntArray, take: FloatArray, n: int) -> IntArray:
    used = take > 0
    p, i = pair[used], index[used]
    if not len(p):
        return np.zeros(n, dtype=np.int64)
    fresh = np.ones(len(p), dtype=bool)
    fresh[1:] = (p[1:] != p[:-1]) | (i[1:] != i[:-1])
    return np.bincount(p[fresh], minlength=n).astype(np.int64)


def _walk_instant(
    src: _Books,
    s_book: IntArray,
    dst: _Books,
    d_book: IntArray,
    d_volume: FloatArray,  # per pair and buy order (pairs laid end to end)
    d_offset: IntArray,
    tax: float,
    unit_cap: FloatArray,
    budget: float,
) -> _Walked:
    n = len(s_book)
    m_len, n_len = src.length[s_book], dst.length[d_book]
    s0, d0 = src.start[s_book], dst.start[d_book]
    # Events: where each sell order's and each buy order's volume runs out, per pair.
    sp = segment_ids(m_len)
    si = ranges(np.zeros(n, np.int64), m_len)
    s_cum = exclusive_cumsum(src.volume[s0[sp] + si], sp) + src.volume[s0[sp] + si]
    dp = segment_ids(n_len)
    di = ranges(np.zeros(n, np.int64), n_len)
    d_vol = d_volume[d_offset[dp] + di]
    d_cum = exclusive_cumsum(d_vol, dp) + d_vol
    pair = np.concatenate([sp, dp])
    cum = np.concatenate([s_cum, d_cum])
    is_src = np.concatenate([np.ones(len(sp), bool), np.zeros(len(dp), bool)])
    order = np.lexsort((~is_src, cum, pair))
    pair, cum, is_src = pair[order], cum[order], is_src[order]
    # Between two events the sell order i and the buy order j in use do not change.
    i = exclusive_cumsum(is_src.astype(np.int64), pair)
    j = exclusive_cumsum((~is_src).astype(np.int64), pair)
    start = cum - np.diff(np.concatenate([[0.0], cum]))
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    start[first] = 0.0
    length = cum - start
    valid = (i < m_len[pair]) & (j < n_len[pair])
    ic = np.minimum(i, np.maximum(m_len[pair] - 1, 0))
    jc = np.minimum(j, np.maximum(n_len[pair] - 1, 0))
    s_price = src.price[np.minimum(s0[pair] + ic, max(len(src.price) - 1, 0))]
    d_price = dst.price[np.minimum(d0[pair] + jc, max(len(dst.price) - 1, 0))]
    good = valid & (d_price * (1.0 - tax) > s_price)
    length = np.where(_prefix(pair, good), length, 0.0)
    take = _take(pair, length, s_price, unit_cap, budget)
    quantity = _sum_by(pair, take, n)
    # The buy order last sold into must accept that many units (its minimum volume, or all
    # it still wants when that is less).
    violation = np.full(n, -1, dtype=np.int64)
    used = take > 0
    if used.any():
        up, uj, ut = pair[used], j[used], take[used]
        last = np.ones(len(up), dtype=bool)
        last[:-1] = up[1:] != up[:-1]
        last_j = np.full(n, -1, dtype=np.int64)
        last_j[up[last]] = uj[last]
        into_last = uj == last_j[up]
        sold = np.bincount(up[into_last], weights=ut[into_last], minlength=n)
        has = last_j >= 0
        k = np.flatnonzero(has)
        pos = d_offset[k] + last_j[k]
        needed = np.minimum(dst.min_volume[d0[k] + last_j[k]], d_volume[pos])
        bad = sold[k] < needed
        violation[k[bad]] = last_j[k[bad]]
    d_row = np.minimum(d0[pair] + jc, max(len(dst.price) - 1, 0))
    return _Walked(
        quantity=quantity,
        buy_total=_sum_by(pair, take * s_price, n),
        sell_total=_sum_by(pair, take * d_price, n),
        buy_orders=_count_used(pair, i, take, n),
        sell_orders=_count_used(pair, j, take, n),
        violation=violation,
        sold=(pair[used], d_row[used], take[used]),
    )


def _walk_list(
    src: _Books,
    s_book: IntArray,
    net_per_unit: FloatArray,
    unit_cap: FloatArray,
    budget: float,
) -> _Walked:
    n = len(s_book)
    m_len, s0 = src.length[s_book], src.start[s_book]
    pair = segment_ids(m_len)
    i = ranges(np.zeros(n, np.int64), m_len)
    rows = s0[pair] + i
    price, length = src.price[rows], src.volume[rows]
    length = np.where(_prefix(pair, net_per_unit[pair] > price), length, 0.0)
    take = _take(pair, length, price, unit_cap, budget)
    zeros = np.zeros(n, dtype=np.int64)
    return _Walked(
        quantity=_sum_by(pair, take, n),
        buy_total=_sum_by(pair, take * price, n),
        sell_total=np.zeros(n),
        buy_orders=_count_used(pair, i, take, n),
        sell_orders=zeros,
        violation=zeros - 1,
    )


@dataclass(frozen=True)
class _Sold:
    """The units each pair sold into each buy order in its final walk, sorted by pair, with
    the orders' ids, stations and prices (copied out, so a kept answer holds no books)."""

    pair: IntArray
    order_id: IntArray
    location_id: IntArray
    price: FloatArray
    units: FloatArray

    @classmethod
    def of_final_walks(
        cls,
        segments: list[tuple[int, IntArray, IntArray, FloatArray]],
        last_walk: IntArray,
        books: _Books,
    ) -> _Sold:
        pair = np.concatenate([p for _, p, _, _ in segments])
        row = np.concatenate([r for _, _, r, _ in segments])
        units = np.concatenate([u for _, _, _, u in segments])
        walk = np.concatenate([np.full(len(p), k) for k, p, _, _ in segments])
        final = walk == last_walk[pair]
        pair, row, units = pair[final], row[final], units[final]
        # One entry per (pair, order): a walk may sell into one order over several segments.
        key_order = np.lexsort((row, pair))
        pair, row, units = pair[key_order], row[key_order], units[key_order]
        first = group_starts(pair * (int(row.max()) + 1 if len(row) else 1) + row)
        at = row[first]
        return cls(
            pair[first],
            books.order_id[at],
            books.location_id[at],
            books.price[at],
            np.add.reduceat(units, first) if len(first) else units,
        )


def _name_orders_sold(rows: list[dict[str, Any]], pairs: IntArray, sold: _Sold) -> None:
    """Each row's `sell_orders`: the buy orders it sold into, where they sit, how many units
    (the rows' slices of `sold` found at once, each column read into a list once)."""
    lo = np.searchsorted(sold.pair, pairs, side="left")
    hi = np.searchsorted(sold.pair, pairs, side="right")
    picked = ranges(lo.astype(np.int64), (hi - lo).astype(np.int64))
    locations = sold.location_id[picked]
    names = location_names(locations)
    orders = [
        {"order_id": o, "location_id": loc, "location_name": names[loc], "price": p, "units": u}
        for o, loc, p, u in zip(
            sold.order_id[picked].tolist(),
            locations.tolist(),
            sold.price[picked].tolist(),
            sold.units[picked].astype(np.int64).tolist(),
            strict=True,
        )
    ]
    ends = np.cumsum(hi - lo).tolist()
    start = 0
    for row, end in zip(rows, ends, strict=True):
        row["sell_orders"] = orders[start:end]
        start = end


def _walk(
    pairs: Columns,
    snapshots: Sequence[Snapshot],
    src: _Books,
    dst: _Books | None,
    params: HaulingParams,
    rates: HaulRates,
    volumes: Any,
) -> tuple[Columns, _Sold | None]:
    n = len(pairs["type_id"])
    daily = _destination_volumes(pairs, snapshots, volumes)
    unit_cap, unit_m3 = _unit_caps(pairs, daily, params)
    budget = np.inf if params.budget is None else float(params.budget)
    tax = rates.sales_tax
    if params.mode == "list":
        broker_rate = _broker_rates(rates, pairs["dst_loc"]) if n else np.zeros(0)
        net_per_unit = pairs["dst_price"] * (1.0 - tax - broker_rate)
        walked = _walk_list(src, pairs["src_book"], net_per_unit, unit_cap, budget)
        sell_total = pairs["dst_price"] * walked.quantity
        sell_fee = np.where(
            walked.quantity > 0,
            np.maximum(sell_total * broker_rate, rates.min_broker_fee),
            0.0,
        )
        walked.sell_total = sell_total
        walked.sell_orders = np.zeros(n, dtype=np.int64)
        sold = None
    else:
        assert dst is not None
        d_book = pairs["dst_book"]
        n_len = dst.length[d_book]
        d_offset = (np.cumsum(n_len) - n_len).astype(np.int64)
        d_volume = dst.volume[ranges(dst.start[d_book], n_len)].copy()
        walked = _walk_instant(
            src, pairs["src_book"], dst, d_book, d_volume, d_offset, tax, unit_cap, budget
        )
        assert walked.sold is not None
        segments = [(0, *walked.sold)]
        last_walk = np.zeros(n, dtype=np.int64)
        for attempt in range(1, MAX_WALKS + 1):
            again = np.flatnonzero(walked.violation >= 0)
            if not len(again):
                break
            d_volume[d_offset[again] + walked.violation[again]] = 0.0  # skip that buy order
            sub_len = n_len[again]
            sub_offset = (np.cumsum(sub_len) - sub_len).astype(np.int64)
            sub_volume = d_volume[ranges(d_offset[again], sub_len)]
            redo = _walk_instant(
                src,
                pairs["src_book"][again],
                dst,
                d_book[again],
                sub_volume,
                sub_offset,
                tax,
                unit_cap[again],
                budget,
            )
            for name in ("quantity", "buy_total", "sell_total", "buy_orders", "sell_orders"):
                getattr(walked, name)[again] = getattr(redo, name)
            walked.violation[again] = redo.violation
            assert redo.sold is not None
            segments.append((attempt, again[redo.sold[0]], redo.sold[1], redo.sold[2]))
            last_walk[again] = attempt
        given_up = walked.violation >= 0
        walked.quantity[given_up] = 0.0
        sell_fee = np.zeros(n)
        sold = _Sold.of_final_walks(segments, last_walk, dst)
    sales_tax = walked.sell_total * tax
    net = walked.sell_total - sales_tax - sell_fee - walked.buy_total
    quantity = walked.quantity
    volume_m3 = quantity * unit_m3
    jumps = pairs["jumps"]
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_buy = np.where(quantity > 0, walked.buy_total / quantity, np.nan)
        avg_sell = np.where(quantity > 0, walked.sell_total / quantity, np.nan)
        roi = np.where(walked.buy_total > 0, net / walked.buy_total, np.nan)
        isk_per_m3 = np.where(volume_m3 > 0, net / volume_m3, np.nan)
    return {
        "pair": np.arange(n, dtype=np.int64),
        "type_id": pairs["type_id"],
        "from_location_id": pairs["src_loc"],
        "to_location_id": pairs["dst_loc"],
        "quantity": quantity,
        "volume_m3": volume_m3,
        "avg_buy": avg_buy,
        "avg_sell": avg_sell,
        "buy_total": walked.buy_total,
        "sell_total": walked.sell_total,
        "buy_broker_fee": np.zeros(n),
        "sell_broker_fee": sell_fee,
        "sales_tax": sales_tax,
        "net_profit": net,
        "roi": roi,
        "isk_per_m3": isk_per_m3,
        "jumps": jumps,
        "profit_per_jump": np.where(jumps > 0, net / np.maximum(jumps, 1), net),
        "buy_orders_used": walked.buy_orders,
        "sell_orders_used": walked.sell_orders,
        "daily_volume": daily,
        "list_price_basis": pairs["list_price_basis"],
    }, sold


def _flags(
    result: Columns,
    pairs: Columns,
    snapshots: Sequence[Snapshot],
    params: HaulingParams,
    volumes: Any,
    rows: IntArray,
) -> IntArray:
    """The `profit.flags` of the result's `rows` (the others get none): off_history on the
    average buy (source) or sale (destination); thin and volume_unknown in list mode, on the
    destination's daily volume (instant mode sells into bids already there)."""
    types = pairs["type_id"][rows]
    mids = {"src": np.full(len(rows), np.nan), "dst": np.full(len(rows), np.nan)}
    for s, snapshot in enumerate(snapshots):
        region = snapshot.meta.region_id
        for side, mid in mids.items():
            mine = np.flatnonzero(pairs[f"{side}_snap"][rows] == s)
            if len(mine):
                table = _region_volumes(volumes, snapshot)
                mid[mine] = history_mid(table, region, types[mine])
    daily = result["daily_volume"][rows]
    listing = params.mode == "list"
    bits = np.zeros(len(result["type_id"]), dtype=np.int64)
    bits[rows] = flags.mask(
        thin=listing & ~np.isnan(daily) & (daily < flags.THIN_UNITS_PER_DAY),
        off_history=flags.off_history(result["avg_buy"][rows], mids["src"])
        | flags.off_history(result["avg_sell"][rows], mids["dst"]),
        volume_unknown=np.isnan(daily) & listing,
    )
    return bits


def _filter(result: Columns, params: HaulingParams) -> BoolArray:
    net = result["net_profit"]
    keep = (result["quantity"] > 0) & (net > 0) & (net >= params.min_profit)
    if params.min_roi is not None:
        keep &= np.nan_to_num(result["roi"], nan=-np.inf) >= params.min_roi
    keep_mask: BoolArray = keep
    return keep_mask


# --- Rows ----------------------------------------------------------------------------------


def _add_names(columns: Columns) -> None:
    columns["type_name"] = type_names(columns["type_id"])
    locations = np.concatenate([columns["from_location_id"], columns["to_location_id"]])
    names = location_names(locations)
    for side in ("from", "to"):
        ids = columns[f"{side}_location_id"].tolist()
        columns[f"{side}_name"] = np.array([names[i] for i in ids], dtype=object)


_DECIMALS = {
    **dict.fromkeys(("volume_m3",), 3),
    **dict.fromkeys(("avg_buy", "avg_sell"), 4),
    **dict.fromkeys(
        (
            *("buy_total", "sell_total", "buy_broker_fee", "sell_broker_fee", "sales_tax"),
            *("net_profit", "isk_per_m3", "profit_per_jump"),
        ),
        2,
    ),
    "roi": 6,
    "daily_volume": 1,
}


def _make_rows(part: Columns, sold: _Sold | None) -> list[dict[str, Any]]:
    """JSON-ready rows of some ranked routes: names, and the orders each sold into."""
    if "type_name" not in part:
        _add_names(part)
    rows = rows_from_columns(
        part, FIELDS, _DECIMALS, ("type_name", "from_name", "to_name", "list_price_basis")
    )
    if sold is not None:
        _name_orders_sold(rows, part["pair"], sold)
    for row in rows:
        row["flags"] = flags.names(row["flags"])
    return rows
