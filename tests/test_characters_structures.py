"""The pool of members' tokens that reads the shared structures' markets
(characters/structures.py): a structure shared and read, the least recently used member
asked, a 403 suspending that member for that structure while another is asked, a revoked
token leaving the pool, a structure nobody may read marked denied, its name learned once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from characters import structures as pool
from characters import tokens
from characters.models import Character, StructureShare
from esi.client import EsiClient
from market import publish
from market import structures as learned
from market.models import Structure
from standin.esi import EsiStandIn
from tests.characters_setup import make_character
from tests.characters_tokens import ALL_SCOPES
from tests.market_env import FORGE, structures_in_book

pytestmark = pytest.mark.django_db(databases=["default", "sde"])
pytest_plugins = ["tests.characters_env"]  # the token signer

BRUCE, CLARK = 1001, 1002
SCOPES = ("esi-markets.structure_markets.v1", "esi-universe.read_structures.v1")


@pytest.fixture
def shared(market: EsiStandIn, signer):
    """A Forge structure with a whole book, shared by Bruce and Clark; tokens by the signer."""
    market.characters.trust(signer.jwks())
    placed = structures_in_book(market, FORGE)
    structure_id = next(s for s in sorted(placed) if market.structure_orders(s))
    learned.learn({structure_id: placed[structure_id]}, Structure.Learned.REGION_BOOK)
    structure = Structure.objects.get(structure_id=structure_id)
    user = get_user_model().objects.create_user("member")
    members = {cid: make_character(user, cid, SCOPES) for cid in (BRUCE, CLARK)}
    for character in members.values():
        StructureShare.objects.create(character=character, structure=structure)
    asked: list[int] = []

    def token_for(character):
        asked.append(character.character_id)
        return signer.token(character.character_id, SCOPES)

    return structure, token_for, asked


def test_a_shared_structure_is_read_with_a_member_token(market, shared):
    structure, token_for, asked = shared
    assert pool.refresh_due(token_for=token_for) == {structure.structure_id: "published"}
    assert len(asked) == 1
    snapshot = publish.load(structure.structure_id)
    assert snapshot is not None
    assert snapshot.meta.orders == len(market.structure_orders(structure.structure_id))
    structure.refresh_from_db()
    assert structure.market_status == Structure.Status.SHARED
    # Not due again until ESI's cache of it (300 s) has passed.
    assert pool.refresh_due(token_for=token_for) == {}


def test_the_calls_spread_over_the_members(shared):
    structure, token_for, asked = shared
    now = datetime.now(UTC)
    pool.refresh_shared(structure, token_for=token_for, now=now)
    pool.refresh_shared(structure, token_for=token_for, now=now + timedelta(seconds=301))
    assert sorted(asked) == [BRUCE, CLARK]  # the least recently used member each time


def test_a_403_suspends_that_member_for_that_structure_and_asks_another(market, shared):
    structure, token_for, asked = shared
    first = pool.candidates(structure, datetime.now(UTC))[0].character.character_id
    market.characters.market_denied.add((first, structure.structure_id))
    assert pool.refresh_shared(structure, token_for=token_for) == "published"
    assert asked == [first, CLARK if first == BRUCE else BRUCE]  # then the other member
    refused = StructureShare.objects.get(character_id=first)
    now = datetime.now(UTC)
    assert now + timedelta(hours=11.9) < refused.suspended_until < now + timedelta(hours=24.1)
    assert "Market access denied" in refused.last_error
    other = CLARK if first == BRUCE else BRUCE
    assert [s.character.character_id for s in pool.candidates(structure, now)] == [other]


def test_a_structure_nobody_may_read_is_denied(market, shared):
    structure, token_for, _ = shared
    for member in (BRUCE, CLARK):
        market.characters.market_denied.add((member, structure.structure_id))
    assert pool.refresh_shared(structure, token_for=token_for) == "no_access"
    structure.refresh_from_db()
    assert structure.market_status == Structure.Status.DENIED
    assert publish.load(structure.structure_id) is None


def test_a_revoked_token_leaves_the_pool(shared):
    structure, token_for, asked = shared

    # tokens.access_token marks the character (tests/test_sso.py); here the
    # pool's part: it skips the member and asks the next
    def revoked_for_bruce(character):
        if character.character_id == BRUCE:
            raise tokens.NeedsReauth(BRUCE)
        return token_for(character)

    assert pool.refresh_shared(structure, token_for=revoked_for_bruce) == "published"
    assert asked == [CLARK]
    # A character marked for a new login is no candidate at all.
    Character.objects.filter(pk=BRUCE).update(needs_reauth=True)
    assert [s.character_id for s in pool.candidates(structure, datetime.now(UTC))] == [CLARK]


def test_a_member_without_the_feature_is_not_asked(shared):
    structure, _, _ = shared
    Character.objects.filter(pk=BRUCE).update(scopes="esi-skills.read_skills.v1")
    assert [s.character_id for s in pool.candidates(structure, datetime.now(UTC))] == [CLARK]


def test_a_suspended_structure_is_never_due(shared):
    structure, token_for, asked = shared
    Structure.objects.filter(pk=structure.pk).update(market_status=Structure.Status.SUSPENDED)
    assert pool.refresh_due(token_for=token_for) == {}
    assert asked == []


def test_the_first_read_learns_the_name_the_member_is_told(market, shared):
    structure, token_for, _ = shared
    told = {
        "name": "Perimeter - Tranquility Trading Tower",
        "owner_id": 98_000_001,
        "solar_system_id": structure.solar_system_id,
        "type_id": 35833,  # Fortizar
    }
    market.characters.data.structures[structure.structure_id] = told
    pool.refresh_shared(structure, token_for=token_for)
    structure.refresh_from_db()
    assert structure.name == told["name"]
    assert (structure.owner_id, structure.type_id) == (98_000_001, 35833)
    assert structure.learned_from == Structure.Learned.REGION_BOOK  # where it was learned first


def test_a_name_esi_refuses_stays_unknown(market, shared):
    structure, token_for, _ = shared
    market.characters.data.structures.pop(structure.structure_id, None)
    assert pool.refresh_shared(structure, token_for=token_for) == "published"
    structure.refresh_from_db()
    assert structure.name == ""  # 403 Forbidden: the market is read, the name is not


# --- The dashboard's panel: what a member shares ---------------------------------------------


@pytest.fixture
def member():
    from django.test import Client

    user = get_user_model().objects.create_user("member2")
    bruce = make_character(user, BRUCE, SCOPES)
    client = Client()
    client.force_login(user)
    return client, bruce


PERIMETER_TTT, PERIMETER = 1028858195912, 30000144


def test_a_member_shares_and_unshares_structures(member):
    client, bruce = member
    learned.learn({PERIMETER_TTT: PERIMETER}, Structure.Learned.PUBLIC_LIST)
    page = client.get(f"/characters/{BRUCE}/").content.decode()
    assert "data-structure-shares" in page and f'value="{PERIMETER_TTT}"' in page
    url = f"/characters/{BRUCE}/structures/"
    answer = client.post(url, {"structure": [str(PERIMETER_TTT)], "add": "1000000000007"})
    assert answer.status_code == 302 and answer["Location"].endswith("#structures")
    said = client.get(answer["Location"]).content.decode()
    assert "Bruce Wayne shares 2 structure markets; the worker reads them" in said
    shared = set(
        StructureShare.objects.filter(character=bruce).values_list("structure_id", flat=True)
    )
    assert shared == {PERIMETER_TTT, 1000000000007}
    added = Structure.objects.get(structure_id=1000000000007)
    assert added.learned_from == Structure.Learned.CHARACTER
    page = client.get(f"/characters/{BRUCE}/").content.decode()
    assert f'id="share-{PERIMETER_TTT}" checked' in page
    client.post(url, {"structure": ["1000000000007"]})  # Perimeter unchecked
    assert list(
        StructureShare.objects.filter(character=bruce).values_list("structure_id", flat=True)
    ) == [1000000000007]


ARABIC_ID = "\u0661" + "\u0660" * 11 + "\u0667"  # 1000000000007 in Arabic-Indic digits


@pytest.mark.parametrize("bad", ["60003760", ARABIC_ID, "tower"])
def test_a_bad_structure_id_is_refused_with_a_message(member, bad):
    client, bruce = member
    answer = client.post(f"/characters/{BRUCE}/structures/", {"add": bad}, follow=True)
    assert answer.status_code == 200
    assert "is not a structure id" in answer.content.decode()
    assert not StructureShare.objects.filter(character=bruce).exists()


def test_sharing_needs_the_feature_and_the_member_s_own_character(member):
    client, _ = member
    Character.objects.filter(pk=BRUCE).update(scopes="esi-skills.read_skills.v1")
    page = client.get(f"/characters/{BRUCE}/").content.decode()
    assert "turn on <strong>Structure markets</strong>" in page
    answer = client.post(
        f"/characters/{BRUCE}/structures/", {"add": str(PERIMETER_TTT)}, follow=True
    )
    assert "Turn on Structure markets" in answer.content.decode()
    assert not StructureShare.objects.exists()
    assert client.post(f"/characters/{CLARK}/structures/", {}).status_code == 404  # not hers


def test_esi_failing_leaves_the_structure_for_the_next_run(market, shared):
    structure, token_for, asked = shared
    market.faults.unreachable = True
    assert pool.refresh_shared(structure, token_for=token_for) == "failed"
    assert len(asked) == 1  # no other member is asked: it is ESI, not the member
    structure.refresh_from_db()
    assert structure.market_status == Structure.Status.NO_ACCESS  # not marked denied
    assert not StructureShare.objects.exclude(suspended_until=None).exists()


def test_a_structure_is_due_again_when_its_book_expires(market, shared):
    structure, token_for, _ = shared
    assert pool.refresh_due(token_for=token_for) == {structure.structure_id: "published"}
    meta = publish.current_meta(structure.structure_id)
    assert meta is not None and meta.esi_expires is not None
    expires = datetime.fromisoformat(meta.esi_expires)
    structure.refresh_from_db()
    assert pool.due(expires - timedelta(seconds=1)) == []
    assert pool.due(expires) == [structure]


def second_structure(market: EsiStandIn, structure: Structure) -> Structure:
    """Another Forge structure with a book, shared by the same members."""
    placed = structures_in_book(market, FORGE)
    other = next(
        s for s in sorted(placed) if market.structure_orders(s) and s != structure.structure_id
    )
    learned.learn({other: placed[other]}, Structure.Learned.REGION_BOOK)
    for share in StructureShare.objects.filter(structure=structure):
        StructureShare.objects.create(character=share.character, structure_id=other)
    return Structure.objects.get(structure_id=other)


def test_a_run_stops_asking_after_its_refusals(market, shared, settings):
    structure, token_for, asked = shared
    other = second_structure(market, structure)
    settings.ESI_STRUCTURE_REFUSALS_PER_RUN = 1
    for member in (BRUCE, CLARK):
        for s in (structure, other):
            market.characters.market_denied.add((member, s.structure_id))
    outcomes = pool.refresh_due(token_for=token_for)
    # The first 403 spends the run's budget: nobody else is asked this run.
    assert sorted(outcomes.values()) == ["budget", "budget"]
    assert len(asked) == 1
    refusals = [r for r in market.requests if r.status == 403]
    assert len(refusals) == 1


def test_no_structure_is_asked_while_esi_errors_run_low(market, shared, settings):
    from esi.client import shared_client

    structure, token_for, asked = shared
    # ESI said 50 errors are left in this minute's window (as its headers say it).
    errors = {"X-ESI-Error-Limit-Remain": "50", "X-ESI-Error-Limit-Reset": "60"}
    shared_client().limits.record("/markets/10000002/orders/", 200, errors)
    settings.ESI_STRUCTURE_ERROR_FLOOR = 50
    assert pool.refresh_due(token_for=token_for) == {structure.structure_id: "budget"}
    assert asked == []
    settings.ESI_STRUCTURE_ERROR_FLOOR = 49
    assert pool.refresh_due(token_for=token_for) == {structure.structure_id: "published"}


def test_a_member_s_data_teaches_its_structures_by_id_alone(market, signer, client):
    """Bruce's assets and docking place are in Amamake - Test Structure Alpha: the deployment
    learns the id (to offer it for sharing); the name and system ESI told Bruce stay his."""
    from characters import data

    alpha = 1_000_000_000_001
    market.characters.trust(signer.jwks())
    user = get_user_model().objects.create_user("member")
    bruce = make_character(user, BRUCE, ALL_SCOPES)
    data.refresh_character(bruce, token_source=lambda: signer.token(BRUCE, ALL_SCOPES))
    structure = Structure.objects.get(structure_id=alpha)
    assert structure.learned_from == Structure.Learned.CHARACTER
    assert (structure.name, structure.solar_system_id) == ("", None)
    # Bruce's panel names it as ESI told him, marked as his; Clark's does not.
    (row,) = [r for r in pool.share_rows(bruce) if r["id"] == alpha]
    assert (row["name"], row["system_name"], row["yours"]) == (
        "Amamake - Test Structure Alpha",
        "Amamake",
        True,
    )
    clark = make_character(user, CLARK, ALL_SCOPES)
    (row,) = [r for r in pool.share_rows(clark) if r["id"] == alpha]
    assert (row["name"], row["system_name"], row["yours"]) == (None, None, False)
    # Nor does anyone else see it: the API and every place show the id alone.
    answer = client.get(f"/api/v1/market/structures/{alpha}", HTTP_ACCEPT="application/json")
    assert (answer.json()["name"], answer.json()["system_id"]) == (None, None)


def test_a_station_manager_s_corporation_structures_are_learned(market, signer):
    """Clark's corporation (2001) owns Amamake - Test Structure Alpha: with the Station
    Manager role its market is learned by id; without it ESI refuses and nothing is."""
    from characters import data

    alpha = 1_000_000_000_001
    scope = ("esi-corporations.read_structures.v1",)
    market.characters.trust(signer.jwks())
    clark = make_character(get_user_model().objects.create_user("member"), CLARK, scope)
    clark.corporation_id = 2001
    clark.save()

    def token() -> str:
        return signer.token(CLARK, scope)

    moment = [datetime.now(UTC)]
    esi = EsiClient.from_settings(now=lambda: moment[0])
    outcome = data.refresh_character(clark, client=esi, token_source=token)
    assert "corp_structures" in outcome.stored
    stored = data.load_group(CLARK, "corp_structures")
    assert stored is not None and stored["data"]["structures"] == []
    assert "required role" in stored["data"]["refused"]
    assert not Structure.objects.filter(structure_id=alpha).exists()

    market.characters.station_managers.add(CLARK)
    # A refusal costs one of ESI's errors: the role is asked about again only after a while.
    before = len(market.requests)
    data.refresh_character(clark, client=esi, token_source=token, groups=["corp_structures"])
    assert len(market.requests) == before
    moment[0] += data.ROLE_RECHECK + timedelta(minutes=1)
    data.refresh_character(clark, client=esi, token_source=token, groups=["corp_structures"])
    structure = Structure.objects.get(structure_id=alpha)
    assert structure.learned_from == Structure.Learned.CHARACTER
    assert (structure.name, structure.solar_system_id) == ("", None)  # the id alone
