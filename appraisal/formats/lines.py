"""Formats of one line of free text (no tabs): what players type and a few game windows.

- cargo_scan: the cargo scanner, `10 Tritanium` (a count, a space, the name);
- listing: free text and multibuy, `10x Tritanium`, `Tritanium x10`, `Tritanium 10`,
  `Tritanium: 1'000`, `Tritanium - 3,029,400`, or the name alone for one unit;
- loot_history: `03:21:19 Some Pilot has looted 5 x Garde II`;
- industry: the old job material list, `Tritanium (4662 Units)`, and a bill of materials,
  `Zydrine - [You: 12783 - Perfect: 11625]` or `Tritanium [899052]`;
- contract: a contract's title line, `Zircon x 21163 (Item Exchange)`.

A line such as `Cap Booster 25` is a name before it is `Cap Booster` times 25: every reader
offers the whole line as a name first when it can be one, and the parser keeps the first
reading whose name is a type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from appraisal.formats import Reading, Way
from appraisal.formats.numbers import MAX_QUANTITY_CHARS, quantity

_GAPS = re.compile(r"\s+")
_TIMES = "xX\u00d7"
_FIGURES = "[\\d,.'\u2019\\s]"
_FIGURES_FIRST = re.compile(rf"{_FIGURES}*[xX\u00d7]?")  # where a leading count can end
_FIGURE_CHARS = frozenset("0123456789,.'\u2019 \t\u00a0\u202f\u2009xX\u00d7")
_LOOT = re.compile(r"\d{1,2}:\d{2}(?::\d{2})? (?P<who>.+?) has looted (?P<n>.+?) x (?P<name>.+)")
_UNITS = re.compile(r"(?P<name>.+?) ?\((?P<n>[^()]+?) Units?\)", re.IGNORECASE)
_BILL = re.compile(r"(?P<name>.+?) - \[You: (?P<n>[^\]]+?) - Perfect: (?P<perfect>[^\]]+?)\]")
_BRACKETED = re.compile(r"(?P<name>[^\[\]]+?) ?\[(?P<n>[^\[\]]+)\]")
_CONTRACT_TITLE = re.compile(
    r"(?P<name>.+?) x (?P<n>\S+) \((?P<kind>Item Exchange|Auction|Courier|Want To Buy)\)",
    re.IGNORECASE,
)


def leading_counts(text: str) -> Iterator[tuple[int, str, bool]]:
    """(count, rest, written with an x) for each way `text` starts with a count:
    `10 Tritanium`, `10x Tritanium`, `1 000 x Tritanium`; shortest count first."""
    if not text[:1].isdigit():
        return
    figures = _FIGURES_FIRST.match(text, 0, MAX_QUANTITY_CHARS + 2)
    reach = figures.end() if figures else 0
    for gap in _GAPS.finditer(text):
        if gap.start() > reach:
            return
        head, rest = text[: gap.start()], text[gap.end() :]
        times = head[-1] in _TIMES
        count = quantity(head[:-1].rstrip() if times else head)
        if count is not None and rest:
            yield count, rest, times


def trailing_counts(text: str) -> Iterator[tuple[int, str]]:
    """(count, name) for each way `text` ends with a count: `Tritanium 10`, `Tritanium x10`,
    `Tritanium x 10`, `Tritanium: 1'000`, `Tritanium - 10`; shortest count first."""
    if not text or not (text[-1].isdigit() or text[-1] in _TIMES):
        return
    reach = len(text)  # where a trailing count can start, scanning back over figures
    shortest = max(len(text) - MAX_QUANTITY_CHARS - 2, 0)
    while reach > shortest and text[reach - 1] in _FIGURE_CHARS:
        reach -= 1
    for gap in reversed(list(_GAPS.finditer(text, max(reach - 1, 0)))):
        name, tail = text[: gap.start()], text[gap.end() :]
        if tail[:1] and tail[0] in _TIMES:
            tail = tail[1:].lstrip()
        elif tail[-1:] and tail[-1] in _TIMES:
            tail = tail[:-1]
        count = quantity(tail)
        name = name.rstrip(":=-\u2013 ")
        if count is not None and name:
            yield count, name


def read_cargo_scan(line: str) -> list[Way]:
    """`10 Tritanium`, `12'000 Tengu`, `10 Caracal Blueprint (Copy)`."""
    text = " ".join(line.split())
    return [(Reading(rest, count),) for count, rest, times in leading_counts(text) if not times]


def read_listing(line: str) -> list[Way]:
    """Free text: the name alone, then a count before it (`10x`), then after it."""
    text = " ".join(line.split())
    if not text:
        return []
    ways: list[Way] = [(Reading(text),)]
    ways += [(Reading(rest, count),) for count, rest, times in leading_counts(text) if times]
    ways += [(Reading(name, count),) for count, name in trailing_counts(text)]
    return ways


def read_loot_history(line: str) -> list[Way]:
    """`03:21:19 Some Pilot has looted 5 x Garde II` (the fleet's loot history)."""
    if "has looted" not in line:
        return []
    found = _LOOT.fullmatch(" ".join(line.split()))
    count = quantity(found["n"]) if found else None
    if found is None or count is None:
        return []
    return [(Reading(found["name"], count, extra={"looter": found["who"]}),)]


def read_industry(line: str) -> list[Way]:
    """`Tritanium (4662 Units)`, `Zydrine - [You: 12783 - Perfect: 11625]`, `Tritanium [899052]`."""
    text = " ".join(line.split())
    if not text.endswith((")", "]")):
        return []
    bill = _BILL.fullmatch(text)
    if bill is not None:
        count, perfect = quantity(bill["n"]), quantity(bill["perfect"])
        if count is None:
            return []
        return [(Reading(bill["name"], count, extra={"perfect": perfect}),)]
    for pattern in (_UNITS, _BRACKETED):
        found = pattern.fullmatch(text)
        count = quantity(found["n"]) if found else None
        if found is not None and count is not None:
            return [(Reading(found["name"], count),)]
    return []


def read_contract_title(line: str) -> list[Way]:
    """`Zircon x 21163 (Item Exchange)`: a contract's one-item title."""
    if not line.rstrip().endswith(")"):
        return []
    found = _CONTRACT_TITLE.fullmatch(" ".join(line.split()))
    count = quantity(found["n"]) if found else None
    if found is None or count is None:
        return []
    return [(Reading(found["name"], count, extra={"contract": found["kind"]}),)]
