"""Small hand-built order books for the profit engine tests (real ids from the SDE)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import numpy as np

from market import publish
from market.snapshot import COLUMNS, RANGE_CODES, Snapshot, SnapshotMeta

FORGE, DOMAIN = 10000002, 10000043
JITA_44, JITA = 60003760, 30000142  # Jita IV - Moon 4 - Caldari Navy Assembly Plant
PERIMETER_STORAGE, PERIMETER = 60000358, 30000144  # Perimeter VI - Ytiri Storage
JITA_STRUCTURE = 1042508032148  # a real Upwell structure in Perimeter (ESI samples)
AMARR_EFA, AMARR = 60008494, 30002187  # Amarr VIII (Oris) - Emperor Family Academy
OHKUNEN_OUTPOST, OHKUNEN = 60000484, 30000204  # a low-sec station in The Forge (0.38)
ZIONA_FACTORY, ZIONA = 60001012, 30002203  # Ziona VII - Moon 1, a minor station in Domain
TRITANIUM, PYERITE, DOMINIX, PLEX, DAMAGE_CONTROL_II = 34, 35, 645, 44992, 2048

SYSTEMS = {
    JITA_44: JITA,
    PERIMETER_STORAGE: PERIMETER,
    JITA_STRUCTURE: PERIMETER,
    AMARR_EFA: AMARR,
    OHKUNEN_OUTPOST: OHKUNEN,
    ZIONA_FACTORY: ZIONA,
}

_ids = itertools.count(7_000_000_000)


def order(
    type_id: int,
    price: float,
    volume: int,
    *,
    buy: bool = False,
    location: int = JITA_44,
    min_volume: int = 1,
    order_id: int | None = None,
    reach: str | None = None,
) -> dict[str, Any]:
    """One order; `reach` is a buy order's ESI range ("station" unless given; sell orders
    are "region", as in the game)."""
    return {
        "order_id": next(_ids) if order_id is None else order_id,
        "type_id": type_id,
        "location_id": location,
        "system_id": SYSTEMS[location],
        "is_buy_order": buy,
        "price": price,
        "volume_remain": volume,
        "volume_total": volume,
        "min_volume": min_volume,
        "duration": 90,
        "issued": np.datetime64("2026-11-20T10:00:00", "s"),
        "range": RANGE_CODES[reach] if reach else (-1 if buy else 32767),
        "page": 1,
    }


def meta(region_id: int, generation: str = "g1") -> SnapshotMeta:
    return SnapshotMeta(
        region_id=region_id,
        generation=generation,
        source="esi",
        esi_last_modified="2026-11-22T02:00:00+00:00",
        esi_expires="2026-11-22T02:05:00+00:00",
        fetched_at="2026-11-22T02:00:05+00:00",
        pages=1,
        orders=0,
    )


def fresh_meta(region_id: int, orders: int) -> SnapshotMeta:
    """The meta of a snapshot fetched now, with a new generation (to publish it), ESI's
    answer valid for ever: never stale in a test."""
    return SnapshotMeta(
        region_id=region_id,
        generation=publish.new_generation(),
        source="esi",
        esi_last_modified="2026-11-22T02:00:00+00:00",
        esi_expires="2099-01-01T00:00:00+00:00",
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        pages=1,
        orders=orders,
    )


def columns(orders: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {
        name: np.array([o[name] for o in orders], dtype=dtype) for name, dtype in COLUMNS.items()
    }


def snapshot(region_id: int, orders: list[dict[str, Any]], generation: str = "g1") -> Snapshot:
    return Snapshot.build(meta(region_id, generation), columns(orders))
