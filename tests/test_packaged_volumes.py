"""Packaged volumes of ships the SDE's invVolumes lacks (issue 11, part 3).

The rule (the game's): a packaged ship takes its group's packaged volume. The loader fills the
missing rows; these tests recompute every expected figure from the raw bundled CSVs, on their
own, and compare with the installed SDE, the item page, the API and the profit engine.
"""

from __future__ import annotations

import csv
import gzip
import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings

from sde import packaged_volumes
from sde.install import BUNDLE_DIR
from tests.conftest import sde_db

DRAGOON_NAVY_ISSUE = 91775
SALVATION = 92822  # a Command Carrier: no type of its group has an invVolumes row
CARACAL = 621
TRITANIUM = 34
SHIP = 6


def raw_rows(table: str) -> Iterator[dict[str, str]]:
    with gzip.open(BUNDLE_DIR / f"{table}.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def expected_packaged_volumes() -> dict[int, float]:
    """Every published market ship's packaged volume, from the raw bundled CSVs: its own
    invVolumes row; else the most common invVolumes volume of its group; else the game's
    per-group table (shipPackagedVolumes.csv)."""
    ship_groups = {int(g["groupID"]) for g in raw_rows("invGroups") if g["categoryID"] == str(SHIP)}
    ships = {
        int(t["typeID"]): int(t["groupID"])
        for t in raw_rows("invTypes")
        if t["groupID"]
        and int(t["groupID"]) in ship_groups
        and t["published"] == "1"
        and t["marketGroupID"]
    }
    all_ship_types = {
        int(t["typeID"]): int(t["groupID"])
        for t in raw_rows("invTypes")
        if t["groupID"] and int(t["groupID"]) in ship_groups
    }
    own = {int(v["typeID"]): float(v["volume"]) for v in raw_rows("invVolumes") if v["volume"]}
    per_group: dict[int, Counter[float]] = defaultdict(Counter)
    for type_id, volume in own.items():
        if type_id in all_ship_types:
            per_group[all_ship_types[type_id]][volume] += 1
    with open(BUNDLE_DIR / "shipPackagedVolumes.csv", encoding="utf-8", newline="") as fh:
        game_table = {int(r["groupID"]): float(r["volume"]) for r in csv.DictReader(fh)}
    expected = {}
    for type_id, group_id in ships.items():
        if type_id in own:
            expected[type_id] = own[type_id]
        elif per_group[group_id]:
            ((volume, _),) = per_group[group_id].most_common(1)
            expected[type_id] = volume
        else:
            expected[type_id] = game_table[group_id]
    return expected


def installed(sql: str, *params: object) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{settings.SDE_PATH}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()


# --- The installed (bundled) SDE -----------------------------------------------------------


@sde_db
def test_every_published_market_ship_has_its_groups_packaged_volume():
    expected = expected_packaged_volumes()
    assert len(expected) > 400  # every published market ship (421 in the bundle), not a sample
    have = dict(installed('SELECT "typeID", "volume" FROM "invVolumes"'))
    wrong = {t: (have.get(t), v) for t, v in expected.items() if have.get(t) != v}
    assert wrong == {}


@sde_db
def test_the_issues_twelve_ships_are_filled_from_their_group():
    filled = dict(installed('SELECT "typeID", "volume" FROM "evePackagedVolumeSource"'))
    names = dict(installed('SELECT "typeID", "typeName" FROM "invTypes"'))
    assert sorted(names[t] for t in filled) == sorted(
        [
            "Dragoon Navy Issue",
            "Algos Navy Issue",
            "Corax Navy Issue",
            "Talwar Fleet Issue",
            "Akoman",
            "Salvation",
            "Simurgh",
            "Gaia",
            "Ymir",
            "Tenzin YC128 Campaign Bus",
            "Moreau YC128 Campaign Bus",
            "Roden YC128 Campaign Bus",
        ]
    )
    # The game's figures: destroyers 5,000 m³, attack battlecruisers 15,000, carriers
    # 1,300,000 (capital ships), yachts 10,000 (cruiser-sized, as the Opux Luxury Yacht).
    assert filled[DRAGOON_NAVY_ISSUE] == 5000
    assert filled[95741] == 15000  # Akoman
    assert filled[SALVATION] == 1_300_000
    assert filled[92282] == 10000  # Tenzin YC128 Campaign Bus


@sde_db
def test_dragoon_navy_issue_packs_to_the_destroyer_groups_5000_m3():
    # By hand: the Destroyer group's invVolumes rows are all 5,000 m³ (a destroyer packs to
    # 5,000 m³ in game); the Dragoon Navy Issue is 47,000 m³ assembled.
    ((assembled, packaged),) = installed(
        'SELECT t."volume", v."volume" FROM "invTypes" t JOIN "invVolumes" v USING ("typeID") '
        'WHERE t."typeID" = ?',
        DRAGOON_NAVY_ISSUE,
    )
    assert (assembled, packaged) == (47000, 5000)


@sde_db
def test_a_60000_m3_hold_fits_12_dragoons_not_1():
    from profit.engine import type_table

    (unit_m3,) = type_table().volumes([DRAGOON_NAVY_ISSUE])
    hold = 60_000
    # 60,000 / 5,000 = 12 packaged; assembled it would be floor(60,000 / 47,000) = 1.
    assert math.floor(hold / unit_m3) == 12


# --- Page, API and admin say where the figure comes from -----------------------------------


@sde_db
def test_item_page_shows_the_group_as_the_source(client):
    html = client.get(f"/items/{DRAGOON_NAVY_ISSUE}/").content.decode()
    assert '5,000 m³<span class="muted fact-note">Destroyer group&#x27;s packaged volume; ' in html
    assert "no invVolumes row</span>" in html
    assert "47,000 m³" in html  # the assembled volume is still shown


@sde_db
def test_item_page_shows_the_game_table_and_the_assembled_fallback(client):
    html = client.get(f"/items/{SALVATION}/").content.decode()
    assert "1,300,000 m³" in html
    assert "Command Carrier group&#x27;s packaged volume in the game&#x27;s per-group table" in html
    html = client.get(f"/items/{TRITANIUM}/").content.decode()
    assert "0.01 m³</td>" in html  # not a ship: its volume is the game's, nothing to explain
    html = client.get(f"/items/{CARACAL}/").content.decode()
    assert "10,000 m³</td>" in html  # its own invVolumes row: nothing to explain


@sde_db
@pytest.mark.parametrize(
    ("type_id", "packaged", "source"),
    [
        (
            DRAGOON_NAVY_ISSUE,
            5000,
            {
                "kind": "group",
                "group": {"id": 420, "name": "Destroyer"},
                "summary": "Destroyer group's packaged volume; no invVolumes row",
                "basis": "30 of 30 Destroyer types with an invVolumes row",
            },
        ),
        (
            SALVATION,
            1_300_000,
            {
                "kind": "group_table",
                "group": {"id": 5120, "name": "Command Carrier"},
                "summary": "Command Carrier group's packaged volume in the game's per-group "
                "table; no invVolumes row",
                "basis": "no Command Carrier type has an invVolumes row; the game's table "
                "(evejs-frontier-mirror)",
            },
        ),
        (
            CARACAL,
            10000,
            {"kind": "invVolumes", "group": None, "summary": "its invVolumes row", "basis": ""},
        ),
        (
            TRITANIUM,
            0.01,
            {
                "kind": "assembled",
                "group": None,
                "summary": "assembled volume (invTypes); no invVolumes row",
                "basis": "",
            },
        ),
    ],
)
def test_api_gives_the_packaged_volume_and_its_source(client, type_id, packaged, source):
    body = client.get(f"/api/v1/items/{type_id}", HTTP_ACCEPT="application/json").json()
    assert body["packaged_volume"] == packaged
    assert body["packaged_volume_source"] == source


@sde_db
def test_api_answer_matches_its_schema(client):
    from tests.schema_check import validator

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    body = client.get(f"/api/v1/items/{SALVATION}", HTTP_ACCEPT="application/json").json()
    validator(schema, "/api/v1/items/{type_id}", "get", "200").validate(body)


@sde_db
def test_admin_type_page_shows_the_source(admin_client):
    html = admin_client.get(f"/admin/sde/invtype/{DRAGOON_NAVY_ISSUE}/change/").content.decode()
    assert "5,000 m³ (Destroyer group&#x27;s packaged volume; no invVolumes row)" in html


# --- The rule, on small made-up SDEs -------------------------------------------------------


def test_a_groups_volume_is_its_most_common_row_and_a_tie_takes_the_larger():
    rows = [(941, 500000), (941, 500000), (941, 50000), (25, 2500), (25, 100), (99, 10), (99, 20)]
    assert packaged_volumes.group_volumes_from_rows(rows) == {
        941: (500000.0, 2, 3),  # Orca and its edition over the Porpoise
        25: (2500.0, 1, 2),  # a tie: the larger, so a hold is never overfilled
        99: (20.0, 1, 2),
    }


def tiny_sde(tmp_path: Path) -> sqlite3.Connection:
    """Ship groups 1 (two rows: 10, 10), 2 (no row; in the game table), 3 (no row, not in the
    table); a market ship without a row in each, an unpublished one, a module without a row."""
    conn = sqlite3.connect(tmp_path / "tiny.sqlite")
    conn.executescript(
        """
        CREATE TABLE invGroups (groupID INTEGER PRIMARY KEY, categoryID INTEGER, groupName TEXT);
        CREATE TABLE invTypes (typeID INTEGER PRIMARY KEY, groupID INTEGER, typeName TEXT,
            volume REAL, published INTEGER, marketGroupID INTEGER);
        CREATE TABLE invVolumes (typeID INTEGER PRIMARY KEY, volume INTEGER);
        INSERT INTO invGroups VALUES (1, 6, 'Skiff'), (2, 6, 'Barge'), (3, 6, 'Raft'),
            (4, 7, 'Module');
        INSERT INTO invTypes VALUES (10, 1, 'Skiff A', 80, 1, 5), (11, 1, 'Skiff B', 90, 1, 5),
            (12, 1, 'Skiff C', 95, 1, 5), (13, 1, 'Skiff X', 95, 0, NULL),
            (20, 2, 'Barge A', 900, 1, 5), (30, 3, 'Raft A', 70, 1, 5),
            (40, 4, 'Gadget', 5, 1, 5);
        INSERT INTO invVolumes VALUES (10, 10), (11, 10);
        """
    )
    return conn


def test_fill_takes_the_group_then_the_game_table_and_records_the_source(tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("groupID,groupName,volume,source\n2,Barge,300,test-table\n")
    with closing(tiny_sde(tmp_path)) as conn:
        filled = packaged_volumes.fill(conn, table)
        conn.commit()
        volumes = dict(conn.execute("SELECT typeID, volume FROM invVolumes"))
        sources = conn.execute(
            "SELECT typeID, groupID, volume, source, basis FROM evePackagedVolumeSource "
            "ORDER BY typeID"
        ).fetchall()
        # Skiff C takes its group's 10 (2 of 2 rows); Barge A the table's 300; the Raft
        # group has no figure anywhere, so Raft A keeps its assembled volume (no row); the
        # unpublished Skiff X and the module are left alone.
        assert volumes == {10: 10, 11: 10, 12: 10, 20: 300}
        assert sources == [
            (12, 1, 10.0, "group", "2 of 2 Skiff types with an invVolumes row"),
            (
                20,
                2,
                300.0,
                "group_table",
                "no Barge type has an invVolumes row; the game's table (test-table)",
            ),
        ]
        assert [f.type_id for f in filled] == [12, 20]
        # A second pass finds nothing to do and writes nothing.
        changes = conn.total_changes
        assert packaged_volumes.fill(conn, table) == []
        assert conn.total_changes == changes


def test_the_game_table_agrees_with_every_group_the_sde_has_rows_for():
    """The bundled per-group table (the game client's) and the SDE's own rows tell the same
    figure for every ship group both know: the table is only needed for the groups with no
    row, and those figures are the game's."""
    ship_groups = {
        int(g["groupID"]): g["groupName"]
        for g in raw_rows("invGroups")
        if g["categoryID"] == str(SHIP)
    }
    groups = {
        int(t["typeID"]): int(t["groupID"])
        for t in raw_rows("invTypes")
        if t["groupID"] and int(t["groupID"]) in ship_groups
    }
    per_group: dict[int, Counter[float]] = defaultdict(Counter)
    for row in raw_rows("invVolumes"):
        if int(row["typeID"]) in groups:
            per_group[groups[int(row["typeID"])]][float(row["volume"])] += 1
    table = packaged_volumes.read_group_table()
    both = set(table) & set(per_group)
    assert len(both) > 40
    assert {g: per_group[g].most_common(1)[0][0] for g in both} == {g: table[g][0] for g in both}
    assert {5087, 5120} <= set(table) - set(per_group)  # the yachts and command carriers
