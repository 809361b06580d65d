"""The trade calculator: itemised, hand-checkable breakdowns of single trades."""

import inspect

import numpy as np
import pytest

from profit.calculator import CalculatorError, calculate
from profit.fees import Skills
from profit.hauling import HaulingParams
from profit.locations import resolve_place
from profit.volumes import DailyVolumes
from sde import routes
from tests.profit_books import (
    AMARR,
    AMARR_EFA,
    DOMAIN,
    DOMINIX,
    FORGE,
    JITA,
    JITA_44,
    PERIMETER_STORAGE,
    TRITANIUM,
    order,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

TRADER = Skills(accounting=4, broker_relations=3)  # sales tax 4.2 %, broker fee 2.1 %


def books(forge_orders=None, domain_orders=None):
    forge_orders = forge_orders if forge_orders is not None else default_forge()
    domain_orders = domain_orders if domain_orders is not None else default_domain()
    return {
        FORGE: snapshot(FORGE, forge_orders, generation="forge-g7"),
        DOMAIN: snapshot(DOMAIN, domain_orders, generation="domain-g3"),
    }


def default_forge():
    return [
        order(TRITANIUM, 4.00, 1_000, order_id=101),
        order(TRITANIUM, 4.10, 2_000, order_id=102),
        order(TRITANIUM, 4.50, 5_000, order_id=103),
    ]


def default_domain():
    return [
        order(TRITANIUM, 5.00, 1_500, buy=True, location=AMARR_EFA, order_id=201),
        order(TRITANIUM, 4.40, 1_000, buy=True, location=AMARR_EFA, order_id=202),
        order(TRITANIUM, 4.20, 10_000, buy=True, location=AMARR_EFA, order_id=203),
        order(TRITANIUM, 5.50, 100, location=AMARR_EFA, order_id=204),
    ]


def calc(quantity, mode="instant", buy=JITA_44, sell=AMARR_EFA, snapshots=None, **kwargs):
    snapshots = snapshots or books()
    return calculate(
        kwargs.pop("type_id", TRITANIUM),
        resolve_place(buy),
        resolve_place(sell),
        quantity,
        mode,
        TRADER,
        snapshots=snapshots,
        **kwargs,
    )


def line(breakdown, label_start):
    (found,) = [x for x in breakdown["lines"] if x["label"].startswith(label_start)]
    return found


def test_an_instant_trade_itemised():
    b = calc(2_000)
    assert b["quantity"] == 2_000 and b["complete"] and b["notes"] == []
    assert [(o["order_id"], o["price"], o["units"]) for o in b["buy_orders"]] == [
        (101, 4.00, 1_000),
        (102, 4.10, 1_000),
    ]
    assert [(o["order_id"], o["price"], o["units"]) for o in b["sell_orders"]] == [
        (201, 5.00, 1_500),
        (202, 4.40, 500),
    ]
    totals = b["totals"]
    assert totals["buy_total"] == 8_100.00
    assert totals["sell_total"] == 9_700.00
    assert totals["sales_tax"] == 407.40
    assert totals["broker_fee"] == 0.0
    assert totals["net_profit"] == 1_192.60
    assert totals["margin"] == pytest.approx(1_192.60 / 9_700, abs=1e-6)
    assert totals["roi"] == pytest.approx(1_192.60 / 8_100, abs=1e-6)
    assert totals["volume_m3"] == 20.0
    # The one default route of hauling, the forms and the boards: shortest, high-sec only.
    assert totals["jumps"] == len(routes.route(JITA, AMARR, "shortest", "high")) - 1
    purchase = line(b, "Purchase")
    assert purchase["amount"] == -8_100.00
    assert purchase["formula"] == (
        "1,000 x 4.00 (order 101) + 1,000 x 4.10 (order 102) = 8,100.00 ISK"
    )
    assert purchase["snapshot"] == {
        "region_id": FORGE,
        "generation": "forge-g7",
        "esi_last_modified": "2026-11-22T02:00:00+00:00",
        "source": "esi",
    }
    sale = line(b, "Sale:")
    assert sale["amount"] == 9_700.00
    assert sale["snapshot"]["generation"] == "domain-g3"
    tax = line(b, "Sales tax")
    assert tax["amount"] == -407.40
    assert tax["formula"] == "4.2 % x 9,700.00 ISK = 407.40 ISK"
    net = line(b, "Net profit")
    assert net["amount"] == 1_192.60
    assert [s["generation"] for s in net["snapshots"]] == ["forge-g7", "domain-g3"]
    assert b["rates"]["sales_tax"] == pytest.approx(0.042)
    assert [s["generation"] for s in b["snapshots"]] == ["forge-g7", "domain-g3"]


def test_more_than_the_sell_orders_hold_prices_what_is_there():
    b = calc(20_000)
    assert b["quantity"] == 8_000 and not b["complete"]
    assert b["quantity_available"] == {"buy": 8_000, "sell": 12_500}
    assert "8,000" in b["notes"][0] and "20,000" in b["notes"][0]
    assert b["totals"]["buy_total"] == 4_000 + 8_200 + 22_500


def test_more_than_the_buy_orders_want_prices_what_they_take():
    domain = default_domain()[:2]
    b = calc(5_000, snapshots=books(domain_orders=domain))
    assert b["quantity"] == 2_500 and not b["complete"]
    assert b["quantity_available"] == {"buy": 8_000, "sell": 2_500}
    assert b["totals"]["buy_total"] == 4_000 + 1_500 * 4.10  # only what can be sold is bought


def test_a_trade_that_loses_is_priced_anyway():
    b = calc(8_000)
    assert b["complete"] and b["totals"]["net_profit"] < 0


def test_listing_at_the_destination_pays_the_broker_fee():
    b = calc(3_000, mode="list")
    assert b["listing"] == {
        "order_id": 204,
        "location_id": AMARR_EFA,
        "system_id": AMARR,
        "best_ask": 5.50,
        "price": 5.49,  # one step of the grid under 5.50 (cents under 100 ISK)
        "list_price_basis": "unchecked",  # no price history stored for this test
        "history_high": None,
        "how": "one price step under the best ask 5.50 ISK, order 204",
    }
    assert b["sell_orders"] == []
    totals = b["totals"]
    assert totals["sell_total"] == 16_470.00
    assert totals["broker_fee"] == 345.87
    assert totals["sales_tax"] == 691.74
    assert totals["net_profit"] == pytest.approx(16_470 - 691.74 - 345.87 - 12_200, abs=0.01)
    fee = line(b, "Broker fee")
    assert fee["amount"] == -345.87
    assert fee["formula"] == "max(2.1 % x 16,470.00 ISK, 100.00 ISK) = 345.87 ISK"
    assert b["rates"]["broker_fee"] == pytest.approx(0.021)
    (where,) = b["rates"]["statement"]["locations"]
    assert where["location_id"] == AMARR_EFA


def test_a_small_listing_pays_the_minimum_broker_fee():
    b = calc(10, mode="list")
    assert b["totals"]["broker_fee"] == 100.0  # 2.1 % x 54.90 is 1.15 ISK


def test_listing_needs_an_ask_to_undercut():
    b = calc(10, mode="list", snapshots=books(domain_orders=default_domain()[:3]))
    assert b["quantity"] == 0 and not b["complete"]
    assert any("nothing to undercut" in note for note in b["notes"])


def test_a_buy_order_with_a_minimum_volume_above_the_units_is_skipped():
    domain = [
        order(TRITANIUM, 5.00, 1_500, buy=True, location=AMARR_EFA, min_volume=1_000, order_id=9),
        order(TRITANIUM, 4.40, 1_000, buy=True, location=AMARR_EFA, order_id=10),
    ]
    b = calc(800, snapshots=books(domain_orders=domain))
    assert [(o["order_id"], o["units"]) for o in b["sell_orders"]] == [(10, 800)]
    b = calc(1_200, snapshots=books(domain_orders=domain))
    assert [(o["order_id"], o["units"]) for o in b["sell_orders"]] == [(9, 1_200)]


def test_a_ship_is_counted_at_its_packaged_volume():
    forge = [order(DOMINIX, 200_000_000.0, 2, order_id=1)]
    domain = [order(DOMINIX, 230_000_000.0, 5, buy=True, location=AMARR_EFA, order_id=2)]
    b = calc(2, type_id=DOMINIX, snapshots=books(forge, domain))
    assert b["type_name"] == "Dominix"
    assert b["totals"]["unit_volume_m3"] == 50_000.0
    assert b["totals"]["volume_m3"] == 100_000.0
    assert line(b, "Cargo")["formula"] == "2 x 50000 m3 = 100,000.00 m3"


def test_buying_across_a_region_lists_each_station():
    forge = [*default_forge(), order(TRITANIUM, 3.90, 300, location=PERIMETER_STORAGE)]
    b = calc(500, buy=FORGE, snapshots=books(forge_orders=forge))
    assert [(o["location_id"], o["units"]) for o in b["buy_orders"]] == [
        (PERIMETER_STORAGE, 300),
        (JITA_44, 200),
    ]
    assert b["buy_orders"][0]["location_name"].startswith("Perimeter")
    assert b["totals"]["jumps"] is None
    assert any("several systems" in note for note in b["notes"])


def test_no_route_under_the_security_filter_says_so():
    from tests.profit_books import OHKUNEN_OUTPOST

    domain = [order(TRITANIUM, 5.00, 100, buy=True, location=OHKUNEN_OUTPOST, order_id=5)]
    forge = [*default_forge(), *domain]
    b = calc(100, sell=OHKUNEN_OUTPOST, snapshots=books(forge_orders=forge), security="high")
    assert b["totals"]["jumps"] is None
    assert any("No route" in note for note in b["notes"])


def test_errors():
    with pytest.raises(CalculatorError, match="Mode"):
        calc(10, mode="carry")
    with pytest.raises(CalculatorError, match="Quantity"):
        calc(0)
    with pytest.raises(CalculatorError, match="snapshot"):
        calc(10, snapshots={FORGE: books()[FORGE]})


# --- The price grid, history and ranges (issue 11) -----------------------------------------


def test_a_listing_is_one_grid_step_under_an_expensive_ask():
    domain = [order(DOMINIX, 250_000_000.0, 1, location=AMARR_EFA, order_id=301)]
    forge = [order(DOMINIX, 200_000_000.0, 2, order_id=302)]
    b = calc(1, mode="list", type_id=DOMINIX, snapshots=books(forge, domain))
    # 9 digits: steps of 100,000 ISK; 250,000,000 - 100,000 (never 249,999,999.99).
    assert b["listing"]["price"] == 249_900_000.0
    assert b["totals"]["sell_total"] == 249_900_000.0


def test_a_listing_above_the_history_is_priced_at_its_high():
    table = DailyVolumes(
        DOMAIN, np.array([TRITANIUM]), np.array([5_000.0]), np.array([0]), np.array([5.237])
    )
    b = calc(3_000, mode="list", volumes={DOMAIN: table})
    listing = b["listing"]
    assert (listing["best_ask"], listing["price"], listing["list_price_basis"]) == (
        5.50,
        5.23,
        "history",
    )
    assert listing["history_high"] == 5.237
    # 3,000 x 5.23 = 15,690 sold; the purchase is 1,000 x 4.00 + 2,000 x 4.10 = 12,200.
    assert b["totals"]["sell_total"] == 15_690.00
    assert "5.24 ISK" in line(b, "Sale:")["formula"]  # the 30-day high, as printed


def test_selling_at_a_station_fills_ranged_bids_that_reach_it():
    """Selling at Jita 4-4: the Perimeter region bid (dearest) goes first; Perimeter's station
    bid does not reach Jita. Jumps count from where the seller stands."""
    forge = [
        order(TRITANIUM, 4.00, 10_000, location=AMARR_EFA, order_id=401),
    ]
    jita = [
        order(TRITANIUM, 5.00, 1_000, buy=True, order_id=402),
        order(
            TRITANIUM, 5.20, 300, buy=True, location=PERIMETER_STORAGE, reach="region", order_id=403
        ),
        order(TRITANIUM, 6.00, 300, buy=True, location=PERIMETER_STORAGE, order_id=404),
    ]
    b = calc(500, buy=AMARR_EFA, sell=JITA_44, snapshots=books(jita, forge))
    assert [(o["order_id"], o["units"]) for o in b["sell_orders"]] == [(403, 300), (402, 200)]
    assert b["totals"]["sell_total"] == 300 * 5.20 + 200 * 5.00
    assert b["totals"]["jumps"] == len(routes.route(AMARR, JITA, "shortest", "high")) - 1


def test_the_default_route_is_the_one_default():
    defaults = inspect.signature(calculate).parameters
    assert defaults["security"].default == routes.DEFAULT_SECURITY == "high"
    assert defaults["preference"].default == routes.DEFAULT_PREFERENCE == "shortest"
    assert HaulingParams().security == "high" and HaulingParams().preference == "shortest"


def test_plex_is_not_traded_between_places():
    with pytest.raises(CalculatorError, match="global PLEX market"):
        calc(10, type_id=44992)


def test_a_listing_under_a_bid_that_reaches_the_sell_place_says_so():
    table = DailyVolumes(
        DOMAIN, np.array([TRITANIUM]), np.array([5_000.0]), np.array([0]), np.array([4.90])
    )
    # Capped by history at 4.90, under Amarr's 5.00 bid (order 201): filled at once.
    b = calc(100, mode="list", volumes={DOMAIN: table})
    assert b["listing"]["price"] == 4.90
    assert any("filled at once by the buy order at 5.00 ISK (order 201)" in n for n in b["notes"])
