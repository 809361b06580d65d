"""ESI's limit headers and the shared pause logic (esi.headers, esi.limits), on a fake clock:
what a response records, when calls pause, for how long, and that a second client sharing the
store pauses too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from esi import headers as h
from esi.errors import EsiRateLimited
from esi.limits import Limits, route_of
from store.base import Store
from tests.esi_env import T0, FakeClock


def make(store: Store, clock: FakeClock, *, error_floor: int = 10, rl_floor: float = 0.05):
    return Limits(store, error_limit_floor=error_floor, ratelimit_floor=rl_floor, now=clock)


ORDERS = "/markets/10000002/orders/"


def bucket_headers(remaining: int, *, limit: str = "12000/15m", used: int = 2) -> dict:
    return {
        "X-Ratelimit-Group": "market-order",
        "X-Ratelimit-Limit": limit,
        "X-Ratelimit-Remaining": str(remaining),
        "X-Ratelimit-Used": str(used),
    }


# --- header parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12000/15m", (12000, 900.0)),
        ("150/15m", (150, 900.0)),
        ("300/1m", (300, 60.0)),
        ("10/30s", (10, 30.0)),
        ("5/2", (5, 2.0)),
        ("100/1h", (100, 3600.0)),
        (" 7 / 1d ", (7, 86400.0)),
        ("0/15m", None),
        ("12000", None),
        ("abc/15m", None),
        ("12000/15x", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_limit(value, expected):
    assert h.parse_limit(value) == expected


def test_header_lookup_ignores_case_in_plain_dicts():
    assert h.header({"x-esi-error-limit-remain": "7"}, "X-ESI-Error-Limit-Remain") == "7"
    assert h.header({"X-Pages": "3"}, "x-pages") == "3"
    assert h.header({}, "X-Pages") is None


def test_http_dates_and_malformed_values():
    assert h.http_date("Fri, 26 Jan 2018 11:06:21 GMT") == datetime(
        2018, 1, 26, 11, 6, 21, tzinfo=UTC
    )
    assert h.http_date("0") is None
    assert h.http_date("-1") is None
    assert h.http_date(None) is None
    assert h.integer(" 12 ") == 12
    assert h.integer("twelve") is None


def test_retry_after_seconds_or_date():
    assert h.retry_after("3", T0) == 3.0
    assert h.retry_after("Fri, 01 May 2026 12:00:10 GMT", T0) == 10.0
    assert h.retry_after("Fri, 01 May 2026 11:00:00 GMT", T0) == 0.0
    assert h.retry_after("soon", T0) is None
    assert h.retry_after(None, T0) is None


def test_error_limit_and_bucket_headers_as_esi_sends_them():
    # Spelling as recorded from ESI (esi-issues #1073): "X-Esi-Error-Limit-Remain".
    got = h.error_limit({"X-Esi-Error-Limit-Remain": "50", "X-Esi-Error-Limit-Reset": "36"})
    assert got == h.ErrorLimit(remain=50, reset=36.0)
    assert h.error_limit({"X-Esi-Error-Limit-Remain": "50"}) is None
    found = h.bucket(bucket_headers(11000, used=2))
    assert found == h.Bucket("market-order", 12000, 900.0, 11000, 2)
    assert h.bucket({"X-Ratelimit-Limit": "12000/15m"}) is None


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/markets/10000002/orders/", "/markets/{id}/orders"),
        ("/markets/10000002/orders", "/markets/{id}/orders"),
        ("/markets/10000043/history/?type_id=34", "/markets/{id}/history"),
        ("/markets/prices/", "/markets/prices"),
        ("/characters/2112625428/assets/", "/characters/{id}/assets"),
        ("/", "/"),
    ],
)
def test_route_of(path, route):
    assert route_of(path) == route


# --- the error limit ------------------------------------------------------------------------


def test_no_pause_without_anything_recorded(store, clock):
    limits = make(store, clock)
    assert limits.resume_at(ORDERS) is None
    assert limits.wait(ORDERS, budget=30, sleep=clock.sleep) == 0
    assert clock.slept == []


def test_error_limit_above_floor_does_not_pause(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 200, {"X-ESI-Error-Limit-Remain": "11", "X-ESI-Error-Limit-Reset": "40"})
    assert limits.resume_at(ORDERS) is None


def test_error_limit_at_floor_pauses_every_route_until_reset(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 404, {"X-ESI-Error-Limit-Remain": "10", "X-ESI-Error-Limit-Reset": "40"})
    resume = limits.resume_at("/markets/prices/")
    assert resume is not None
    assert resume[0] == (T0 + timedelta(seconds=40)).timestamp()
    assert "error limit" in resume[1]
    assert limits.wait("/status/", budget=60, sleep=clock.sleep) == 40
    assert clock.slept == [40]
    assert limits.resume_at(ORDERS) is None  # the window has reset


def test_a_420_pauses_until_its_reset_even_when_remain_says_otherwise(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 420, {"X-ESI-Error-Limit-Remain": "55", "X-ESI-Error-Limit-Reset": "7"})
    assert limits.snapshot()["error_limit"]["remain"] == 0
    assert limits.snapshot()["paused_until"] == T0 + timedelta(seconds=7)


def test_a_420_without_headers_pauses_a_full_window(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 420, {})
    assert limits.snapshot()["paused_until"] == T0 + timedelta(seconds=60)


def test_out_of_order_responses_keep_the_lowest_remain_of_a_window(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 404, {"X-ESI-Error-Limit-Remain": "9", "X-ESI-Error-Limit-Reset": "30"})
    clock.advance(0.5)  # a response sent earlier arrives later, in the same window
    limits.record(ORDERS, 200, {"X-ESI-Error-Limit-Remain": "60", "X-ESI-Error-Limit-Reset": "30"})
    assert limits.snapshot()["error_limit"]["remain"] == 9
    clock.advance(31)  # a new window: its count replaces the old one
    limits.record(ORDERS, 200, {"X-ESI-Error-Limit-Remain": "99", "X-ESI-Error-Limit-Reset": "60"})
    assert limits.snapshot()["error_limit"]["remain"] == 99


def test_a_pause_longer_than_the_budget_raises_with_the_resume_time(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "45"})
    with pytest.raises(EsiRateLimited) as caught:
        limits.wait(ORDERS, budget=30, sleep=clock.sleep)
    assert caught.value.resume_at == T0 + timedelta(seconds=45)
    assert clock.slept == []  # it did not sleep part of the way first
    assert "error limit" in str(caught.value)


def test_a_second_instance_sharing_the_store_pauses_too(store, clock):
    first, second = make(store, clock), make(store, clock)
    first.record(ORDERS, 420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "5"})
    assert second.wait("/markets/prices/", budget=30, sleep=clock.sleep) == 5


# --- token buckets --------------------------------------------------------------------------


def test_bucket_above_floor_does_not_pause(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 200, bucket_headers(600))  # 5 % of 12000 is 600: not below
    assert limits.group_of("/markets/10000043/orders/") == "market-order"
    assert limits.resume_at("/markets/10000043/orders/") is None


def test_bucket_below_floor_pauses_its_routes_until_tokens_come_back(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 200, bucket_headers(500))
    # 100 tokens short, one back every 900/12000 s: 7.5 s.
    resume = limits.resume_at("/markets/10000030/orders/")
    assert resume is not None
    assert resume[0] == pytest.approx((T0 + timedelta(seconds=7.5)).timestamp())
    assert "market-order" in resume[1]
    assert limits.resume_at("/markets/prices/") is None  # another route, no known group
    slept = limits.wait(ORDERS, budget=30, sleep=clock.sleep)
    assert slept == pytest.approx(7.5)
    snap = limits.snapshot()["groups"]["market-order"]
    assert snap == {
        "limit": 12000,
        "window": 900.0,
        "remaining": 500,
        "used": 2,
        "paused_until": None,
    }


def test_bucket_pause_is_shared_and_reported(store, clock):
    limits, other = make(store, clock), make(store, clock)
    limits.record(ORDERS, 200, bucket_headers(0, limit="150/15m"))
    # A fresh instance learns the route's group from the store, not from a response.
    resume = other.resume_at(ORDERS)
    assert resume is not None
    # floor 7.5 tokens, 6 s each: 45 s.
    assert resume[0] == pytest.approx((T0 + timedelta(seconds=45)).timestamp())
    paused = other.snapshot()["groups"]["market-order"]["paused_until"]
    assert paused == T0 + timedelta(seconds=45)
    with pytest.raises(EsiRateLimited):
        other.wait(ORDERS, budget=30, sleep=clock.sleep)


def test_429_honours_retry_after_for_its_group_only(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 200, bucket_headers(11000))
    limits.record(
        "/status/", 200, {**bucket_headers(500, limit="600/15m"), "X-Ratelimit-Group": "status"}
    )
    limits.record(ORDERS, 429, {**bucket_headers(0), "Retry-After": "12"})
    assert limits.wait("/markets/10000043/orders/", budget=30, sleep=clock.sleep) == 12
    assert limits.resume_at("/status/") is None
    assert limits.snapshot()["groups"]["market-order"]["paused_until"] is None


def test_429_on_a_route_without_group_pauses_that_route(store, clock):
    limits = make(store, clock)
    limits.record("/markets/prices/", 429, {"Retry-After": "3"})
    assert limits.resume_at("/markets/prices/") is not None
    assert limits.resume_at(ORDERS) is None
    assert "route:/markets/prices" in limits.snapshot()["groups"]


def test_the_longer_of_both_pauses_wins(store, clock):
    limits = make(store, clock)
    limits.record(ORDERS, 429, {**bucket_headers(11000), "Retry-After": "20"})
    limits.record(ORDERS, 420, {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "4"})
    resume = limits.resume_at(ORDERS)
    assert resume is not None
    assert resume[0] == (T0 + timedelta(seconds=20)).timestamp()
    assert limits.wait(ORDERS, budget=30, sleep=clock.sleep) == 20


def test_snapshot_when_nothing_is_known(store, clock):
    assert make(store, clock).snapshot() == {
        "error_limit": {"remain": None, "reset_at": None},
        "groups": {},
        "paused_until": None,
    }
