"""Station trading: hand-computed trades at Jita 4-4 with the seeded fee schedule, filters,
sorting, and the books it must skip."""

import pytest

from profit.fees import Rates, Skills
from profit.station import StationFilters, station_trading
from profit.volumes import DailyVolumes
from tests.profit_books import (
    DAMAGE_CONTROL_II,
    DOMINIX,
    FORGE,
    JITA_44,
    PERIMETER_STORAGE,
    PLEX,
    PYERITE,
    TRITANIUM,
    order,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

# Accounting 4: 7.5 % x (1 - 0.11 x 4) = 4.2 %; Broker Relations 3 at an NPC station with no
# standings: 3 % - 3 x 0.3 % = 2.1 %.
TRADER = Skills(accounting=4, broker_relations=3)


def plex_book(**changes):
    return [
        order(PLEX, 4_800_000.00, 1_000, buy=True),
        order(PLEX, 4_790_000.00, 500, buy=True),
        order(PLEX, 5_600_000.00, 200),
        order(PLEX, 5_610_000.00, 300),
    ]


def scan(orders, skills=TRADER, **filters):
    return station_trading(
        snapshot(FORGE, orders), JITA_44, skills, StationFilters(**filters), volumes={}
    )


def test_plex_bought_one_tick_over_the_bid_and_sold_one_under_the_ask():
    result = scan(plex_book())
    assert result.total == 1
    (row,) = result.rows
    assert row["type_id"] == PLEX and row["type_name"] == "PLEX"
    assert (row["best_bid"], row["best_ask"]) == (4_800_000.00, 5_600_000.00)
    assert (row["buy_price"], row["sell_price"]) == (4_800_000.01, 5_599_999.99)
    # Orders for min(1,500 bid units, 500 ask units) = 500 units: far above the 100 ISK floor.
    assert row["order_quantity"] == 500
    assert row["buy_broker_fee"] == pytest.approx(100_800.0002, abs=1e-4)  # 2.1 % x 4,800,000.01
    assert row["sell_broker_fee"] == pytest.approx(117_599.9998, abs=1e-4)  # 2.1 % x 5,599,999.99
    assert row["sales_tax"] == pytest.approx(235_199.9996, abs=1e-4)  # 4.2 % x 5,599,999.99
    # 5,599,999.99 - 235,199.99958 - 117,599.99979 - 4,800,000.01 - 100,800.00021
    assert row["profit_per_unit"] == pytest.approx(346_399.9804, abs=1e-4)
    assert row["margin"] == pytest.approx(346_399.98042 / 5_599_999.99, abs=1e-6)
    assert row["roi"] == pytest.approx(346_399.98042 / (4_800_000.01 + 100_800.00021), abs=1e-6)
    assert (row["buy_orders"], row["sell_orders"]) == (2, 2)
    assert (row["bid_volume"], row["ask_volume"]) == (1_500, 500)
    assert row["daily_volume"] is None
    assert result.rates.sales_tax == pytest.approx(0.042)
    assert result.rates.broker_fee == pytest.approx(0.021)


def test_sales_tax_is_charged_at_its_real_rate_without_skills():
    (row,) = scan(plex_book(), skills=Skills()).rows
    assert row["sales_tax"] == pytest.approx(0.075 * 5_599_999.99, abs=1e-4)
    assert row["buy_broker_fee"] == pytest.approx(0.03 * 4_800_000.01, abs=1e-4)
    assert row["sell_broker_fee"] == pytest.approx(0.03 * 5_599_999.99, abs=1e-4)


@pytest.mark.parametrize(
    ("depth", "fee_per_unit_buy", "fee_per_unit_sell", "profit"),
    [
        # 100 units: 2.1 % x 100.01 x 100 = 210.02 ISK, over the floor: 2.10021 per unit.
        (100, 2.10021, 4.19979, 85.28042),
        # 10 units: 21.00 and 42.00 ISK are under the 100 ISK floor: 100 / 10 per unit.
        (10, 10.0, 10.0, 71.58042),
    ],
)
def test_the_100_isk_minimum_broker_fee_is_spread_over_the_order(
    depth, fee_per_unit_buy, fee_per_unit_sell, profit
):
    orders = [
        order(DAMAGE_CONTROL_II, 100.00, depth, buy=True),
        order(DAMAGE_CONTROL_II, 200.00, depth),
    ]
    (row,) = scan(orders).rows
    assert row["order_quantity"] == depth
    assert row["buy_broker_fee"] == pytest.approx(fee_per_unit_buy, abs=1e-4)
    assert row["sell_broker_fee"] == pytest.approx(fee_per_unit_sell, abs=1e-4)
    assert row["profit_per_unit"] == pytest.approx(profit, abs=1e-4)


def test_an_order_of_one_unit_pays_the_whole_minimum_and_loses():
    orders = [
        order(DAMAGE_CONTROL_II, 100.00, 1, buy=True),
        order(DAMAGE_CONTROL_II, 200.00, 1),
    ]
    # 199.99 - 8.39958 - 100 - 100.01 - 100 < 0: no row.
    assert scan(orders).total == 0


def test_crossed_tight_and_one_sided_books_are_skipped():
    orders = [
        order(TRITANIUM, 5.00, 1_000, buy=True),  # crossed: the bid above the ask
        order(TRITANIUM, 4.99, 1_000),
        order(PYERITE, 10.00, 1_000, buy=True),  # one tick apart
        order(PYERITE, 10.01, 1_000),
        order(DOMINIX, 200_000_000.0, 2),  # asks only
        *plex_book(),
    ]
    assert [row["type_id"] for row in scan(orders).rows] == [PLEX]


def test_orders_at_other_stations_do_not_count():
    orders = [
        *plex_book(),
        order(PLEX, 5_000_000.00, 10_000, buy=True, location=PERIMETER_STORAGE),
        order(PLEX, 4_000_000.00, 10_000, location=PERIMETER_STORAGE),
    ]
    (row,) = scan(orders).rows
    assert (row["best_bid"], row["best_ask"]) == (4_800_000.00, 5_600_000.00)
    assert (row["buy_orders"], row["sell_orders"]) == (2, 2)


def three_types():
    return [
        *plex_book(),  # margin ~6.2 %, buy price 4.8M
        order(DAMAGE_CONTROL_II, 100.00, 100, buy=True),  # margin ~42.6 %, buy price 100.01
        order(DAMAGE_CONTROL_II, 200.00, 100),
        order(TRITANIUM, 3.00, 1_000_000, buy=True),  # margin ~17.1 %, buy price 3.01
        order(TRITANIUM, 4.00, 1_000_000),
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [PLEX, DAMAGE_CONTROL_II, TRITANIUM]),
        ({"min_profit": 1.0}, [PLEX, DAMAGE_CONTROL_II]),
        ({"min_margin": 0.10}, [DAMAGE_CONTROL_II, TRITANIUM]),
        ({"max_margin": 0.20}, [PLEX, TRITANIUM]),
        ({"min_margin": 0.10, "max_margin": 0.20}, [TRITANIUM]),
        ({"max_price": 200.0}, [DAMAGE_CONTROL_II, TRITANIUM]),
        ({"category_id": 4}, [TRITANIUM]),  # Material
        # Materials (533) holds Minerals (1857), which holds Tritanium.
        ({"market_group_id": 533}, [TRITANIUM]),
        ({"market_group_id": 1857}, [TRITANIUM]),
        ({"market_group_id": 615}, [DAMAGE_CONTROL_II]),
        ({"sort": "type_name"}, [DAMAGE_CONTROL_II, PLEX, TRITANIUM]),
        ({"sort": "-margin"}, [DAMAGE_CONTROL_II, TRITANIUM, PLEX]),
        ({"sort": "buy_price"}, [TRITANIUM, DAMAGE_CONTROL_II, PLEX]),
        ({"sort": "-profit_per_unit", "limit": 2}, [PLEX, DAMAGE_CONTROL_II]),
    ],
)
def test_filters_and_sorting(filters, expected):
    result = scan(three_types(), **filters)
    assert [row["type_id"] for row in result.rows] == expected
    if "limit" not in filters:
        assert result.total == len(expected)


def test_limit_keeps_the_total_before_it():
    result = scan(three_types(), limit=1)
    assert len(result.rows) == 1 and result.total == 3


def test_daily_volume_shown_filtered_and_sorted_with_unknowns_last():
    volumes = {PLEX: 12_000.0, TRITANIUM: 900_000_000.0}
    snap = snapshot(FORGE, three_types())

    def run(**filters):
        return station_trading(snap, JITA_44, TRADER, StationFilters(**filters), volumes=volumes)

    rows = run(sort="-daily_volume").rows
    assert [(r["type_id"], r["daily_volume"]) for r in rows] == [
        (TRITANIUM, 900_000_000.0),
        (PLEX, 12_000.0),
        (DAMAGE_CONTROL_II, None),
    ]
    assert [r["type_id"] for r in run(sort="daily_volume").rows] == [
        PLEX,
        TRITANIUM,
        DAMAGE_CONTROL_II,
    ]
    # A type whose volume is unknown does not pass a minimum.
    assert [r["type_id"] for r in run(min_daily_volume=10_000).rows] == [PLEX, TRITANIUM]
    table = DailyVolumes.from_mapping(FORGE, volumes)
    by_table = station_trading(snap, JITA_44, TRADER, StationFilters(), volumes=table)
    assert by_table.rows == run().rows


def test_stored_daily_volumes_are_used_by_default(settings):
    from store import get_store, reset_store

    settings.STORE_KEY_PREFIX = "test-profit-station-volumes"
    reset_store()
    from profit import volumes

    get_store().set_json(
        "profit:daily-volumes:10000002",
        {"window_days": 30, "types": [PLEX], "volumes": [8_000.5], "days": [0]},
    )
    volumes.forget_read()
    try:
        result = station_trading(snapshot(FORGE, plex_book()), JITA_44, TRADER)
        assert result.rows[0]["daily_volume"] == 8_000.5
    finally:
        get_store().delete("profit:daily-volumes:10000002")
        volumes.forget_read()
        reset_store()


def test_given_rates_are_used_as_they_are():
    rates = Rates(
        sales_tax=0.0, broker_fee=0.0, min_broker_fee=0.0, relist_discount=0.5, schedule="none"
    )
    result = station_trading(snapshot(FORGE, plex_book()), JITA_44, TRADER, volumes={}, rates=rates)
    assert result.rows[0]["profit_per_unit"] == pytest.approx(5_599_999.99 - 4_800_000.01)
    assert result.rates is rates


def test_an_unknown_sort_field_is_an_error():
    from profit.engine import UnknownSortField

    with pytest.raises(UnknownSortField):
        scan(plex_book(), sort="-nonsense")


def test_an_empty_station():
    result = scan([order(PLEX, 5_000_000.0, 1, location=PERIMETER_STORAGE)])
    assert result.rows == [] and result.total == 0
