"""A character's assets and orders against the current market snapshots (market/publish.py).

- `hub_prices(type_ids)`: best bid and best ask of each type at Jita IV - Moon 4 (The Forge's
  hub) in the current snapshot; assets are valued at the best bid (what they would fetch
  sold right now), and every answer says so, with the snapshot's time.
- `flag_orders(orders)`: each open order against the other orders at its station in its
  region's current snapshot: a buy order is "outbid" when someone bids more (any bid a seller
  at that station can fill, ranged bids placed elsewhere included), a sell order "undercut"
  when someone asks less there; "best" when nobody beats it (a tie is not beaten: the older
  order fills first), "unknown" without a snapshot of that region. The character's own order
  is left out of the comparison by its order id. An outbid or undercut order gets its
  `relist_price`: one step of EVE's price grid past the best competitor (market.pricegrid).

Nothing here calls ESI: snapshots are read from the shared store like every market page does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from market import books, plex, publish
from market.hubs import HUB_STATIONS
from market.pricegrid import price_above, price_below
from market.reach import reaching_rows
from market.snapshot import Snapshot
from profit.locations import location_systems
from sde.places import location_names

HUB_REGION = 10000002  # The Forge
HUB_STATION = HUB_STATIONS[HUB_REGION]  # Jita IV - Moon 4 - Caldari Navy Assembly Plant
BASIS = "best bid"


@dataclass(frozen=True)
class HubPrices:
    region_id: int
    station_id: int
    best_bid: dict[int, float] = field(default_factory=dict)
    best_ask: dict[int, float] = field(default_factory=dict)
    snapshot: dict[str, Any] | None = None  # publish.freshness of the snapshot used

    def describe(self) -> dict[str, Any]:
        """What the values are: which price, where, from which snapshot."""
        station = location_names([self.station_id])[self.station_id]
        if self.snapshot is None:
            note = f"Not valued: no market snapshot of the hub's region ({station}) yet."
        else:
            note = f"Valued at the {BASIS} at {station} in the current market snapshot."
        return {
            "basis": BASIS,
            "station_id": self.station_id,
            "station_name": station,
            "snapshot": self.snapshot,
            "note": note,
        }


def hub_prices(
    type_ids: Iterable[int], region_id: int = HUB_REGION, station_id: int = HUB_STATION
) -> HubPrices:
    """Best bid and ask at the hub station for these types (absent: no such order)."""
    snapshot = publish.load(region_id)
    if snapshot is None:
        return HubPrices(region_id, station_id)
    wanted = np.fromiter(set(type_ids), dtype=np.int64)
    stations = snapshot.stations
    here = (stations["location_id"] == station_id) & np.isin(stations["type_id"], wanted)
    bids: dict[int, float] = {}
    asks: dict[int, float] = {}
    for type_id, is_buy, price in zip(
        stations["type_id"][here].tolist(),
        stations["is_buy_order"][here].tolist(),
        stations["best_price"][here].tolist(),
        strict=True,
    ):
        (bids if is_buy else asks)[int(type_id)] = float(price)
    return HubPrices(region_id, station_id, bids, asks, publish.freshness(snapshot.meta))


def _best_other(snapshot: Snapshot, order: dict[str, Any]) -> float | None:
    """The best price among the other orders of the same side at the order's station."""
    book = snapshot.orders_of(int(order["type_id"]))
    is_buy = bool(order.get("is_buy_order"))
    location = int(order["location_id"])
    mask = (book["is_buy_order"] == is_buy) & (book["order_id"] != int(order["order_id"]))
    region_id = snapshot.meta.region_id
    if plex.is_plex_region(region_id):
        pass  # the global PLEX market: every order competes with every other
    elif is_buy:  # every bid a seller at the station can fill competes with it
        rows = np.flatnonzero(mask)
        system = int(location_systems(snapshot, [location])[0])
        mask[rows] = reaching_rows(book, rows, location, system, region_id=region_id)
    else:
        mask &= book["location_id"] == location
    prices = book["price"][mask]
    if len(prices) == 0:
        return None
    return float(prices.max() if is_buy else prices.min())


def flag_orders(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each order: `flag` (outbid, undercut, best, unknown), `best_other` (the best
    competing price at its station, or None), `snapshot_region`/`snapshot_generation`."""
    snapshots: dict[int, Snapshot | None] = {}
    flags: list[dict[str, Any]] = []
    for order in orders:
        region_id = int(order["region_id"])
        if region_id not in snapshots:
            snapshots[region_id] = books.view(region_id)
        snapshot = snapshots[region_id]
        if snapshot is None:
            flags.append(
                {
                    "flag": "unknown",
                    "best_other": None,
                    "relist_price": None,
                    "snapshot_region": region_id,
                    "snapshot_generation": None,
                }
            )
            continue
        best = _best_other(snapshot, order)
        price = float(order["price"])
        relist = None
        if best is None:
            flag = "best"
        elif order.get("is_buy_order"):
            flag = "outbid" if best > price else "best"
            relist = price_above(best) if flag == "outbid" else None
        else:
            flag = "undercut" if best < price else "best"
            relist = price_below(best) if flag == "undercut" else None
        flags.append(
            {
                "flag": flag,
                "best_other": best,
                "relist_price": relist if relist is None or relist == relist else None,
                "snapshot_region": region_id,
                "snapshot_generation": snapshot.meta.generation,
            }
        )
    return flags


def snapshots_used(region_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The `snapshot` blocks (publish.freshness) of these regions' current snapshots."""
    used: list[dict[str, Any]] = []
    for region_id in sorted(set(region_ids)):
        snapshot = books.view(region_id)
        if snapshot is not None:
            used.extend(books.freshness(meta) for meta in snapshot.parts)
    return used
