"""Place search: any NPC station, solar system or region of the installed SDE by name, and
the structures whose markets members share (named as ESI told them: `sde.places`).

The same index as the item search (`sde.search.SearchIndex`: exact name, name prefix, word
prefixes, substring, then a typo-tolerant fallback), built over the names `sde.places` knows,
one index per set of kinds asked for (at most seven sets; about 13,000 names in all). Within a
tier the five main trade hub stations come first, then shorter names: "jita" finds the system
Jita, then Jita IV - Moon 4 - Caldari Navy Assembly Plant, then Jita's other stations.
Each hit is described by `sde.places.describe` (system, region, security).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sde import places
from sde.search import TIER_NAMES, SearchIndex
from sde.selectors import per_installed_sde

KINDS: tuple[str, ...] = ("station", "structure", "system", "region")

# The five stations where most of New Eden trades (a fact of the game, as CCP's id ranges
# are): a trader who types "jita" means Jita 4-4 before Jita's other stations.
MAIN_HUBS = frozenset({60003760, 60008494, 60011866, 60004588, 60005686})


class BadPlaceQuery(ValueError):
    """A kind the search does not know."""


@dataclass(frozen=True)
class PlaceHit:
    place: places.Place
    tier: int

    @property
    def match(self) -> str:
        return TIER_NAMES[self.tier]


def parse_kinds(text: str | Iterable[str] | None) -> frozenset[str]:
    """ "station,system" -> {"station", "system"}; empty or None means every kind."""
    if text is None:
        return frozenset(KINDS)
    words = text.split(",") if isinstance(text, str) else list(text)
    kinds = frozenset(w.strip().lower() for w in words if w.strip())
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise BadPlaceQuery(
            f"Unknown kind {', '.join(repr(k) for k in unknown)}: "
            f"use {', '.join(KINDS)} (comma separated)."
        )
    return kinds or frozenset(KINDS)


def _rows(kind: str) -> list[tuple[int, str]]:
    if kind == "station":
        return list(places.station_names().items())
    if kind == "structure":
        return list(places.structure_names().items())
    if kind == "system":
        return list(places.system_names().items())
    return list(places.region_names().items())


class _Indexes:
    """One index per set of kinds, built on first use (per installed SDE); a set with
    structures is built again when the named structures change (rarely: a member shares a
    market)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[frozenset[str], tuple[object, SearchIndex]] = {}

    def get(self, kinds: frozenset[str]) -> SearchIndex:
        version = tuple(sorted(places.structure_names().items())) if "structure" in kinds else ()
        built = self._built.get(kinds)
        if built is None or built[0] != version:
            with self._lock:
                built = self._built.get(kinds)
                if built is None or built[0] != version:
                    rows = [row for kind in sorted(kinds) for row in _rows(kind)]
                    built = (version, SearchIndex.build(rows))
                    self._built[kinds] = built
        return built[1]


_indexes = per_installed_sde(_Indexes)


def search_places(
    query: str, kinds: Iterable[str] | None = None, limit: int = 10
) -> list[PlaceHit]:
    """The places whose names best match `query`, best first (see the module docstring)."""
    wanted = parse_kinds(kinds if kinds is None or isinstance(kinds, str) else list(kinds))
    if limit <= 0:
        return []
    index = _indexes().get(wanted)
    # Ask for a few more so the hubs can move up within their tier, then cut to `limit`.
    hits = index.search(query, limit + len(MAIN_HUBS))
    ranked = sorted(enumerate(hits), key=lambda p: (p[1].tier, p[1].type_id not in MAIN_HUBS, p[0]))
    return [PlaceHit(places.describe(hit.type_id), hit.tier) for _, hit in ranked[:limit]]


def place_hit_json(hit: PlaceHit) -> dict[str, object]:
    """A hit as the place search API answers it."""
    place = hit.place
    return {
        "id": place.id,
        "name": place.name,
        "kind": place.kind,
        "system_id": place.system_id,
        "system": place.system_name,
        "region_id": place.region_id,
        "region": place.region_name,
        "security": place.security,
        "match": hit.match,
    }
