"""Hand-written bad input: each answered with a clear 4xx and a message, never a 5xx.

(schemathesis generates thousands more against the OpenAPI schema: benchmarks/badinput.py.)
"""

from __future__ import annotations

import pytest

from tests.conftest import sde_db

pytestmark = sde_db

HUGE = "9" * 40


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # Huge, negative and non-numeric ids.
        (f"/api/v1/items/{HUGE}", 404),
        ("/api/v1/items/-34", 404),
        (f"/api/v1/regions/{HUGE}", 404),
        (f"/api/v1/market/orders/10000002/{HUGE}", 404),
        ("/api/v1/market/orders/10000002/-1", 404),
        (f"/api/v1/market/history/{HUGE}/34", 404),
        (f"/api/v1/profit/station-trading?station_id={HUGE}", 400),
        ("/api/v1/profit/station-trading?station_id=-60003760", 400),
        ("/api/v1/profit/station-trading?station_id=abc", 400),
        (f"/api/v1/profit/hauling?from=60003760&to={HUGE}", 400),
        (f"/api/v1/characters/{HUGE}/", 404),
        ("/api/v1/characters/1001/", 403),  # anonymous: no character data at all
        # Unknown and repeated parameters.
        ("/api/v1/regions?colour=red", 400),
        ("/api/v1/items/search?q=trit&limit=5&debug=1", 400),
        ("/api/v1/market/compare?type_id=34&regions=10000002&sql=1", 400),
        ("/api/v1/profit/station-trading?station_id=60003760&accounting=7", 400),
        ("/api/v1/profit/station-trading?station_id=60003760&faction_standing=11", 400),
        ("/api/v1/profit/station-trading?station_id=60003760&tick=nan", 400),
        ("/api/v1/profit/station-trading?station_id=60003760&sort=;drop", 400),
        ("/api/v1/profit/hauling?from=60003760", 400),
        ("/api/v1/market/orders/10000002/34?order_type=both", 400),
        # Query strings far too long for any real use.
        ("/api/v1/items/search?q=" + "a" * 5000, 400),
    ],
)
def test_bad_requests_are_a_4xx_with_a_message(client, url, status):
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == status, response.content[:300]
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        "tritanium'; DROP TABLE invTypes; --",
        '<script>alert("x")</script>',
        "%00%27",
        "\u202e\u0000",
        "{{ 7*7 }}",
    ],
)
def test_sql_and_script_fragments_in_search_are_just_text(client, query):
    api = client.get("/api/v1/items/search", {"q": query}, HTTP_ACCEPT="application/json")
    assert api.status_code in (200, 400), api.content[:300]
    if api.status_code == 200:
        assert isinstance(api.json()["results"], list)
    page = client.get("/", {"q": query})
    assert page.status_code in (200, 400)
    html = page.content.decode()
    assert "<script>alert" not in html  # escaped, never echoed as markup


def test_an_oversize_body_is_413_and_a_malformed_one_400(client):
    big = "{" + '"x": "' + "y" * 2_000_000 + '"}'
    response = client.post("/api/v1/profit/calculate", big, content_type="application/json")
    assert response.status_code == 413 and response.json()["detail"]
    broken = client.post(
        "/api/v1/profit/calculate", '{"type_id": 34,', content_type="application/json"
    )
    assert broken.status_code == 400 and broken.json()["detail"]
    wrong_type = client.post("/api/v1/profit/calculate", "type_id=34", content_type="text/plain")
    assert wrong_type.status_code == 415 and wrong_type.json()["detail"]


def test_a_bad_content_length_is_400(client):
    response = client.generic("POST", "/api/v1/profit/calculate", b"{}", CONTENT_LENGTH="lots")
    assert response.status_code == 400
