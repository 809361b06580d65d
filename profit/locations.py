"""Places as the market sees them: the part of "where" that needs a market snapshot.

What a location id is, what it is called and where it lies is `sde.places` (docs/places.md);
this module adds what only an order book knows:

- `resolve_place(location_id, snapshots=...)`: `sde.places.resolve`, and a structure nobody
  has placed (its system unknown to ESI's answers so far) is placed by the first snapshot
  with orders at it;
- `place_mask(snapshot, place)`: the rows of a snapshot's order book inside a place;
- `location_systems(snapshot, ids)`: the solar system of each station or structure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from market.snapshot import Snapshot
from sde import places
from sde.places import Place


def _placed_by(location_id: int, snapshots: Iterable[Snapshot]) -> tuple[int, int] | None:
    """(system, region) of a location from the first snapshot with orders there."""
    for snapshot in snapshots:
        rows = np.flatnonzero(snapshot.book["location_id"] == location_id)
        if len(rows):
            return int(snapshot.book["system_id"][rows[0]]), snapshot.meta.region_id
    return None


def resolve_place(location_id: int, *, snapshots: Iterable[Snapshot] = ()) -> Place:
    """The place a location id names (`sde.places.resolve`; raises `UnknownPlace`).

    A structure whose system no ESI answer gave is placed (system, region) by the first of
    `snapshots` with orders at it."""
    place = places.resolve(location_id)
    if place.kind != "structure" or place.system_id is not None:
        return place
    found = _placed_by(location_id, snapshots)
    if found is None:
        return place
    system_id, region_id = found
    placed = places.structure_place(location_id, None, system_id=system_id)
    region_name = places.region_names().get(region_id)
    return replace(placed, name=place.name, region_id=region_id, region_name=region_name)


def location_systems(snapshot: Snapshot, location_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The solar system of each location: an NPC station's from the SDE, else (a structure)
    the system its orders in `snapshot` carry; -1 where neither knows it."""
    ids = np.asarray(location_ids, dtype=np.int64)
    systems = places.station_systems(ids).astype(np.int64)
    unknown = systems < 0
    if unknown.any():
        book = snapshot.book
        wanted = np.unique(ids[unknown])
        rows = np.flatnonzero(np.isin(book["location_id"], wanted))
        locations, first = np.unique(book["location_id"][rows], return_index=True)
        if len(locations):
            found = book["system_id"][rows][first].astype(np.int64)
            pos = np.minimum(np.searchsorted(locations, ids[unknown]), len(locations) - 1)
            systems[unknown] = np.where(locations[pos] == ids[unknown], found[pos], -1)
    return systems


def place_mask(snapshot: Snapshot, place: Place) -> npt.NDArray[np.bool_]:
    """Which rows of `snapshot.book` are inside the place (all of them for its region,
    none for another region)."""
    book = snapshot.book
    if place.kind == "region":
        return np.full(len(book["location_id"]), snapshot.meta.region_id == place.id)
    if place.kind == "system":
        return np.asarray(book["system_id"] == place.id)
    return np.asarray(book["location_id"] == place.id)
