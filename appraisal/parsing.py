"""Read a paste from the game (or a player) into items: what, how many, from which line.

`parse(text)` reads line by line, so a paste mixing formats works: each line goes to the
first format that reads it with names that are types of the installed SDE (appraisal/names.py:
exact, then ignoring case and spacing). Formats made of blocks (EFT fittings, killmails, the
older fitting copy) read the lines under their header first (appraisal/formats/blocks.py);
then come the tab-separated windows (appraisal/formats/tables.py), then one-line text
(appraisal/formats/lines.py). A line no format reads gets a last, heuristic try: without
bullets, then with its name matched approximately (flagged `guess`). What is still unread
is returned in `unparsed` with its line number: nothing is dropped silently. Blank lines,
and lines a format recognises as naming no item (headers, empty slots, a killmail's "Corp:"
line), are neither items nor unparsed.

How each format looks, the quantity rules and how to add a format: docs/appraisal-parsing.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from appraisal.formats import Reading, Way
from appraisal.formats.blocks import Block, read_in_block, read_killmail_item, start_block
from appraisal.formats.lines import (
    leading_counts,
    read_cargo_scan,
    read_contract_title,
    read_industry,
    read_listing,
    read_loot_history,
    trailing_counts,
)
from appraisal.formats.numbers import is_number, quantity
from appraisal.formats.tables import TABLE_READERS, cells
from appraisal.names import NameTable, names

FORMATS: tuple[str, ...] = (
    "assets",
    "cargo_scan",
    "contract",
    "dscan",
    "eft",
    "fitting",
    "heuristic",
    "industry",
    "killmail",
    "listing",
    "loot_history",
    "mining_ledger",
    "moon_ledger",
    "pi",
    "survey_scanner",
    "view_contents",
    "wallet",
)

# One-line text formats, in the order they are tried (tab-separated rows: TABLE_READERS).
LINE_READERS = (
    ("loot_history", read_loot_history),
    ("killmail", read_killmail_item),
    ("industry", read_industry),
    ("contract", read_contract_title),
    ("cargo_scan", read_cargo_scan),
    ("listing", read_listing),
)

# Approximate name matches cost about a millisecond each: at most this many distinct names
# are guessed per paste; the lines past it stay unparsed (so 20,000 lines of noise still
# answer in well under a second).
MAX_GUESSES = 100

# Line breaks as a text box shows them (not str.splitlines: U+0085, U+2028 and the like stay
# inside their line, so line numbers match what the trader sees).
LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLUEPRINT = re.compile(r"\((?P<kind>copy|original|bpc|bpo)\)$", re.IGNORECASE)
_GLUED_COUNT = re.compile(
    r"(?:[x\u00d7]\d[\d,.'\u2019]*|\s[xX\u00d7])$"
)  # `Tritaniumx5`, `Tritanium x`
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u00b7>]+|\[\s?\]|\(\s?\))\s+")


@dataclass(frozen=True)
class Item:
    type_id: int
    name: str  # the SDE's name of the type
    quantity: int  # >= 1 (a line with no quantity means 1)
    parser: str  # which format read the line: one of FORMATS
    line: int  # 1-based line number in the pasted text
    typed: str  # the name as pasted
    guess: bool  # True when the name matched only approximately (closest name)
    bpc: bool = False  # a blueprint copy
    runs: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unparsed:
    line: int  # 1-based
    text: str  # the line as pasted


@dataclass(frozen=True)
class Parsed:
    items: list[Item]  # in pasted order, one per line read (two for a module and its charge)
    unparsed: list[Unparsed]  # every non-blank line no format could read
    kind: str  # the format that read most lines ("listing" when none did)


@dataclass
class _Paste:
    """What has been read so far."""

    table: NameTable
    items: list[Item] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)
    lines_read: Counter[str] = field(default_factory=Counter)
    guessed: set[str] = field(default_factory=set)


def parse(text: str) -> Parsed:
    """The items `text` names, line by line (see the module's docstring)."""
    paste = _Paste(names())
    block: Block | None = None
    previous: tuple[int, str] | None = None  # the last non-blank line
    for number, line in enumerate(LINE_BREAK.split(text), 1):
        if not line.strip():
            continue
        read = _read_line(line, number, block, paste.table)
        if read is None:
            found = _heuristic(line, number, paste)
            read = ("heuristic", found, block) if found is not None else None
        if read is None:
            paste.unparsed.append(Unparsed(number, line))
        else:
            kind, found, block = read
            paste.items.extend(found)
            paste.lines_read[kind] += 1
            _claim_table_title(paste, kind, line, previous)
        previous = (number, line)
    ranked = paste.lines_read.most_common(1)
    return Parsed(paste.items, paste.unparsed, ranked[0][0] if ranked else "listing")


def _read_line(
    line: str, number: int, block: Block | None, table: NameTable
) -> tuple[str, list[Item], Block | None] | None:
    """(format, items, block after the line) for the first format that reads `line`."""
    if block is not None:
        ways, after = read_in_block(line, block)
        found = _first_known(ways, block.kind, number, table)
        if found is not None:
            return block.kind, found, after
    started = start_block(line)
    if started is not None:
        kind, (ways, after) = started
        found = _first_known(ways, kind, number, table)
        if found is not None:
            return kind, found, after
    for kind, ways in _free_ways(line):
        found = _first_known(ways, kind, number, table)
        if found is not None:
            return kind, found, None
    return None


def _free_ways(line: str) -> Iterator[tuple[str, list[Way]]]:
    """Each format outside blocks, in order, with its ways to read `line` (lazily)."""
    if "\t" in line:
        row = cells(line)
        for kind, read_row in TABLE_READERS:
            yield kind, read_row(row)
    else:
        for kind, read_text in LINE_READERS:
            yield kind, read_text(line)


def _first_known(ways: list[Way], kind: str, number: int, table: NameTable) -> list[Item] | None:
    """The items of the first way whose names are all types (an empty way reads nothing)."""
    for way in ways:
        items = []
        for reading in way:
            item = _known(reading, kind, number, table)
            if item is None:
                break
            items.append(item)
        else:
            return items
    return None


def _known(reading: Reading, kind: str, number: int, table: NameTable) -> Item | None:
    """`reading` as an item of a type named exactly (but for case and spacing), with a
    blueprint's `(Copy)` or `(Original)` taken off, or of the type id the line carries."""
    typed, copy = reading.typed, reading.bpc
    found = table.lookup(typed)
    marked = _BLUEPRINT.search(typed) if found is None else None
    if marked is not None:
        found = table.lookup(typed[: marked.start()].rstrip())
        copy = copy or marked["kind"].casefold() in ("copy", "bpc")
    if found is None and reading.type_id in table.by_id:
        found = (reading.type_id, table.by_id[reading.type_id])  # e.g. a localised name
    if found is None:
        return None
    type_id, name = found
    return Item(
        type_id=type_id,
        name=name,
        quantity=reading.quantity,
        parser=kind,
        line=number,
        typed=typed,
        guess=False,
        bpc=copy,
        runs=reading.runs,
        extra=reading.extra,
    )


def _heuristic(line: str, number: int, paste: _Paste) -> list[Item] | None:
    """A last try at a line no format read: without a leading bullet, then with its name
    matched approximately (at most MAX_GUESSES distinct names per paste)."""
    text = _BULLET.sub("", " ".join(line.split())).rstrip(",;")
    if not text:
        return None
    if text != line.strip():
        ways = read_cargo_scan(text) + read_listing(text)
        found = _first_known(ways, "heuristic", number, paste.table)
        if found is not None:
            return found
    best: tuple[str, int, int, str, float] | None = None  # typed, count, id, name, score
    for typed, count in _guessable(text):
        key = typed.casefold()
        if key not in paste.guessed and len(paste.guessed) >= MAX_GUESSES:
            break
        paste.guessed.add(key)
        scored = paste.table.guess_scored(typed)
        if scored is not None and (best is None or scored[1] > best[4]):
            (type_id, name), score = scored
            best = (typed, count, type_id, name, score)
    if best is None:
        return None
    typed, count, type_id, name, _ = best
    return [Item(type_id, name, count, "heuristic", number, typed, guess=True)]


def _guessable(text: str) -> Iterator[tuple[str, int]]:
    """(name, count) readings of `text` worth a guess, with a count first, the whole line
    last; the closest wins (`Tritanum 10` is 10 Tritanium, `Cap Boster 25` one Cap Booster
    25). Never a name holding a figure that is no quantity (`1.5 Tritanium`) or ending in a
    count glued to it (`Tritaniumx5`) or missing (`Tritanium x`): a guess may change the
    name, never invent a count."""
    splits = [(rest, count) for count, rest, _ in leading_counts(text)]
    splits += [(name, count) for count, name in trailing_counts(text)]
    for typed, count in [*splits, (text, 1)]:
        stray = any(is_number(word) and quantity(word) is None for word in typed.split())
        if not stray and not _GLUED_COUNT.search(typed):
            yield typed, count


def _claim_table_title(
    paste: _Paste, kind: str, line: str, previous: tuple[int, str] | None
) -> None:
    """The industry window's material tables come under a title row (`Datacores\t\t\t\t`)
    that names no item: once the table's header is read, its title is read too."""
    if kind != "industry" or not line.startswith("Item\t") or previous is None:
        return
    last = paste.unparsed[-1] if paste.unparsed else None
    title = cells(previous[1])
    if last is not None and last.line == previous[0] and len(title) > 2 and not any(title[1:]):
        paste.unparsed.pop()
        paste.lines_read["industry"] += 1
