"""The ESI stand-in's character routes: synthetic data under the stand-in characters' ids,
bearer tokens checked as ESI checks them, cache headers and 304s, pagination, and every
answer within the official ESI contract."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
import pytest
import requests

from standin.characters import CACHE_AGE, RATE_LIMITS, ROSTER, SCOPES
from standin.contract import match_operation, spec, validate_request, validate_response
from standin.esi import EsiStandIn
from tests import market_env
from tests.characters_tokens import ALL_SCOPES, TokenSigner

pytest_plugins = ["tests.characters_env"]  # the signer and esi_characters fixtures

BRUCE, CLARK, PETER = (entry.character_id for entry in ROSTER)
ESI_HEADERS = {"X-Compatibility-Date": "2026-08-04", "Accept-Language": "en"}

AUTHENTICATED = {
    "/characters/{id}/skills/": "char_skills",
    "/characters/{id}/standings/": "char_standings",
    "/characters/{id}/assets/": "char_assets",
    "/characters/{id}/wallet/": "char_wallet",
    "/characters/{id}/wallet/journal/": "char_journal",
    "/characters/{id}/wallet/transactions/": "char_transactions",
    "/characters/{id}/orders/": "char_orders",
    "/characters/{id}/location/": "char_location",
    "/characters/{id}/ship/": "char_ship",
}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(ESI_HEADERS)
        yield session


def call(
    http: requests.Session,
    esi: EsiStandIn,
    path: str,
    token: str | None = None,
    *,
    method: str = "GET",
    **kw: Any,
) -> requests.Response:
    """One request, checked against the ESI spec both ways."""
    headers = dict(kw.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    reply = http.request(method, esi.base_url + path, headers=headers, timeout=10, **kw)
    validate_request(method, path, kw.get("params"), {**ESI_HEADERS, **headers})
    validate_response(method, path, reply.status_code, reply.content, reply.headers)
    return reply


def test_public_routes_serve_the_roster(esi_characters: EsiStandIn, http: requests.Session) -> None:
    bruce = call(http, esi_characters, f"/characters/{BRUCE}/").json()
    assert bruce["name"] == "Bruce Wayne"
    assert bruce["corporation_id"] == 2001 and bruce["alliance_id"] == 3001
    clark = call(http, esi_characters, f"/characters/{CLARK}/").json()
    assert clark["name"] == "Clark Kent" and "alliance_id" not in clark
    portrait = call(http, esi_characters, f"/characters/{BRUCE}/portrait/").json()
    assert portrait["px128x128"].endswith(f"/characters/{BRUCE}/portrait?size=128")
    corp = call(http, esi_characters, "/corporations/2001/").json()
    assert corp["name"] == "Stand-in Traders" and corp["alliance_id"] == 3001
    assert call(http, esi_characters, "/alliances/3001/").json()["ticker"] == "STALL"
    missing = call(http, esi_characters, "/characters/1/")
    assert missing.status_code == 404 and missing.json() == {"error": "Character not found"}
    assert call(http, esi_characters, "/corporations/99/").status_code == 404


def test_every_authenticated_route_answers_within_the_contract(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    token = signer.token(BRUCE)
    for template, route in AUTHENTICATED.items():
        reply = call(http, esi_characters, template.format(id=BRUCE), token)
        assert reply.status_code == 200, (template, reply.text)
        assert reply.headers["Cache-Control"] == "private"
        if route in RATE_LIMITS:
            assert reply.headers["X-Ratelimit-Group"] == RATE_LIMITS[route][0]
    skills = call(http, esi_characters, f"/characters/{BRUCE}/skills/", token).json()
    levels = {s["skill_id"]: s["active_skill_level"] for s in skills["skills"]}
    assert levels[16622] == 5 and levels[3446] == 5 and levels[16597] == 4  # Accounting, BR, ABR
    assert levels[24311] == 3  # the synthetic data's own skill is still there
    assert skills["total_sp"] == sum(s["skillpoints_in_skill"] for s in skills["skills"])
    standings = call(http, esi_characters, f"/characters/{BRUCE}/standings/", token).json()
    assert {"from_id": 1000035, "from_type": "npc_corp", "standing": 4.2} in standings
    wallet = call(http, esi_characters, f"/characters/{BRUCE}/wallet/", token).json()
    assert wallet == 123456789
    orders = call(http, esi_characters, f"/characters/{BRUCE}/orders/", token).json()
    assert {o["order_id"] for o in orders} >= {6100000001, 6100000002}
    location = call(http, esi_characters, f"/characters/{BRUCE}/location/", token).json()
    assert location == {"solar_system_id": 30000142, "station_id": 60003760}
    structure = call(http, esi_characters, "/universe/structures/1000000000001/", token)
    assert structure.json()["name"] == "Amamake - Test Structure Alpha"
    hidden = call(http, esi_characters, "/universe/structures/1000000000999/", token)
    assert hidden.status_code == 403


def test_a_fresh_character_has_empty_answers(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    token = signer.token(PETER)
    assert call(http, esi_characters, f"/characters/{PETER}/skills/", token).json() == {
        "skills": [],
        "total_sp": 0,
    }
    assert call(http, esi_characters, f"/characters/{PETER}/orders/", token).json() == []
    assert call(http, esi_characters, f"/characters/{PETER}/assets/", token).json() == []
    assert call(http, esi_characters, f"/characters/{PETER}/wallet/", token).json() == 0


def test_tokens_are_checked_as_esi_checks_them(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    path = f"/characters/{BRUCE}/wallet/"
    forger = TokenSigner(kid=signer.kid)  # same key id, another key: a forged signature
    unsigned = jwt.encode(
        jwt.decode(signer.token(BRUCE), options={"verify_signature": False}),
        key="",
        algorithm="none",
    )
    cases = [
        (None, 401),
        ("not-a-jwt", 401),
        (forger.token(BRUCE), 401),
        (unsigned, 401),
        (signer.token(BRUCE, expires_in=-60), 401),
        (signer.token(BRUCE, audience=["test-client"]), 401),
        (signer.token(CLARK), 403),  # another character's token
        (signer.token(BRUCE, scopes=["esi-skills.read_skills.v1"]), 403),  # no wallet scope
        (signer.token(BRUCE), 200),
    ]
    for token, status in cases:
        reply = call(http, esi_characters, path, token)
        assert reply.status_code == status, (token, reply.text)
        if status != 200:
            assert set(reply.json()) == {"error"}
    assert call(http, esi_characters, path, signer.token(BRUCE, expires_in=-60)).json() == {
        "error": "Token is expired"
    }
    assert call(http, esi_characters, path, signer.token(CLARK)).json() == {
        "error": "Token is not valid for this character"
    }
    bearer_less = http.get(
        esi_characters.base_url + path, headers={"Authorization": signer.token(BRUCE)}
    )
    assert bearer_less.status_code == 401


def test_a_single_scope_string_is_accepted(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    # EVE puts a single scope in `scp` as a string, several as a list.
    token = signer.token(BRUCE, scopes=["esi-wallet.read_character_wallet.v1"])
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["scp"] = "esi-wallet.read_character_wallet.v1"
    single = jwt.encode(claims, signer.key, algorithm="RS256", headers={"kid": signer.kid})
    assert call(http, esi_characters, f"/characters/{BRUCE}/wallet/", single).status_code == 200


def test_etags_304s_and_cache_windows(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    token = signer.token(BRUCE)
    path = f"/characters/{BRUCE}/standings/"
    first = call(http, esi_characters, path, token)
    expires = parsedate_to_datetime(first.headers["Expires"])
    last_modified = parsedate_to_datetime(first.headers["Last-Modified"])
    sent = parsedate_to_datetime(first.headers["Date"])
    assert 3599 <= (expires - sent).total_seconds() <= 3600  # the spec's x-cache-age
    again = call(
        http, esi_characters, path, token, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["Expires"] == first.headers["Expires"]  # the same cache window
    esi_characters.characters.update(BRUCE, standings=[])
    changed = call(
        http, esi_characters, path, token, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200 and changed.json() == []
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) > last_modified


def test_assets_and_journal_are_paginated(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    token = signer.token(BRUCE)
    esi_characters.characters.page_size["char_assets"] = 5
    path = f"/characters/{BRUCE}/assets/"
    first = call(http, esi_characters, path, token)
    total = len(esi_characters.characters.characters[BRUCE].assets)
    assert total > 5
    pages = int(first.headers["X-Pages"])
    assert pages == -(-total // 5)
    items = list(first.json())
    for page in range(2, pages + 1):
        items += call(http, esi_characters, path, token, params={"page": page}).json()
    assert len({a["item_id"] for a in items}) == total
    beyond = call(http, esi_characters, path, token, params={"page": pages + 1})
    assert beyond.status_code == 404
    journal = call(http, esi_characters, f"/characters/{BRUCE}/wallet/journal/", token).json()
    dates = [row["date"] for row in journal]
    assert dates == sorted(dates, reverse=True)  # newest first, as ESI sends it


def test_transactions_page_backwards_from_an_id(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    token = signer.token(BRUCE)
    path = f"/characters/{BRUCE}/wallet/transactions/"
    everything = call(http, esi_characters, path, token).json()
    ids = [row["transaction_id"] for row in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 2
    older = call(http, esi_characters, path, token, params={"from_id": ids[1]}).json()
    assert [row["transaction_id"] for row in older] == ids[1:]


def test_asset_names_by_post(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    token = signer.token(BRUCE)
    path = f"/characters/{BRUCE}/assets/names/"
    named = call(
        http, esi_characters, path, token, method="POST", json=[1000000016991, 1100000000001]
    )
    assert named.json() == [
        {"item_id": 1000000016991, "name": "Shooter Boy"},
        {"item_id": 1100000000001, "name": "Parent Item 1"},
    ]
    assert call(http, esi_characters, path, token, method="POST", json=[]).status_code == 400
    assert call(http, esi_characters, path, token, method="POST", json=[1, 1]).status_code == 400
    assert call(http, esi_characters, path, token, method="POST", json=[42]).status_code == 404
    assert http.get(esi_characters.base_url + path).status_code == 405
    no_scope = signer.token(BRUCE, scopes=["esi-wallet.read_character_wallet.v1"])
    assert call(http, esi_characters, path, no_scope, method="POST", json=[1]).status_code == 403


def test_character_buckets_are_enforced(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    esi_characters.faults.ratelimit_tokens = 4  # two 200s (2 tokens each) empty the bucket
    token = signer.token(BRUCE)
    path = f"/characters/{BRUCE}/wallet/"
    assert call(http, esi_characters, path, token).headers["X-Ratelimit-Remaining"] == "2"
    assert call(http, esi_characters, path, token).status_code == 200
    limited = call(http, esi_characters, f"/characters/{BRUCE}/wallet/journal/", token)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # another group's bucket is untouched
    assert call(http, esi_characters, f"/characters/{BRUCE}/orders/", token).status_code == 200


def test_served_characters_can_be_added_and_changed(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    esi_characters.characters.add_character(90000001, template=1002, name="Lois Lane", wallet=5.0)
    assert call(http, esi_characters, "/characters/90000001/").json()["name"] == "Lois Lane"
    token = signer.token(90000001)
    assert call(http, esi_characters, "/characters/90000001/wallet/", token).json() == 5.0
    with pytest.raises(AttributeError):
        esi_characters.characters.update(90000001, no_such_field=1)


def test_limits_and_cache_times_match_the_spec() -> None:
    for route, (group, tokens, window) in RATE_LIMITS.items():
        template = (
            next(t for t, r in AUTHENTICATED.items() if r == route)
            if (route in AUTHENTICATED.values())
            else {
                "char_portrait": "/characters/{id}/portrait/",
                "char_asset_names": "/characters/{id}/assets/names/",
            }[route]
        )
        method = "POST" if route == "char_asset_names" else "GET"
        op, _ = match_operation(method, template.format(id=BRUCE))
        assert op.rate_limit == {"group": group, "max-tokens": tokens, "window-size": window}
    paths = spec()["paths"]
    for template, route in AUTHENTICATED.items():
        spec_path = template.replace("{id}", "{character_id}").rstrip("/")
        assert paths[spec_path]["get"]["x-cache-age"] == CACHE_AGE[route]
        security = paths[spec_path]["get"]["security"][0]["OAuth2"]
        assert security == [SCOPES[route]]
        assert SCOPES[route] in ALL_SCOPES


@pytest.mark.parametrize("issuer_form", ["url", "host"])
def test_tokens_of_the_sso_stand_in_open_its_characters(
    http: requests.Session, issuer_form: str
) -> None:
    from standin.sso import SsoStandIn

    with SsoStandIn(issuer_form=issuer_form) as sso, EsiStandIn(sample_data=False) as esi:
        esi.characters.trust_sso(sso)
        wallet = f"/characters/{BRUCE}/wallet/"
        token = sso.mint(BRUCE, ["esi-wallet.read_character_wallet.v1"])
        assert call(http, esi, wallet, token).json() == 123456789
        sso.rotate_key()  # a key the ESI stand-in was not told about
        assert call(http, esi, wallet, sso.mint(BRUCE, ["x"])).status_code == 401


def test_keys_can_come_from_a_running_sso(http: requests.Session) -> None:
    """With `sso_url` (STANDIN_SSO_URL when run by hand) the keys are fetched when a token
    names one not trusted yet, e.g. after the SSO rotated its key."""
    from standin.sso import SsoStandIn

    with SsoStandIn() as sso, EsiStandIn(sample_data=False) as esi:
        wallet = f"/characters/{BRUCE}/wallet/"
        token = sso.mint(BRUCE, ["esi-wallet.read_character_wallet.v1"])
        assert call(http, esi, wallet, token).status_code == 401  # no keys, no SSO known
        esi.characters.sso_url = sso.base_url
        assert call(http, esi, wallet, token).status_code == 200
        sso.rotate_key()
        fresh = sso.mint(BRUCE, ["esi-wallet.read_character_wallet.v1"])
        assert call(http, esi, wallet, fresh).status_code == 200


# --- Structure markets (GET /markets/structures/{id}/) -------------------------------------

STRUCTURE_MARKETS = "esi-markets.structure_markets.v1"


def a_structure_with_sells(esi: EsiStandIn) -> int:
    esi.generate(10000002, 3_000)  # The Forge: its structures hold sells and station bids
    return market_env.a_structure_with_sells(esi, 10000002)[0]


def test_a_structure_market_is_read_with_docking_access(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    structure = a_structure_with_sells(esi_characters)
    path = f"/markets/structures/{structure}/"
    reply = call(http, esi_characters, path, signer.token(BRUCE, [STRUCTURE_MARKETS]))
    assert reply.status_code == 200
    orders = reply.json()
    assert orders == esi_characters.structure_orders(structure)
    assert {o["location_id"] for o in orders} == {structure}
    assert all("system_id" not in o for o in orders)  # not in a structure's book
    # What the region book never shows: its sells, and bids of range "station".
    in_region = {o["order_id"] for o in esi_characters.orders(10000002)}
    hidden = [o for o in orders if o["order_id"] not in in_region]
    assert any(not o["is_buy_order"] for o in hidden)
    assert all(not o["is_buy_order"] or o["range"] == "station" for o in hidden)
    assert reply.headers["X-Pages"] == "1"
    expires = parsedate_to_datetime(reply.headers["Expires"])
    modified = parsedate_to_datetime(reply.headers["Last-Modified"])
    assert (expires - modified).total_seconds() == esi_characters.expires_in


def test_a_structure_market_refuses_as_esi_does(
    esi_characters: EsiStandIn, http: requests.Session, signer: TokenSigner
) -> None:
    structure = a_structure_with_sells(esi_characters)
    path = f"/markets/structures/{structure}/"
    assert call(http, esi_characters, path).status_code == 401
    no_scope = call(http, esi_characters, path, signer.token(BRUCE, ["esi-skills.read_skills.v1"]))
    assert no_scope.status_code == 403
    assert no_scope.json()["error"] == "Token not valid for scope"
    esi_characters.characters.market_denied.add((BRUCE, structure))
    denied = call(http, esi_characters, path, signer.token(BRUCE, [STRUCTURE_MARKETS]))
    assert denied.status_code == 403
    assert denied.json() == {"error": "Market access denied"}
    # another character with access still reads it
    clark = call(http, esi_characters, path, signer.token(CLARK, [STRUCTURE_MARKETS]))
    assert clark.status_code == 200
    unknown = call(
        http,
        esi_characters,
        "/markets/structures/1000000000001/",
        signer.token(BRUCE, [STRUCTURE_MARKETS]),
    )
    assert unknown.status_code == 404
