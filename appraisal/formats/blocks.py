"""Formats read as blocks, where a header line says how the lines after it are read.

- eft: a fitting as EFT and pyfa write it, and the game's "Copy to Clipboard":
  `[Drake, My fit]` (the hull, one item), then modules (`Damage Control II`), a module with
  its loaded charge (`Heavy Missile Launcher II, Scourge Fury Heavy Missile`, the charge
  counted once), `Module /OFFLINE`, empty slots (`[Empty High slot]`, skipped), drones and
  cargo (`Hobgoblin II x5`), and pyfa's list of mutated modules (`[1] Name` and its
  indented lines, skipped: the module is already counted on its slot's line).
- fitting: the older fitting copy in sections, `High power` then `5x Heavy Missile
  Launcher II`, `1 Damage Control II` or a name alone.
- killmail: a killmail copied as text, from its date line (`2013.06.15 17:28:00`): the
  victim's lines (`Destroyed: Scimitar` is the hull), the involved parties, then
  `Destroyed items:` and `Dropped items:` with `Name, Qty: 3 (Cargo)` lines.

A block lasts while its lines are read: a blank line keeps it (fittings have sections), a
line that another format reads ends it. Killmail item lines that say `, Qty: n` or end
`(Destroyed)` / `(Dropped)` are read as such anywhere (`read_killmail_item`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from appraisal.formats import NOTHING, Reading, Way
from appraisal.formats.lines import leading_counts
from appraisal.formats.numbers import is_date, quantity


@dataclass(frozen=True)
class Block:
    """Where a line stands: in which block (`kind`), and which part of it (`part`: the fit's
    name, the fitting's section, the killmail's section)."""

    kind: str  # "eft", "fitting" or "killmail"
    part: str = ""
    mutations: bool = False  # eft: inside pyfa's list of mutated modules


Step = tuple[list[Way], Block]  # the ways to read a line, and the block it leaves

_EFT_HEADER = re.compile(r"\[(?P<hull>[^\[\],]+),\s*(?P<fit>[^\]]*)\]")
_EMPTY_SLOT = re.compile(r"\[empty [\w ]+ slot\]", re.IGNORECASE)
_MUTATION = re.compile(r"\[\d+\]\s+\S.*")
_MUTATED_REF = re.compile(r"\[(\d+)\]$")

FITTING_SECTIONS = frozenset(
    {"high power", "medium power", "low power", "rig slot", "rig slots", "sub system"}
    | {"subsystems", "charges", "fuel", "cargo", "service slots"}
)
# Titles that are also type names (the Drones skill): a title only inside a fitting.
FITTING_INNER_SECTIONS = FITTING_SECTIONS | {"drones", "fighters", "implants", "boosters"}

_KILLMAIL_SECTIONS = {
    "involved parties:": "involved",
    "destroyed items:": "destroyed",
    "dropped items:": "dropped",
    "destroyed:": "destroyed",
    "dropped:": "dropped",
}
_KILLMAIL_FIELD = re.compile(r"(?P<key>[A-Z][A-Za-z ]{0,30}):(?: (?P<value>.*))?")
_KILLMAIL_QTY = re.compile(r"(?P<name>.+?), Qty: (?P<n>[^()]+?)(?: ?\((?P<where>[^()]*)\))?")
_WHERE = re.compile(r"(?P<name>.+?) ?\((?P<where>[^()]*)\)")


def start_block(line: str) -> tuple[str, Step] | None:
    """(format, step) when `line` opens a block: an EFT header, a killmail's date line or
    section title, or a fitting's section title that is no type name."""
    text = " ".join(line.split())
    header = _EFT_HEADER.fullmatch(text)
    if header is not None:
        fit = header["fit"].strip()
        hull = Reading(header["hull"].strip(), extra={"hull": True, "fit": fit})
        return "eft", ([(hull,)], Block("eft", fit))
    section = _KILLMAIL_SECTIONS.get(text.casefold())
    if section is not None:
        return "killmail", ([NOTHING], Block("killmail", section))
    if is_date(text) and " " in text:
        return "killmail", ([NOTHING], Block("killmail", "victim"))
    if text.casefold() in FITTING_SECTIONS:
        return "fitting", ([NOTHING], Block("fitting", text))
    return None


def read_in_block(line: str, block: Block) -> Step:
    """The ways the block reads `line` (and the block after it)."""
    if "\t" in line:
        return [], block
    if block.kind == "eft":
        return _eft_line(line, block)
    if block.kind == "fitting":
        return _fitting_line(line, block)
    return _killmail_line(line, block)


def _eft_line(line: str, block: Block) -> Step:
    text = " ".join(line.split())
    if _EMPTY_SLOT.fullmatch(text):
        return [NOTHING], block
    if _MUTATION.fullmatch(text):
        return [NOTHING], replace(block, mutations=True)
    if block.mutations and line[:1].isspace():
        return [NOTHING], block  # a mutated module's mutaplasmid or its attributes
    block = replace(block, mutations=False)
    extra: dict[str, object] = {"fit": block.part}
    if text.casefold().endswith("/offline"):
        text, extra["offline"] = text[: -len("/offline")].rstrip(), True
    mutated = _MUTATED_REF.search(text)
    if mutated:
        text, extra["mutated"] = text[: mutated.start()].rstrip(), int(mutated[1])
    ways: list[Way] = [(Reading(text, extra=extra),)]
    name, times, count_text = text.rpartition(" x")
    count = quantity(count_text) if times else None
    if name and count:
        ways.append((Reading(name, count, extra=extra),))  # drones and cargo: `Warrior II x5`
    if ", " in text:
        module, charge = text.rsplit(", ", 1)
        loaded = Reading(charge.strip(), extra={**extra, "charge": True})
        ways.append((Reading(module.strip(), extra=extra), loaded))
    return ways, block


def _fitting_line(line: str, block: Block) -> Step:
    text = " ".join(line.split())
    if text.casefold() in FITTING_INNER_SECTIONS:
        return [NOTHING], Block("fitting", text)
    extra = {"section": block.part}
    ways: list[Way] = [(Reading(text, extra=extra),)]
    ways += [(Reading(rest, count, extra=extra),) for count, rest, _ in leading_counts(text)]
    return ways, block


def _killmail_line(line: str, block: Block) -> Step:
    text = " ".join(line.split())
    section = _KILLMAIL_SECTIONS.get(text.casefold())
    if section is not None:
        return [NOTHING], Block("killmail", section)
    if block.part in ("victim", "involved"):
        field = _KILLMAIL_FIELD.fullmatch(text)
        if field is None:
            return [], block
        if block.part == "victim" and field["key"] == "Destroyed" and field["value"]:
            hull = Reading(field["value"].strip(), extra={"destroyed": 1, "hull": True})
            return [(hull,)], block
        return [NOTHING], block
    return read_killmail_item(text, block.part), block


def read_killmail_item(line: str, section: str | None = None) -> list[Way]:
    """`Name`, `Name, Qty: 3`, `Name (Cargo)`, `Name, Qty: 3 (Drone Bay) (Dropped)` in a
    killmail's `section` ("destroyed" or "dropped"); outside one (None), only the lines
    that say `, Qty:` or their fate."""
    text = " ".join(line.split())
    if section is None and not text.endswith(")") and "Qty:" not in text:
        return []
    for fate in ("destroyed", "dropped"):
        if text.casefold().endswith(f"({fate})"):
            section, text = fate, text[: -len(fate) - 2].rstrip()
    counted = _KILLMAIL_QTY.fullmatch(text)
    if section is None and counted is None:
        return []
    if counted is not None:
        count = quantity(counted["n"])
        if count is None:
            return []
        return [(_lost(counted["name"], count, section, counted["where"]),)]
    ways: list[Way] = [(_lost(text, 1, section, None),)]
    where = _WHERE.fullmatch(text)
    if where is not None:
        ways.append((_lost(where["name"], 1, section, where["where"]),))
    return ways


def _lost(name: str, count: int, fate: str | None, where: str | None) -> Reading:
    """An item of a killmail: `extra` says how many were destroyed or dropped (when the
    line or its section says which) and where they were."""
    extra: dict[str, object] = {fate: count} if fate else {}
    if where:
        extra["location"] = where
    return Reading(name.strip(), count, extra=extra)
