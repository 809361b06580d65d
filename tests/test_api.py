"""The SDE API: answers, 404s and 400s, each as JSON with a message."""

import re

import pytest
from django.db import connections

from tests.conftest import sde_db

pytestmark = sde_db


def get(client, url, **params):
    return client.get(url, params, HTTP_ACCEPT="application/json")


def test_search_answers_best_first_with_match_kind(client):
    body = get(client, "/api/v1/items/search", q="trit", limit=5).json()
    assert body["query"] == "trit"
    assert body["count"] == 5 == len(body["results"])
    assert body["results"][0] == {
        "type_id": 34,
        "name": "Tritanium",
        "match": "prefix",
        "image_url": "https://images.evetech.net/types/34/icon?size=32",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "trit", "limit": "0"}, "limit"),
        ({"q": "trit", "limit": "51"}, "limit"),
        ({"q": "trit", "limit": "ten"}, "limit"),
        ({"q": "trit", "colour": "red"}, "colour"),
    ],
)
def test_search_rejects_bad_parameters_with_400(client, params, field):
    response = get(client, "/api/v1/items/search", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert field in body["errors"]


def test_item_detail_has_the_facts(client):
    body = get(client, "/api/v1/items/34").json()
    assert body["name"] == "Tritanium"
    assert body["group"] == {"id": 18, "name": "Mineral"}
    assert body["category"] == {"id": 4, "name": "Material"}
    assert body["volume"] == 0.01
    assert body["packaged_volume"] == 0.01
    assert body["portion_size"] == 1
    assert body["published"] is True
    assert [g["name"] for g in body["market_group_path"]] == [
        "Manufacture & Research",
        "Materials",
        "Minerals",
    ]
    assert body["image_url"].endswith("/types/34/icon?size=64")


def test_ship_detail_gives_packaged_volume_and_meta_group(client):
    body = get(client, "/api/v1/items/17634").json()  # Caracal Navy Issue
    assert body["volume"] > body["packaged_volume"] == 10000
    assert body["meta_group"] == {"id": 4, "name": "Faction"}
    assert body["variation_of"] == {"type_id": 621, "name": "Caracal"}
    assert body["market_group_path"][0]["name"] == "Ships"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/items/999999999",
        "/api/v1/items/99999999999999999999",
        "/api/v1/items/-1",
        "/api/v1/items/abc",
        "/api/v1/regions/1",
        "/api/v1/systems/1",
        "/api/v1/stations/1",
        "/api/v1/no-such-endpoint",
    ],
)
def test_unknown_ids_and_paths_answer_404_json(client, url):
    response = get(client, url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_regions_list_k_space_first(client):
    body = get(client, "/api/v1/regions").json()
    assert body["count"] == len(body["results"]) > 60
    assert body["results"][0]["kind"] == "k-space"
    forge = next(r for r in body["results"] if r["region_id"] == 10000002)
    assert forge["name"] == "The Forge"
    assert forge["system_count"] == 88
    # Each count by itself, straight from the SDE's tables.
    with connections["sde"].cursor() as cursor:
        for table, field in (("mapSolarSystems", "system_count"), ("staStations", "station_count")):
            cursor.execute(f'SELECT "regionID", COUNT(*) FROM "{table}" GROUP BY "regionID"')
            counted = dict(cursor.fetchall())
            assert {r["region_id"]: r[field] for r in body["results"] if r[field]} == counted


def test_static_data_is_answered_from_memory(client, monkeypatch):
    from sde.api import views as sde_api

    asked: list[int] = []
    region_detail = sde_api.selectors.region_detail
    monkeypatch.setattr(
        sde_api.selectors,
        "region_detail",
        lambda region_id: asked.append(region_id) or region_detail(region_id),
    )
    first, again = (get(client, "/api/v1/regions/10000002") for _ in range(2))
    assert first.content == again.content and asked == [10000002]
    assert get(client, "/api/v1/regions/10000043").json()["name"] == "Domain"
    assert asked == [10000002, 10000043]


def test_region_detail_lists_its_systems_and_bands(client):
    body = get(client, "/api/v1/regions/10000002").json()
    assert body["name"] == "The Forge"
    assert body["system_count"] == 88 == sum(body["security_bands"].values())
    assert "Jita" in {s["name"] for s in body["systems"]}


def test_systems_filter_by_region_and_security(client):
    body = get(client, "/api/v1/systems", region_id=10000002, security="low").json()
    assert body["count"] == 17
    assert {s["security_band"] for s in body["results"]} == {"low"}
    jita = get(client, "/api/v1/systems", region_id=10000002, q="jita").json()["results"]
    assert jita[0]["solar_system_id"] == 30000142
    assert jita[0]["security"] == 0.9


def test_systems_are_paged(client):
    first_page = get(client, "/api/v1/systems", limit=10).json()
    second_page = get(client, "/api/v1/systems", limit=10, offset=10).json()
    assert first_page["count"] == second_page["count"] > 5000
    assert len(first_page["results"]) == 10
    assert first_page["results"][0] != second_page["results"][0]


def test_systems_of_an_unknown_region_is_404(client):
    assert get(client, "/api/v1/systems", region_id=1).status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"region_id": "x"}, {"security": "medium"}, {"limit": "-1"}, {"region_id": "0"}],
)
def test_systems_reject_bad_parameters(client, params):
    assert get(client, "/api/v1/systems", **params).status_code == 400


def test_station_search_finds_jita_4_4(client):
    body = get(client, "/api/v1/stations", system_id=30000142, q="moon 4 - caldari navy").json()
    assert [s["station_id"] for s in body["results"]] == [60003760]
    station = body["results"][0]
    assert station["name"] == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    assert station["solar_system"] == {"id": 30000142, "name": "Jita"}
    assert station["region"] == {"id": 10000002, "name": "The Forge"}


def test_station_detail(client):
    body = get(client, "/api/v1/stations/60003760").json()
    assert body["corporation"]["name"] == "Caldari Navy"
    assert body["security_band"] == "high"


def test_system_detail_has_stargates_and_stations(client):
    body = get(client, "/api/v1/systems/30000142").json()
    assert body["name"] == "Jita"
    assert "Perimeter" in {s["name"] for s in body["stargates_to"]}
    assert 60003760 in {s["station_id"] for s in body["stations"]}


def test_market_group_tree_nests_minerals_under_materials(client):
    roots = get(client, "/api/v1/market-groups").json()["results"]
    manufacture = next(g for g in roots if g["name"] == "Manufacture & Research")
    materials = next(g for g in manufacture["children"] if g["name"] == "Materials")
    assert "Minerals" in {g["name"] for g in materials["children"]}


def test_browsable_api_renders_html(client):
    response = client.get("/api/v1/items/34", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Tritanium" in response.content


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/items/search", "/api/v1/items/{type_id}", "/api/v1/health"} <= set(paths)
    docs = client.get("/api/docs/", HTTP_ACCEPT="text/html")
    assert docs.status_code == 200
    # Swagger UI's assets come from this server (the docs work offline), never from a CDN.
    html = docs.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert client.get(next(a for a in assets if a.endswith(".js"))).status_code == 200
    # No inline script or style (the Content-Security-Policy allows none): the start-up
    # script is a file of its own.
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    start_up = next(a for a in assets if "script=" in a)
    script = client.get(start_up.replace("&amp;", "&"))
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


# --- The API's front door (config/api_front.py) --------------------------------------------


def test_the_api_root_lists_the_endpoints(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    sections = response.json()["sections"]
    assert (
        sections["profit"]["station trading"] == "http://testserver/api/v1/profit/station-trading"
    )
    assert sections["market"]["order book"] == "http://testserver/api/v1/market/orders/10000002/34"
    assert sections["static data"]["NPC stations"] == "http://testserver/api/v1/stations"
    for urls in sections.values():
        for url in urls.values():
            path = url.removeprefix("http://testserver")
            assert client.get(path, HTTP_ACCEPT="application/json").status_code != 404, path


def test_the_schema_is_built_once_and_shows_locks_only_where_a_login_is_needed(client):
    from config.api_front import CachedSchemaView

    CachedSchemaView._built.clear()
    first = client.get("/api/schema/", {"format": "json"})
    assert first.status_code == 200 and len(CachedSchemaView._built) == 1
    again = client.get("/api/schema/", {"format": "json"})
    assert again.content == first.content and len(CachedSchemaView._built) == 1
    paths = first.json()["paths"]
    public = paths["/api/v1/profit/station-trading"]["get"]
    assert public.get("security", []) == []
    private = paths["/api/v1/characters/"]["get"]
    assert private["security"] == [{"cookieAuth": []}]


def test_the_static_lists_take_the_api_s_paging_words(client):
    """`page`/`page_size`, as the profit lists take them (and `offset`/`limit` still work)."""

    def names(**params):
        body = client.get("/api/v1/stations", {"region_id": 10000002, **params}).json()
        return [row["name"] for row in body["results"]]

    every = names(limit=5000)
    assert names(page=2, page_size=3) == every[3:6]
    assert names(offset=3, limit=3) == every[3:6]
    assert names(page_size=4) == every[:4]
