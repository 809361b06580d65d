"""Rankings a trader would use: station trading by profit a day, flags on thin markets and on
prices far from history (hidden by default, counted, one parameter away), unknown volumes kept
and marked; hauling's flags; the API's `hide` and the hauling page's remembered hauler."""

import numpy as np
import pytest

from profit import flags
from profit.fees import Rates, Skills
from profit.hauling import HaulingParams, HaulRates, hauling
from profit.locations import resolve_place
from profit.station import StationFilters, station_trading
from profit.volumes import DailyVolumes
from tests.profit_books import (
    AMARR_EFA,
    DOMAIN,
    DOMINIX,
    FORGE,
    JITA_44,
    PLEX,
    TRITANIUM,
    order,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

# No tax and no fee: profit per unit is the spread between the two grid prices.
FREE = Rates(
    sales_tax=0.0, broker_fee=0.0, min_broker_fee=0.0, relist_discount=0.5, schedule="free"
)


def book():
    """Three types at Jita 4-4, every order there (the station holds the region's book)."""
    return [
        # Tritanium: 3 bids at 5.00, 1 ask at 6.00 -> buy 5.01, sell 5.99, 0.98 a unit.
        *[order(TRITANIUM, 5.00, 1_000_000, buy=True) for _ in range(3)],
        order(TRITANIUM, 6.00, 1_000_000),
        # Dominix: buy 100,100,000, sell 199,900,000 -> 99,800,000 a unit.
        order(DOMINIX, 100_000_000.00, 2, buy=True),
        order(DOMINIX, 200_000_000.00, 2),
        # PLEX: buy 4,801,000, sell 5,599,000 -> 798,000 a unit.
        order(PLEX, 4_800_000.00, 10, buy=True),
        order(PLEX, 5_600_000.00, 10),
    ]


def table(volumes, mids=None):
    types = sorted(volumes)
    mids = mids or {}
    return DailyVolumes(
        FORGE,
        np.array(types, dtype=np.int64),
        np.array([volumes[t] for t in types], dtype=np.float64),
        np.zeros(len(types), dtype=np.int64),
        np.full(len(types), np.nan),
        np.array([mids.get(t, np.nan) for t in types], dtype=np.float64),
    )


def scan(volumes, **filters):
    return station_trading(
        snapshot(FORGE, book()),
        JITA_44,
        Skills(),
        StationFilters(**filters),
        volumes=volumes,
        rates=FREE,
    )


VOLUMES = {TRITANIUM: 800_000.0, DOMINIX: 1.0, PLEX: 20.0}


def test_station_trading_ranks_by_profit_a_day_and_hides_thin_markets():
    result = scan(table(VOLUMES))
    # units a day = daily volume / 2 / (1 + the busier side's orders):
    #   Tritanium 800,000 / 2 / (1 + 3) = 100,000 -> 0.98 x 100,000 = 98,000 ISK a day
    #   PLEX      20 / 2 / (1 + 1)      = 5       -> 798,000 x 5    = 3,990,000
    #   Dominix   1 / 2 / (1 + 1)       = 0.25    -> under one unit a day: thin, hidden
    assert [(r["type_id"], r["daily_units"]) for r in result.rows] == [
        (PLEX, 5.0),
        (TRITANIUM, 100_000.0),
    ]
    assert [r["daily_profit"] for r in result.rows] == pytest.approx([3_990_000.0, 98_000.0])
    assert result.hidden == {"thin": 1, "off_history": 0}
    assert result.total == 2


def test_hide_none_shows_the_thin_row_flagged_and_ranked_by_its_day():
    rows = scan(table(VOLUMES), hide=frozenset()).rows
    # Dominix: 99,800,000 x 0.25 = 24,950,000 a day: first, flagged thin.
    assert [r["type_id"] for r in rows] == [DOMINIX, PLEX, TRITANIUM]
    assert rows[0]["daily_profit"] == pytest.approx(24_950_000.0)
    assert rows[0]["flags"] == ["thin"]
    assert rows[1]["flags"] == [] and rows[2]["flags"] == []


def test_per_unit_ranking_is_one_sort_away():
    rows = scan(table(VOLUMES), sort="-profit_per_unit", hide=frozenset()).rows
    assert [r["type_id"] for r in rows] == [DOMINIX, PLEX, TRITANIUM]


def test_prices_far_from_history_are_flagged_and_hidden():
    # PLEX's 30-day median daily average 2,000,000: selling at 5,599,000 is over twice it.
    # Tritanium's 5.50: buy 5.01 and sell 5.99 both lie in [2.75, 11.00].
    mids = {PLEX: 2_000_000.0, TRITANIUM: 5.50}
    result = scan(table(VOLUMES, mids))
    assert [r["type_id"] for r in result.rows] == [TRITANIUM]
    assert result.hidden == {"thin": 1, "off_history": 1}
    shown = scan(table(VOLUMES, mids), hide=frozenset({"thin"})).rows
    assert [(r["type_id"], r["flags"]) for r in shown] == [
        (PLEX, ["off_history"]),
        (TRITANIUM, []),
    ]


def test_a_bid_far_under_what_traded_is_off_history_too():
    # PLEX traded around 10,000,001: a buy order at 4,801,000 is under half of it.
    result = scan(table(VOLUMES, {PLEX: 10_000_001.0}), hide=frozenset())
    plex = next(r for r in result.rows if r["type_id"] == PLEX)
    assert plex["flags"] == ["off_history"]


def test_unknown_volumes_stay_visible_marked_and_rank_last_by_the_day():
    volumes = {TRITANIUM: 800_000.0}  # PLEX and Dominix: not reached by the fill yet
    result = scan(table(volumes), min_daily_volume=1_000)
    assert [(r["type_id"], r["flags"]) for r in result.rows] == [
        (TRITANIUM, []),
        (DOMINIX, ["volume_unknown"]),  # then by profit a unit: 99.8M before 798,000
        (PLEX, ["volume_unknown"]),
    ]
    assert result.rows[1]["daily_profit"] is None
    assert (result.volumes_known, result.volumes_total) == (1, 3)
    hidden = scan(table(volumes), hide=frozenset({"volume_unknown"}))
    assert [r["type_id"] for r in hidden.rows] == [TRITANIUM]
    assert hidden.hidden == {"volume_unknown": 2}


def test_a_known_volume_under_the_minimum_is_still_left_out():
    result = scan(table(VOLUMES), min_daily_volume=100, hide=frozenset())
    assert [r["type_id"] for r in result.rows] == [TRITANIUM]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"thin", "off_history"}),
        ("none", set()),
        ("", set()),
        ("thin", {"thin"}),
        (" volume_unknown , thin ", {"thin", "volume_unknown"}),
    ],
)
def test_the_hide_parameter(value, expected):
    assert flags.parse_hide(value) == expected
    assert flags.parse_hide(flags.hide_param(expected)) == expected


def test_an_unknown_flag_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="Unknown flag cheap: give any of thin, off_history"):
        flags.parse_hide("thin,cheap")


# --- Hauling -------------------------------------------------------------------------------


def haul(domain_mids, **params):
    forge = snapshot(FORGE, [order(TRITANIUM, 4.00, 1_000)])
    domain = snapshot(
        DOMAIN,
        [
            order(TRITANIUM, 5.00, 1_000, buy=True, location=AMARR_EFA),
            order(TRITANIUM, 5.50, 1_000, location=AMARR_EFA),
        ],
    )
    volumes = {
        FORGE: table({TRITANIUM: 1e6}, {TRITANIUM: 4.10}),
        DOMAIN: DailyVolumes(
            DOMAIN,
            np.array([TRITANIUM]),
            np.array([params.pop("volume", 1e6)]),
            np.zeros(1, dtype=np.int64),
            np.array([np.nan]),
            np.array([domain_mids]),
        ),
    }
    return hauling(
        [(forge, resolve_place(JITA_44, snapshots=[forge]))],
        [(domain, resolve_place(AMARR_EFA, snapshots=[domain]))],
        Skills(),
        HaulingParams(**params),
        rates=HaulRates.flat(sales_tax=0.0, broker_fee=0.0, min_broker_fee=0.0),
        volumes=volumes,
    )


def test_a_haul_selling_far_above_what_traded_is_hidden_and_counted():
    # Sold at 5.00 into the Amarr bid; Amarr's median daily average 2.40: 5.00 > 4.80.
    result = haul(2.40)
    assert list(result.rows) == [] and result.hidden == {"thin": 0, "off_history": 1}
    (row,) = haul(2.40, hide=frozenset()).rows
    assert row["flags"] == ["off_history"]
    # 2.60: the band reaches 5.20, so 5.00 is what the market pays.
    (row,) = haul(2.60).rows
    assert row["flags"] == [] and row["net_profit"] == pytest.approx(1_000.0)


def test_listing_where_under_a_unit_a_day_sells_is_thin():
    # list mode at Amarr: listed at 5.49 (one step under 5.50); Amarr sells 0.5 a day.
    result = haul(5.0, mode="list", volume=0.5, hide=frozenset())
    (row,) = result.rows
    assert row["flags"] == ["thin"]
    assert list(haul(5.0, mode="list", volume=0.5).rows) == []


def test_the_api_refuses_an_unknown_flag_with_a_message(client):
    response = client.get(
        "/api/v1/profit/station-trading", {"station_id": JITA_44, "hide": "thin,cheap"}
    )
    assert response.status_code == 400
    assert "Unknown flag cheap" in response.json()["errors"]["hide"][0]
