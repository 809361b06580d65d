"""The trade calculator: one type, bought at one place and sold at another, itemised.

`calculate` prices exactly the quantity asked for (or what the books hold, when less) from
the published snapshots, and returns a breakdown a trader can check by hand: which orders the
prices came from (order id, price, units), the purchase, the sale, each fee and tax with its
formula and rate, net profit, margin, ROI, packaged volume and jumps. Every line names the
snapshot (region, generation, ESI Last-Modified) its figures came from.

Modes, as in hauling (`profit/hauling.py`):
- "instant": buy from the sell orders at the buy place (cheapest first) and sell into the buy
  orders at the sell place (dearest first); a buy order whose minimum volume exceeds the
  units that would go into it is skipped. No broker fee.
- "list": buy the same way, then list one sell order at the sell place one step of EVE's
  price grid under its best ask, but not above the median of the daily highest prices of
  the last 30 days there (when the history is known), paying its broker fee (at least the
  minimum charge) and the sales tax.

A buy or sell place may be a station, structure, system or region; orders anywhere inside it
are used, cheapest (or dearest) first. Selling at a station or structure also fills the
ranged buy orders placed elsewhere whose range reaches it (`market.reach`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from market import plex
from market.reach import reaching_rows
from market.snapshot import Snapshot
from profit import fees
from profit.engine import HISTORY, Columns, listing_prices, snapshot_ref, type_table
from profit.fees import Skills
from profit.locations import resolve_place
from profit.volumes import DailyVolumes, history_high
from sde import routes
from sde.places import Place, UnknownPlace

MODES = ("instant", "list")
# Orders listed in a formula before it says "and N more".
FORMULA_ORDERS = 6


class CalculatorError(ValueError):
    """The trade cannot be priced at all (bad mode or quantity, no snapshot for a place)."""


@dataclass(frozen=True)
class _Sale:
    """The selling side of a trade: how many units it sells, into which buy orders or at
    which listing, for how much, with its lines (sale, broker fee) and notes."""

    units: int
    available: int | None  # the units the buy orders want (instant); None when listing
    orders: list[dict[str, Any]]  # the buy orders sold into (instant)
    listing: dict[str, Any] | None  # the sell order listed (list)
    total: float
    broker_rate: float | None
    broker_fee: float
    systems: list[int]  # where the units are sold (the orders', or the listing's)
    lines: list[dict[str, Any]]
    notes: list[str]


@dataclass(frozen=True)
class _Profit:
    """What the trade earns once the sale is taxed and the purchase paid."""

    sales_tax: float
    net: float
    margin: float | None
    roi: float | None


def calculate(
    type_id: int,
    buy_place: Place,
    sell_place: Place,
    quantity: int,
    mode: str,
    skills: Skills,
    *,
    snapshots: Mapping[int, Snapshot] | Sequence[Snapshot],
    preference: str = routes.DEFAULT_PREFERENCE,
    security: str = routes.DEFAULT_SECURITY,
    volumes: Mapping[int, DailyVolumes] | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    """The itemised breakdown of one trade (see the module doc). Not enough orders is not an
    error: the breakdown prices what the books hold and says how much that is."""
    _check_trade(type_id, quantity, mode)
    pool = list(snapshots.values()) if isinstance(snapshots, Mapping) else list(snapshots)
    buy_snap = _snapshot_for(buy_place, pool)
    sell_snap = _snapshot_for(sell_place, pool)
    schedule = fees.schedule_on(on)
    tax_rate = fees.sales_tax_rate(skills, schedule)
    buy_ref, sell_ref = snapshot_ref(buy_snap), snapshot_ref(sell_snap)
    both = [buy_ref] if buy_ref == sell_ref else [buy_ref, sell_ref]

    sells = _orders(buy_snap, buy_place, type_id, is_buy=False)
    available_buy = int(sells["volume_remain"].sum())
    wanted = min(quantity, available_buy)
    if mode == "instant":
        bids = _orders(sell_snap, sell_place, type_id, is_buy=True)
        sale = _sell_into_bids(bids, wanted, sell_ref)
    else:
        asks = _orders(sell_snap, sell_place, type_id, is_buy=False)
        high = _history_high(asks, sell_snap, type_id, volumes)
        sale = _sell_by_listing(asks, high, wanted, skills, schedule, sell_ref)
        bids = _orders(sell_snap, sell_place, type_id, is_buy=True)
        if sale.listing and len(bids["price"]) and sale.listing["price"] <= bids["price"][0]:
            sale.notes.append(
                f"A sell order at {_isk(sale.listing['price'])} would be filled at once by the "
                f"buy order at {_isk(float(bids['price'][0]))} (order {int(bids['order_id'][0])})"
                " that reaches the sell place: that is an instant sale; price it in instant mode."
            )
    buy_orders, buy_total = _buy(sells, sale.units)

    table = type_table()
    unit_m3 = float(np.nan_to_num(table.volumes([type_id])[0]))
    volume_m3 = sale.units * unit_m3
    profit = _profit(sale, buy_total, tax_rate)
    jumps, jump_lines, route_notes = _jumps(
        _buy_systems(buy_orders, buy_place),
        _sell_systems(sale, sell_place),
        preference,
        security,
    )
    lines = [
        _purchase_line(sale.units, buy_orders, buy_total, buy_ref),
        *sale.lines,
        *_profit_lines(profit, sale.total, buy_total, sale.broker_fee, tax_rate, sell_ref, both),
        _cargo_line(sale.units, unit_m3, volume_m3),
        *jump_lines,
    ]
    complete = sale.units >= quantity
    notes = [
        *_shortfall_notes(quantity, sale, available_buy, mode),
        *sale.notes,
        *route_notes,
    ]
    listing_location = sale.listing["location_id"] if sale.listing else None
    rates_locations = [listing_location] if listing_location is not None else []
    return {
        "type_id": type_id,
        "type_name": table.name(type_id),
        "mode": mode,
        "quantity_requested": quantity,
        "quantity": sale.units,
        "quantity_available": {"buy": available_buy, "sell": sale.available},
        "complete": complete,
        "notes": notes,
        "buy_orders": buy_orders,
        "sell_orders": sale.orders,
        "listing": sale.listing,
        "lines": lines,
        "totals": {
            "buy_total": round(buy_total, 2),
            "sell_total": round(sale.total, 2),
            "sales_tax": round(profit.sales_tax, 2),
            "broker_fee": round(sale.broker_fee, 2),
            "net_profit": round(profit.net, 2),
            "margin": None if profit.margin is None else round(profit.margin, 6),
            "roi": None if profit.roi is None else round(profit.roi, 6),
            "volume_m3": round(volume_m3, 3),
            "unit_volume_m3": unit_m3,
            "jumps": jumps,
        },
        "rates": {
            "sales_tax": tax_rate,
            "broker_fee": sale.broker_rate,
            "statement": fees.rates_used(skills, rates_locations, schedule),
        },
        "snapshots": both,
    }


def _check_trade(type_id: int, quantity: int, mode: str) -> None:
    """A trade the calculator can price at all, else CalculatorError."""
    if mode not in MODES:
        raise CalculatorError(f"Mode must be one of {', '.join(MODES)}.")
    if quantity < 1:
        raise CalculatorError("Quantity must be at least 1.")
    if plex.is_plex(type_id):
        raise CalculatorError(
            f"{plex.PLEX_ONLY_GLOBAL} Every PLEX order fills against every other there, "
            "so there is no trade from one place to another to price."
        )


# --- Buying and selling --------------------------------------------------------------------


def _buy(sells: Columns, units: int) -> tuple[list[dict[str, Any]], float]:
    """Buy `units` from the sell orders, cheapest first: the orders used and the cost."""
    fills = _fill(sells["volume_remain"], units)
    return _fills(sells, fills), float((fills * sells["price"]).sum())


def _sell_into_bids(bids: Columns, wanted: int, sell_ref: dict[str, Any]) -> _Sale:
    """Instant mode: sell what was bought into the buy orders, dearest first (no broker
    fee)."""
    units, fills = sell_into(bids, wanted)
    orders = _fills(bids, fills)
    total = float((fills * bids["price"]).sum())
    line = _line(
        f"Sale: {units:,} units into {len(orders)} buy order(s)",
        total,
        _sum_formula(orders) or "no units sold",
        [sell_ref],
    )
    return _Sale(
        units=units,
        available=int(bids["volume_remain"].sum()),
        orders=orders,
        listing=None,
        total=total,
        broker_rate=None,
        broker_fee=0.0,
        systems=sorted({o["system_id"] for o in orders}),
        lines=[line],
        notes=[],
    )


def _history_high(
    asks: Columns, sell_snap: Snapshot, type_id: int, volumes: Mapping[int, DailyVolumes] | None
) -> float:
    """The type's median daily highest price of 30 days where it is listed (NaN when
    unknown; not looked up when there is no ask to undercut)."""
    if not len(asks["price"]):
        return float("nan")
    region_id = sell_snap.meta.region_id
    given = None if volumes is None else volumes.get(region_id)
    return float(history_high(given, region_id, [type_id])[0])


def _sell_by_listing(
    asks: Columns,
    high: float,
    wanted: int,
    skills: Skills,
    schedule: fees.FeeScheduleData,
    sell_ref: dict[str, Any],
) -> _Sale:
    """List mode: one sell order for what was bought, under the best ask, paying its broker
    fee (nothing is bought when there is no ask to undercut)."""
    listing = _listing(asks, high) if len(asks["price"]) else None
    if listing is None:
        return _Sale(
            units=0,
            available=None,
            orders=[],
            listing=None,
            total=0.0,
            broker_rate=None,
            broker_fee=0.0,
            systems=[],
            lines=[],
            notes=["No sell order of this type at the sell place: nothing to undercut."],
        )
    price = listing["price"]
    units = wanted if price > 0 else 0
    total = price * units
    broker_rate = fees.broker_fee_rate(listing["location_id"], skills, schedule)
    minimum = schedule.broker_fee_min_charge
    broker_fee = float(fees.broker_charge(total, broker_rate, minimum)) if units else 0.0
    lines = [
        _line(
            f"Sale: a sell order for {units:,} units at {_isk(price)} ISK",
            total,
            f"{units:,} x {_isk(price)} ({listing['how']}) = {_isk(total)}",
            [sell_ref],
        ),
        _line(
            "Broker fee on the sell order",
            -broker_fee,
            f"max({_percent(broker_rate)} x {_isk(total)}, {_isk(minimum)}) = {_isk(broker_fee)}",
            [sell_ref],
        ),
    ]
    return _Sale(
        units=units,
        available=None,
        orders=[],
        listing=listing,
        total=total,
        broker_rate=broker_rate,
        broker_fee=broker_fee,
        systems=[listing["system_id"]],
        lines=lines,
        notes=[],
    )


def _shortfall_notes(quantity: int, sale: _Sale, available_buy: int, mode: str) -> list[str]:
    """A note when the books hold less than the quantity asked for."""
    if sale.units >= quantity:
        return []
    held = available_buy if mode == "list" else min(available_buy, sale.available or 0)
    return [
        f"The books hold only {held:,} units for this trade (requested {quantity:,}): "
        f"priced for {sale.units:,}."
    ]


# --- Profit --------------------------------------------------------------------------------


def _profit(sale: _Sale, buy_total: float, tax_rate: float) -> _Profit:
    sales_tax = sale.total * tax_rate
    net = sale.total - sales_tax - sale.broker_fee - buy_total
    return _Profit(
        sales_tax=sales_tax,
        net=net,
        margin=net / sale.total if sale.total > 0 else None,
        roi=net / buy_total if buy_total > 0 else None,
    )


# --- Jumps ---------------------------------------------------------------------------------


def _buy_systems(buy_orders: list[dict[str, Any]], buy_place: Place) -> list[int]:
    """Where the units are bought: the orders' systems, else the place's."""
    return sorted({o["system_id"] for o in buy_orders}) or _place_systems(buy_place)


def _sell_systems(sale: _Sale, sell_place: Place) -> list[int]:
    """Where the units are sold: at a station or structure, where the seller stands (whatever
    the orders' range); elsewhere the orders' (or the listing's) systems, else the place's."""
    if sell_place.kind in ("station", "structure"):
        return _place_systems(sell_place)
    return sale.systems or _place_systems(sell_place)


def _jumps(
    from_systems: list[int], to_systems: list[int], preference: str, security: str
) -> tuple[int | None, list[dict[str, Any]], list[str]]:
    """The jumps between one buying and one selling system (None when the orders are in
    several, or no route passes the security filter), their line and notes."""
    if len(from_systems) == 1 and len(to_systems) == 1:
        jumps = routes.jumps(from_systems[0], to_systems[0], preference, security)
        notes = []
        if jumps is None:
            notes.append(f"No route between the two systems with security filter {security!r}.")
        line = _line(
            "Jumps",
            jumps,
            f"{preference} route, security {security}: route length in systems minus one",
            [],
            unit="jumps",
        )
        return jumps, [line], notes
    if from_systems and to_systems:
        return None, [], ["The orders are in several systems: jumps differ from order to order."]
    return None, [], []


# --- Books ---------------------------------------------------------------------------------


def _snapshot_for(place: Place, pool: Sequence[Snapshot]) -> Snapshot:
    for snapshot in pool:
        if place.region_id is not None and snapshot.meta.region_id == place.region_id:
            return snapshot
    if place.region_id is None:  # a structure no snapshot placed: any snapshot with orders there
        for snapshot in pool:
            if np.any(snapshot.book["location_id"] == place.id):
                return snapshot
    raise CalculatorError(f"No market snapshot covers {place.name}.")


def _orders(snapshot: Snapshot, place: Place, type_id: int, *, is_buy: bool) -> Columns:
    """One side of a type's book inside a place, in price order (the snapshot's order); on
    the buy side at a station or structure, every buy order a seller there can fill."""
    book = snapshot.orders_of(type_id)
    side = book["is_buy_order"] == is_buy
    if place.kind == "region":
        inside = np.full(len(side), snapshot.meta.region_id == place.id)
    elif place.kind == "system":
        inside = book["system_id"] == place.id
    elif is_buy and place.system_id is not None:
        inside = np.zeros(len(side), dtype=bool)
        rows = np.flatnonzero(side)
        inside[rows] = reaching_rows(
            book, rows, place.id, place.system_id, region_id=snapshot.meta.region_id
        )
    else:
        inside = book["location_id"] == place.id
    keep = side & inside
    return {name: values[keep] for name, values in book.items()}


def _listing(asks: Columns, history_high: float) -> dict[str, Any]:
    """The sell order to list (engine.listing_prices: one grid step under the best ask, or
    the 30-day median high of the history when the undercut is above it)."""
    best_ask = float(asks["price"][0])
    prices, bases = listing_prices(np.array([best_ask]), np.array([history_high]))
    price, basis = float(prices[0]), str(bases[0])
    how = f"one price step under the best ask {_isk(best_ask)}, order {int(asks['order_id'][0])}"
    if basis == HISTORY:
        how = (
            f"the best ask {_isk(best_ask)} is above the median daily highest price of "
            f"30 days, {_isk(history_high)}: listed at {_isk(price)}"
        )
    known = history_high == history_high
    return {
        "order_id": int(asks["order_id"][0]),
        "location_id": int(asks["location_id"][0]),
        "system_id": int(asks["system_id"][0]),
        "best_ask": best_ask,
        "price": price if price == price else 0.0,
        "list_price_basis": basis,
        "history_high": history_high if known else None,
        "how": how,
    }


def _fill(volumes: np.ndarray, units: int) -> np.ndarray:
    """Units taken from each order, in order, to make `units` in all."""
    before = np.cumsum(volumes) - volumes
    return np.clip(units - before, 0, volumes).astype(np.int64)


def sell_into(bids: Columns, units: int) -> tuple[int, np.ndarray]:
    """Sell `units` into buy orders dearest first, skipping an order whose minimum volume is
    more than what would go into it (or all it still wants, when that is less)."""
    volume = bids["volume_remain"].astype(np.int64).copy()
    minimum = np.minimum(bids["min_volume"].astype(np.int64), volume)
    for _ in range(len(volume) + 1):
        fills = _fill(volume, units)
        short = np.flatnonzero((fills > 0) & (fills < minimum))
        if not len(short):
            return int(fills.sum()), fills
        volume[short[0]] = 0  # that order cannot take so few: skip it
        minimum[short[0]] = 0
    return int(fills.sum()), fills


def _fills(orders: Columns, fills: np.ndarray) -> list[dict[str, Any]]:
    used = np.flatnonzero(fills > 0)
    names: dict[int, str] = {}
    rows = []
    for i in used.tolist():
        location = int(orders["location_id"][i])
        if location not in names:
            try:
                names[location] = resolve_place(location).name
            except UnknownPlace:
                names[location] = f"Location {location}"
        rows.append(
            {
                "order_id": int(orders["order_id"][i]),
                "location_id": location,
                "location_name": names[location],
                "system_id": int(orders["system_id"][i]),
                "price": float(orders["price"][i]),
                "units": int(fills[i]),
                "min_volume": int(orders["min_volume"][i]),
                "value": round(float(orders["price"][i]) * int(fills[i]), 2),
            }
        )
    return rows


def _place_systems(place: Place) -> list[int]:
    return [place.system_id] if place.system_id is not None else []


# --- Lines ---------------------------------------------------------------------------------


def _isk(value: float) -> str:
    return f"{value:,.2f} ISK"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.6g} %"


def _purchase_line(
    units: int, buy_orders: list[dict[str, Any]], buy_total: float, buy_ref: dict[str, Any]
) -> dict[str, Any]:
    return _line(
        f"Purchase: {units:,} units from {len(buy_orders)} sell order(s)",
        -buy_total,
        _sum_formula(buy_orders) or "no units bought",
        [buy_ref],
    )


def _profit_lines(
    profit: _Profit,
    sell_total: float,
    buy_total: float,
    broker_fee: float,
    tax_rate: float,
    sell_ref: dict[str, Any],
    both: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Sales tax, net profit, margin and return on investment, each with its formula."""
    net = profit.net
    return [
        _line(
            "Sales tax",
            -profit.sales_tax,
            f"{_percent(tax_rate)} x {_isk(sell_total)} = {_isk(profit.sales_tax)}",
            [sell_ref],
        ),
        _line(
            "Net profit",
            net,
            f"{_isk(sell_total)} - {_isk(profit.sales_tax)} - {_isk(broker_fee)} - "
            f"{_isk(buy_total)} = {_isk(net)}",
            both,
        ),
        _line(
            "Margin",
            profit.margin,
            f"{_isk(net)} / {_isk(sell_total)}" if profit.margin is not None else "nothing sold",
            both,
            unit="fraction",
        ),
        _line(
            "Return on investment",
            profit.roi,
            f"{_isk(net)} / {_isk(buy_total)}" if profit.roi is not None else "nothing bought",
            both,
            unit="fraction",
        ),
    ]


def _cargo_line(units: int, unit_m3: float, volume_m3: float) -> dict[str, Any]:
    return _line(
        "Cargo (packaged volume)",
        volume_m3,
        f"{units:,} x {unit_m3:g} m3 = {volume_m3:,.2f} m3",
        [],
        unit="m3",
    )


def _sum_formula(orders: list[dict[str, Any]]) -> str:
    if not orders:
        return ""
    parts = [f"{o['units']:,} x {o['price']:,.2f} (order {o['order_id']})" for o in orders]
    shown = parts[:FORMULA_ORDERS]
    if len(parts) > FORMULA_ORDERS:
        rest = sum(o["value"] for o in orders[FORMULA_ORDERS:])
        shown.append(f"{len(parts) - FORMULA_ORDERS} more orders ({_isk(rest)})")
    total = sum(o["price"] * o["units"] for o in orders)
    return " + ".join(shown) + f" = {_isk(total)}"


def _line(
    label: str,
    amount: float | int | None,
    formula: str,
    snapshots: list[dict[str, Any]],
    *,
    unit: str = "ISK",
) -> dict[str, Any]:
    if isinstance(amount, float):
        amount = round(amount, 6 if unit == "fraction" else 2)
    return {
        "label": label,
        "amount": amount,
        "unit": unit,
        "formula": formula,
        "snapshot": snapshots[0] if len(snapshots) == 1 else None,
        "snapshots": snapshots,
    }
