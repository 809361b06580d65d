"""The result tables of the profit pages: their columns, the sort options of the forms, and
each header's sort link (descending first for numbers) with its aria-sort.

Without JavaScript a header is a link that sorts on the server; static/js/sortable.js turns
it into a button that sorts the rows in place when every row is on the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from profit.page_input import query


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # "isk", "pct", "int", "num", "text", "item", "place", "jumps"
    title: str = ""
    sortable: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "item", "place")


# The ranking figures come first after the item, so they are the ones a narrow screen keeps;
# the rows' cells (profit/row_html.py) follow this order.
STATION_COLUMNS = (
    Column("type_name", "Item", "item"),
    Column(
        "daily_profit",
        "Profit / day",
        "isk",
        "Estimated profit a day: profit per unit x the units you could expect to move a day",
    ),
    Column("profit_per_unit", "Profit / unit", "isk", "After both broker fees and sales tax"),
    Column("buy_price", "Buy at", "isk", "Your buy order: one price step above the best bid"),
    Column("sell_price", "Sell at", "isk", "Your sell order: one price step below the best ask"),
    Column("margin", "Margin", "pct", "Profit per unit / sell price"),
    Column("roi", "ROI", "pct", "Profit per unit / (buy price + buy broker fee)"),
    Column(
        "daily_units",
        "Units / day",
        "num",
        "Units you could expect to buy and resell a day here, from the station's volume "
        "and the order book",
    ),
    Column(
        "daily_volume",
        "Daily volume",
        "num",
        "Estimated units a day at this station: the region's 30-day average x its share",
    ),
    Column(
        "orders",
        "Bids / asks",
        "int",
        "Buy orders a seller here can fill (ranged ones too) / sell orders at the station; "
        "the units they hold on hover",
        sortable=False,
    ),
)
HAULING_COLUMNS = (
    Column("type_name", "Item", "item", "The item, and the route under it"),
    Column(
        "net_profit", "Net profit", "isk", "Profit of the trip, after broker fees and sales tax"
    ),
    Column("roi", "ROI", "pct", "Net profit / cost"),
    Column("isk_per_m3", "ISK / m³", "isk", "Net profit per m³ of cargo"),
    Column(
        "profit_per_jump",
        "Profit / jump",
        "isk",
        "Net profit / jumps (the whole profit when in the same system)",
    ),
    Column("jumps", "Jumps", "jumps", "Route length minus one"),
    Column("quantity", "Quantity", "int", "Units, from walking both order books"),
    Column("volume_m3", "Volume m³", "num", "Packaged volume"),
    Column("buy_total", "Cost", "isk", "Everything bought, before fees"),
    Column("avg_buy", "Avg buy", "isk"),
    Column("avg_sell", "Avg sell", "isk"),
)
SORT_LABELS = {
    "daily_profit": "Profit per day",
    "profit_per_unit": "Profit per unit",
    "daily_units": "Units per day",
    "margin": "Margin",
    "roi": "ROI",
    "daily_volume": "Daily volume",
    "net_profit": "Net profit",
    "isk_per_m3": "ISK per m³",
    "profit_per_jump": "Profit per jump",
    "jumps": "Jumps",
    "quantity": "Quantity",
}


def sort_options(columns: Sequence[str]) -> list[dict[str, str]]:
    """The form's sort choices: each labelled column, highest first, then lowest first."""
    options = []
    for key in columns:
        label = SORT_LABELS.get(key)
        if label:
            options.append({"value": f"-{key}", "label": f"{label}, highest first"})
            options.append({"value": key, "label": f"{label}, lowest first"})
    return options


def sort_links(
    columns: Sequence[Column], values: Mapping[str, str], current: str
) -> list[dict[str, Any]]:
    """Each column's header: its link (descending first for numbers), and aria-sort."""
    heads = []
    for column in columns:
        head: dict[str, Any] = {"column": column, "aria_sort": None, "href": None}
        if column.sortable:
            if current == f"-{column.key}":
                next_sort, head["aria_sort"] = column.key, "descending"
            elif current == column.key:
                next_sort, head["aria_sort"] = f"-{column.key}", "ascending"
            else:
                next_sort = f"-{column.key}" if column.numeric else column.key
            head["href"] = "?" + query(values, sort=next_sort, page=None)
        heads.append(head)
    return heads
