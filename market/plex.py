"""PLEX's own market: since 7 July 2025 PLEX trades only in the global PLEX market.

CCP moved PLEX out of every regional market into one market shared by the whole cluster,
published by ESI as region 19000001 (named "GPMR-01" in SDE builds from July 2025 on; older
SDE builds do not have it at all). From then on:

* `GET /markets/19000001/orders/` holds the PLEX orders (and nothing else). Each order keeps
  the `location_id` and `system_id` of the station it was placed from, anywhere in New Eden;
  the range does not matter, since every PLEX order fills against every other.
* `GET /markets/19000001/history/?type_id=44992` is PLEX's daily history. The regional
  histories of PLEX stop on 2025-07-07 and the regional order books hold no PLEX.

So a PLEX answer always comes from region 19000001, and a PLEX question asked of a hub region
gets `PLEX_ONLY_GLOBAL` (a message), never an empty book. Other types asked of region
19000001 get `GLOBAL_ONLY_PLEX`.
"""

from __future__ import annotations

from datetime import date

PLEX_TYPE_ID = 44992
PLEX_REGION_ID = 19000001
PLEX_REGION_NAME = "Global PLEX market"
PLEX_MARKET_SINCE = date(2025, 7, 7)  # the last day of PLEX in the regional histories

PLEX_ONLY_GLOBAL = (
    "PLEX trades only in the global PLEX market (region 19000001) since July 2025: the "
    "regional order books and histories no longer hold it. Ask region 19000001 for PLEX."
)
GLOBAL_ONLY_PLEX = (
    "The global PLEX market (region 19000001) holds only PLEX (type 44992); every other "
    "item trades in the regional markets."
)


def is_plex(type_id: int) -> bool:
    """Whether the type is PLEX."""
    return int(type_id) == PLEX_TYPE_ID


def is_plex_region(region_id: int) -> bool:
    """Whether the region is the global PLEX market."""
    return int(region_id) == PLEX_REGION_ID


def misplaced(region_id: int, type_id: int) -> str | None:
    """Why this (region, type) has no market, in words; None when it may have one."""
    if is_plex(type_id) and not is_plex_region(region_id):
        return PLEX_ONLY_GLOBAL
    if is_plex_region(region_id) and not is_plex(type_id):
        return GLOBAL_ONLY_PLEX
    return None


def region_name(region_id: int, sde_name: str | None) -> str | None:
    """A region's display name: the SDE's, but "Global PLEX market" for region 19000001
    (whatever the SDE calls it, or when the installed SDE predates it)."""
    return PLEX_REGION_NAME if is_plex_region(region_id) else sde_name
