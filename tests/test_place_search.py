"""Any place, linked everywhere: the place search (index and API), the profit forms' pickers
and item filters without JavaScript, the links from item, station, system and region pages
to the profit pages, and the item page's note on a negative spread.

Names and ids are the real SDE's (Dodixie's hub is 60011866, Perimeter VI - Ytiri Storage
60000358, The Forge 10000002, Sinq Laison 10000032).
"""

from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from market import publish
from profit import selectors
from sde.models import InvType
from sde.place_search import BadPlaceQuery, parse_kinds, search_places
from store import reset_store
from tests.conftest import drop_store_prefix
from tests.market_env import DOMAIN, FORGE
from tests.profit_books import JITA_44, PERIMETER_STORAGE, TRITANIUM, order, snapshot
from tests.schema_check import validator
from tests.test_profit_api import build

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

DODIXIE_HUB = 60011866  # Dodixie IX - Moon 20 - Federation Navy Assembly Plant
DODIXIE = 30002659
SINQ_LAISON = 10000032
SEARCH = "/api/v1/places/search"


@pytest.fixture
def books(market) -> dict[int, Any]:
    snapshots = {FORGE: build(FORGE, 12_000), DOMAIN: build(DOMAIN, 4_000)}
    for snap in snapshots.values():
        publish.publish(snap)
    selectors.computed.clear()
    return snapshots


def search(client, **params: Any):
    return client.get(SEARCH, params, HTTP_ACCEPT="application/json")


def names(hits) -> list[tuple[str, str, str]]:
    return [(h.place.name, h.place.kind, h.match) for h in hits]


def selected(page: str, name: str) -> tuple[str, str]:
    """(value, text) of the selected option of the select called `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    option = re.search(r'<option value="([^"]*)" selected>([^<]*)</option>', select[1])
    assert option, f"nothing selected in {name}"
    return option[1], unescape(option[2])


def link(page: str, marker: str) -> str:
    match = re.search(r'<a href="([^"]+)"[^>]*' + marker, page)
    assert match, marker
    return unescape(match[1])


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- The index -----------------------------------------------------------------------------


def test_an_exact_system_name_comes_first_then_its_stations_hub_first():
    hits = search_places("Dodixie", limit=3)
    assert names(hits)[0] == ("Dodixie", "system", "exact")
    assert hits[1].place.id == DODIXIE_HUB  # the trade hub before Dodixie's other stations
    assert hits[1].match == "prefix"
    assert hits[1].place.system_name == "Dodixie"
    assert hits[1].place.region_name == "Sinq Laison"
    assert hits[1].place.security == 0.9  # Dodixie shows 0.9 in game


def test_kinds_restrict_the_answer():
    stations = search_places("dodixie", ["station"], 10)
    assert stations and {h.place.kind for h in stations} == {"station"}
    assert stations[0].place.id == DODIXIE_HUB
    regions = search_places("sinq", "region", 5)
    assert [(h.place.id, h.match) for h in regions] == [(SINQ_LAISON, "prefix")]


def test_words_match_in_any_order_and_case():
    hits = search_places("ytiri perimeter", "station", 10)
    assert PERIMETER_STORAGE in [h.place.id for h in hits]
    assert all(h.match == "word_prefix" for h in hits)
    assert search_places("THE FORGE", "region", 1)[0].place.id == FORGE


def test_a_typo_still_finds_the_place():
    hit = search_places("Dodxie", "system", 1)[0]
    assert (hit.place.id, hit.match) == (DODIXIE, "fuzzy")


def test_unknown_kinds_are_refused():
    with pytest.raises(BadPlaceQuery, match="'planet'"):
        parse_kinds("station,planet")
    assert parse_kinds("") == {"station", "structure", "system", "region"}


# --- The API -------------------------------------------------------------------------------


def test_the_api_answers_places_with_their_system_region_and_security(client):
    response = search(client, q="dodixie", kinds="station,system", limit=2)
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "dodixie"
    assert body["kinds"] == ["station", "system"]
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": DODIXIE,
            "name": "Dodixie",
            "kind": "system",
            "system_id": DODIXIE,
            "system": "Dodixie",
            "region_id": SINQ_LAISON,
            "region": "Sinq Laison",
            "security": 0.9,
            "match": "exact",
        },
        {
            "id": DODIXIE_HUB,
            "name": "Dodixie IX - Moon 20 - Federation Navy Assembly Plant",
            "kind": "station",
            "system_id": DODIXIE,
            "system": "Dodixie",
            "region_id": SINQ_LAISON,
            "region": "Sinq Laison",
            "security": 0.9,
            "match": "prefix",
        },
    ]
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validator(schema, SEARCH, "get", "200").validate(body)


def test_a_region_has_no_system():
    hit = search_places("sinq laison", "region", 1)[0]
    assert (hit.place.system_id, hit.place.system_name, hit.place.security) == (None, None, None)


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({}, "q", "required"),
        ({"q": ""}, "q", "blank"),
        ({"q": "jita", "kinds": "planet"}, "kinds", "Unknown kind 'planet'"),
        ({"q": "jita", "limit": "0"}, "limit", "greater than or equal to 1"),
        ({"q": "jita", "limit": "51"}, "limit", "less than or equal to 50"),
        ({"q": "x" * 101}, "q", "no more than 100"),
        ({"q": "jita", "kind": "station"}, "kind", "Unknown parameter"),
    ],
)
def test_bad_input_is_a_400_with_a_message(client, params, field, words):
    response = search(client, **params)
    assert response.status_code == 400
    assert words in " ".join(response.json()["errors"][field])


@pytest.fixture
def limited(settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = ["api:/api/:2/60"]  # the item search's rule, made small
    settings.STORE_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    reset_store()
    yield settings
    reset_store()
    drop_store_prefix(settings.STORE_KEY_PREFIX)


def test_it_is_public_and_rate_limited_like_the_item_search(client, limited):
    # Anonymous: no login, no token. The third request in the window is refused.
    answers = [search(client, q="jita").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert client.get("/api/v1/items/search", {"q": "trit"}).status_code == 429  # one budget


def test_nonsense_finds_nothing(client):
    body = search(client, q="zzzqqqxxx").json()
    assert (body["count"], body["results"]) == (0, [])


# --- The forms without JavaScript ----------------------------------------------------------


def test_station_trading_offers_the_picker_and_the_item_filters(client, books):
    page = client.get("/profit/station-trading/").content.decode()
    picker = re.search(r"<span class=\"place-picker\" data-place-picker([^>]*)>", page)
    assert (
        picker
        and f'data-api="{SEARCH}"' in picker[1]
        and 'data-kinds="station,structure"' in picker[1]
    )
    assert "Whole regions" not in page  # station trading is at one station
    assert '<select name="category_id">' in page
    assert '<option value="6">Ship</option>' in page  # category 6 holds the ships
    assert '<select name="market_group_id"' in page
    assert '<optgroup label="Ships">' in page  # a top-level market group (id 4)
    assert "js/places.js" in page and "css/places.css" in page


def test_hauling_offers_the_item_filters_exactly_when_its_api_takes_them(client, books):
    answer = client.get(
        "/api/v1/profit/hauling",
        {"from": JITA_44, "to": 60008494, "market_group_id": 4},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code in (200, 400)
    page = client.get("/profit/hauling/").content.decode()
    assert ('<select name="market_group_id"' in page) == (answer.status_code == 200)


def test_a_station_from_the_link_is_shown_by_name(client, books):
    page = client.get("/profit/station-trading/", {"station_id": PERIMETER_STORAGE})
    assert page.status_code == 200
    assert selected(page.content.decode(), "station_id") == (
        str(PERIMETER_STORAGE),
        "Perimeter VI - Ytiri Storage",
    )


def test_the_calculator_names_a_place_from_the_link(client, books):
    page = client.get("/profit/calculator/", {"buy_location": "30000144"}).content.decode()
    assert selected(page, "buy_location") == ("30000144", "Perimeter")


def test_the_market_group_filter_reaches_the_results(client, books):
    # Ships (market group 4) and its sub-groups: the page lists what the API lists for it.
    page = client.get("/profit/station-trading/", {"market_group_id": "4"})
    assert page.status_code == 200
    body = page.content.decode()
    assert selected(body, "market_group_id") == ("4", "All Ships")
    rows = [int(t) for t in re.findall(r'<tr data-type="(\d+)"', body)]
    expected = client.get(
        "/api/v1/profit/station-trading",
        {"station_id": JITA_44, "market_group_id": 4, "page_size": 100},
        HTTP_ACCEPT="application/json",
    ).json()["results"]
    assert rows and rows == [r["type_id"] for r in expected]
    categories = set(
        InvType.objects.filter(type_id__in=rows).values_list("group__category_id", flat=True)
    )
    assert categories == {6}  # every row is a ship


def test_the_category_filter_reaches_the_results(client, books):
    body = client.get("/profit/station-trading/", {"category_id": "6"}).content.decode()
    assert selected(body, "category_id") == ("6", "Ship")
    rows = [int(t) for t in re.findall(r'<tr data-type="(\d+)"', body)]
    expected = client.get(
        "/api/v1/profit/station-trading",
        {"station_id": JITA_44, "category_id": 6, "page_size": 100},
        HTTP_ACCEPT="application/json",
    ).json()["results"]
    assert rows == [r["type_id"] for r in expected]


def test_a_deep_market_group_from_a_link_is_named_by_its_path(client, books):
    body = client.get("/profit/station-trading/", {"market_group_id": "1857"}).content.decode()
    value, text = selected(body, "market_group_id")
    assert value == "1857"
    assert text.endswith("Minerals")


# --- Links ---------------------------------------------------------------------------------


def test_the_item_page_links_station_trading_hauling_and_the_calculator(client, books):
    page = client.get(f"/items/{TRITANIUM}/").content.decode()
    trade = link(page, 'data-link="station-trading"')
    params = query_of(trade)
    assert params["market_group_id"] == "1857"  # Tritanium's own market group: Minerals
    station = client.get(trade)
    assert station.status_code == 200
    assert selected(station.content.decode(), "station_id")[0] == params["station_id"]
    assert selected(station.content.decode(), "market_group_id")[0] == "1857"
    assert int(params["station_id"]) in (JITA_44, 60008494)

    haul = link(page, 'data-link="haul"')
    params = query_of(haul)
    assert params["type_id"] == str(TRITANIUM)
    assert params["buy_location"] != params["sell_location"]
    answer = client.get(haul)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert selected(body, "buy_location")[0] == params["buy_location"]
    assert selected(body, "sell_location")[0] == params["sell_location"]
    assert "data-breakdown" in body

    calc = link(page, 'data-link="calculator"')
    params = query_of(calc)
    assert (params["type_id"], params["mode"]) == (str(TRITANIUM), "list")
    assert client.get(calc).status_code == 200


def test_the_item_page_hauls_from_the_cheapest_sell_to_the_highest_buy(client, market):
    generation = uuid.uuid4().hex
    publish.publish(
        snapshot(
            FORGE, [order(TRITANIUM, 5.0, 1000), order(TRITANIUM, 4.0, 10, buy=True)], generation
        )
    )
    amarr = 60008494
    publish.publish(
        snapshot(
            DOMAIN,
            [
                order(TRITANIUM, 7.0, 1000, location=amarr),
                order(TRITANIUM, 6.5, 1000, buy=True, location=amarr),
            ],
            generation + "d",
        )
    )
    page = client.get(f"/items/{TRITANIUM}/").content.decode()
    params = query_of(link(page, 'data-link="haul"'))
    # Jita sells cheapest (5.00 < 7.00); Amarr buys highest (6.50 > 4.00).
    assert (params["buy_location"], params["sell_location"]) == (str(JITA_44), str(amarr))
    assert "Haul it: Jita → Amarr" in page


def test_the_station_page_links_trading_and_hauling_there(client, books):
    page = client.get(f"/stations/{PERIMETER_STORAGE}/").content.decode()
    trade = link(page, 'data-link="station-trading"')
    assert query_of(trade) == {"station_id": str(PERIMETER_STORAGE)}
    response = client.get(trade)
    assert response.status_code == 200
    assert selected(response.content.decode(), "station_id")[0] == str(PERIMETER_STORAGE)
    haul = link(page, 'data-link="haul-from"')
    response = client.get(haul)
    assert response.status_code == 200
    assert selected(response.content.decode(), "from") == (
        str(PERIMETER_STORAGE),
        "Perimeter VI - Ytiri Storage",
    )


def test_system_and_region_pages_link_hauling(client, books):
    page = client.get("/systems/30000144/").content.decode()
    response = client.get(link(page, 'data-link="haul-to"'))
    assert response.status_code == 200
    assert selected(response.content.decode(), "to") == ("30000144", "Perimeter")
    page = client.get(f"/regions/{FORGE}/").content.decode()
    response = client.get(link(page, 'data-link="haul-from"'))
    assert response.status_code == 200
    assert selected(response.content.decode(), "from")[0] == str(FORGE)


# --- A negative spread ---------------------------------------------------------------------


def test_a_negative_spread_across_the_region_is_explained(client, market):
    # Perimeter sells at 5.00; Jita 4-4 bids 6.00 with range "station": the region's best
    # bid is above its best ask (spread 5.00 - 6.00 = -1.00), and the two cannot meet.
    publish.publish(
        snapshot(
            FORGE,
            [
                order(TRITANIUM, 5.0, 100, location=PERIMETER_STORAGE),
                order(TRITANIUM, 6.0, 100, buy=True),
            ],
            uuid.uuid4().hex,
        )
    )
    page = client.get(f"/items/{TRITANIUM}/").content.decode()
    assert 'data-cell="region-spread">-1<' in page
    notes = re.findall(r"<p class=\"market-note\" data-spread-note>(.*?)</p>", page, re.S)
    assert len(notes) == 1
    note = re.sub(r"<[^>]+>", "", notes[0])
    assert "Across The Forge the best buy (6.00 ISK) is above the best sell (5.00 ISK)" in note
    assert "different stations" in note


def test_a_negative_spread_at_the_hub_station_is_explained_once(client, market):
    # At Jita 4-4 a bid of 6.00 for at least 1,000 units, and a sell order of 10 units at
    # 5.00: the bid cannot buy from it (10 < 1,000), so both stand. The hub row and the
    # region row show the same pair (spread 5.00 - 6.00 = -1.00); one note says why.
    publish.publish(
        snapshot(
            FORGE,
            [order(TRITANIUM, 5.0, 10), order(TRITANIUM, 6.0, 5000, buy=True, min_volume=1000)],
            uuid.uuid4().hex,
        )
    )
    page = client.get(f"/items/{TRITANIUM}/").content.decode()
    assert 'data-cell="hub-spread">-1<' in page
    assert 'data-cell="region-spread">-1<' in page
    notes = re.findall(r"<p class=\"market-note\" data-spread-note>(.*?)</p>", page, re.S)
    assert len(notes) == 1
    note = re.sub(r"<[^>]+>", "", notes[0])
    assert note.startswith("Negative spread. At Jita the best buy (6.00 ISK) is above the best")
    assert "minimum quantity" in note


def test_a_positive_spread_has_no_note(client, market):
    publish.publish(
        snapshot(
            FORGE,
            [order(TRITANIUM, 6.0, 100), order(TRITANIUM, 5.0, 100, buy=True)],
            uuid.uuid4().hex,
        )
    )
    page = client.get(f"/items/{TRITANIUM}/").content.decode()
    assert "data-spread-note" not in page
