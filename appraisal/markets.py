"""Where an appraisal prices a list: a market the user picks.

A market is a place id (an NPC station, a structure, a solar system or a region) or one of
evepraisal's market names, which tools built for evepraisal send: `jita`, `amarr`,
`dodixie`, `hek`, `rens` (the hub stations), `perimeter` (Perimeter's Tranquility Trading
Tower when its market is shared here, else the system Perimeter) and `universe` (every
tracked region). Each resolves to the books to read: (snapshot, place) pairs, the snapshot
being the region's market with its shared structures (market.books.view, through
`profit.selectors`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from market import structures
from market.snapshot import Snapshot
from profit import selectors
from sde.ids import is_ascii_number
from sde.places import Place, place_json, resolve

DEFAULT_MARKET = 60003760  # Jita IV - Moon 4 - Caldari Navy Assembly Plant
TTT, PERIMETER = 1028858195912, 30000144  # Perimeter's Tranquility Trading Tower, its system

# evepraisal's market names -> a place id (None: every tracked region).
NAMED: dict[str, int | None] = {
    "jita": 60003760,
    "amarr": 60008494,
    "dodixie": 60011866,
    "hek": 60005686,
    "rens": 60004588,
    "perimeter": TTT,
    "universe": None,
}


class UnknownMarket(ValueError):
    """A market the request names that is no place and no market name (a 400)."""


@dataclass(frozen=True)
class Market:
    """The books an appraisal reads, and how an answer names the market."""

    name: str  # evepraisal's name when one was asked for, else the place's name
    place: Place | None  # None for every tracked region
    books: list[tuple[Snapshot, Place]]

    def json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.place.name if self.place else "every tracked region",
            "place": place_json(self.place) if self.place else None,
            "kind": self.place.kind if self.place else "universe",
        }


def resolve_market(value: str | int | None) -> Market:
    """The market `value` names (default Jita 4-4), as its books are now; `UnknownMarket`
    for anything else, and profit's own errors (404 a place with no market here, 503 no
    snapshot yet)."""
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return _at(str(DEFAULT_MARKET), DEFAULT_MARKET)
    if text in NAMED:
        place_id = NAMED[text]
        if place_id is None:
            return _universe(text)
        if place_id == TTT and not ((known := structures.known(TTT)) is not None and known.shared):
            place_id = PERIMETER  # its market is not read here: the system's NPC stations
        return _at(text, place_id)
    if not is_ascii_number(text):
        names = ", ".join(NAMED)
        raise UnknownMarket(
            f"Unknown market {value!r}: give a station, structure, system or region id, or "
            f"one of {names}."
        )
    return _at(text, int(text))


def _at(name: str, place_id: int) -> Market:
    snapshot, where = selectors.located(selectors.place(place_id), {})
    shown = where.name if name.isdigit() else name
    return Market(shown, where, [(snapshot, where)])


def _universe(name: str) -> Market:
    books = []
    for region_id in settings.MARKET_REGIONS:
        try:
            books.append(selectors.located(resolve(region_id), {}))
        except selectors.NoSnapshot:
            continue  # a region still waiting for its first snapshot
    if not books:
        raise selectors.NoSnapshot("No tracked region has a market snapshot yet.")
    return Market(name, None, books)
