"""The item page's market panels as a template tag, and the market's number and time formats
as filters (market/display.py).

`{% market_panels item %}` renders templates/market/_item_panel.html from
`market.item_page.panels`: the SDE's item page includes the market's panels by name, without
the sde app importing the market.
"""

from __future__ import annotations

import math
from typing import Any

from django import template

from market import display, item_page

register = template.Library()


@register.inclusion_tag("market/_item_panel.html")
def market_panels(item: dict[str, Any]) -> dict[str, Any]:
    """The panels of one item (`sde.selectors.item_detail`); no market read for an item that
    is not on the market."""
    market = item_page.panels(item["type_id"], item["name"]) if item["on_market"] else None
    return {"item": item, "market": market}


@register.simple_tag
def snapshot_line(snapshot: dict[str, Any], compact: bool = False) -> str:
    """`{% snapshot_line m.snapshot compact=True %}`: what the snapshot is, in words."""
    return item_page.snapshot_line(snapshot, compact)


@register.filter
def isk(value: float | None) -> str:
    """`display.isk`: 1234567.891 -> "1,234,567.89", 65100000000 -> "65,100,000,000"."""
    return display.isk(value)


@register.filter
def units(value: float | None) -> str:
    """2000 -> "2,000"."""
    return display.integer(value)


@register.filter
def compact(value: float | None) -> str:
    """172553241 -> "172.6M"."""
    return display.compact(value)


@register.filter
def orders(count: int) -> str:
    """1 -> "1 order", 2000 -> "2,000 orders"."""
    return display.plural(count, "order")


@register.filter
def percent(value: float | None) -> str:
    """12.3456 -> "12.35 %"."""
    return "" if value is None or not math.isfinite(value) else f"{value:.2f} %"


@register.filter
def raw(value: float | None) -> str:
    """A number for a data attribute, exactly (the shortest text that reads back the same)."""
    return "" if value is None else repr(float(value))
