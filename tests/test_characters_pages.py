"""The character dashboard: what it shows of a fetched character (portrait, wallet, trading
skills, fees, orders with outbid/undercut flags, assets by location with their value), its
states (feature not granted, not fetched yet, needs re-authorisation, no character), and
that nobody sees another user's character."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from characters.models import Character
from characters.scopes import FEATURES, join_scopes
from characters.selectors import SESSION_KEY
from market.hubs import HUB_STATIONS
from market.refresh import refresh_region
from standin.characters import ROSTER
from standin.esi import EsiStandIn
from tests.characters_setup import fetch, make_character
from tests.characters_tokens import ALL_SCOPES, ISSUER, TokenSigner
from tests.market_env import FORGE

pytest_plugins = ["tests.characters_env"]
pytestmark = pytest.mark.django_db(databases=["default", "sde"])

BRUCE, CLARK, PETER = (entry.character_id for entry in ROSTER)
JITA = HUB_STATIONS[FORGE]
TRITANIUM = 34


def order(order_id: int, *, buy: bool, price: float) -> dict[str, Any]:
    return {
        "duration": 90,
        "is_buy_order": buy,
        "is_corporation": False,
        "issued": "2026-01-01T00:00:00Z",
        "location_id": JITA,
        "order_id": order_id,
        "price": price,
        "range": "station",
        "region_id": FORGE,
        "type_id": TRITANIUM,
        "volume_remain": 10,
        "volume_total": 10,
        **({"escrow": price * 10, "min_volume": 1} if buy else {}),
    }


@pytest.fixture
def world(market: EsiStandIn, signer: TokenSigner) -> dict[str, Any]:
    """alice: Bruce (every feature, fetched; one buy order far below the Jita bid, one sell
    far above the ask) and Clark (wallet only). bob: Peter. The Forge is published."""
    market.characters.trust(signer.jwks(), issuer=ISSUER)
    refresh_region(FORGE)
    market.characters.update(
        BRUCE, orders=[order(11, buy=True, price=0.01), order(12, buy=False, price=9.9e9)]
    )
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    bruce = make_character(alice, BRUCE, ALL_SCOPES)
    clark = make_character(alice, CLARK, FEATURES["wallet"].scopes)
    peter = make_character(bob, PETER, ())
    fetch(bruce, signer, ALL_SCOPES)
    fetch(clark, signer, FEATURES["wallet"].scopes)
    return {"alice": alice, "bob": bob, "bruce": bruce, "clark": clark, "peter": peter}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(html: str) -> str:
    """The page's text, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_dashboard_shows_the_selected_character(world: dict[str, Any]) -> None:
    page = logged_in(world["alice"]).get("/characters/")
    assert page.status_code == 200
    html = page.content.decode()
    shown = text(html)
    assert "Bruce Wayne" in shown and "Stand-in Traders [STRAD]" in shown
    assert "Stand-in Alliance [STALL]" in shown
    assert f"/characters/{BRUCE}/portrait?size=128" in html
    assert "123,456,789.00 ISK" in shown  # the wallet balance
    assert "prices your trades" in shown  # the selected character sets the fees
    # trading skills highlighted, with the fees they give
    skills = html[html.index('id="skills"') : html.index('id="orders"')]
    assert 'data-skill="16622"' in skills and "●●●●●" in skills  # Accounting V
    tax = "3.375 %"  # Accounting V: 7.5 % x (1 - 0.55), every digit it has
    assert f"sales tax {tax}" in text(skills)
    # orders, flagged against the snapshot
    assert 'data-order="11" data-flag="outbid"' in html
    assert 'data-order="12" data-flag="undercut"' in html
    assert "1 outbid" in shown and "1 undercut" in shown
    # assets by location, valued at the Jita best bid
    assets = html[html.index('id="assets"') : html.index('id="wallet"')]
    assert "Jita IV - Moon 4 - Caldari Navy Assembly Plant" in assets
    assert "Amamake - Test Structure Alpha" in assets
    assert "best bid at Jita IV - Moon 4" in text(assets)
    assert "Shooter Boy" in assets
    # wallet, standings, location
    assert "Market transaction" in shown and "Caldari Navy" in shown
    assert "Docked at Jita IV - Moon 4" in shown


def test_another_character_of_the_user_by_id(world: dict[str, Any]) -> None:
    page = logged_in(world["alice"]).get(f"/characters/{CLARK}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Clark Kent" in text(html)
    assert "25,000,000.50 ISK" in text(html)
    orders = html[html.index('id="orders"') : html.index('id="assets"')]
    assert 'data-state="disabled"' in orders
    assert f'action="/accounts/characters/{CLARK}/features/orders/"' in orders
    assert FEATURES["orders"].grants in orders
    assert "Select Clark Kent" in text(html)  # not the selected one, and no fees feature
    assert "Price trades with" not in text(html)


def test_the_selected_character_prices_trades_only_with_the_fees_feature(
    world: dict[str, Any],
) -> None:
    alice = logged_in(world["alice"])
    bruce = alice.get("/characters/").content.decode()  # every feature, fetched
    assert 'data-prices-trades title="Profit figures use this character' in bruce
    assert "Every profit figure uses them" in text(bruce)
    session = alice.session
    session[SESSION_KEY] = CLARK  # wallet only: its skills set no fee
    session.save()
    clark = alice.get("/characters/").content.decode()
    assert "Clark Kent" in text(clark)
    assert "prices your trades" not in text(clark) and "data-prices-trades" not in clark
    assert re.search(
        r'<span class="tag" data-selected title="Turn on Fees[^"]*">selected</span>', clark
    )


def test_a_granted_section_not_fetched_yet_says_so(world: dict[str, Any]) -> None:
    Character.objects.filter(pk=CLARK).update(scopes=join_scopes(ALL_SCOPES))
    html = logged_in(world["alice"]).get(f"/characters/{CLARK}/").content.decode()
    assets = html[html.index('id="assets"') : html.index('id="wallet"')]
    assert 'data-state="pending"' in assets and "Not fetched yet" in assets


def test_needs_reauthorisation_keeps_the_last_data_and_offers_the_fix(
    world: dict[str, Any],
) -> None:
    Character.objects.filter(pk=BRUCE).update(needs_reauth=True)
    html = logged_in(world["alice"]).get(f"/characters/{BRUCE}/").content.decode()
    assert "data-needs-reauth" in html
    assert f'action="/accounts/characters/{BRUCE}/reauthorise/"' in html
    assert "123,456,789.00 ISK" in text(html)
    assert 'data-action="refresh"' not in html


def test_nobody_sees_another_user_s_character(world: dict[str, Any]) -> None:
    bob = logged_in(world["bob"])
    for url in (f"/characters/{BRUCE}/", f"/characters/{CLARK}/", "/characters/424242/"):
        response = bob.get(url)
        assert response.status_code == 404
        assert "Bruce Wayne" not in response.content.decode()
    assert bob.post(f"/characters/{BRUCE}/refresh/").status_code == 404
    own = bob.get("/characters/").content.decode()
    assert "Peter Parker" in own and "Bruce Wayne" not in own


def test_a_user_without_characters_gets_a_helpful_page(world: dict[str, Any]) -> None:
    carol = User.objects.create_user("carol")
    page = logged_in(carol).get("/characters/")
    assert page.status_code == 200
    assert "data-empty" in page.content.decode() and "No character yet" in page.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get("/characters/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_refresh_now_queues_a_refresh_behind_csrf(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["alice"])
    assert strict.post(f"/characters/{BRUCE}/refresh/").status_code == 403
    alice = logged_in(world["alice"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice.post(f"/characters/{BRUCE}/refresh/")
    assert response.status_code == 302 and response["Location"] == f"/characters/{BRUCE}/"
    assert len(callbacks) == 1
    assert alice.get(f"/characters/{BRUCE}/refresh/").status_code == 405
