"""PLEX in its own market: region 19000001, over the ESI stand-in and the market API and pages.

Since July 2025 PLEX trades only in the global PLEX market (ESI region 19000001) and the
regional books and histories no longer hold it. The site tracks that region, serves its book
and history, and answers a PLEX question asked of a hub region with a message that says
where PLEX trades (never an empty book).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from market import plex, selectors
from market.refresh import refresh_region
from standin.esi import EsiStandIn

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

FORGE, PLEX_REGION = 10000002, 19000001
PLEX, TRITANIUM = 44992, 34
PERIMETER_STRUCTURE = 1042508032148  # a real Upwell structure in Perimeter (ESI samples)


@pytest.fixture
def esi() -> Iterator[EsiStandIn]:
    """The stand-in with The Forge and the global PLEX market (tests/market_env.py's
    `market` fixture points the settings at it)."""
    with EsiStandIn(page_size=500, expires_in=300.0, seed=5) as server:
        server.generate(FORGE, 3_000)
        server.generate(PLEX_REGION, 1_200)
        yield server


@pytest.fixture
def market(market: EsiStandIn, settings: Any) -> EsiStandIn:
    settings.MARKET_REGIONS = [FORGE, PLEX_REGION]
    return market


@pytest.fixture
def published(market: EsiStandIn) -> EsiStandIn:
    assert refresh_region(FORGE).result == "published"
    assert refresh_region(PLEX_REGION).result == "published"
    return market


def get(client, url: str, **params: Any):
    return client.get(url, params, HTTP_ACCEPT="application/json")


# --- The stand-in ----------------------------------------------------------------------------


def test_the_stand_in_serves_the_global_plex_market(market: EsiStandIn) -> None:
    url = f"{market.base_url}/markets/{PLEX_REGION}/orders/"
    first = requests.get(url, params={"page": 1}, timeout=5)
    assert first.status_code == 200
    assert first.headers["X-Pages"] == "3"  # 1,200 orders, 500 a page
    orders = [o for page in (1, 2, 3) for o in requests.get(url, {"page": page}, timeout=5).json()]
    assert len(orders) == 1_200 and {o["type_id"] for o in orders} == {PLEX}
    assert all(o["type_id"] != PLEX for o in market.orders(FORGE))
    history = requests.get(
        f"{market.base_url}/markets/{PLEX_REGION}/history/", {"type_id": PLEX}, timeout=5
    ).json()
    assert len(history) > 300
    # ESI's regional history of PLEX stops on the day the global market opened.
    regional = requests.get(
        f"{market.base_url}/markets/{FORGE}/history/", {"type_id": PLEX}, timeout=5
    ).json()
    assert regional[-1]["date"] == "2025-07-07"
    other = requests.get(
        f"{market.base_url}/markets/{PLEX_REGION}/history/", {"type_id": TRITANIUM}, timeout=5
    )
    assert other.status_code == 200 and other.json() == []


def test_an_empty_global_plex_market_is_a_book_not_a_404() -> None:
    with EsiStandIn(sample_data=False) as esi:
        answer = requests.get(f"{esi.base_url}/markets/{PLEX_REGION}/orders/", timeout=5)
        assert answer.status_code == 200 and answer.json() == []


def test_the_stand_in_region_book_shows_no_structure_sells_nor_station_structure_bids() -> None:
    def order(order_id: int, buy: bool, rng: str) -> dict[str, Any]:
        return {
            "duration": 90,
            "is_buy_order": buy,
            "issued": "2026-11-20T10:00:00Z",
            "location_id": PERIMETER_STRUCTURE,
            "min_volume": 1,
            "order_id": order_id,
            "price": 4.0,
            "range": rng,
            "system_id": 30000144,
            "type_id": TRITANIUM,
            "volume_remain": 10,
            "volume_total": 10,
        }

    with EsiStandIn(sample_data=False) as esi:
        esi.set_orders(FORGE, [order(1, False, "region"), order(2, True, "station")])
        esi.set_orders(FORGE, [*esi.orders(FORGE), order(3, True, "region"), order(4, True, "1")])
        assert [o["order_id"] for o in esi.orders(FORGE)] == [3, 4]


# --- The market API --------------------------------------------------------------------------


def test_plex_book_comes_from_the_global_market(client, published) -> None:
    body = get(client, f"/api/v1/market/orders/{PLEX_REGION}/{PLEX}", limit=5000).json()
    assert body["region_id"] == PLEX_REGION and body["type_name"] == "PLEX"
    served = [o for o in published.orders(PLEX_REGION)]
    assert body["buy"]["total_orders"] + body["sell"]["total_orders"] == len(served)
    assert body["buy"]["orders"][0]["price"] < body["sell"]["orders"][0]["price"]


@pytest.mark.parametrize("fast", [True, False])
def test_plex_asked_of_a_hub_region_says_where_it_trades(client, published, fast) -> None:
    headers = {"HTTP_ACCEPT": "application/json" if fast else "application/json; indent=2"}
    for _ in range(2):  # the second answer may come from the rendered bytes: same message
        response = client.get(f"/api/v1/market/orders/{FORGE}/{PLEX}", **headers)
        assert response.status_code == 404
        assert response.json()["detail"] == plex.PLEX_ONLY_GLOBAL
        assert "19000001" in response.json()["detail"]


def test_other_items_asked_of_the_global_plex_market_are_refused(client, published) -> None:
    response = get(client, f"/api/v1/market/orders/{PLEX_REGION}/{TRITANIUM}")
    assert response.status_code == 404
    assert response.json()["detail"] == plex.GLOBAL_ONLY_PLEX


def test_plex_history_in_a_hub_region_says_where_it_trades(client, published, eager_celery) -> None:
    response = get(client, f"/api/v1/market/history/{FORGE}/{PLEX}")
    assert response.status_code == 404
    assert response.json()["detail"] == plex.PLEX_ONLY_GLOBAL
    days = get(client, f"/api/v1/market/history/{PLEX_REGION}/{PLEX}").json()["days"]
    assert len(days) > 300


def test_compare_of_plex_covers_only_the_global_market_and_says_why(client, published) -> None:
    body = get(client, "/api/v1/market/compare", type_id=PLEX).json()
    assert [r["region_id"] for r in body["regions"]] == [PLEX_REGION]
    assert body["regions"][0]["hub"] is None
    assert body["regions"][0]["region"]["best_ask"] > 1e6
    assert body["notice"] == plex.PLEX_ONLY_GLOBAL
    only_hub = get(client, "/api/v1/market/compare", type_id=PLEX, regions=str(FORGE))
    assert only_hub.status_code == 404
    assert only_hub.json()["detail"] == plex.PLEX_ONLY_GLOBAL
    tritanium = get(client, "/api/v1/market/compare", type_id=TRITANIUM).json()
    assert [r["region_id"] for r in tritanium["regions"]] == [FORGE]
    assert tritanium["notice"] == plex.GLOBAL_ONLY_PLEX


def test_the_global_plex_market_has_a_clear_name(client, published) -> None:
    regions = get(client, "/api/v1/market/status").json()["regions"]
    names = {r["region_id"]: r["name"] for r in regions}
    assert names[PLEX_REGION] == "Global PLEX market"
    assert selectors.region_names()[PLEX_REGION] == "Global PLEX market"


def test_an_sde_without_the_region_still_names_it() -> None:
    """SDE builds from before July 2025 have no region 19000001; newer ones call it GPMR-01."""
    old = selectors.named_regions([(FORGE, "The Forge")])
    new = selectors.named_regions([(FORGE, "The Forge"), (PLEX_REGION, "GPMR-01")])
    expected = {FORGE: "The Forge", PLEX_REGION: "Global PLEX market"}
    assert old == new == expected


# --- The item page ---------------------------------------------------------------------------


def test_plex_page_shows_the_global_market_only_and_says_so(client, published) -> None:
    html = client.get(f"/items/{PLEX}/").content.decode()
    assert "PLEX trades only in the global PLEX market" in html
    assert f'data-region="{PLEX_REGION}"' in html
    assert f'data-region="{FORGE}"' not in html
    assert "Global PLEX market" in html
    # The book shown is the global market's (no hub station there: the whole region's).
    book = get(client, f"/api/v1/market/orders/{PLEX_REGION}/{PLEX}", limit=10).json()
    panel = html.split(f'id="hub-panel-{PLEX_REGION}"', 1)[1]
    for side in ("sell", "buy"):
        rows = panel.split(f'data-book-body="{side}">', 1)[1].split("</tbody>", 1)[0]
        shown = [int(i) for i in re.findall(r'<tr data-order="(\d+)"', rows)]
        assert shown == [o["order_id"] for o in book[side]["orders"]]
    assert 'data-book-scope="hub"' not in panel
    # Its comparison row is the whole market's, and the chart reads that market's history.
    compare = get(client, "/api/v1/market/compare", type_id=PLEX).json()["regions"][0]
    ask = re.search(r'data-cell="region-ask" data-value="([^"]+)"', html)
    assert ask and float(ask[1]) == compare["region"]["best_ask"]
    assert f'data-history-url="/api/v1/market/history/{PLEX_REGION}/{PLEX}"' in html


def test_other_items_leave_the_global_plex_market_out(client, published) -> None:
    html = client.get(f"/items/{TRITANIUM}/").content.decode()
    assert f'data-region="{FORGE}"' in html
    assert f'data-region="{PLEX_REGION}"' not in html
    assert "data-plex-note" not in html


def test_plex_page_when_the_global_market_is_not_tracked(client, published, settings) -> None:
    settings.MARKET_REGIONS = [FORGE]
    html = client.get(f"/items/{PLEX}/").content.decode()
    assert "this site does not track that market" in html
    assert "data-market-item" not in html
