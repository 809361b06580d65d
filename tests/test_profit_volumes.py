"""Daily volumes: the 30-day average, and the worker task that fills it from market history
(served by the ESI stand-in over HTTP) within the shared history budget."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from market import publish
from profit import volume_tasks, volumes
from store import get_store
from tests.profit_books import (
    DOMINIX,
    FORGE,
    PERIMETER_STORAGE,
    PLEX,
    PYERITE,
    TRITANIUM,
    order,
    snapshot,
)

TODAY = date(2026, 11, 22)


def rows(*days_and_volumes, today=TODAY):
    return [
        {
            "date": (today - timedelta(days=ago)).isoformat(),
            "volume": volume,
            "average": 5.0,
            "highest": 5.5,
            "lowest": 4.5,
            "order_count": 3,
        }
        for ago, volume in days_and_volumes
    ]


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], 0.0),
        # Every day of the 30 up to yesterday traded 100 units.
        ([(ago, 100) for ago in range(1, 31)], 100.0),
        # Days without trades have no row: they count as 0.
        ([(1, 3_000), (10, 3_000)], 200.0),
        # Older than the window: left out.
        ([(1, 300), (31, 1_000_000), (400, 5)], 10.0),
        # Before the downtime the newest day is the day before yesterday: the window ends there.
        ([(2, 600), (31, 900)], 50.0),
        # A type that has not traded for weeks: the window still ends yesterday.
        ([(20, 600), (40, 900)], 20.0),
    ],
)
def test_average_daily_volume(history, expected):
    assert volumes.average_daily_volume(rows(*history), TODAY) == pytest.approx(expected)


def test_the_history_high_is_the_median_of_the_daily_highs():
    history = rows((1, 100), (2, 50), (3, 70), (31, 10))  # each day's highest is 5.5
    history[1]["highest"] = 6.0  # two days ago
    history[2]["highest"] = 90.0  # three days ago: one bait fill
    history[3]["highest"] = 500.0  # 31 days ago: outside the window
    # The window's daily highs are 5.5, 6.0 and 90.0: their median is 6.0.
    assert volumes.history_price_high(history, TODAY) == 6.0
    # Two rows of one day: the day's highest is the higher of the two.
    same_day = rows((1, 100), (1, 300), (2, 10))
    same_day[1]["highest"] = 7.0
    assert volumes.history_price_high(same_day, TODAY) == pytest.approx((7.0 + 5.5) / 2)
    # A day with no price at all is left out, not taken for 0.
    priceless = rows((1, 100), (2, 10))
    priceless[0]["highest"] = priceless[0]["average"] = None
    assert volumes.history_price_high(priceless, TODAY) == 5.5
    assert np.isnan(volumes.history_price_high([], TODAY))


def test_daily_volume_table_lookups():
    table = volumes.DailyVolumes.from_mapping(FORGE, {PLEX: 10.0, TRITANIUM: 5.0})
    found = table.lookup([TRITANIUM, PYERITE, PLEX])
    assert found[0] == 5.0 and found[2] == 10.0
    assert found[1] != found[1]  # NaN: unknown
    assert table.as_dict() == {TRITANIUM: 5.0, PLEX: 10.0}
    empty = volumes.DailyVolumes.from_mapping(FORGE, {})
    assert empty.lookup([PLEX])[0] != empty.lookup([PLEX])[0]


# --- The refresh, against the ESI stand-in ----------------------------------------------


@pytest.fixture
def forge_hub(market):
    """A published Forge snapshot: Tritanium (3 orders), PLEX (2) and Pyerite (1) at Jita 4-4,
    Dominix elsewhere only; the stand-in serves known history for each."""
    published = snapshot(
        FORGE,
        [
            order(TRITANIUM, 4.0, 10),
            order(TRITANIUM, 4.1, 10),
            order(TRITANIUM, 3.9, 10, buy=True),
            order(PLEX, 5e6, 1),
            order(PLEX, 4.9e6, 1, buy=True),
            order(PYERITE, 10.0, 5),
            order(DOMINIX, 2e8, 1, location=PERIMETER_STORAGE),
        ],
    )
    publish.publish(published)
    today = datetime.now(UTC).date()
    market.set_history(FORGE, TRITANIUM, rows((1, 3_000_000), (2, 3_000_000), today=today))
    market.set_history(FORGE, PLEX, rows((1, 9_000), today=today))
    market.set_history(FORGE, PYERITE, rows((5, 60), (45, 1), today=today))
    market.set_history(FORGE, DOMINIX, rows((1, 30), today=today))
    volumes.forget_read()
    yield market
    volumes.forget_read()


def test_the_refresh_walks_the_hub_types_most_ordered_first(forge_hub):
    assert volumes.hub_type_ids(FORGE) == [TRITANIUM, PLEX, PYERITE]
    result = volumes.refresh_daily_volumes(FORGE)
    assert (result.fetched, result.remaining, result.stopped) == (3, 0, None)
    assert volumes.daily_volumes(FORGE) == {
        TRITANIUM: 200_000.0,
        PLEX: 300.0,
        PYERITE: 2.0,
    }
    stored = get_store().get_json("profit:daily-volumes:10000002")
    assert stored["types"] == [TRITANIUM, PYERITE, PLEX]  # sorted by type id
    assert stored["days"] == [datetime.now(UTC).date().toordinal()] * 3
    assert stored["price_highs"] == [5.5, 5.5, 5.5]  # every served day's highest was 5.5
    table = volumes.daily_volume_table(FORGE)
    assert table.price_high([TRITANIUM, DOMINIX]).tolist()[0] == 5.5


def test_a_second_run_the_same_day_fetches_nothing(forge_hub):
    volumes.refresh_daily_volumes(FORGE)
    again = volumes.refresh_daily_volumes(FORGE)
    assert (again.fetched, again.remaining) == (0, 0)
    history_calls = [r for r in forge_hub.requests if "/history" in r.path]
    assert sorted(int(r.query["type_id"]) for r in history_calls) == [TRITANIUM, PYERITE, PLEX]


def _fill_the_budget(count):
    store = get_store()
    now = datetime.now(UTC)
    for moment in (now, now + timedelta(minutes=1)):
        store.set(volumes.history_calls_key(moment), str(count).encode(), ttl=180)


def test_the_refresh_leaves_the_rest_of_the_minute_to_people_browsing(forge_hub):
    _fill_the_budget(volumes.TASK_CALLS_PER_MINUTE)
    result = volumes.refresh_daily_volumes(FORGE)
    assert (result.fetched, result.remaining, result.stopped) == (0, 3, "budget")
    assert result.resume_at > datetime.now(UTC) - timedelta(seconds=1)
    assert volumes.daily_volumes(FORGE) == {}


def test_the_shared_300_a_minute_cap_stops_the_refresh_and_keeps_its_progress(forge_hub):
    _fill_the_budget(300)
    result = volumes.refresh_daily_volumes(FORGE, calls_per_minute=10_000)
    assert (result.fetched, result.stopped) == (0, "budget")
    store = get_store()
    for moment in (datetime.now(UTC), datetime.now(UTC) + timedelta(minutes=1)):
        store.delete(volumes.history_calls_key(moment))
    done = volumes.refresh_daily_volumes(FORGE, type_ids=[PLEX])
    assert done.fetched == 1
    assert volumes.daily_volumes(FORGE) == {PLEX: 300.0}
    rest = volumes.refresh_daily_volumes(FORGE)
    assert (rest.fetched, rest.remaining) == (2, 0)
    assert set(volumes.daily_volumes(FORGE)) == {TRITANIUM, PLEX, PYERITE}


def test_a_type_esi_has_no_history_for_counts_as_zero(forge_hub):
    result = volumes.refresh_daily_volumes(FORGE, type_ids=[PLEX, 999_999_999])
    assert result.fetched == 2
    assert volumes.daily_volumes(FORGE) == {PLEX: 300.0, 999_999_999: 0.0}


def test_esi_down_stops_the_run(forge_hub, settings):
    settings.ESI_BASE_URL = "http://127.0.0.1:9"
    settings.ESI_MAX_RETRIES = 0
    result = volumes.refresh_daily_volumes(FORGE)
    assert (result.fetched, result.stopped) == (0, "esi")


def test_no_snapshot_no_types(market):
    assert volumes.hub_type_ids(FORGE) == []
    assert volumes.refresh_daily_volumes(FORGE).remaining == 0


# --- The Celery tasks -------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        volume_tasks.refresh_daily_volumes_task,
        "delay",
        lambda region: calls.append(("delay", region)),
    )
    monkeypatch.setattr(
        volume_tasks.refresh_daily_volumes_task,
        "apply_async",
        lambda args, countdown: calls.append(("later", args[0], countdown)),
    )
    return calls


def test_the_task_finishes_a_region_and_marks_it_done(forge_hub, queued, settings):
    settings.MARKET_REGIONS = [FORGE]
    assert volume_tasks.refresh_daily_volumes_task(FORGE) == "done"
    assert set(volumes.daily_volumes(FORGE)) == {TRITANIUM, PLEX, PYERITE}
    assert queued == []
    assert volume_tasks.dispatch_daily_volumes() == []  # done today: nothing queued


def test_the_task_queues_its_next_run_when_the_minute_is_used(forge_hub, queued):
    _fill_the_budget(volumes.TASK_CALLS_PER_MINUTE)
    assert volume_tasks.refresh_daily_volumes_task(FORGE) == "continues"
    ((kind, region, countdown),) = queued
    assert (kind, region) == ("later", FORGE)
    assert 1.0 <= countdown <= 62.0


def test_the_task_is_one_at_a_time_per_region(forge_hub, queued):
    lock = get_store().lock(f"profit:daily-volumes:{FORGE}", ttl=30)
    assert lock.acquire()
    try:
        assert volume_tasks.refresh_daily_volumes_task(FORGE) == "busy"
    finally:
        lock.release()


def test_dispatch_queues_each_region_once(market, queued, settings):
    settings.MARKET_REGIONS = [FORGE, 10000043]
    assert volume_tasks.dispatch_daily_volumes() == [FORGE, 10000043]
    assert volume_tasks.dispatch_daily_volumes() == []  # already queued
    assert queued == [("delay", FORGE), ("delay", 10000043)]
