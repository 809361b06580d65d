"""Deterministic, realistic market order books (and price history) built from the real SDE.

What it is for: the demo market shown when ESI has never been reached, the local ESI stand-in
(`standin/`) that tests and benchmarks fetch from, and the ingest benchmark, which needs a
Forge-size book (about 380,000 orders) because no real full-region dump is available offline.
Nothing here is live data; callers that show it must label it as generated.

Public API: `generate_orders`, `generate_history`, `hub_station`, `HUB_STATIONS`,
`mid_prices` (the model's mid price per type in a region), `best_prices` (best bid/ask per
type of any order list), `is_kspace_region`, `is_market_region`, `region_book_rules` and
`market_type_ids` (what the SDE allows), `load_sde` (the arrays read from the SDE).

`generate_orders(region_id, n_orders, seed=..., now=...)` returns orders shaped exactly like
ESI's `GET /markets/{region_id}/orders/` items (the real samples in
`shared/data/esi/responses/markets_orders/`): the same twelve keys and value types, sorted by
`order_id`. The result depends only on (region_id, n_orders, seed, now); `now` defaults to the
current UTC time truncated to the hour, so calls within the same hour agree.

How the book is built (all vectorised with numpy; the dicts are made only at the end, so a
Forge-size book of 380,000 orders takes about one second on a 2-core machine):

* Types: every published type with a market group (`invTypes.published = 1`,
  `marketGroupID` not null), read once per installed SDE file with sqlite3 (read-only; plain
  sqlite3 rather than the ORM so that any thread, the stand-in's included, and any test can
  call it without database-access marks). Without an installed SDE the bundled CSVs in
  `sde/bundled/` are read instead (the same rows, so the same books).
* Popularity: a weight per category (minerals, ore, charges, PI and ships trade the most; SKINs
  and blueprints the least) times a heavy-tailed per-type factor, with a hand-picked set of
  famous types (minerals, PLEX, skill injectors, common hulls and T2 modules) boosted further.
  The same types are popular in every region; the weights depend on the seed only.
* Prices: a per-type mid price from a few real recorded ESI prices (minerals, PLEX, skill
  trading items), else `invTypes.basePrice` times a lognormal factor, else a lognormal around
  the category's typical price. Each region scales it a little (Jita is cheapest), so hauling
  between hubs finds opportunities. Sell orders stack above `mid * (1 + spread / 2)` and buy
  orders below `mid * (1 - spread / 2)`; the spread is narrow for liquid types (about 0.5-2 %)
  and wide for rare ones (up to 30 %). Stations away from the hub ask more and bid less, and a
  few out-of-the-way buy orders bid above the hub's asks (in-region hauling). A few junk orders
  too: lowball bids (down to 0.01 ISK) and absurd asks, as in the real books. Prices follow
  EVE's tick rules: four significant digits and at most two decimals (sells round up, buys
  down, so the hub book is never crossed).
* Depth: every liquid type (the most popular ones) gets at least three buy and three sell
  orders at the hub station; the rest of the orders are drawn by popularity.
* Volumes: an order is worth a lognormal amount of ISK typical of its category, so minerals
  and charges come in millions of units and ships in ones (capped at 20 for ships).
* Places: about 55 % of orders at the region's trade hub station (`HUB_STATIONS`), 4 % in
  Upwell structures (real structure ids from the samples in The Forge and Domain, made-up ids
  in the 1,0xx,xxx,xxx,xxx range elsewhere), the rest spread over the region's other NPC
  stations with a few secondary hubs. As in ESI's region book, structures show only ranged
  buy orders: no structure sell orders, no structure bids of range "station". Regions
  without NPC stations therefore show only structure bids.
* PLEX: none in a regional book. Region 19000001 (the global PLEX market, `market/plex.py`)
  holds only PLEX, placed from stations all over known space (most from the five hubs), every
  order of range "region".
* Orders: sells have range "region" (as in the game); buys at NPC stations mostly "station"
  or a few jumps, also solar system, up to 40 jumps and region; structure bids mostly 1 jump
  (as in the recorded samples). Some wide bids (region, 5+ jumps) away from the hub bid like
  hub bids, so they reach the hub and compete there; the eager bids over the hub's asks have
  range "station" (nobody at the hub can fill them);
  duration 90 days for most, also 1/3/7/14/30; `issued` before `now` and within the order's
  duration; `order_id` unique, from 6,500,000,000 up, rising with age, and never the same in two
  k-space regions; `volume_remain <= volume_total`; `min_volume` 1 but for a few buy orders.

`generate_history(region_id, type_id, ...)` makes a year of daily
`GET /markets/{region_id}/history/` rows around the same mid price (PLEX's regional history
ends on 2025-07-07, as ESI's does).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from market.hubs import HUB_STATIONS
from market.plex import PLEX_MARKET_SINCE, PLEX_REGION_ID, PLEX_TYPE_ID, is_plex_region
from market.pricegrid import grid_round
from market.snapshot import RANGE_CODES, RANGE_REGION
from sde.ids import STRUCTURE_ID_MIN

BUNDLE_DIR = Path(__file__).resolve().parent.parent / "sde" / "bundled"
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Real Upwell structures seen in the recorded ESI samples: region -> [(structure, system)].
KNOWN_STRUCTURES: dict[int, list[tuple[int, int]]] = {
    10000002: [(1042508032148, 30000144), (1044752365771, 30000144), (1042499803831, 30000144)],
    10000043: [(1044857068649, 30003491)],
}

# Mid prices of famous types (ISK), from the real ESI samples in shared/data/esi/responses/
# (/markets/prices/ average_price, 2025; order books of 2025-Q1) and 2025 market levels.
ANCHOR_PRICES: dict[int, float] = {
    34: 4.07,  # Tritanium
    35: 27.5,  # Pyerite
    36: 77.4,  # Mexallon
    37: 327.0,  # Isogen
    38: 1300.0,  # Nocxium
    39: 2750.0,  # Zydrine
    40: 4400.0,  # Megacyte
    11399: 35000.0,  # Morphite
    16274: 900.0,  # Helium Isotopes
    16272: 126.0,  # Heavy Water
    17887: 780.0,  # Oxygen Isotopes
    44992: 5_000_000.0,  # PLEX
    40520: 880_000_000.0,  # Large Skill Injector
    45635: 180_000_000.0,  # Small Skill Injector
    40519: 520_000_000.0,  # Skill Extractor (sample: bids to 536M, asks from 547M)
    34133: 2_800_000_000.0,  # Multiple Pilot Training Certificate (sample)
    645: 236_000_000.0,  # Dominix
}

# Types every trader knows: they get many more orders than their category alone would give.
_POPULAR_GROUPS: dict[str, tuple[int, ...]] = {
    "minerals": (34, 35, 36, 37, 38, 39, 40, 11399),
    "skill trading and PLEX": (44992, 40520, 45635, 40519, 34133),
    "ice products and ore": (16272, 16273, 16274, 16275, 17887, 17888, 17889, 62516, 62520),
    "commodities": (9848, 9832, 3689, 9836, 44, 28668),
    "hulls": (
        *(587, 583, 608, 593, 603, 597, 32880, 16240, 605, 621, 626, 627, 24698, 24700),
        *(24702, 638, 645, 12005, 17715, 17736, 17738, 29984, 29986, 29988, 29990, 28606),
        *(17478, 17476, 17480, 22544, 22546, 33468, 33470, 33697, 2998, 649, 648, 16227),
        *(16229, 16231, 16233, 16236, 16238, 17843, 22456, 47466, 49710, 49711, 37135),
    ),
    "T2 modules and drones": (
        *(2048, 11269, 2488, 2456, 2185, 12058, 12076, 3831, 527, 3244, 2605, 519, 2364),
        *(10190, 22291, 4405, 24696, 24535),
    ),
    "charges": (222, 209, 21740, 27435, 21894, 11289, 32006, 12789, 12779),
    "mobile structures": (33474, 33475),
}
POPULAR_TYPES: frozenset[int] = frozenset(t for group in _POPULAR_GROUPS.values() for t in group)

# Per category: (popularity weight, typical ISK value of one order, max units per order).
_CATEGORY_PROFILE: dict[int, tuple[float, float, int]] = {
    4: (6.0, 400e6, 500_000_000),  # Material (minerals, ice products, moon materials)
    25: (3.0, 150e6, 100_000_000),  # Asteroid (ore, compressed ore)
    8: (4.0, 30e6, 20_000_000),  # Charge
    17: (1.5, 60e6, 50_000_000),  # Commodity
    43: (3.0, 60e6, 10_000_000),  # Planetary Commodities
    42: (2.0, 40e6, 50_000_000),  # Planetary Resources
    41: (0.5, 20e6, 1_000),  # Planetary Industry
    7: (2.0, 12e6, 1_000),  # Module
    6: (3.0, 150e6, 20),  # Ship
    18: (2.5, 15e6, 500),  # Drone
    87: (0.8, 20e6, 200),  # Fighter
    20: (1.5, 20e6, 50),  # Implant
    16: (0.8, 20e6, 20),  # Skill
    9: (0.3, 5e6, 5),  # Blueprint
    32: (1.5, 100e6, 20),  # Subsystem
    35: (2.0, 30e6, 500),  # Decryptors
    34: (1.0, 20e6, 200),  # Ancient Relics
    22: (1.0, 20e6, 50),  # Deployable
    23: (0.5, 50e6, 100),  # Starbase
    39: (0.5, 300e6, 5),  # Infrastructure Upgrades
    65: (1.0, 3e9, 3),  # Structure
    66: (0.8, 100e6, 20),  # Structure Module
    91: (0.15, 30e6, 10),  # SKINs
    30: (0.1, 30e6, 10),  # Apparel
    2118: (0.1, 30e6, 10),  # Personalization
    63: (0.1, 50e6, 5),  # Special Edition Assets
}
_DEFAULT_PROFILE = (0.5, 15e6, 1_000)

# Typical mid price (ISK) of a category whose types have no basePrice in the SDE.
_CATEGORY_FALLBACK_PRICE: dict[int, float] = {
    91: 15e6,
    30: 30e6,
    2118: 10e6,
    63: 50e6,
    32: 40e6,
    65: 2e9,
    34: 5e6,
    42: 300.0,
    35: 1e6,
    5: 10e6,
    2100: 30e6,
    46: 100e6,
}
_GLOBAL_FALLBACK_PRICE = 1e6

# Prices in other regions than The Forge are a little higher on average (Jita is cheapest).
_REGION_PRICE_BIAS: dict[int, float] = {
    10000002: 1.00,
    10000043: 1.03,
    10000032: 1.04,
    10000030: 1.05,
    10000042: 1.05,
}
_OTHER_REGION_BIAS = 1.08

HUB_SHARE = 0.55  # of a region's orders at its hub station
STRUCTURE_SHARE = 0.04  # of a region's orders in Upwell structures
ORDER_ID_BASE = 6_500_000_000
LIQUID_TYPES = 150  # the most popular types get both sides at the hub...
LIQUID_DEPTH = 3  # ...with at least this many orders per side
MAX_TYPE_SHARE = 0.003


# Buy ranges of bids at NPC stations, and of the bids of structures the region book shows
# (only those wider than "station"; in the recorded samples "1" jump is the most common).
_RANGES_BUY = ("station", "1", "region", "40", "5", "2", "10", "solarsystem", "3", "4", "20", "30")
_RANGES_BUY_P = (0.37, 0.30, 0.10, 0.05, 0.05, 0.03, 0.02, 0.03, 0.02, 0.01, 0.01, 0.01)
_RANGES_STRUCTURE = ("1", "region", "5", "40", "2", "10", "solarsystem", "20", "3", "4", "30")
_RANGES_STRUCTURE_P = (0.45, 0.15, 0.10, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0.01)
# Of the wide bids (region, or 5 jumps and more) away from the hub, this share bids like a hub
# bid: a seller at the hub can fill them, so they compete with the hub's own bids.
WIDE_COMPETITIVE_SHARE = 0.3
# Where the global PLEX market's orders were placed from: the hubs, then anywhere.
_PLEX_PLACE_SHARES = {
    60003760: 0.45,
    60008494: 0.12,
    60011866: 0.06,
    60004588: 0.04,
    60005686: 0.04,
}
_DURATIONS = (90, 30, 14, 7, 3, 1)
_DURATIONS_SELL_P = (0.82, 0.08, 0.03, 0.03, 0.02, 0.02)
_DURATIONS_BUY_P = (0.70, 0.12, 0.05, 0.05, 0.04, 0.04)


# --- Reading the SDE -----------------------------------------------------------------------


@dataclass(frozen=True)
class SdeMarket:
    """What the generator needs from the SDE, as arrays (one row per published market type)."""

    type_ids: IntArray
    base_price: FloatArray  # NaN where the SDE has none
    category_id: IntArray  # -1 where unknown
    station_ids: IntArray
    station_system: IntArray
    station_region: IntArray
    system_ids: IntArray
    system_region: IntArray
    region_ids: frozenset[int]
    key: tuple[str, int, int]  # path, inode, mtime: which installed file this came from


_sde_lock = threading.Lock()
_sde_memo: dict[tuple[str, int, int], SdeMarket] = {}


def sde_path() -> Path:
    from django.conf import settings

    return Path(settings.SDE_PATH)


def load_sde(path: Path | None = None) -> SdeMarket:
    """Read the SDE tables once per installed file (keyed by path, inode and mtime).

    Without an installed SDE (a fresh checkout), the compact SDE bundled in `sde/bundled/`
    is read instead: the same rows `sde_install --bundled` would install.
    """
    path = path or sde_path()
    source = path if path.exists() else BUNDLE_DIR / "invTypes.csv.gz"
    stat = os.stat(source)
    key = (str(source), stat.st_ino, stat.st_mtime_ns)
    with _sde_lock:
        if key not in _sde_memo:
            rows = _read_sqlite(path) if source == path else _read_bundle()
            _sde_memo.clear()
            _sde_memo[key] = _to_arrays(rows, key)
        return _sde_memo[key]


# (types: typeID, basePrice, categoryID), (stations: id, system, region),
# (systems: id, region), (region ids); each sorted by its first column.
_SdeRows = tuple[
    list[tuple[int, float | None, int | None]],
    list[tuple[int, int, int]],
    list[tuple[int, int]],
    list[int],
]


def _read_sqlite(path: Path) -> _SdeRows:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        types = conn.execute(
            "SELECT t.typeID, t.basePrice, g.categoryID FROM invTypes t "
            "LEFT JOIN invGroups g ON g.groupID = t.groupID "
            "WHERE t.published = 1 AND t.marketGroupID IS NOT NULL ORDER BY t.typeID"
        ).fetchall()
        stations = conn.execute(
            "SELECT stationID, solarSystemID, regionID FROM staStations ORDER BY stationID"
        ).fetchall()
        systems = conn.execute(
            "SELECT solarSystemID, regionID FROM mapSolarSystems ORDER BY solarSystemID"
        ).fetchall()
        regions = [r for (r,) in conn.execute("SELECT regionID FROM mapRegions ORDER BY 1")]
    finally:
        conn.close()
    return types, stations, systems, regions


def _bundle_rows(table: str, *columns: str) -> list[dict[str, str]]:
    with gzip.open(BUNDLE_DIR / f"{table}.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        return [{c: row[c] for c in columns} for row in csv.DictReader(fh)]


TYPE_COLUMNS = ("typeID", "groupID", "basePrice", "published", "marketGroupID")


def _read_bundle() -> _SdeRows:
    categories = {
        int(r["groupID"]): int(r["categoryID"]) if r["categoryID"] else None
        for r in _bundle_rows("invGroups", "groupID", "categoryID")
    }
    types = sorted(
        (
            int(r["typeID"]),
            float(r["basePrice"]) if r["basePrice"] else None,
            categories.get(int(r["groupID"])) if r["groupID"] else None,
        )
        for r in _bundle_rows("invTypes", *TYPE_COLUMNS)
        if r["published"] == "1" and r["marketGroupID"]
    )
    stations = sorted(
        (int(r["stationID"]), int(r["solarSystemID"]), int(r["regionID"]))
        for r in _bundle_rows("staStations", "stationID", "solarSystemID", "regionID")
    )
    systems = sorted(
        (int(r["solarSystemID"]), int(r["regionID"]))
        for r in _bundle_rows("mapSolarSystems", "solarSystemID", "regionID")
    )
    regions = sorted(int(r["regionID"]) for r in _bundle_rows("mapRegions", "regionID"))
    return types, stations, systems, regions


def _to_arrays(rows: _SdeRows, key: tuple[str, int, int]) -> SdeMarket:
    types, stations, systems, regions = rows
    return SdeMarket(
        type_ids=np.array([r[0] for r in types], dtype=np.int64),
        base_price=np.array(
            [r[1] if r[1] and r[1] > 0 else np.nan for r in types], dtype=np.float64
        ),
        category_id=np.array([r[2] if r[2] is not None else -1 for r in types], dtype=np.int64),
        station_ids=np.array([r[0] for r in stations], dtype=np.int64),
        station_system=np.array([r[1] for r in stations], dtype=np.int64),
        station_region=np.array([r[2] for r in stations], dtype=np.int64),
        system_ids=np.array([r[0] for r in systems], dtype=np.int64),
        system_region=np.array([r[1] for r in systems], dtype=np.int64),
        region_ids=frozenset(regions),
        key=key,
    )


def is_kspace_region(region_id: int) -> bool:
    """A known-space region of the installed SDE (where ESI serves a market)."""
    return region_id < 11_000_000 and region_id in load_sde().region_ids


def is_market_region(region_id: int) -> bool:
    """A region ESI serves an order book for: known space, or the global PLEX market
    (region 19000001, which an SDE from before July 2025 does not have)."""
    return is_plex_region(region_id) or is_kspace_region(region_id)


def market_type_ids() -> frozenset[int]:
    """Every type the generator can put on the market (published, with a market group)."""
    return _market_type_ids(load_sde().key)


@lru_cache(maxsize=2)
def _market_type_ids(sde_key: tuple[str, int, int]) -> frozenset[int]:
    return frozenset(load_sde().type_ids.tolist())


# --- Per-type model (depends on the seed only) ---------------------------------------------


@dataclass(frozen=True)
class TypeModel:
    """Per-type market character, aligned with `SdeMarket.type_ids`."""

    popularity: FloatArray  # relative order weight
    mid: FloatArray  # ISK, before the regional factor
    spread: FloatArray  # relative bid/ask spread at the hub
    order_value: FloatArray  # typical ISK value of one order
    max_units: IntArray


def _rng(*parts: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([p & 0xFFFFFFFF for p in parts]))


@lru_cache(maxsize=8)
def _type_model_cached(sde_key: tuple[str, int, int], seed: int) -> TypeModel:
    return _build_type_model(load_sde(), seed)


def type_model(seed: int = 0) -> TypeModel:
    """The per-type model for a seed (cached per installed SDE and seed)."""
    return _type_model_cached(load_sde().key, seed)


def _build_type_model(sde: SdeMarket, seed: int) -> TypeModel:
    rng = _rng(seed, 1)
    n = len(sde.type_ids)
    cats = sde.category_id
    profile = np.array(
        [_CATEGORY_PROFILE.get(int(c), _DEFAULT_PROFILE) for c in cats.tolist()], dtype=np.float64
    ).reshape(n, 3)
    popular = np.isin(sde.type_ids, np.fromiter(POPULAR_TYPES, dtype=np.int64))
    noise = np.where(popular, 15.0 * rng.lognormal(0.0, 0.3, n), rng.lognormal(0.0, 1.0, n))
    popularity = np.where(popular, np.maximum(profile[:, 0], 3.0), profile[:, 0]) * noise
    # No single type takes more than MAX_TYPE_SHARE of a book (Tritanium has a few hundred
    # orders in The Forge, not tens of thousands).
    popularity = np.minimum(popularity, MAX_TYPE_SHARE * popularity.sum())
    mid = _mid_prices(sde, rng)
    rank = popularity / np.median(popularity)
    spread = np.clip(0.06 * rng.lognormal(0.0, 0.5, n) / (1.0 + np.log1p(rank)), 0.005, 0.30)
    anchors = np.isin(sde.type_ids, np.fromiter(ANCHOR_PRICES, dtype=np.int64))
    order_value = np.where(anchors & (mid > 1e6), 2e9, profile[:, 1])
    return TypeModel(
        popularity=popularity,
        mid=mid,
        spread=spread,
        order_value=order_value,
        max_units=profile[:, 2].astype(np.int64),
    )


def _mid_prices(sde: SdeMarket, rng: np.random.Generator) -> FloatArray:
    n = len(sde.type_ids)
    base = sde.base_price
    has_base = ~np.isnan(base)
    from_base = np.where(has_base, base, 1.0) * rng.lognormal(math.log(1.25), 0.35, n)
    typical = np.full(n, _GLOBAL_FALLBACK_PRICE)
    for cat in np.unique(sde.category_id).tolist():
        in_cat = sde.category_id == cat
        priced = in_cat & has_base
        if cat in _CATEGORY_FALLBACK_PRICE:
            typical[in_cat] = _CATEGORY_FALLBACK_PRICE[cat]
        elif priced.any():
            typical[in_cat] = float(np.exp(np.median(np.log(base[priced]))))
    from_category = typical * rng.lognormal(0.0, 1.0, n)
    mid = np.where(has_base, from_base, from_category)
    for type_id, price in ANCHOR_PRICES.items():
        mid[sde.type_ids == type_id] = price
    return np.clip(mid, 1.0, 5e11)


def mid_prices(region_id: int, *, seed: int = 0) -> dict[int, float]:
    """The model mid price of every market type in a region (before any order's offset)."""
    sde = load_sde()
    mids = type_model(seed).mid * _region_factor(region_id, seed, len(sde.type_ids))
    return dict(zip(sde.type_ids.tolist(), mids.tolist(), strict=True))


def _region_factor(region_id: int, seed: int, n: int) -> FloatArray:
    bias = _REGION_PRICE_BIAS.get(region_id, _OTHER_REGION_BIAS)
    return bias * _rng(seed, region_id, 2).lognormal(0.0, 0.04, n)


# --- Stations ------------------------------------------------------------------------------


def hub_station(region_id: int) -> int:
    """The region's trade hub: the five known hubs, else its first station in its busiest
    system (most stations), else its first (made-up) structure. The global PLEX market has
    no hub: its orders are placed from anywhere, most from Jita IV - Moon 4, given here."""
    if region_id in HUB_STATIONS:
        return HUB_STATIONS[region_id]
    if is_plex_region(region_id):
        return HUB_STATIONS[10000002]
    stations, systems = _region_stations(region_id)
    if len(stations):
        values, counts = np.unique(systems, return_counts=True)
        busiest = values[np.argmax(counts)]
        return int(stations[systems == busiest][0])
    return _made_up_structures(region_id)[0][0]


def _region_stations(region_id: int) -> tuple[IntArray, IntArray]:
    sde = load_sde()
    in_region = sde.station_region == region_id
    return sde.station_ids[in_region], sde.station_system[in_region]


def _made_up_structures(region_id: int) -> list[tuple[int, int]]:
    """Three stable made-up structure ids in the region's first systems (or none)."""
    sde = load_sde()
    systems = sde.system_ids[sde.system_region == region_id]
    if not len(systems):
        return []
    digest = hashlib.sha256(str(region_id).encode()).digest()
    base = 1_030_000_000_000 + int.from_bytes(digest[:5], "big") % 15_000_000_000
    return [(base + i * 7919, int(systems[i % len(systems)])) for i in range(3)]


@dataclass(frozen=True)
class _Places:
    location: IntArray
    system: IntArray
    weight: FloatArray
    hub_index: int
    one_book: bool = False  # the global PLEX market: every order fills against every other

    @property
    def is_structure(self) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = self.location >= STRUCTURE_ID_MIN
        return result


def _places(region_id: int, seed: int) -> _Places:
    stations, systems = _region_stations(region_id)
    structures = KNOWN_STRUCTURES.get(region_id) or _made_up_structures(region_id)
    if not len(stations) and not structures:
        raise ValueError(f"Region {region_id} has no stations or systems in the SDE.")
    hub = hub_station(region_id)
    st_ids = np.array([s for s, _ in structures], dtype=np.int64)
    st_sys = np.array([y for _, y in structures], dtype=np.int64)
    location = np.concatenate([stations, st_ids])
    system = np.concatenate([systems, st_sys])
    rng = _rng(seed, region_id, 3)
    weight = np.zeros(len(location))
    others = (location != hub) & (location < 1_000_000_000_000)
    if others.any():
        raw = rng.lognormal(0.0, 1.5, int(others.sum()))
        weight[others] = (1.0 - HUB_SHARE - STRUCTURE_SHARE) * raw / raw.sum()
    is_structure = location >= 1_000_000_000_000
    if is_structure.any():
        raw = rng.lognormal(0.0, 0.7, int(is_structure.sum()))
        weight[is_structure] += STRUCTURE_SHARE * raw / raw.sum()
    hub_index = int(np.flatnonzero(location == hub)[0])
    weight[hub_index] += HUB_SHARE
    return _Places(location, system, weight / weight.sum(), hub_index)


def _plex_places(seed: int) -> _Places:
    """The global PLEX market's orders: placed from NPC stations all over known space, most
    from the five hubs (each order keeps its station and system, as ESI shows them)."""
    sde = load_sde()
    kspace = sde.station_region < 11_000_000
    location, system = sde.station_ids[kspace], sde.station_system[kspace]
    raw = _rng(seed, PLEX_REGION_ID, 3).lognormal(0.0, 1.5, len(location))
    weight = (1.0 - sum(_PLEX_PLACE_SHARES.values())) * raw / raw.sum()
    for station, share in _PLEX_PLACE_SHARES.items():
        weight[location == station] += share
    hub_index = int(np.flatnonzero(location == hub_station(PLEX_REGION_ID))[0])
    return _Places(location, system, weight / weight.sum(), hub_index, one_book=True)


# --- Prices --------------------------------------------------------------------------------


# --- The book ------------------------------------------------------------------------------


def _default_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def generate_orders(
    region_id: int,
    n_orders: int,
    *,
    seed: int = 0,
    now: datetime | None = None,
    structure_books: bool = False,
) -> list[dict[str, Any]]:
    """`n_orders` ESI-shaped orders for a region, sorted by order_id (see the module doc).

    `structure_books`: the structures' whole books too (their sells and bids of range
    "station", which only `GET /markets/structures/{id}/` shows: the ESI stand-in serves
    them there and leaves them out of the region book); the NPC stations' orders are the
    same either way."""
    if n_orders <= 0:
        return []
    now = now or _default_now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    sde = load_sde()
    model = type_model(seed)
    plex = sde.type_ids == PLEX_TYPE_ID
    if is_plex_region(region_id):  # only PLEX, in its own market
        places, allowed = _plex_places(seed), plex
    else:  # every market type but PLEX, which left the regional markets in July 2025
        places, allowed = _places(region_id, seed), ~plex
    rng = _rng(seed, region_id, n_orders, 4)
    type_idx, is_buy, place_idx = _draw_orders(rng, model, places, n_orders, allowed)
    if not structure_books:
        # The region book holds no structure sell orders, only structures' ranged buy orders.
        is_buy = is_buy | places.is_structure[place_idx]
    eager = _eager_bids(rng, places, is_buy, place_idx)
    ranges = _order_ranges(
        rng, places, is_buy, place_idx, eager, wide_at_structures=not structure_books
    )
    price = _order_prices(
        rng, model, places, region_id, seed, type_idx, is_buy, place_idx, eager, ranges
    )
    total, remain, min_volume = _order_volumes(rng, model, type_idx, is_buy, price)
    duration, issued_ts = _order_times(rng, is_buy, now)
    order_ids = _order_ids(rng, region_id, issued_ts)
    order = np.argsort(order_ids, kind="stable")
    issued = np.datetime_as_string(issued_ts.astype("datetime64[s]"), unit="s")
    return [
        {
            "duration": d,
            "is_buy_order": b,
            "issued": i + "Z",
            "location_id": loc,
            "min_volume": mv,
            "order_id": oid,
            "price": p,
            "range": r,
            "system_id": sys_id,
            "type_id": t,
            "volume_remain": vr,
            "volume_total": vt,
        }
        for d, b, i, loc, mv, oid, p, r, sys_id, t, vr, vt in zip(
            duration[order].tolist(),
            is_buy[order].tolist(),
            issued[order].tolist(),
            places.location[place_idx][order].tolist(),
            min_volume[order].tolist(),
            order_ids[order].tolist(),
            price[order].tolist(),
            ranges[order].tolist(),
            places.system[place_idx][order].tolist(),
            sde.type_ids[type_idx][order].tolist(),
            remain[order].tolist(),
            total[order].tolist(),
            strict=True,
        )
    ]


def _draw_orders(
    rng: np.random.Generator,
    model: TypeModel,
    places: _Places,
    n_orders: int,
    allowed: npt.NDArray[np.bool_],
) -> tuple[IntArray, npt.NDArray[np.bool_], IntArray]:
    """Which type (of the allowed ones), side and place each order has; liquid types first,
    both sides at the hub."""
    popularity = np.where(allowed, model.popularity, 0.0)
    n_liquid = min(LIQUID_TYPES, n_orders // (20 * LIQUID_DEPTH), int(allowed.sum()))
    if n_orders < 2 * LIQUID_DEPTH * n_liquid:
        n_liquid = 0
    liquid = np.argsort(-popularity, kind="stable")[:n_liquid]
    fixed_types = np.repeat(liquid, 2 * LIQUID_DEPTH)
    fixed_buy = np.tile(np.repeat([False, True], LIQUID_DEPTH), n_liquid)
    n_free = n_orders - len(fixed_types)
    p = popularity / popularity.sum()
    free_types = rng.choice(len(p), size=n_free, p=p)
    free_buy = rng.random(n_free) < 0.45
    free_place = rng.choice(len(places.weight), size=n_free, p=places.weight)
    type_idx = np.concatenate([fixed_types, free_types]).astype(np.int64)
    is_buy = np.concatenate([fixed_buy, free_buy])
    place_idx = np.concatenate([np.full(len(fixed_types), places.hub_index), free_place]).astype(
        np.int64
    )
    return type_idx, is_buy, place_idx


def _order_prices(
    rng: np.random.Generator,
    model: TypeModel,
    places: _Places,
    region_id: int,
    seed: int,
    type_idx: IntArray,
    is_buy: npt.NDArray[np.bool_],
    place_idx: IntArray,
    eager: npt.NDArray[np.bool_],
    ranges: npt.NDArray[np.str_],
) -> FloatArray:
    n = len(type_idx)
    mid = (model.mid * _region_factor(region_id, seed, len(model.mid)))[type_idx]
    half = model.spread[type_idx] / 2.0
    depth = rng.exponential(model.spread[type_idx] * 0.8)
    away = (place_idx != places.hub_index) & (not places.one_book)
    away_markup = np.where(away, rng.uniform(0.0, 0.2, n), 0.0)
    ask = mid * (1.0 + half) * (1.0 + depth) * (1.0 + away_markup)
    # Some wide bids away from the hub bid like hub bids: they reach it and compete there.
    codes = np.array([RANGE_CODES[r] for r in ranges.tolist()], dtype=np.int64)
    wide = (codes == RANGE_REGION) | (codes >= 5)
    competitive = away & wide & (rng.random(n) < WIDE_COMPETITIVE_SHARE)
    bid_markup = np.where(competitive, 0.0, away_markup)
    bid = mid * (1.0 - half) * np.exp(-depth) * (1.0 - bid_markup)
    # A few bids away from the hub pay more than the hub asks: someone wants it hauled there
    # (station range, so no seller at the hub can fill them and the hub book is not crossed).
    bid = np.where(eager, mid * (1.0 + half) * rng.uniform(1.03, 1.15, n), bid)
    # Junk: lowball bids (0.01 ISK up to 10 % of the price) and absurd asks.
    lowball = rng.random(n) < 0.01
    bid = np.where(lowball, np.maximum(0.01, mid * rng.uniform(0.0, 0.1, n)), bid)
    absurd = rng.random(n) < 0.005
    ask = np.where(absurd, ask * rng.uniform(3.0, 20.0, n), ask)
    return np.where(is_buy, grid_round(bid, "down"), grid_round(ask, "up"))


def _order_volumes(
    rng: np.random.Generator,
    model: TypeModel,
    type_idx: IntArray,
    is_buy: npt.NDArray[np.bool_],
    price: FloatArray,
) -> tuple[IntArray, IntArray, IntArray]:
    n = len(type_idx)
    value = model.order_value[type_idx] * rng.lognormal(0.0, 1.2, n)
    units = np.rint(value / np.maximum(price, 0.01))
    total = np.clip(units, 1, model.max_units[type_idx]).astype(np.int64)
    filled = rng.random(n) < 0.55
    remain = np.where(filled, np.ceil(total * rng.uniform(0.02, 1.0, n)).astype(np.int64), total)
    remain = np.clip(remain, 1, total)
    min_volume = np.where(
        is_buy & (rng.random(n) < 0.01) & (total >= 10), np.maximum(1, total // 10), 1
    ).astype(np.int64)
    return total, remain, min_volume


def _order_times(
    rng: np.random.Generator, is_buy: npt.NDArray[np.bool_], now: datetime
) -> tuple[IntArray, IntArray]:
    n = len(is_buy)
    durations = np.array(_DURATIONS, dtype=np.int64)
    duration = np.where(
        is_buy,
        rng.choice(durations, size=n, p=_DURATIONS_BUY_P),
        rng.choice(durations, size=n, p=_DURATIONS_SELL_P),
    )
    lifetime = duration * 86_400 - 120
    recent = rng.random(n) < 0.5  # orders are modified all the time: many were issued lately
    age = np.where(
        recent,
        np.minimum(rng.exponential(2 * 86_400, n), lifetime),
        rng.uniform(0.0, 1.0, n) * lifetime,
    )
    age = np.maximum(age, 1.0).astype(np.int64) + 60
    return duration, int(now.timestamp()) - age


def _order_ids(rng: np.random.Generator, region_id: int, issued_ts: IntArray) -> IntArray:
    """Unique ids rising with the order's creation time (before its last `issued`), spaced so
    that two k-space regions (ids 10000001-10000127) never share one."""
    created = issued_ts - rng.exponential(3 * 86_400, len(issued_ts)).astype(np.int64)
    by_age = np.argsort(created, kind="stable")
    gaps = rng.integers(1, 6, len(issued_ts))
    ids = np.empty(len(issued_ts), dtype=np.int64)
    # The global PLEX market takes slot 127 (k-space regions use 1 to 70).
    slot = 127 if is_plex_region(region_id) else (region_id - 10_000_000) % 128
    ids[by_age] = ORDER_ID_BASE + np.cumsum(gaps) * 128 + slot
    return ids


def _eager_bids(
    rng: np.random.Generator,
    places: _Places,
    is_buy: npt.NDArray[np.bool_],
    place_idx: IntArray,
) -> npt.NDArray[np.bool_]:
    """The few bids at NPC stations away from the hub that pay over the hub's asks."""
    away_npc = (place_idx != places.hub_index) & ~places.is_structure[place_idx]
    eager: npt.NDArray[np.bool_] = (
        is_buy & away_npc & (rng.random(len(is_buy)) < 0.02) & (not places.one_book)
    )
    return eager


def _order_ranges(
    rng: np.random.Generator,
    places: _Places,
    is_buy: npt.NDArray[np.bool_],
    place_idx: IntArray,
    eager: npt.NDArray[np.bool_],
    *,
    wide_at_structures: bool = True,
) -> npt.NDArray[np.str_]:
    """Sells: "region" (as ESI shows every sell). Buys at NPC stations: a mix of station,
    solar system, 1-40 jumps and region; buys of structures: only wider than station (the
    region book shows no others) unless not `wide_at_structures` (a structure's whole book:
    the stations' mix); eager bids: station; the global PLEX market: region."""
    n = len(is_buy)
    at_station = rng.choice(np.array(_RANGES_BUY), size=n, p=_RANGES_BUY_P)
    at_structure = rng.choice(np.array(_RANGES_STRUCTURE), size=n, p=_RANGES_STRUCTURE_P)
    if not wide_at_structures:
        at_structure = at_station
    buy_ranges = np.where(places.is_structure[place_idx], at_structure, at_station)
    buy_ranges = np.where(eager, "station", buy_ranges)
    if places.one_book:
        buy_ranges = np.full(n, "region")
    ranges: npt.NDArray[np.str_] = np.where(is_buy, buy_ranges, "region")
    return ranges


# --- History -------------------------------------------------------------------------------


def _type_index(type_id: int) -> int | None:
    type_ids = load_sde().type_ids
    i = int(np.searchsorted(type_ids, type_id))
    return i if i < len(type_ids) and type_ids[i] == type_id else None


TRADE_PRICE_REF = 100_000_000.0  # ISK: the price above which a type trades less often


def generate_history(
    region_id: int,
    type_id: int,
    *,
    seed: int = 0,
    days: int = 365,
    today: date | None = None,
    mid: float | None = None,
) -> list[dict[str, Any]]:
    """Daily `GET /markets/{region_id}/history/` rows up to yesterday, oldest first.

    A random walk of the price that ends at `mid` (default: the model's mid price for the type
    in the region). Popular types trade every day; rare ones skip days. Unknown types: [].
    As in ESI, PLEX's history in a regional market ends on 2025-07-07 (it trades only in the
    global PLEX market since), and the global PLEX market has no other type's history.
    """
    index = _type_index(type_id)
    if index is None or (is_plex_region(region_id) and type_id != PLEX_TYPE_ID):
        return []
    today = today or datetime.now(UTC).date()
    if type_id == PLEX_TYPE_ID and not is_plex_region(region_id):
        today = min(today, PLEX_MARKET_SINCE + timedelta(days=1))
    model = type_model(seed)
    if mid is None:
        mid = float(model.mid[index] * _region_factor(region_id, seed, len(model.mid))[index])
    rng = _rng(seed, region_id, type_id, 5)
    steps = rng.normal(0.0, 0.015, days)
    walk = np.exp(np.cumsum(steps[::-1])[::-1] - steps[-1])  # ends at 1.0 yesterday
    average = mid * walk
    swing = np.abs(rng.normal(0.0, model.spread[index], days)) + model.spread[index] / 2
    highest = average * (1.0 + swing * rng.uniform(0.3, 1.0, days))
    lowest = average * (1.0 - np.minimum(0.9, swing * rng.uniform(0.3, 1.0, days)))
    liquidity = model.popularity[index] / float(np.median(model.popularity))
    # Dear things trade less often: above TRADE_PRICE_REF, trades fall with the price, so a
    # 60-billion-ISK blueprint changes hands a few times a month, not 17 times a day.
    dearness = min(1.0, TRADE_PRICE_REF / max(mid, 0.01))
    trades = rng.poisson(np.clip(liquidity * 20.0 * dearness, 0.05, 5_000.0), days)
    per_trade = np.maximum(1.0, model.order_value[index] / max(mid, 0.01) / 4.0)
    volume = np.maximum(1, np.rint(trades * per_trade * rng.lognormal(0.0, 0.5, days)))
    first = today - timedelta(days=days)
    traded = np.flatnonzero(trades > 0)
    # on the price grid, a whole column at a time (one call per row cost 75 ms a history)
    highs = grid_round(highest[traded], "up").tolist()
    lows = grid_round(lowest[traded], "down").tolist()
    return [
        {
            "average": round(float(average[i]), 2),
            "date": (first + timedelta(days=i)).isoformat(),
            "highest": high,
            "lowest": low,
            "order_count": int(trades[i]),
            "volume": int(volume[i]),
        }
        for i, high, low in zip(traded.tolist(), highs, lows, strict=True)
    ]


def best_prices(orders: Sequence[dict[str, Any]]) -> dict[int, tuple[float | None, float | None]]:
    """type_id -> (best bid, best ask) over a list of ESI orders."""
    best: dict[int, tuple[float | None, float | None]] = {}
    for order in orders:
        type_id = int(order["type_id"])
        price = float(order["price"])
        bid, ask = best.get(type_id, (None, None))
        if order["is_buy_order"]:
            bid = price if bid is None or price > bid else bid
        else:
            ask = price if ask is None or price < ask else ask
        best[type_id] = (bid, ask)
    return best


# Added to the order ids of the structures' hidden orders, so they never meet the region
# book's (real order ids are about 7 billion).
HIDDEN_ORDER_IDS = 100_000_000_000


def hidden_structure_orders(
    region_id: int, n_orders: int, *, seed: int = 0, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The orders of the region's structures that its ESI region book does not show (their
    sells and bids of range "station": `GET /markets/structures/{id}/` shows them beside the
    ranged bids of `generate_orders` with the same arguments), drawn from the structures'
    whole books, their ids moved by HIDDEN_ORDER_IDS."""
    whole = generate_orders(region_id, n_orders, seed=seed, now=now, structure_books=True)
    shown = {id(o) for o in region_book_rules(whole)}
    return [
        {**o, "order_id": o["order_id"] + HIDDEN_ORDER_IDS} for o in whole if id(o) not in shown
    ]


def region_book_rules(orders: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The orders ESI's region book can show: no sell order of a structure, and of a
    structure's buy orders only those of a range wider than "station" (the structure's own
    market holds the rest, behind `GET /markets/structures/{id}/`)."""
    return [
        o
        for o in orders
        if o["location_id"] < STRUCTURE_ID_MIN or (o["is_buy_order"] and o["range"] != "station")
    ]
