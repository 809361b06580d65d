"""Where a trade happens: a region, a solar system, an NPC station or an Upwell structure.

`resolve_place` turns any location id a user gives (hauling from/to, station trading, the
calculator) into a `Place`; `place_mask` picks the rows of a snapshot's order book inside a
place. Everything is read from the SDE once per installed file (`per_installed_sde`) and kept
in memory as dicts and sorted numpy arrays, so a lookup never queries the database.

Id ranges (CCP's): regions 10000000-13999999, solar systems 30000000-33999999, NPC stations
60000000-63999999, Upwell structures from 1000000000000 on. A structure's name, system and
region are not in the SDE (they need an authenticated ESI call): its system and region are
taken from a snapshot that has orders at it, when one is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from market.snapshot import Snapshot
from sde.models import ChrFaction, CrpNPCCorporation, MapRegion, MapSolarSystem, StaStation
from sde.selectors import per_installed_sde

REGION_IDS = range(10_000_000, 14_000_000)
SYSTEM_IDS = range(30_000_000, 34_000_000)
STATION_IDS = range(60_000_000, 64_000_000)
STRUCTURE_ID_MIN = 1_000_000_000_000

PlaceKind = Literal["station", "structure", "system", "region"]


class UnknownPlace(LookupError):
    """A location id that is no region, system, NPC station or structure we know of."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Place:
    """A location to trade at. `system_id` is None for a region (and for a structure no
    snapshot has placed); `region_id` is None for a structure no snapshot has placed."""

    kind: PlaceKind
    id: int
    name: str
    region_id: int | None
    system_id: int | None


def is_structure(location_id: int) -> bool:
    return location_id >= STRUCTURE_ID_MIN


@dataclass(frozen=True)
class _Map:
    region_names: dict[int, str]
    system_names: dict[int, str]
    system_regions: dict[int, int]
    # NPC stations as sorted parallel arrays (searchsorted lookups, vectorised for engines).
    station_ids: npt.NDArray[np.int64]
    station_systems: npt.NDArray[np.int64]
    station_regions: npt.NDArray[np.int64]
    station_corps: npt.NDArray[np.int64]  # owner corporation, 0 if the SDE has none
    station_factions: npt.NDArray[np.int64]  # the owner corporation's faction, 0 if none
    station_names: dict[int, str]
    # station id - station_base -> index in the arrays above, -1 for no station: NPC station
    # ids span about 15,000 numbers, so this direct table beats a binary search.
    station_base: int
    station_slots: npt.NDArray[np.int32]
    corporation_names: dict[int, str]
    faction_names: dict[int, str]


@dataclass(frozen=True)
class StationOwner:
    """The NPC corporation that owns a station, and its faction (broker fees depend on the
    trader's standings toward both)."""

    corporation_id: int
    corporation_name: str
    faction_id: int | None
    faction_name: str | None


@per_installed_sde
def _map() -> _Map:
    stations = sorted(
        StaStation.objects.values_list(
            "station_id", "solar_system_id", "region_id", "corporation_id", "station_name"
        )
    )
    corporation_factions = {
        cid: fid or 0
        for cid, fid in CrpNPCCorporation.objects.values_list("corporation_id", "faction_id")
    }
    station_ids = np.array([s[0] for s in stations], dtype=np.int64)
    base = int(station_ids[0]) if len(station_ids) else 0
    slots = np.full(int(station_ids[-1]) - base + 1 if len(station_ids) else 0, -1, np.int32)
    slots[station_ids - base] = np.arange(len(station_ids), dtype=np.int32)
    return _Map(
        region_names={
            rid: name or f"Region {rid}"
            for rid, name in MapRegion.objects.values_list("region_id", "region_name")
        },
        system_names={
            sid: name or f"System {sid}"
            for sid, name in MapSolarSystem.objects.values_list(
                "solar_system_id", "solar_system_name"
            )
        },
        system_regions={
            sid: rid
            for sid, rid in MapSolarSystem.objects.values_list("solar_system_id", "region_id")
            if rid is not None
        },
        station_ids=station_ids,
        station_systems=np.array([s[1] or 0 for s in stations], dtype=np.int64),
        station_regions=np.array([s[2] or 0 for s in stations], dtype=np.int64),
        station_corps=np.array([s[3] or 0 for s in stations], dtype=np.int64),
        station_factions=np.array(
            [corporation_factions.get(s[3] or 0, 0) for s in stations], dtype=np.int64
        ),
        station_names={s[0]: s[4] or f"Station {s[0]}" for s in stations},
        station_base=base,
        station_slots=slots,
        corporation_names={
            cid: name or f"Corporation {cid}"
            for cid, name in CrpNPCCorporation.objects.values_list(
                "corporation_id", "corporation_name"
            )
        },
        faction_names={
            fid: name or f"Faction {fid}"
            for fid, name in ChrFaction.objects.values_list("faction_id", "faction_name")
        },
    )


def station_rows(
    location_ids: npt.ArrayLike,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Where each id is in `station_table()`, and which ids are NPC stations at all (the
    index of a non-station is meaningless)."""
    m = _map()
    offset = np.asarray(location_ids, dtype=np.int64) - m.station_base
    inside = (offset >= 0) & (offset < len(m.station_slots))
    at = np.where(inside, m.station_slots[np.where(inside, offset, 0)], -1)
    return np.maximum(at, 0).astype(np.intp), at >= 0


def station_table() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every NPC station of the SDE as sorted parallel arrays: station id, owner corporation
    and the owner's faction (0 where none): for lookups over whole order books."""
    m = _map()
    return m.station_ids, m.station_corps, m.station_factions


def station_systems(location_ids: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """The solar system of each NPC station id (-1 for a structure or an unknown id).

    Snapshot rows already carry their system; this is for stations with no orders."""
    at, known = station_rows(np.asarray(location_ids))
    return np.where(known, _map().station_systems[at], -1).astype(np.int32)


def location_systems(snapshot: Snapshot, location_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The solar system of each location: an NPC station's from the SDE, else (a structure)
    the system its orders in `snapshot` carry; -1 where neither knows it."""
    ids = np.asarray(location_ids, dtype=np.int64)
    systems = station_systems(ids).astype(np.int64)
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


def station_names() -> dict[int, str]:
    """Every NPC station's name ("Station <id>" where the SDE has none), by station id."""
    return _map().station_names


def station_owners(location_ids: Iterable[int]) -> list[StationOwner | None]:
    """Who owns each NPC station (None for a structure, an unknown id or a station the SDE
    gives no owner)."""
    m = _map()
    ids = np.fromiter(location_ids, dtype=np.int64)
    at, known = station_rows(ids)
    owners: list[StationOwner | None] = []
    for i, is_station in zip(at.tolist(), known.tolist(), strict=True):
        corporation = int(m.station_corps[i]) if is_station else 0
        if not corporation:
            owners.append(None)
            continue
        faction = int(m.station_factions[i]) or None
        owners.append(
            StationOwner(
                corporation,
                m.corporation_names.get(corporation, f"Corporation {corporation}"),
                faction,
                m.faction_names.get(faction, f"Faction {faction}") if faction else None,
            )
        )
    return owners


def station_owner(location_id: int) -> StationOwner | None:
    """Who owns one NPC station (see `station_owners`)."""
    return station_owners([location_id])[0]


def station_ids_in(place: Place) -> npt.NDArray[np.int64]:
    """Every NPC station inside a place (sorted ids; empty for a structure)."""
    m = _map()
    if place.kind == "region":
        return m.station_ids[m.station_regions == place.id]
    if place.kind == "system":
        return m.station_ids[m.station_systems == place.id]
    if place.kind == "station":
        return np.array([place.id], dtype=np.int64)
    return np.empty(0, dtype=np.int64)


def _structure(location_id: int, snapshots: Iterable[Snapshot]) -> Place:
    for snapshot in snapshots:
        rows = np.flatnonzero(snapshot.book["location_id"] == location_id)
        if len(rows):
            return Place(
                "structure",
                location_id,
                f"Structure {location_id}",
                snapshot.meta.region_id,
                int(snapshot.book["system_id"][rows[0]]),
            )
    return Place("structure", location_id, f"Structure {location_id}", None, None)


def resolve_place(location_id: int, *, snapshots: Iterable[Snapshot] = ()) -> Place:
    """The place a location id names, from the installed SDE.

    A structure is placed (system, region) by the first of `snapshots` with orders at it.
    Raises `UnknownPlace` for an id in no known range or missing from the SDE."""
    m = _map()
    if location_id in REGION_IDS:
        if location_id not in m.region_names:
            raise UnknownPlace(f"No region with id {location_id} in the installed SDE.")
        return Place("region", location_id, m.region_names[location_id], location_id, None)
    if location_id in SYSTEM_IDS:
        if location_id not in m.system_names:
            raise UnknownPlace(f"No solar system with id {location_id} in the installed SDE.")
        return Place(
            "system",
            location_id,
            m.system_names[location_id],
            m.system_regions.get(location_id),
            location_id,
        )
    if location_id in STATION_IDS:
        at, known = station_rows(np.array([location_id]))
        if not known[0]:
            raise UnknownPlace(f"No NPC station with id {location_id} in the installed SDE.")
        i = int(at[0])
        return Place(
            "station",
            location_id,
            m.station_names[location_id],
            int(m.station_regions[i]) or None,
            int(m.station_systems[i]) or None,
        )
    if is_structure(location_id):
        return _structure(location_id, snapshots)
    raise UnknownPlace(
        f"{location_id} is not a region, solar system, NPC station or structure id "
        "(regions are 10000000-13999999, systems 30000000-33999999, stations "
        "60000000-63999999, structures 1000000000000 and above)."
    )


def place_mask(snapshot: Snapshot, place: Place) -> npt.NDArray[np.bool_]:
    """Which rows of `snapshot.book` are inside the place (all of them for its region,
    none for another region)."""
    book = snapshot.book
    if place.kind == "region":
        return np.full(len(book["location_id"]), snapshot.meta.region_id == place.id)
    if place.kind == "system":
        return np.asarray(book["system_id"] == place.id)
    return np.asarray(book["location_id"] == place.id)
