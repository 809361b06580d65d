"""The ESI stand-in over real HTTP: ESI's headers and caching, every fault, the request log."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from standin import EsiStandIn, Faults, RequestRecord
from tests.conftest import ensure_sde

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "standin" / "data"
FORGE, DOMAIN, HEIMATAR = 10000002, 10000043, 10000030
ORDERS = "/markets/{}/orders/"


@pytest.fixture(scope="module", autouse=True)
def _sde() -> None:
    ensure_sde()


@pytest.fixture
def esi() -> Iterator[EsiStandIn]:
    with EsiStandIn(page_size=1000) as server:
        server.generate(FORGE, 2_500)  # three pages: 1000, 1000, 500
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(
    http: requests.Session, esi: EsiStandIn, path: str, timeout: float = 10, **params: Any
) -> requests.Response:
    headers = params.pop("headers", None)
    return http.get(esi.base_url + path, params=params, headers=headers, timeout=timeout)


def page(http: requests.Session, esi: EsiStandIn, n: int, **kw: Any) -> requests.Response:
    return get(http, esi, ORDERS.format(FORGE), page=n, **kw)


def when(header: str) -> datetime:
    return parsedate_to_datetime(header)


# --- Pagination and ESI's headers -----------------------------------------------------------


def test_pages_hold_the_whole_book_in_order_id_order(
    esi: EsiStandIn, http: requests.Session
) -> None:
    fetched = []
    for n in (1, 2, 3):
        reply = page(http, esi, n, order_type="all", datasource="tranquility")
        assert reply.status_code == 200
        assert reply.headers["X-Pages"] == "3"
        fetched += reply.json()
    assert [len(chunk) for chunk in (fetched[:1000], fetched[1000:2000], fetched[2000:])] == [
        1000,
        1000,
        500,
    ]
    assert fetched == esi.orders(FORGE)
    ids = [o["order_id"] for o in fetched]
    assert ids == sorted(ids) and len(set(ids)) == 2_500
    assert esi.x_pages(FORGE) == 3
    # No page parameter means page 1; the legacy /latest prefix and no trailing slash work.
    assert get(http, esi, ORDERS.format(FORGE)).json() == fetched[:1000]
    assert get(http, esi, f"/latest/markets/{FORGE}/orders").json() == fetched[:1000]


def test_bad_pages_are_refused(esi: EsiStandIn, http: requests.Session) -> None:
    beyond = page(http, esi, 4)
    assert beyond.status_code == 404
    assert beyond.json() == {"error": "Requested page does not exist!"}
    for bad in ("0", "-1", "two"):
        reply = page(http, esi, bad)  # type: ignore[arg-type]
        assert reply.status_code == 400
        assert set(reply.json()) == {"error"}
    assert get(http, esi, ORDERS.format(FORGE), order_type="both").status_code == 400


def test_headers_are_esi_s(esi: EsiStandIn, http: requests.Session) -> None:
    reply = page(http, esi, 1)
    h = reply.headers
    assert h["Content-Type"] == "application/json; charset=UTF-8"
    assert int(h["Content-Length"]) == len(reply.content)
    assert h["Cache-Control"] == "public"
    assert h["ETag"].startswith('"') and h["ETag"].endswith('"') and len(h["ETag"]) > 10
    assert h["Expires"].endswith(" GMT") and h["Last-Modified"].endswith(" GMT")
    assert when(h["Expires"]) - when(h["Last-Modified"]) == timedelta(seconds=300)
    assert abs(when(h["Last-Modified"]) - datetime.now(UTC)) < timedelta(seconds=10)
    assert h["X-ESI-Error-Limit-Remain"] == "100"
    assert 0 < int(h["X-ESI-Error-Limit-Reset"]) <= 60
    assert h["X-Ratelimit-Group"] == "market-order"
    assert h["X-Ratelimit-Limit"] == "12000/15m"
    assert h["X-Ratelimit-Used"] == "2"
    assert h["X-Ratelimit-Remaining"] == "11998"


def test_every_page_shares_last_modified_but_has_its_own_etag(
    esi: EsiStandIn, http: requests.Session
) -> None:
    replies = [page(http, esi, n) for n in (1, 2, 3)]
    assert len({r.headers["Last-Modified"] for r in replies}) == 1
    assert len({r.headers["Expires"] for r in replies}) == 1
    assert len({r.headers["ETag"] for r in replies}) == 3


def test_token_costs_200_304_and_4xx(esi: EsiStandIn, http: requests.Session) -> None:
    first = page(http, esi, 1)
    cached = page(http, esi, 1, headers={"If-None-Match": first.headers["ETag"]})
    missing = page(http, esi, 9)
    assert [r.headers["X-Ratelimit-Used"] for r in (first, cached, missing)] == ["2", "1", "5"]
    assert [int(r.headers["X-Ratelimit-Remaining"]) for r in (first, cached, missing)] == [
        11998,
        11997,
        11992,
    ]
    # Routes outside the group neither carry nor spend market-order tokens.
    history = get(http, esi, f"/markets/{FORGE}/history/", type_id=34)
    assert "X-Ratelimit-Group" not in history.headers
    assert get(http, esi, "/status/").headers["X-Ratelimit-Group"] == "status"


def test_if_none_match_gets_a_bodyless_304(esi: EsiStandIn, http: requests.Session) -> None:
    first = page(http, esi, 2)
    again = page(http, esi, 2, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    for name in ("ETag", "Expires", "Last-Modified", "X-ESI-Error-Limit-Remain"):
        assert again.headers[name] == first.headers[name]
    other = page(http, esi, 3, headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_touch_and_set_orders_start_a_new_cache_generation(
    esi: EsiStandIn, http: requests.Session
) -> None:
    first = page(http, esi, 1)
    esi.touch(FORGE)
    touched = page(http, esi, 1, headers={"If-None-Match": first.headers["ETag"]})
    assert touched.status_code == 200
    assert touched.json() == first.json()
    assert touched.headers["ETag"] != first.headers["ETag"]
    assert when(touched.headers["Last-Modified"]) > when(first.headers["Last-Modified"])
    moment = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    esi.set_orders(FORGE, esi.orders(FORGE)[:10], last_modified=moment)
    replaced = page(http, esi, 1)
    assert replaced.headers["X-Pages"] == "1"
    assert len(replaced.json()) == 10
    assert replaced.headers["Last-Modified"] == "Fri, 02 Jan 2026 03:04:05 GMT"


def test_expired_book_rolls_into_a_new_cache_window(http: requests.Session) -> None:
    with EsiStandIn(expires_in=1.0, sample_data=False) as esi:
        esi.generate(FORGE, 50)
        first = page(http, esi, 1)
        time.sleep(1.6)
        later = page(http, esi, 1, headers={"If-None-Match": first.headers["ETag"]})
        assert later.status_code == 304  # nothing changed: the same ETag revalidates
        assert later.headers["Last-Modified"] == first.headers["Last-Modified"]
        assert when(later.headers["Expires"]) > when(first.headers["Expires"])
        assert when(later.headers["Expires"]) >= datetime.now(UTC).replace(microsecond=0)


def test_filters_by_side_and_type(esi: EsiStandIn, http: requests.Session) -> None:
    book = esi.orders(FORGE)
    buys = get(http, esi, ORDERS.format(FORGE), order_type="buy").json()
    assert buys == [o for o in book if o["is_buy_order"]][:1000]
    type_id = book[0]["type_id"]
    sells = get(http, esi, ORDERS.format(FORGE), order_type="sell", type_id=type_id).json()
    assert sells == [o for o in book if o["type_id"] == type_id and not o["is_buy_order"]]


def test_regions(esi: EsiStandIn, http: requests.Session) -> None:
    unknown = get(http, esi, ORDERS.format(12345))
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Region not found"}
    wormhole = get(http, esi, ORDERS.format(11000001))
    assert wormhole.status_code == 404
    empty = get(http, esi, ORDERS.format(HEIMATAR))
    assert empty.status_code == 200
    assert empty.json() == []
    assert empty.headers["X-Pages"] == "1"


def test_real_samples_seed_the_forge_and_domain(http: requests.Session) -> None:
    forge = json.loads(
        (
            DATA / "markets_orders" / f"markets_{FORGE}_orders_types_34133_40519_2025Q1.json"
        ).read_text()
    )
    with EsiStandIn() as esi:
        served = get(http, esi, ORDERS.format(FORGE)).json()
        assert served == sorted(forge, key=lambda o: o["order_id"])
        assert any(o["location_id"] > 1_000_000_000_000 for o in served)
        assert len(get(http, esi, ORDERS.format(DOMAIN)).json()) == 107
    with EsiStandIn(sample_data=False) as bare:
        assert get(http, bare, ORDERS.format(FORGE)).json() == []


# --- Faults ----------------------------------------------------------------------------------


def test_fail_next_gives_a_5xx_burst_then_recovers(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.fail_next = 3
    replies = [page(http, esi, 1) for _ in range(4)]
    assert [r.status_code for r in replies] == [503, 503, 503, 200]
    assert replies[0].json() == {"error": "The datasource tranquility is temporarily unavailable"}
    assert [r.headers["X-ESI-Error-Limit-Remain"] for r in replies] == ["99", "98", "97", "97"]
    assert esi.faults.fail_next == 0
    esi.faults.fail_status, esi.faults.fail_next = 504, 1
    assert get(http, esi, "/status/").status_code == 504  # any route


def test_error_limit_at_zero_answers_420_until_the_window_resets(
    esi: EsiStandIn, http: requests.Session
) -> None:
    esi.faults.error_limit_remain = 2
    esi.faults.error_limit_window = 1.5
    esi.faults.fail_next = 2
    assert [page(http, esi, 1).status_code for _ in range(2)] == [503, 503]
    limited = get(http, esi, "/status/")
    assert limited.status_code == 420
    assert "error limit" in limited.json()["error"]
    assert limited.headers["X-ESI-Error-Limit-Remain"] == "0"
    reset = int(limited.headers["X-ESI-Error-Limit-Reset"])
    assert 0 <= reset <= 2
    assert page(http, esi, 2).status_code == 420  # every route
    time.sleep(1.6)
    back = page(http, esi, 1)
    assert back.status_code == 200
    assert back.headers["X-ESI-Error-Limit-Remain"] == "100"


def test_rate_limit_after_gives_one_429_with_retry_after(
    esi: EsiStandIn, http: requests.Session
) -> None:
    esi.faults.rate_limit_after = 2
    esi.faults.retry_after = 7
    replies = [page(http, esi, 1) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 429, 200]
    assert replies[2].headers["Retry-After"] == "7"
    assert "Retry-After" not in replies[3].headers
    assert esi.faults.rate_limit_after is None


def test_an_empty_token_bucket_answers_429(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.ratelimit_tokens = 6
    assert [page(http, esi, n).status_code for n in (1, 2, 3)] == [200, 200, 200]
    refused = page(http, esi, 1)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert refused.headers["X-Ratelimit-Remaining"] == "0"
    assert get(http, esi, "/status/").status_code == 200  # another group, another bucket


def test_drift_pages_come_from_another_cache_generation_once(
    esi: EsiStandIn, http: requests.Session
) -> None:
    esi.faults.drift_pages = {2}
    stamps = [page(http, esi, n).headers["Last-Modified"] for n in (1, 2, 3)]
    assert stamps[0] == stamps[2] != stamps[1]
    assert when(stamps[1]) > when(stamps[0])
    assert page(http, esi, 2).headers["Last-Modified"] == stamps[0]  # once only
    assert esi.faults.drift_pages == set()


def test_drift_always_never_settles(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.drift_pages = {3}
    esi.faults.drift_always = True
    base = page(http, esi, 1).headers["Last-Modified"]
    assert all(page(http, esi, 3).headers["Last-Modified"] != base for _ in range(3))


def test_duplicate_orders_repeat_a_page_one_order_on_the_last_page(
    esi: EsiStandIn, http: requests.Session
) -> None:
    esi.faults.duplicate_orders = True
    first = {o["order_id"] for o in page(http, esi, 1).json()}
    last = {o["order_id"] for o in page(http, esi, 3).json()}
    assert first & last
    middle = {o["order_id"] for o in page(http, esi, 2).json()}
    assert not first & middle


def test_truncated_pages_fail_to_parse_once(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.truncate_pages = {2}
    cut = page(http, esi, 2)
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert len(page(http, esi, 2).json()) == 1000


def test_truncate_always(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.truncate_pages = {1}
    esi.faults.truncate_always = True
    for _ in range(2):
        with pytest.raises(json.JSONDecodeError):
            json.loads(page(http, esi, 1).content)


def test_x_pages_change_mid_fetch(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.x_pages_change = 5
    assert page(http, esi, 1).headers["X-Pages"] == "3"
    assert page(http, esi, 2).headers["X-Pages"] == "5"
    assert page(http, esi, 4).status_code == 404


def test_hanging_page_times_the_client_out_once(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.hang_pages = {2}
    esi.faults.hang_seconds = 0.5
    with pytest.raises(requests.Timeout):
        page(http, esi, 2, timeout=0.2)
    started = time.perf_counter()
    assert page(http, esi, 2, timeout=5).status_code == 200
    assert time.perf_counter() - started < 0.4
    assert esi.faults.hang_pages == set()


def test_page_latency(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.page_latency = 0.3
    started = time.perf_counter()
    page(http, esi, 1)
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    get(http, esi, "/status/")
    assert time.perf_counter() - started < 0.3  # only orders pages are slow


def test_unreachable_drops_connections(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.unreachable = True
    with pytest.raises(requests.ConnectionError):
        page(http, esi, 1)
    assert esi.requests[-1].status == 0
    esi.faults.unreachable = False
    assert page(http, esi, 1).status_code == 200


def test_faults_can_be_replaced_whole(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults = Faults(fail_next=1, fail_status=502)
    assert page(http, esi, 1).status_code == 502
    assert page(http, esi, 1).status_code == 200


# --- The request log and the other routes ------------------------------------------------------


def test_request_log(esi: EsiStandIn, http: requests.Session) -> None:
    before = time.time()
    page(http, esi, 2, order_type="sell", headers={"X-Compatibility-Date": "2026-08-04"})
    get(http, esi, "/nowhere")
    orders, nowhere = esi.requests[-2:]
    assert isinstance(orders, RequestRecord)
    assert (orders.method, orders.path, orders.status) == ("GET", ORDERS.format(FORGE), 200)
    assert orders.query == {"page": "2", "order_type": "sell"}
    assert orders.headers["x-compatibility-date"] == "2026-08-04"
    assert orders.headers["User-Agent"].startswith("python-requests")
    assert before <= orders.time <= nowhere.time <= time.time()
    assert (nowhere.path, nowhere.status) == ("/nowhere", 404)


def test_request_log_can_keep_only_the_newest(esi: EsiStandIn, http: requests.Session) -> None:
    esi.max_logged = 3
    for n in (1, 2, 3, 1, 2):
        page(http, esi, n)
    assert [r.query["page"] for r in esi.requests] == ["3", "1", "2"]


def test_unknown_routes_and_methods(esi: EsiStandIn, http: requests.Session) -> None:
    missing = get(http, esi, "/universe/types/")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found"}
    assert missing.headers["X-ESI-Error-Limit-Remain"] == "99"
    posted = http.post(esi.base_url + ORDERS.format(FORGE), timeout=5)
    assert posted.status_code == 405


def test_history(esi: EsiStandIn, http: requests.Session) -> None:
    reply = get(http, esi, f"/markets/{FORGE}/history/", type_id=34)
    rows = reply.json()
    assert reply.status_code == 200
    assert len(rows) > 300
    assert list(rows[0]) == ["average", "date", "highest", "lowest", "order_count", "volume"]
    assert get(http, esi, f"/markets/{FORGE}/history/", type_id=34).json() == rows
    expires = when(reply.headers["Expires"])
    assert (expires.hour, expires.minute) == (11, 5)
    assert datetime.now(UTC) < expires <= datetime.now(UTC) + timedelta(days=1)
    assert when(reply.headers["Last-Modified"]) == expires - timedelta(days=1)
    etag = {"If-None-Match": reply.headers["ETag"]}
    cached = get(http, esi, f"/markets/{FORGE}/history/", type_id=34, headers=etag)
    assert cached.status_code == 304


def test_history_follows_the_book(esi: EsiStandIn, http: requests.Session) -> None:
    template = esi.orders(FORGE)[0]
    bid = {**template, "order_id": 1, "type_id": 34, "is_buy_order": True, "price": 9.0}
    ask = {**template, "order_id": 2, "type_id": 34, "is_buy_order": False, "price": 11.0}
    esi.set_orders(DOMAIN, [bid, ask])
    rows = get(http, esi, f"/markets/{DOMAIN}/history/", type_id=34).json()
    assert rows[-1]["average"] == pytest.approx(10.0, rel=0.01)


def test_history_errors_and_overrides(esi: EsiStandIn, http: requests.Session) -> None:
    history = f"/markets/{FORGE}/history/"
    assert get(http, esi, history).status_code == 400
    assert get(http, esi, history, type_id="tritanium").status_code == 400
    unknown_type = get(http, esi, history, type_id=999_999_999)
    assert unknown_type.status_code == 404
    assert unknown_type.json() == {"error": "Type not found"}
    assert get(http, esi, "/markets/12345/history/", type_id=34).status_code == 404
    row = {"average": 5.0, "date": "2026-01-01", "highest": 6.0, "lowest": 4.0}
    rows = [{**row, "order_count": 3, "volume": 10}]
    esi.set_history(FORGE, 34, rows)
    assert get(http, esi, history, type_id=34).json() == rows


def test_prices(esi: EsiStandIn, http: requests.Session) -> None:
    rows = get(http, esi, "/markets/prices/").json()
    by_type = {r["type_id"]: r for r in rows}
    assert [r["type_id"] for r in rows] == sorted(by_type)
    assert {o["type_id"] for o in esi.orders(FORGE)} <= set(by_type)
    assert by_type[34] == {
        "adjusted_price": 3.1582815355153264,
        "average_price": 4.06,
        "type_id": 34,
    }
    assert all(set(r) == {"adjusted_price", "average_price", "type_id"} for r in rows)
    assert all(r["average_price"] > 0 and r["adjusted_price"] > 0 for r in rows)
    esi.set_prices([{"type_id": 1, "average_price": 2.0, "adjusted_price": 3.0}])
    assert get(http, esi, "/markets/prices/").json() == [
        {"type_id": 1, "average_price": 2.0, "adjusted_price": 3.0}
    ]


def test_types(esi: EsiStandIn, http: requests.Session) -> None:
    reply = get(http, esi, f"/markets/{FORGE}/types/")
    expected = sorted({o["type_id"] for o in esi.orders(FORGE)})
    assert reply.headers["X-Pages"] == str(math.ceil(len(expected) / 1000))
    assert reply.json() == expected[:1000]
    assert get(http, esi, "/markets/12345/types/").status_code == 404


def test_status_and_meta_status(esi: EsiStandIn, http: requests.Session) -> None:
    status = get(http, esi, "/status/").json()
    assert set(status) == {"players", "server_version", "start_time"}
    started = datetime.strptime(status["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(0) < datetime.now(UTC) - started < timedelta(days=1)
    meta = get(http, esi, "/meta/status")
    assert meta.json() == json.loads((DATA / "meta" / "meta_status.json").read_text())


# --- Serving at scale ----------------------------------------------------------------------


def test_sixteen_concurrent_clients(esi: EsiStandIn) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            for n in (1, 2, 3):
                status = page(session, esi, n).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [200] * 48


def test_stop_closes_the_port(http: requests.Session) -> None:
    esi = EsiStandIn(sample_data=False).start()
    assert get(http, esi, "/status/").status_code == 200
    esi.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(esi.base_url + "/status/", timeout=2)


def test_serving_a_forge_size_book(http: requests.Session) -> None:
    with EsiStandIn(sample_data=False) as esi:
        started = time.perf_counter()
        esi.generate(FORGE, 385_000)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        pages = int(page(http, esi, 1).headers["X-Pages"])
        total = sum(len(page(http, esi, n).content) for n in range(1, pages + 1))
        served = time.perf_counter() - started
    print(
        f"\n385,000 orders: generated and serialised in {generated:.2f} s; "
        f"{pages} pages ({total / 1e6:.0f} MB) served sequentially in {served:.2f} s"
    )
    assert pages == 385
    assert served < 60


def test_command_line_serves_generated_books_until_interrupted(http: requests.Session) -> None:
    command = [sys.executable, "-m", "standin", "--port", "0", "--orders", "3000"]
    command += ["--regions", f"{FORGE},{HEIMATAR}", "--page-latency", "0.01"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("http://"):
                break
        base_url = lines[-1].strip()
        assert f"region {FORGE}: 3,215 orders, 4 pages" in lines[0]  # with the 215 samples
        assert f"region {HEIMATAR}: 600 orders, 1 pages" in lines[1]
        reply = http.get(base_url + ORDERS.format(FORGE), params={"page": 4}, timeout=10)
        assert reply.status_code == 200
        assert len(reply.json()) == 215
        assert len(http.get(base_url + ORDERS.format(HEIMATAR), timeout=10).json()) == 600
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
