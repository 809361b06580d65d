"""The rows of the profit pages' result tables, as HTML written in Python.

A page shows up to a thousand rows of ten cells; as a Django template a row cost 0.3 to 1 ms
(tens of variable lookups and filters each), most of a page's time whenever its rows were
new (a new snapshot, another station). Written here with the same filters
(profit/templatetags/profit_format.py) it costs about a fifth of that, and a row already
written in this process costs a lookup. The cells follow
profit/tables.py's columns; each carries its column's label (data-label) for the phone's
stacked rows, its sortable value (data-value) and, on hover, the exact figure and how it
was worked out. Everything from a row is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from html import escape
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from config import page_cache
from profit.flags import TITLES
from profit.templatetags.profit_format import (
    amount,
    compact,
    flag_mark,
    isk_exact,
    isk_short,
    pct,
    place_short,
    price,
    raw,
    volume,
)

Row = Mapping[str, Any]
MINUS = "\u2212"  # the minus sign of the cells' sums


def _e(value: Any) -> str:
    return escape(str(value))


@lru_cache(maxsize=4096)
def _item_url(type_id: int) -> str:
    return reverse("item", args=[type_id])


def _cell(key: str, label: str, value: Any, text: str, title: str = "", good: bool = False) -> str:
    """A figure's cell: its sortable value, its text and (on hover) its title."""
    classes = "num profit-good" if good else "num"
    hover = f' title="{_e(title)}"' if title else ""
    return (
        f'<td class="{classes}" data-value="{_e(raw(value))}" data-cell="{key}" '
        f'data-label="{label}"{hover}>{_e(text)}</td>'
    )


def _isk_cell(key: str, label: str, value: Any, title: str, good: bool = False) -> str:
    return _cell(key, label, value, isk_short(value), title, good)


def _row(row: Row, sub: str, cells: list[str]) -> str:
    flags = row.get("flags") or []
    marks = "".join(
        f' <abbr class="flag flag--{_e(code)}" data-flag="{_e(code)}" '
        f'title="{_e(TITLES.get(code) or code)}">{_e(flag_mark(code))}</abbr>'
        for code in flags
    )
    flagged = f' data-flags="{_e(" ".join(flags))}"' if flags else ""
    name = _e(row["type_name"])
    return (
        f'<tr data-type="{_e(row["type_id"])}"{flagged}>'
        f'<td class="cell-item" data-value="{name}" data-label="Item">'
        f'<a href="{_item_url(row["type_id"])}">{name}</a>{marks}{sub}</td>'
        + "".join(cells)
        + "</tr>"
    )


def station_row(row: Row, station_id: int) -> str:
    elsewhere = (
        " (a ranged bid at another station)"
        if row.get("best_bid_location_id") != station_id
        else ""
    )
    units, daily, share = row.get("daily_units"), row.get("daily_volume"), row.get("volume_share")
    estimate = share is not None and share < 1
    volume_title = ""
    if raw(daily):
        volume_title = f"{amount(daily)} units a day" + (
            f"; estimate: {pct(share)} of the region's volume" if estimate else ""
        )
    buys, sells = row.get("buy_orders"), row.get("sell_orders")
    return _row(
        row,
        "",
        [
            _isk_cell(
                "daily_profit", "Profit / day", row["daily_profit"],
                isk_exact(row["daily_profit"]), good=True,
            ),
            _isk_cell(
                "profit_per_unit", "Profit / unit", row["profit_per_unit"],
                isk_exact(row["profit_per_unit"]),
            ),
            _isk_cell(
                "buy_price", "Buy at", row["buy_price"],
                f"{isk_exact(row['buy_price'])}: best bid {price(row.get('best_bid'))}"
                f"{elsewhere} + one price step; broker fee {price(row.get('buy_broker_fee'))}",
            ),
            _isk_cell(
                "sell_price", "Sell at", row["sell_price"],
                f"{isk_exact(row['sell_price'])}: best ask {price(row.get('best_ask'))} "
                f"{MINUS} one price step; broker fee {price(row.get('sell_broker_fee'))}, "
                f"sales tax {price(row.get('sales_tax'))}",
            ),
            _cell("margin", "Margin", row.get("margin"), pct(row.get("margin"))),
            _cell("roi", "ROI", row.get("roi"), pct(row.get("roi"))),
            _cell(
                "daily_units", "Units / day", units, compact(units),
                f"{amount(units)} units a day" if raw(units) else "",
            ),
            _cell(
                "daily_volume", "Daily volume", daily,
                ("~" if estimate and daily is not None else "") + compact(daily), volume_title,
            ),
            '<td class="num" data-cell="orders" data-label="Bids / asks" title="'
            + _e(
                f"{intcomma(buys)} buy order{pluralize(buys)} for "
                f"{intcomma(row.get('bid_volume'))} units; {intcomma(sells)} sell "
                f"order{pluralize(sells)} for {intcomma(row.get('ask_volume'))} units"
            )
            + f'">{_e(compact(buys))} / {_e(compact(sells))}</td>',
        ],
    )  # fmt: skip


def _sold_how(row: Row) -> str:
    orders = row.get("sell_orders") or []
    basis = row.get("list_price_basis")
    if orders:
        return "sold into " + "; ".join(
            f"{intcomma(o.get('units'))} @ {price(o.get('price'))} ({o.get('location_name')})"
            for o in orders
        )
    if basis == "history":
        return "listed at the 30-day median high of the history (the best ask is above it)"
    if basis == "unchecked":
        return "listed one step under the best ask; no price history yet to check it"
    return "listed one step under the best ask"


BASIS_MARKS = {
    "history": ' <abbr title="capped at the 30-day median high of the history">h</abbr>',
    "unchecked": ' <abbr title="no price history yet">?</abbr>',
}


def _place(name: Any, location_id: Any) -> str:
    full = name or location_id
    return f'<span title="{_e(full)}">{_e(place_short(full))}</span>'


def hauling_row(row: Row) -> str:
    route = (
        '<span class="cell-sub haul-route" data-route>'
        + _place(row.get("from_name"), row.get("from_location_id"))
        + " → "
        + _place(row.get("to_name"), row.get("to_location_id"))
        + "</span>"
    )
    net, used = row["net_profit"], row.get("buy_orders_used")
    avg_sell = row.get("avg_sell")
    basis_mark = BASIS_MARKS.get(str(row.get("list_price_basis")), "")
    jumps = row.get("jumps")
    return _row(
        row,
        route,
        [
            _isk_cell(
                "net_profit", "Net profit", net,
                f"{isk_exact(net)}: sell {price(row.get('sell_total'))} {MINUS} cost "
                f"{price(row.get('buy_total'))} {MINUS} broker fees "
                f"{price(row.get('buy_broker_fee'))} + {price(row.get('sell_broker_fee'))} "
                f"{MINUS} sales tax {price(row.get('sales_tax'))}",
                good=True,
            ),
            _cell("roi", "ROI", row.get("roi"), pct(row.get("roi"))),
            _isk_cell(
                "isk_per_m3", "ISK / m³", row.get("isk_per_m3"),
                f"{isk_exact(row.get('isk_per_m3'))} per m³",
            ),
            _isk_cell(
                "profit_per_jump", "Profit / jump", row.get("profit_per_jump"),
                f"{isk_exact(row.get('profit_per_jump'))} per jump",
            ),
            _cell("jumps", "Jumps", jumps, "—" if jumps is None else str(jumps)),
            _cell(
                "quantity", "Quantity", row.get("quantity"), compact(row.get("quantity")),
                f"{intcomma(row.get('quantity'))} units",
            ),
            _cell(
                "volume_m3", "Volume m³", row.get("volume_m3"), compact(row.get("volume_m3")),
                volume(row.get("volume_m3")),
            ),
            _isk_cell("buy_total", "Cost", row.get("buy_total"), isk_exact(row.get("buy_total"))),
            _isk_cell(
                "avg_buy", "Avg buy", row.get("avg_buy"),
                f"{isk_exact(row.get('avg_buy'))}: {used} sell order{pluralize(used)} bought from",
            ),
            f'<td class="num" data-value="{_e(raw(avg_sell))}" data-cell="avg_sell" '
            f'data-label="Avg sell" title="{_e(isk_exact(avg_sell) + ": " + _sold_how(row))}">'
            f"{_e(isk_short(avg_sell))}{basis_mark}</td>",
        ],
    )  # fmt: skip


def head_row(heads: list[dict[str, Any]]) -> SafeString:
    """The table's header cells from profit/tables.py's `sort_links`: each column's key and
    kind (static/js/sortable.js), its sort link and aria-sort, its explanation on hover."""
    cells = []
    for head in heads:
        column, href, aria_sort = head["column"], head["href"], head["aria_sort"]
        attributes = f'scope="col" data-key="{_e(column.key)}" data-kind="{_e(column.kind)}"'
        if column.numeric:
            attributes += ' class="num"'
        if aria_sort:
            attributes += f' aria-sort="{_e(aria_sort)}"'
        if column.title:
            attributes += f' title="{_e(column.title)}"'
        label = _e(column.label)
        if href:
            attributes += f' data-sort="{"number" if column.numeric else "text"}"'
            label = f'<a class="sort-link" href="{_e(href)}">{label}</a>'
        cells.append(f"<th {attributes}>{label}</th>")
    return mark_safe("\n".join(cells))


def rendered(rows: list[Row], render: Callable[..., str], *args: Any) -> SafeString:
    """The rows' HTML, each by `render(row, *args)`, one per line, marked safe for the
    template (everything in it was escaped here). A row is written once per process for
    the same fields and arguments (config/page_cache.fragment): the same row comes back on
    every page that shows it (another sort, filter or page size) until a snapshot changes
    it."""
    html = []
    for row in rows:
        key = (render.__name__, args, page_cache.digest(row))
        html.append(page_cache.fragment(key, partial(render, row, *args)))
    return mark_safe("\n".join(html))
