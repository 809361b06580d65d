"""A station's order book holds the bids of other stations whose range reaches it, marked.

A hand-built Forge snapshot around Jita IV - Moon 4 (in Jita, 30000142). Distances on the
shortest stargate route, from the SDE (checked below, not assumed):

    Perimeter (30000144)   1 jump
    Mitsolen  (30000120)   3 jumps
    Geras     (30000126)   5 jumps

EVE's rule (market/reach.py): a seller at Jita 4-4 fills a bid of range `region` anywhere in
the region, a bid of N jumps whose system is at most N jumps from Jita, a `solarsystem` bid in
Jita, and a `station` bid only at Jita 4-4 itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string

from market import item_page, selectors
from market.snapshot import Snapshot, SnapshotMeta, columns_from_pages
from sde import routes

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

FORGE = 10000002
TRITANIUM = 34
JITA_44, JITA = 60003760, 30000142
JITA_MOON_6 = 60000361  # Jita IV - Moon 6 - Ytiri Storage, also in Jita
PERIMETER_STORAGE, PERIMETER = 60000358, 30000144
MITSOLEN_STORAGE, MITSOLEN = 60000283, 30000120
GERAS_STORAGE, GERAS = 60000292, 30000126
SYSTEM = {
    JITA_44: JITA,
    JITA_MOON_6: JITA,
    PERIMETER_STORAGE: PERIMETER,
    MITSOLEN_STORAGE: MITSOLEN,
    GERAS_STORAGE: GERAS,
}


def order(order_id: int, location: int, price: float, *, buy: bool, rng: str) -> dict[str, Any]:
    return {
        "duration": 90,
        "is_buy_order": buy,
        "issued": "2026-11-20T10:00:00Z",
        "location_id": location,
        "min_volume": 1,
        "order_id": order_id,
        "price": price,
        "range": rng,
        "system_id": SYSTEM[location],
        "type_id": TRITANIUM,
        "volume_remain": 1_000 + order_id % 100,
        "volume_total": 5_000,
    }


ORDERS = [
    order(1, JITA_44, 4.50, buy=False, rng="region"),  # the hub's ask
    order(2, PERIMETER_STORAGE, 4.40, buy=False, rng="region"),  # an ask elsewhere: not here
    order(3, JITA_44, 3.90, buy=True, rng="station"),  # the hub's own bid
    order(4, PERIMETER_STORAGE, 4.10, buy=True, rng="region"),  # region bid: reaches
    order(5, MITSOLEN_STORAGE, 4.00, buy=True, rng="5"),  # 5 jumps, 3 away: reaches
    order(6, GERAS_STORAGE, 4.20, buy=True, rng="2"),  # 2 jumps, 5 away: does not
    order(7, JITA_MOON_6, 4.30, buy=True, rng="station"),  # station bid elsewhere: does not
    order(8, JITA_MOON_6, 3.80, buy=True, rng="solarsystem"),  # same system: reaches
]


@pytest.fixture
def snapshot() -> Snapshot:
    meta = SnapshotMeta(
        region_id=FORGE,
        generation="reach-test",
        source="esi",
        esi_last_modified="2026-11-22T02:00:00+00:00",
        esi_expires="2026-11-22T02:05:00+00:00",
        fetched_at="2026-11-22T02:00:05+00:00",
        pages=1,
        orders=len(ORDERS),
    )
    return Snapshot.build(meta, columns_from_pages([(1, ORDERS)]))


def test_the_distances_the_cases_rely_on() -> None:
    assert routes.jump_matrix([JITA], [PERIMETER, MITSOLEN, GERAS])[0].tolist() == [1, 3, 5]


def test_a_station_book_holds_the_bids_that_reach_it_sorted_in_and_marked(snapshot) -> None:
    book = selectors.book_of(snapshot, TRITANIUM, "Tritanium", station_id=JITA_44)
    buys = book["buy"]["orders"]
    # Fillable at Jita 4-4, dearest first: 4.10 (region, Perimeter), 4.00 (5 jumps, Mitsolen,
    # 3 away), 3.90 (its own), 3.80 (solar system, Jita IV - Moon 6). Not 4.30 (station range
    # at another station) nor 4.20 (2 jumps, 5 away).
    assert [o["order_id"] for o in buys] == [4, 5, 3, 8]
    assert [o["price"] for o in buys] == [4.10, 4.00, 3.90, 3.80]
    assert [o["elsewhere"] for o in buys] == [True, True, False, True]
    region_bid, jump_bid, own, same_system = buys
    assert region_bid["range"] == "region"
    assert region_bid["location_name"] == "Perimeter VI - Ytiri Storage"
    assert region_bid["system_name"] == "Perimeter"
    assert region_bid["jumps"] == 1
    assert jump_bid["range"] == "5" and jump_bid["system_name"] == "Mitsolen"
    assert jump_bid["jumps"] == 3
    assert same_system["jumps"] == 0 and same_system["system_name"] == "Jita"
    assert "system_name" not in own and own["location_id"] == JITA_44
    # Counts: four bids, three of them from elsewhere; volumes are 1,000 + id % 100.
    assert book["buy"]["total_orders"] == 4
    assert book["buy"]["elsewhere_orders"] == 3
    assert book["buy"]["elsewhere_volume"] == 1_004 + 1_005 + 1_008
    assert book["buy"]["total_volume"] == 1_004 + 1_005 + 1_003 + 1_008
    # Sell orders are only the station's own.
    assert [o["order_id"] for o in book["sell"]["orders"]] == [1]
    assert book["sell"]["elsewhere_orders"] == 0
    assert book["sell"]["orders"][0]["elsewhere"] is False


def test_the_limit_keeps_the_best_of_the_merged_side(snapshot) -> None:
    book = selectors.book_of(snapshot, TRITANIUM, "Tritanium", station_id=JITA_44, limit=2)
    assert [o["order_id"] for o in book["buy"]["orders"]] == [4, 5]
    assert book["buy"]["total_orders"] == 4


def test_the_region_book_is_unchanged_and_unmarked(snapshot) -> None:
    book = selectors.book_of(snapshot, TRITANIUM, "Tritanium")
    # Every bid, dearest first: 4.30, 4.20, 4.10, 4.00, 3.90, 3.80.
    assert [o["order_id"] for o in book["buy"]["orders"]] == [7, 6, 4, 5, 3, 8]
    assert all("elsewhere" not in o for o in book["buy"]["orders"])
    assert "elsewhere_orders" not in book["buy"]


def test_a_structure_is_placed_by_its_orders(snapshot) -> None:
    # No SDE row for a structure: its system comes from its orders in the snapshot.
    assert selectors.station_system(snapshot, PERIMETER_STORAGE) == PERIMETER
    assert selectors.station_system(snapshot, 1_999_999_999_999) is None
    book = selectors.book_of(snapshot, TRITANIUM, "Tritanium", station_id=1_999_999_999_999)
    # Unknown place: only the region bid can be said to reach it.
    assert [o["order_id"] for o in book["buy"]["orders"]] == [4]


def test_the_hub_book_on_the_item_page_says_which_bids_reach_it(snapshot) -> None:
    hub = {
        "region_id": FORGE,
        "region_name": "The Forge",
        "hub_id": JITA_44,
        "hub_name": "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
        "hub_system": "Jita",
    }
    book = selectors.book_of(snapshot, TRITANIUM, "Tritanium", station_id=JITA_44)
    view = item_page.book_view(book, "hub", hub)
    sells, buys = view["sides"]
    assert [row["location"] for row in buys["rows"]] == [
        "region bid at Perimeter — reaches here",
        "5-jump bid at Mitsolen — reaches here",
        "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
        "solar system bid at Jita — reaches here",
    ]
    assert [row["title"] for row in buys["rows"]][:2] == [
        "Perimeter VI - Ytiri Storage (range region, 1 jump away): a seller here can fill it.",
        "Mitsolen IV - Moon 9 - Prompt Delivery Storage (range 5-jump, 3 jumps away): a seller "
        "here can fill it.",
    ]
    # 1,004 + 1,005 + 1,003 + 1,008 = 4,020 units in four bids, three of them from elsewhere.
    assert buys["summary"] == (
        "4 orders for 4.02k units at Jita, 3 of them from other stations that reach it"
    )
    assert sells["summary"] == "1 order for 1k units at Jita"  # 1,001 units
    # Depth bars: the running volume over the deeper side's shown volume (4,020 units):
    # 1,004 -> 25 %, 2,009 -> 50 %, 3,012 -> 75 %, 4,020 -> 100 %; the ask 1,001 -> 25 %.
    assert [row["share"] for row in buys["rows"]] == [25, 50, 75, 100]
    assert [row["share"] for row in sells["rows"]] == [25]
    html = render_to_string(
        "market/_market.html", {"hub": hub, "books": [view], "type_id": TRITANIUM}
    )
    assert html.count('data-elsewhere="true" class="book__row--elsewhere"') == 3
    assert "region bid at Perimeter — reaches here" in html


def test_book_rows_are_written_escaped():
    from market.item_page import rows_html

    row = {
        "order_id": 7,
        "price": 1234567.891,
        "volume": 1500,
        "depth": 2_500_000,
        "share": 40,
        "elsewhere": False,
        "location": '<script>alert("x")</script> & Co',
        "title": 'A "quoted" station',
    }
    html = str(rows_html([row], "none"))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; Co" in html
    assert 'title="A &quot;quoted&quot; station"' in html
    # The figures as the template's filters wrote them: cents kept below 1,000 ISK only.
    assert '<td class="num book__price">1,234,567.89</td>' in html
    assert 'title="1,500 units">1.5k</td>' in html and 'width="40%"' in html
    assert 'title="2,500,000 units up to this price"' in html and ">2.5M</span>" in html
    assert str(rows_html([], "No sell orders at Jita.")) == (
        '<tr><td colspan="4" class="muted">No sell orders at Jita.</td></tr>'
    )
