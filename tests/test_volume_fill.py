"""The daily-volume fill's Celery tasks: one fill over every tracked region that asks first for
the types of current opportunities at every hub (profitable station trades at the hub, rows
of the stored hauling board), then for the rest of each hub's types by the ISK on its book,
the regions taking turns; history from the ESI stand-in over HTTP, the store on real Redis."""

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from market import publish
from profit import boards, volume_tasks, volumes
from store import get_store
from tests.profit_books import (
    AMARR_EFA,
    DAMAGE_CONTROL_II,
    DOMAIN,
    DOMINIX,
    FORGE,
    JITA_44,
    PYERITE,
    TRITANIUM,
    order,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

SINQ_LAISON = 10000032


def forge_book():
    """Jita 4-4. Tritanium: bid 4.00, ask 5.00, a trade at default skills (buy at 4.001, sell
    at 4.999: 4.999 x (1 - 7.5 % tax - 3 % broker fee) - 4.001 x 1.03 = 0.35 ISK a unit).
    The others have asks only: no station trade.
    ISK on the book: Dominix 200M, Damage Control II 1M x 10 = 10M, Tritanium 4.0 x 1,000 +
    5.0 x 1,000 = 9,000, Pyerite 10.0 x 100 = 1,000."""
    return snapshot(
        FORGE,
        [
            order(TRITANIUM, 4.0, 1_000, buy=True),
            order(TRITANIUM, 5.0, 1_000),
            order(DOMINIX, 2e8, 1),
            order(DAMAGE_CONTROL_II, 1e6, 10),
            order(PYERITE, 10.0, 100),
        ],
    )


def domain_book():
    """Amarr. Pyerite: bid 9.00, ask 12.00, a trade (11.99 x 0.895 - 9.001 x 1.03 = 1.46).
    ISK on the book: Dominix 210M, Pyerite 9.0 x 100 + 12.0 x 100 = 2,100, Tritanium 6.0 x 10
    = 60; no Damage Control II."""
    return snapshot(
        DOMAIN,
        [
            order(PYERITE, 9.0, 100, buy=True, location=AMARR_EFA),
            order(PYERITE, 12.0, 100, location=AMARR_EFA),
            order(TRITANIUM, 6.0, 10, location=AMARR_EFA),
            order(DOMINIX, 2.1e8, 1, location=AMARR_EFA),
        ],
    )


def publish_hauling_board(*type_ids):
    """A stored hauling board whose rows carry these types from Jita 4-4 to Amarr."""
    rows = {
        f"{t}:{JITA_44}:{AMARR_EFA}": {
            "type_id": t,
            "from_location_id": JITA_44,
            "to_location_id": AMARR_EFA,
            "net_profit": 1_000.0,
        }
        for t in type_ids
    }
    board = boards.Board(boards.HAULING_BOARD, "hauling", "Hauling", "net_profit", rows=rows)
    boards.publish_boards([board], {})


@pytest.fixture
def hubs(market):
    """Published books of the two tracked regions (The Forge first), no volumes stored."""
    books = {FORGE: forge_book(), DOMAIN: domain_book()}
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for region_id, book in books.items():
        publish.publish(book)
        for type_id in (TRITANIUM, PYERITE, DOMINIX, DAMAGE_CONTROL_II):
            row = {"date": yesterday, "volume": 30, "average": 5.0, "highest": 5.5}
            market.set_history(region_id, type_id, [{**row, "lowest": 4.5, "order_count": 1}])
    volumes.forget_read()
    yield books
    volumes.forget_read()


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        volume_tasks.fill_daily_volumes_task, "delay", lambda: calls.append(("delay",))
    )
    monkeypatch.setattr(
        volume_tasks.fill_daily_volumes_task,
        "apply_async",
        lambda countdown: calls.append(("later", countdown)),
    )
    return calls


# What the fill should ask for, worked out from the books above and a hauling board of
# Tritanium and Damage Control II from Jita to Amarr:
#   opportunity types, each hub's by ISK on its book (types not on it after, by id):
#     The Forge: Damage Control II (hauling, 10M), Tritanium (station and hauling, 9,000)
#     Domain:    Pyerite (station, 2,100), Tritanium (hauling, 60), Damage Control II
#                (hauling, not on Amarr's book)
#   then the rest by ISK on the book: The Forge: Dominix (200M), Pyerite (1,000);
#                                    Domain: Dominix (210M)
#   the regions taking turns within each part.
EXPECTED = [
    (FORGE, DAMAGE_CONTROL_II),
    (DOMAIN, PYERITE),
    (FORGE, TRITANIUM),
    (DOMAIN, TRITANIUM),
    (DOMAIN, DAMAGE_CONTROL_II),
    (FORGE, DOMINIX),
    (DOMAIN, DOMINIX),
    (FORGE, PYERITE),
]


def history_asked(esi):
    return [
        (int(r.path.split("/")[2]), int(r.query["type_id"]))
        for r in esi.requests
        if "/history" in r.path
    ]


def test_the_plan_puts_every_hubs_opportunity_types_before_any_hubs_long_tail(hubs):
    publish_hauling_board(TRITANIUM, DAMAGE_CONTROL_II)
    assert volume_tasks.volume_fill_plan(hubs) == EXPECTED
    # Domain's Tritanium (60 ISK on its book) before The Forge's Dominix (200M): it is in an
    # opportunity and the Dominix is not.
    assert EXPECTED.index((DOMAIN, TRITANIUM)) < EXPECTED.index((FORGE, DOMINIX))


def test_without_boards_the_opportunities_are_the_station_trades(hubs):
    assert volume_tasks.volume_fill_plan(hubs) == [
        (FORGE, TRITANIUM),
        (DOMAIN, PYERITE),
        (FORGE, DOMINIX),
        (DOMAIN, DOMINIX),
        (FORGE, DAMAGE_CONTROL_II),
        (DOMAIN, TRITANIUM),
        (FORGE, PYERITE),
    ]


def test_fill_order_takes_turns_and_keeps_each_regions_order():
    by_value = {1: [10, 11, 12, 13], 2: [20], 3: [30, 31]}
    opportunities = {1: {12, 99}, 3: {31, 30}}
    assert volume_tasks.fill_order(by_value, opportunities) == [
        (1, 12),
        (3, 30),
        (1, 99),  # not on region 1's book: after its others
        (3, 31),
        (1, 10),
        (2, 20),
        (1, 11),
        (1, 13),
    ]


def test_the_task_fetches_in_the_plans_order_and_marks_the_regions_done(hubs, queued, market):
    publish_hauling_board(TRITANIUM, DAMAGE_CONTROL_II)
    assert volume_tasks.fill_daily_volumes_task() == "done"
    assert history_asked(market) == EXPECTED
    assert queued == []
    today = datetime.now(UTC).date()
    assert volumes.filled_on(FORGE) == volumes.filled_on(DOMAIN) == today
    volumes.forget_read()
    coverage = volumes.volume_coverage(DOMAIN, [PYERITE, TRITANIUM, DOMINIX, DAMAGE_CONTROL_II])
    assert coverage == volumes.VolumeCoverage(known=4, total=4, filling=False)
    assert volume_tasks.dispatch_daily_volumes() == []  # done today: nothing queued
    assert volume_tasks.fill_daily_volumes_task() == "done"  # and nothing asked again
    assert len(history_asked(market)) == len(EXPECTED)


def _fill_the_budget(count):
    # Both this minute's counter and the next's, so a run crossing the minute stops as well.
    if datetime.now(UTC).second >= 58:
        time.sleep(3)
    store = get_store()
    now = datetime.now(UTC)
    for moment in (now, now + timedelta(minutes=1)):
        store.set(volumes.history_calls_key(moment), str(count).encode(), ttl=180)


def test_a_minutes_budget_goes_to_the_opportunity_types_first(hubs, queued, market):
    publish_hauling_board(TRITANIUM, DAMAGE_CONTROL_II)
    _fill_the_budget(volumes.TASK_CALLS_PER_MINUTE - 5)  # room for 5 calls
    assert volume_tasks.fill_daily_volumes_task() == "continues"
    assert history_asked(market) == EXPECTED[:5]
    ((kind, countdown),) = queued
    assert kind == "later" and 1.0 <= countdown <= 62.0
    # Neither hub is done: their pages say the volumes are filling.
    volumes.forget_read()
    forge = volumes.volume_coverage(FORGE, [TRITANIUM, DAMAGE_CONTROL_II, DOMINIX, PYERITE])
    assert forge == volumes.VolumeCoverage(known=2, total=4, filling=True)
    assert volumes.filled_on(DOMAIN) is None


def test_a_region_without_a_snapshot_is_not_marked_done(hubs, queued, market, settings):
    settings.MARKET_REGIONS = [FORGE, DOMAIN, SINQ_LAISON]
    assert volume_tasks.fill_daily_volumes_task() == "done"
    assert volumes.filled_on(FORGE) == datetime.now(UTC).date()
    assert volumes.filled_on(SINQ_LAISON) is None
    assert volume_tasks.dispatch_daily_volumes() == [SINQ_LAISON]
    assert queued == [("delay",)]


def test_the_fill_is_one_at_a_time(hubs, queued):
    lock = get_store().lock(volume_tasks.LOCK, ttl=30)
    assert lock.acquire()
    try:
        assert volume_tasks.fill_daily_volumes_task() == "busy"
    finally:
        lock.release()


def test_dispatch_queues_the_fill_once(market, queued):
    assert volume_tasks.dispatch_daily_volumes() == [FORGE, DOMAIN]
    assert volume_tasks.dispatch_daily_volumes() == []  # already queued
    assert queued == [("delay",)]


def test_esi_down_ends_the_chain_for_the_next_dispatch(hubs, queued, settings):
    settings.ESI_BASE_URL = "http://127.0.0.1:9"
    settings.ESI_MAX_RETRIES = 0
    assert volume_tasks.fill_daily_volumes_task() == "esi"
    assert queued == []
    assert volume_tasks.dispatch_daily_volumes() == [FORGE, DOMAIN]
    assert np.isnan(volumes.daily_volume_table(FORGE).lookup([TRITANIUM])).all()
