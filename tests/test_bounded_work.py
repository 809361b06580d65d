"""Bounded work per request (issue 14, item 1): the hauling place-pair cap, the row cap on
every list answer (JSON's `truncated`, the streamed CSV's last line and `X-Truncated`), the
CSV's time budget, and the heavy slots (503 with Retry-After at once while a cached answer
or an item search still answers).

The books are the generator's, published as snapshots of The Forge and Domain in an isolated
store (`market` fixture)."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from config import slots
from market import publish
from market.generator import generate_orders
from market.snapshot import Snapshot, columns_from_pages
from profit import selectors
from profit.api import renderers
from profit.api import views as api_views
from profit.api.renderers import csv_stream
from profit.volumes import forget_read
from tests.market_env import DOMAIN, FORGE
from tests.profit_books import fresh_meta

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

JITA, AMARR = 60003760, 60008494
TRITANIUM = 34
STATION_URL = "/api/v1/profit/station-trading"
HAULING_URL = "/api/v1/profit/hauling"
CALCULATE_URL = "/api/v1/profit/calculate"
SEARCH_URL = "/api/v1/items/search"
ORDERS = {FORGE: 12_000, DOMAIN: 4_000}


@functools.cache
def _orders(region_id: int) -> list[dict[str, Any]]:
    return generate_orders(region_id, ORDERS[region_id], seed=0)


def _snapshot(region_id: int) -> Snapshot:
    orders = _orders(region_id)
    meta = fresh_meta(region_id, len(orders))
    return Snapshot.build(meta, columns_from_pages([(1, orders)]))


@pytest.fixture
def books(market, settings) -> Iterator[None]:
    """Published snapshots of The Forge and Domain; one heavy slot, taken without waiting."""
    settings.PROFIT_HEAVY_SLOTS = 1
    settings.PROFIT_HEAVY_WAIT = 0.0
    settings.PROFIT_HEAVY_RETRY_AFTER = 2
    for region in ORDERS:
        publish.publish(_snapshot(region))
    selectors.computed.clear()
    forget_read()
    yield
    selectors.computed.clear()
    forget_read()


def get(client, url: str, **params: Any):
    return client.get(url, params, HTTP_ACCEPT="application/json")


def stations_with_orders(region_id: int) -> int:
    """Worked out from the generated orders themselves, not from the snapshot's summary."""
    return len({o["location_id"] for o in _orders(region_id)})


def csv_lines(response) -> list[list[str]]:
    assert response.streaming  # made as it is written, never held whole
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


# --- The place-pair cap ----------------------------------------------------------------------


def test_a_region_to_region_haul_past_the_place_pair_cap_is_a_400_naming_both(
    client, books, settings
):
    pairs = stations_with_orders(FORGE) * stations_with_orders(DOMAIN)
    assert pairs > 10_000  # every station of a region counts, not the region once
    settings.PROFIT_MAX_PLACE_PAIRS = pairs - 1
    response = get(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert f"= {pairs:,} place pairs" in detail
    assert f"at most {pairs - 1:,}" in detail
    assert "PROFIT_MAX_PLACE_PAIRS" in detail
    # the page says the same, with the form
    page = client.get("/profit/hauling/", {"from": FORGE, "to": DOMAIN})
    assert page.status_code == 400
    assert f"{pairs:,} place pairs" in page.content.decode()


def test_a_haul_at_the_cap_and_a_station_haul_are_answered(client, books, settings):
    pairs = stations_with_orders(FORGE) * stations_with_orders(DOMAIN)
    settings.PROFIT_MAX_PLACE_PAIRS = pairs
    assert get(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN}).status_code == 200
    settings.PROFIT_MAX_PLACE_PAIRS = 1  # one station to another is one pair
    assert get(client, HAULING_URL, **{"from": JITA, "to": AMARR}).status_code == 200
    # a station to a region: 1 x Domain's stations
    settings.PROFIT_MAX_PLACE_PAIRS = stations_with_orders(DOMAIN) - 1
    assert get(client, HAULING_URL, **{"from": JITA, "to": DOMAIN}).status_code == 400


def test_the_default_cap_fits_the_largest_region_to_itself(settings):
    # Lonetrek (10000016) has the most NPC stations of any region in the SDE: 449.
    assert settings.PROFIT_MAX_PLACE_PAIRS >= 449 * 449


# --- The row cap: JSON and the streamed CSV ---------------------------------------------------

HAUL = {"from": FORGE, "to": DOMAIN, "mode": "list"}


def test_a_json_answer_past_the_row_cap_offers_the_top_rows_and_says_so(client, books, settings):
    whole = get(client, HAULING_URL, **HAUL, page_size=1000).json()
    ranked = whole["count"]
    assert ranked > 10 and "truncated" not in whole
    settings.PROFIT_MAX_ROWS = 7
    response = get(client, HAULING_URL, **HAUL, page_size=5)
    body = response.json()
    assert body["count"] == 7 and body["pages"] == 2  # 7 rows, pages of 5
    assert body["truncated"]["rows"] == 7
    assert body["truncated"]["ranked"] == ranked
    assert "PROFIT_MAX_ROWS" in body["truncated"]["message"]
    assert response["X-Truncated"] == f"7/{ranked}"
    second = get(client, HAULING_URL, **HAUL, page_size=5, page=2).json()["results"]
    assert [r["type_id"] for r in second] == [r["type_id"] for r in whole["results"][5:7]]
    assert get(client, HAULING_URL, **HAUL, page_size=5, page=3).status_code == 404


def test_the_csv_of_every_row_stops_at_the_cap_with_a_last_line_and_a_header(
    client, books, settings
):
    whole = get(client, HAULING_URL, **HAUL, page_size=1000).json()
    ranked = whole["count"]
    settings.PROFIT_MAX_ROWS = 4
    response = client.get(HAULING_URL, {**HAUL, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Truncated"] == f"4/{ranked}"
    lines = csv_lines(response)
    header, rows, last = lines[0], lines[1:-1], lines[-1]
    assert len(rows) == 4
    assert [int(r[header.index("type_id")]) for r in rows] == [
        r["type_id"] for r in whole["results"][:4]
    ]
    assert last == [f"# truncated: 4 of {ranked} rows written (PROFIT_MAX_ROWS)"]


def test_a_csv_under_the_cap_is_every_row_and_nothing_more(client, books, settings):
    whole = get(client, STATION_URL, station_id=JITA, page_size=1000).json()
    response = client.get(STATION_URL, {"station_id": JITA, "format": "csv"})
    assert "X-Truncated" not in response
    lines = csv_lines(response)
    assert len(lines) == 1 + whole["count"]  # the header, then every row
    assert not any(line and line[0].startswith("# truncated") for line in lines)


def test_a_stream_past_its_time_budget_ends_after_a_chunk_with_a_line_saying_so():
    rows = ({"type_id": i, "price": 1.5} for i in range(2_500))
    text = b"".join(csv_stream(rows, ranked=2_500, deadline=time.monotonic() - 1)).decode()
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["type_id", "price"]
    assert len(lines) == 1 + 1000 + 1  # header, the first chunk, the last line
    assert lines[-1] == [
        "# truncated: 1000 of 2500 rows written "
        "(PROFIT_TIME_BUDGET: the time this export may take ran out)"
    ]


def test_the_api_csv_stops_at_its_time_budget(client, books, settings, monkeypatch):
    monkeypatch.setattr(renderers, "CHUNK", 10)  # chunks of 10 rows: a cut shows on small books
    ranked = get(client, HAULING_URL, **HAUL).json()["count"]
    assert ranked > 10
    settings.PROFIT_TIME_BUDGET = 0.0
    response = client.get(HAULING_URL, {**HAUL, "format": "csv"})
    assert "X-Truncated" not in response  # the row cap did not cut it; the clock did
    lines = csv_lines(response)
    assert len(lines) == 1 + 10 + 1  # the header, the first chunk, the last line
    assert lines[-1] == [
        f"# truncated: 10 of {ranked} rows written "
        "(PROFIT_TIME_BUDGET: the time this export may take ran out)"
    ]


# --- Heavy slots ---------------------------------------------------------------------------


@contextlib.contextmanager
def slot_held() -> Iterator[None]:
    """Another thread holds the process's only heavy slot inside the block."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with slots.heavy_slot():
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(5)
        yield
    finally:
        release.set()
        holder.join(5)


@pytest.fixture
def slot_taken(books) -> Iterator[None]:
    with slot_held():
        yield


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_heavy_request_finding_no_slot_is_a_503_at_once(client, slot_taken):
    for url, params in (
        (HAULING_URL, {"from": JITA, "to": AMARR}),
        (STATION_URL, {"station_id": JITA}),
    ):
        response, seconds = _timed(lambda u=url, p=params: get(client, u, **p))
        assert response.status_code == 503
        assert seconds < 1.0
        assert response["Retry-After"] == "2"
        detail = response.json()["detail"]
        assert "at most 1 heavy search at a time per process and it is taken" in detail
        assert "PROFIT_HEAVY_SLOTS" in detail and "Try again in 2 s" in detail
    calc = client.post(
        CALCULATE_URL,
        {"type_id": TRITANIUM, "buy_location": JITA, "sell_location": AMARR, "quantity": 10},
        content_type="application/json",
    )
    assert calc.status_code == 503 and calc["Retry-After"] == "2"


def test_a_heavy_page_finding_no_slot_is_the_refusal_page(client, slot_taken):
    for path, params in (
        ("/profit/hauling/", {"from": JITA, "to": AMARR}),
        ("/profit/station-trading/", {"station_id": JITA}),
        ("/profit/calculator/", {"type_id": TRITANIUM}),
    ):
        response, seconds = _timed(lambda p=path, q=params: client.get(p, q))
        assert response.status_code == 503, path
        assert seconds < 1.0
        assert response["Retry-After"] == "2"
        assert response["Content-Type"].startswith("text/html")
        assert "PROFIT_HEAVY_SLOTS" in response.content.decode()


def test_a_cached_answer_and_an_item_search_need_no_slot(client, books):
    kept = get(client, STATION_URL, station_id=JITA)  # computed and kept before the slot goes
    assert kept.status_code == 200
    with slot_held():
        assert get(client, HAULING_URL, **{"from": JITA, "to": AMARR}).status_code == 503
        again = get(client, STATION_URL, station_id=JITA, page=1)
        assert again.status_code == 200
        assert again.json()["results"] == kept.json()["results"]
        assert get(client, SEARCH_URL, q="tritanium").status_code == 200
    # the slot is back: the haul is answered
    assert get(client, HAULING_URL, **{"from": JITA, "to": AMARR}).status_code == 200


def test_a_long_csv_holds_a_slot_while_it_is_written(client, books, monkeypatch):
    monkeypatch.setattr(api_views, "STREAM_SLOT_ROWS", 5)  # longer than 5 rows: holds a slot
    count = get(client, HAULING_URL, **HAUL).json()["count"]  # the answer is kept now
    assert count > 5
    response = client.get(HAULING_URL, {**HAUL, "format": "csv"})
    # while the stream is unread its slot is taken: the next heavy computation is refused
    assert get(client, HAULING_URL, **{"from": JITA, "to": AMARR}).status_code == 503
    assert len(csv_lines(response)) == 1 + count  # reading it to the end gives the slot back
    assert get(client, HAULING_URL, **{"from": JITA, "to": AMARR}).status_code == 200


def test_a_long_csv_finding_no_slot_is_a_503_even_when_its_answer_is_kept(
    client, books, monkeypatch
):
    monkeypatch.setattr(api_views, "STREAM_SLOT_ROWS", 5)
    assert get(client, HAULING_URL, **HAUL).status_code == 200  # kept
    release = slots.take()
    try:
        assert get(client, HAULING_URL, **HAUL).status_code == 200  # a kept page: no slot
        refused = client.get(HAULING_URL, {**HAUL, "format": "csv"})
        assert refused.status_code == 503 and refused["Retry-After"] == "2"
        assert "PROFIT_HEAVY_SLOTS" in refused.json()["detail"]
    finally:
        release()
