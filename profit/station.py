"""Station trading: what to buy with a buy order and resell with a sell order at one station.

For every type with a sell order at the station and a buy order a seller there can fill (its
own bids, and ranged bids placed elsewhere whose range reaches it: `market.reach`), the
trader outbids the best such bid and undercuts the best ask by one step of EVE's price grid
(`market.pricegrid`: 4 significant digits):

    buy_price  = price_above(best_bid)    sell_price = price_below(best_ask)
    (no row when no valid price lies strictly between them: buy_price >= best_ask)

but the sell order is never priced above the median of the type's daily highest prices in
the region over 30 days (when that history is known): one absurd ask does not make a trade
(`list_price_basis`: undercut, history or unchecked, as in hauling).
    profit_per_unit = sell_price - sales_tax - sell_broker_fee - buy_price - buy_broker_fee
    sales_tax       = sell_price x sales tax rate
    broker fee      = max(rate x price x Q, minimum charge) / Q    (on each of the two orders)
    margin = profit_per_unit / sell_price        roi = profit_per_unit / (buy_price + buy fee)

Q, the quantity each order is assumed to be for (`order_quantity` in the rows), is the depth
of the thinner side of the station's book, min(bid_volume, ask_volume), at least 1: an order
for that many units pays the broker fee's 100 ISK minimum charge at most once, spread over Q
units. For anything but the cheapest items in thin books this is rate x price.

`daily_volume` is the station's estimated share of the region's 30-day average
(`profit.volumes.station_share`, `volume_share` in the rows; 1 at a hub).

What a trade earns in a day, the default ranking:

    daily_units  = daily_volume / 2 / (1 + max(buy_orders, sell_orders))
    daily_profit = profit_per_unit x daily_units

A day's volume is split between the two sides of the book (half bought from asks, half sold
into bids); on each side the trader's order shares it with the orders already there, and
what they can turn over is bounded by the busier side. An estimate, stated as such; NaN (and
ranked last) while the type's daily volume is unknown. Rows carry `flags`
(`profit.flags`: thin, off_history, volume_unknown); `hide` leaves some out (by default the
thin and the off-history ones) and the scan counts what it hid.

Everything is computed on the snapshot's per-station summary of asks and the per-type summary
of the bids reaching the station, as numpy columns; rows are made only for the page asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from market.pricegrid import price_above
from market.reach import bids_reaching
from market.snapshot import Snapshot
from profit import fees, flags
from profit.engine import (
    Columns,
    FloatArray,
    LazyRows,
    in_item_filters,
    listing_prices,
    rows_from_columns,
    sort_order,
    type_names,
)
from profit.fees import Rates, Skills
from profit.locations import location_systems
from profit.volumes import (
    DailyVolumes,
    history_high,
    history_mid,
    station_share,
    volume_lookup,
)

FIELDS = (
    "type_id",
    "type_name",
    "best_bid",
    "best_bid_location_id",
    "best_ask",
    "buy_price",
    "sell_price",
    "buy_broker_fee",
    "sell_broker_fee",
    "sales_tax",
    "profit_per_unit",
    "margin",
    "roi",
    "daily_volume",
    "volume_share",
    "buy_orders",
    "sell_orders",
    "bid_volume",
    "ask_volume",
    "order_quantity",
    "list_price_basis",
    "daily_units",
    "daily_profit",
    "flags",
)
_ISK = (
    *("best_bid", "best_ask", "buy_price", "sell_price", "buy_broker_fee", "sell_broker_fee"),
    *("sales_tax", "profit_per_unit", "daily_profit"),
)


@dataclass(frozen=True)
class StationFilters:
    min_profit: float = 0.0  # ISK per unit; a row always needs a profit above 0 as well
    min_margin: float | None = None  # fractions (0.05 = 5 %)
    max_margin: float | None = None
    min_daily_volume: float | None = None  # at the station; unknown ones stay (flagged)
    max_price: float | None = None  # on buy_price, the ISK a unit costs
    market_group_id: int | None = None  # includes its sub-groups
    category_id: int | None = None
    sort: str = "-daily_profit"
    limit: int | None = None
    hide: frozenset[str] = flags.DEFAULT_HIDDEN  # rows with these flags are left out


@dataclass(frozen=True)
class Scan:
    rows: Sequence[dict[str, Any]]  # a LazyRows: rows are made when read
    rates: Rates
    total: int  # rows that passed the filters, before `limit`
    hidden: dict[str, int] = field(default_factory=dict)  # rows each `hide` flag left out
    volumes_known: int = 0  # of the rows the filters passed (hidden ones included)
    volumes_total: int = 0


def daily_units(daily_volume: FloatArray, buy_orders: Any, sell_orders: Any) -> FloatArray:
    """Units a trader can expect to turn over a day (see the module doc); NaN where the
    daily volume is unknown."""
    busier = np.maximum(buy_orders, sell_orders).astype(np.float64)
    units: FloatArray = daily_volume / 2.0 / (1.0 + busier)
    return units


def per_unit_broker_fee(
    price: FloatArray, quantity: FloatArray, rate: float, min_charge: float
) -> FloatArray:
    """The broker fee of an order for `quantity` units at `price`, per unit."""
    fee: FloatArray = np.maximum(price * quantity * rate, min_charge) / quantity
    return fee


def station_trading(
    snapshot: Snapshot,
    station_id: int,
    skills: Skills,
    filters: StationFilters | None = None,
    *,
    volumes: Mapping[int, float] | DailyVolumes | None = None,
    rates: Rates | None = None,
    on: date | None = None,
) -> Scan:
    """Every profitable station trade at `station_id` in `snapshot`, filtered and sorted.

    `volumes`: the region's average daily volumes by type (None: the stored ones); the
    station's share of them is estimated from the snapshot.
    `rates`: the station's rates for these skills (None: looked up in the fee schedule).
    """
    found = find(snapshot, station_id, skills, volumes=volumes, rates=rates, on=on)
    return rank(found, filters or StationFilters())


@dataclass(frozen=True)
class Found:
    """Every trade at a station that earns something, with its figures and flags, before
    the filters: the costly part of a scan, one per station and snapshot whatever the
    filters, sort and page."""

    columns: Columns
    rates: Rates

    def __len__(self) -> int:
        return len(self.columns["type_id"])


def find(
    snapshot: Snapshot,
    station_id: int,
    skills: Skills,
    *,
    volumes: Mapping[int, float] | DailyVolumes | None = None,
    rates: Rates | None = None,
    on: date | None = None,
) -> Found:
    """Every type traded both ways at the station with a profit, its figures and flags."""
    if rates is None:
        rates = fees.rates_for(station_id, skills, on)
    columns = _trades(snapshot, station_id, rates, volumes)
    share = station_share(snapshot, station_id, columns["type_id"])
    region_volume = volume_lookup(volumes, snapshot.meta.region_id, columns["type_id"])
    columns["volume_share"] = share
    columns["daily_volume"] = region_volume * share
    columns["daily_units"] = daily_units(
        columns["daily_volume"], columns["buy_orders"], columns["sell_orders"]
    )
    columns["daily_profit"] = columns["profit_per_unit"] * columns["daily_units"]
    mid = history_mid(volumes, snapshot.meta.region_id, columns["type_id"])
    unknown = np.isnan(columns["daily_volume"])
    columns["flags"] = flags.mask(
        thin=~unknown & (columns["daily_units"] < flags.THIN_UNITS_PER_DAY),
        off_history=flags.off_history(columns["buy_price"], mid)
        | flags.off_history(columns["sell_price"], mid),
        volume_unknown=unknown,
    )
    # Only what earns something (every filter asks that much): a tenth of the types at Jita.
    earns = np.nan_to_num(columns["profit_per_unit"], nan=-np.inf) > 0
    earns &= columns["sell_price"] > 0
    return Found({name: values[earns] for name, values in columns.items()}, rates)


def rank(found: Found, filters: StationFilters) -> Scan:
    """The trades `filters` keep, sorted, the first `limit` (rows made as they are read)."""
    keep = _filter(found.columns, filters)
    passed = found.columns["flags"][keep]
    hidden = flags.hidden_rows(found.columns["flags"], filters.hide)
    counts = flags.hidden_counts(passed, filters.hide)
    known = int(np.count_nonzero(~np.isnan(found.columns["daily_volume"][keep])))
    seen = int(np.count_nonzero(keep))
    kept = np.flatnonzero(keep & ~hidden)
    columns = {name: values[kept] for name, values in found.columns.items()}
    total = len(kept)
    if filters.sort.removeprefix("-") == "type_name":
        columns["type_name"] = type_names(columns["type_id"])
    # By the day, rows whose volume is not known yet follow by what a unit earns.
    by_day = filters.sort.removeprefix("-") in ("daily_profit", "daily_units")
    ties = ("-profit_per_unit", "type_id") if by_day else ("type_id",)
    order = sort_order(columns, filters.sort, FIELDS, ties)
    if filters.limit is not None:
        order = order[: max(filters.limit, 0)]
    return Scan(
        rows=LazyRows(found.columns, _make_rows, kept[order]),  # shares the found columns
        rates=found.rates,
        total=total,
        hidden=counts,
        volumes_known=known,
        volumes_total=seen,
    )


def _trades(snapshot: Snapshot, station_id: int, rates: Rates, volumes: Any) -> Columns:
    """Best bid a seller here can fill and best ask per type, and what trading between them
    earns."""
    st = snapshot.stations
    asks = np.flatnonzero((st["location_id"] == station_id) & ~st["is_buy_order"])
    system = int(location_systems(snapshot, [station_id])[0])
    bids = bids_reaching(snapshot, station_id, system)
    _, bi, ai = np.intersect1d(
        bids["type_id"], st["type_id"][asks], assume_unique=True, return_indices=True
    )
    asks = asks[ai]
    best_bid = bids["best_price"][bi]
    best_ask = st["best_price"][asks].astype(np.float64)
    bid_volume = bids["volume"][bi]
    ask_volume = st["volume"][asks].astype(np.int64)
    buy_price = price_above(best_bid)
    type_ids = st["type_id"][asks].astype(np.int64)
    sell_price, basis = listing_prices(
        best_ask, history_high(volumes, snapshot.meta.region_id, type_ids)
    )
    inside = buy_price < best_ask  # a valid price strictly inside the spread
    quantity = np.maximum(np.minimum(bid_volume, ask_volume), 1).astype(np.float64)
    buy_fee = per_unit_broker_fee(buy_price, quantity, rates.broker_fee, rates.min_broker_fee)
    sell_fee = per_unit_broker_fee(sell_price, quantity, rates.broker_fee, rates.min_broker_fee)
    sales_tax = sell_price * rates.sales_tax
    profit = np.where(inside, sell_price - sales_tax - sell_fee - buy_price - buy_fee, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(sell_price > 0, profit / sell_price, np.nan)
        roi = profit / (buy_price + buy_fee)
    return {
        "type_id": type_ids,
        "best_bid": best_bid,
        "best_bid_location_id": bids["best_location"][bi],
        "best_ask": best_ask,
        "buy_price": buy_price,
        "sell_price": sell_price,
        "buy_broker_fee": buy_fee,
        "sell_broker_fee": sell_fee,
        "sales_tax": sales_tax,
        "profit_per_unit": profit,
        "margin": margin,
        "roi": roi,
        "buy_orders": bids["orders"][bi],
        "sell_orders": st["orders"][asks].astype(np.int64),
        "bid_volume": bid_volume,
        "ask_volume": ask_volume,
        "order_quantity": quantity.astype(np.int64),
        "list_price_basis": basis,
    }


def _filter(columns: Columns, filters: StationFilters) -> np.ndarray:
    profit = np.nan_to_num(columns["profit_per_unit"], nan=-np.inf)
    keep = (profit > 0) & (profit >= filters.min_profit) & (columns["sell_price"] > 0)
    if filters.min_margin is not None:
        keep &= columns["margin"] >= filters.min_margin
    if filters.max_margin is not None:
        keep &= columns["margin"] <= filters.max_margin
    if filters.min_daily_volume is not None:
        volume = columns["daily_volume"]
        keep &= np.isnan(volume) | (np.nan_to_num(volume) >= filters.min_daily_volume)
    if filters.max_price is not None:
        keep &= columns["buy_price"] <= filters.max_price
    keep &= in_item_filters(columns["type_id"], filters.market_group_id, filters.category_id)
    return keep


_DECIMALS = {
    **dict.fromkeys(_ISK, 4),
    **{"margin": 6, "roi": 6, "daily_volume": 1, "volume_share": 4, "daily_units": 2},
}


def _make_rows(picked: Columns) -> list[dict[str, Any]]:
    if "type_name" not in picked:
        picked["type_name"] = type_names(picked["type_id"])
    rows = rows_from_columns(picked, FIELDS, _DECIMALS, ("type_name", "list_price_basis"))
    for row in rows:
        row["flags"] = flags.names(row["flags"])
    return rows
