"""The profit tables' rows written in Python (profit/row_html.py): what each cell shows and
says on hover, worked out by hand from the row; escaping; one writing per row and process."""

from __future__ import annotations

import re

import pytest

from profit import row_html

JITA = 60003760

STATION_ROW = {
    "type_id": 34,
    "type_name": "Tritanium <&>",
    "flags": ["thin"],
    "daily_profit": 1_234_567.5,
    "profit_per_unit": 0.42,
    "buy_price": 4.01,
    "best_bid": 4.0,
    "best_bid_location_id": 60000004,  # a ranged bid placed at another station
    "buy_broker_fee": 0.12,
    "sell_price": 4.99,
    "best_ask": 5.0,
    "sell_broker_fee": 0.15,
    "sales_tax": 0.17,
    "margin": 0.0842,
    "roi": 0.1,
    "daily_units": 2.5,
    "daily_volume": 12_500.0,
    "volume_share": 0.25,
    "buy_orders": 1,
    "bid_volume": 1500,
    "sell_orders": 3,
    "ask_volume": 20000,
}


def cell(html: str, key: str) -> str:
    match = re.search(rf'<td [^>]*data-cell="{key}"[^>]*>.*?</td>', html)
    assert match, key
    return match.group(0)


def test_a_station_row_shows_and_explains_each_figure():
    html = row_html.station_row(STATION_ROW, JITA)
    assert html.startswith('<tr data-type="34" data-flags="thin">')
    # the name is escaped wherever it appears, and links to the item page
    assert '<a href="/items/34/">Tritanium &lt;&amp;&gt;</a>' in html
    assert 'data-value="Tritanium &lt;&amp;&gt;"' in html
    assert 'data-flag="thin"' in html
    assert cell(html, "daily_profit") == (
        '<td class="num profit-good" data-value="1234567.5" data-cell="daily_profit" '
        'data-label="Profit / day" title="1,234,567.50 ISK">1.235M</td>'
    )
    assert (
        'title="4.01 ISK: best bid 4 (a ranged bid at another station) + one price step; '
        'broker fee 0.12">4.01<' in cell(html, "buy_price")
    )
    assert (
        'title="4.99 ISK: best ask 5 \u2212 one price step; broker fee 0.15, sales tax 0.17"'
        in cell(html, "sell_price")
    )
    assert ">8.4 %</td>" in cell(html, "margin")
    assert 'title="2.5 units a day">2.5<' in cell(html, "daily_units")
    # a quarter of the region's volume: an estimate, marked so
    assert (
        'title="12,500 units a day; estimate: 25.0 % of the region&#x27;s volume">~12.5K<'
        in cell(html, "daily_volume")
    )
    assert 'title="1 buy order for 1,500 units; 3 sell orders for 20,000 units">1 / 3<' in cell(
        html, "orders"
    )


def test_a_bid_at_the_station_itself_is_not_called_ranged():
    html = row_html.station_row({**STATION_ROW, "best_bid_location_id": JITA}, JITA)
    assert "ranged bid" not in html


def test_a_hauling_row_names_its_route_and_how_it_sells():
    row = {
        "type_id": 35,
        "type_name": "Pyerite",
        "flags": [],
        "from_name": "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
        "from_location_id": JITA,
        "to_name": None,
        "to_location_id": 1042499803831,  # a structure without a name: its id
        "net_profit": 25_000.0,
        "sell_total": 125_000.0,
        "buy_total": 95_000.0,
        "buy_broker_fee": 0.0,
        "sell_broker_fee": 2_000.0,
        "sales_tax": 3_000.0,
        "roi": 0.25,
        "isk_per_m3": 2_500.0,
        "profit_per_jump": None,
        "jumps": None,
        "quantity": 10_000,
        "volume_m3": 100.0,
        "avg_buy": 9.5,
        "buy_orders_used": 2,
        "avg_sell": 12.5,
        "sell_orders": [{"units": 10_000, "price": 12.5, "location_name": "Amarr"}],
        "list_price_basis": None,
    }
    html = row_html.hauling_row(row)
    assert "data-flags" not in html
    assert (
        '<span title="Jita IV - Moon 4 - Caldari Navy Assembly Plant">Jita IV - Moon 4</span>'
        ' → <span title="1042499803831">1042499803831</span>' in html
    )
    # 125,000 - 95,000 - 0 - 2,000 - 3,000 = 25,000
    assert (
        'title="25,000 ISK: sell 125,000 \u2212 cost 95,000 \u2212 broker fees 0 + 2,000 '
        '\u2212 sales tax 3,000">25K<' in cell(html, "net_profit")
    )
    assert '">—</td>' in cell(html, "jumps")
    assert 'title="9.50 ISK: 2 sell orders bought from">9.50<' in cell(html, "avg_buy")
    assert 'title="12.50 ISK: sold into 10,000 @ 12.50 (Amarr)">12.50</td>' in cell(
        html, "avg_sell"
    )
    listed = row_html.hauling_row({**row, "sell_orders": [], "list_price_basis": "history"})
    assert "listed at the 30-day median high of the history" in cell(listed, "avg_sell")
    assert ">h</abbr></td>" in cell(listed, "avg_sell")


def test_a_row_is_written_once_per_process_for_the_same_fields(settings):
    settings.DEBUG = False
    calls: list[int] = []
    real = row_html.station_row

    def counted(row, station_id):
        calls.append(row["type_id"])
        return real(row, station_id)

    first = row_html.rendered([STATION_ROW], counted, JITA)
    again = row_html.rendered([dict(STATION_ROW)], counted, JITA)
    assert first == again and calls == [34]
    row_html.rendered([{**STATION_ROW, "sell_price": 5.01}], counted, JITA)  # a new price
    row_html.rendered([STATION_ROW], counted, 60008494)  # another station
    assert calls == [34, 34, 34]


@pytest.mark.parametrize("flags", [["thin", "off_history"], []])
def test_flags_are_listed_on_the_row(flags):
    html = row_html.station_row({**STATION_ROW, "flags": flags}, JITA)
    assert html.count('class="flag flag--') == len(flags)


def test_the_header_cells_link_each_sort_and_say_the_current_one():
    from profit.tables import STATION_COLUMNS, sort_links

    values = {"station_id": str(JITA), "sort": "-roi", "q": "a<b"}
    html = row_html.head_row(sort_links(STATION_COLUMNS, values, "-roi"))
    cells = re.findall(r"<th ([^>]*)>(.*?)</th>", html)
    assert len(cells) == len(STATION_COLUMNS)
    by_key = {re.search(r'data-key="([^"]+)"', attrs)[1]: (attrs, text) for attrs, text in cells}
    roi_attrs, roi_text = by_key["roi"]
    # the current sort: descending, and its link turns it around; the other fields stay
    assert 'aria-sort="descending"' in roi_attrs and 'class="num"' in roi_attrs
    assert 'data-sort="number"' in roi_attrs
    assert roi_text.startswith('<a class="sort-link" href="?station_id=60003760&amp;sort=roi')
    assert "q=a%3Cb" in roi_text and "<b" not in roi_text
    item_attrs, item_text = by_key["type_name"]
    assert "aria-sort" not in item_attrs and 'class="num"' not in item_attrs
    assert 'data-sort="text"' in item_attrs and "sort=type_name" in item_text
    daily = STATION_COLUMNS[1]
    assert f'title="{daily.title}"' in by_key[daily.key][0]
