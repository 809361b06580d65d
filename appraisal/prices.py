"""What a list is worth at a market, and what it nets there after taxes and fees.

For each type of the list, over the market's books (appraisal/markets.py), each side of the
book inside the market: at a station or structure the buy orders a seller there can fill
(ranged bids from elsewhere included: market/reach.py) and the sell orders there; in a
system or region every order in it. Per side, as evepraisal answered them:

- `min`, `max`, `avg` (mean of the orders' prices), `median`, `stddev` (of the orders'
  prices), `volume` (units), `order_count`;
- `percentile`: the volume-weighted average price of the best 5 % of the side's units (the
  dearest bids, the cheapest asks), so a single bait order cannot set the figure.

The best bid is what the list fetches sold now, the best ask what it costs bought now,
split the mean of the two. The project's own figures, `net`:

- `sell_now`: selling every unit into the bids, dearest first (skipping a bid whose minimum
  volume is more than what would go into it: profit.calculator.sell_into), less the sales
  tax; units no bid takes are `unsold`;
- `list`: listing every unit one step of the price grid under the best ask
  (market.pricegrid), less the broker fee at that place (at a system or region: where the
  best ask is) and the sales tax, as if it all sold; none (`list_note` says why) where
  nothing is listed, where that price would not stay above the best bid (the order would
  sell at once into the bids) or where the best ask is already the grid's lowest price.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from appraisal.markets import Market
from market.pricegrid import price_below
from market.reach import reaching_rows
from market.snapshot import Snapshot
from profit import fees
from profit.calculator import sell_into
from profit.engine import type_table
from profit.fees import FeeScheduleData, Skills
from sde.places import Place

TOP_SHARE = 0.05  # the share of a side's units the `percentile` price averages
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Line:
    """A type and how many of it the list holds (its lines merged)."""

    type_id: int
    quantity: int


def merge_lines(found: Iterable[tuple[int, int]]) -> list[Line]:
    """(type id, quantity) pairs merged by type, in the order each type first appears."""
    totals: dict[int, int] = {}
    for type_id, quantity in found:
        totals[type_id] = totals.get(type_id, 0) + quantity
    return [Line(type_id, quantity) for type_id, quantity in totals.items()]


# --- The market's orders of the wanted types, grouped by type ---------------------------------

_KEPT_PLACES = 16  # (snapshot, place) row sets kept per process: the hubs' are asked again
_inside: weakref.WeakKeyDictionary[Snapshot, dict[tuple[str, int], tuple[IntArray, IntArray]]] = (
    weakref.WeakKeyDictionary()
)
_inside_lock = threading.Lock()


def inside_rows(snapshot: Snapshot, where: Place) -> tuple[IntArray, IntArray]:
    """The rows of a snapshot's book inside a place, bids and asks (in book order: by type,
    then price, best first): at a station or structure every bid a seller there can fill;
    kept per snapshot (the reach of every bid of a region costs tens of milliseconds)."""
    key = (where.kind, where.id)
    with _inside_lock:
        found = _inside.get(snapshot, {}).get(key)
    if found is not None:
        return found
    book = snapshot.book
    is_buy = book["is_buy_order"]
    if where.kind == "region":
        inside = np.full(len(is_buy), snapshot.meta.region_id == where.id)
    elif where.kind == "system":
        inside = book["system_id"] == where.id
    else:
        inside = book["location_id"] == where.id
    asks = np.flatnonzero(~is_buy & inside)
    if where.kind in ("station", "structure") and where.system_id is not None:
        bid_rows = np.flatnonzero(is_buy)
        reach = reaching_rows(
            book, bid_rows, where.id, where.system_id, region_id=snapshot.meta.region_id
        )
        bids = bid_rows[reach]
    else:
        bids = np.flatnonzero(is_buy & inside)
    with _inside_lock:
        kept = _inside.setdefault(snapshot, {})
        if len(kept) >= _KEPT_PLACES:
            kept.clear()
        kept[key] = (bids, asks)
    return bids, asks


@dataclass(frozen=True)
class Groups:
    """One side of the market's book for the wanted types: its orders as columns, grouped by
    type in the order of `types` (group i is rows start[i]:end[i]), best price first."""

    types: IntArray
    start: IntArray
    end: IntArray
    price: FloatArray
    volume: IntArray
    min_volume: IntArray
    location: IntArray

    @property
    def count(self) -> IntArray:
        return self.end - self.start


def grouped(market: Market, types: IntArray, *, is_buy: bool) -> Groups:
    """One side of the market's book for `types` (sorted, distinct), best price first."""
    parts = []
    for snapshot, where in market.books:
        bids, asks = inside_rows(snapshot, where)
        rows = bids if is_buy else asks
        book = snapshot.book
        wanted = rows[np.isin(book["type_id"][rows], types)]
        parts.append({name: book[name][wanted] for name in _COLUMNS})
    columns = {name: np.concatenate([part[name] for part in parts]) for name in _COLUMNS}
    if len(parts) > 1:  # several books: order them again, by type then best price
        price_key = -columns["price"] if is_buy else columns["price"]
        order = np.lexsort((columns["order_id"], price_key, columns["type_id"]))
        columns = {name: values[order] for name, values in columns.items()}
    type_ids = columns["type_id"].astype(np.int64)
    return Groups(
        types=types,
        start=np.searchsorted(type_ids, types, "left"),
        end=np.searchsorted(type_ids, types, "right"),
        price=columns["price"].astype(np.float64),
        volume=columns["volume_remain"].astype(np.int64),
        min_volume=columns["min_volume"].astype(np.int64),
        location=columns["location_id"].astype(np.int64),
    )


_COLUMNS = ("type_id", "price", "volume_remain", "min_volume", "location_id", "order_id")


def _per_group(values: npt.NDArray[Any], groups: Groups) -> npt.NDArray[Any]:
    """The sum of `values` over each group (0 for an empty one). The groups are contiguous
    and in order, so each one's rows run from its start to the next group's start; a 0 at
    the end gives the last group its end and an empty group's start a place to point."""
    padded = np.append(values, np.zeros(1, dtype=values.dtype))
    sums = np.add.reduceat(padded, groups.start) if len(groups.start) else np.zeros(0)
    return np.where(groups.count > 0, sums, 0)


def _spread(per_group: npt.NDArray[Any], groups: Groups) -> npt.NDArray[Any]:
    """A value of each group, repeated for each of its rows."""
    return np.repeat(per_group, groups.count)


def group_stats(groups: Groups, *, ascending: bool) -> dict[str, npt.NDArray[Any]]:
    """`side_stats` of every group at once (its orders best first: prices ascending for asks
    and for both sides together, descending for bids)."""
    n = groups.count
    some = n > 0
    last = np.maximum(groups.end - 1, 0)
    first = np.minimum(groups.start, max(len(groups.price) - 1, 0))
    price = groups.price if len(groups.price) else np.zeros(1)
    low = np.where(some, price[first if ascending else last], 0.0)
    high = np.where(some, price[last if ascending else first], 0.0)
    safe_n = np.maximum(n, 1)
    mean = _per_group(groups.price, groups) / safe_n
    deviation = groups.price - _spread(mean, groups)
    std = np.sqrt(_per_group(deviation * deviation, groups) / safe_n)
    middle_low = np.minimum(groups.start + (n - 1) // 2, len(price) - 1)
    middle_high = np.minimum(groups.start + n // 2, len(price) - 1)
    median = np.where(some, (price[middle_low] + price[middle_high]) / 2, 0.0)
    volume = _per_group(groups.volume, groups)
    wanted = np.maximum(1, np.ceil(TOP_SHARE * volume))
    before = np.cumsum(groups.volume) - groups.volume
    base = _spread(np.where(some, before[first] if len(before) else 0, 0), groups)
    taken = np.clip(_spread(wanted, groups) - (before - base), 0, groups.volume)
    top = _per_group(groups.price * taken, groups) / np.maximum(_per_group(taken, groups), 1)
    return {
        "min": low,
        "max": high,
        "avg": np.where(some, mean, 0.0),
        "median": median,
        "percentile": np.where(some, top, 0.0),
        "stddev": np.where(some, std, 0.0),
        "volume": volume.astype(np.int64),
        "order_count": n,
    }


def _stats_rows(stats: dict[str, npt.NDArray[Any]]) -> list[dict[str, Any]]:
    """Each group's figures as a side's dict (all 0 for a type with no order there)."""
    columns = {
        name: (values.astype(np.int64) if name in ("volume", "order_count") else values).tolist()
        for name, values in stats.items()
    }
    rows = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    return [row if row["order_count"] else dict.fromkeys(row, 0) for row in rows]


def _both(bids: Groups, asks: Groups) -> Groups:
    """Both sides of each type together, cheapest first (evepraisal's `all`)."""
    types = np.concatenate([np.repeat(bids.types, bids.count), np.repeat(asks.types, asks.count)])
    price = np.concatenate([bids.price, asks.price])
    order = np.lexsort((price, types))

    def joined(bid_values: npt.NDArray[Any], ask_values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.concatenate([bid_values, ask_values])[order]

    in_order = types[order]
    return Groups(
        types=bids.types,
        start=np.searchsorted(in_order, bids.types, "left"),
        end=np.searchsorted(in_order, bids.types, "right"),
        price=price[order],
        volume=joined(bids.volume, asks.volume),
        min_volume=joined(bids.min_volume, asks.min_volume),
        location=joined(bids.location, asks.location),
    )


def _sold_now(bids: Groups, quantities: IntArray) -> tuple[IntArray, FloatArray]:
    """Units sold into each type's bids, dearest first, and what they fetch; a type whose
    fills would leave a bid under its minimum volume is walked on its own (`sell_into`)."""
    before = np.cumsum(bids.volume) - bids.volume
    first = np.minimum(bids.start, max(len(before) - 1, 0))
    base = _spread(np.where(bids.count > 0, before[first] if len(before) else 0, 0), bids)
    fills = np.clip(_spread(quantities, bids) - (before - base), 0, bids.volume)
    short = (fills > 0) & (fills < np.minimum(bids.min_volume, bids.volume))
    units = _per_group(fills, bids).astype(np.int64)
    gross = _per_group(fills * bids.price, bids).astype(np.float64)
    for i in np.unique(np.repeat(np.arange(len(bids.types)), bids.count)[short]).tolist():
        rows = slice(int(bids.start[i]), int(bids.end[i]))
        walked = {
            "volume_remain": bids.volume[rows],
            "min_volume": bids.min_volume[rows],
        }
        sold, each = sell_into(walked, int(quantities[i]))
        units[i], gross[i] = sold, float((each * bids.price[rows]).sum())
    return units, gross


def price_lines(
    lines: Sequence[Line], market: Market, skills: Skills, schedule: FeeScheduleData
) -> list[dict[str, Any]]:
    """Each line priced at the market (see the module doc), volumes from the SDE; every type
    at once, over the market's orders grouped by type."""
    if not lines:
        return []
    order = np.argsort([line.type_id for line in lines], kind="stable")
    ordered = [lines[i] for i in order.tolist()]
    types = np.array([line.type_id for line in ordered], dtype=np.int64)
    quantities = np.array([line.quantity for line in ordered], dtype=np.int64)
    bids = grouped(market, types, is_buy=True)
    asks = grouped(market, types, is_buy=False)
    buy = group_stats(bids, ascending=False)
    sell = group_stats(asks, ascending=True)
    everything = group_stats(_both(bids, asks), ascending=True)
    units, gross = _sold_now(bids, quantities)
    tax_rate = fees.sales_tax_rate(skills, schedule)
    best_bids = np.where(buy["order_count"] > 0, buy["max"], np.nan)
    listed, list_notes = _listings(asks, best_bids, quantities, market, skills, schedule, tax_rate)
    table = type_table()
    positions, known = table.index(types)
    names = [
        table.names[p] if found else f"Type {t}"
        for p, found, t in zip(positions.tolist(), known.tolist(), types.tolist(), strict=True)
    ]
    packaged = np.nan_to_num(table.volumes(types)).tolist()
    assembled = np.nan_to_num(table.assembled_volumes(types)).tolist()
    buy_rows, sell_rows, all_rows = _stats_rows(buy), _stats_rows(sell), _stats_rows(everything)
    sold_units, sold_gross = units.tolist(), gross.tolist()
    priced = []
    for i, line in enumerate(ordered):
        buy_row, sell_row = buy_rows[i], sell_rows[i]
        best_bid = buy_row["max"] if buy_row["order_count"] else None
        best_ask = sell_row["min"] if sell_row["order_count"] else None
        split = (best_bid + best_ask) / 2 if best_bid is not None and best_ask is not None else None
        quantity = line.quantity
        values = {
            "buy": round((best_bid or 0.0) * quantity, 2),
            "sell": round((best_ask or 0.0) * quantity, 2),
            "split": round((split or 0.0) * quantity, 2),
        }
        cube = packaged[i] * quantity
        sold, fetched = sold_units[i], sold_gross[i]
        priced.append(
            {
                "type_id": line.type_id,
                "name": names[i],
                "quantity": quantity,
                "volume": assembled[i],
                "packaged_volume": packaged[i],
                "total_volume": round(assembled[i] * quantity, 4),
                "total_packaged_volume": round(cube, 4),
                "prices": {
                    "buy": buy_row,
                    "sell": sell_row,
                    "all": all_rows[i],
                    "best_bid": best_bid,
                    "best_ask": best_ask,
                    "split": split,
                },
                "values": values,
                "isk_per_m3": {
                    side: (round(values[side] / cube, 2) if cube > 0 else None)
                    for side in ("buy", "sell")
                },
                "net": {
                    "sell_now": {
                        "units": sold,
                        "unsold": quantity - sold,
                        "gross": round(fetched, 2),
                        "sales_tax": round(fetched * tax_rate, 2),
                        "net": round(fetched * (1 - tax_rate), 2),
                    },
                    "list": listed[i],
                    "list_note": list_notes[i],
                },
            }
        )
    return priced


NOTHING_LISTED = "Nothing is listed here to undercut."
NO_ROOM = (
    "No price under the best ask stays above the best bid: a listing would sell at once into "
    "the bids (see selling now)."
)
LOWEST_PRICE = "The best ask is already the lowest price EVE allows (0.01 ISK)."


def _listings(
    asks: Groups,
    best_bids: FloatArray,
    quantities: IntArray,
    market: Market,
    skills: Skills,
    schedule: FeeScheduleData,
    tax_rate: float,
) -> tuple[list[dict[str, Any] | None], list[str | None]]:
    """Each type listed one grid step under its best ask, after broker fee and tax, and why
    a type is not (nothing listed; no room above the best bid, where the listing would fill
    at once; the best ask already at the grid's floor): the listings and the notes."""
    some = asks.count > 0
    first = np.minimum(asks.start, max(len(asks.price) - 1, 0))
    best_asks = asks.price[first] if len(asks.price) else np.zeros(len(quantities))
    prices = np.asarray(price_below(best_asks), dtype=np.float64)
    on_grid = some & np.isfinite(prices) & (prices > 0)
    above_bids = ~(prices <= best_bids)  # a NaN best bid (no bid) leaves room
    listable = on_grid & above_bids
    where = market.place
    at_place = where is not None and where.kind in ("station", "structure")
    ask_locations = asks.location[first] if len(asks.location) else np.zeros(len(quantities))
    locations = np.where(listable, where.id if at_place and where else ask_locations, 0)
    rates = np.zeros(len(quantities))
    if listable.any():
        rates[listable] = fees.broker_fee_rates(locations[listable], skills, schedule)
    gross = np.where(listable, prices, 0.0) * quantities
    broker = fees.broker_charge(gross, rates, schedule.broker_fee_min_charge)
    tax = gross * tax_rate
    listed: list[dict[str, Any] | None] = []
    notes: list[str | None] = []
    for i in range(len(quantities)):
        if not listable[i]:
            listed.append(None)
            notes.append(
                NOTHING_LISTED if not some[i] else LOWEST_PRICE if not on_grid[i] else NO_ROOM
            )
            continue
        notes.append(None)
        listed.append(
            {
                "price": float(prices[i]),
                "location_id": int(locations[i]),
                "gross": round(float(gross[i]), 2),
                "broker_fee": round(float(broker[i]), 2),
                "broker_fee_rate": float(rates[i]),
                "sales_tax": round(float(tax[i]), 2),
                "net": round(float(gross[i] - broker[i] - tax[i]), 2),
            }
        )
    return listed, notes


def totals(items: Sequence[dict[str, Any]], percentage: float) -> dict[str, Any]:
    """The list's totals, each at `percentage` % (a buyback's rate; 100: as priced)."""
    share = percentage / 100.0

    def total(values: Iterable[float]) -> float:
        return round(sum(values) * share, 2)

    listed = [item["net"]["list"] for item in items]
    return {
        "percentage": percentage,
        "buy": total(item["values"]["buy"] for item in items),
        "sell": total(item["values"]["sell"] for item in items),
        "split": total(item["values"]["split"] for item in items),
        "volume": round(sum(item["total_volume"] for item in items), 4),
        "packaged_volume": round(sum(item["total_packaged_volume"] for item in items), 4),
        "net_sell_now": total(item["net"]["sell_now"]["net"] for item in items),
        "unsold_units": sum(item["net"]["sell_now"]["unsold"] for item in items),
        "net_listed": total(entry["net"] for entry in listed if entry is not None),
        "unlisted_types": sum(1 for entry in listed if entry is None),
    }
