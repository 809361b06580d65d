"""Type names as players paste them, matched to the types of the installed SDE.

A pasted name is matched exactly, then ignoring case, spacing, typographic quotes and the
asterisk some clients append: both are dictionary lookups over every published type, market
or not (a paste names skills, SKINs and blueprints too). Only then is the closest name
looked for, through the item search's ranking (sde/search.py, market types only), and kept
if it is close enough; such a match is a guess, flagged for the trader to check.

The tables are built once per installed SDE file (`per_installed_sde`): about 27,000 names,
read in some 50 ms.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from rapidfuzz import fuzz

from sde.search import search_items
from sde.selectors import per_installed_sde

# How close (0-100, rapidfuzz) the closest name must be for a guess: "tritanum" (94) and
# "caracal navy" for "Caracal Navy Issue" (80) pass, "trit" for "Tritanium" (62) does not.
GUESS_SCORE = 80.0
GUESS_CANDIDATES = 5
GUESS_CACHE_SIZE = 20_000  # guesses remembered per SDE file (a guess costs about a millisecond)

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"'})

Match = tuple[int, str]  # type id, the SDE's name


def fold(typed: str) -> str:
    """The key a name is looked up by: case, runs of spaces (any kind), typographic quotes
    and a trailing asterisk do not matter."""
    folded = " ".join(typed.translate(_QUOTES).split()).casefold()
    return folded.rstrip("*").rstrip()


@dataclass(frozen=True)
class NameTable:
    """Every published type by exact name, by folded name and by id."""

    exact: dict[str, Match]
    folded: dict[str, Match]
    by_id: dict[int, str]
    guesses: dict[str, tuple[Match, float] | None] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, rows: list[tuple[int, str]]) -> NameTable:
        """`rows` in order of preference: where two types share a name, the first wins."""
        exact: dict[str, Match] = {}
        folded: dict[str, Match] = {}
        for type_id, name in rows:
            exact.setdefault(name, (type_id, name))
            folded.setdefault(fold(name), (type_id, name))
        return cls(exact, folded, {type_id: name for type_id, name in rows})

    def lookup(self, typed: str) -> Match | None:
        """The type named exactly, or but for case and spacing; None otherwise."""
        found = self.exact.get(typed)
        return found if found is not None else self.folded.get(fold(typed))

    def guess(self, typed: str) -> Match | None:
        """The market type whose name is closest to `typed`, if close enough."""
        scored = self.guess_scored(typed)
        return scored[0] if scored is not None else None

    def guess_scored(self, typed: str) -> tuple[Match, float] | None:
        """`guess` with how close it is (GUESS_SCORE to 100)."""
        key = fold(typed)
        if key in self.guesses:
            return self.guesses[key]
        found = _closest(key) if 3 <= len(key) <= 100 else None
        if len(self.guesses) >= GUESS_CACHE_SIZE:
            self.guesses.clear()
        self.guesses[key] = found
        return found


def _closest(key: str) -> tuple[Match, float] | None:
    best: tuple[Match, float] | None = None
    for hit in search_items(key, GUESS_CANDIDATES):
        name = hit.type_name.casefold()
        score = max(fuzz.ratio(key, name), fuzz.token_sort_ratio(key, name))
        if score >= GUESS_SCORE and (best is None or score > best[1]):
            best = (hit.type_id, hit.type_name), score
    return best


@per_installed_sde
def names() -> NameTable:
    """The name tables of the SDE installed now."""
    return NameTable.build(_load_rows(Path(settings.SDE_PATH)))


def _load_rows(path: Path) -> list[tuple[int, str]]:
    """Published types, market types first, then by id: a name two types share (a crate
    re-issued for the market, a SKIN twice) goes to the one that can be priced."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            'SELECT "typeID", "typeName" FROM "invTypes" '
            'WHERE "published" = 1 AND "typeName" IS NOT NULL AND "typeName" != \'\' '
            'ORDER BY "marketGroupID" IS NULL, "typeID"'
        ).fetchall()
    finally:
        conn.close()


def match_name(typed: str) -> tuple[int, str, bool] | None:
    """(type id, SDE name, guess) for a pasted name: exact first, then ignoring case and
    spacing, then the closest market name (guess=True); None when nothing is close."""
    table = names()
    found = table.lookup(typed)
    if found is not None:
        return found[0], found[1], False
    guessed = table.guess(typed)
    if guessed is not None:
        return guessed[0], guessed[1], True
    return None
