"""In the global PLEX market (region 19000001) every order fills against every other,
wherever it was placed: no station, range or jump limits who competes."""

import pytest

from characters import valuation
from market import publish, reach
from tests.profit_books import AMARR_EFA, JITA_44, PLEX, order, snapshot

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

PLEX_MARKET = 19000001


def global_book():
    return snapshot(
        PLEX_MARKET,
        [
            order(PLEX, 5_000_000.0, 10, location=JITA_44, order_id=1),  # mine
            order(PLEX, 4_900_000.0, 10, location=AMARR_EFA, order_id=2),
            order(PLEX, 4_000_000.0, 10, buy=True, location=JITA_44, order_id=3),  # mine
            order(PLEX, 4_500_000.0, 10, buy=True, location=AMARR_EFA, order_id=4),  # station
        ],
    )


def test_every_bid_reaches_every_station_there():
    bids = reach.bids_reaching(global_book(), JITA_44, 30000142)
    # Both bids reach Jita, the station-range one placed in Amarr included.
    assert bids["best_price"].tolist() == [4_500_000.0]
    assert bids["orders"].tolist() == [2] and bids["elsewhere"].tolist() == [1]


@pytest.mark.parametrize(
    ("mine", "flag", "best", "relist"),
    [
        # My sell at 5.0M in Jita is undercut by the 4.9M ask in Amarr: one market.
        (
            {"order_id": 1, "is_buy_order": False, "price": 5_000_000.0},
            "undercut",
            4_900_000.0,
            4_899_000.0,
        ),
        # My bid at 4.0M in Jita is outbid by the station-range 4.5M bid in Amarr.
        (
            {"order_id": 3, "is_buy_order": True, "price": 4_000_000.0},
            "outbid",
            4_500_000.0,
            4_501_000.0,
        ),
    ],
)
def test_orders_are_compared_with_the_whole_market(market, mine, flag, best, relist):
    """The relist price is one step of the price grid past the best other order (7 digits:
    steps of 1,000 ISK)."""
    publish.publish(global_book())
    order_ = {**mine, "type_id": PLEX, "location_id": JITA_44, "region_id": PLEX_MARKET}
    (flagged,) = valuation.flag_orders([order_])
    assert (flagged["flag"], flagged["best_other"], flagged["relist_price"]) == (
        flag,
        best,
        relist,
    )
