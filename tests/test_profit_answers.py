"""The pages and the API give one answer (profit/answers.py): the same rows, snapshots,
skills, rates and paging, and the same errors, a page past the last included."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.test_profit_api import AMARR, JITA, STATION_URL
from tests.test_profit_pages import books, html, row_types  # noqa: F401 (books: a fixture)

pytestmark = [
    pytest.mark.django_db(databases=["default", "sde"]),
    pytest.mark.usefixtures("books"),
]

HAULING_URL = "/api/v1/profit/hauling"


def api(client: Any, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_a_station_page_shows_the_apis_page_of_rows(client):
    query = {"station_id": JITA, "page_size": 5, "page": 2, "accounting": 4}
    answer = api(client, STATION_URL, **query)
    page = html(client.get("/profit/station-trading/", query))
    assert row_types(page) == [row["type_id"] for row in answer["results"]]
    # "page 2 of N" and the total the API states
    assert answer["page"] == 2 and answer["pages"] > 2
    assert f"{answer['count']:,}" in page
    # the permalink pins the snapshots the API names
    pinned = ",".join(f"{s['region_id']}:{s['generation']}" for s in answer["snapshots"])
    assert re.search(r'href="[^"]*snapshots=' + re.escape(pinned.replace(":", "%3A")), page)


def test_a_hauling_page_shows_the_apis_rows(client):
    # the page starts from a hauler (docs/profit-pages.md); both are asked for the same one
    query = {"from": JITA, "to": AMARR, "page_size": 10, "cargo_m3": 8_000, "budget": 2e8}
    answer = api(client, HAULING_URL, **query)
    page = html(client.get("/profit/hauling/", query))
    assert row_types(page) == [row["type_id"] for row in answer["results"]]


def test_a_page_past_the_last_is_a_404_on_both(client):
    query = {"station_id": JITA, "page_size": 1000, "page": 50}
    response = client.get(STATION_URL, query)
    assert response.status_code == 404
    message = response.json()["detail"]
    assert message.startswith("Page 50 does not exist")
    page = client.get("/profit/station-trading/", query)
    assert page.status_code == 404
    assert 'data-profit-error="not_found"' in html(page)
    assert message in html(page).replace("&#x27;", "'")
