"""Hauling: hand-computed depth walks between real stations with the seeded fee schedule,
the caps (cargo in packaged m3, budget, daily volume), buy orders' minimum volumes, jumps,
structures, and the regressions users found in other tools."""

import numpy as np
import pytest

from profit.fees import Skills
from profit.hauling import HaulingParams, HaulRates, hauling
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
    JITA_STRUCTURE,
    OHKUNEN_OUTPOST,
    PERIMETER,
    PERIMETER_STORAGE,
    PLEX,
    TRITANIUM,
    ZIONA_FACTORY,
    order,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

# Accounting 4: sales tax 4.2 %; Broker Relations 3, no standings: broker fee 2.1 %.
TRADER = Skills(accounting=4, broker_relations=3)


def jita_sells():
    return [
        order(TRITANIUM, 4.00, 1_000),
        order(TRITANIUM, 4.10, 2_000),
        order(TRITANIUM, 4.50, 5_000),
    ]


def amarr_buys():
    return [
        order(TRITANIUM, 5.00, 1_500, buy=True, location=AMARR_EFA),
        order(TRITANIUM, 4.40, 1_000, buy=True, location=AMARR_EFA),
        order(TRITANIUM, 4.20, 10_000, buy=True, location=AMARR_EFA),
    ]


def haul(forge_orders, domain_orders, source=JITA_44, destination=AMARR_EFA, **params):
    forge = snapshot(FORGE, forge_orders)
    domain = snapshot(DOMAIN, domain_orders)
    by_region = {FORGE: forge, DOMAIN: domain}

    def entry(location):
        place = resolve_place(location, snapshots=[forge, domain])
        return by_region[place.region_id], place

    return hauling(
        [entry(source)], [entry(destination)], TRADER, HaulingParams(**params), volumes={}
    )


def test_instant_walks_both_books_while_the_next_unit_still_earns():
    result = haul(jita_sells(), amarr_buys())
    (row,) = result.rows
    # 1,000 @ 4.00 and 1,500 @ 4.10 bought; 1,500 @ 5.00 and 1,000 @ 4.40 sold. The next unit
    # (4.10 against 4.20 x (1 - 4.2 %) = 4.0236) would lose.
    assert row["quantity"] == 2_500
    assert row["buy_total"] == pytest.approx(10_150.00)
    assert row["sell_total"] == pytest.approx(11_900.00)
    assert row["sales_tax"] == pytest.approx(499.80)  # 4.2 % x 11,900
    assert row["buy_broker_fee"] == 0.0 and row["sell_broker_fee"] == 0.0
    assert row["net_profit"] == pytest.approx(1_250.20)
    assert row["avg_buy"] == pytest.approx(4.06)
    assert row["avg_sell"] == pytest.approx(4.76)
    assert row["roi"] == pytest.approx(1_250.20 / 10_150.00, abs=1e-6)
    assert row["volume_m3"] == pytest.approx(25.0)  # 2,500 x 0.01 m3
    assert row["isk_per_m3"] == pytest.approx(1_250.20 / 25.0, abs=0.01)
    assert (row["buy_orders_used"], row["sell_orders_used"]) == (2, 2)
    assert row["from_name"] == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    assert row["to_name"].startswith("Amarr VIII") and "Emperor Family Academy" in row["to_name"]
    assert row["type_name"] == "Tritanium"
    assert result.total == 1


def test_cargo_caps_the_units():
    (row,) = haul(jita_sells(), amarr_buys(), cargo_m3=20.0).rows  # 2,000 units of 0.01 m3
    assert row["quantity"] == 2_000
    assert row["buy_total"] == pytest.approx(8_100.00)  # 1,000 x 4.00 + 1,000 x 4.10
    assert row["sell_total"] == pytest.approx(9_700.00)  # 1,500 x 5.00 + 500 x 4.40
    assert row["net_profit"] == pytest.approx(9_700 - 407.40 - 8_100)


def test_budget_caps_the_isk_spent():
    (row,) = haul(jita_sells(), amarr_buys(), budget=6_000.0).rows
    # 1,000 x 4.00 = 4,000, then 2,000 ISK buys 487 units at 4.10.
    assert row["quantity"] == 1_487
    assert row["buy_total"] == pytest.approx(5_996.70)
    assert row["sell_total"] == pytest.approx(7_435.00)
    assert row["net_profit"] == pytest.approx(7_435.00 - 312.27 - 5_996.70)


def test_ships_are_carried_at_their_packaged_volume():
    """Regression: a Dominix is 454,500 m3 assembled but 50,000 m3 packaged (invVolumes)."""
    forge = [order(DOMINIX, 200_000_000.0, 2), order(DOMINIX, 205_000_000.0, 3)]
    domain = [order(DOMINIX, 230_000_000.0, 10, buy=True, location=AMARR_EFA)]
    (row,) = haul(forge, domain, cargo_m3=120_000.0).rows
    assert row["quantity"] == 2
    assert row["volume_m3"] == 100_000.0
    assert row["net_profit"] == pytest.approx(2 * 230e6 * (1 - 0.042) - 400e6)
    # Room for one packaged hull only.
    (row,) = haul(forge, domain, cargo_m3=60_000.0).rows
    assert row["quantity"] == 1


def test_jumps_are_the_route_length_minus_one():
    (row,) = haul(jita_sells(), amarr_buys(), security="high").rows
    route = routes.route(JITA, AMARR, "shortest", "high")
    assert route[0] == JITA and route[-1] == AMARR
    assert row["jumps"] == len(route) - 1
    assert row["profit_per_jump"] == pytest.approx(row["net_profit"] / row["jumps"], abs=0.01)


def test_next_door_is_one_jump_and_the_same_station_zero():
    crossed = [
        *jita_sells(),
        order(TRITANIUM, 4.50, 500, buy=True),  # a Jita bid above the Jita asks
        order(TRITANIUM, 4.60, 500, buy=True, location=PERIMETER_STORAGE),
    ]
    (same,) = haul(crossed, [], destination=JITA_44).rows
    assert same["jumps"] == 0
    assert same["quantity"] == 500
    assert same["net_profit"] == pytest.approx(500 * 4.50 * (1 - 0.042) - 500 * 4.00)
    assert same["profit_per_jump"] == same["net_profit"]
    (next_door,) = haul(crossed, [], destination=PERIMETER_STORAGE).rows
    assert next_door["jumps"] == 1 == len(routes.route(JITA, PERIMETER)) - 1


def test_list_mode_pays_the_broker_fee_on_the_sell_order():
    """Regression: listing at the destination pays its broker fee, not only the sales tax."""
    domain = [order(TRITANIUM, 5.50, 100, location=AMARR_EFA)]  # the ask to undercut
    result = hauling(
        [(snapshot(FORGE, jita_sells()), resolve_place(JITA_44))],
        [(snapshot(DOMAIN, domain), resolve_place(AMARR_EFA))],
        TRADER,
        HaulingParams(mode="list", days_to_sell=1),
        volumes={DOMAIN: {TRITANIUM: 3_000.5}},
    )
    (row,) = result.rows
    # Listed at 5.49 (one grid step under 5.50); 5.49 x (1 - 4.2 % - 2.1 %) = 5.144 beats
    # every ask at Jita, but Amarr (the whole book) trades only 3,000.5 units in a day: 3,000.
    assert row["quantity"] == 3_000
    assert row["avg_sell"] == pytest.approx(5.49)
    assert row["buy_total"] == pytest.approx(12_200.00)  # 1,000 x 4.00 + 2,000 x 4.10
    assert row["sell_total"] == pytest.approx(16_470.00)
    assert row["sell_broker_fee"] == pytest.approx(345.87)  # 2.1 % x 16,470
    assert row["sales_tax"] == pytest.approx(691.74)  # 4.2 % x 16,470
    assert row["buy_broker_fee"] == 0.0
    assert row["net_profit"] == pytest.approx(16_470 - 691.74 - 345.87 - 12_200)
    assert (row["buy_orders_used"], row["sell_orders_used"]) == (2, 0)
    (where,) = result.rates["locations"]
    assert where["location_id"] == AMARR_EFA and where["broker_fee"] == pytest.approx(0.021)


def test_list_mode_charges_the_minimum_broker_fee():
    domain = [order(TRITANIUM, 5.50, 100, location=AMARR_EFA)]
    # 200 units: 2.1 % x 1,098 = 23.06 ISK, so the 100 ISK minimum is charged.
    (row,) = haul(jita_sells(), domain, mode="list", cargo_m3=2.0).rows
    assert row["quantity"] == 200
    assert row["sell_broker_fee"] == 100.0
    assert row["net_profit"] == pytest.approx(1_098 - 46.116 - 100 - 800, abs=0.01)
    # 50 units: 274.50 - 11.53 - 100 - 200 < 0: no row.
    assert haul(jita_sells(), domain, mode="list", cargo_m3=0.5).rows == []


def test_list_mode_needs_an_ask_at_the_destination():
    assert haul(jita_sells(), amarr_buys(), mode="list").rows == []


def test_a_buy_order_that_wants_more_than_we_sell_is_skipped():
    domain = [
        order(TRITANIUM, 5.00, 1_500, buy=True, location=AMARR_EFA, min_volume=1_000),
        order(TRITANIUM, 4.40, 1_000, buy=True, location=AMARR_EFA),
    ]
    # 800 units fit: the 5.00 order wants at least 1,000, so they go to the 4.40 order.
    (row,) = haul(jita_sells(), domain, cargo_m3=8.0).rows
    assert row["quantity"] == 800
    assert row["sell_total"] == pytest.approx(3_520.00)
    assert row["net_profit"] == pytest.approx(3_520 - 147.84 - 3_200)
    assert row["sell_orders_used"] == 1
    # 1,200 units fit: enough for the 5.00 order.
    (row,) = haul(jita_sells(), domain, cargo_m3=12.0).rows
    assert row["quantity"] == 1_200
    assert row["sell_total"] == pytest.approx(6_000.00)
    assert row["buy_total"] == pytest.approx(4_820.00)


def test_a_minimum_above_what_an_order_still_wants_is_its_remainder():
    domain = [order(TRITANIUM, 5.00, 300, buy=True, location=AMARR_EFA, min_volume=1_000)]
    (row,) = haul(jita_sells(), domain).rows
    assert row["quantity"] == 300
    assert row["sell_total"] == pytest.approx(1_500.00)


def test_structure_orders_take_part_with_their_system_from_the_snapshot():
    forge = [*jita_sells(), order(TRITANIUM, 3.90, 500, location=JITA_STRUCTURE)]
    result = haul(forge, amarr_buys(), source=FORGE, security="high")
    rows = {row["from_location_id"]: row for row in result.rows}
    assert set(rows) == {JITA_44, JITA_STRUCTURE}
    structure = rows[JITA_STRUCTURE]
    assert structure["from_name"] == f"Structure {JITA_STRUCTURE}"
    assert structure["quantity"] == 500
    assert structure["jumps"] == routes.jumps(PERIMETER, AMARR, "shortest", "high")
    assert structure["net_profit"] == pytest.approx(500 * 5.00 * (1 - 0.042) - 500 * 3.90)


def test_region_to_region_pairs_every_station():
    forge = [*jita_sells(), order(TRITANIUM, 4.05, 400, location=PERIMETER_STORAGE)]
    result = haul(forge, amarr_buys(), source=FORGE, destination=DOMAIN)
    assert {(r["from_location_id"], r["to_location_id"]) for r in result.rows} == {
        (JITA_44, AMARR_EFA),
        (PERIMETER_STORAGE, AMARR_EFA),
    }
    profits = [row["net_profit"] for row in result.rows]
    assert profits == sorted(profits, reverse=True)
    assert [s["region_id"] for s in result.snapshots] == [FORGE, DOMAIN]


def test_each_pair_walks_its_own_books():
    """Two sources share the destination's buy orders: each row is priced on its own."""
    forge = [*jita_sells(), order(TRITANIUM, 4.05, 400, location=PERIMETER_STORAGE)]
    result = haul(forge, amarr_buys(), source=FORGE, destination=DOMAIN)
    perimeter = next(r for r in result.rows if r["from_location_id"] == PERIMETER_STORAGE)
    assert perimeter["quantity"] == 400
    assert perimeter["sell_total"] == pytest.approx(2_000.00)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {JITA_44, PERIMETER_STORAGE}),
        ({"min_profit": 1_000.0}, {JITA_44}),
        ({"min_roi": 0.15}, {PERIMETER_STORAGE}),  # 2,000 x 0.958 - 1,620 = 296 on 1,620
        ({"max_jumps": 0}, set()),
    ],
)
def test_filters(params, expected):
    forge = [*jita_sells(), order(TRITANIUM, 4.05, 400, location=PERIMETER_STORAGE)]
    result = haul(forge, amarr_buys(), source=FORGE, **params)
    assert {row["from_location_id"] for row in result.rows} == expected


def test_max_jumps_keeps_routes_up_to_it():
    crossed = [*jita_sells(), order(TRITANIUM, 4.60, 500, buy=True, location=PERIMETER_STORAGE)]
    assert len(haul(crossed, [], destination=PERIMETER_STORAGE, max_jumps=1).rows) == 1
    assert haul(crossed, [], destination=PERIMETER_STORAGE, max_jumps=0).rows == []


def test_the_security_filter_drops_unreachable_destinations():
    forge = [*jita_sells(), order(TRITANIUM, 5.00, 500, buy=True, location=OHKUNEN_OUTPOST)]
    assert haul(forge, [], destination=OHKUNEN_OUTPOST, security="high").rows == []
    (row,) = haul(forge, [], destination=OHKUNEN_OUTPOST, security="low").rows
    assert row["jumps"] == routes.jumps(JITA, 30000204, "shortest", "low")


def test_sorting_and_limit():
    forge = [
        *jita_sells(),
        order(PLEX, 5_000_000.0, 10),
        order(TRITANIUM, 4.05, 400, location=PERIMETER_STORAGE),
    ]
    domain = [*amarr_buys(), order(PLEX, 5_400_000.0, 4, buy=True, location=AMARR_EFA)]
    result = haul(forge, domain, source=FORGE, sort="-net_profit", limit=2)
    assert result.total == 3
    assert [(r["type_id"], r["from_location_id"]) for r in result.rows] == [
        (PLEX, JITA_44),
        (TRITANIUM, JITA_44),
    ]
    by_name = haul(forge, domain, source=FORGE, sort="from_name").rows
    assert [r["from_name"][:5] for r in by_name] == ["Jita ", "Jita ", "Perim"]
    by_m3 = haul(forge, domain, source=FORGE, sort="-isk_per_m3").rows
    assert by_m3[0]["type_id"] == PLEX


def test_flat_rates_without_the_fee_schedule():
    forge = snapshot(FORGE, jita_sells())
    domain = snapshot(DOMAIN, amarr_buys())
    result = hauling(
        [(forge, resolve_place(JITA_44))],
        [(domain, resolve_place(AMARR_EFA))],
        Skills(),
        HaulingParams(),
        rates=HaulRates.flat(sales_tax=0.0, broker_fee=0.0),
        volumes={},
    )
    # Without tax every unit bought below a bid earns: 1,000 @ 4.00 and 2,000 @ 4.10 against
    # 1,500 @ 5.00, 1,000 @ 4.40 and 500 @ 4.20.
    (row,) = result.rows
    assert row["quantity"] == 3_000
    assert row["net_profit"] == pytest.approx(7_500 + 4_400 + 2_100 - 4_000 - 8_200)


@pytest.mark.parametrize(
    "params",
    [
        {"mode": "carry"},
        {"preference": "fastest"},
        {"security": "null"},
        {"cargo_m3": -1.0},
    ],
)
def test_bad_parameters_are_errors(params):
    with pytest.raises(ValueError):
        haul(jita_sells(), amarr_buys(), **params)


def test_nothing_to_haul():
    assert haul([], []).rows == []
    assert haul(jita_sells(), []).total == 0


# --- Listing prices a trader would believe (issue 11, part 7) ------------------------------


def list_haul(domain_orders, volumes, **params):
    return hauling(
        [(snapshot(FORGE, jita_sells()), resolve_place(JITA_44))],
        [(snapshot(DOMAIN, domain_orders), resolve_place(AMARR_EFA))],
        TRADER,
        HaulingParams(mode="list", **params),
        volumes={DOMAIN: volumes},
    )


def history(volume, high):
    return DailyVolumes(
        DOMAIN, np.array([TRITANIUM]), np.array([volume]), np.array([0]), np.array([high])
    )


def test_a_listing_waits_days_to_sell_for_its_quantity():
    # 3,000.5 a day x 2 days = 6,001 units, all under 5.144 net: 1,000 @ 4.00, 2,000 @ 4.10
    # and 3,001 @ 4.50.
    (row,) = list_haul(
        [order(TRITANIUM, 5.50, 100, location=AMARR_EFA)], {TRITANIUM: 3_000.5}, days_to_sell=2
    ).rows
    assert row["quantity"] == 6_001
    assert row["buy_total"] == pytest.approx(4_000 + 8_200 + 3_001 * 4.50)
    assert row["sell_total"] == pytest.approx(6_001 * 5.49)
    assert row["list_price_basis"] == "unchecked"  # a plain volume table carries no prices
    assert row["daily_volume"] == pytest.approx(3_000.5)


def test_a_listing_is_priced_no_higher_than_the_history_paid():
    """The ask to undercut (5.50) is above the best day's average of the last 30 (5.123):
    list at 5.12, the grid price under it, and say so."""
    domain = [order(TRITANIUM, 5.50, 100, location=AMARR_EFA)]
    (row,) = list_haul(domain, history(3_000.5, 5.123), days_to_sell=1).rows
    assert row["avg_sell"] == pytest.approx(5.12)
    assert row["list_price_basis"] == "history"
    # 3,000 units: 15,360 sold; fee 2.1 % = 322.56; tax 4.2 % = 645.12; bought for 12,200.
    assert row["quantity"] == 3_000
    assert row["net_profit"] == pytest.approx(15_360 - 322.56 - 645.12 - 12_200)
    # History above the undercut: the undercut stands.
    (row,) = list_haul(domain, history(3_000.5, 6.0), days_to_sell=1).rows
    assert row["avg_sell"] == pytest.approx(5.49) and row["list_price_basis"] == "undercut"


def test_one_absurd_ask_does_not_decide_the_answer():
    """The issue's case: an ask at 380,500,000 while the type traded at most 26.0M a day."""
    domain = [order(TRITANIUM, 380_500_000.0, 1, location=AMARR_EFA)]
    (row,) = list_haul(domain, history(10.0, 26_049_999.0), days_to_sell=1).rows
    assert row["avg_sell"] == 26_040_000.0  # 26,049,999 down to the grid (steps of 10,000)
    assert row["quantity"] == 10  # 10 a day for one day


def test_nothing_traded_in_30_days_lists_nothing():
    domain = [order(TRITANIUM, 5.50, 100, location=AMARR_EFA)]
    assert list_haul(domain, history(0.0, float("nan"))).rows == []


def test_a_minor_station_sells_its_share_of_the_region():
    """Amarr EFA holds 1 of Domain's 4 Tritanium sell orders: its share is 1/4, so 3,000.5 a
    day in the region is 750.125 there (the giant bid at Ziona does not count: bids fill
    from wherever their range reaches)."""
    domain = [
        order(TRITANIUM, 5.50, 100, location=AMARR_EFA),
        *[order(TRITANIUM, 5.60, 300, location=ZIONA_FACTORY) for _ in range(3)],
        order(TRITANIUM, 0.01, 500_000_000, buy=True, location=ZIONA_FACTORY, reach="region"),
    ]
    (row,) = list_haul(domain, {TRITANIUM: 3_000.5}, days_to_sell=1).rows
    assert row["daily_volume"] == pytest.approx(3_000.5 / 4, abs=0.05)
    assert row["quantity"] == 750


# --- Buy orders fill within their range (issue 11, part 2) ---------------------------------


def forge_ranged_bids():
    return [
        order(TRITANIUM, 5.00, 1_000, buy=True, location=JITA_44),  # station
        order(TRITANIUM, 5.10, 200, buy=True, location=JITA_44, reach="region"),
        order(TRITANIUM, 5.50, 500, buy=True, location=PERIMETER_STORAGE, reach="region"),
        order(TRITANIUM, 6.00, 1_000, buy=True, location=PERIMETER_STORAGE),  # station
        order(TRITANIUM, 5.20, 300, buy=True, location=PERIMETER_STORAGE, reach="1"),
        order(TRITANIUM, 5.80, 400, buy=True, location=PERIMETER_STORAGE, reach="solarsystem"),
    ]


def amarr_asks():
    return [order(TRITANIUM, 4.00, 10_000, location=AMARR_EFA)]


def haul_to_forge(destination):
    return haul(forge_ranged_bids(), amarr_asks(), source=AMARR_EFA, destination=destination)


def test_hauling_to_a_station_sells_into_every_bid_that_reaches_it():
    """At Jita 4-4: its own bids, the Perimeter region bid and the 1-jump bid (Perimeter is
    one jump away); not Perimeter's station or solar-system bids. Each earns over 4.00:
    bid x (1 - 4.2 %) > 4.00 for every bid above 4.1754."""
    (row,) = haul_to_forge(JITA_44).rows
    assert row["to_location_id"] == JITA_44
    assert row["quantity"] == 500 + 300 + 200 + 1_000
    assert row["sell_total"] == pytest.approx(2_750 + 1_560 + 1_020 + 5_000)
    assert row["net_profit"] == pytest.approx(10_330 * (1 - 0.042) - 2_000 * 4.00)
    assert row["sell_orders_used"] == 4
    sold = [(o["location_id"], o["price"], o["units"]) for o in row["sell_orders"]]
    assert sold == [
        (PERIMETER_STORAGE, 5.50, 500),
        (PERIMETER_STORAGE, 5.20, 300),
        (JITA_44, 5.10, 200),
        (JITA_44, 5.00, 1_000),
    ]
    assert row["sell_orders"][0]["location_name"].startswith("Perimeter VI")


def test_hauling_to_a_system_stands_where_its_bids_sit_and_takes_ranged_bids_too():
    """Perimeter: at Ytiri Storage a seller fills all five Perimeter bids and Jita's region
    bid, not Jita's station bid."""
    (row,) = haul_to_forge(PERIMETER).rows
    assert row["to_location_id"] == PERIMETER_STORAGE
    assert row["quantity"] == 1_000 + 400 + 500 + 300 + 200
    assert row["sell_total"] == pytest.approx(6_000 + 2_320 + 2_750 + 1_560 + 1_020)
    assert row["net_profit"] == pytest.approx(13_650 * (1 - 0.042) - 2_400 * 4.00)
    assert [o["price"] for o in row["sell_orders"]] == [6.00, 5.80, 5.50, 5.20, 5.10]


def test_rows_are_made_as_they_are_read():
    """A haul's rows are one ranked answer whatever part of it is read: a page, one row, or
    all of them."""
    forge = [*jita_sells(), order(TRITANIUM, 4.05, 400, location=PERIMETER_STORAGE)]
    rows = haul(forge, amarr_buys(), source=FORGE, destination=DOMAIN).rows
    every = list(rows)
    assert len(rows) == len(every) == 2
    assert rows[0] == every[0] and rows[-1] == every[-1] and rows[1:] == every[1:]
    assert rows == every and rows[5:9] == []
    with pytest.raises(IndexError):
        rows[2]


def test_a_listing_under_a_bid_that_reaches_it_is_no_listing():
    """Capped by history at 5.12, the sell order would sit under Amarr's 5.20 bid: the game
    fills it at once against that bid, an instant sale, so list mode has no row."""
    domain = [
        order(TRITANIUM, 5.50, 100, location=AMARR_EFA),
        order(TRITANIUM, 5.20, 1_000, buy=True, location=AMARR_EFA),
    ]
    assert list_haul(domain, history(3_000.5, 5.123), days_to_sell=1).rows == []
    # Under the undercut (5.49) the bid does not reach the listing: a row.
    (row,) = list_haul(domain, history(3_000.5, 6.0), days_to_sell=1).rows
    assert row["avg_sell"] == pytest.approx(5.49)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {TRITANIUM, DOMINIX}),
        ({"category_id": 4}, {TRITANIUM}),  # Material
        ({"category_id": 6}, {DOMINIX}),  # Ship
        ({"market_group_id": 1857}, {TRITANIUM}),  # Minerals
        ({"market_group_id": 533}, {TRITANIUM}),  # Materials, which holds Minerals
        ({"category_id": 4, "market_group_id": 1857}, {TRITANIUM}),
        ({"category_id": 6, "market_group_id": 1857}, set()),
    ],
)
def test_market_group_and_category_filters(filters, expected):
    forge = [*jita_sells(), order(DOMINIX, 60_000_000.00, 2)]
    domain = [*amarr_buys(), order(DOMINIX, 70_000_000.00, 2, buy=True, location=AMARR_EFA)]
    result = haul(forge, domain, **filters)
    assert {row["type_id"] for row in result.rows} == expected
