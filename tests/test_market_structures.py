"""Upwell structures (issue 15, market/structures.py): learned from the region books' ranged
bids and ESI's public list, read back by the API, handled by an operator in the admin; the
ESI stand-in's public list."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from market import structures
from market.models import Structure
from market.refresh import refresh_region
from market.tasks import learn_public_structures, refresh_region_task
from standin.esi import EsiStandIn
from tests.market_env import DOMAIN, FORGE, a_structure_with_sells, structures_in_book

pytestmark = pytest.mark.django_db(databases=["default", "sde"])
pytest_plugins = ["tests.characters_env"]  # the token signer

PERIMETER_TTT = 1028858195912  # Tranquility Trading Tower, Perimeter (The Forge)
PERIMETER = 30000144


def test_a_published_book_teaches_the_structures_of_its_ranged_bids(market):
    expected = structures_in_book(market, FORGE)
    assert expected  # the generated Forge book has structure bids
    assert refresh_region_task(FORGE) == "published"
    learned = {s.structure_id: s for s in Structure.objects.all()}
    assert set(learned) == set(expected)
    for structure_id, system_id in expected.items():
        structure = learned[structure_id]
        assert structure.solar_system_id == system_id
        assert structure.region_id == FORGE
        assert structure.learned_from == Structure.Learned.REGION_BOOK
        assert structure.name == ""  # ESI tells names only with docking access
    # Learning again changes nothing and adds nothing.
    refresh_region(FORGE)
    assert structures.learn_from_published(FORGE) == 0
    assert Structure.objects.count() == len(expected)


def test_the_public_list_adds_what_the_books_do_not_show(market):
    refresh_region_task(FORGE)
    in_books = set(structures_in_book(market, FORGE))
    market.public_structures = [*sorted(in_books)[:1], PERIMETER_TTT]
    assert learn_public_structures() == 1  # the one the books did not show
    perimeter = Structure.objects.get(structure_id=PERIMETER_TTT)
    assert perimeter.learned_from == Structure.Learned.PUBLIC_LIST
    assert perimeter.solar_system_id is None  # the list gives ids only
    first = Structure.objects.get(structure_id=sorted(in_books)[0])
    assert first.learned_from == Structure.Learned.REGION_BOOK  # where it was learned first
    # A book that shows it later places it.
    assert structures.learn({PERIMETER_TTT: PERIMETER}, Structure.Learned.REGION_BOOK) == 0
    perimeter.refresh_from_db()
    assert (perimeter.solar_system_id, perimeter.region_id) == (PERIMETER, FORGE)
    assert perimeter.learned_from == Structure.Learned.PUBLIC_LIST


def test_ids_below_the_structure_range_are_never_structures(db):
    assert structures.learn({60003760: 30000142}, Structure.Learned.OPERATOR) == 0
    assert not Structure.objects.exists()


def test_the_stand_in_serves_the_public_list_as_esi_does(esi):
    answer = requests.get(f"{esi.base_url}/latest/universe/structures/?filter=market")
    assert answer.status_code == 200
    assert answer.json() == sorted(structures_in_book(esi, FORGE) | structures_in_book(esi, DOMAIN))
    assert "Expires" in answer.headers and "ETag" in answer.headers
    again = requests.get(
        f"{esi.base_url}/latest/universe/structures/?filter=market",
        headers={"If-None-Match": answer.headers["ETag"]},
    )
    assert again.status_code == 304
    wrong = requests.get(f"{esi.base_url}/latest/universe/structures/?filter=shopping")
    assert wrong.status_code == 400


# --- API -----------------------------------------------------------------------------------


def test_the_api_lists_every_known_structure_with_how_it_was_learned(client, market):
    structures.learn({PERIMETER_TTT: PERIMETER}, Structure.Learned.PUBLIC_LIST)
    structures.learn({1_000_000_000_001: None}, Structure.Learned.OPERATOR)
    body = client.get("/api/v1/market/structures").json()
    assert body["count"] == 2
    perimeter = next(s for s in body["results"] if s["id"] == PERIMETER_TTT)
    assert perimeter["name"] is None
    assert perimeter["system_id"] == PERIMETER
    assert perimeter["system_name"] == "Perimeter"
    assert perimeter["region_id"] == FORGE
    assert perimeter["region_name"] == "The Forge"
    assert perimeter["security"] == 1.0
    assert perimeter["learned_from"] == "public_list"
    assert perimeter["market_status"] == "no_access"
    assert perimeter["last_refresh"] is None and perimeter["order_count"] is None
    in_forge = client.get("/api/v1/market/structures", {"region_id": FORGE}).json()
    assert [s["id"] for s in in_forge["results"]] == [PERIMETER_TTT]
    one = client.get(f"/api/v1/market/structures/{PERIMETER_TTT}")
    assert one.status_code == 200 and one.json() == perimeter


def test_structure_answers_match_the_schema(client, db):
    from tests.schema_check import validator

    schema = client.get("/api/schema/", {"format": "json"}).json()
    structures.learn({PERIMETER_TTT: PERIMETER}, Structure.Learned.PUBLIC_LIST)
    listed = client.get("/api/v1/market/structures").json()
    validator(schema, "/api/v1/market/structures", "get", "200").validate(listed)
    one = client.get(f"/api/v1/market/structures/{PERIMETER_TTT}").json()
    validator(schema, "/api/v1/market/structures/{structure_id}", "get", "200").validate(one)
    missing = client.get("/api/v1/market/structures/1000000000002").json()
    validator(schema, "/api/v1/market/structures/{structure_id}", "get", "404").validate(missing)


def test_a_named_structure_shows_its_name(client, db):
    Structure.objects.create(
        structure_id=PERIMETER_TTT,
        name="Perimeter - Tranquility Trading Tower",
        solar_system_id=PERIMETER,
        region_id=FORGE,
        learned_from=Structure.Learned.OPERATOR,
        market_status=Structure.Status.SHARED,
    )
    body = client.get(f"/api/v1/market/structures/{PERIMETER_TTT}").json()
    assert body["name"] == "Perimeter - Tranquility Trading Tower"


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/v1/market/structures/1000000000002", 404, "not known here"),
        ("/api/v1/market/structures?market_status=open", 400, "market_status"),
        ("/api/v1/market/structures?region_id=%D9%A1", 400, "region_id"),  # an Arabic digit
    ],
)
def test_bad_structure_requests_say_why(client, db, url, status, says):
    response = client.get(url)
    assert response.status_code == status
    assert says in str(response.json())


# --- Admin ---------------------------------------------------------------------------------


def test_an_operator_adds_a_structure_placed_in_its_region(admin_client):
    response = admin_client.post(
        reverse("admin:market_structure_add"),
        {
            "structure_id": str(PERIMETER_TTT),
            "name": "",
            "solar_system_id": str(PERIMETER),
            "learned_from": "operator",
            "market_status": "no_access",
            "broker_fee": "0.01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Structure.objects.get(structure_id=PERIMETER_TTT)
    assert added.region_id == FORGE  # from the system, by the SDE
    assert float(added.broker_fee) == 0.01


def test_an_operator_suspends_and_resumes_a_market(admin_client):
    structures.learn({PERIMETER_TTT: PERIMETER}, Structure.Learned.PUBLIC_LIST)
    changelist = reverse("admin:market_structure_changelist")
    chosen = {"_selected_action": [str(PERIMETER_TTT)]}
    admin_client.post(changelist, {"action": "suspend", **chosen})
    assert Structure.objects.get().market_status == Structure.Status.SUSPENDED
    listed = admin_client.get(changelist).content.decode()
    assert "Suspended by an operator" in listed
    admin_client.post(changelist, {"action": "resume", **chosen})
    assert Structure.objects.get().market_status == Structure.Status.NO_ACCESS


# --- A structure's whole book, read with a member's token ----------------------------------

BRUCE = 1001
STRUCTURE_MARKETS = "esi-markets.structure_markets.v1"


@pytest.fixture
def member_token(market: EsiStandIn, signer) -> str:
    market.characters.trust(signer.jwks())
    return signer.token(BRUCE, [STRUCTURE_MARKETS])


def test_a_structure_book_is_read_with_a_member_token_and_published(market, member_token):
    from market import publish
    from market.structure_refresh import refresh_structure

    market.page_size = 5  # several pages: the token goes with every one
    market.generate(FORGE, 2_000)
    structure_id, system_id = a_structure_with_sells(market, FORGE)
    structures.learn({structure_id: system_id}, Structure.Learned.REGION_BOOK)
    assert refresh_structure(structure_id, member_token) == "published"
    meta = publish.current_meta(structure_id)
    assert meta is not None
    expected = market.structure_orders(structure_id)
    assert meta.pages == -(-len(expected) // 5) > 1
    assert meta.orders == len(expected)
    snapshot = publish.load(structure_id)
    assert snapshot is not None and snapshot.meta.generation == meta.generation
    book = snapshot.book
    assert sorted(book["order_id"].tolist()) == sorted(o["order_id"] for o in expected)
    assert set(book["location_id"].tolist()) == {structure_id}
    assert set(book["system_id"].tolist()) == {system_id}  # its system, from the Structure
    sells = sum(1 for o in expected if not o["is_buy_order"])
    assert int((~book["is_buy_order"]).sum()) == sells > 0  # what no region book shows
    row = Structure.objects.get(structure_id=structure_id)
    assert row.market_status == Structure.Status.SHARED
    assert row.order_count == len(expected) and row.last_refresh is not None


def test_an_unchanged_structure_book_is_kept_with_its_new_expires(market, member_token):
    from market import publish
    from market.structure_refresh import refresh_structure

    market.page_size = 5
    market.generate(FORGE, 2_000)
    structure_id, system_id = a_structure_with_sells(market, FORGE)
    structures.learn({structure_id: system_id}, Structure.Learned.REGION_BOOK)
    assert refresh_structure(structure_id, member_token) == "published"
    first = publish.current_meta(structure_id)
    assert first is not None and first.pages > 1
    before = len(market.requests)
    assert refresh_structure(structure_id, member_token) == "not_modified"
    asked = market.requests[before:]
    # One call: page 1 with its ETag, answered 304 under the same Last-Modified.
    assert [(r.query.get("page"), r.status) for r in asked] == [("1", 304)]
    assert asked[0].headers["If-None-Match"] == first.page_etags[0]
    again = publish.current_meta(structure_id)
    assert again is not None and again.generation == first.generation
    assert again.fetched_at >= first.fetched_at
    # A changed book (new orders, a new Last-Modified) is read whole and published anew.
    market.generate(FORGE, 2_000, seed=9)
    assert market.structure_orders(structure_id)  # the structure still has a book
    assert refresh_structure(structure_id, member_token) == "published"
    changed = publish.current_meta(structure_id)
    assert changed is not None and changed.generation != first.generation


def test_a_refused_token_publishes_nothing(market, member_token):
    from market import publish
    from market.structure_refresh import StructureAccessDenied, refresh_structure

    structure_id, system_id = a_structure_with_sells(market, FORGE)
    structures.learn({structure_id: system_id}, Structure.Learned.REGION_BOOK)
    market.characters.market_denied.add((BRUCE, structure_id))
    with pytest.raises(StructureAccessDenied, match="Market access denied"):
        refresh_structure(structure_id, member_token)
    assert publish.load(structure_id) is None
    row = Structure.objects.get(structure_id=structure_id)
    assert row.market_status == Structure.Status.NO_ACCESS and row.last_refresh is None


def test_a_suspended_structure_is_never_asked_for(market, member_token):
    from market.structure_refresh import StructureSuspended, refresh_structure

    structure_id, system_id = a_structure_with_sells(market, FORGE)
    structures.learn({structure_id: system_id}, Structure.Learned.REGION_BOOK)
    Structure.objects.filter(structure_id=structure_id).update(
        market_status=Structure.Status.SUSPENDED
    )
    before = len(market.requests)
    with pytest.raises(StructureSuspended):
        refresh_structure(structure_id, member_token)
    assert len(market.requests) == before
