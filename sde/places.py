"""The one vocabulary for places: what a location id is, what it is called, and which solar
system, region and security it has.

A location id is a region, a solar system, an NPC station or an Upwell structure, told apart
by CCP's id ranges (regions 10000000-13999999, systems 30000000-33999999, NPC stations
60000000-63999999, structures from 1000000000000 on). Ask:

- `resolve(location_id) -> Place` (raises `UnknownPlace`), `describe(location_id) -> Place`
  (never raises: kind "other", "Location <id>" for what is not known), `location_names(ids)`;
- `place_json(place)`: the JSON every API answers for a place (`sde.api.serializers.PlaceOut`);
- the NPC station tables the engines use over whole order books: `station_rows`,
  `station_table`, `station_systems`, `station_ids_in`, `station_owners`;
- `region_names()`, `system_names()`, `station_names()`, `corporation_name`, `faction_name`.

The SDE part is read once per installed SDE file (`per_installed_sde`) and kept in memory as
dicts and sorted numpy arrays, so a lookup never queries the database. A structure is not in
the SDE: its name and system need an authenticated ESI call (`/universe/structures/{id}/`),
and a character is told it only for structures it may dock at. So `resolve` names a
structure as the deployment knows it (the lookup the market app registers: the name a member
shared, the system its orders gave), else "Structure <id>" with no system; a character's own
pages name its structures from its own data (`structure_place(id, Structure(name, system))`,
`characters.sections.place`), and placing a structure by a market snapshot's orders is
`profit.locations.resolve_place`'s job.

docs/places.md says how to add a new kind of place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from sde.ids import REGION_IDS, STATION_IDS, STRUCTURE_ID_MIN, SYSTEM_IDS
from sde.models import ChrFaction, CrpNPCCorporation, MapRegion, MapSolarSystem, StaStation
from sde.selectors import display_security, per_installed_sde

PlaceKind = Literal["region", "system", "station", "structure", "other"]
KINDS: tuple[PlaceKind, ...] = ("region", "system", "station", "structure", "other")


class UnknownPlace(LookupError):
    """A location id that is no region, system, NPC station or structure we know of."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Place:
    """A location and what it is called. `system_id` (and `system_name`, `security`) is None
    for a region and for a structure nobody has placed; `region_id` is None for a structure
    nobody has placed. `security` is the one-decimal security status the game shows for the
    place's solar system."""

    kind: PlaceKind
    id: int
    name: str
    region_id: int | None
    system_id: int | None
    region_name: str | None = None
    system_name: str | None = None
    security: float | None = None


@dataclass(frozen=True)
class StationOwner:
    """The NPC corporation that owns a station, and its faction (broker fees depend on the
    trader's standings toward both)."""

    corporation_id: int
    corporation_name: str
    faction_id: int | None
    faction_name: str | None


@dataclass(frozen=True)
class Structure:
    """What ESI told about an Upwell structure (either may be unknown)."""

    name: str | None
    system_id: int | None


def is_structure(location_id: int) -> bool:
    return location_id >= STRUCTURE_ID_MIN


class StructureDirectory(Protocol):
    """What the deployment knows of the structures (their names once a member shares their
    markets, their systems once their orders or ESI placed them): the market app registers
    its own at start (`market.structures`), since the SDE has no structures and sde imports
    no app above it."""

    def learned(self, structure_id: int) -> Structure | None: ...

    def names(self) -> dict[int, str]: ...


class _NothingKnown:
    def learned(self, structure_id: int) -> Structure | None:
        return None

    def names(self) -> dict[int, str]:
        return {}


_structures: StructureDirectory = _NothingKnown()


def set_structures(directory: StructureDirectory) -> None:
    global _structures
    _structures = directory


def structure_names() -> dict[int, str]:
    """Every structure the deployment can name (the ones whose markets members share)."""
    return _structures.names()


# Shown with every structure: its owner decides who may dock (and so who may trade there).
DOCKING_NOTE = "Player structure: docking may be restricted by its owner."


# --- The SDE, once per installed file ------------------------------------------------------


@dataclass(frozen=True)
class _Map:
    region_names: dict[int, str]
    system_names: dict[int, str]
    system_regions: dict[int, int]
    system_security: dict[int, float | None]  # true security, as the SDE has it
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
    systems = list(
        MapSolarSystem.objects.values_list(
            "solar_system_id", "solar_system_name", "region_id", "security"
        )
    )
    station_ids = np.array([s[0] for s in stations], dtype=np.int64)
    base = int(station_ids[0]) if len(station_ids) else 0
    slots = np.full(int(station_ids[-1]) - base + 1 if len(station_ids) else 0, -1, np.int32)
    slots[station_ids - base] = np.arange(len(station_ids), dtype=np.int32)
    return _Map(
        region_names={
            rid: name or f"Region {rid}"
            for rid, name in MapRegion.objects.values_list("region_id", "region_name")
        },
        system_names={sid: name or f"System {sid}" for sid, name, _, _ in systems},
        system_regions={sid: rid for sid, _, rid, _ in systems if rid is not None},
        system_security={sid: security for sid, _, _, security in systems},
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


def region_names() -> dict[int, str]:
    """Every region's SDE name ("Region <id>" where it has none), by region id."""
    return _map().region_names


def system_names() -> dict[int, str]:
    """Every solar system's name ("System <id>" where the SDE has none), by system id."""
    return _map().system_names


def station_names() -> dict[int, str]:
    """Every NPC station's name ("Station <id>" where the SDE has none), by station id."""
    return _map().station_names


def corporation_name(corporation_id: int) -> str:
    """An NPC corporation's name ("Corporation <id>" for one the SDE does not know)."""
    return _map().corporation_names.get(corporation_id, f"Corporation {corporation_id}")


def faction_name(faction_id: int) -> str:
    """A faction's name ("Faction <id>" for one the SDE does not know)."""
    return _map().faction_names.get(faction_id, f"Faction {faction_id}")


# --- NPC stations as arrays ----------------------------------------------------------------


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
                corporation_name(corporation),
                faction,
                faction_name(faction) if faction else None,
            )
        )
    return owners


def station_owner(location_id: int) -> StationOwner | None:
    """Who owns one NPC station (see `station_owners`)."""
    return station_owners([location_id])[0]


# --- Places --------------------------------------------------------------------------------


def _in_system(
    kind: PlaceKind, location_id: int, name: str, system_id: int | None, region_id: int | None
) -> Place:
    """A place inside a solar system (or nowhere known), with the system's names and
    security filled in from the SDE."""
    m = _map()
    if system_id is not None and region_id is None:
        region_id = m.system_regions.get(system_id)
    return Place(
        kind,
        location_id,
        name,
        region_id,
        system_id,
        region_name=m.region_names.get(region_id) if region_id is not None else None,
        system_name=m.system_names.get(system_id) if system_id is not None else None,
        security=display_security(m.system_security.get(system_id))
        if system_id is not None
        else None,
    )


def structure_place(
    structure_id: int, learned: Structure | None, *, system_id: int | None = None
) -> Place:
    """A structure as a place: the name and system ESI gave (`learned`), else
    "Structure <id>" and `system_id` (when the caller placed it some other way)."""
    if learned is not None and learned.system_id is not None:
        system_id = learned.system_id
    name = (learned.name if learned else None) or f"Structure {structure_id}"
    return _in_system("structure", structure_id, name, system_id, None)


def resolve(location_id: int) -> Place:
    """The place a location id names. Raises `UnknownPlace` for an id in no known range or
    missing from the SDE (a structure is always known: "Structure <id>" when unnamed)."""
    m = _map()
    if location_id in REGION_IDS:
        if location_id not in m.region_names:
            raise UnknownPlace(f"No region with id {location_id} in the installed SDE.")
        name = m.region_names[location_id]
        return Place("region", location_id, name, location_id, None, region_name=name)
    if location_id in SYSTEM_IDS:
        if location_id not in m.system_names:
            raise UnknownPlace(f"No solar system with id {location_id} in the installed SDE.")
        return _in_system("system", location_id, m.system_names[location_id], location_id, None)
    if location_id in STATION_IDS:
        at, known = station_rows(np.array([location_id]))
        if not known[0]:
            raise UnknownPlace(f"No NPC station with id {location_id} in the installed SDE.")
        i = int(at[0])
        return _in_system(
            "station",
            location_id,
            m.station_names[location_id],
            int(m.station_systems[i]) or None,
            int(m.station_regions[i]) or None,
        )
    if is_structure(location_id):
        return structure_place(location_id, _structures.learned(location_id))
    raise UnknownPlace(
        f"{location_id} is not a region, solar system, NPC station or structure id "
        "(regions are 10000000-13999999, systems 30000000-33999999, stations "
        "60000000-63999999, structures 1000000000000 and above)."
    )


def other_place(location_id: int) -> Place:
    """A location id nothing here knows: "Location <id>", nowhere."""
    return Place("other", location_id, f"Location {location_id}", None, None)


def describe(location_id: int) -> Place:
    """`resolve`, but an unknown id is an "other" place named "Location <id>"."""
    try:
        return resolve(location_id)
    except UnknownPlace:
        return other_place(location_id)


def location_names(location_ids: npt.ArrayLike) -> dict[int, str]:
    """The name of each location id: an NPC station's from the SDE, "Structure <id>" for a
    structure, else the place's name ("Location <id>" if none)."""
    stations = station_names()
    names: dict[int, str] = {}
    for location in np.unique(np.asarray(location_ids, dtype=np.int64)).tolist():
        names[location] = stations.get(location) or describe(location).name
    return names


def place_json(place: Place) -> dict[str, Any]:
    """A place as every API answers it (`sde.api.serializers.PlaceOut`)."""
    return {
        "id": place.id,
        "kind": place.kind,
        "name": place.name,
        "region_id": place.region_id,
        "region_name": place.region_name,
        "system_id": place.system_id,
        "system_name": place.system_name,
        "security": place.security,
        "docking_note": DOCKING_NOTE if place.kind == "structure" else None,
    }
