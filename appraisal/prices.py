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
  best ask is) and the sales tax, as if it all sold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from appraisal.markets import Market
from market.pricegrid import price_below
from profit import fees
from profit.calculator import place_orders, sell_into
from profit.engine import type_table
from profit.fees import FeeScheduleData, Skills

TOP_SHARE = 0.05  # the share of a side's units the `percentile` price averages
Columns = dict[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class Line:
    """A type and how many of it the list holds (its lines merged)."""

    type_id: int
    quantity: int


def side_stats(prices: npt.ArrayLike, volumes: npt.ArrayLike, *, is_buy: bool) -> dict[str, Any]:
    """One side of a book in evepraisal's figures (all 0 for a side with no order)."""
    p = np.asarray(prices, dtype=np.float64)
    v = np.asarray(volumes, dtype=np.int64)
    if not len(p):
        return dict.fromkeys(
            ("min", "max", "avg", "median", "percentile", "stddev", "volume", "order_count"), 0
        )
    order = np.argsort(-p if is_buy else p, kind="stable")  # best first
    best_p, best_v = p[order], v[order]
    wanted = max(1, math.ceil(TOP_SHARE * int(best_v.sum())))
    before = np.cumsum(best_v) - best_v
    taken = np.clip(wanted - before, 0, best_v)
    return {
        "min": float(p.min()),
        "max": float(p.max()),
        "avg": float(p.mean()),
        "median": float(np.median(p)),
        "percentile": float((best_p * taken).sum() / taken.sum()),
        "stddev": float(p.std()),
        "volume": int(v.sum()),
        "order_count": len(p),
    }


def _sides(market: Market, type_id: int) -> tuple[Columns, Columns]:
    """The type's bids (dearest first) and asks (cheapest first) inside the market."""
    bids, asks = [], []
    for snapshot, where in market.books:
        bids.append(place_orders(snapshot, where, type_id, is_buy=True))
        asks.append(place_orders(snapshot, where, type_id, is_buy=False))
    return _sorted(bids, is_buy=True), _sorted(asks, is_buy=False)


def _sorted(parts: list[Columns], *, is_buy: bool) -> Columns:
    if len(parts) == 1:
        return parts[0]  # one book: already in price order
    merged = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    price = merged["price"]
    order = np.lexsort((merged["order_id"], -price if is_buy else price))
    return {name: values[order] for name, values in merged.items()}


def _net_now(bids: Columns, quantity: int, tax_rate: float) -> dict[str, Any]:
    units, fills = sell_into(bids, quantity)
    gross = float((fills * bids["price"]).sum()) if units else 0.0
    tax = gross * tax_rate
    return {
        "units": units,
        "unsold": quantity - units,
        "gross": round(gross, 2),
        "sales_tax": round(tax, 2),
        "net": round(gross - tax, 2),
    }


def _net_listed(
    asks: Columns,
    quantity: int,
    market: Market,
    skills: Skills,
    schedule: FeeScheduleData,
    tax_rate: float,
) -> dict[str, Any] | None:
    if not len(asks["price"]):
        return None  # nothing listed here to undercut
    price = float(price_below(float(asks["price"][0])))
    where = market.place
    location = (
        where.id
        if where is not None and where.kind in ("station", "structure")
        else int(asks["location_id"][0])
    )
    rate = fees.broker_fee_rate(location, skills, schedule)
    gross = price * quantity
    broker = fees.broker_charge(gross, rate, schedule.broker_fee_min_charge)
    tax = gross * tax_rate
    return {
        "price": price,
        "location_id": location,
        "gross": round(gross, 2),
        "broker_fee": round(broker, 2),
        "broker_fee_rate": rate,
        "sales_tax": round(tax, 2),
        "net": round(gross - broker - tax, 2),
    }


def merge_lines(found: Iterable[tuple[int, int]]) -> list[Line]:
    """(type id, quantity) pairs merged by type, in the order each type first appears."""
    totals: dict[int, int] = {}
    for type_id, quantity in found:
        totals[type_id] = totals.get(type_id, 0) + quantity
    return [Line(type_id, quantity) for type_id, quantity in totals.items()]


def price_lines(
    lines: Sequence[Line], market: Market, skills: Skills, schedule: FeeScheduleData
) -> list[dict[str, Any]]:
    """Each line priced at the market (see the module doc), volumes from the SDE."""
    table = type_table()
    ids = [line.type_id for line in lines]
    packaged = np.nan_to_num(table.volumes(ids)).tolist()
    assembled = np.nan_to_num(table.assembled_volumes(ids)).tolist()
    tax_rate = fees.sales_tax_rate(skills, schedule)
    priced = []
    for line, unit_packaged, unit_volume in zip(lines, packaged, assembled, strict=True):
        bids, asks = _sides(market, line.type_id)
        buy = side_stats(bids["price"], bids["volume_remain"], is_buy=True)
        sell = side_stats(asks["price"], asks["volume_remain"], is_buy=False)
        both_prices = np.concatenate([bids["price"], asks["price"]])
        both_volumes = np.concatenate([bids["volume_remain"], asks["volume_remain"]])
        everything = side_stats(both_prices, both_volumes, is_buy=False)
        best_bid = buy["max"] if buy["order_count"] else None
        best_ask = sell["min"] if sell["order_count"] else None
        split = (best_bid + best_ask) / 2 if best_bid is not None and best_ask is not None else None
        quantity = line.quantity
        values = {
            "buy": round((best_bid or 0.0) * quantity, 2),
            "sell": round((best_ask or 0.0) * quantity, 2),
            "split": round((split or 0.0) * quantity, 2),
        }
        cube = unit_packaged * quantity
        priced.append(
            {
                "type_id": line.type_id,
                "name": table.name(line.type_id),
                "quantity": quantity,
                "volume": unit_volume,
                "packaged_volume": unit_packaged,
                "total_volume": round(unit_volume * quantity, 4),
                "total_packaged_volume": round(cube, 4),
                "prices": {
                    "buy": buy,
                    "sell": sell,
                    "all": everything,
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
                    "sell_now": _net_now(bids, quantity, tax_rate),
                    "list": _net_listed(asks, quantity, market, skills, schedule, tax_rate),
                },
            }
        )
    return priced


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
