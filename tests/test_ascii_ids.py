"""User-supplied ids are read in ASCII digits only: Python's int() also reads other scripts'
digits (Arabic-Indic three, fullwidth six hundred), so a query or a form that carries them is
a 400 with the field's usual message (or a 404 for a path), never a 500 and never silently
read as 3 or 600."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from sde.ids import is_ascii_number, parse_ascii_id
from tests.conftest import sde_db
from tests.sso_env import sso, sso_login  # noqa: F401

ARABIC_THREE = "\u0663"  # ٣
FULLWIDTH_600 = "\uff16\uff10\uff10"  # U+FF16 U+FF10 U+FF10
FULLWIDTH_JITA = "".join(chr(0xFF10 + int(d)) for d in "60003760")
SUPERSCRIPT_TWO = "\u00b2"  # "²".isdigit() is True, int("²") raises
NOT_ASCII = [ARABIC_THREE, FULLWIDTH_600, FULLWIDTH_JITA, SUPERSCRIPT_TWO]


@pytest.mark.parametrize("text", NOT_ASCII)
def test_other_scripts_digits_are_not_numbers(text: str) -> None:
    assert int(text.replace(SUPERSCRIPT_TWO, "2")) > 0  # what int() would have made of it
    assert not is_ascii_number(text)
    with pytest.raises(ValueError):
        parse_ascii_id(text)


def test_ascii_digits_are_numbers() -> None:
    assert parse_ascii_id("60003760") == 60003760
    assert parse_ascii_id(" 34 ") == 34
    assert not is_ascii_number("")
    assert not is_ascii_number("-1")


def answer(client: Any, url: str, params: dict[str, str]) -> tuple[int, str]:
    if url.endswith("/calculate"):  # a JSON body: a string id there goes through the same field
        response = client.post(url, params, content_type="application/json")
    else:
        response = client.get(url, params)
    return response.status_code, response.content.decode()


# (url, parameters, what the 400's message says): each id parameter of the API.
API_CASES = [
    ("/api/v1/profit/station-trading", {"station_id": "{}"}, "station_id must be a number"),
    ("/api/v1/profit/hauling", {"from": "{}", "to": "60008494"}, "comma-separated list"),
    ("/api/v1/profit/hauling", {"from": "60003760", "to": "60008494,{}"}, "comma-separated"),
    (
        "/api/v1/profit/calculate",
        {"type_id": "{}", "buy_location": "60003760", "sell_location": "60008494"},
        "type_id must be a number",
    ),
    (
        "/api/v1/profit/calculate",
        {"type_id": "34", "buy_location": "{}", "sell_location": "60008494"},
        "buy_location must be a number",
    ),
    ("/api/v1/market/compare", {"type_id": "{}"}, "valid integer"),
    ("/api/v1/market/compare", {"type_id": "34", "regions": "10000002,{}"}, "region ids"),
    ("/api/v1/market/orders/10000002/34", {"station_id": "{}"}, "valid integer"),
    ("/api/v1/market/orders/10000002/34", {"limit": "{}"}, "valid integer"),
    ("/api/v1/systems", {"region_id": "{}"}, "valid integer"),
    ("/api/v1/stations", {"system_id": "{}"}, "valid integer"),
    ("/api/v1/stations", {"region_id": "{}"}, "valid integer"),
    ("/api/v1/stations", {"page": "{}"}, "valid integer"),
    ("/api/v1/items/search", {"q": "trit", "limit": "{}"}, "valid integer"),
    ("/api/v1/places/search", {"q": "jita", "limit": "{}"}, "valid integer"),
]


@sde_db
@pytest.mark.parametrize("text", [ARABIC_THREE, FULLWIDTH_600])
@pytest.mark.parametrize(("url", "params", "message"), API_CASES)
def test_an_api_id_in_other_digits_is_a_400_with_the_usual_message(
    client: Any, url: str, params: dict[str, str], message: str, text: str
) -> None:
    filled = {key: value.format(text) for key, value in params.items()}
    status, body = answer(client, url, filled)
    assert status == 400, body[:300]
    assert message in body, body[:300]


@sde_db
@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/profit/station-trading/", {"station_id": FULLWIDTH_JITA}),
        ("/profit/hauling/", {"from": FULLWIDTH_JITA, "to": "60008494"}),
    ],
)
def test_a_page_given_an_id_in_other_digits_answers_400(
    client: Any, url: str, params: dict[str, str]
) -> None:
    response = client.get(url, params)
    assert response.status_code == 400, response.content[:300]


@sde_db
def test_the_same_ids_in_ascii_are_accepted(client: Any) -> None:
    # The control: the parameters above are refused for their digits, not their names.
    assert client.get("/api/v1/stations", {"system_id": "30000142"}).status_code == 200
    assert client.get("/api/v1/places/search", {"q": "jita", "limit": "3"}).status_code == 200
    assert client.get("/api/v1/systems", {"region_id": "10000002"}).status_code == 200


@sde_db
@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/items/{FULLWIDTH_600}",
        f"/api/v1/regions/{ARABIC_THREE}",
        f"/api/v1/market/prices/{FULLWIDTH_600}",
        f"/items/{FULLWIDTH_600}/",
        f"/stations/{FULLWIDTH_JITA}/",
    ],
)
def test_an_id_in_a_path_in_other_digits_is_a_404(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("text", [ARABIC_THREE, FULLWIDTH_600, SUPERSCRIPT_TWO])
def test_switching_to_a_character_named_in_other_digits_is_a_404(
    client: Any,
    sso: Any,  # noqa: F811
    text: str,
) -> None:
    sso_login(client, sso, 1001)
    response = client.post(reverse("eve-switch"), {"character_id": text})
    assert response.status_code == 404
    # The control: the same form with the character's id in ASCII switches to it.
    response = client.post(reverse("eve-switch"), {"character_id": "1001"})
    assert response.status_code == 302


@sde_db
@pytest.mark.parametrize(
    "params",
    [
        {"category": FULLWIDTH_600},
        {"category": "6", "group": FULLWIDTH_600},  # the group filter shows once a category is
        {"market": FULLWIDTH_600},
    ],
)
def test_an_admin_filter_in_other_digits_is_the_admin_s_invalid_lookup(
    admin_client: Any, params: dict[str, str]
) -> None:
    changelist = reverse("admin:sde_invtype_changelist")
    response = admin_client.get(changelist, params)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")  # Django's "invalid lookup" redirect
    ascii_params = {key: value.replace(FULLWIDTH_600, "600") for key, value in params.items()}
    assert admin_client.get(changelist, ascii_params).status_code == 200
