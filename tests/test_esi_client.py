"""The ESI client (esi/).

First what needs no HTTP: the headers it sends, backoff bounds, the downtime window, the
errors. Then the client over real HTTP against the project's ESI stand-in (standin/esi.py):
headers on the wire, Expires caching and 304 revalidation, concurrent pagination and its
consistency checks, retries, both limit schemes shared by two clients on one store, the
circuit breaker, downtime, and every request checked against the official OpenAPI spec.
"""

from __future__ import annotations

import os
import pickle
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from esi import (
    EsiBadResponse,
    EsiCircuitOpen,
    EsiClient,
    EsiDowntime,
    EsiError,
    EsiHttpError,
    EsiInconsistent,
    EsiRateLimited,
    EsiUnavailable,
)
from esi.client import APP_VERSION, backoff_delay
from esi.downtime import Downtime
from standin.contract import validate_request
from standin.esi import EsiStandIn
from store.base import Store
from store.file_store import FileStore
from store.redis_store import RedisStore

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def redis_store() -> RedisStore:
    return RedisStore(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")


def make_client(base_url: str, store: Store, **overrides: Any) -> EsiClient:
    """A client with timeouts and backoffs small enough for tests."""
    options: dict[str, Any] = {
        "base_url": base_url,
        "store": store,
        "contact": "ops@example.org",
        "compatibility_date": "2026-08-04",
        "timeout": 0.5,
        "max_concurrency": 4,
        "max_retries": 2,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "downtime": "",
        "error_limit_floor": 10,
        "ratelimit_floor": 0.05,
        "circuit_failures": 3,
        "circuit_reset": 0.5,
        "max_pause": 5.0,
    }
    options.update(overrides)
    return EsiClient(**options)


# --- no HTTP --------------------------------------------------------------------------------


def test_every_request_carries_user_agent_compatibility_date_and_accept():
    client = make_client(
        "https://esi.example", redis_store(), project_url="https://github.com/example/evetrade"
    )
    sent = client.session.headers
    assert sent["User-Agent"] == (
        f"evetrade/{APP_VERSION} (ops@example.org; +https://github.com/example/evetrade)"
    )
    assert sent["X-Compatibility-Date"] == "2026-08-04"
    assert sent["Accept"] == "application/json"
    assert "Authorization" not in sent
    assert client._request_headers('W/"abc"', "tok") == {
        "If-None-Match": 'W/"abc"',
        "Authorization": "Bearer tok",
    }
    assert client._request_headers(None, None) == {}


def test_user_agent_without_project_url_and_one_line_contact_only():
    client = make_client("https://esi.example", redis_store(), contact="Pilot Name <p@x.org>")
    assert client.user_agent == f"evetrade/{APP_VERSION} (Pilot Name <p@x.org>)"
    with pytest.raises(ValueError):
        make_client("https://esi.example", redis_store(), contact="a@b.c\r\nX-Evil: 1")


def test_connection_pool_is_sized_to_the_concurrency():
    client = make_client("https://esi.example", redis_store(), max_concurrency=12)
    adapter = client.session.get_adapter("https://esi.example/")
    assert adapter._pool_maxsize == 12
    assert adapter.max_retries.total == 0


def test_from_settings_reads_the_esi_settings_and_takes_overrides(settings, tmp_path):
    settings.ESI_BASE_URL = "https://esi.example"
    settings.ESI_CONTACT = "admin@example.net"
    settings.ESI_TIMEOUT = 7.0
    settings.ESI_DOWNTIME = "11:00-11:15"
    store = FileStore(tmp_path)
    client = EsiClient.from_settings(store=store, max_retries=1)
    assert client.base_url == "https://esi.example"
    assert client.store is store
    assert "admin@example.net" in client.user_agent
    assert client.timeout == 7.0
    assert client.connect_timeout == 5.0
    assert client.max_retries == 1
    assert client.downtime == Downtime.parse("11:00-11:15")


def test_paths_not_urls():
    client = make_client("https://esi.example", redis_store())
    with pytest.raises(ValueError):
        client.get("https://elsewhere.example/markets/prices/")


def test_authenticated_get_cached_needs_a_per_character_scope():
    client = make_client("https://esi.example", redis_store())
    with pytest.raises(ValueError):
        client.get_cached("/characters/1/assets/", token="secret")


@pytest.mark.parametrize("retry", range(8))
def test_backoff_is_full_jitter_capped(retry):
    base, cap = 0.5, 8.0
    ceiling = min(cap, base * 2**retry)
    assert backoff_delay(retry, base, cap, rng=lambda: 0.0) == 0.0
    assert backoff_delay(retry, base, cap, rng=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    samples = [backoff_delay(retry, base, cap) for _ in range(200)]
    assert all(0.0 <= s < ceiling for s in samples)
    assert len(set(samples)) > 150  # jittered, not a fixed delay


# --- the downtime window --------------------------------------------------------------------


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 5, 1, hh, mm, ss, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "resume"),
    [
        (at(10, 59, 59), None),
        (at(11, 0), at(11, 15)),
        (at(11, 14, 59), at(11, 15)),
        (at(11, 15), None),
        (at(0, 0), None),
    ],
)
def test_downtime_window(moment, resume):
    assert Downtime.parse("11:00-11:15").resume_at(moment) == resume


def test_downtime_window_across_midnight():
    window = Downtime.parse("23:50-00:10")
    assert window.resume_at(at(23, 55)) == at(0, 10) + timedelta(days=1)
    assert window.resume_at(at(0, 5)) == at(0, 10)
    assert window.resume_at(at(0, 10)) is None
    assert window.resume_at(at(12, 0)) is None


@pytest.mark.parametrize("value", ["", "off", "none", None, "11:00-11:00"])
def test_downtime_can_be_switched_off(value):
    window = Downtime.parse(value)
    assert not window.enabled
    assert window.resume_at(at(11, 5)) is None


@pytest.mark.parametrize("value", ["11-11:15", "25:00-01:00", "11:00 to 11:15", "11:60-12:00"])
def test_downtime_rejects_nonsense(value):
    with pytest.raises(ValueError):
        Downtime.parse(value)


def test_downtime_description_for_the_status_page():
    described = Downtime.parse("11:00-11:15").describe(at(10, 0))
    assert described == {
        "window": "11:00-11:15 UTC",
        "active": False,
        "starts_at": at(11, 0),
        "resume_at": at(11, 15),
    }
    assert Downtime.parse("11:00-11:15").describe(at(11, 1))["active"] is True


def test_no_call_in_downtime_even_to_an_address_that_does_not_answer():
    # Nothing listens on port 9 here: any attempt to connect would end in EsiUnavailable.
    client = make_client(
        "http://127.0.0.1:9", redis_store(), downtime="11:00-11:15", now=lambda: at(11, 3)
    )
    with pytest.raises(EsiDowntime) as caught:
        client.get("/status/")
    assert caught.value.resume_at == at(11, 15)
    assert client.status()["downtime"]["active"] is True
    assert client.status()["breaker"]["failures"] == 0


# --- errors ---------------------------------------------------------------------------------


def test_errors_are_one_line_esi_errors_that_survive_pickling():
    errors = [
        EsiDowntime(at(11, 15)),
        EsiCircuitOpen(at(12, 1)),
        EsiRateLimited(at(12, 2), "ESI error limit"),
        EsiRateLimited("market history: 300 requests this minute", resume_at=at(12, 3)),
        EsiHttpError(404, b'{"error":"Type not found!"}\n', "/markets/1/history/"),
        EsiUnavailable("/status/: ESI answered 503, 3 attempts"),
        EsiBadResponse("/status/: invalid JSON"),
        EsiInconsistent("/markets/1/orders/: drift"),
    ]
    for error in errors:
        assert isinstance(error, EsiError)
        assert "\n" not in str(error)
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
    assert errors[0].resume_at == at(11, 15)
    assert errors[1].retry_at == at(12, 1)
    assert errors[3].resume_at == at(12, 3)
    assert str(errors[3]).startswith("market history: 300 requests this minute")
    assert str(errors[4]) == (
        'ESI answered 404 for /markets/1/history/: {"error":"Type not found!"}'
    )
    assert errors[4].status == 404
    assert errors[4].body == b'{"error":"Type not found!"}\n'
    with pytest.raises(TypeError):
        EsiRateLimited("no time given")


# --- over HTTP, against the ESI stand-in ----------------------------------------------------

REGION = 10000002
ORDERS_PATH = f"/markets/{REGION}/orders/"
ALL = {"order_type": "all"}  # required by the spec


def book(n: int, first_id: int = 6_000_000_000) -> list[dict]:
    """`n` orders shaped like ESI's, with distinct order_ids."""
    return [
        {
            "order_id": first_id + i,
            "type_id": 34 + i % 7,
            "is_buy_order": i % 2 == 0,
            "price": 5.0 + i / 100,
            "volume_remain": 100,
            "volume_total": 100,
            "location_id": 60003760,
            "system_id": 30000142,
            "duration": 90,
            "issued": "2026-05-01T10:00:00Z",
            "min_volume": 1,
            "range": "region",
        }
        for i in range(n)
    ]


@pytest.fixture
def esi():
    """The stand-in, 100 orders a page; afterwards every request the client sent must be one
    the official OpenAPI spec allows (route, parameters, X-Compatibility-Date...)."""
    with EsiStandIn(page_size=100, sample_data=False) as server:
        server.set_orders(REGION, book(750))  # 8 pages
        yield server
        for record in server.requests:
            validate_request(record.method, record.path, record.query, headers=record.headers)


@pytest.fixture(params=["redis", "files"])
def any_store(request, tmp_path) -> Store:
    if request.param == "redis":
        return redis_store()
    return FileStore(tmp_path / "store")


class ShiftedClock:
    """Real time plus an offset the test moves forward (to let Expires pass at once)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        time.sleep(seconds)


def statuses(server: EsiStandIn, path: str | None = None) -> list[int]:
    return [r.status for r in server.requests if path is None or r.path == path]


def test_headers_on_the_wire_and_the_token_never_logged(esi, caplog):
    client = make_client(esi.base_url, redis_store())
    caplog.set_level("DEBUG")
    response = client.get("/status/", token="sekrit-access-token")
    assert response.status == 200
    assert response.data["players"] > 0
    (sent,) = esi.requests
    assert sent.headers["User-Agent"] == client.user_agent
    assert "ops@example.org" in sent.headers["User-Agent"]
    assert sent.headers["User-Agent"].startswith(f"evetrade/{APP_VERSION} ")
    assert sent.headers["X-Compatibility-Date"] == "2026-08-04"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Authorization"] == "Bearer sekrit-access-token"
    assert "If-None-Match" not in sent.headers
    assert "sekrit" not in caplog.text
    client.get("/status/")
    assert "Authorization" not in esi.requests[1].headers


def test_response_fields(esi):
    client = make_client(esi.base_url, redis_store())
    response = client.get(ORDERS_PATH, params={**ALL, "page": 2})
    assert response.status == 200
    assert [o["order_id"] for o in response.data] == list(range(6_000_000_100, 6_000_000_200))
    assert response.pages == 8
    assert response.etag and response.etag.startswith('"')
    assert response.expires is not None and response.expires.tzinfo is not None
    assert response.last_modified is not None and response.last_modified < response.expires
    assert response.headers["x-pages"] == "8"  # case-insensitive
    again = client.get(ORDERS_PATH, params={**ALL, "page": 2}, etag=response.etag)
    assert (again.status, again.data, again.etag) == (304, None, response.etag)
    assert esi.requests[1].headers["If-None-Match"] == response.etag


def test_get_cached_serves_until_expires_then_revalidates_with_a_304(esi):
    clock = ShiftedClock()
    store = redis_store()
    client = make_client(esi.base_url, store, now=clock)
    first = client.get_cached("/markets/prices/")
    assert first.status == 200 and not first.from_cache
    assert isinstance(first.data, list)
    assert client.is_fresh("/markets/prices/")
    # While fresh: no request at all, from this client or another one on the same store.
    second = client.get_cached("/markets/prices/")
    other = make_client(esi.base_url, store, now=clock).get_cached("/markets/prices/")
    assert len(esi.requests) == 1
    assert second.from_cache and other.from_cache
    assert second.data == first.data == other.data
    assert second.etag == first.etag
    # max_age caps freshness below Expires.
    clock.offset = 5
    assert not client.is_fresh("/markets/prices/", max_age=1)
    # Past Expires: revalidated with If-None-Match; the 304 reuses the stored body.
    assert first.expires is not None
    clock.offset = (first.expires - datetime.now(UTC)).total_seconds() + 1
    assert not client.is_fresh("/markets/prices/")
    third = client.get_cached("/markets/prices/")
    assert len(esi.requests) == 2
    assert esi.requests[1].headers["If-None-Match"] == first.etag
    assert esi.requests[1].status == 304
    assert third.status == 200 and third.from_cache
    assert third.data == first.data
    # The 304's Expires is kept: back at the real time, the entry is fresh without a request.
    assert third.expires is not None and third.expires >= first.expires
    clock.offset = 0
    assert client.get_cached("/markets/prices/").from_cache
    assert len(esi.requests) == 2


def test_get_cached_refetches_when_the_data_changed(esi):
    clock = ShiftedClock()
    client = make_client(esi.base_url, redis_store(), now=clock)
    first = client.get_cached(ORDERS_PATH, params={**ALL, "page": 1})
    esi.touch(REGION)
    clock.offset = 400  # past the orders' 300 s Expires
    second = client.get_cached(ORDERS_PATH, params={**ALL, "page": 1})
    assert statuses(esi) == [200, 200]
    assert not second.from_cache
    assert second.etag != first.etag
    assert second.data == first.data  # touch: same orders, new cache generation


def test_authenticated_calls_are_cached_per_character_only(esi):
    clock = ShiftedClock()
    store = redis_store()
    client = make_client(esi.base_url, store, now=clock)
    client.get_cached("/status/", token="tok-a", cache_scope="character:1")
    client.get_cached("/status/", token="tok-a", cache_scope="character:1")
    assert len(esi.requests) == 1
    # Neither another character nor an anonymous call sees that entry.
    client.get_cached("/status/", token="tok-b", cache_scope="character:2")
    client.get_cached("/status/")
    assert len(esi.requests) == 3
    raw = [store.client.get(key) for key in store.client.keys(f"{store.prefix}esi:cache:*")]
    assert raw and not any(b"tok-" in (value or b"") for value in raw)


def test_pages_are_fetched_concurrently_within_the_bound(esi):
    esi.faults.page_latency = 0.25
    client = make_client(esi.base_url, redis_store(), max_concurrency=4)
    seen: list[tuple[int, int]] = []
    started = time.monotonic()
    result = client.get_pages(
        ORDERS_PATH, params=ALL, unique_key="order_id", progress=lambda d, t: seen.append((d, t))
    )
    elapsed = time.monotonic() - started
    assert elapsed < 8 * 0.25 / 2  # one after another would take 2 s
    assert len(result.pages) == 8
    assert [p.status for p in result.pages] == [200] * 8
    ids = [o["order_id"] for page in result.pages for o in page.data]
    assert ids == [o["order_id"] for o in book(750)]
    assert result.attempts == 1 and not result.not_modified
    assert result.last_modified == result.pages[0].last_modified
    assert result.expires == min(p.expires for p in result.pages if p.expires)
    assert seen == [(n, 8) for n in range(1, 9)]
    assert sorted(int(r.query["page"]) for r in esi.requests) == list(range(1, 9))
    # At most 4 at a time: pages 2..8 arrive as a burst of 4, the rest as those finish.
    later = sorted(r.time for r in esi.requests if r.query["page"] != "1")
    assert len([t for t in later if t - later[0] < 0.15]) == 4


def test_known_etags_make_unchanged_pages_answer_304(esi):
    client = make_client(esi.base_url, redis_store())
    full = client.get_pages(ORDERS_PATH, params=ALL)
    etags = {n: p.etag for n, p in enumerate(full.pages, 1) if p.etag}
    again = client.get_pages(ORDERS_PATH, params=ALL, etags=etags)
    assert again.not_modified
    assert [p.status for p in again.pages] == [304] * 8
    assert all(p.data is None for p in again.pages)
    assert again.last_modified == full.last_modified
    # Some pages known: those answer 304, the others come with their orders.
    partial = client.get_pages(ORDERS_PATH, params=ALL, etags={2: etags[2], 5: etags[5]})
    assert [p.status for p in partial.pages] == [200, 304, 200, 200, 304, 200, 200, 200]
    assert not partial.not_modified
    esi.touch(REGION)
    changed = client.get_pages(ORDERS_PATH, params=ALL, etags=etags)
    assert [p.status for p in changed.pages] == [200] * 8


def test_a_5xx_burst_is_retried_then_succeeds(esi):
    sleep = RecordingSleep()
    client = make_client(esi.base_url, redis_store(), max_retries=3, sleep=sleep)
    esi.faults.fail_next, esi.faults.fail_status = 3, 502
    assert client.get("/status/").status == 200
    assert statuses(esi) == [502, 502, 502, 200]
    assert len(sleep.calls) == 3
    assert all(0 <= s < 0.05 for s in sleep.calls)  # full jitter under backoff_max
    esi.faults.fail_next, esi.faults.fail_status = 1, 504
    assert client.get("/status/").status == 200
    assert client.status()["breaker"]["failures"] == 0


def test_5xx_outlasting_the_retries_is_unavailable(esi):
    client = make_client(esi.base_url, redis_store(), max_retries=2)
    esi.faults.fail_next = 10
    with pytest.raises(EsiUnavailable, match="503, 3 attempts"):
        client.get("/status/")
    assert statuses(esi) == [503, 503, 503]
    assert client.status()["breaker"]["failures"] == 1


@pytest.mark.parametrize("params", [{**ALL, "page": 99}, {"type_id": 999_999_999}])
def test_4xx_is_never_retried(esi, params):
    client = make_client(esi.base_url, redis_store())
    path = ORDERS_PATH if "page" in params else f"/markets/{REGION}/history/"
    with pytest.raises(EsiHttpError) as caught:
        client.get(path, params=params)
    assert caught.value.status == 404
    assert b"error" in caught.value.body
    assert len(esi.requests) == 1
    assert client.status()["breaker"]["state"] == "closed"
    assert client.status()["limits"]["error_limit"]["remain"] == 99


def test_a_500_is_not_retried_but_counts_against_the_breaker(esi):
    client = make_client(esi.base_url, redis_store())
    esi.faults.fail_next, esi.faults.fail_status = 1, 500
    with pytest.raises(EsiHttpError) as caught:
        client.get("/status/")
    assert caught.value.status == 500
    assert statuses(esi) == [500]
    assert client.status()["breaker"]["failures"] == 1


def test_a_420_pauses_the_call_until_the_error_window_resets(esi):
    esi.faults.error_limit_remain, esi.faults.error_limit_window = 0, 1.0
    client = make_client(esi.base_url, redis_store())
    started = time.monotonic()
    assert client.get("/status/").status == 200
    assert time.monotonic() - started >= 0.9
    assert statuses(esi) == [420, 200]


def test_a_420_pauses_every_client_on_the_store(esi, any_store):
    esi.faults.error_limit_remain, esi.faults.error_limit_window = 0, 1.0
    impatient = make_client(esi.base_url, any_store, max_pause=0.0)
    with pytest.raises(EsiRateLimited) as caught:
        impatient.get("/status/")
    hit = time.monotonic()
    assert "error limit" in str(caught.value)
    assert caught.value.resume_at > datetime.now(UTC)
    paused_until = impatient.status()["limits"]["paused_until"]
    assert paused_until is not None
    # Another client (another worker) on the same store sends nothing until the reset.
    other = make_client(esi.base_url, any_store)
    assert other.get(ORDERS_PATH, params=ALL).status == 200
    assert time.monotonic() - hit >= 0.8
    assert statuses(esi) == [420, 200]
    assert esi.requests[1].time >= paused_until.timestamp() - 0.01


def test_reaching_the_error_limit_floor_pauses_before_any_420(esi):
    esi.faults.error_limit_remain, esi.faults.error_limit_window = 11, 1.0
    client = make_client(esi.base_url, redis_store(), error_limit_floor=10)
    with pytest.raises(EsiHttpError):
        client.get(ORDERS_PATH, params={**ALL, "page": 99})  # remain 10: at the floor
    started = time.monotonic()
    assert client.get("/status/").status == 200
    assert time.monotonic() - started >= 0.5
    assert statuses(esi) == [404, 200]


def test_a_429_honours_retry_after_for_every_client(esi):
    store = redis_store()
    client, other = make_client(esi.base_url, store), make_client(esi.base_url, store)
    esi.faults.rate_limit_after, esi.faults.retry_after = 0, 1
    started = time.monotonic()
    assert client.get("/status/").status == 200
    assert time.monotonic() - started >= 1.0
    assert statuses(esi) == [429, 200]
    assert esi.requests[1].time - esi.requests[0].time >= 1.0
    # The pause was the group's: a second client waits it out too.
    esi.faults.rate_limit_after = 0
    with pytest.raises(EsiRateLimited):
        make_client(esi.base_url, store, max_pause=0.0).get("/status/")
    started = time.monotonic()
    assert other.get("/status/").status == 200
    assert time.monotonic() - started >= 0.9
    assert statuses(esi) == [429, 200, 429, 200]


def test_a_low_token_bucket_pauses_before_esi_says_429(esi):
    esi.faults.ratelimit_tokens, esi.faults.ratelimit_window = 20, 1.0
    sleep = RecordingSleep()
    client = make_client(esi.base_url, redis_store(), ratelimit_floor=0.5, sleep=sleep)
    for _ in range(14):
        assert client.get("/status/").status == 200
    assert 429 not in statuses(esi)
    assert sum(sleep.calls) > 0.2
    group = client.status()["limits"]["groups"]["status"]
    assert group["limit"] == 20 and group["window"] == 1.0 and group["used"] == 2


def test_last_modified_drift_is_refetched(esi):
    client = make_client(esi.base_url, redis_store())
    esi.faults.drift_pages = {3}
    result = client.get_pages(ORDERS_PATH, params=ALL, unique_key="order_id")
    assert result.attempts == 2
    assert len({p.last_modified for p in result.pages}) == 1
    assert len(esi.requests) == 16


def test_drift_that_never_settles_is_inconsistent(esi):
    client = make_client(esi.base_url, redis_store())
    esi.faults.drift_pages, esi.faults.drift_always = {2}, True
    with pytest.raises(EsiInconsistent, match="Last-Modified"):
        client.get_pages(ORDERS_PATH, params=ALL, max_attempts=3)
    assert len(esi.requests) == 3 * 8


def test_duplicate_keys_are_inconsistent(esi):
    client = make_client(esi.base_url, redis_store())
    esi.faults.duplicate_orders = True
    with pytest.raises(EsiInconsistent, match="order_id 6000000000 appears on pages 1 and 8"):
        client.get_pages(ORDERS_PATH, params=ALL, unique_key="order_id", max_attempts=2)
    assert len(esi.requests) == 2 * 8
    # Without a unique key nobody asked: the set is taken as it is.
    assert client.get_pages(ORDERS_PATH, params=ALL).attempts == 1


def test_x_pages_changing_is_refetched_or_inconsistent(esi):
    client = make_client(esi.base_url, redis_store())
    esi.faults.x_pages_change = 9
    with pytest.raises(EsiInconsistent, match="X-Pages changed from 8 to 9"):
        client.get_pages(ORDERS_PATH, params=ALL)

    def settle(done: int, total: int) -> None:
        if done == total:
            esi.faults.x_pages_change = None

    result = client.get_pages(ORDERS_PATH, params=ALL, progress=settle)
    assert result.attempts == 2


def test_a_book_that_shrinks_mid_fetch_is_refetched(esi):
    client = make_client(esi.base_url, redis_store(), max_concurrency=2)

    def shrink(done: int, total: int) -> None:
        if done == 1 and total == 8:
            esi.set_orders(REGION, book(250))  # 3 pages, a new Last-Modified

    result = client.get_pages(ORDERS_PATH, params=ALL, unique_key="order_id", progress=shrink)
    assert result.attempts == 2
    assert len(result.pages) == 3
    assert sum(len(p.data) for p in result.pages) == 250


def test_truncated_json_is_retried_once_then_a_bad_response(esi):
    client = make_client(esi.base_url, redis_store(), max_retries=3)
    esi.faults.truncate_pages = {1}
    assert len(client.get(ORDERS_PATH, params=ALL).data) == 100
    assert statuses(esi) == [200, 200]
    esi.faults.truncate_pages, esi.faults.truncate_always = {2}, True
    before = len(esi.requests)
    with pytest.raises(EsiBadResponse, match="invalid JSON"):
        client.get_pages(ORDERS_PATH, params=ALL)
    page_2 = [r for r in esi.requests[before:] if r.query.get("page") == "2"]
    assert len(page_2) == 2
    assert client.status()["breaker"]["state"] == "closed"


def test_a_hanging_page_times_out_and_is_retried(esi):
    esi.faults.hang_pages, esi.faults.hang_seconds = {4}, 2.0
    client = make_client(esi.base_url, redis_store(), timeout=0.3)
    started = time.monotonic()
    result = client.get_pages(ORDERS_PATH, params=ALL, unique_key="order_id")
    assert time.monotonic() - started < 1.5
    assert len(result.pages) == 8
    assert [r.query["page"] for r in esi.requests].count("4") == 2


def test_unreachable_esi_opens_the_circuit_then_a_probe_closes_it(esi, any_store):
    client = make_client(esi.base_url, any_store, max_retries=1, circuit_failures=3)
    other = make_client(esi.base_url, any_store)
    esi.faults.unreachable = True
    for _ in range(3):
        with pytest.raises(EsiUnavailable, match="connection failed"):
            client.get("/status/")
    assert len(esi.requests) == 6  # each call: one try and one retry
    state = client.status()["breaker"]
    assert state["state"] == "open" and state["failures"] == 3
    # Open: every client fails fast, nothing is sent.
    for caller in (client, other):
        with pytest.raises(EsiCircuitOpen) as caught:
            caller.get_pages(ORDERS_PATH, params=ALL)
        assert caught.value.retry_at == state["retry_at"]
    assert len(esi.requests) == 6
    # Half-open after the reset time: one probe, a single attempt; it fails and re-opens.
    time.sleep(0.55)
    assert other.status()["breaker"]["state"] == "half_open"
    with pytest.raises(EsiUnavailable):
        other.get("/status/")
    assert len(esi.requests) == 7
    assert client.status()["breaker"]["state"] == "open"
    # ESI is back: the next probe succeeds and closes the circuit for everyone.
    esi.faults.unreachable = False
    time.sleep(0.55)
    assert client.get("/status/").status == 200
    assert other.status()["breaker"] == {
        "state": "closed",
        "failures": 0,
        "opened_at": None,
        "retry_at": None,
    }
    assert other.get_pages(ORDERS_PATH, params=ALL).attempts == 1


def test_nothing_is_sent_in_the_downtime_window(esi):
    now = datetime.now(UTC)
    window = f"{(now - timedelta(minutes=1)):%H:%M}-{(now + timedelta(minutes=2)):%H:%M}"
    client = make_client(esi.base_url, redis_store(), downtime=window)
    for call in (
        lambda: client.get("/status/"),
        lambda: client.get_cached("/markets/prices/"),
        lambda: client.get_pages(ORDERS_PATH, params=ALL),
    ):
        with pytest.raises(EsiDowntime) as caught:
            call()
        assert caught.value.resume_at > now
    assert esi.requests == []


def test_status_for_the_status_page(esi):
    # A window twelve hours away, so the test passes at any time of day.
    far = datetime.now(UTC) + timedelta(hours=12)
    window = f"{far:%H:%M}-{far + timedelta(minutes=15):%H:%M}"
    client = make_client(esi.base_url, redis_store(), downtime=window)
    client.get(ORDERS_PATH, params=ALL)
    status = client.status()
    assert status["breaker"]["state"] == "closed"
    assert status["limits"]["error_limit"]["remain"] == 100
    assert status["limits"]["error_limit"]["reset_at"] > datetime.now(UTC)
    assert status["limits"]["groups"]["market-order"] == {
        "limit": 12000,
        "window": 900.0,
        "remaining": 11998,
        "used": 2,
        "paused_until": None,
    }
    assert status["limits"]["paused_until"] is None
    assert status["downtime"]["window"] == f"{window} UTC"
