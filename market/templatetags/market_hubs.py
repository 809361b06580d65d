"""Template filters of the item page's market panels: which tracked markets an item trades in.

PLEX trades only in the global PLEX market (region 19000001) and that market holds nothing
else (`market.plex`), so the panels of PLEX show that market alone and every other item's
panels leave it out.
"""

from __future__ import annotations

from typing import Any

from django import template

from market import plex

register = template.Library()


@register.filter
def hubs_for(hubs: list[dict[str, Any]], type_id: int) -> list[dict[str, Any]]:
    """The tracked markets (`market_site.hubs`) where this type can have orders."""
    return [hub for hub in hubs if plex.misplaced(hub["region_id"], type_id) is None]


@register.filter
def is_plex(type_id: int) -> bool:
    return plex.is_plex(type_id)
