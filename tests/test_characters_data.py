"""Fetching character data from the ESI stand-in over real HTTP (real Redis, real PostgreSQL):
what is stored per group, Expires and ETags respected through the shared ESI client, only
the granted groups fetched, per-character caching with no token anywhere in the store, failures
kept to their group, and assets valued and orders flagged against a published snapshot."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from characters import data, sections, valuation
from characters.models import Character
from characters.scopes import FEATURES, join_scopes
from characters.tokens import NeedsReauth, store_tokens
from esi.client import EsiClient
from market import publish
from market.hubs import HUB_STATIONS
from market.refresh import refresh_region
from standin.characters import ROSTER
from standin.esi import EsiStandIn
from store import Store, get_store
from tests.characters_setup import make_character
from tests.characters_tokens import ALL_SCOPES, ISSUER, TokenSigner
from tests.market_env import FORGE

pytest_plugins = ["tests.characters_env"]

BRUCE, CLARK, PETER = (entry.character_id for entry in ROSTER)
JITA = HUB_STATIONS[FORGE]
TRITANIUM = 34
pytestmark = pytest.mark.django_db(databases=["default", "sde"])


@pytest.fixture
def esi(market: EsiStandIn, signer: TokenSigner) -> EsiStandIn:
    """The market stand-in (Forge and Domain books) also serving the characters."""
    market.characters.trust(signer.jwks(), issuer=ISSUER)
    return market


@pytest.fixture
def user() -> User:
    return User.objects.create_user("alice")


def store_logged_in_tokens(character: Character, signer: TokenSigner) -> None:
    """The tokens a login leaves: an access token valid for 20 minutes and a refresh token."""
    store_tokens(
        character,
        access_token=signer.token(character.character_id),
        refresh_token="refresh-token-from-the-sso",
        expires_at=datetime.now(UTC) + timedelta(minutes=20),
    )


class Tokens:
    """A token source that counts how often a token was asked for."""

    def __init__(self, signer: TokenSigner, character_id: int, scopes: tuple[str, ...]) -> None:
        self.signer, self.character_id, self.scopes = signer, character_id, scopes
        self.issued: list[str] = []

    def __call__(self) -> str:
        token = self.signer.token(self.character_id, self.scopes)
        self.issued.append(token)
        return token


def client(**overrides: Any) -> EsiClient:
    return EsiClient.from_settings(**overrides)


def character_requests(esi: EsiStandIn, character_id: int) -> list[Any]:
    return [r for r in esi.requests if f"/characters/{character_id}/" in r.path]


def everything_stored(store: Store) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of this test's store."""
    redis_client = getattr(store, "client", None)
    if redis_client is not None:
        prefix = store.prefix  # type: ignore[attr-defined]
        return [
            (key, redis_client.get(key) or b"")
            for key in redis_client.scan_iter(match=f"{prefix}*")
        ]
    root = Path(store.root)  # type: ignore[attr-defined]
    return [(p.name.encode(), p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_a_refresh_stores_every_granted_group(esi: EsiStandIn, user: User, signer: TokenSigner):
    bruce = make_character(user, BRUCE)
    tokens = Tokens(signer, BRUCE, ALL_SCOPES)
    outcome = data.refresh_character(bruce, client=client(), token_source=tokens)
    assert outcome.stored == list(data.GROUPS) and not outcome.failed and not outcome.stopped
    assert len(tokens.issued) == 1  # asked for once per refresh, not per call

    identity = data.load_group(BRUCE, "identity")
    assert identity is not None
    assert identity["data"]["corporation_name"] == "Stand-in Traders"
    assert identity["data"]["alliance_name"] == "Stand-in Alliance"
    assert identity["data"]["portrait"]["px64x64"].endswith("size=64")
    assert identity["fetched_at"] and identity["esi"]["expires"]
    bruce.refresh_from_db()
    assert (bruce.corporation_id, bruce.alliance_id) == (2001, 3001)

    skills = data.load_group(BRUCE, "skills")["data"]  # type: ignore[index]
    assert {s["skill_id"]: s["level"] for s in skills["skills"]}[16622] == 5
    assets = data.load_group(BRUCE, "assets")["data"]  # type: ignore[index]
    assert assets["names"] == {  # ships and containers only: no names for the snake implants
        "1000000016991": "Shooter Boy",
        "1100000000001": "Parent Item 1",
        "1100000000003": "Leaf Item 3",
        "1100000000005": "Parent Item 2",
    }
    assert assets["structures"] == {
        "1000000000001": {"name": "Amamake - Test Structure Alpha", "solar_system_id": 30002537}
    }
    wallet = data.load_group(BRUCE, "wallet")["data"]  # type: ignore[index]
    assert wallet["balance"] == 123456789
    dates = [row["date"] for row in wallet["journal"]]
    assert dates == sorted(dates, reverse=True) and dates[0] > "2019"  # newest first, recent
    location = data.load_group(BRUCE, "location")["data"]  # type: ignore[index]
    assert location["ship"]["ship_name"] == "Shooter Boy"
    status = data.load_status(BRUCE)
    assert status["stored"] == list(data.GROUPS) and status["next_at"]


def test_no_token_is_ever_stored_logged_or_in_a_key(
    esi: EsiStandIn, user: User, signer: TokenSigner, caplog: pytest.LogCaptureFixture
):
    bruce = make_character(user, BRUCE)
    no_orders = tuple(s for s in ALL_SCOPES if s != "esi-markets.read_character_orders.v1")
    tokens = Tokens(signer, BRUCE, no_orders)  # the orders call fails (403) and is logged
    with caplog.at_level(logging.DEBUG):
        outcome = data.refresh_character(bruce, client=client(), token_source=tokens)
    assert outcome.failed and caplog.records
    for token in tokens.issued:
        assert not any(token.rsplit(".", 1)[1] in r.getMessage() for r in caplog.records)
    stored = everything_stored(get_store())
    assert any(b"char:" in key for key, _ in stored)
    for token in tokens.issued:
        signature = token.rsplit(".", 1)[1].encode()
        for key, value in stored:
            assert signature not in key and signature not in value
            assert token.encode() not in value


def test_only_granted_groups_are_fetched_and_revoked_ones_dropped(
    esi: EsiStandIn, user: User, signer: TokenSigner
):
    wallet_only = FEATURES["wallet"].scopes
    clark = make_character(user, CLARK, ALL_SCOPES)
    data.refresh_character(clark, client=client(), token_source=Tokens(signer, CLARK, ALL_SCOPES))
    assert data.load_group(CLARK, "orders") is not None
    clark.scopes = join_scopes(wallet_only)
    clark.save()
    esi.requests.clear()
    outcome = data.refresh_character(
        clark, client=client(), token_source=Tokens(signer, CLARK, wallet_only)
    )
    assert outcome.stored == ["identity", "wallet"]
    assert sorted(outcome.removed) == [
        "assets",
        "corp_structures",
        "location",
        "orders",
        "skills",
        "standings",
    ]
    assert data.load_group(CLARK, "orders") is None
    paths = {r.path for r in character_requests(esi, CLARK)}
    assert not any("/orders" in p or "/skills" in p or "/assets" in p for p in paths)


def test_expires_and_etags_are_respected(esi: EsiStandIn, user: User, signer: TokenSigner):
    bruce = make_character(user, BRUCE)
    moment = [datetime.now(UTC)]
    clock: Callable[[], datetime] = lambda: moment[0]  # noqa: E731
    esi_client = client(now=clock)
    data.refresh_character(bruce, client=esi_client, token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    first = len(esi.requests)

    esi.requests.clear()
    tokens = Tokens(signer, BRUCE, ALL_SCOPES)
    data.refresh_character(bruce, client=esi_client, token_source=tokens)
    assert esi.requests == []  # everything still fresh: no call, and no token needed
    assert tokens.issued == []

    moment[0] += timedelta(hours=25)  # past every Expires (the longest is a day)
    data.refresh_character(bruce, client=esi_client, token_source=tokens)
    gets = [r for r in esi.requests if r.method == "GET"]
    # The same calls again, less the POST of asset names and the corporation's structures
    # ESI refused (Bruce is no Station Manager: asked again after data.ROLE_RECHECK).
    assert len(gets) == first - 2
    assert all(r.headers.get("If-None-Match") for r in gets)
    assert {r.status for r in gets} == {304}
    assert not [r for r in esi.requests if r.method == "POST"]  # assets unchanged: names kept
    assert data.load_group(BRUCE, "assets")["data"]["names"]  # type: ignore[index]
    assert len(tokens.issued) == 1


def test_a_changed_answer_is_fetched_after_its_expiry(
    esi: EsiStandIn, user: User, signer: TokenSigner
):
    bruce = make_character(user, BRUCE)
    moment = [datetime.now(UTC)]
    esi_client = client(now=lambda: moment[0])
    tokens = Tokens(signer, BRUCE, ALL_SCOPES)
    data.refresh_character(bruce, client=esi_client, token_source=tokens)
    esi.characters.update(BRUCE, wallet=42.0)
    data.refresh_character(bruce, client=esi_client, token_source=tokens)
    assert data.load_group(BRUCE, "wallet")["data"]["balance"] == 123456789  # type: ignore[index]
    moment[0] += timedelta(seconds=121)  # the wallet's cache time
    data.refresh_character(bruce, client=esi_client, token_source=tokens)
    assert data.load_group(BRUCE, "wallet")["data"]["balance"] == 42.0  # type: ignore[index]


def test_each_character_has_its_own_cache(esi: EsiStandIn, user: User, signer: TokenSigner):
    bruce, clark = make_character(user, BRUCE), make_character(user, CLARK)
    esi_client = client()
    data.refresh_character(bruce, client=esi_client, token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    data.refresh_character(clark, client=esi_client, token_source=Tokens(signer, CLARK, ALL_SCOPES))
    assert data.load_group(BRUCE, "wallet")["data"]["balance"] == 123456789  # type: ignore[index]
    assert data.load_group(CLARK, "wallet")["data"]["balance"] == 25000000.5  # type: ignore[index]
    assert esi_client.is_fresh(f"/characters/{BRUCE}/wallet/", cache_scope=f"character:{BRUCE}")
    assert not esi_client.is_fresh(f"/characters/{BRUCE}/wallet/")  # never under a shared key


def test_the_stored_access_token_is_used_by_default(
    esi: EsiStandIn, user: User, signer: TokenSigner
):
    bruce = make_character(user, BRUCE)
    store_logged_in_tokens(bruce, signer)
    outcome = data.refresh_character(bruce, client=client())
    assert outcome.stored == list(data.GROUPS)


def test_needs_reauth_stops_the_refresh_and_keeps_the_data(
    esi: EsiStandIn, user: User, signer: TokenSigner
):
    bruce = make_character(user, BRUCE)
    moment = [datetime.now(UTC)]
    esi_client = client(now=lambda: moment[0])
    data.refresh_character(bruce, client=esi_client, token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    moment[0] += timedelta(hours=2)

    def revoked() -> str:
        raise NeedsReauth(BRUCE)

    outcome = data.refresh_character(bruce, client=esi_client, token_source=revoked)
    assert outcome.stopped == "needs re-authorisation"
    assert outcome.stored == ["identity"]  # public data needs no token
    assert data.load_group(BRUCE, "wallet") is not None
    assert data.load_status(BRUCE)["stopped"] == "needs re-authorisation"

    bruce.needs_reauth = True
    esi.requests.clear()
    again = data.refresh_character(bruce, client=esi_client, token_source=revoked)
    assert again.stopped == "needs re-authorisation" and esi.requests == []
    assert data.load_group(BRUCE, "orders") is not None


def test_a_failing_group_keeps_its_old_data_and_the_others_go_on(
    esi: EsiStandIn, user: User, signer: TokenSigner
):
    bruce = make_character(user, BRUCE)
    no_orders = tuple(s for s in ALL_SCOPES if s != "esi-markets.read_character_orders.v1")
    outcome = data.refresh_character(
        bruce, client=client(), token_source=Tokens(signer, BRUCE, no_orders)
    )
    assert "403" in outcome.failed["orders"]
    assert "orders" not in outcome.stored and "wallet" in outcome.stored
    assert data.load_status(BRUCE)["failed"]["orders"]
    section = sections.section(bruce, "orders")
    assert section["state"] == "pending" and section["error"]


def test_rate_limits_stop_the_refresh_until_esi_allows(
    esi: EsiStandIn, user: User, signer: TokenSigner
):
    bruce = make_character(user, BRUCE)
    esi.faults.ratelimit_tokens = 4  # char-detail: portrait (2) + skills (2), then empty
    outcome = data.refresh_character(
        bruce, client=client(max_pause=0.05), token_source=Tokens(signer, BRUCE, ALL_SCOPES)
    )
    assert outcome.stopped and "rate limit" in outcome.stopped.lower()
    assert outcome.resume_at is not None and outcome.next_at is not None
    assert outcome.next_at >= outcome.resume_at


def test_one_refresh_per_character_at_a_time(esi: EsiStandIn, user: User, signer: TokenSigner):
    bruce = make_character(user, BRUCE)
    lock = get_store().lock(data.lock_name(BRUCE), ttl=30)
    assert lock.acquire()
    try:
        with pytest.raises(data.RefreshBusy):
            data.refresh_character(bruce, client=client(), token_source=Tokens(signer, BRUCE, ()))
    finally:
        lock.release()


def test_forget_removes_everything(esi: EsiStandIn, user: User, signer: TokenSigner):
    bruce = make_character(user, BRUCE)
    data.refresh_character(bruce, client=client(), token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    data.forget(BRUCE)
    assert all(data.load_group(BRUCE, g) is None for g in data.GROUPS)
    assert data.load_status(BRUCE) == {}


# --- Valuation and flags against a published snapshot ------------------------------------------


def book_order(order_id: int, *, buy: bool, price: float, volume: int = 1000) -> dict[str, Any]:
    return {
        "duration": 90,
        "is_buy_order": buy,
        "issued": "2026-01-01T00:00:00Z",
        "location_id": JITA,
        "min_volume": 1,
        "order_id": order_id,
        "price": price,
        "range": "station" if buy else "region",
        "system_id": 30000142,
        "type_id": TRITANIUM,
        "volume_remain": volume,
        "volume_total": volume,
    }


def own_order(order_id: int, *, buy: bool, price: float, region: int = FORGE) -> dict[str, Any]:
    return {
        "duration": 90,
        "is_buy_order": buy,
        "is_corporation": False,
        "issued": "2026-01-01T00:00:00Z",
        "location_id": JITA if region == FORGE else 60004588,
        "order_id": order_id,
        "price": price,
        "range": "station",
        "region_id": region,
        "type_id": TRITANIUM,
        "volume_remain": 10,
        "volume_total": 10,
        **({"escrow": price * 10, "min_volume": 1} if buy else {}),
    }


@pytest.fixture
def jita_tritanium(esi: EsiStandIn) -> Iterator[None]:
    """The Forge's book with controlled Tritanium orders at Jita: bids 4.00 and 3.90, asks
    5.00 and 5.50, and the character's own ask at 4.80 (order 7000000009), then published."""
    others = [
        o for o in esi.orders(FORGE) if not (o["type_id"] == TRITANIUM and o["location_id"] == JITA)
    ]
    mine = [
        book_order(7000000001, buy=True, price=4.00),
        book_order(7000000002, buy=True, price=3.90),
        book_order(7000000003, buy=False, price=5.00),
        book_order(7000000004, buy=False, price=5.50),
        book_order(7000000009, buy=False, price=4.80),  # the character's own order
    ]
    esi.set_orders(FORGE, others + mine)
    assert refresh_region(FORGE).result == "published"
    yield


def test_orders_are_flagged_against_the_snapshot(jita_tritanium: None) -> None:
    orders = [
        own_order(1, buy=True, price=3.95),  # 4.00 bid above it
        own_order(2, buy=True, price=4.00),  # a tie is not outbid
        own_order(3, buy=False, price=5.20),  # 4.80 ask below it
        own_order(7000000009, buy=False, price=4.80),  # itself in the book: still the best
        own_order(4, buy=False, price=4.80, region=10000030),  # Heimatar: no snapshot
    ]
    flags = valuation.flag_orders(orders)
    assert [f["flag"] for f in flags] == ["outbid", "best", "undercut", "best", "unknown"]
    assert flags[0]["best_other"] == 4.00 and flags[2]["best_other"] == 4.80
    assert flags[3]["best_other"] == 5.00
    # Relist one step of the price grid past the competitor (cents under 100 ISK).
    assert [f["relist_price"] for f in flags] == [4.01, None, 4.79, None, None]
    generation = publish.current_generation(FORGE)
    assert flags[0]["snapshot_generation"] == generation


def test_the_orders_section_flags_the_character_s_orders(
    esi: EsiStandIn, jita_tritanium: None, user: User, signer: TokenSigner
) -> None:
    esi.characters.update(
        BRUCE,
        orders=[own_order(11, buy=True, price=3.00), own_order(12, buy=False, price=6.00)],
    )
    bruce = make_character(user, BRUCE)
    data.refresh_character(bruce, client=client(), token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    section = sections.section(bruce, "orders")
    assert section["state"] == "ok"
    rows = {row["order_id"]: row for row in section["data"]["orders"]}
    assert rows[11]["flag"] == "outbid" and rows[12]["flag"] == "undercut"
    assert rows[11]["type_name"] == "Tritanium"
    assert rows[11]["location"]["name"].startswith("Jita IV - Moon 4")
    assert section["data"]["outbid"] == 1 and section["data"]["undercut"] == 1
    assert section["data"]["snapshots"][0]["generation"] == publish.current_generation(FORGE)


def test_assets_are_valued_at_the_jita_best_bid(
    esi: EsiStandIn, jita_tritanium: None, user: User, signer: TokenSigner
) -> None:
    bruce = make_character(user, BRUCE)
    data.refresh_character(bruce, client=client(), token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    section = sections.section(bruce, "assets")
    assets = section["data"]
    assert assets["valuation"]["basis"] == "best bid"
    assert assets["valuation"]["station_id"] == JITA
    assert assets["valuation"]["snapshot"]["generation"] == publish.current_generation(FORGE)
    by_place = {group["location"]["name"]: group for group in assets["locations"]}
    jita = next(g for name, g in by_place.items() if name.startswith("Jita IV - Moon 4"))
    tritanium = next(i for i in jita["items"] if i["type_id"] == TRITANIUM)
    assert tritanium["unit_value"] == 4.00 and tritanium["value"] == 4.00 * 1_500_000
    charon_copy = next(i for i in jita["items"] if i["type_id"] == 20185)
    assert charon_copy["value"] is None  # a blueprint copy has no market value
    assert "Amamake - Test Structure Alpha" in by_place  # structure name from ESI
    assert "Jita (in space)" in by_place
    nested = next(i for i in jita["items"] if i["item_id"] == 1100000000004)
    assert nested["in_item"] == 1100000000003  # inside a container, shown at its station
    assert assets["total_value"] == pytest.approx(sum(g["value"] for g in assets["locations"]))


def test_unresolvable_structures_are_named_by_id(
    esi: EsiStandIn, user: User, signer: TokenSigner
) -> None:
    hidden = 1_000_000_000_777
    esi.characters.update(
        CLARK,
        assets=[
            {
                "is_singleton": False,
                "item_id": 1100000000999,
                "location_flag": "Hangar",
                "location_id": hidden,
                "location_type": "other",
                "quantity": 5,
                "type_id": TRITANIUM,
            }
        ],
    )
    clark = make_character(user, CLARK)
    data.refresh_character(clark, client=client(), token_source=Tokens(signer, CLARK, ALL_SCOPES))
    section = sections.section(clark, "assets")
    assert [g["location"]["name"] for g in section["data"]["locations"]] == [f"Structure {hidden}"]
    location = sections.section(clark, "location")["data"]
    assert location["docked"]["name"] == "Amamake - Test Structure Alpha"


# --- Celery tasks --------------------------------------------------------------------------------


def test_the_task_refreshes_with_the_stored_token(
    esi: EsiStandIn, user: User, signer: TokenSigner
) -> None:
    from characters import tasks

    bruce = make_character(user, BRUCE)
    store_logged_in_tokens(bruce, signer)
    assert tasks.refresh_character_task(BRUCE) == "ok"
    assert data.load_group(BRUCE, "orders") is not None
    lock = get_store().lock(data.lock_name(BRUCE), ttl=30)
    assert lock.acquire()
    try:
        assert tasks.refresh_character_task(BRUCE) == "busy"
    finally:
        lock.release()
    assert tasks.refresh_character_task(12345) == "gone"


def test_a_revoked_character_stops_without_a_loop(esi: EsiStandIn, sso: Any, user: User) -> None:
    from characters import tasks

    esi.characters.trust_sso(sso)
    bruce = make_character(user, BRUCE)
    store_tokens(  # an expired access token, and a refresh token the SSO no longer honours
        bruce,
        access_token=sso.mint(BRUCE, ALL_SCOPES),
        refresh_token="revoked-refresh-token",
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    assert tasks.refresh_character_task(BRUCE) == "stopped"
    assert sso.token_calls["refresh_token"] == 1
    status = data.load_status(BRUCE)
    assert status["stopped"] == "needs re-authorisation"
    assert datetime.fromisoformat(status["next_at"]) > datetime.now(UTC)
    bruce.refresh_from_db()
    assert bruce.needs_reauth is True
    assert tasks.refresh_character_task(BRUCE) == "stopped"  # at once, without the SSO
    assert sso.token_calls["refresh_token"] == 1
    assert tasks.dispatch_due_characters() == []  # and never queued again


def test_dispatch_queues_only_due_characters(
    esi: EsiStandIn, user: User, signer: TokenSigner, django_capture_on_commit_callbacks: Any
) -> None:
    from characters import tasks

    bruce, clark = make_character(user, BRUCE), make_character(user, CLARK)
    data.refresh_character(bruce, client=client(), token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    peter = make_character(user, PETER)
    Character.objects.filter(pk=PETER).update(needs_reauth=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.dispatch_due_characters() == [CLARK]  # Bruce is not due, Peter revoked
        assert tasks.dispatch_due_characters() == []  # Clark is already queued
    assert len(callbacks) == 1
    assert tasks.is_due(BRUCE, datetime.now(UTC) + timedelta(hours=2))
    assert clark and peter


def test_an_authorised_character_is_refreshed_and_a_deleted_one_forgotten(
    esi: EsiStandIn, user: User, signer: TokenSigner, django_capture_on_commit_callbacks: Any
) -> None:
    from characters import tasks  # noqa: F401  (connects the receivers)
    from characters.signals import character_authorised

    bruce = make_character(user, BRUCE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        character_authorised.send(sender=Character, character=bruce, created=True)
    assert len(callbacks) == 1
    data.refresh_character(bruce, client=client(), token_source=Tokens(signer, BRUCE, ALL_SCOPES))
    bruce.delete()
    assert data.load_group(BRUCE, "wallet") is None and data.load_status(BRUCE) == {}
