"""Structure books everywhere places are (issue 15, market/books.py): a shared structure's
whole book joins its region's market for station trading, hauling, the calculator, the item
page, the market API and the boards, with its name, a docking note and the owner's broker
fee; a region nobody tracks is the books of its shared structures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.urls import reverse

from market import books, publish
from market.models import Structure
from market.pricegrid import price_above, price_below
from profit import boards, selectors
from tests.profit_books import (
    DOMINIX,
    FORGE,
    JITA_44,
    JITA_STRUCTURE,
    PERIMETER,
    SYSTEMS,
    TRITANIUM,
    columns,
    fresh_meta,
    order,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

TOWER = "Perimeter - Test Trading Tower"
# The seeded fee schedule (profit/migrations), the game's since Viridian: sales tax 7.5 %
# with no Accounting; the SCC's 0.5 % on top of a structure owner's broker fee.
TAX, SCC = 0.075, 0.005
RANGED_BID = 7_900_000_001  # a structure bid of range "region": in both books
DELVE, ONE_DQ = 10000060, 30004759  # a null-sec region nobody tracks here
KEEPSTAR = 1_035_000_000_001
SYSTEMS[KEEPSTAR] = ONE_DQ


def publish_book(book_id: int, orders: list[dict[str, Any]]) -> None:
    from market.snapshot import Snapshot

    publish.publish(Snapshot.build(fresh_meta(book_id, len(orders)), columns(orders)))


def region_orders() -> list[dict[str, Any]]:
    """The Forge as ESI's region book shows it: Jita's orders and, of the tower's, only its
    ranged bid."""
    return [
        order(DOMINIX, 70_000_000, 50, location=JITA_44),
        order(DOMINIX, 60_000_000, 50, buy=True, location=JITA_44),
        order(TRITANIUM, 4.0, 1_000_000, location=JITA_44),
        order(TRITANIUM, 3.5, 1_000_000, buy=True, location=JITA_44),
        ranged_bid(),
    ]


def ranged_bid() -> dict[str, Any]:
    return order(
        TRITANIUM,
        3.0,
        10_000,
        buy=True,
        location=JITA_STRUCTURE,
        reach="region",
        order_id=RANGED_BID,
    )


def tower_orders() -> list[dict[str, Any]]:
    """The tower's whole book: its sells and its station-range bids, which no region book
    shows, and the ranged bid again."""
    return [
        order(DOMINIX, 100_000_000, 20, location=JITA_STRUCTURE),
        order(DOMINIX, 80_000_000, 20, buy=True, location=JITA_STRUCTURE),
        order(TRITANIUM, 6.0, 10_000, location=JITA_STRUCTURE),
        ranged_bid(),
    ]


@pytest.fixture
def tower(market) -> Iterator[Structure]:
    """The Forge published, and a shared structure in Perimeter with its whole book (the
    owner's broker fee set by an operator: 2 %)."""
    publish_book(FORGE, region_orders())
    publish_book(JITA_STRUCTURE, tower_orders())
    structure = Structure.objects.create(
        structure_id=JITA_STRUCTURE,
        name=TOWER,
        solar_system_id=PERIMETER,
        region_id=FORGE,
        learned_from=Structure.Learned.CHARACTER,
        market_status=Structure.Status.SHARED,
        broker_fee="0.02",
    )
    selectors.computed.clear()
    yield structure
    selectors.computed.clear()


def api(client, name: str, **params: Any) -> Any:
    response = client.get(reverse(name), params, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()


# --- The merged book -------------------------------------------------------------------------


def test_the_region_market_holds_each_structure_order_once(tower):
    view = books.view(FORGE)
    assert view is not None
    ids = view.book["order_id"].tolist()
    region, structure = publish.load(FORGE), publish.load(JITA_STRUCTURE)
    assert region is not None and structure is not None
    expected = set(region.book["order_id"].tolist()) | set(structure.book["order_id"].tolist())
    assert len(expected) == len(region_orders()) + len(tower_orders()) - 1
    assert sorted(ids) == sorted(expected)  # the ranged bid, in both books, counted once
    at_tower = view.book["location_id"] == JITA_STRUCTURE
    assert int((~view.book["is_buy_order"] & at_tower).sum()) == 2  # the sells ESI hides
    assert [m.region_id for m in view.parts] == [FORGE, JITA_STRUCTURE]
    assert books.view(FORGE) is view  # built once for these generations


def test_a_structure_nobody_shares_leaves_the_region_book_as_it_is(tower):
    tower.market_status = Structure.Status.DENIED
    tower.save()
    assert books.view(FORGE) is publish.load(FORGE)


def test_a_new_structure_book_is_a_new_market(tower):
    first = books.view(FORGE)
    publish_book(JITA_STRUCTURE, tower_orders()[:1])
    publish.forget_loaded()
    second = books.view(FORGE)
    assert first is not None and second is not None
    assert second.meta.generation != first.meta.generation
    assert len(second.book["order_id"]) == len(region_orders()) - 1 + 1


# --- Station trading at a structure, with the owner's fee -------------------------------------


def test_station_trading_at_a_structure_reads_its_whole_book_and_owner_fee(client, tower):
    body = api(client, "api-profit-station", station_id=JITA_STRUCTURE)
    assert body["station"]["name"] == TOWER
    assert body["station"]["system_name"] == "Perimeter"
    assert body["station"]["security"] == 1.0  # Perimeter's 0.95 as the game shows it
    assert "docking" in body["station"]["docking_note"]
    (row,) = [r for r in body["results"] if r["type_id"] == DOMINIX]
    assert (row["best_ask"], row["best_bid"]) == (100_000_000, 80_000_000)
    # Outbid the best bid and undercut the best ask by one step of the 4-digit grid.
    buy, sell = 80_010_000.0, 99_990_000.0
    assert (price_above(80_000_000.0), price_below(100_000_000.0)) == (buy, sell)
    assert (row["buy_price"], row["sell_price"]) == (buy, sell)
    surcharge = SCC
    rate = 0.02 + surcharge  # the operator's owner rate + the SCC's
    tax = TAX
    assert row["buy_broker_fee"] == pytest.approx(buy * rate)
    assert row["sell_broker_fee"] == pytest.approx(sell * rate)
    assert row["profit_per_unit"] == pytest.approx(
        sell - sell * tax - sell * rate - buy - buy * rate
    )
    (statement,) = body["rates"]["locations"]
    assert statement["owner_rate"] == 0.02 and statement["owner_rate_from"] == "operator"
    assert statement["broker_fee"] == pytest.approx(rate)


def test_the_setting_prices_a_structure_no_operator_priced(client, tower, settings):
    tower.broker_fee = None
    tower.save()
    settings.PROFIT_STRUCTURE_BROKER_FEE = 3.0
    body = api(client, "api-profit-station", station_id=JITA_STRUCTURE)
    (statement,) = body["rates"]["locations"]
    assert statement["owner_rate"] == 0.03 and statement["owner_rate_from"] == "setting"


def test_answers_name_the_structure_book_and_pin_it(client, tower):
    body = api(client, "api-profit-station", station_id=JITA_STRUCTURE)
    blocks = {b.get("structure_id"): b for b in body["snapshots"]}
    assert set(blocks) == {None, JITA_STRUCTURE}
    assert blocks[JITA_STRUCTURE]["region_id"] == FORGE
    assert blocks[None]["region_id"] == FORGE
    gone = client.get(
        reverse("api-profit-station"),
        {"station_id": JITA_STRUCTURE, "snapshots": f"{JITA_STRUCTURE}:20200101T000000-000000"},
        HTTP_ACCEPT="application/json",
    )
    assert gone.status_code == 410
    assert f"structure {JITA_STRUCTURE}" in gone.json()["detail"]


# --- Hauling and the calculator ---------------------------------------------------------------


def test_hauling_to_a_structure_sells_into_its_hidden_bids(client, tower):
    body = api(client, "api-profit-hauling", **{"from": JITA_44, "to": JITA_STRUCTURE})
    assert body["to"][0]["name"] == TOWER and body["to"][0]["docking_note"]
    rows = {r["type_id"]: r for r in body["results"]}
    # Dominix: 70M in Jita, the tower's station-range bid of 80M: seen only in its own book.
    assert rows[DOMINIX]["to_name"] == TOWER
    assert rows[DOMINIX]["to_location_id"] == JITA_STRUCTURE


def test_hauling_to_a_region_reaches_its_shared_structures(client, tower):
    body = api(client, "api-profit-hauling", **{"from": JITA_44, "to": FORGE})
    to = {(r["type_id"], r["to_location_id"]) for r in body["results"]}
    assert (DOMINIX, JITA_STRUCTURE) in to  # a region stands for its structures too


def test_the_calculator_prices_a_trade_at_a_structure(client, tower):
    response = client.post(
        reverse("api-profit-calculate"),
        {
            "type_id": DOMINIX,
            "buy_location": JITA_44,
            "sell_location": JITA_STRUCTURE,
            "quantity": 10,
            "mode": "instant",
        },
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sell_location"]["name"] == TOWER
    breakdown = body["breakdown"]
    # 10 bought at Jita's 70M ask, sold at once into the tower's 80M bid (no broker fee).
    assert [o["price"] for o in breakdown["sell_orders"]] == [80_000_000]
    tax = TAX
    net = 10 * 80_000_000 * (1 - tax) - 10 * 70_000_000
    assert breakdown["totals"]["net_profit"] == pytest.approx(net, abs=0.01)


# --- Item page, market API, boards ------------------------------------------------------------


def test_the_item_page_and_compare_show_the_structure_beside_the_hub(client, tower):
    body = api(client, "api-market-compare", type_id=DOMINIX, regions=FORGE)
    (forge,) = body["regions"]
    (at_tower,) = forge["structures"]
    assert at_tower["structure_name"] == TOWER
    assert (at_tower["best_ask"], at_tower["best_bid"]) == (100_000_000, 80_000_000)
    assert forge["hub"]["best_ask"] == 70_000_000
    page = client.get(reverse("item", args=[DOMINIX]))
    html = page.content.decode()
    assert 'data-kind="structure"' in html and TOWER in html


def test_a_structure_marked_as_a_hub_gets_a_board(tower, market):
    tower.is_hub = True
    tower.save()
    assert boards.recompute(force=True) == "published"
    found = {b["id"]: b for b in boards.read_boards()["boards"]}
    board = found[f"station:{JITA_STRUCTURE}"]
    assert board["title"] == TOWER
    # No daily volumes yet: ranked by profit per unit (Dominix between 80M and 100M first).
    assert [r["type_id"] for r in board["rows"]] == [DOMINIX, TRITANIUM]
    assert JITA_STRUCTURE in found["hauling"]["station_ids"]


# --- Names and places -------------------------------------------------------------------------


def test_a_structure_is_unnamed_until_a_member_shares_it(client, tower):
    tower.name = ""
    tower.save()
    body = api(client, "api-profit-station", station_id=JITA_STRUCTURE)
    assert body["station"]["name"] == f"Structure {JITA_STRUCTURE}"
    assert body["station"]["system_name"] == "Perimeter"  # placed by its orders


# --- A region nobody tracks ------------------------------------------------------------------


def test_an_untracked_region_is_the_books_of_its_shared_structures(client, market):
    publish_book(
        KEEPSTAR,
        [
            order(DOMINIX, 120_000_000, 5, location=KEEPSTAR),
            order(DOMINIX, 100_000_000, 5, buy=True, location=KEEPSTAR),
        ],
    )
    Structure.objects.create(
        structure_id=KEEPSTAR,
        name="1DQ1-A - Test Keepstar",
        solar_system_id=ONE_DQ,
        region_id=DELVE,
        learned_from=Structure.Learned.CHARACTER,
        market_status=Structure.Status.SHARED,
    )
    body = api(client, "api-profit-station", station_id=KEEPSTAR)
    assert body["station"]["region_id"] == DELVE
    assert body["station"]["security"] == -0.4
    assert [r["type_id"] for r in body["results"]] == [DOMINIX]
    assert [b.get("structure_id") for b in body["snapshots"]] == [KEEPSTAR]
    # Hauling from the whole region works the same way.
    hauled = api(client, "api-profit-hauling", **{"from": DELVE, "to": KEEPSTAR})
    assert hauled["from"][0]["name"] == "Delve"
    other = client.get(
        reverse("api-profit-station"), {"station_id": 60003760}, HTTP_ACCEPT="application/json"
    )
    assert other.status_code == 503  # The Forge (tracked) has no snapshot in this test


def test_the_place_search_and_pickers_offer_shared_structures(client, tower):
    hits = api(client, "api-place-search", q="test trading", kinds="structure")["results"]
    assert [(h["id"], h["name"], h["system"]) for h in hits] == [
        (JITA_STRUCTURE, TOWER, "Perimeter")
    ]
    page = client.get(reverse("profit-station")).content.decode()
    assert '<optgroup label="Structure markets">' in page
    assert f'<option value="{JITA_STRUCTURE}">{TOWER}</option>' in page
    tower.market_status = Structure.Status.DENIED  # no longer read: not offered
    tower.name = ""
    tower.save()
    assert api(client, "api-place-search", q="test trading", kinds="structure")["results"] == []


def test_an_order_in_both_books_is_counted_once_the_structure_s_copy(tower):
    """Were the region book to show an order of the structure's elsewhere (fetched minutes
    apart), the merged market still holds it once: as the structure's book has it."""
    moved = {**tower_orders()[0], "location_id": JITA_44, "system_id": SYSTEMS[JITA_44]}
    structure = publish.load(JITA_STRUCTURE)
    assert structure is not None
    moved["order_id"] = int(structure.book["order_id"][0])
    publish_book(FORGE, [*region_orders(), moved])
    publish.forget_loaded()
    view = books.view(FORGE)
    assert view is not None
    ids = view.book["order_id"].tolist()
    assert ids.count(moved["order_id"]) == 1
    (row,) = np.flatnonzero(view.book["order_id"] == moved["order_id"]).tolist()
    assert int(view.book["location_id"][row]) == JITA_STRUCTURE


# --- When access or the owner's fee changes -----------------------------------------------------


def test_a_structure_nobody_shares_any_more_leaves_the_market(client, tower, django_user_model):
    from characters import structures as pool
    from characters.models import StructureShare
    from tests.characters_setup import make_character

    member = make_character(django_user_model.objects.create_user("m"), 1001)
    StructureShare.objects.create(character=member, structure=tower)
    assert api(client, "api-place-search", q="test trading", kinds="structure")["results"]
    pool.set_shares(member, set())  # the member unshares it
    tower.refresh_from_db()
    assert tower.market_status == Structure.Status.NO_ACCESS
    assert books.view(FORGE) is publish.load(FORGE)  # its old book is merged no more
    assert api(client, "api-place-search", q="test trading", kinds="structure")["results"] == []
    station = api(client, "api-profit-station", station_id=JITA_STRUCTURE)["station"]
    assert station["name"] == f"Structure {JITA_STRUCTURE}"  # nor named


def test_a_book_nobody_could_read_for_an_hour_is_not_merged(tower, settings):
    settings.MARKET_STRUCTURE_BOOK_MAX_AGE = 3600
    old = fresh_meta(JITA_STRUCTURE, 4)
    expired = datetime.now(UTC) - timedelta(seconds=3601)
    meta = replace(old, esi_expires=expired.isoformat(timespec="seconds"))
    from market.snapshot import Snapshot

    publish.publish(Snapshot.build(meta, columns(tower_orders())))
    publish.forget_loaded()
    assert books.view(FORGE) is publish.load(FORGE)


def test_an_operator_s_new_fee_reaches_answers_at_once(client, tower):
    def owner_rate() -> float:
        body = api(client, "api-profit-station", station_id=JITA_STRUCTURE)
        (statement,) = body["rates"]["locations"]
        return float(statement["owner_rate"])

    assert owner_rate() == 0.02
    tower.broker_fee = "0.05"
    tower.save()  # same books: the answer kept for them must not be served
    assert owner_rate() == 0.05
