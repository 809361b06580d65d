"""Packaged volumes for the ships the SDE's `invVolumes` lacks, filled in by the SDE loader.

The game packs a ship into its group's packaged volume: CCP's client keeps one figure per ship
group (`packagedVolumeOverridesPerGroup`, plus a few per-type exceptions such as the Porpoise),
and a type in no group of that table keeps its assembled volume. Fuzzwork's `invVolumes` has
those figures per type, but ships newer than the converter's list have no row (Dragoon Navy
Issue: 47,000 m³ assembled, 5,000 m³ packaged), so hauling would count them assembled.

`fill` gives every published ship (category 6) without a row its group's packaged volume:

1. `group`: the most common `invVolumes` volume among the group's types that have a row, the
   SDE's own figure for the group (on a tie, the larger volume, so a hold is never overfilled);
2. `group_table`: for a group with no row at all, the game's per-group table bundled as
   `sde/bundled/shipPackagedVolumes.csv` (its sources are in `sde/bundled/README.md`);
3. otherwise nothing is filled and readers use the assembled volume (`invTypes`), as the game
   does.

Each filled row is recorded in `evePackagedVolumeSource` (typeID, groupID, volume, source,
basis) so pages can say where the figure came from; Fuzzwork's tables keep their schema.
"""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SOURCE_TABLE = "evePackagedVolumeSource"
GROUP_TABLE_PATH = Path(__file__).resolve().parent / "bundled" / "shipPackagedVolumes.csv"
CATEGORY_SHIP = 6

# How a packaged volume was found (the `source` column, and what readers report).
FROM_INV_VOLUMES = "invVolumes"  # the type's own invVolumes row
FROM_GROUP = "group"  # filled: the group's most common invVolumes volume
FROM_GROUP_TABLE = "group_table"  # filled: the game's per-group table
FROM_ASSEMBLED = "assembled"  # no packaged figure: the assembled volume (invTypes)

SOURCE_DDL = (
    f'CREATE TABLE IF NOT EXISTS "{SOURCE_TABLE}" ('
    '"typeID" INTEGER PRIMARY KEY, "groupID" INTEGER, "volume" REAL, '
    '"source" TEXT NOT NULL, "basis" TEXT)'
)


@dataclass(frozen=True)
class GroupVolume:
    """A ship group's packaged volume and what it rests on."""

    volume: float
    source: str  # FROM_GROUP or FROM_GROUP_TABLE
    basis: str  # for people: "30 of 30 Destroyer types with an invVolumes row", ...


@dataclass(frozen=True)
class FilledVolume:
    type_id: int
    group_id: int
    volume: float
    source: str
    basis: str


def describe(source: str, group_name: str | None = None) -> str:
    """Where a packaged volume comes from, for people: "Destroyer group's packaged volume; no
    invVolumes row"."""
    group = f"{group_name} group's" if group_name else "its group's"
    if source == FROM_GROUP:
        return f"{group} packaged volume; no invVolumes row"
    if source == FROM_GROUP_TABLE:
        return f"{group} packaged volume in the game's per-group table; no invVolumes row"
    if source == FROM_INV_VOLUMES:
        return "its invVolumes row"
    return "assembled volume (invTypes); no invVolumes row"


def group_volumes_from_rows(rows: Iterable[tuple[int, float]]) -> dict[int, tuple[float, int, int]]:
    """Each group's most common packaged volume from (groupID, invVolumes volume) pairs of the
    group's types that have a row: {groupID: (volume, types with that volume, types with a
    row)}. A tie goes to the larger volume."""
    by_group: dict[int, Counter[float]] = defaultdict(Counter)
    for group_id, volume in rows:
        by_group[group_id][float(volume)] += 1
    result = {}
    for group_id, counts in by_group.items():
        volume, agreeing = max(counts.items(), key=lambda item: (item[1], item[0]))
        result[group_id] = (volume, agreeing, sum(counts.values()))
    return result


def read_group_table(path: Path = GROUP_TABLE_PATH) -> dict[int, tuple[float, str]]:
    """The bundled table of the game's packaged volume per ship group: {groupID: (volume,
    source key)}."""
    with open(path, encoding="utf-8", newline="") as fh:
        return {
            int(row["groupID"]): (float(row["volume"]), row["source"]) for row in csv.DictReader(fh)
        }


def group_packaged_volume(
    group_id: int,
    group_name: str,
    from_rows: dict[int, tuple[float, int, int]],
    table: dict[int, tuple[float, str]],
) -> GroupVolume | None:
    """The packaged volume a ship of `group_id` takes when it has no invVolumes row."""
    if group_id in from_rows:
        volume, agreeing, total = from_rows[group_id]
        basis = f"{agreeing} of {total} {group_name} types with an invVolumes row"
        return GroupVolume(volume, FROM_GROUP, basis)
    if group_id in table:
        volume, source = table[group_id]
        basis = f"no {group_name} type has an invVolumes row; the game's table ({source})"
        return GroupVolume(volume, FROM_GROUP_TABLE, basis)
    return None


def ships_missing_a_row(conn: sqlite3.Connection) -> list[tuple[int, int, str]]:
    """(typeID, groupID, groupName) of every published ship with no invVolumes row."""
    return conn.execute(
        'SELECT t."typeID", t."groupID", COALESCE(g."groupName", \'\') FROM "invTypes" t '
        'JOIN "invGroups" g ON g."groupID" = t."groupID" '
        'LEFT JOIN "invVolumes" v ON v."typeID" = t."typeID" '
        'WHERE g."categoryID" = ? AND t."published" = 1 AND v."typeID" IS NULL '
        'ORDER BY t."typeID"',
        [CATEGORY_SHIP],
    ).fetchall()


def ship_rows(conn: sqlite3.Connection) -> list[tuple[int, float]]:
    """(groupID, packaged volume) of every ship type that has an invVolumes row."""
    return conn.execute(
        'SELECT t."groupID", v."volume" FROM "invVolumes" v '
        'JOIN "invTypes" t ON t."typeID" = v."typeID" '
        'JOIN "invGroups" g ON g."groupID" = t."groupID" '
        'WHERE g."categoryID" = ? AND v."volume" IS NOT NULL',
        [CATEGORY_SHIP],
    ).fetchall()


def fill(conn: sqlite3.Connection, table_path: Path = GROUP_TABLE_PATH) -> list[FilledVolume]:
    """Insert the group's packaged volume for every published ship without an invVolumes row,
    and record each in `evePackagedVolumeSource`. Idempotent: a file that needs nothing is not
    written to at all. The caller commits."""
    missing = ships_missing_a_row(conn)
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [SOURCE_TABLE]
    ).fetchone()
    if has_table and not missing:
        return []
    conn.execute(SOURCE_DDL)
    from_rows = group_volumes_from_rows(ship_rows(conn))
    table = read_group_table(table_path)
    filled = []
    for type_id, group_id, group_name in missing:
        found = group_packaged_volume(group_id, group_name, from_rows, table)
        if found is not None:
            filled.append(FilledVolume(type_id, group_id, found.volume, found.source, found.basis))
    conn.executemany(
        'INSERT INTO "invVolumes" ("typeID", "volume") VALUES (?, ?)',
        [(f.type_id, f.volume) for f in filled],
    )
    conn.executemany(
        f'INSERT OR REPLACE INTO "{SOURCE_TABLE}" '
        '("typeID", "groupID", "volume", "source", "basis") VALUES (?, ?, ?, ?, ?)',
        [(f.type_id, f.group_id, f.volume, f.source, f.basis) for f in filled],
    )
    return filled
