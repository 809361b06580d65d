"""Formats of one tab-separated row: what the game's windows copy.

Each reader takes the row's cells (split on tabs, each stripped) and checks the shape of
the cells it relies on; the parser tries them in `TABLE_READERS` order, so a row that two
formats could read goes to the first (a 5-cell item row is a contract's before an
inventory's).

- mining_ledger: `2017.10.11\tVeldspar\t349\t5584.0\t962,161\tJita\t1230\t30000142`
- moon_ledger: `2019.01.19\tCorp\tPilot\tYtterbite\t8,625\t86,250 m³\t70,377,757 ISK`
- wallet: `2023.05.01 12:34\t1,000\tTritanium\t5.00 ISK\t-5,000.00 ISK\tClient\tJita`
  (and the older `date\tname\tprice\tquantity\t...`)
- industry: `Datacore - Mechanical Engineering\t60\t0\t43694.05\t20424` (job materials)
- dscan: `587\tSome pilot's Rifter\tRifter\t1,234 km` (and the older `name\ttype\tdistance`)
- pi: `331.0\tAqueous Liquids\tRouted` (routes), `\tAqueous Liquids\t305.0\t3.05` (storage)
- survey_scanner: `Veldspar\t26,644\t6,115 m`
- contract: `Rokh\t1\tBattleship\tShip\tFitted`
- view_contents: `Bouncer II\tCombat Drone\tDrone Bay\t1`
- assets: `Tritanium\t1,000\tMineral\tMaterial\t\t\t10 m3\t5,120.00 ISK` (inventory, hangar
  and asset lists; the quantity is blank for an assembled ship)
- listing: `Tritanium\t10` or `10\tTritanium` (multibuy, spreadsheets)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from appraisal.formats import NOTHING, Reading, Way
from appraisal.formats.numbers import is_date, is_distance, quantity

Cells = list[str]

_RUNS = re.compile(r"Runs:\s*(\d+)", re.IGNORECASE)
_ME = re.compile(r"Material Efficiency:\s*(\d+)", re.IGNORECASE)
_TE = re.compile(r"Time Efficiency:\s*(\d+)", re.IGNORECASE)


def cells(line: str) -> Cells:
    return [cell.strip() for cell in line.split("\t")]


def _id(cell: str) -> int | None:
    return int(cell) if cell.isascii() and cell.isdigit() else None


def _money(cell: str) -> bool:
    return cell.upper().endswith("ISK")


def _volume(cell: str) -> bool:
    return cell.endswith(("m3", "m\u00b3"))


def read_mining_ledger(row: Cells) -> list[Way]:
    """Date, ore, quantity, volume, price, system, ore type id, system id."""
    if row[0].casefold() == "timestamp" and "Ore Type" in row and "Pilot" not in row:
        return [NOTHING]  # the header the ledger's "copy to clipboard" starts with
    count = quantity(row[2]) if len(row) >= 3 and is_date(row[0]) else None
    if count is None:
        return []
    hint = _id(row[6]) if len(row) >= 8 else None
    return [(Reading(row[1], count, type_id=hint),)]


def read_moon_ledger(row: Cells) -> list[Way]:
    """Date, corporation, pilot, ore, quantity, volume, price[, ore type id, system id]."""
    if row[0].casefold() == "timestamp" and "Ore Type" in row and "Pilot" in row:
        return [NOTHING]
    count = quantity(row[4]) if len(row) >= 5 and is_date(row[0]) else None
    if count is None:
        return []
    hint = _id(row[7]) if len(row) >= 9 else None
    return [(Reading(row[3], count, extra={"pilot": row[2]}, type_id=hint),)]


def read_wallet(row: Cells) -> list[Way]:
    """A market transaction: date, quantity, type, price, credit, client, where; or the
    older date, type, price, quantity, credit, ... A sale's quantity may carry a minus."""
    if len(row) < 4 or not is_date(row[0]):
        return []
    count = quantity(row[1].lstrip("-\u2212"))
    if count is not None and _money(row[3]):
        return [(Reading(row[2], count, extra={"price": row[3]}),)]
    count = quantity(row[3].lstrip("-\u2212"))
    if count is not None and _money(row[2]):
        return [(Reading(row[1], count, extra={"price": row[2]}),)]
    return []


def read_industry(row: Cells) -> list[Way]:
    """The industry window's "copy material information": item, required, available,
    estimated unit price, type id; with its header rows and "No item selected"."""
    if row[:2] == ["Item", "Required"] or row[0] == "No item selected":
        return [NOTHING]
    count = quantity(row[1]) if len(row) == 5 else None
    hint = _id(row[4]) if len(row) == 5 else None
    if count is None or hint is None:
        return []
    return [(Reading(row[0], count, type_id=hint),)]


def read_dscan(row: Cells) -> list[Way]:
    """Type id, name, type, distance; or the older name, type, distance. One per row."""
    if len(row) == 4 and _id(row[0]) is not None and is_distance(row[3]):
        return [(Reading(row[2], type_id=_id(row[0])),)]
    if len(row) == 3 and is_distance(row[2]) and quantity(row[1]) is None:
        return [(Reading(row[1]),)]
    return []


def read_pi(row: Cells) -> list[Way]:
    """Routes: quantity, name, routed or not. Storage: (icon), name, quantity[, volume]."""
    if len(row) == 3 and row[2].casefold() in ("routed", "not routed"):
        count = quantity(row[0])
        routed = row[2].casefold() == "routed"
        return [(Reading(row[1], count, extra={"routed": routed}),)] if count else []
    if row[0] == "" and len(row) in (3, 4):
        count = quantity(row[2])
        return [(Reading(row[1], count),)] if count else []
    return []


def read_survey_scanner(row: Cells) -> list[Way]:
    """Ore, quantity, distance."""
    count = quantity(row[1]) if len(row) == 3 and is_distance(row[2]) else None
    return [(Reading(row[0], count),)] if count else []


def read_contract(row: Cells) -> list[Way]:
    """Name, quantity, type, category, details: a contract's items, five cells exactly."""
    if len(row) != 5 or any(_money(cell) or _volume(cell) for cell in row):
        return []
    count = quantity(row[1])
    if count is None:
        return []
    details = row[4]
    copy = "blueprint copy" in details.casefold()
    runs = _RUNS.search(details)
    extra: dict[str, object] = {"details": details} if details else {}
    if details.casefold().startswith("fitted"):
        extra["fitted"] = True
    for key, pattern in (("material_efficiency", _ME), ("time_efficiency", _TE)):
        found = pattern.search(details)
        if found:
            extra[key] = int(found[1])
    reading = Reading(row[0], count, copy, int(runs[1]) if runs and copy else None, extra)
    return [(reading,)]


def read_view_contents(row: Cells) -> list[Way]:
    """Name, group, location (a slot, a bay), quantity; or name, group, quantity."""
    if len(row) not in (3, 4) or not row[1] or quantity(row[1]) is not None:
        return []
    count = quantity(row[-1])
    if count is None:
        return []
    extra = {"location": row[2]} if len(row) == 4 and row[2] else {}
    return [(Reading(row[0], count, extra=extra),)]


def read_assets(row: Cells) -> list[Way]:
    """Name, quantity (blank for one), group, category, size, slot, volume, price."""
    if len(row) < 3 or not row[0]:
        return []
    count = 1 if row[1] == "" else quantity(row[1])
    if count is None:
        return []
    copy = any("blueprint copy" in cell.casefold() for cell in row[2:])
    return [(Reading(row[0], count, bpc=copy),)]


def read_listing(row: Cells) -> list[Way]:
    """`Tritanium\t10`, `10\tTritanium`, `Tritanium\t` (one)."""
    while len(row) > 1 and not row[-1]:
        row = row[:-1]
    if len(row) == 1 and row[0]:
        return [(Reading(row[0]),)]
    if len(row) != 2 or not row[0] or not row[1]:
        return []
    ways: list[Way] = []
    for name, count in ((row[0], quantity(row[1])), (row[1], quantity(row[0]))):
        if count is not None:
            ways.append((Reading(name, count),))
    return ways


TABLE_READERS: tuple[tuple[str, Callable[[Cells], list[Way]]], ...] = (
    ("mining_ledger", read_mining_ledger),
    ("moon_ledger", read_moon_ledger),
    ("wallet", read_wallet),
    ("industry", read_industry),
    ("dscan", read_dscan),
    ("pi", read_pi),
    ("survey_scanner", read_survey_scanner),
    ("contract", read_contract),
    ("view_contents", read_view_contents),
    ("assets", read_assets),
    ("listing", read_listing),
)
