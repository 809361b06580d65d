"""The characters API: a session is required, each user sees only their own characters (any
other id is a 404 on every route), sections say when and from which ESI cache time their data
came, features not granted say what enabling them grants, and every answer matches the
OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from characters.models import Character
from characters.scopes import FEATURES, join_scopes
from characters.selectors import SESSION_KEY
from market.refresh import refresh_region
from standin.characters import ROSTER
from standin.esi import EsiStandIn
from tests.characters_setup import fetch, make_character
from tests.characters_tokens import ALL_SCOPES, ISSUER, TokenSigner
from tests.market_env import FORGE
from tests.schema_check import validator

pytest_plugins = ["tests.characters_env"]
pytestmark = pytest.mark.django_db(databases=["default", "sde"])

BRUCE, CLARK, PETER = (entry.character_id for entry in ROSTER)
SECTIONS = ("skills", "standings", "assets", "wallet", "orders", "location")
BASE = "/api/v1/characters/"


def routes(character_id: int) -> list[str]:
    return [f"{BASE}{character_id}/", *(f"{BASE}{character_id}/{s}" for s in SECTIONS)]


@pytest.fixture
def world(market: EsiStandIn, signer: TokenSigner) -> dict[str, Any]:
    """alice has Bruce (every feature, fetched) and Clark (wallet only, fetched); bob has
    Peter (no feature, fetched). The Forge has a published snapshot."""
    market.characters.trust(signer.jwks(), issuer=ISSUER)
    refresh_region(FORGE)
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    wallet = FEATURES["wallet"].scopes
    bruce = make_character(alice, BRUCE, ALL_SCOPES)
    clark = make_character(alice, CLARK, wallet)
    peter = make_character(bob, PETER, ())
    fetch(bruce, signer, ALL_SCOPES)
    fetch(clark, signer, wallet)
    fetch(peter, signer, ())
    return {"alice": alice, "bob": bob, "bruce": bruce, "clark": clark, "peter": peter}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str, **params: Any) -> Any:
    return client.get(url, params, HTTP_ACCEPT="application/json")


def test_anonymous_users_get_no_character_data(client: Client, world: dict[str, Any]) -> None:
    for url in [BASE, *routes(BRUCE)]:
        response = get(client, url)
        assert response.status_code in (401, 403), url
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json() and "data" not in response.json()
    refresh = client.post(f"{BASE}{BRUCE}/refresh")
    assert refresh.status_code in (401, 403)


def test_another_user_s_characters_are_404_on_every_route(world: dict[str, Any]) -> None:
    bob = logged_in(world["bob"])
    for url in routes(BRUCE) + routes(CLARK) + routes(99999999) + routes(2**63 - 1):
        response = get(bob, url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "No such character."}
    assert bob.post(f"{BASE}{BRUCE}/refresh").status_code == 404
    assert get(bob, f"{BASE}{2**64}/").status_code == 404  # not an id at all
    assert get(bob, BASE).json()["characters"][0]["character_id"] == PETER


def test_the_list_shows_the_user_s_characters_and_the_selected_one(
    world: dict[str, Any],
) -> None:
    alice = logged_in(world["alice"])
    body = get(alice, BASE).json()
    assert [c["name"] for c in body["characters"]] == ["Bruce Wayne", "Clark Kent"]
    assert body["selected_id"] == BRUCE
    bruce = body["characters"][0]
    assert bruce["selected"] is True and bruce["features"] == {key: True for key in FEATURES}
    assert bruce["refreshed_at"] and bruce["next_refresh_at"]
    assert bruce["portrait"].endswith("size=128")
    clark = body["characters"][1]
    assert clark["features"]["wallet"] and not clark["features"]["orders"]
    session = alice.session
    session[SESSION_KEY] = CLARK
    session.save()
    assert get(alice, BASE).json()["selected_id"] == CLARK


def test_a_section_says_when_and_from_which_esi_time(world: dict[str, Any]) -> None:
    alice = logged_in(world["alice"])
    skills = get(alice, f"{BASE}{BRUCE}/skills").json()
    assert skills["state"] == "ok" and skills["group"] == "skills"
    assert skills["fetched_at"] and skills["esi"]["last_modified"] and skills["esi"]["expires"]
    trading = {s["name"]: s["level"] for s in skills["data"]["trading"]}
    assert trading["Accounting"] == 5 and trading["Broker Relations"] == 5
    assert trading["Advanced Broker Relations"] == 4 and trading["Tycoon"] == 2
    assert any(s["trading"] and s["name"] == "Accounting" for s in skills["data"]["skills"])
    assert any(not s["trading"] for s in skills["data"]["skills"])  # the carrier skills
    fees = skills["data"]["fees"]
    assert fees["sales_tax"] == pytest.approx(0.075 * (1 - 0.11 * 5))
    standings = get(alice, f"{BASE}{BRUCE}/standings").json()["data"]
    assert standings["corporations"][0]["name"] == "Caldari Navy"
    assert standings["factions"][0]["name"] == "Caldari State"
    wallet = get(alice, f"{BASE}{BRUCE}/wallet").json()["data"]
    assert wallet["balance"] == 123456789
    assert wallet["transactions"][0]["type_name"] == "Tritanium"
    location = get(alice, f"{BASE}{BRUCE}/location").json()["data"]
    assert location["system"]["name"] == "Jita"
    assert location["ship"]["type_name"] == "Merlin"
    detail = get(alice, f"{BASE}{BRUCE}/").json()
    assert detail["identity"]["data"]["corporation_name"] == "Stand-in Traders"
    assert {s["group"]: s["state"] for s in detail["sections"]} == dict.fromkeys(SECTIONS, "ok")


def test_features_not_granted_say_what_they_would_grant(world: dict[str, Any]) -> None:
    alice = logged_in(world["alice"])
    orders = get(alice, f"{BASE}{CLARK}/orders").json()
    assert orders["state"] == "disabled" and orders["data"] is None
    assert orders["feature"] == {
        "key": "orders",
        "label": FEATURES["orders"].label,
        "grants": FEATURES["orders"].grants,
        "enabled": False,
    }
    assert get(alice, f"{BASE}{CLARK}/wallet").json()["state"] == "ok"


def test_a_granted_section_not_fetched_yet_is_pending(world: dict[str, Any]) -> None:
    clark = world["clark"]
    clark.scopes = join_scopes(ALL_SCOPES)
    clark.save()
    alice = logged_in(world["alice"])
    assets = get(alice, f"{BASE}{CLARK}/assets").json()
    assert assets["state"] == "pending" and assets["data"] is None
    assert assets["fetched_at"] is None


def test_a_character_needing_reauthorisation_keeps_its_last_data(world: dict[str, Any]) -> None:
    Character.objects.filter(pk=BRUCE).update(needs_reauth=True)
    alice = logged_in(world["alice"])
    wallet = get(alice, f"{BASE}{BRUCE}/wallet").json()
    assert wallet["state"] == "needs_reauth" and wallet["data"]["balance"] == 123456789
    assert get(alice, BASE).json()["characters"][0]["needs_reauth"] is True


def test_unknown_parameters_are_400(world: dict[str, Any]) -> None:
    alice = logged_in(world["alice"])
    response = get(alice, f"{BASE}{BRUCE}/orders", page=2)
    assert response.status_code == 400
    assert response.json()["errors"] == {"page": ["Unknown parameter."]}


def test_refresh_queues_once_and_is_csrf_protected(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["alice"])
    assert strict.post(f"{BASE}{BRUCE}/refresh").status_code == 403  # no CSRF token
    alice = logged_in(world["alice"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = alice.post(f"{BASE}{BRUCE}/refresh")
        second = alice.post(f"{BASE}{BRUCE}/refresh")
    assert first.status_code == second.status_code == 202
    assert first.json()["queued"] is True and second.json()["queued"] is False
    assert len(callbacks) == 1  # one task queued, not two


# --- The OpenAPI schema ---------------------------------------------------------------------


def test_answers_match_the_schema(world: dict[str, Any]) -> None:
    alice = logged_in(world["alice"])
    schema = alice.get("/api/schema/", {"format": "json"}).json()
    answers = [(f"{BASE}", BASE), (f"{BASE}{{character_id}}/", f"{BASE}{BRUCE}/")]
    for section in SECTIONS:
        for character_id in (BRUCE, CLARK):  # ok and disabled states
            answers.append((f"{BASE}{{character_id}}/{section}", f"{BASE}{character_id}/{section}"))
    for path, url in answers:
        response = get(alice, url)
        assert response.status_code == 200, url
        validator(schema, path, "get", "200").validate(response.json())
