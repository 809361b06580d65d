"""Hauling: buy at one place, carry it, sell at another, with quantities from the order books.

A row is one (type, source location, destination location). Two modes:

- "instant": buy from the sell orders at the source (cheapest first) and sell into the buy
  orders at the destination (dearest first). Units are taken while the next unit still earns
  something: its sale price after sales tax above its purchase price. No broker fee is paid
  (no order is placed).
- "list": buy from the sell orders at the source, then list one sell order at the
  destination at its best ask minus one tick (no ask there: no row). Units are taken while
  list price x (1 - sales tax - broker fee) is above the purchase price; the broker fee of the
  listing is then charged on the whole order, at least the minimum charge. The quantity is
  also capped by the destination region's average daily volume, when known.

Both are capped by cargo (packaged volume, `invVolumes`, so a ship counts as its packaged
hull) and by budget (ISK spent at the source). A buy order whose minimum volume exceeds what
would be sold into it is skipped (the walk is done again without it). Buy orders are used
at their own station only (their range is not used to reach other stations).

How it stays fast: candidates come from the snapshot's per-station summary (best price per
type, station and side), pruned per type before any pair is formed; only the orders of
candidate (type, station) books are gathered, and the depth walk of every candidate pair is
one set of numpy operations over all pairs at once (see docs/profit-engine.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from market.snapshot import Snapshot
from profit import fees
from profit.engine import (
    BoolArray,
    Columns,
    FloatArray,
    IntArray,
    cross_join,
    exclusive_cumsum,
    group_starts,
    location_names,
    ranges,
    rows_from_columns,
    segment_ids,
    snapshot_ref,
    sort_order,
    type_names,
    type_table,
)
from profit.fees import Skills
from profit.locations import Place, place_mask
from profit.volumes import DailyVolumes, volume_lookup
from sde import routes

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
    preference: str = "shortest"
    security: str = "high"
    sort: str = "-net_profit"
    limit: int | None = None
    tick: float = 0.01

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
        if self.tick < 0:
            raise ValueError("The price tick cannot be negative.")


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
    rows: list[dict[str, Any]]
    total: int  # rows that passed the filters, before `limit`
    rates: dict[str, Any]  # statement of the rates used
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    params: HaulingParams = field(default_factory=HaulingParams)


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
    params.check()
    rates = rates or HaulRates.for_skills(skills, on)
    snapshots = list(dict.fromkeys([s for s, _ in sources] + [s for s, _ in destinations]))
    pairs = _candidates(sources, destinations, snapshots, params, rates)
    pairs, src_books, dst_books = _with_jumps(pairs, snapshots, params, rates.sales_tax)
    result = _walk(pairs, snapshots, src_books, dst_books, params, rates, volumes)
    keep = _filter(result, params)
    columns = {name: values[keep] for name, values in result.items()}
    total = len(columns["type_id"])
    sort_name = params.sort.removeprefix("-")
    if sort_name in ("type_name", "from_name", "to_name"):
        _add_names(columns)
    order = sort_order(columns, params.sort, FIELDS, _TIES)
    if params.limit is not None:
        order = order[: max(params.limit, 0)]
    picked = {name: values[order] for name, values in columns.items()}
    if "type_name" not in picked:
        _add_names(picked)
    rows = _rows(picked)
    listed = sorted({row["to_location_id"] for row in rows}) if params.mode == "list" else []
    return Haul(
        rows=rows,
        total=total,
        rates={"mode": params.mode, **rates.describe(listed)},
        snapshots=[snapshot_ref(snapshot) for snapshot in snapshots],
        params=params,
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


def _lookup(keys: IntArray, values: FloatArray, wanted: IntArray, missing: float) -> FloatArray:
    if not len(keys):
        return np.full(len(wanted), missing)
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[pos] == wanted, values[pos], missing)


def _candidates(
    sources: Sequence[Entry],
    destinations: Sequence[Entry],
    snapshots: Sequence[Snapshot],
    params: HaulingParams,
    rates: HaulRates,
) -> Columns:
    """Every (type, source location, destination location) whose best prices earn something,
    with the snapshots they come from (`src_snap`, `dst_snap` index `snapshots`)."""
    index = {id(s): i for i, s in enumerate(snapshots)}
    parts: list[Columns] = []
    listing = params.mode == "list"
    for src_snap, src_place in sources:
        s_rows = _summary_rows(src_snap, src_place, is_buy=False)
        if not len(s_rows):
            continue
        s_st = src_snap.stations
        s_type = s_st["type_id"][s_rows].astype(np.int64)
        s_price = s_st["best_price"][s_rows]
        for dst_snap, dst_place in destinations:
            d_rows = _summary_rows(dst_snap, dst_place, is_buy=not listing)
            if not len(d_rows):
                continue
            d_st = dst_snap.stations
            d_type = d_st["type_id"][d_rows].astype(np.int64)
            d_price = d_st["best_price"][d_rows]
            d_loc = d_st["location_id"][d_rows].astype(np.int64)
            if listing:
                d_price = d_price - params.tick
                d_value = d_price * (1.0 - rates.sales_tax - _broker_rates(rates, d_loc))
                d_value = np.where(d_price > 0, d_value, -np.inf)
            else:
                d_value = d_price * (1.0 - rates.sales_tax)
            # Per type: the most a unit can earn anywhere at the destination, the least it
            # costs anywhere at the source; rows that cannot beat those are dropped first.
            dk, dmax = _group_extreme(d_type, d_value, biggest=True)
            sk, smin = _group_extreme(s_type, s_price, biggest=False)
            s_keep = np.flatnonzero(s_price < _lookup(dk, dmax, s_type, -np.inf))
            d_keep = np.flatnonzero(d_value > _lookup(sk, smin, d_type, np.inf))
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
                    "dst_price": d_price[j],  # best bid, or the list price
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
    price order (sells cheapest first, buys dearest first)."""

    price: FloatArray
    volume: FloatArray
    min_volume: FloatArray
    order_id: IntArray
    system_id: IntArray
    start: IntArray  # per book
    length: IntArray


def _gather(
    snapshots: Sequence[Snapshot],
    snap: IntArray,
    type_id: IntArray,
    location: IntArray,
    is_buy: bool,
    limit: FloatArray,
    factor: float,
) -> tuple[_Books, IntArray]:
    """The books of the given (snapshot, type, location) triples on one side, and the book
    index of each triple. Orders that cannot earn anything are left out: a book keeps the
    orders whose `price x factor` is below `limit` (sells: the most a paired destination pays
    for a unit) or above it (buys: the least a paired source asks), a prefix of the book."""
    by_key = np.lexsort((location, type_id, snap))
    new = np.ones(len(by_key), dtype=bool)
    k_snap, k_type, k_loc = snap[by_key], type_id[by_key], location[by_key]
    new[1:] = (k_snap[1:] != k_snap[:-1]) | (k_type[1:] != k_type[:-1]) | (k_loc[1:] != k_loc[:-1])
    book_of = np.empty(len(by_key), dtype=np.int64)
    book_of[by_key] = np.cumsum(new) - 1
    book_keys = (k_snap[new], k_type[new], k_loc[new])
    n_books = int(new.sum())
    # The loosest limit over the pairs that share a book.
    book_limit = np.full(n_books, np.inf if is_buy else -np.inf)
    (np.minimum if is_buy else np.maximum).at(book_limit, book_of, limit)
    columns: dict[str, list[npt.NDArray[Any]]] = {
        k: [] for k in ("price", "volume", "min_volume", "order_id", "system_id", "book")
    }
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
        rows = ranges(first.astype(np.int64), (last - first).astype(np.int64))
        rows = rows[book["is_buy_order"][rows] == is_buy]
        # Which wanted book (type, location) each row belongs to, if any.
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
        rows, which = rows[hit], mine[key_order[at[hit]]]
        price = book["price"][rows]
        value = price * factor
        worth = value > book_limit[which] if is_buy else value < book_limit[which]
        rows, which, price = rows[worth], which[worth], price[worth]
        # Group by book, keeping the book's price order (a stable sort).
        by_book = np.argsort(which, kind="stable")
        rows, which, price = rows[by_book], which[by_book], price[by_book]
        columns["price"].append(price)
        columns["volume"].append(book["volume_remain"][rows].astype(np.float64))
        columns["min_volume"].append(book["min_volume"][rows].astype(np.float64))
        columns["order_id"].append(book["order_id"][rows].astype(np.int64))
        columns["system_id"].append(book["system_id"][rows].astype(np.int64))
        columns["book"].append(which)
    if columns["book"]:
        flat = {k: np.concatenate(v) for k, v in columns.items()}
    else:
        flat = {k: np.empty(0) for k in columns}
    order = np.argsort(flat["book"], kind="stable")
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
        start=start,
        length=length,
    )
    return books, book_of


# --- Jumps ---------------------------------------------------------------------------------


def _with_jumps(
    pairs: Columns, snapshots: Sequence[Snapshot], params: HaulingParams, tax: float
) -> tuple[Columns, _Books, _Books | None]:
    """Gather the candidates' books, find each pair's systems and jumps, drop the pairs out of
    reach (no route under the security filter, or more than `max_jumps`)."""
    listing = params.mode == "list"
    n = len(pairs["type_id"])

    def side(
        name: str, *, is_buy: bool, limit: FloatArray, factor: float
    ) -> tuple[_Books, IntArray]:
        """One side's books (`src`: sell orders, `dst`: buy orders), each pair's book index
        stored as `<name>_book`, and each pair's system on that side."""
        books, book = _gather(
            snapshots,
            pairs[f"{name}_snap"],
            pairs["type_id"],
            pairs[f"{name}_loc"],
            is_buy=is_buy,
            limit=limit,
            factor=factor,
        )
        pairs[f"{name}_book"] = book
        return books, _book_system(books, book)

    src_books, src_system = side("src", is_buy=False, limit=pairs["dst_value"], factor=1.0)
    dst_books: _Books | None
    if listing:
        dst_system = _location_systems(snapshots, pairs["dst_snap"], pairs["dst_loc"])
        dst_books = None
    else:
        dst_books, dst_system = side("dst", is_buy=True, limit=pairs["src_best"], factor=1.0 - tax)
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
    """The system of each (snapshot, location), from the snapshot's own rows."""
    result = np.full(len(location), -1, dtype=np.int64)
    for s, snapshot in enumerate(snapshots):
        mine = np.flatnonzero(snap == s)
        if not len(mine):
            continue
        wanted = np.unique(location[mine])
        book = snapshot.book
        rows = np.flatnonzero(np.isin(book["location_id"], wanted))
        locs, first = np.unique(book["location_id"][rows], return_index=True)
        systems = book["system_id"][rows][first].astype(np.int64)
        pos = np.minimum(np.searchsorted(locs, location[mine]), len(locs) - 1)
        result[mine] = np.where(locs[pos] == location[mine], systems[pos], -1)
    return result


# --- The depth walk ------------------------------------------------------------------------


def _unit_caps(
    pairs: Columns, snapshots: Sequence[Snapshot], params: HaulingParams, volumes: Any
) -> tuple[FloatArray, FloatArray]:
    """Units a pair may carry (cargo, and in list mode the destination's daily volume), and
    the packaged volume of one unit."""
    unit_m3 = type_table().volumes(pairs["type_id"])
    unit_m3 = np.where(np.isnan(unit_m3), 0.0, unit_m3)
    cap = np.full(len(unit_m3), np.inf)
    if params.cargo_m3 is not None:
        with np.errstate(divide="ignore"):
            cap = np.where(unit_m3 > 0, np.floor(params.cargo_m3 / unit_m3 + 1e-9), np.inf)
    if params.mode == "list":
        daily = np.full(len(cap), np.nan)
        for s, snapshot in enumerate(snapshots):
            mine = np.flatnonzero(pairs["dst_snap"] == s)
            if len(mine):
                region = snapshot.meta.region_id
                given = None if volumes is None else volumes.get(region, {})
                daily[mine] = volume_lookup(given, region, pairs["type_id"][mine])
        cap = np.where(np.isnan(daily), cap, np.minimum(cap, np.floor(daily)))
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
    return _Walked(
        quantity=quantity,
        buy_total=_sum_by(pair, take * s_price, n),
        sell_total=_sum_by(pair, take * d_price, n),
        buy_orders=_count_used(pair, i, take, n),
        sell_orders=_count_used(pair, j, take, n),
        violation=violation,
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


def _walk(
    pairs: Columns,
    snapshots: Sequence[Snapshot],
    src: _Books,
    dst: _Books | None,
    params: HaulingParams,
    rates: HaulRates,
    volumes: Any,
) -> Columns:
    n = len(pairs["type_id"])
    unit_cap, unit_m3 = _unit_caps(pairs, snapshots, params, volumes)
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
    else:
        assert dst is not None
        d_book = pairs["dst_book"]
        n_len = dst.length[d_book]
        d_offset = (np.cumsum(n_len) - n_len).astype(np.int64)
        d_volume = dst.volume[ranges(dst.start[d_book], n_len)].copy()
        walked = _walk_instant(
            src, pairs["src_book"], dst, d_book, d_volume, d_offset, tax, unit_cap, budget
        )
        for _ in range(MAX_WALKS):
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
        given_up = walked.violation >= 0
        walked.quantity[given_up] = 0.0
        sell_fee = np.zeros(n)
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
    }


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
}


def _rows(columns: Columns) -> list[dict[str, Any]]:
    return rows_from_columns(columns, FIELDS, _DECIMALS, ("type_name", "from_name", "to_name"))
