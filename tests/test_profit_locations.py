"""Places on the real SDE: the five hub stations, a system, a region, a structure (placed by
a snapshot when one has orders there), unknown ids, and which snapshot rows a place holds.

`profit.locations` is `sde.places` plus what needs a snapshot (tests/test_places.py covers
the rest)."""

from datetime import UTC, datetime

import numpy as np
import pytest

from market.hubs import HUB_STATIONS
from market.snapshot import COLUMNS, Snapshot, SnapshotMeta
from profit.locations import place_mask, resolve_place
from sde.models import StaStation
from sde.places import Place, UnknownPlace, station_ids_in, station_owner, station_systems
from tests.conftest import sde_db

JITA, PERIMETER, THE_FORGE, DOMAIN = 30000142, 30000144, 10000002, 10000043
JITA_4_4 = 60003760
STRUCTURE = 1_035_466_617_946

pytestmark = sde_db


@pytest.mark.parametrize(
    ("station_id", "name", "system_id", "region_id", "security"),
    [
        # The security shown is the system's true security rounded to one decimal:
        # Jita 0.945913 -> 0.9, Amarr 1.0, Dodixie 0.868407 -> 0.9, Rens 0.894582 -> 0.9,
        # Hek 0.8.
        (60003760, "Jita IV - Moon 4 - Caldari Navy Assembly Plant", 30000142, 10000002, 0.9),
        (60008494, "Amarr VIII (Oris) - Emperor Family Academy", 30002187, 10000043, 1.0),
        (
            60011866,
            "Dodixie IX - Moon 20 - Federation Navy Assembly Plant",
            30002659,
            10000032,
            0.9,
        ),
        (60004588, "Rens VI - Moon 8 - Brutor Tribe Treasury", 30002510, 10000030, 0.9),
        (60005686, "Hek VIII - Moon 12 - Boundless Creation Factory", 30002053, 10000042, 0.8),
    ],
)
def test_the_five_hub_stations(station_id, name, system_id, region_id, security):
    place = resolve_place(station_id)
    assert (place.kind, place.id, place.region_id, place.system_id) == (
        "station",
        station_id,
        region_id,
        system_id,
    )
    assert place.security == security
    # The SDE's name (Amarr's "(Oris)" is a moon name some SDE builds leave out).
    assert place.name.replace(" (Oris)", "") == name.replace(" (Oris)", "")
    assert HUB_STATIONS[region_id] == station_id


def test_a_system_and_a_region():
    # Jita's true security 0.945913 shows as 0.9.
    assert resolve_place(JITA) == Place(
        "system", JITA, "Jita", THE_FORGE, JITA, "The Forge", "Jita", 0.9
    )
    assert resolve_place(THE_FORGE) == Place(
        "region", THE_FORGE, "The Forge", THE_FORGE, None, "The Forge"
    )


def test_a_structure_without_a_snapshot_has_no_region():
    assert resolve_place(STRUCTURE) == Place(
        "structure", STRUCTURE, f"Structure {STRUCTURE}", None, None
    )


def snapshot(region_id: int, rows: list[tuple[int, int, int, bool, float]]) -> Snapshot:
    """A tiny real snapshot: (type_id, location_id, system_id, is_buy, price) per order."""
    n = len(rows)
    columns = {name: np.zeros(n, dtype=dtype) for name, dtype in COLUMNS.items()}
    columns["order_id"] = np.arange(1, n + 1, dtype=np.int64)
    columns["type_id"] = np.array([r[0] for r in rows], dtype=np.int32)
    columns["location_id"] = np.array([r[1] for r in rows], dtype=np.int64)
    columns["system_id"] = np.array([r[2] for r in rows], dtype=np.int32)
    columns["is_buy_order"] = np.array([r[3] for r in rows], dtype=np.bool_)
    columns["price"] = np.array([r[4] for r in rows], dtype=np.float64)
    columns["volume_remain"] = np.full(n, 10, dtype=np.int64)
    columns["volume_total"] = np.full(n, 10, dtype=np.int64)
    columns["duration"] = np.full(n, 90, dtype=np.int16)
    columns["issued"] = np.full(n, np.datetime64("2026-11-22T00:00:00"), dtype="datetime64[s]")
    meta = SnapshotMeta(
        region_id=region_id,
        generation="test",
        source="demo",
        esi_last_modified=None,
        esi_expires=None,
        fetched_at=datetime(2026, 11, 22, tzinfo=UTC).isoformat(),
        pages=1,
        orders=n,
    )
    return Snapshot.build(meta, columns)


ORDERS = [
    (34, JITA_4_4, JITA, False, 5.0),
    (34, JITA_4_4, JITA, True, 4.0),
    (34, 60000358, PERIMETER, False, 5.1),  # Perimeter VI - Ytiri Storage
    (35, STRUCTURE, PERIMETER, False, 9.0),  # an Upwell structure in Perimeter
    (35, 60000682, 30000145, True, 8.0),  # New Caldari IV - Moon 1 - Poksu Mineral Group ...
]


def test_a_structure_is_placed_by_a_snapshot_with_orders_there():
    forge = snapshot(THE_FORGE, ORDERS)
    domain = snapshot(DOMAIN, [(34, 60008494, 30002187, False, 6.0)])
    place = resolve_place(STRUCTURE, snapshots=[domain, forge])
    # Perimeter's true security 0.953123 shows as 1.0.
    assert place == Place(
        "structure",
        STRUCTURE,
        f"Structure {STRUCTURE}",
        THE_FORGE,
        PERIMETER,
        "The Forge",
        "Perimeter",
        1.0,
    )


@pytest.mark.parametrize(
    ("location_id", "message"),
    [
        (60999999, "No NPC station with id 60999999"),
        (30999999, "No solar system with id 30999999"),
        (13999999, "No region with id 13999999"),
        (12345, "12345 is not a region, solar system, NPC station or structure id"),
        (-1, "-1 is not a region"),
        (70_000_000, "70000000 is not a region"),
    ],
)
def test_unknown_ids_are_refused_with_a_message(location_id, message):
    with pytest.raises(UnknownPlace, match=message) as caught:
        resolve_place(location_id)
    assert caught.value.message.startswith(message)


def test_place_mask_picks_the_rows_inside_a_place():
    forge = snapshot(THE_FORGE, ORDERS)
    book = forge.book

    def rows(place: Place) -> list[tuple[int, int]]:
        mask = place_mask(forge, place)
        assert mask.dtype == np.bool_ and mask.shape == book["location_id"].shape
        types, locations = book["type_id"][mask].tolist(), book["location_id"][mask].tolist()
        return sorted(zip(types, locations, strict=True))

    assert rows(resolve_place(THE_FORGE)) == sorted((r[0], r[1]) for r in ORDERS)
    assert rows(resolve_place(DOMAIN)) == []  # another region's snapshot holds none of it
    assert rows(resolve_place(JITA_4_4)) == [(34, JITA_4_4), (34, JITA_4_4)]
    assert rows(resolve_place(PERIMETER)) == [(34, 60000358), (35, STRUCTURE)]
    assert rows(resolve_place(STRUCTURE, snapshots=[forge])) == [(35, STRUCTURE)]


def test_station_systems_for_stations_without_orders():
    ids = np.array([JITA_4_4, 60008494, STRUCTURE, 60999999, 60000358])
    assert station_systems(ids).tolist() == [JITA, 30002187, -1, -1, PERIMETER]
    assert station_systems(np.array([], dtype=np.int64)).tolist() == []


def test_station_ids_in_a_place():
    in_jita = station_ids_in(resolve_place(JITA))
    expected = set(StaStation.objects.filter(solar_system_id=JITA).values_list("pk", flat=True))
    assert set(in_jita.tolist()) == expected and JITA_4_4 in expected
    in_forge = station_ids_in(resolve_place(THE_FORGE))
    assert set(in_jita.tolist()) < set(in_forge.tolist())
    assert set(station_systems(in_forge).tolist()) >= {JITA, PERIMETER}
    assert station_ids_in(resolve_place(JITA_4_4)).tolist() == [JITA_4_4]
    assert station_ids_in(resolve_place(STRUCTURE)).tolist() == []


def test_station_owner():
    owner = station_owner(60008494)
    assert owner is not None
    assert (owner.corporation_name, owner.faction_name) == ("Emperor Family", "Amarr Empire")
    assert station_owner(STRUCTURE) is None
    assert station_owner(60999999) is None
