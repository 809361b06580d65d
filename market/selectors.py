"""Reads of the market, shared by the API and the pages. Every answer names its snapshot.

Nothing here calls ESI for order books: they come from published snapshots. History and
prices go through the ESI client's Expires cache (ESI refreshes them daily and hourly).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from esi.client import shared_client
from market import books, plex, publish, reach, structures
from market.hubs import HUB_STATIONS
from market.snapshot import Arrays, Snapshot, order_dicts
from sde import places
from sde.models import InvType
from sde.selectors import per_installed_sde


class MarketNotFound(Exception):
    """An unknown region or type (a 404)."""


class NoSnapshot(Exception):
    """The region is tracked but has no snapshot yet (a 503: try again shortly)."""


class NotInThisMarket(MarketNotFound):
    """PLEX asked of a regional market, or another type of the global PLEX market (a 404
    whose message says where the type trades: `market.plex`)."""


def tracked() -> list[int]:
    return list(settings.MARKET_REGIONS)


@per_installed_sde
def region_names() -> dict[int, str | None]:
    """Every region's name (`sde.places`), and "Global PLEX market" for region 19000001
    (named GPMR-01 in recent SDE builds, missing from those before July 2025)."""
    return named_regions(places.region_names().items())


def named_regions(rows: Iterable[tuple[int, str | None]]) -> dict[int, str | None]:
    """Region names by id from SDE rows, the global PLEX market's included and so named."""
    names = {int(region_id): plex.region_name(region_id, name) for region_id, name in rows}
    names[plex.PLEX_REGION_ID] = plex.PLEX_REGION_NAME
    return names


@per_installed_sde
def _market_type_names() -> dict[int, str]:
    """Every published type with a market group (what can be traded), by type id."""
    rows = InvType.objects.filter(
        published=True, market_group__isnull=False, type_name__isnull=False
    ).values_list("type_id", "type_name")
    return {type_id: name for type_id, name in rows if name}


def in_this_market(region_id: int, type_id: int) -> None:
    """Refuse PLEX in a regional market and other types in the global PLEX market."""
    reason = plex.misplaced(region_id, type_id)
    if reason is not None:
        raise NotInThisMarket(reason)


def tracked_region(region_id: int) -> None:
    if region_id not in region_names():
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
    snapshot = books.view(region_id)
    if snapshot is None:
        raise NoSnapshot(
            f"No market snapshot of region {region_id} yet; the first refresh is on its way."
        )
    return snapshot


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
    tracked_region(region_id)
    in_this_market(region_id, type_id)
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
    """`type_orders` without its `snapshot` block: what never changes within a generation.

    A station's book (`station_id`) holds its own sell orders and every buy order a seller
    there can fill: its own bids and the ranged bids of other stations that reach it
    (`market.reach`), sorted in by price. Those carry `elsewhere: true`, their system's name
    and the jumps from it; the buy side counts them in `elsewhere_orders`/`elsewhere_volume`.
    """
    book = snapshot.orders_of(type_id)
    is_buy = book["is_buy_order"]
    at = np.ones(len(book["order_id"]), dtype=bool)
    reaching = np.zeros(len(book["order_id"]), dtype=bool)
    system_id: int | None = None
    if station_id is not None:
        at = book["location_id"] == station_id
        system_id = station_system(snapshot, station_id)
        bids = np.flatnonzero(is_buy & ~at)
        if len(bids):
            reaching[bids] = reach.reaching_rows(
                book, bids, station_id, system_id or -1, region_id=snapshot.meta.region_id
            )
    sides: dict[str, Any] = {}
    for side, buy in (("buy", True), ("sell", False)):
        if order_type not in ("all", side):
            continue
        # The book is sorted by price within a side, so the union keeps the price order.
        rows = np.flatnonzero((is_buy == buy) & (at | reaching))
        sides[side] = {
            "total_orders": len(rows),
            "total_volume": int(book["volume_remain"][rows].sum()),
            "orders": order_dicts(book, rows[:limit]),
        }
        if station_id is not None:
            _mark_elsewhere(book, sides[side], rows[:limit], reaching, system_id)
            far = rows[reaching[rows]]
            sides[side]["elsewhere_orders"] = len(far)
            sides[side]["elsewhere_volume"] = int(book["volume_remain"][far].sum())
    names = places.station_names()
    for side in sides.values():
        for order in side["orders"]:
            order["location_name"] = names.get(order["location_id"])
    return {
        "region_id": snapshot.meta.region_id,
        "type_id": type_id,
        "type_name": type_name,
        **sides,
    }


def station_system(snapshot: Snapshot, station_id: int) -> int | None:
    """The solar system of a station (SDE), or of a structure (from its orders in the
    snapshot); None when neither knows it."""
    system = int(places.station_systems([station_id])[0])
    if system >= 0:
        return system
    found = snapshot.book["system_id"][snapshot.book["location_id"] == station_id]
    return int(found[0]) if len(found) else None


def _mark_elsewhere(
    book: Arrays,
    side: dict[str, Any],
    rows: npt.NDArray[np.int64],
    reaching: npt.NDArray[np.bool_],
    system_id: int | None,
) -> None:
    """Mark the shown orders of a station's book that sit elsewhere and reach the station."""
    far = reaching[rows]
    jumps = np.full(len(rows), -1, dtype=np.int64)
    if far.any() and system_id is not None:
        jumps[far] = reach.jumps_to(book["system_id"][rows[far]], system_id)
    systems = places.system_names()
    for order, elsewhere, hops in zip(side["orders"], far.tolist(), jumps.tolist(), strict=True):
        order["elsewhere"] = bool(elsewhere)
        if elsewhere:
            order["system_name"] = systems.get(order["system_id"])
            order["jumps"] = int(hops) if hops >= 0 else None


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


def best_of(snapshot: Snapshot, type_id: int) -> dict[str, Any]:
    """One region's entry of `compare` without its `snapshot` block: the best prices and
    volumes across the region, at its trade hub station (None when it has none) and at each
    shared structure of the region with orders of the type (docs/structures.md)."""
    hub = HUB_STATIONS.get(snapshot.meta.region_id)
    at_structures = []
    for structure_id in structures.shared_in(snapshot.meta.region_id):
        best = _best(snapshot, type_id, structure_id)
        if best["bid_orders"] or best["ask_orders"]:
            where = places.resolve(structure_id)
            at_structures.append(
                {
                    "structure_id": structure_id,
                    "structure_name": where.name,
                    "system_name": where.system_name,
                    "security": where.security,
                    **best,
                }
            )
    return {
        "structures": at_structures,
        "region": _best(snapshot, type_id),
        "hub": (
            {
                "station_id": hub,
                "station_name": places.station_names().get(hub),
                **_best(snapshot, type_id, hub),
            }
            if hub
            else None
        ),
    }


def compare(type_id: int, region_ids: list[int]) -> dict[str, Any]:
    """Best bid, best ask, spread and volume of one type per region and at each hub.

    The regions that cannot hold the type (PLEX in a regional market, another type in the
    global PLEX market) are left out and `notice` says why; when none is left, a 404 says so.
    """
    name = market_type(type_id)
    for region_id in region_ids:
        tracked_region(region_id)
    wrong = [r for r in region_ids if plex.misplaced(r, type_id)]
    notice = plex.misplaced(wrong[0], type_id) if wrong else None
    region_ids = [r for r in region_ids if r not in wrong]
    if notice and not region_ids:
        raise NotInThisMarket(notice)
    regions: list[dict[str, Any]] = []
    for region_id in region_ids:
        snapshot = snapshot_of(region_id)
        regions.append(
            {
                "region_id": region_id,
                "snapshot": publish.freshness(snapshot.meta),
                **best_of(snapshot, type_id),
            }
        )
    return {"type_id": type_id, "type_name": name, "regions": regions, "notice": notice}


def status() -> dict[str, Any]:
    """Per tracked region: snapshot age, last refresh result and error, next refresh, live
    progress; and the ESI client's budgets and circuit state."""
    regions = []
    names = region_names()
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
