"""`sde.places`, the one vocabulary for places, on the real SDE: what an id is, its name,
system, region and shown security; structures named by what ESI told a character; the JSON
every API answers; and the fee skills a character's levels make (`profit.fees`)."""

from __future__ import annotations

import numpy as np
import pytest

from characters import sections
from profit.engine import type_table
from profit.fees import (
    ACCOUNTING,
    ADVANCED_BROKER_RELATIONS,
    BROKER_RELATIONS,
    Skills,
    skills_of_character,
)
from profit.locations import resolve_place
from sde import places
from tests.conftest import sde_db
from tests.test_profit_locations import ORDERS, snapshot

pytestmark = sde_db

JITA, PERIMETER, THE_FORGE = 30000142, 30000144, 10000002
JITA_4_4 = 60003760
STRUCTURE = 1_035_466_617_946
UNSEEN = 1_035_466_617_947


def test_each_kind_of_id():
    station = places.resolve(JITA_4_4)
    assert (station.kind, station.system_id, station.region_id) == ("station", JITA, THE_FORGE)
    assert (station.system_name, station.region_name) == ("Jita", "The Forge")
    assert station.security == 0.9  # Jita's true security 0.945913, shown to one decimal
    system = places.resolve(PERIMETER)
    assert (system.kind, system.name, system.system_id) == ("system", "Perimeter", PERIMETER)
    assert system.security == 1.0  # 0.953123 rounds to 1.0
    region = places.resolve(THE_FORGE)
    assert (region.kind, region.name, region.region_id, region.system_id) == (
        "region",
        "The Forge",
        THE_FORGE,
        None,
    )
    assert region.security is None
    unseen = places.resolve(UNSEEN)
    assert (unseen.kind, unseen.name, unseen.system_id, unseen.region_id) == (
        "structure",
        f"Structure {UNSEEN}",
        None,
        None,
    )


def test_unknown_ids_raise_or_are_other():
    with pytest.raises(places.UnknownPlace, match="No NPC station with id 60999999"):
        places.resolve(60999999)
    other = places.describe(60999999)
    assert (other.kind, other.name, other.system_id, other.region_id) == (
        "other",
        "Location 60999999",
        None,
        None,
    )
    assert places.describe(12345).name == "Location 12345"
    assert places.describe(JITA) == places.resolve(JITA)


def test_a_structure_is_named_by_what_esi_told_and_placed_by_its_system():
    """`structure_place`: the name and system ESI gave a character (its own pages use it),
    the region, names and security from the SDE's system."""
    named = places.structure_place(
        STRUCTURE, places.Structure("Perimeter - Tranquility Trading Tower", PERIMETER)
    )
    assert named.name == "Perimeter - Tranquility Trading Tower"
    assert (named.system_id, named.region_id) == (PERIMETER, THE_FORGE)
    assert (named.system_name, named.region_name, named.security) == (
        "Perimeter",
        "The Forge",
        1.0,
    )
    # Nothing told: "Structure <id>", nowhere, and so everywhere else a structure is shown.
    assert places.structure_place(UNSEEN, None).name == f"Structure {UNSEEN}"
    assert places.resolve(STRUCTURE).name == f"Structure {STRUCTURE}"


def test_snapshot_placement_places_an_unplaced_structure():
    forge = snapshot(THE_FORGE, ORDERS)  # its orders put STRUCTURE in Perimeter
    placed = resolve_place(STRUCTURE, snapshots=[forge])
    assert (placed.name, placed.system_id, placed.region_id) == (
        f"Structure {STRUCTURE}",
        PERIMETER,
        THE_FORGE,
    )
    assert placed.security == 1.0


def test_location_names():
    names = places.location_names(np.array([JITA_4_4, STRUCTURE, JITA, 60999999]))
    assert names == {
        JITA_4_4: places.station_names()[JITA_4_4],
        STRUCTURE: f"Structure {STRUCTURE}",
        JITA: "Jita",
        60999999: "Location 60999999",
    }
    assert names[JITA_4_4].startswith("Jita IV - Moon 4")


def test_place_json_holds_both_former_shapes():
    shown = places.place_json(places.resolve(JITA_4_4))
    profit_shape = {"id", "kind", "name", "region_id", "system_id"}
    characters_shape = {"kind", "id", "name", "system_id", "region_id", "region_name"}
    assert profit_shape | characters_shape <= set(shown)
    assert shown["security"] == 0.9 and shown["system_name"] == "Jita"


def test_characters_show_places_in_their_own_words():
    """In space in a system is "solar_system" and "<name> (in space)"; a structure is named
    from the character's own data, and only there."""
    assert sections.place(JITA)["kind"] == "solar_system"
    assert sections.place(JITA)["name"] == "Jita (in space)"
    assert sections.place(THE_FORGE)["kind"] == "other"  # a region is no one's location
    own = {str(STRUCTURE): {"name": "Learned", "solar_system_id": PERIMETER}}
    assert sections.place(STRUCTURE)["name"] == f"Structure {STRUCTURE}"
    docked = sections.place(STRUCTURE, own)
    assert (docked["name"], docked["system_id"], docked["region_name"]) == (
        "Learned",
        PERIMETER,
        "The Forge",
    )
    assert sections.system_info(30999999) == {
        "id": 30999999,
        "name": "System 30999999",
        "security": None,
        "band": "unknown",
        "region_id": None,
        "region_name": None,
    }
    assert sections.npc_name(500001, "faction") == "Caldari State"
    assert sections.npc_name(1000035, "npc_corp") == "Caldari Navy"
    assert sections.npc_name(999, "faction") == "Faction 999"
    assert sections.npc_name(3008416, "agent") == "Agent 3008416"


def test_station_owner_names():
    owner = places.station_owner(JITA_4_4)  # Caldari Navy, of the Caldari State
    assert owner is not None
    assert (owner.corporation_name, owner.faction_name) == ("Caldari Navy", "Caldari State")


def test_type_groups_and_categories():
    table = type_table()
    assert table.group_name(34) == "Mineral"  # Tritanium
    assert table.group_name(-5) is None
    # Tritanium is a Material (4), a Rifter a Ship (6); an unknown type has none (-1).
    assert table.categories([34, 587, -5]).tolist() == [4, 6, -1]


def test_skills_of_a_character_are_bounded():
    skills = skills_of_character(
        {ACCOUNTING: 5, BROKER_RELATIONS: 7, ADVANCED_BROKER_RELATIONS: -1, 3443: 4},
        {500001: 12.5, 1000035: -3.25},
    )
    # Levels are 0..5 (7 -> 5, -1 -> 0), standings -10..10 (12.5 -> 10); Trade (3443) sets
    # no fee.
    assert skills == Skills(
        accounting=5,
        broker_relations=5,
        advanced_broker_relations=0,
        standings={500001: 10.0, 1000035: -3.25},
    )
    assert skills_of_character({}, None) == Skills()
