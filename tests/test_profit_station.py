"""Station trading: hand-computed trades at Jita 4-4 with the seeded fee schedule, filters,
sorting, and the books it must skip."""

import numpy as np
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


# No tax and no fee: profit per unit is the spread between the two grid prices.
FREE = Rates(
    sales_tax=0.0, broker_fee=0.0, min_broker_fee=0.0, relist_discount=0.5, schedule="none"
)


def scan(orders, skills=TRADER, rates=None, **filters):
    """Ranked per unit unless told (no daily volumes here: the day's ranking is
    tests/test_profit_rankings.py's)."""
    filters.setdefault("sort", "-profit_per_unit")
    return station_trading(
        snapshot(FORGE, orders),
        JITA_44,
        skills,
        StationFilters(**filters),
        volumes={},
        rates=rates,
    )


def test_plex_outbid_and_undercut_by_one_step_of_the_price_grid():
    result = scan(plex_book())
    assert result.total == 1
    (row,) = result.rows
    assert row["type_id"] == PLEX and row["type_name"] == "PLEX"
    assert (row["best_bid"], row["best_ask"]) == (4_800_000.00, 5_600_000.00)
    # 7 digits: 4 significant digits leave steps of 1,000 ISK (never 0.01).
    assert (row["buy_price"], row["sell_price"]) == (4_801_000.0, 5_599_000.0)
    assert row["best_bid_location_id"] == JITA_44
    # Orders for min(1,500 bid units, 500 ask units) = 500 units: far above the 100 ISK floor.
    assert row["order_quantity"] == 500
    assert row["buy_broker_fee"] == pytest.approx(100_821.0, abs=1e-4)  # 2.1 % x 4,801,000
    assert row["sell_broker_fee"] == pytest.approx(117_579.0, abs=1e-4)  # 2.1 % x 5,599,000
    assert row["sales_tax"] == pytest.approx(235_158.0, abs=1e-4)  # 4.2 % x 5,599,000
    # 5,599,000 - 235,158 - 117,579 - 4,801,000 - 100,821
    assert row["profit_per_unit"] == pytest.approx(344_442.0, abs=1e-4)
    assert row["margin"] == pytest.approx(344_442.0 / 5_599_000.0, abs=1e-6)
    assert row["roi"] == pytest.approx(344_442.0 / (4_801_000.0 + 100_821.0), abs=1e-6)
    assert (row["buy_orders"], row["sell_orders"]) == (2, 2)
    assert (row["bid_volume"], row["ask_volume"]) == (1_500, 500)
    assert row["daily_volume"] is None
    assert result.rates.sales_tax == pytest.approx(0.042)
    assert result.rates.broker_fee == pytest.approx(0.021)


@pytest.mark.parametrize(
    ("bid", "ask", "buy_price", "sell_price"),
    [
        (900_000.0, 1_250_000.0, 900_100.0, 1_249_000.0),  # the Jita example
        (900_000.0, 1_000_000.0, 900_100.0, 999_900.0),  # under a power of ten: steps of 100
        (45.0, 60.0, 45.01, 59.99),  # under 100 ISK the step stays 0.01
        (150.0, 220.0, 150.1, 219.9),  # 100 to 999.9: steps of 0.1
    ],
)
def test_prices_are_on_the_grid(bid, ask, buy_price, sell_price):
    orders = [order(DOMINIX, bid, 1_000, buy=True), order(DOMINIX, ask, 1_000)]
    (row,) = scan(orders, skills=Skills(), rates=FREE).rows
    assert (row["buy_price"], row["sell_price"]) == (buy_price, sell_price)
    assert row["profit_per_unit"] == pytest.approx(sell_price - buy_price)


def test_no_row_when_no_valid_price_lies_inside_the_spread():
    # 1,234,000 / 1,235,000: the next price above the bid is the ask itself.
    orders = [order(DOMINIX, 1_234_000.0, 10, buy=True), order(DOMINIX, 1_235_000.0, 10)]
    assert scan(orders, rates=FREE).total == 0
    # One step more and there is exactly one price inside: buy and sell at 1,235,000, no gain.
    orders = [order(DOMINIX, 1_234_000.0, 10, buy=True), order(DOMINIX, 1_236_000.0, 10)]
    assert scan(orders, rates=FREE).total == 0
    orders = [order(DOMINIX, 1_234_000.0, 10, buy=True), order(DOMINIX, 1_237_000.0, 10)]
    (row,) = scan(orders, rates=FREE).rows
    assert (row["buy_price"], row["sell_price"]) == (1_235_000.0, 1_236_000.0)


def test_sales_tax_is_charged_at_its_real_rate_without_skills():
    (row,) = scan(plex_book(), skills=Skills()).rows
    assert row["sales_tax"] == pytest.approx(0.075 * 5_599_000.0, abs=1e-4)
    assert row["buy_broker_fee"] == pytest.approx(0.03 * 4_801_000.0, abs=1e-4)
    assert row["sell_broker_fee"] == pytest.approx(0.03 * 5_599_000.0, abs=1e-4)


@pytest.mark.parametrize(
    ("depth", "fee_per_unit_buy", "fee_per_unit_sell", "profit"),
    [
        # Buy at 100.1, sell at 199.9 (steps of 0.1 from 100 ISK); tax 4.2 % x 199.9 = 8.3958.
        # 100 units: 2.1 % x 100.1 x 100 = 210.21 ISK, over the floor: 2.1021 per unit;
        # 2.1 % x 199.9 = 4.1979. 199.9 - 8.3958 - 4.1979 - 100.1 - 2.1021 = 85.1042.
        (100, 2.1021, 4.1979, 85.1042),
        # 10 units: 21.02 and 41.98 ISK are under the 100 ISK floor: 100 / 10 per unit.
        # 199.9 - 8.3958 - 10 - 100.1 - 10 = 71.4042.
        (10, 10.0, 10.0, 71.4042),
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
    # 199.9 - 8.3958 - 100 - 100.1 - 100 < 0: no row.
    assert scan(orders).total == 0


def test_crossed_tight_and_one_sided_books_are_skipped():
    orders = [
        order(TRITANIUM, 5.00, 1_000, buy=True),  # crossed: the bid above the ask
        order(TRITANIUM, 4.99, 1_000),
        order(PYERITE, 10.00, 1_000, buy=True),  # one step of the grid apart
        order(PYERITE, 10.01, 1_000),
        order(DOMINIX, 200_000_000.0, 2),  # asks only
        *plex_book(),
    ]
    assert [row["type_id"] for row in scan(orders).rows] == [PLEX]


def test_station_bids_and_sells_elsewhere_do_not_count():
    orders = [
        *plex_book(),
        order(PLEX, 5_000_000.00, 10_000, buy=True, location=PERIMETER_STORAGE),  # station
        order(
            PLEX, 4_900_000.00, 10_000, buy=True, location=PERIMETER_STORAGE, reach="solarsystem"
        ),
        order(PLEX, 4_000_000.00, 10_000, location=PERIMETER_STORAGE),
    ]
    (row,) = scan(orders).rows
    assert (row["best_bid"], row["best_ask"]) == (4_800_000.00, 5_600_000.00)
    assert (row["buy_orders"], row["sell_orders"]) == (2, 2)


@pytest.mark.parametrize(
    ("reach", "competes"),
    [
        ("region", True),  # anywhere in The Forge
        ("1", True),  # Perimeter is one jump from Jita
        ("2", True),
        ("solarsystem", False),  # Perimeter's own stations only
        ("station", False),
    ],
)
def test_a_ranged_bid_placed_elsewhere_competes_when_it_reaches_the_station(reach, competes):
    """A seller at Jita 4-4 fills the Perimeter bid when its range reaches Jita, so the
    trader must outbid it: the best bid a seller at the station can fill."""
    orders = [
        *plex_book(),
        order(PLEX, 4_900_000.00, 700, buy=True, location=PERIMETER_STORAGE, reach=reach),
    ]
    (row,) = scan(orders).rows
    if competes:
        assert row["best_bid"] == 4_900_000.00
        assert row["best_bid_location_id"] == PERIMETER_STORAGE
        assert row["buy_price"] == 4_901_000.0
        assert (row["buy_orders"], row["bid_volume"]) == (3, 2_200)
    else:
        assert row["best_bid"] == 4_800_000.00
        assert row["best_bid_location_id"] == JITA_44
        assert (row["buy_orders"], row["bid_volume"]) == (2, 1_500)


def test_a_ranged_bid_above_the_ask_leaves_no_trade():
    """A region bid elsewhere above Jita's ask: sellers at Jita fill it, nobody would sell
    into a lower buy order here."""
    orders = [
        *plex_book(),
        order(PLEX, 5_700_000.00, 10, buy=True, location=PERIMETER_STORAGE, reach="region"),
    ]
    assert scan(orders).total == 0


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
    # A type whose volume is unknown is kept by a minimum, marked (it ranks last by volume).
    kept = run(min_daily_volume=10_000, sort="-daily_volume").rows
    assert [(r["type_id"], r["flags"]) for r in kept] == [
        (TRITANIUM, []),
        (PLEX, []),
        (DAMAGE_CONTROL_II, ["volume_unknown"]),
    ]
    assert [r["type_id"] for r in run(min_daily_volume=20_000).rows] == [
        TRITANIUM,
        DAMAGE_CONTROL_II,
    ]
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
    result = scan(plex_book(), rates=FREE)
    assert result.rows[0]["profit_per_unit"] == pytest.approx(5_599_000.0 - 4_801_000.0)
    assert result.rates is FREE


def test_an_unknown_sort_field_is_an_error():
    from profit.engine import UnknownSortField

    with pytest.raises(UnknownSortField):
        scan(plex_book(), sort="-nonsense")


def test_an_empty_station():
    result = scan([order(PLEX, 5_000_000.0, 1, location=PERIMETER_STORAGE)])
    assert result.rows == [] and result.total == 0


def test_the_sell_order_is_never_priced_above_what_traded_there():
    """An absurd ask (380.5M) over a type whose best day of 30 averaged 250,049,999: the sell
    order goes at 250,000,000 (that high, down to the grid's 100,000 steps), not 380.4M."""
    orders = [order(DOMINIX, 200_000_000.0, 3, buy=True), order(DOMINIX, 380_500_000.0, 1)]
    table = DailyVolumes(
        FORGE, np.array([DOMINIX]), np.array([2.0]), np.array([0]), np.array([250_049_999.0])
    )
    (row,) = station_trading(  # 2 a day: a thin market, shown here
        snapshot(FORGE, orders),
        JITA_44,
        TRADER,
        StationFilters(hide=frozenset()),
        volumes=table,
        rates=FREE,
    ).rows
    assert (row["buy_price"], row["sell_price"]) == (200_100_000.0, 250_000_000.0)
    assert row["list_price_basis"] == "history"
    assert row["profit_per_unit"] == pytest.approx(49_900_000.0)
    # Without history the undercut stands, and the row says it is unchecked.
    (row,) = scan(orders, rates=FREE).rows
    assert row["sell_price"] == 380_400_000.0 and row["list_price_basis"] == "unchecked"


def test_a_minor_station_shows_its_share_of_the_region_volume():
    """The Forge's Tritanium sell orders: Perimeter's storage holds 1 of the 3, a share of
    1/3; Jita holds 2 of 3, at least a half: a hub keeps the region's figure. A giant junk
    bid at Perimeter changes nothing."""
    orders = [
        order(TRITANIUM, 4.00, 500, buy=True, location=PERIMETER_STORAGE),
        order(TRITANIUM, 6.00, 500, location=PERIMETER_STORAGE),
        order(TRITANIUM, 5.00, 500, location=JITA_44),
        order(TRITANIUM, 4.50, 1_500, buy=True, location=JITA_44),
        order(TRITANIUM, 5.50, 1_500, location=JITA_44),
        order(TRITANIUM, 0.01, 515_000_000, buy=True, location=PERIMETER_STORAGE),
    ]
    snap = snapshot(FORGE, orders)
    volumes = {TRITANIUM: 10_000.0}

    def at(station, **filters):
        return station_trading(
            snap, station, TRADER, StationFilters(**filters), volumes=volumes, rates=FREE
        ).rows

    (row,) = at(PERIMETER_STORAGE)
    assert row["volume_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert row["daily_volume"] == pytest.approx(10_000 / 3, abs=0.1)  # 3,333.3
    (row,) = at(JITA_44)
    assert row["volume_share"] == 1.0 and row["daily_volume"] == 10_000.0
    # The filter reads the station's figure: 3,333 a day at Perimeter is under 5,000.
    assert at(PERIMETER_STORAGE, min_daily_volume=5_000) == []
    assert len(at(JITA_44, min_daily_volume=5_000)) == 1
