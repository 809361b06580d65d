"""Reads of the market, shared by the API and the pages. Every answer names its snapshot.

Nothing here calls ESI for order books: they come from published snapshots. History and
prices go through the ESI client's Expires cache (ESI refreshes them daily and hourly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.conf import settings

from market import publish
from market.hubs import HUB_STATIONS
from market.snapshot import Snapshot, order_dicts
from sde.models import InvType, MapRegion, StaStation
from sde.selectors import per_installed_sde


class MarketNotFound(Exception):
    """An unknown region or type (a 404)."""


class NoSnapshot(Exception):
    """The region is tracked but has no snapshot yet (a 503: try again shortly)."""


def tracked() -> list[int]:
    return list(settings.MARKET_REGIONS)


@per_installed_sde
def _region_names() -> dict[int, str | None]:
    return dict(MapRegion.objects.values_list("region_id", "region_name"))


@per_installed_sde
def _market_type_names() -> dict[int, str]:
    """Every published type with a market group (what can be traded), by type id."""
    rows = InvType.objects.filter(
        published=True, market_group__isnull=False, type_name__isnull=False
    ).values_list("type_id", "type_name")
    return {type_id: name for type_id, name in rows if name}


@per_installed_sde
def _all_station_names() -> dict[int, str | None]:
    return dict(StaStation.objects.values_list("station_id", "station_name"))


def tracked_region(region_id: int) -> None:
    if region_id not in _region_names():
        raise MarketNotFound(f"No region with id {region_id} in the installed SDE.")
    if region_id not in settings.MARKET_REGIONS:
        tracked = ", ".join(str(r) for r in settings.MARKET_REGIONS)
        raise MarketNotFound(f"Region {region_id} is not tracked; tracked regions: {tracked}.")


def market_type(type_id: int) -> str:
    name = _market_type_names().get(type_id)
    if name is None:
        raise MarketNotFound(f"No market item with type id {type_id} in the installed SDE.")
    return name


def snapshot_of(region_id: int) -> Snapshot:
    tracked_region(region_id)
    snapshot = publish.load(region_id)
    if snapshot is None:
        raise NoSnapshot(
            f"No market snapshot of region {region_id} yet; the first refresh is on its way."
        )
    return snapshot


def _station_names(location_ids: set[int]) -> dict[int, str | None]:
    names = _all_station_names()
    return {location: names.get(location) for location in location_ids}


def type_orders(
    region_id: int,
    type_id: int,
    *,
    order_type: str = "all",
    station_id: int | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """One type's book in a region: buys highest first, sells lowest first."""
    name = market_type(type_id)
    snapshot = snapshot_of(region_id)
    return {
        "snapshot": publish.freshness(snapshot.meta),
        **book_of(snapshot, type_id, name, order_type, station_id, limit),
    }


def book_of(
    snapshot: Snapshot,
    type_id: int,
    type_name: str,
    order_type: str = "all",
    station_id: int | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """`type_orders` without its `snapshot` block: what never changes within a generation."""
    book = snapshot.orders_of(type_id)
    keep = np.ones(len(book["order_id"]), dtype=bool)
    if station_id is not None:
        keep &= book["location_id"] == station_id
    sides: dict[str, Any] = {}
    for side, is_buy in (("buy", True), ("sell", False)):
        if order_type not in ("all", side):
            continue
        rows = np.flatnonzero(keep & (book["is_buy_order"] == is_buy))
        sides[side] = {
            "total_orders": len(rows),
            "total_volume": int(book["volume_remain"][rows].sum()),
            "orders": order_dicts(book, rows[:limit]),
        }
    names = _all_station_names()
    for side in sides.values():
        for order in side["orders"]:
            order["location_name"] = names.get(order["location_id"])
    return {
        "region_id": snapshot.meta.region_id,
        "type_id": type_id,
        "type_name": type_name,
        **sides,
    }


def _best(snapshot: Snapshot, type_id: int, station_id: int | None = None) -> dict[str, Any]:
    stations = snapshot.stations
    mask = stations["type_id"] == type_id
    if station_id is not None:
        mask &= stations["location_id"] == station_id
    buys = mask & stations["is_buy_order"]
    sells = mask & ~stations["is_buy_order"]
    best_bid = float(stations["best_price"][buys].max()) if buys.any() else None
    best_ask = float(stations["best_price"][sells].min()) if sells.any() else None
    spread = best_ask - best_bid if best_bid is not None and best_ask is not None else None
    return {
        "best_bid": best_bid,
        "best_ask": best_ask,
        "spread": spread,
        "spread_percent": round(spread / best_ask * 100, 2)
        if spread is not None and best_ask
        else None,
        "bid_volume": int(stations["volume"][buys].sum()),
        "ask_volume": int(stations["volume"][sells].sum()),
        "bid_orders": int(stations["orders"][buys].sum()),
        "ask_orders": int(stations["orders"][sells].sum()),
    }


def compare(type_id: int, region_ids: list[int]) -> dict[str, Any]:
    """Best bid, best ask, spread and volume of one type per region and at each hub."""
    name = market_type(type_id)
    hub_names = _station_names({HUB_STATIONS[r] for r in region_ids if r in HUB_STATIONS})
    regions: list[dict[str, Any]] = []
    for region_id in region_ids:
        snapshot = snapshot_of(region_id)
        hub = HUB_STATIONS.get(region_id)
        regions.append(
            {
                "region_id": region_id,
                "snapshot": publish.freshness(snapshot.meta),
                "region": _best(snapshot, type_id),
                "hub": (
                    {
                        "station_id": hub,
                        "station_name": hub_names.get(hub),
                        **_best(snapshot, type_id, hub),
                    }
                    if hub
                    else None
                ),
            }
        )
    return {"type_id": type_id, "type_name": name, "regions": regions}


def status() -> dict[str, Any]:
    """Per tracked region: snapshot age, last refresh result and error, next refresh, live
    progress; and the ESI client's budgets and circuit state."""
    from esi.client import shared_client

    regions = []
    names = _region_names()
    for region_id in settings.MARKET_REGIONS:
        meta = publish.current_meta(region_id)
        regions.append(
            {
                "region_id": region_id,
                "name": names.get(region_id),
                "snapshot": publish.freshness(meta) if meta else None,
                "refresh": publish.read_status(region_id),
                "progress": publish.read_progress(region_id),
            }
        )
    return {"regions": regions, "esi": shared_client().status()}
