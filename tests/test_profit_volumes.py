"""Daily volumes: the 30-day average and prices, the refresh that fills them from market
history (served by the ESI stand-in over HTTP) within the shared history budget, and how much
of a list of types they cover (the fill's Celery task: tests/test_volume_fill.py)."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from market import publish
from profit import volumes
from store import get_store
from tests.profit_books import (
    DOMAIN,
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


def test_the_history_mid_is_the_median_of_the_daily_averages():
    history = rows((1, 100), (2, 50), (3, 70), (4, 10), (31, 10))  # every average 5.0
    history[1]["average"] = 6.0  # two days ago
    history[2]["average"] = 80.0  # three days ago: an odd day
    history[4]["average"] = 900.0  # 31 days ago: outside the window
    # A day of two rows: its average is theirs weighed by units, (4.0 x 30 + 8.0 x 10) / 40
    # = 5.0 (their plain mean, 6.0, would move the median).
    history.append({**history[3], "volume": 30, "average": 4.0})
    history[3]["average"] = 8.0
    # The window's daily averages are 5.0, 6.0, 80.0 and 5.0: their median is
    # (5.0 + 6.0) / 2 = 5.5 (the highs, all 5.5, do not enter into it).
    assert volumes.history_price_mid(history, TODAY) == 5.5
    # A row without an average gives its day none; a day with no row in the window none.
    priceless = rows((1, 100), (2, 10), (3, 40))
    priceless[0]["average"] = None
    priceless[1]["average"] = 7.0
    # Left: 7.0 and 5.0, median 6.0.
    assert volumes.history_price_mid(priceless, TODAY) == 6.0
    assert np.isnan(volumes.history_price_mid([], TODAY))
    assert np.isnan(volumes.history_price_mid(rows((40, 100)), TODAY))


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


def test_the_refresh_walks_the_hub_types_dearest_book_first(forge_hub):
    # ISK on Jita 4-4's book, price x units over both sides: PLEX 5e6 + 4.9e6 = 9.9M,
    # Tritanium 4.0 x 10 + 4.1 x 10 + 3.9 x 10 = 120, Pyerite 10.0 x 5 = 50 (Dominix is
    # elsewhere).
    assert volumes.hub_type_ids(FORGE) == [PLEX, TRITANIUM, PYERITE]
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
    assert stored["price_mids"] == [5.0, 5.0, 5.0]  # and its average 5.0
    table = volumes.daily_volume_table(FORGE)
    assert table.price_high([TRITANIUM, DOMINIX]).tolist()[0] == 5.5
    mids = volumes.history_mid(None, FORGE, [PYERITE, DOMINIX])
    assert mids[0] == 5.0 and np.isnan(mids[1])
    history_calls = [r for r in forge_hub.requests if "/history" in r.path]
    assert [int(r.query["type_id"]) for r in history_calls] == [PLEX, TRITANIUM, PYERITE]


def test_a_mapping_of_volumes_carries_no_mid_price():
    table = volumes.DailyVolumes(
        FORGE,
        np.array([TRITANIUM, PLEX]),
        np.array([10.0, 2.0]),
        np.array([0, 0]),
        np.array([5.5, 6e6]),
        np.array([5.0, np.nan]),
    )
    assert volumes.history_mid(table, FORGE, [PLEX, TRITANIUM, PYERITE]).tolist()[1] == 5.0
    assert np.isnan(volumes.history_mid(table, FORGE, [PLEX, PYERITE])).all()
    assert np.isnan(volumes.history_mid({TRITANIUM: 10.0}, FORGE, [TRITANIUM])).all()
    # A table made before mids were kept (five columns) knows none.
    old = volumes.DailyVolumes(FORGE, table.type_ids, table.volumes, table.days, table.price_highs)
    assert np.isnan(old.price_mid([TRITANIUM])).all()


def test_volumes_stored_before_mid_prices_read_and_refresh(forge_hub):
    today = datetime.now(UTC).date().toordinal()
    get_store().set_json(
        f"profit:daily-volumes:{FORGE}",
        {
            "window_days": 30,
            "types": [TRITANIUM, PLEX, PYERITE],
            "volumes": [200_000.0, 0.0, 2.0],
            "days": [today, today, today - 1],
            "price_highs": [5.5, None, 5.5],
        },
    )
    table = volumes.daily_volume_table(FORGE)
    assert table.lookup([TRITANIUM]).tolist() == [200_000.0]
    assert np.isnan(table.price_mid([TRITANIUM, PLEX, PYERITE])).all()
    # Today's Tritanium traded but has no mid: fetched again (as a missing high would be);
    # today's PLEX did not trade (volume 0): done; Pyerite is yesterday's: fetched.
    result = volumes.refresh_daily_volumes(FORGE)
    assert (result.fetched, result.remaining) == (2, 0)
    history_calls = [r for r in forge_hub.requests if "/history" in r.path]
    assert [int(r.query["type_id"]) for r in history_calls] == [TRITANIUM, PYERITE]
    mids = volumes.daily_volume_table(FORGE).price_mid([TRITANIUM, PLEX, PYERITE])
    assert mids[0] == 5.0 and np.isnan(mids[1]) and mids[2] == 5.0


def test_a_second_run_the_same_day_fetches_nothing(forge_hub):
    volumes.refresh_daily_volumes(FORGE)
    again = volumes.refresh_daily_volumes(FORGE)
    assert (again.fetched, again.remaining) == (0, 0)
    history_calls = [r for r in forge_hub.requests if "/history" in r.path]
    assert sorted(int(r.query["type_id"]) for r in history_calls) == [TRITANIUM, PYERITE, PLEX]


def test_the_refresh_of_several_regions_keeps_the_order_given(forge_hub):
    forge_hub.set_history(DOMAIN, PYERITE, rows((1, 300), today=datetime.now(UTC).date()))
    plan = [(FORGE, PYERITE), (DOMAIN, PYERITE), (FORGE, TRITANIUM), (FORGE, PYERITE)]
    result = volumes.fill_daily_volumes(plan)
    assert (result.fetched, result.remaining, result.stopped) == (3, {FORGE: 0, DOMAIN: 0}, None)
    history_calls = [r for r in forge_hub.requests if "/history" in r.path]
    assert [(r.path.split("/")[2], int(r.query["type_id"])) for r in history_calls] == [
        (str(FORGE), PYERITE),
        (str(DOMAIN), PYERITE),
        (str(FORGE), TRITANIUM),
    ]
    assert volumes.daily_volumes(DOMAIN) == {PYERITE: 10.0}  # 300 units / 30 days
    assert volumes.daily_volumes(FORGE) == {PYERITE: 2.0, TRITANIUM: 200_000.0}


def test_the_budget_stops_a_run_of_several_regions_with_what_is_left_per_region(forge_hub):
    _fill_the_budget(volumes.TASK_CALLS_PER_MINUTE)
    result = volumes.fill_daily_volumes([(FORGE, PYERITE), (DOMAIN, PYERITE), (FORGE, PLEX)])
    assert (result.fetched, result.remaining) == (0, {FORGE: 2, DOMAIN: 1})
    assert result.stopped == "budget"


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


# --- Coverage -------------------------------------------------------------------------------


def test_coverage_counts_the_types_with_a_volume_and_says_when_the_fill_is_on(forge_hub):
    volumes.refresh_daily_volumes(FORGE, type_ids=[TRITANIUM, PLEX])
    volumes.forget_read()
    # Asked about Tritanium twice, PLEX, and Pyerite and Dominix (not fetched): 4 types,
    # 2 known; the fill has not marked The Forge done today, so it is filling.
    asked = [TRITANIUM, PYERITE, TRITANIUM, PLEX, DOMINIX]
    coverage = volumes.volume_coverage(FORGE, asked)
    assert coverage == volumes.VolumeCoverage(known=2, total=4, filling=True)
    today = datetime.now(UTC).date()
    volumes.mark_filled(FORGE, today - timedelta(days=1))
    volumes.forget_read()
    assert volumes.volume_coverage(FORGE, asked).filling  # done yesterday: filling today
    volumes.mark_filled(FORGE, today)
    volumes.forget_read()
    assert volumes.volume_coverage(FORGE, asked) == volumes.VolumeCoverage(2, 4, False)
    assert volumes.filled_on(FORGE) == today
    assert get_store().get(volumes.done_key(FORGE)) == today.isoformat().encode()
    # No types asked about; a region with nothing stored.
    assert volumes.volume_coverage(FORGE, []) == volumes.VolumeCoverage(0, 0, False)
    assert volumes.volume_coverage(DOMAIN, np.array([TRITANIUM])) == volumes.VolumeCoverage(
        0, 1, True
    )


def test_coverage_counts_a_volume_of_any_day(forge_hub):
    get_store().set_json(
        f"profit:daily-volumes:{FORGE}",
        {"types": [TRITANIUM, PLEX], "volumes": [3.0, 0.0], "days": [700_000, 700_001]},
    )
    volumes.forget_read()
    assert volumes.volume_coverage(FORGE, [PLEX, TRITANIUM, PYERITE]).known == 2
