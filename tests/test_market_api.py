"""The market API over the ESI stand-in: order books, comparison, history, prices, status and
refresh; every error is JSON with a message, and every answer matches the OpenAPI schema."""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from market import publish
from market.hubs import HUB_STATIONS
from market.refresh import refresh_region
from standin.esi import EsiStandIn
from store import get_store
from tests.market_env import DOMAIN, FORGE
from tests.schema_check import validator

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

JITA_4_4 = HUB_STATIONS[FORGE]
DERELIK = 10000001  # a real region, not tracked in these tests
TRITANIUM = 34
BIG = 2**63 - 1


def get(client, url: str, **params: Any):
    return client.get(url, params, HTTP_ACCEPT="application/json")


def orders_url(region_id: int, type_id: int) -> str:
    return f"/api/v1/market/orders/{region_id}/{type_id}"


def book(esi: EsiStandIn, region_id: int, type_id: int) -> list[dict[str, Any]]:
    return [o for o in esi.orders(region_id) if o["type_id"] == type_id]


def busiest_type(esi: EsiStandIn, region_id: int) -> int:
    """The type with the most orders in the stand-in's book of the region."""
    counts = Counter(o["type_id"] for o in esi.orders(region_id))
    return counts.most_common(1)[0][0]


def common_type(esi: EsiStandIn) -> int:
    """A type with buy and sell orders at both hubs (the busiest such type)."""
    counts: Counter[int] = Counter()
    for region_id in (FORGE, DOMAIN):
        hub = HUB_STATIONS[region_id]
        sides = {(o["type_id"], o["is_buy_order"]) for o in esi.orders(region_id)}
        at_hub = {o["type_id"] for o in esi.orders(region_id) if o["location_id"] == hub}
        for type_id in at_hub:
            if (type_id, True) in sides and (type_id, False) in sides:
                counts[type_id] += 1
    both = [t for t, n in counts.items() if n == 2]
    assert both, "the stand-in's books share no liquid type"
    return max(both, key=lambda t: len(book(esi, FORGE, t)) + len(book(esi, DOMAIN, t)))


@pytest.fixture
def published(market: EsiStandIn) -> EsiStandIn:
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    return market


# --- Orders --------------------------------------------------------------------------------


def test_orders_are_sorted_and_match_the_book(client, published):
    type_id = busiest_type(published, FORGE)
    expected = book(published, FORGE, type_id)
    body = get(client, orders_url(FORGE, type_id), limit=5000).json()
    assert body["region_id"] == FORGE
    assert body["type_id"] == type_id
    assert body["type_name"]
    buys, sells = body["buy"]["orders"], body["sell"]["orders"]
    buy_prices = [o["price"] for o in buys]
    sell_prices = [o["price"] for o in sells]
    assert buy_prices == sorted(buy_prices, reverse=True)
    assert sell_prices == sorted(sell_prices)
    for side, is_buy in ((body["buy"], True), (body["sell"], False)):
        rows = [o for o in expected if o["is_buy_order"] is is_buy]
        assert side["total_orders"] == len(rows) == len(side["orders"])
        assert side["total_volume"] == sum(o["volume_remain"] for o in rows)
        by_id = {o["order_id"]: o for o in rows}
        for order in side["orders"]:
            name = order.pop("location_name")
            assert order == by_id[order["order_id"]]
            if order["location_id"] == JITA_4_4:
                assert name == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"


def test_orders_filter_by_station_and_side_and_cap_by_limit(client, published):
    type_id = busiest_type(published, FORGE)
    at_hub = [o for o in book(published, FORGE, type_id) if o["location_id"] == JITA_4_4]
    body = get(client, orders_url(FORGE, type_id), station_id=JITA_4_4, limit=5000).json()
    # The station's own orders, plus bids placed elsewhere that reach it, marked as such
    # (the rule itself: tests/test_market_reach_book.py).
    returned = body["buy"]["orders"] + body["sell"]["orders"]
    own = [o for o in returned if not o["elsewhere"]]
    assert {o["location_id"] for o in own} == {JITA_4_4}
    assert sorted(o["order_id"] for o in own) == sorted(o["order_id"] for o in at_hub)
    far = [o for o in returned if o["elsewhere"]]
    assert all(o["is_buy_order"] and o["location_id"] != JITA_4_4 for o in far)
    assert all(o["range"] != "station" for o in far)
    assert body["buy"]["elsewhere_orders"] == len(far)

    full = get(client, orders_url(FORGE, type_id), limit=5000).json()
    capped = get(client, orders_url(FORGE, type_id), limit=1).json()
    for side in ("buy", "sell"):
        assert capped[side]["orders"] == full[side]["orders"][:1]
        assert capped[side]["total_orders"] == full[side]["total_orders"] > 1

    buys = get(client, orders_url(FORGE, type_id), order_type="buy").json()
    assert "sell" not in buys
    assert buys["buy"]["orders"]
    assert all(o["is_buy_order"] for o in buys["buy"]["orders"])
    sells = get(client, orders_url(FORGE, type_id), order_type="sell").json()
    assert "buy" not in sells
    assert not any(o["is_buy_order"] for o in sells["sell"]["orders"])


def test_every_orders_answer_names_its_snapshot(client, published):
    body = get(client, orders_url(FORGE, TRITANIUM)).json()
    snapshot = body["snapshot"]
    assert set(snapshot) == {
        "region_id",
        "generation",
        "source",
        "esi_last_modified",
        "esi_expires",
        "fetched_at",
        "age_seconds",
        "stale",
        "pages",
        "orders",
    }
    assert snapshot["region_id"] == FORGE
    assert snapshot["generation"] == publish.current_generation(FORGE)
    assert snapshot["source"] == "esi"
    assert snapshot["orders"] == len(published.orders(FORGE))
    assert snapshot["pages"] == published.x_pages(FORGE)
    assert snapshot["stale"] is False
    assert 0 <= snapshot["age_seconds"] < 60
    assert snapshot["esi_expires"] > snapshot["esi_last_modified"]


def test_a_type_without_orders_in_the_region_is_an_empty_book(client, published):
    assert not book(published, DOMAIN, TRITANIUM)
    body = get(client, orders_url(DOMAIN, TRITANIUM)).json()
    assert body["type_name"] == "Tritanium"
    for side in ("buy", "sell"):
        assert body[side] == {"total_orders": 0, "total_volume": 0, "orders": []}


def test_repeated_answers_agree_with_the_selector(client, published):
    """The API answers what the pages' selector computes, however often it is asked."""
    from market import selectors

    type_id = busiest_type(published, FORGE)
    first = get(client, orders_url(FORGE, type_id), limit=3).json()
    second = get(client, orders_url(FORGE, type_id), limit=3).json()
    direct = selectors.type_orders(FORGE, type_id, limit=3)
    for answer in (first, second, direct):
        answer["snapshot"].pop("age_seconds")
    assert first == second == direct


def test_repeated_answers_are_the_bytes_the_api_view_renders(client, published):
    """Plain JSON GETs come from rendered bytes; any other Accept (or ?format=json) goes
    through the DRF view: both give the same bytes and headers (age_seconds aside)."""
    type_id = busiest_type(published, FORGE)
    url = orders_url(FORGE, type_id)
    plain = [client.get(url, {"limit": 7}, HTTP_ACCEPT=accept) for accept in ("", "*/*")]
    plain.append(client.get(url, {"limit": 7}))
    through_drf = [
        client.get(url, {"limit": 7}, HTTP_ACCEPT="application/json, */*;q=0.1"),
        client.get(url, {"limit": 7, "format": "json"}),
    ]

    def without_age(response) -> bytes:
        return re.sub(rb'"age_seconds":\d+,', b"", response.content)

    first = plain[0]
    for response in plain + through_drf:
        assert response.status_code == 200
        assert without_age(response) == without_age(first)
        for header in ("Content-Type", "Vary", "Allow"):
            assert response[header] == first[header], header
    assert b'"age_seconds":' in first.content


@pytest.fixture
def store_reads(monkeypatch) -> list[str]:
    """The keys this process reads from the store, in order."""
    store = get_store()
    reads: list[str] = []
    real_get = store.get

    def counting_get(key: str) -> bytes | None:
        reads.append(key)
        return real_get(key)

    monkeypatch.setattr(store, "get", counting_get)
    return reads


def test_a_book_costs_at_most_one_small_store_read(client, published, store_reads, monkeypatch):
    publish.forget_loaded()  # as a web process that has not loaded the snapshot yet
    type_id = busiest_type(published, FORGE)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: get(client, orders_url(FORGE, type_id)), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert sum(":blob:" in key for key in store_reads) == 1  # loaded once, by one thread

    monkeypatch.setattr(publish, "POINTER_TTL", 0.0)
    store_reads.clear()
    get(client, orders_url(FORGE, type_id))
    get(client, orders_url(FORGE, type_id), limit=3)
    assert store_reads == [f"market:current:{FORGE}"] * 2  # the pointer, nothing else

    monkeypatch.setattr(publish, "POINTER_TTL", 60.0)
    get(client, orders_url(FORGE, type_id))
    store_reads.clear()
    for _ in range(3):
        assert get(client, orders_url(FORGE, type_id)).status_code == 200
    assert store_reads == []  # the pointer was read moments ago


def test_a_warmed_worker_answers_without_loading_a_blob(client, published, store_reads, settings):
    """gunicorn's post_worker_init warms a new worker: its first book request reads no blob."""
    publish.forget_loaded()
    publish.warm()
    assert sum(":blob:" in key for key in store_reads) == len(settings.MARKET_REGIONS)
    store_reads.clear()
    assert get(client, orders_url(FORGE, busiest_type(published, FORGE))).status_code == 200
    assert not any(":blob:" in key for key in store_reads)


def test_a_swap_by_another_process_shows_once_pointer_ttl_passed(client, published, monkeypatch):
    monkeypatch.setattr(publish, "POINTER_TTL", 60.0)
    type_id = busiest_type(published, FORGE)
    before = get(client, orders_url(FORGE, type_id)).json()["snapshot"]["generation"]
    published.generate(FORGE, 500, seed=11)
    with monkeypatch.context() as other_process:  # publishes without telling this one
        other_process.setattr(publish, "_remember", lambda *args, **kwargs: None)
        refresh_region(FORGE)
    after = publish.current_generation(FORGE)
    assert after != before
    assert get(client, orders_url(FORGE, type_id)).json()["snapshot"]["generation"] == before
    monkeypatch.setattr(publish, "POINTER_TTL", 0.0)  # as if the window had passed
    answer = get(client, orders_url(FORGE, type_id)).json()
    assert answer["snapshot"]["generation"] == after
    assert answer["snapshot"]["orders"] == 500


def test_a_meta_rewritten_elsewhere_shows_within_meta_ttl(client, published, monkeypatch):
    """Another worker's refresh that found nothing new rewrites the meta (fetched_at,
    Expires): answers show it once META_TTL has passed."""
    monkeypatch.setattr(publish, "META_TTL", 0.05)
    before = get(client, orders_url(FORGE, TRITANIUM)).json()["snapshot"]
    meta = publish.current_meta(FORGE)
    assert meta is not None
    rewritten = {**meta.to_json(), "fetched_at": "2030-01-01T00:00:00+00:00"}
    get_store().set_json(f"market:meta:{FORGE}:{meta.generation}", rewritten)
    time.sleep(0.1)
    after = get(client, orders_url(FORGE, TRITANIUM)).json()["snapshot"]
    assert after["generation"] == before["generation"]
    assert after["fetched_at"] == "2030-01-01T00:00:00+00:00"
    assert after["age_seconds"] == 0  # a fetch in the future is not a negative age


def test_a_new_snapshot_is_served_at_once(client, published):
    type_id = busiest_type(published, FORGE)
    before = get(client, orders_url(FORGE, type_id)).json()
    published.generate(FORGE, 500, seed=11)
    refresh_region(FORGE)
    after = get(client, orders_url(FORGE, type_id)).json()
    assert after["snapshot"]["generation"] != before["snapshot"]["generation"]
    assert after["snapshot"]["orders"] == 500
    rows = book(published, FORGE, type_id)
    assert after["buy"]["total_orders"] == sum(o["is_buy_order"] for o in rows)
    assert after["sell"]["total_orders"] == sum(not o["is_buy_order"] for o in rows)


def test_the_browsable_api_renders_html(client, published):
    response = client.get(orders_url(FORGE, TRITANIUM), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Tritanium" in response.content


@pytest.mark.parametrize(
    ("region_id", "type_id", "words"),
    [
        (1, TRITANIUM, "No region"),
        (DERELIK, TRITANIUM, f"tracked regions: {FORGE}, {DOMAIN}"),
        (FORGE, 999999999, "No market item"),
        (FORGE, 670, "No market item"),  # the Capsule: published, never on the market
        (BIG, TRITANIUM, "No region"),
        (FORGE, BIG, "No market item"),
    ],
)
def test_unknown_regions_and_types_are_404(client, published, region_id, type_id, words):
    response = get(client, orders_url(region_id, type_id))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert words in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/market/orders/99999999999999999999/34",
        "/api/v1/market/orders/10000002/99999999999999999999",
        "/api/v1/market/orders/10000002/-34",
        "/api/v1/market/history/99999999999999999999/34",
        "/api/v1/market/prices/99999999999999999999",
    ],
)
def test_ids_that_are_not_ids_are_404(client, published, url):
    response = get(client, url)
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"order_type": "bogus"}, "order_type"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"station_id": "abc"}, "station_id"),
        ({"station_id": "0"}, "station_id"),
        ({"station_id": str(2**64)}, "station_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_order_parameters_are_400(client, published, params, field):
    for _ in range(2):  # the same answer when asked again
        response = get(client, orders_url(FORGE, TRITANIUM), **params)
        assert response.status_code == 400
        body = response.json()
        assert body["detail"]
        assert field in body["errors"]


def test_a_tracked_region_without_a_snapshot_is_503(client, market):
    refresh_region(FORGE)
    for url, params in (
        (orders_url(DOMAIN, TRITANIUM), {}),
        ("/api/v1/market/compare", {"type_id": TRITANIUM}),
    ):
        response = get(client, url, **params)
        assert response.status_code == 503
        assert response["Content-Type"].startswith("application/json")
        assert "No market snapshot" in response.json()["detail"]


# --- Compare -------------------------------------------------------------------------------


def best(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """Best bid and ask, spread, depth and counts, from raw orders."""
    buys = [o for o in orders if o["is_buy_order"]]
    sells = [o for o in orders if not o["is_buy_order"]]
    bid = max((o["price"] for o in buys), default=None)
    ask = min((o["price"] for o in sells), default=None)
    spread = ask - bid if bid is not None and ask is not None else None
    return {
        "best_bid": bid,
        "best_ask": ask,
        "spread": pytest.approx(spread) if spread is not None else None,
        "spread_percent": pytest.approx(round(spread / ask * 100, 2), abs=0.006)
        if spread is not None and ask
        else None,
        "bid_volume": sum(o["volume_remain"] for o in buys),
        "ask_volume": sum(o["volume_remain"] for o in sells),
        "bid_orders": len(buys),
        "ask_orders": len(sells),
    }


@pytest.mark.parametrize("which", ["tritanium", "common"])
def test_compare_matches_the_books_by_hand(client, published, which):
    type_id = TRITANIUM if which == "tritanium" else common_type(published)
    body = get(
        client, "/api/v1/market/compare", type_id=type_id, regions=f"{FORGE},{DOMAIN}"
    ).json()
    assert body["type_id"] == type_id
    assert [r["region_id"] for r in body["regions"]] == [FORGE, DOMAIN]
    for entry in body["regions"]:
        region_id = entry["region_id"]
        orders = book(published, region_id, type_id)
        hub = HUB_STATIONS[region_id]
        assert entry["snapshot"]["generation"] == publish.current_generation(region_id)
        assert entry["region"] == best(orders)
        hub_block = dict(entry["hub"])
        assert hub_block.pop("station_id") == hub
        assert hub_block.pop("station_name")
        assert hub_block == best([o for o in orders if o["location_id"] == hub])
    if which == "common":
        assert all(r["hub"]["best_bid"] and r["hub"]["best_ask"] for r in body["regions"])


def test_compare_without_regions_covers_every_tracked_region(client, published):
    body = get(client, "/api/v1/market/compare", type_id=TRITANIUM).json()
    assert [r["region_id"] for r in body["regions"]] == [FORGE, DOMAIN]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type_id": TRITANIUM, "regions": "forge"}, "regions"),
        ({"type_id": TRITANIUM, "regions": ",".join(str(10000001 + i) for i in range(11))}, None),
        ({"type_id": TRITANIUM, "regions": "0"}, "regions"),
        ({"type_id": TRITANIUM, "regions": f"{FORGE},-1"}, "regions"),
        ({"regions": str(FORGE)}, "type_id"),
        ({"type_id": "abc"}, "type_id"),
        ({"type_id": TRITANIUM, "region": str(FORGE)}, "region"),
    ],
)
def test_bad_compare_parameters_are_400(client, published, params, field):
    response = get(client, "/api/v1/market/compare", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert (field or "regions") in body["errors"]


@pytest.mark.parametrize(
    "params",
    [
        {"type_id": 999999999},
        {"type_id": TRITANIUM, "regions": f"{FORGE},{DERELIK}"},
        {"type_id": TRITANIUM, "regions": "1"},
    ],
)
def test_compare_with_unknown_ids_is_404(client, published, params):
    response = get(client, "/api/v1/market/compare", **params)
    assert response.status_code == 404
    assert response.json()["detail"]


# --- History and prices --------------------------------------------------------------------

HISTORY = [
    {
        "date": "2026-11-20",
        "average": 4.1,
        "highest": 4.3,
        "lowest": 3.9,
        "order_count": 1200,
        "volume": 9_000_000_000,
    },
    {
        "date": "2026-11-21",
        "average": 4.0,
        "highest": 4.2,
        "lowest": 3.8,
        "order_count": 1100,
        "volume": 8_500_000_000,
    },
]


def history_calls(esi: EsiStandIn) -> int:
    return sum(1 for r in esi.requests if "/history" in r.path)


def test_history_comes_from_esi_once_then_from_the_cache(client, market, eager_celery):
    market.set_history(FORGE, TRITANIUM, HISTORY)
    url = f"/api/v1/market/history/{FORGE}/{TRITANIUM}"
    body = get(client, url).json()
    assert body == {
        "region_id": FORGE,
        "type_id": TRITANIUM,
        "type_name": "Tritanium",
        "days": HISTORY,
    }
    assert history_calls(market) == 1
    assert get(client, url).json() == body
    assert history_calls(market) == 1  # answered from the cache: ESI said it is fresh


def test_history_of_unknown_ids_is_404_without_asking_esi(client, market):
    for url in (
        f"/api/v1/market/history/{FORGE}/999999999",
        f"/api/v1/market/history/{DERELIK}/{TRITANIUM}",
        f"/api/v1/market/history/1/{TRITANIUM}",
    ):
        response = get(client, url)
        assert response.status_code == 404
        assert response.json()["detail"]
    assert history_calls(market) == 0


def test_history_is_503_when_esi_is_unreachable_and_nothing_is_cached(client, market, eager_celery):
    market.faults.unreachable = True
    response = get(client, f"/api/v1/market/history/{FORGE}/{TRITANIUM}")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert "ESI" in response.json()["detail"]


@pytest.fixture
def queued(monkeypatch) -> list[tuple[int, int]]:
    """The history fetches queued for a worker, not run (no worker here)."""
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr("market.history.fetch_history_task.delay", lambda *a: sent.append(a))
    return sent


def test_a_history_not_cached_is_fetched_by_a_worker_while_callers_are_told_to_wait(
    client, market, queued
):
    from market.history import fetch_history_task

    market.set_history(FORGE, TRITANIUM, HISTORY)
    url = f"/api/v1/market/history/{FORGE}/{TRITANIUM}"
    for _ in range(2):
        response = get(client, url)
        assert response.status_code == 202
        assert response["Retry-After"] == "1"
        assert "being fetched from ESI" in response.json()["detail"]
    assert queued == [(FORGE, TRITANIUM)]  # one fetch for everyone who waits
    assert history_calls(market) == 0  # no request waited on ESI
    fetch_history_task(*queued[0])  # the worker
    assert get(client, url).json()["days"] == HISTORY
    assert history_calls(market) == 1


def test_a_failed_fetch_answers_the_callers_who_wait(client, market, queued):
    from market.history import fetch_history_task

    url = f"/api/v1/market/history/{FORGE}/{TRITANIUM}"
    assert get(client, url).status_code == 202
    market.faults.unreachable = True
    fetch_history_task(*queued[0])
    response = get(client, url)
    assert response.status_code == 503
    assert "ESI is unavailable" in response.json()["detail"]
    assert len(queued) == 1  # the failure answers for a while; ESI is not asked again at once


def test_a_history_that_cannot_be_queued_is_fetched_in_the_request(client, market, monkeypatch):
    def broker_down(*args):
        raise OSError("the broker cannot be reached")

    monkeypatch.setattr("market.history.fetch_history_task.delay", broker_down)
    market.set_history(FORGE, TRITANIUM, HISTORY)
    response = get(client, f"/api/v1/market/history/{FORGE}/{TRITANIUM}")
    assert response.status_code == 200
    assert response.json()["days"] == HISTORY


PRICES = [
    {"type_id": TRITANIUM, "average_price": 4.02, "adjusted_price": 3.91},
    {"type_id": 35, "average_price": 11.5},  # ESI leaves out what it does not have
]


def price_calls(esi: EsiStandIn) -> int:
    return sum(1 for r in esi.requests if r.path.rstrip("/") == "/markets/prices")


def test_prices_come_from_esi_and_are_cached_until_expires(client, market):
    market.set_prices(PRICES)
    body = get(client, f"/api/v1/market/prices/{TRITANIUM}").json()
    assert body == {
        "type_id": TRITANIUM,
        "type_name": "Tritanium",
        "average_price": 4.02,
        "adjusted_price": 3.91,
    }
    pyerite = get(client, "/api/v1/market/prices/35").json()
    assert pyerite["average_price"] == 11.5
    assert pyerite["adjusted_price"] is None
    assert price_calls(market) == 1


def test_prices_of_unknown_types_are_404(client, market):
    market.set_prices(PRICES)
    unknown = get(client, "/api/v1/market/prices/999999999")
    assert unknown.status_code == 404
    assert price_calls(market) == 0  # the SDE said no before ESI was asked
    unpriced = get(client, "/api/v1/market/prices/36")  # Mexallon: not in ESI's list
    assert unpriced.status_code == 404
    assert "no prices" in unpriced.json()["detail"]


def test_prices_are_503_when_esi_is_unreachable(client, market):
    market.faults.unreachable = True
    response = get(client, f"/api/v1/market/prices/{TRITANIUM}")
    assert response.status_code == 503
    assert response.json()["detail"]


# --- Status and refresh --------------------------------------------------------------------


def test_status_shows_every_tracked_region_and_esi(client, market):
    refresh_region(FORGE)
    body = get(client, "/api/v1/market/status").json()
    forge, domain = body["regions"]
    assert (forge["region_id"], forge["name"]) == (FORGE, "The Forge")
    assert (domain["region_id"], domain["name"]) == (DOMAIN, "Domain")
    assert forge["snapshot"]["generation"] == publish.current_generation(FORGE)
    assert forge["snapshot"]["orders"] == len(market.orders(FORGE))
    assert forge["refresh"]["last_result"] == "ok"
    assert forge["refresh"]["running"] is False
    assert forge["progress"]["state"] == "published"
    assert forge["progress"]["done"] == forge["progress"]["total"] == forge["snapshot"]["pages"]
    assert domain["snapshot"] is None
    assert domain["progress"] is None
    assert body["esi"]["breaker"]["state"] == "closed"
    assert body["esi"]["downtime"]["window"] is None  # switched off by the test settings
    assert "error_limit" in body["esi"]["limits"]


def staff_client(client, is_staff: bool = True):
    user = get_user_model().objects.create_user(
        "trader", "trader@example.com", "a long password", is_staff=is_staff
    )
    client.force_login(user)
    return client


def refresh(client, body: Any):
    return client.post(
        "/api/v1/market/refresh",
        body,
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )


def test_refresh_needs_staff(client, market, eager_celery):
    assert refresh(client, {"region_id": FORGE}).status_code in (401, 403)
    assert refresh(staff_client(client, is_staff=False), {"region_id": FORGE}).status_code == 403
    assert publish.current_generation(FORGE) is None


def test_staff_refresh_queues_the_task_and_publishes(client, market, eager_celery):
    response = refresh(staff_client(client), {"region_id": FORGE})
    assert response.status_code == 202
    assert response.json() == {"queued": FORGE}
    assert publish.current_generation(FORGE) is not None
    assert any(r.path == f"/markets/{FORGE}/orders/" for r in market.requests)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"region_id": 1}, 404),
        ({"region_id": DERELIK}, 404),
        ({}, 400),
        ({"region_id": "forge"}, 400),
        ({"region_id": 0}, 400),
        ("not json", 400),
    ],
)
def test_bad_refresh_requests(client, market, eager_celery, body, status):
    response = refresh(staff_client(client), body)
    assert response.status_code == status
    assert response.json()["detail"]
    assert publish.current_generation(FORGE) is None


# --- OpenAPI -------------------------------------------------------------------------------

MARKET_PATHS = {
    "/api/v1/market/orders/{region_id}/{type_id}": "get",
    "/api/v1/market/history/{region_id}/{type_id}": "get",
    "/api/v1/market/compare": "get",
    "/api/v1/market/prices/{type_id}": "get",
    "/api/v1/market/status": "get",
    "/api/v1/market/refresh": "post",
}


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return dict(response.json())


def test_the_schema_documents_every_market_path_with_serializers(schema):
    components = schema["components"]["schemas"]
    for path, method in MARKET_PATHS.items():
        operation = schema["paths"][path][method]
        assert operation["responses"], path
        for status, response in operation["responses"].items():
            ref = response["content"]["application/json"]["schema"]["$ref"]
            component = components[ref.rsplit("/", 1)[1]]
            assert component["properties"], (path, status)


def test_answers_match_the_schema(client, published, schema, eager_celery):
    type_id = common_type(published)
    published.set_history(FORGE, type_id, HISTORY)
    answers = [
        ("/api/v1/market/orders/{region_id}/{type_id}", orders_url(FORGE, type_id), {}),
        (
            "/api/v1/market/orders/{region_id}/{type_id}",
            orders_url(FORGE, type_id),
            {"order_type": "buy", "station_id": JITA_4_4},
        ),
        ("/api/v1/market/compare", "/api/v1/market/compare", {"type_id": type_id}),
        (
            "/api/v1/market/history/{region_id}/{type_id}",
            f"/api/v1/market/history/{FORGE}/{type_id}",
            {},
        ),
        ("/api/v1/market/prices/{type_id}", f"/api/v1/market/prices/{TRITANIUM}", {}),
        ("/api/v1/market/status", "/api/v1/market/status", {}),
    ]
    for path, url, params in answers:
        response = get(client, url, **params)
        assert response.status_code == 200, url
        validator(schema, path, "get", "200").validate(response.json())
    orders = "/api/v1/market/orders/{region_id}/{type_id}"
    errors = [
        (orders, orders_url(FORGE, 999999999), "404"),
        (orders, orders_url(FORGE, TRITANIUM) + "?limit=0", "400"),
        ("/api/v1/market/compare", "/api/v1/market/compare", "400"),
    ]
    for path, url, status in errors:
        response = client.get(url, HTTP_ACCEPT="application/json")
        assert str(response.status_code) == status, url
        validator(schema, path, "get", status).validate(response.json())
    queued = refresh(staff_client(client), {"region_id": DOMAIN})
    validator(schema, "/api/v1/market/refresh", "post", "202").validate(queued.json())


@pytest.mark.django_db(databases=["default", "sde"])
@pytest.mark.parametrize("url", ["/api/v1/market/status", "/api/v1/market/orders/10000002/34"])
def test_an_unreachable_store_is_a_503_with_a_message(client, market, store_down, url):
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 503  # never a 500
    assert response.json()["detail"]


def test_a_fresh_history_is_answered_from_memory_until_esi_would_update_it(
    client, market, eager_celery, monkeypatch
):
    import time

    from market import history

    market.set_history(FORGE, TRITANIUM, HISTORY)
    url = f"/api/v1/market/history/{FORGE}/{TRITANIUM}"
    first = get(client, url)
    reads: list[tuple[int, int]] = []
    cached_history = history.cached_history
    monkeypatch.setattr(
        history, "cached_history", lambda *a, **k: reads.append(a) or cached_history(*a, **k)
    )
    again = get(client, url)
    assert again.status_code == 200 and again.content == first.content
    assert reads == []  # not even the store was read
    # kept as long as ESI said its answer holds (its Expires), then read again
    fresh = history.fresh_for(FORGE, TRITANIUM)
    assert fresh is not None and 0 < fresh <= 86_400
    later = time.monotonic() + fresh + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert get(client, url).content == first.content
    assert reads == [(FORGE, TRITANIUM)]
