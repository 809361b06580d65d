"""Reading pastes from the game: one table of real-looking lines per format, on the real SDE.

Each case gives what a trader expects from the paste, worked out from the format by hand:
(line number, format, the SDE's name, quantity). The type ids are looked up in the SDE
file directly (`type_id`), not through the code under test. The name tables are read from
the SDE file with sqlite3, as the item search reads it, so no database fixture is needed;
`sde_installed` installs the bundled SDE first if the file is missing.
"""

from __future__ import annotations

import sqlite3
import time
from functools import cache
from typing import Any

import pytest
from django.conf import settings

from appraisal import parsing
from appraisal.formats import Reading
from appraisal.formats.blocks import FITTING_SECTIONS, Block, read_in_block, start_block
from appraisal.formats.lines import read_cargo_scan, read_listing
from appraisal.formats.numbers import MAX_QUANTITY, quantity
from appraisal.formats.tables import cells, read_dscan, read_view_contents
from appraisal.names import match_name, names
from appraisal.parsing import FORMATS, Parsed, parse
from tests.conftest import ensure_sde

Expected = tuple[int, str, str, int]  # line, format, SDE name, quantity


@pytest.fixture(autouse=True, scope="module")
def sde_installed() -> None:
    ensure_sde()


@cache
def type_id(name: str) -> int:
    """The id of the published type named `name`, straight from the SDE file (a market type
    first where two share the name)."""
    conn = sqlite3.connect(f"file:{settings.SDE_PATH}?mode=ro", uri=True)
    try:
        row = conn.execute(
            'SELECT "typeID" FROM "invTypes" WHERE "typeName" = ? AND "published" = 1 '
            'ORDER BY "marketGroupID" IS NULL, "typeID" LIMIT 1',
            (name,),
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, f"{name!r} is no published type of the installed SDE"
    return int(row[0])


def summary(parsed: Parsed) -> list[Expected]:
    return [(item.line, item.parser, item.name, item.quantity) for item in parsed.items]


def check(text: str, expected: list[Expected], unparsed: list[int] | None = None) -> Parsed:
    parsed = parse(text)
    assert summary(parsed) == expected
    assert [item.type_id for item in parsed.items] == [type_id(e[2]) for e in expected]
    assert [u.line for u in parsed.unparsed] == (unparsed or [])
    return parsed


def one(text: str) -> parsing.Item:
    parsed = parse(text)
    assert parsed.unparsed == [] and len(parsed.items) == 1, parsed
    return parsed.items[0]


# --- Quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("10", 10),
        ("1,000", 1000),
        ("1.000", 1000),  # a dot before three digits groups thousands
        ("1'000", 1000),
        ("1\u2019000", 1000),
        ("1 000", 1000),
        ("1\u00a0000", 1000),
        ("1\u202f000", 1000),
        ("1\u2009000", 1000),
        ("1.000.000", 1_000_000),
        ("9'584'701", 9_584_701),
        ("10 102", 10_102),
        ("1,000.00", 1000),
        ("1.000,00", 1000),
        ("305.0", 305),  # the planetary storage's figures
        ("1000.000", 1000),
        ("1.5", None),  # not a whole number of units: left for the trader to fix
        ("1,5", None),
        ("123.12", None),
        ("1,000.5", None),
        ("1,000,00", None),
        ("1,00,000", None),
        ("1,000.000,5", None),
        ("0", None),
        ("000", None),
        ("-3", None),
        ("", None),
        ("x", None),
        ("ten", None),
        (str(MAX_QUANTITY), MAX_QUANTITY),
        (str(MAX_QUANTITY + 1), None),
    ],
)
def test_it_reads_quantities_with_any_thousands_separator(text: str, expected: int | None) -> None:
    assert quantity(text) == expected


# --- Free text and multibuy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tritanium", ("listing", "Tritanium", 1)),
        ("tritanium", ("listing", "Tritanium", 1)),
        ("  Tritanium  ", ("listing", "Tritanium", 1)),
        ("10x Tritanium", ("listing", "Tritanium", 10)),
        ("10 x Tritanium", ("listing", "Tritanium", 10)),
        ("9'584'701 x Tritanium", ("listing", "Tritanium", 9_584_701)),
        ("9,584,704 x Tritanium", ("listing", "Tritanium", 9_584_704)),
        ("Tritanium x10", ("listing", "Tritanium", 10)),
        ("Tritanium x 10", ("listing", "Tritanium", 10)),
        ("Tritanium X 1", ("listing", "Tritanium", 1)),
        ("Tritanium 10", ("listing", "Tritanium", 10)),
        ("Tritanium 9'584'702", ("listing", "Tritanium", 9_584_702)),
        ("Tritanium: 1'000", ("listing", "Tritanium", 1000)),
        ("Tritanium - 3,029,400", ("listing", "Tritanium", 3_029_400)),
        ("Tritanium 1\u00a0000", ("listing", "Tritanium", 1000)),
        ("Tritanium 1\u202f000\u202f000", ("listing", "Tritanium", 1_000_000)),
        (
            "Heavy Assault Missile Launcher II 10",
            ("listing", "Heavy Assault Missile Launcher II", 10),
        ),
        ("Compressed Veldspar x 109 ", ("listing", "Compressed Veldspar", 109)),
        ("Cap Booster 25", ("listing", "Cap Booster 25", 1)),  # a name ending in a figure
        ("Cap Booster 25 x10", ("listing", "Cap Booster 25", 10)),
        ("2 Cap Booster 25", ("cargo_scan", "Cap Booster 25", 2)),
        ("Exotic Dancers, Male x3", ("listing", "Exotic Dancers, Male", 3)),
        ("Tritanium\t10", ("listing", "Tritanium", 10)),
        ("10\tTritanium", ("listing", "Tritanium", 10)),
        (" 450\t125mm Railgun I", ("listing", "125mm Railgun I", 450)),
        ("1200\tWarrior I", ("listing", "Warrior I", 1200)),
        ("Tritanium\t", ("listing", "Tritanium", 1)),
        ("Drones", ("listing", "Drones", 1)),  # the skill, outside a fitting
    ],
)
def test_it_reads_free_text_and_multibuy(text: str, expected: tuple[str, str, int]) -> None:
    item = one(text)
    assert (item.parser, item.name, item.quantity) == expected
    assert item.type_id == type_id(expected[1])
    assert not item.guess


@pytest.mark.parametrize(
    "text",
    [
        "1.5 Tritanium",  # half a unit: 1, 2 or 1,500 would all be guesses
        "Tritanium 1,5",
        "123.12\tGriffin",
        "Tritanium 0",
        "-3 Tritanium",
        "Tritanium x",
        "Tritaniumx5",
        "zzzz qqqq xxxx",
        "[Empty High slot]",  # only in a fitting
        "[Nonexistent Hull, My fit]",
        "Victim: Some poor victim",  # only in a killmail
        "Otanuomi V - Moon 11\tMoon\t10.4 AU",  # a celestial is no item
        "2014.01.04 05:49:31\tMarket Escrow\t-251.00 ISK\t325.22 ISK\tMarket escrow by: Me",
    ],
)
def test_it_leaves_what_it_cannot_read_exactly_unparsed(text: str) -> None:
    parsed = parse(text)
    assert parsed.items == []
    assert parsed.unparsed == [parsing.Unparsed(1, text)]


# --- Cargo scan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count", "bpc"),
    [
        ("1 Minmatar Shuttle", "Minmatar Shuttle", 1, False),
        ("2 Gallente Shuttle", "Gallente Shuttle", 2, False),
        ("12'000 Tengu", "Tengu", 12_000, False),
        ("  27 Veldspar", "Veldspar", 27, False),
        ("1.000.000 Tritanium", "Tritanium", 1_000_000, False),
        ("1 000 000 Tritanium", "Tritanium", 1_000_000, False),
        ("10 100MN Afterburner II", "100MN Afterburner II", 10, False),
        ("10 Caracal Blueprint (Copy)", "Caracal Blueprint", 10, True),
        ("1 Caracal Blueprint (Original)", "Caracal Blueprint", 1, False),
    ],
)
def test_it_reads_a_cargo_scan(text: str, name: str, count: int, bpc: bool) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity, item.bpc) == (
        "cargo_scan",
        type_id(name),
        count,
        bpc,
    )


# --- Inventory, hangar and asset lists -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count"),
    [
        ("Hurricane\t1\tCombat Battlecruiser", "Hurricane", 1),
        (
            "720mm Gallium Cannon\t1\tProjectile Weapon\tMedium\tHigh\t10 m3",
            "720mm Gallium Cannon",
            1,
        ),
        (
            "200mm AutoCannon I\t1\tProjectile Weapon\tModule\tSmall\tHigh\t5 m3\t1",
            "200mm AutoCannon I",
            1,
        ),
        (
            "Sleeper Data Library\t1080\tSleeper Components\t\t\t10.82 m3",
            "Sleeper Data Library",
            1080,
        ),
        ("Sleeper Data Library\t1,080\tSleeper Components", "Sleeper Data Library", 1080),
        ("Sleeper Data Library\t1'080\tSleeper Components", "Sleeper Data Library", 1080),
        ("Sleeper Data Library\t1.080\tSleeper Components", "Sleeper Data Library", 1080),
        ("Tritanium\t1,000\tMineral\tMaterial\t\t\t10 m3\t5,120.00 ISK", "Tritanium", 1000),
        ("Tritanium\t2\u00a0500\tMineral\tMaterial\t\t\t25 m3\t12,800.00 ISK", "Tritanium", 2500),
        # An assembled ship: no quantity.
        (
            "Hurricane\t\tCombat Battlecruiser\tShip\t\t\t216,000 m3\t45,000,000.00 ISK",
            "Hurricane",
            1,
        ),
        ("425mm Railgun I\t9000\tHybrid Weapon", "425mm Railgun I", 9000),
    ],
)
def test_it_reads_inventory_and_asset_lists(text: str, name: str, count: int) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("assets", type_id(name), count)


# --- Contracts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count", "bpc", "runs", "extra"),
    [
        ("Rokh\t1\tBattleship\tShip\t", "Rokh", 1, False, None, {}),
        ("Rokh\t12'000\tBattleship\tShip\t", "Rokh", 12_000, False, None, {}),
        ("Zydrine\t10 102\tMineral\tMaterial\t", "Zydrine", 10_102, False, None, {}),
        (
            "Large Core Defense Field Extender I\t1\tRig Shield\tModule\tFitted",
            "Large Core Defense Field Extender I",
            1,
            False,
            None,
            {"details": "Fitted", "fitted": True},
        ),
        (
            "Scorch L\t2\tAdvanced Pulse Laser Crystal\tCharge\t 1% damaged",
            "Scorch L",
            2,
            False,
            None,
            {"details": "1% damaged"},
        ),
        (
            "Armageddon Blueprint\t1\tBattleship Blueprint\tBlueprint\t"
            "BLUEPRINT COPY - Runs: 10 - Material Efficiency: 10 - Time Efficiency: 20",
            "Armageddon Blueprint",
            1,
            True,
            10,
            {
                "details": "BLUEPRINT COPY - Runs: 10 - Material Efficiency: 10 - "
                "Time Efficiency: 20",
                "material_efficiency": 10,
                "time_efficiency": 20,
            },
        ),
        (
            "Typhoon Blueprint\t1\tBattleship Blueprint\tBlueprint\tBLUEPRINT COPY",
            "Typhoon Blueprint",
            1,
            True,
            None,  # the copy's runs are not stated
            {"details": "BLUEPRINT COPY"},
        ),
        (
            "Raven Blueprint\t1\tBattleship Blueprint\tBlueprint\t"
            "BLUEPRINT ORIGINAL - Material Efficiency: 8 - Time Efficiency: 16",
            "Raven Blueprint",
            1,
            False,
            None,
            {
                "details": "BLUEPRINT ORIGINAL - Material Efficiency: 8 - Time Efficiency: 16",
                "material_efficiency": 8,
                "time_efficiency": 16,
            },
        ),
        # A Russian client marks names with an asterisk; the name is English here.
        (
            " Praetor II*\t1\tБоевой дрон*\tДрон*\tОтсек для дронов",  # noqa: RUF001
            "Praetor II",
            1,
            False,
            None,
            {"details": "Отсек для дронов"},
        ),
        (
            "Zircon x 21163 (Item Exchange) ",
            "Zircon",
            21163,
            False,
            None,
            {"contract": "Item Exchange"},
        ),
    ],
)
def test_it_reads_contract_items(
    text: str, name: str, count: int, bpc: bool, runs: int | None, extra: dict[str, Any]
) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("contract", type_id(name), count)
    assert (item.bpc, item.runs, dict(item.extra)) == (bpc, runs, extra)


# --- EFT and pyfa fittings -----------------------------------------------------------------

EFT_RIFTER = """[Rifter, Fleet Tackle]
Nanofiber Internal Structure I
Overdrive Injector System I

Stasis Webifier I
Warp Disruptor I
1MN Afterburner I /OFFLINE

200mm AutoCannon I, EMP S
200mm AutoCannon I, EMP S
[Empty High slot]


Warrior II x5
EMP S x200
"""


def test_it_reads_an_eft_fitting_hull_modules_charges_and_bays() -> None:
    parsed = check(
        EFT_RIFTER,
        [
            (1, "eft", "Rifter", 1),
            (2, "eft", "Nanofiber Internal Structure I", 1),
            (3, "eft", "Overdrive Injector System I", 1),
            (5, "eft", "Stasis Webifier I", 1),
            (6, "eft", "Warp Disruptor I", 1),
            (7, "eft", "1MN Afterburner I", 1),
            (9, "eft", "200mm AutoCannon I", 1),
            (9, "eft", "EMP S", 1),  # the loaded charge, once per module line
            (10, "eft", "200mm AutoCannon I", 1),
            (10, "eft", "EMP S", 1),
            (14, "eft", "Warrior II", 5),
            (15, "eft", "EMP S", 200),
        ],
    )
    assert parsed.kind == "eft"
    extras = [dict(item.extra) for item in parsed.items]
    assert extras[0] == {"hull": True, "fit": "Fleet Tackle"}
    assert extras[5] == {"fit": "Fleet Tackle", "offline": True}
    assert extras[7] == {"fit": "Fleet Tackle", "charge": True}


def test_it_reads_the_fittings_the_brief_names_and_pyfas_mutated_modules() -> None:
    text = (
        "[Drake, My fit]\n"
        "Heavy Missile Launcher II, Scourge Fury Heavy Missile\n"
        "Multispectrum Shield Hardener II [1]\n"
        "Hobgoblin II x5\n"
        "\n"
        "[1] Multispectrum Shield Hardener II\n"
        "  Gravid Multispectrum Shield Hardener Mutaplasmid\n"
        "  cpu 44.5, duration 4,500\n"
        "[Rifter,test]\n"
    )
    parsed = check(
        text,
        [
            (1, "eft", "Drake", 1),
            (2, "eft", "Heavy Missile Launcher II", 1),
            (2, "eft", "Scourge Fury Heavy Missile", 1),
            (3, "eft", "Multispectrum Shield Hardener II", 1),  # counted here, not again below
            (4, "eft", "Hobgoblin II", 5),
            (9, "eft", "Rifter", 1),
        ],
    )
    assert parsed.items[3].extra == {"fit": "My fit", "mutated": 1}
    assert parsed.items[5].extra == {"hull": True, "fit": "test"}


# --- The older fitting copy, in sections ---------------------------------------------------

FITTING_TENGU = """High power
5x Heavy Missile Launcher II
Medium power
1x Large Shield Extender II
2x Multispectrum Shield Hardener II
Low power
1x Damage Control II
3x Ballistic Control System II
Rig Slot
2x Medium Core Defense Field Extender I
Charges
8,718x Caldari Navy Scourge Heavy Missile
Drones
12 Warrior II
Fuel
Helium Isotopes"""


def test_it_reads_the_fitting_copy_by_sections() -> None:
    parsed = check(
        FITTING_TENGU,
        [
            (2, "fitting", "Heavy Missile Launcher II", 5),
            (4, "fitting", "Large Shield Extender II", 1),
            (5, "fitting", "Multispectrum Shield Hardener II", 2),
            (7, "fitting", "Damage Control II", 1),
            (8, "fitting", "Ballistic Control System II", 3),
            (10, "fitting", "Medium Core Defense Field Extender I", 2),
            (12, "fitting", "Caldari Navy Scourge Heavy Missile", 8718),
            (14, "fitting", "Warrior II", 12),  # "Drones" is a title here, not the skill
            (16, "fitting", "Helium Isotopes", 1),
        ],
    )
    assert parsed.kind == "fitting"
    assert parsed.items[6].extra == {"section": "Charges"}


def test_no_fitting_section_title_that_opens_a_block_is_a_type_name() -> None:
    # Such a title would hide an item: "Drones" and "Fighters" are skills, titles only
    # inside a fitting.
    assert [title for title in FITTING_SECTIONS if names().lookup(title)] == []


# --- View contents -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count", "location"),
    [
        (
            "1600mm Steel Plates II\tArmor Reinforcer\tLow Slot\t1",
            "1600mm Steel Plates II",
            1,
            "Low Slot",
        ),
        ("Bouncer II\tCombat Drone\tDrone Bay\t1", "Bouncer II", 1, "Drone Bay"),
        (
            "Nitrogen Isotopes\tIce Product\tFuel Bay\t20000",
            "Nitrogen Isotopes",
            20_000,
            "Fuel Bay",
        ),
        ("Giant Secure Container\tSecure Cargo Container\t\t1", "Giant Secure Container", 1, None),
        ("Festival Launcher\tFestival Launcher\t1", "Festival Launcher", 1, None),
        ("Hornet EC-300\tElectronic Warfare Drone\t50", "Hornet EC-300", 50, None),
        ("Men's 'Esquire' Coat (red/gold)\tOuter\t1", "Men's 'Esquire' Coat (red/gold)", 1, None),
        (
            "Compressed Vivid Hemorphite\tHemorphite\tOre Hold\t51",
            "Compressed Vivid Hemorphite",
            51,
            "Ore Hold",
        ),
    ],
)
def test_it_reads_view_contents(text: str, name: str, count: int, location: str | None) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("view_contents", type_id(name), count)
    assert item.extra.get("location") == location


# --- D-scan --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("587\tSome pilot's Rifter\tRifter\t1,234 km", "Rifter"),
        ("670\tCapsule\tCapsule\t-", "Capsule"),  # published, not on the market
        ("+\tNoctis\t3,225 m", "Noctis"),
        ("+\tThrasher\t12 km", "Thrasher"),
        ("some dude's Stabber Fleet Issue\tStabber Fleet Issue\t-", "Stabber Fleet Issue"),
        ("Wreck\tTayra\t82 km", "Tayra"),
        ("test\tNoctis\t3\u00a0225 m", "Noctis"),
        # A localised client: the type id the row starts with says what it is.
        ("16242\tСудно пилота\tТрэшер\t12 km", "Thrasher"),  # noqa: RUF001
    ],
)
def test_it_counts_each_dscan_row_once(text: str, name: str) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("dscan", type_id(name), 1)


# --- Killmails -----------------------------------------------------------------------------

KILLMAIL = """2013.06.15 17:28:00

Victim: Some poor victim
Corp: Victim's Corp Name
Alliance: Victim's Alliance Name
Faction: Unknown
Destroyed: Scimitar
System: Jita
Security: 0.9
Damage Taken: 14194

Involved parties:

Name: Ganker Name (laid the final blow)
Security: -1.00
Corp: Ganker Corp
Ship: Apocalypse Navy Issue
Weapon: Mega Pulse Laser II
Damage Done: 14194

Destroyed items:

Medium Armor Maintenance Bot I, Qty: 3 (Drone Bay)
Damage Control II
Power Diagnostic System II (Cargo)

Dropped items:

Warrior II (Drone Bay)
Hobgoblin II, Qty: 2"""


def test_it_reads_a_killmail_hull_destroyed_and_dropped() -> None:
    parsed = check(
        KILLMAIL,
        [
            (7, "killmail", "Scimitar", 1),  # the victim's hull; the attackers' ships are not
            (23, "killmail", "Medium Armor Maintenance Bot I", 3),
            (24, "killmail", "Damage Control II", 1),
            (25, "killmail", "Power Diagnostic System II", 1),
            (29, "killmail", "Warrior II", 1),
            (30, "killmail", "Hobgoblin II", 2),
        ],
    )
    assert parsed.kind == "killmail"
    assert [dict(item.extra) for item in parsed.items] == [
        {"destroyed": 1, "hull": True},
        {"destroyed": 3, "location": "Drone Bay"},
        {"destroyed": 1},
        {"destroyed": 1, "location": "Cargo"},
        {"dropped": 1, "location": "Drone Bay"},
        {"dropped": 2},
    ]


@pytest.mark.parametrize(
    ("text", "name", "count", "extra"),
    [
        (
            "Warrior II, Qty: 2 (Drone Bay) (Dropped)",
            "Warrior II",
            2,
            {"dropped": 2, "location": "Drone Bay"},
        ),
        ("Damage Control II (Destroyed)", "Damage Control II", 1, {"destroyed": 1}),
        # Neither its section nor the line says whether it was destroyed or dropped.
        ("Hobgoblin II, Qty: 1,000 (Cargo)", "Hobgoblin II", 1000, {"location": "Cargo"}),
    ],
)
def test_it_reads_killmail_item_lines_outside_a_killmail(
    text: str, name: str, count: int, extra: dict[str, Any]
) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("killmail", type_id(name), count)
    assert item.extra == extra


# --- Loot history, ledgers, planetary industry, survey scanner -----------------------------


def test_it_reads_the_loot_history() -> None:
    parsed = check(
        "03:21:19 Some dude has looted 5 x Garde II\n"
        "04:22:20 A cool dude has looted 5'000 x Garde II\n",
        [(1, "loot_history", "Garde II", 5), (2, "loot_history", "Garde II", 5000)],
    )
    assert parsed.items[1].extra == {"looter": "A cool dude"}


def test_it_reads_the_mining_ledger_with_its_header() -> None:
    check(
        "Timestamp\tOre Type\tQuantity\tVolume\tEst. Price\tSolar System\tOre TypeID\t"
        "SolarSystemID\n"
        "2017.10.11\tTriclinic Bistot\t349\t5584.0\t962,161\tZ-Y9C3\t17428\t30003124\n"
        "2017.10.22\tCrimson Arkonor\t435\t6960\t2,253,447\tZ-Y9C3\t17425\t30003124\n"
        "2017.10.03\tBright Spodumain\t1638\t26208.0\t3,786,531\tZ-Y9C3\t17466\t30003124\n",
        [
            (2, "mining_ledger", "Triclinic Bistot", 349),
            (3, "mining_ledger", "Crimson Arkonor", 435),
            (4, "mining_ledger", "Bright Spodumain", 1638),
        ],
    )


def test_it_reads_the_moon_ledger_both_ways_it_is_copied() -> None:
    parsed = check(
        "2019.01.19\tCorp name\tminer 1\tYtterbite\t8,625\t86,250 m³\t70,377,757 ISK\n"
        "2019.01.19\tCorp name\tminer 2\tBountiful Ytterbite\t612\t6,120 m³\t7,911,152 ISK\n"
        "Timestamp\tCorporation\tPilot\tOre Type\tQuantity\tVolume\tEst. Price\tOre TypeID\t"
        "SolarSystemID\n"
        "2019.01.19\tCorp Name\tminer 1\tBountiful Ytterbite\t2940\t29400.0\t38004556\t46318\t"
        "30003687\n",
        [
            (1, "moon_ledger", "Ytterbite", 8625),
            (2, "moon_ledger", "Bountiful Ytterbite", 612),
            (4, "moon_ledger", "Bountiful Ytterbite", 2940),
        ],
    )
    assert parsed.items[0].extra == {"pilot": "miner 1"}


def test_it_reads_planetary_routes_and_storage() -> None:
    parsed = check(
        "331.0\tAqueous Liquids\tNot routed\n"
        "331\tAqueous Liquids\tRouted\n"
        "\tAqueous Liquids\t305.0\t3.05\n"
        "\tRobotics\t205.0\n",
        [
            (1, "pi", "Aqueous Liquids", 331),
            (2, "pi", "Aqueous Liquids", 331),
            (3, "pi", "Aqueous Liquids", 305),
            (4, "pi", "Robotics", 205),
        ],
    )
    assert [item.extra.get("routed") for item in parsed.items] == [False, True, None, None]


def test_it_reads_the_survey_scanner() -> None:
    check(
        "Pyroxeres\t1,919\t5,842 m\n"
        "Pyroxeres\t11,595\t7,180 m\n"
        "Veldspar\t10\t12 km\n"
        "Veldspar\t26\u00a0644\t6\u00a0115 m\n",
        [
            (1, "survey_scanner", "Pyroxeres", 1919),
            (2, "survey_scanner", "Pyroxeres", 11_595),
            (3, "survey_scanner", "Veldspar", 10),
            (4, "survey_scanner", "Veldspar", 26_644),
        ],
    )


# --- Industry ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count"),
    [
        ("Tritanium (4662 Units)", "Tritanium", 4662),
        ("Strontium Clathrates (1 Unit)", "Strontium Clathrates", 1),
        ("Zydrine - [You: 12783 - Perfect: 11625]", "Zydrine", 12_783),
        ("Tritanium [899052]", "Tritanium", 899_052),
        (
            "Datacore - Mechanical Engineering\t60\t0\t43694.05\t20424",
            "Datacore - Mechanical Engineering",
            60,
        ),
    ],
)
def test_it_reads_industry_material_lists(text: str, name: str, count: int) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("industry", type_id(name), count)


def test_it_reads_the_industry_windows_material_tables_with_their_titles() -> None:
    parsed = check(
        "\n"
        "Datacores\t\t\t\t\n"
        "Item\tRequired\tAvailable\tEst. Unit price\ttypeID\n"
        "Datacore - Mechanical Engineering\t60\t0\t43694.05\t20424\n"
        "Datacore - Minmatar Starship Engineering\t60\t0\t93418.68\t20172\n"
        "\n"
        "Optional items\t\t\t\t\n"
        "Item\tRequired\tAvailable\tEst. Unit price\ttypeID\n"
        "No item selected\t\t\t\t\n",
        [
            (4, "industry", "Datacore - Mechanical Engineering", 60),
            (5, "industry", "Datacore - Minmatar Starship Engineering", 60),
        ],
    )
    assert parsed.kind == "industry"


# --- Wallet --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count"),
    [
        (
            "2023.05.01 12:34\t1,000\tTritanium\t5.00 ISK\t-5,000.00 ISK\tSome Client\t"
            "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
            "Tritanium",
            1000,
        ),
        (
            "2023.05.01 12:35\t-250\tPyerite\t10.00 ISK\t2,500.00 ISK\tSome Client\tJita",
            "Pyerite",
            250,
        ),
        (
            "2014.12.19 20:04\tMedium Core Defense Capacitor Safeguard II\t7'999'996.10 ISK\t1\t"
            "7'999'996.10 ISK\tISK\tOrmand Ishikela\tJita IV - Moon 4 - Caldari Navy Assembly "
            "Plant",
            "Medium Core Defense Capacitor Safeguard II",
            1,
        ),
        (
            "2014.01.04 16:08\tStorm Command Center\t200,000.00 ISK\t1\t-200,000.00 ISK\tISK\t"
            "lady scarlette\tOtanuomi IV - Moon 4 - Ishukone Corporation Factory",
            "Storm Command Center",
            1,
        ),
    ],
)
def test_it_reads_wallet_transactions(text: str, name: str, count: int) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity) == ("wallet", type_id(name), count)


# --- The heuristic pass --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "count", "guess"),
    [
        ("- Pyerite", "Pyerite", 1, False),
        ("* Tritanium x 10,", "Tritanium", 10, False),
        ("\u2022 Mexallon 5", "Mexallon", 5, False),
        ("Tritanum", "Tritanium", 1, True),
        ("Tritanum 10", "Tritanium", 10, True),
        ("10 Tritanum", "Tritanium", 10, True),
        ("Mexalon x 5", "Mexallon", 5, True),
        ("Caracal navy", "Caracal Navy Issue", 1, True),
        ("Cap Boster 25", "Cap Booster 25", 1, True),  # the whole line is the closer name
    ],
)
def test_the_last_pass_strips_bullets_then_guesses_the_closest_name(
    text: str, name: str, count: int, guess: bool
) -> None:
    item = one(text)
    assert (item.parser, item.type_id, item.quantity, item.guess) == (
        "heuristic",
        type_id(name),
        count,
        guess,
    )
    assert item.typed in text


def test_guesses_are_limited_per_paste_and_the_rest_stays_unparsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parsing, "MAX_GUESSES", 1)
    parsed = parse("Tritanum\nTritanium\nMexalon\n")
    assert summary(parsed) == [(1, "heuristic", "Tritanium", 1), (2, "listing", "Tritanium", 1)]
    assert parsed.unparsed == [parsing.Unparsed(3, "Mexalon")]


# --- Names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Tritanium", ("Tritanium", False)),
        ("  tRiTaNiUm  ", ("Tritanium", False)),
        ("Caracal  Navy\u00a0Issue", ("Caracal Navy Issue", False)),
        ("Capsule", ("Capsule", False)),  # published, no market group
        ("Miner II Blueprint", ("Miner II Blueprint", False)),
        (
            "Men\u2019s \u2018Esquire\u2019 Coat (red/gold)",
            ("Men's 'Esquire' Coat (red/gold)", False),
        ),
        ("Praetor II*", ("Praetor II", False)),
        ("tritanum", ("Tritanium", True)),
        ("Mexalon", ("Mexallon", True)),
    ],
)
def test_match_name_is_exact_then_case_insensitive_then_a_flagged_guess(
    typed: str, expected: tuple[str, bool]
) -> None:
    name, guess = expected
    assert match_name(typed) == (type_id(name), name, guess)


def test_a_name_two_types_share_goes_to_the_market_one() -> None:
    # "Spiked Quafe" is 21661 (no market group) and 54165 (on the market).
    assert match_name("Spiked Quafe") == (54165, "Spiked Quafe", False)


@pytest.mark.parametrize("typed", ["trit", "zzzzqqqxx", "", "   ", "Victim: Some poor victim"])
def test_match_name_answers_none_when_nothing_is_close(typed: str) -> None:
    assert match_name(typed) is None


# --- Readers alone (no SDE) ----------------------------------------------------------------


def test_the_readers_offer_the_whole_line_as_a_name_before_splitting_a_count() -> None:
    assert read_listing("Cap Booster 25") == [
        (Reading("Cap Booster 25"),),
        (Reading("Cap Booster", 25),),
    ]
    assert read_cargo_scan("1 000 Tritanium") == [
        (Reading("000 Tritanium", 1),),
        (Reading("Tritanium", 1000),),
    ]
    assert read_dscan(cells("587\tSomeone's Rifter\tRifter\t-")) == [
        (Reading("Rifter", type_id=587),)
    ]
    assert read_view_contents(cells("Bouncer II\t3\tDrone Bay\t1")) == []  # a count, no group


def test_the_block_readers_say_which_block_a_line_leaves() -> None:
    assert start_block("[Drake, My fit]") == (
        "eft",
        ([(Reading("Drake", extra={"hull": True, "fit": "My fit"}),)], Block("eft", "My fit")),
    )
    assert start_block("Drones") is None  # the skill, unless inside a fitting
    inside = read_in_block("Drones", Block("fitting", "Low power"))
    assert inside == ([()], Block("fitting", "Drones"))


# --- Whole pastes --------------------------------------------------------------------------


def test_blank_lines_are_skipped_and_line_numbers_are_as_pasted() -> None:
    parsed = check(
        "\r\n  \r\nTritanium 10\r\n\t\r\nnot an item at all\r\nPyerite\r\n",
        [(3, "listing", "Tritanium", 10), (6, "listing", "Pyerite", 1)],
        unparsed=[5],
    )
    assert parsed.unparsed[0].text == "not an item at all"


def test_only_line_breaks_a_text_box_shows_count_as_lines() -> None:
    # U+2028 and U+0085 are no line breaks in a text box: they stay inside their line.
    parsed = parse("Tritanium\rPyerite\u2028x\nMexallon\u0085\n\rIsogen 3")
    assert summary(parsed) == [
        (1, "listing", "Tritanium", 1),
        (3, "listing", "Mexallon", 1),
        (5, "listing", "Isogen", 3),
    ]
    assert parsed.unparsed == [parsing.Unparsed(2, "Pyerite\u2028x")]


def test_an_empty_paste_reads_nothing() -> None:
    assert parse("") == Parsed(items=[], unparsed=[], kind="listing")
    assert parse("\n\n \n") == Parsed(items=[], unparsed=[], kind="listing")


def test_a_paste_mixing_every_format_reads_each_line_with_its_own() -> None:
    text = "\n".join(
        [
            "Tritanium 10",  # 1 listing
            "10 Pyerite",  # 2 cargo_scan
            "Rokh\t1\tBattleship\tShip\t",  # 3 contract
            "Hurricane\t1\tCombat Battlecruiser",  # 4 assets
            "Bouncer II\tCombat Drone\tDrone Bay\t1",  # 5 view_contents
            "587\tSome pilot's Rifter\tRifter\t1,234 km",  # 6 dscan
            "03:21:19 Some dude has looted 5 x Garde II",  # 7 loot_history
            "2017.10.11\tTriclinic Bistot\t349\t5584.0\t962,161\tZ-Y9C3\t17428\t30003124",  # 8
            "2019.01.19\tCorp\tminer 1\tYtterbite\t8,625\t86,250 m³\t70,377,757 ISK",  # 9
            "331\tAqueous Liquids\tRouted",  # 10 pi
            "Veldspar\t10\t12 km",  # 11 survey_scanner
            "Tritanium (4662 Units)",  # 12 industry
            "2023.05.01 12:34\t1,000\tTritanium\t5.00 ISK\t-5,000.00 ISK\tClient\tJita",  # 13
            "Tritanum",  # 14 heuristic
            "[Drake, My fit]",  # 15 eft
            "Damage Control II",  # 16 eft
            "2013.06.15 17:28:00",  # 17 killmail
            "Destroyed: Scimitar",  # 18 killmail
            "High power",  # 19 fitting
            "5x Heavy Missile Launcher II",  # 20 fitting
            "Tritanium x5",  # 21 listing: the fitting block ends
        ]
    )
    parsed = check(
        text,
        [
            (1, "listing", "Tritanium", 10),
            (2, "cargo_scan", "Pyerite", 10),
            (3, "contract", "Rokh", 1),
            (4, "assets", "Hurricane", 1),
            (5, "view_contents", "Bouncer II", 1),
            (6, "dscan", "Rifter", 1),
            (7, "loot_history", "Garde II", 5),
            (8, "mining_ledger", "Triclinic Bistot", 349),
            (9, "moon_ledger", "Ytterbite", 8625),
            (10, "pi", "Aqueous Liquids", 331),
            (11, "survey_scanner", "Veldspar", 10),
            (12, "industry", "Tritanium", 4662),
            (13, "wallet", "Tritanium", 1000),
            (14, "heuristic", "Tritanium", 1),
            (15, "eft", "Drake", 1),
            (16, "eft", "Damage Control II", 1),
            (18, "killmail", "Scimitar", 1),
            (20, "fitting", "Heavy Missile Launcher II", 5),
            (21, "listing", "Tritanium", 5),
        ],
    )
    assert {item.parser for item in parsed.items} == set(FORMATS)
    assert parsed.kind == "listing"  # 2 lines; every other format read 1 or 2, listing first


# --- Size ----------------------------------------------------------------------------------

SHAPES = (
    "{n}x {name}",
    "{name}\t{n:,}\tGroup\tCategory\t\t\t10 m3\t5,000.00 ISK",
    "{name} x{n}",
    "{n} {name}",
    "{name}\t{n}",
)
NAMES = (
    "Tritanium",
    "Cap Booster 25",
    "Heavy Missile Launcher II",
    "Exotic Dancers, Male",
    "Men's 'Esquire' Coat (red/gold)",
    "100MN Afterburner II",
    "Datacore - Mechanical Engineering",
)


def test_ten_thousand_lines_are_all_read() -> None:
    lines, expected = [], []
    for i in range(10_000):
        name, n = NAMES[i % len(NAMES)], 1 + (i * 7919) % 2_000_000
        lines.append(SHAPES[i % len(SHAPES)].format(name=name, n=n))
        expected.append((type_id(name), n))
    text = "\n".join(lines)
    parse("Tritanium")  # the name tables are built once per SDE file, not per paste
    started = time.process_time()
    parsed = parse(text)
    elapsed = time.process_time() - started
    assert parsed.unparsed == []
    assert [(item.type_id, item.quantity) for item in parsed.items] == expected
    assert [item.line for item in parsed.items] == list(range(1, 10_001))
    assert elapsed < 2.0  # a loose guard against a slow path (about 0.2 s on one core)


@pytest.mark.parametrize(
    "line",
    [
        "a" + " " * 100_000 + "b(5 Units)",
        "00:00:00 a" + " " * 100_000 + "b has looted 5 x c",
        "1 " * 50_000 + "a",
        "a" + " 1" * 50_000,
        "1 x " * 25_000,
        "a\tb\t1" + " " * 100_000 + "x",
        "Tritanium" + " " * 100_000 + "(cop)\t5",
        "[Drake, fit]\nDamage Control II" + " " * 100_000 + "/offline zzz",
        "High power\n" + "1 " * 50_000,
    ],
    ids=["units", "loot", "leading", "trailing", "x", "distance", "copy", "offline", "fitting"],
)
def test_a_long_line_costs_time_in_proportion_to_its_length(line: str) -> None:
    # Each of these once made a regular expression or a split backtrack over the line
    # (minutes for a megabyte): the readers now see single spaces and try counts only
    # where one can be.
    started = time.process_time()
    parsed = parse(line)
    assert time.process_time() - started < 1.0
    assert [u.line for u in parsed.unparsed] == [line.count("\n") + 1]
