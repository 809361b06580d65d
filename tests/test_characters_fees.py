"""Fees follow the character: `skills_for` reads Accounting, Broker Relations, Advanced Broker
Relations and the NPC standings from the stored data, and a logged-in user's profit answers use
the selected character's (a parameter replaces that one value; each answer says which it used)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from characters import data
from characters.fees import (
    ACCOUNTING,
    ADVANCED_BROKER_RELATIONS,
    BROKER_RELATIONS,
    character_skills_for_request,
    skills_for,
)
from characters.models import Character
from characters.scopes import FEATURES, join_scopes
from characters.selectors import SESSION_KEY
from market.hubs import HUB_STATIONS
from market.refresh import refresh_region
from profit.fees import Skills, broker_fee_rate
from sde.models import InvType
from standin.characters import ROSTER
from standin.esi import EsiStandIn
from tests.characters_setup import fetch, make_character, skill, station_trading, store_group
from tests.characters_tokens import ALL_SCOPES, ISSUER, TokenSigner
from tests.market_env import FORGE

pytest_plugins = ["tests.characters_env"]
pytestmark = pytest.mark.django_db(databases=["default", "sde"])

BRUCE, CLARK, PETER = (entry.character_id for entry in ROSTER)
JITA = HUB_STATIONS[FORGE]
CALDARI_NAVY, CALDARI_STATE = 1000035, 500001  # Jita IV - Moon 4's owner and its faction


@pytest.fixture
def alice(market: EsiStandIn) -> User:  # market: an isolated store per test
    return User.objects.create_user("alice")


def test_the_skill_ids_are_the_sde_s() -> None:
    names = dict(
        InvType.objects.filter(
            type_id__in=[ACCOUNTING, BROKER_RELATIONS, ADVANCED_BROKER_RELATIONS]
        ).values_list("type_id", "type_name")
    )
    assert names == {
        ACCOUNTING: "Accounting",
        BROKER_RELATIONS: "Broker Relations",
        ADVANCED_BROKER_RELATIONS: "Advanced Broker Relations",
    }


@pytest.mark.parametrize(
    ("skills", "standings", "expected"),
    [
        # a trader: every fee skill, standings toward Jita's owner and its faction
        (
            [skill(ACCOUNTING, 5), skill(BROKER_RELATIONS, 4), skill(ADVANCED_BROKER_RELATIONS, 3)],
            [
                {"from_id": CALDARI_NAVY, "from_type": "npc_corp", "standing": 6.5},
                {"from_id": CALDARI_STATE, "from_type": "faction", "standing": 2.0},
                {"from_id": 3008416, "from_type": "agent", "standing": 9.9},  # agents: no fee
            ],
            Skills(
                accounting=5,
                broker_relations=4,
                advanced_broker_relations=3,
                standings={CALDARI_NAVY: 6.5, CALDARI_STATE: 2.0},
            ),
        ),
        # other skills only, and no standings at all
        ([skill(3443, 5), skill(16598, 2)], [], Skills(standings={})),
        # skills fetched, standings never fetched: neutral standings from the parameters' way
        ([skill(ACCOUNTING, 1)], None, Skills(accounting=1, standings=None)),
    ],
)
def test_skills_for_reads_the_stored_skills_and_standings(
    alice: User, skills: list[dict[str, int]], standings: Any, expected: Skills
) -> None:
    bruce = make_character(alice, BRUCE, ALL_SCOPES)
    store_group(BRUCE, "skills", {"skills": skills, "total_sp": 0, "unallocated_sp": 0})
    if standings is not None:
        store_group(BRUCE, "standings", standings)
    assert skills_for(bruce) == expected


def test_standings_toward_the_station_owner_lower_the_broker_fee(alice: User) -> None:
    bruce = make_character(alice, BRUCE, ALL_SCOPES)
    store_group(BRUCE, "skills", {"skills": [skill(BROKER_RELATIONS, 5)], "total_sp": 0})
    store_group(
        BRUCE,
        "standings",
        [
            {"from_id": CALDARI_NAVY, "from_type": "npc_corp", "standing": 5.0},
            {"from_id": CALDARI_STATE, "from_type": "faction", "standing": 5.0},
        ],
    )
    # 3 % - 5 x 0.3 % - 5 x 0.03 % - 5 x 0.02 % = 1.25 %
    assert broker_fee_rate(JITA, skills_for(bruce)) == pytest.approx(0.0125)


def test_a_character_with_nothing_fetched_has_no_skills(alice: User) -> None:
    assert skills_for(make_character(alice, PETER, ())) == Skills()


def request_for(user: Any, selected: int | None = None) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    if selected is not None:
        request.session[SESSION_KEY] = selected
    return request


def test_the_request_s_selected_character_sets_the_skills(alice: User) -> None:
    make_character(alice, BRUCE, ALL_SCOPES)
    make_character(alice, CLARK, ALL_SCOPES)
    store_group(BRUCE, "skills", {"skills": [skill(ACCOUNTING, 5)], "total_sp": 0})
    store_group(CLARK, "skills", {"skills": [skill(ACCOUNTING, 2)], "total_sp": 0})
    bruce = character_skills_for_request(request_for(alice))
    assert bruce is not None and bruce[1] == "character: Bruce Wayne"  # the first by name
    assert bruce[0].accounting == 5 and bruce.holder == "Bruce Wayne"  # the forms name it
    clark = character_skills_for_request(request_for(alice, CLARK))
    assert clark is not None and clark[1] == "character: Clark Kent"
    assert clark[0].accounting == 2


def test_no_character_skills_without_a_character_the_feature_or_its_data(alice: User) -> None:
    assert character_skills_for_request(None) is None
    assert character_skills_for_request(request_for(AnonymousUser())) is None
    assert character_skills_for_request(request_for(alice)) is None  # no character
    make_character(alice, CLARK, FEATURES["wallet"].scopes)  # fees not granted
    store_group(CLARK, "skills", {"skills": [skill(ACCOUNTING, 5)], "total_sp": 0})
    assert character_skills_for_request(request_for(alice)) is None
    Character.objects.filter(pk=CLARK).update(scopes=join_scopes(ALL_SCOPES))
    data.forget(CLARK)  # granted, but not fetched yet
    assert character_skills_for_request(request_for(alice)) is None


# --- Profit answers ------------------------------------------------------------------------------


@pytest.fixture
def traders(market: EsiStandIn, signer: TokenSigner) -> User:
    """alice with Bruce (Accounting V, Broker Relations V) and Clark (Accounting II, Broker
    Relations I), both fetched from the stand-in; The Forge published."""
    market.characters.trust(signer.jwks(), issuer=ISSUER)
    refresh_region(FORGE)
    alice = User.objects.create_user("alice")
    for character_id in (BRUCE, CLARK):
        fetch(make_character(alice, character_id, ALL_SCOPES), signer, ALL_SCOPES)
    return alice


def test_profit_answers_use_the_selected_character_unless_parameters_say_otherwise(
    traders: User,
) -> None:
    anonymous = station_trading(Client())
    assert anonymous["skills"]["source"] == "defaults"
    alice = Client()
    alice.force_login(traders)
    bruce = station_trading(alice)
    assert bruce["skills"]["source"] == "character: Bruce Wayne"
    assert bruce["skills"]["accounting"] == 5 and bruce["skills"]["broker_relations"] == 5
    assert bruce["skills"]["character_standings"] is True
    session = alice.session
    session[SESSION_KEY] = CLARK
    session.save()
    clark = station_trading(alice)
    assert clark["skills"]["source"] == "character: Clark Kent"
    assert clark["skills"]["accounting"] == 2
    assert clark["rates"]["sales_tax"] > bruce["rates"]["sales_tax"]  # fees follow the character
    assert anonymous["rates"]["sales_tax"] > clark["rates"]["sales_tax"]
    override = station_trading(alice, accounting=0)  # Clark's other values stay
    assert override["skills"]["source"] == "character: Clark Kent with overrides: accounting"
    assert override["skills"]["accounting"] == 0
    assert override["skills"]["broker_relations"] == clark["skills"]["broker_relations"]
    assert override["rates"]["sales_tax"] == anonymous["rates"]["sales_tax"]
    assert override["rates"]["locations"] == clark["rates"]["locations"]  # the broker fee
