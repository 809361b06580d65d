"""The profit forms start from the selected character: each skill and standing field shows
the character's value (marked as its own) without submitting it, a value set on the form
replaces that one value only, and the answer's `skills` block says exactly which values
and standings the fees used.

Bruce Wayne here: Accounting IV, Broker Relations V, Advanced Broker Relations III,
standing -1 toward the Caldari State and 4.2 toward the Caldari Navy (the faction and the
corporation that own Jita IV - Moon 4), nothing toward the Amarr Empire. Fee schedule in
force (profit/migrations): sales tax 7.5 % x (1 - 11 % x Accounting); NPC broker fee 3 % -
0.3 % x Broker Relations - 0.03 % x faction standing - 0.02 % x corporation standing, at
least 1 %; relist discount 50 % + 6 % x Advanced Broker Relations.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from playwright.sync_api import Browser, Page, expect

from characters.fees import ACCOUNTING, ADVANCED_BROKER_RELATIONS, BROKER_RELATIONS
from characters.selectors import SESSION_KEY
from market.hubs import HUB_STATIONS
from market.refresh import refresh_region
from profit import fees
from profit.params import SKILL_FIELDS, skills_from_request, skills_json
from sde.places import station_names
from standin.characters import ROSTER
from standin.esi import EsiStandIn
from tests.browser_env import new_page, open_page, screenshot, without_image_server
from tests.characters_setup import make_character, skill, station_trading, store_group
from tests.market_env import DOMAIN, FORGE

pytest_plugins = ["tests.characters_env"]
pytestmark = pytest.mark.django_db(databases=["default", "sde"])

BRUCE, CLARK, PETER = (entry.character_id for entry in ROSTER)
JITA, AMARR = HUB_STATIONS[FORGE], HUB_STATIONS[DOMAIN]
JITA_NAME = "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
CALDARI_NAVY, CALDARI_STATE, AMARR_EMPIRE = 1000035, 500001, 500003

FORMS = {
    "station trading": ("/profit/station-trading/", {"station_id": JITA}),
    "hauling": ("/profit/hauling/", {"from": JITA, "to": AMARR}),
    "calculator": ("/profit/calculator/", {"buy_location": JITA, "sell_location": JITA}),
}


@pytest.fixture
def alice(market: EsiStandIn) -> User:
    """alice, whose selected character is Bruce (fees granted, skills and standings
    fetched); The Forge and Domain published."""
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    user = User.objects.create_user("alice")
    make_character(user, BRUCE)
    store_group(
        BRUCE,
        "skills",
        {
            "skills": [
                skill(ACCOUNTING, 4),
                skill(BROKER_RELATIONS, 5),
                skill(ADVANCED_BROKER_RELATIONS, 3),
            ],
            "total_sp": 0,
        },
    )
    store_group(
        BRUCE,
        "standings",
        [
            {"from_id": CALDARI_NAVY, "from_type": "npc_corp", "standing": 4.2},
            {"from_id": CALDARI_STATE, "from_type": "faction", "standing": -1.0},
        ],
    )
    return user


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field(html: str, name: str) -> dict[str, Any]:
    """One skill field of a form as a person sees it: the options of a select (value, text,
    selected), or an input's value and placeholder, and the note under it."""
    match = re.search(rf'<label class="field" data-skill="{name}"[^>]*>(.*?)</label>', html, re.S)
    assert match, f"no {name} field"
    block = match.group(1)
    options = [
        {"value": value, "text": text.strip(), "selected": bool(selected)}
        for value, selected, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', block
        )
    ]
    inputs = re.search(r'<input type="number"[^>]*value="([^"]*)" placeholder="([^"]*)"', block)
    title = re.search(r'title="([^"]*)"', block)
    note = re.search(r"<small[^>]*data-from>([^<]*)</small>", block)
    return {
        "options": options,
        "value": inputs.group(1) if inputs else None,
        "placeholder": inputs.group(2) if inputs else None,
        "title": title.group(1).replace("&#x27;", "'") if title else None,
        "note": note.group(1).strip() if note else None,
    }


def submitted(options: list[dict[str, Any]]) -> str:
    """What a browser submits for a select: the selected option, else the first."""
    chosen = [o for o in options if o["selected"]] or options[:1]
    return str(chosen[0]["value"])


# --- The forms -----------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_every_profit_form_shows_the_character_s_skills_marked_as_its_own(
    alice: User, form: str
) -> None:
    url, params = FORMS[form]
    html = logged_in(alice).get(url, params).content.decode()
    assert 'data-skills-from="Bruce Wayne"' in html
    for name, level in (("accounting", 4), ("broker_relations", 5)):
        shown = field(html, name)
        # The choice that submits nothing shows the character's level; 0 can be chosen.
        assert shown["options"][0] == {
            "value": "",
            "text": f"{level} (Bruce Wayne)",
            "selected": False,
        }
        assert [o["value"] for o in shown["options"][1:]] == ["0", "1", "2", "3", "4", "5"]
        assert not any(o["selected"] for o in shown["options"])
        assert shown["note"] == "from Bruce Wayne"
    assert field(html, "advanced_broker_relations")["options"][0]["text"] == "3 (Bruce Wayne)"
    faction, corp = field(html, "faction_standing"), field(html, "corp_standing")
    assert faction["value"] == "" and corp["value"] == ""  # nothing submitted unless typed
    assert faction["note"] == corp["note"] == "from Bruce Wayne"
    if form == "hauling":  # Jita (Caldari State -1) and Amarr (Amarr Empire: none, so 0)
        assert faction["placeholder"] == "per station"
        assert f"-1 toward Caldari State at {JITA_NAME}" in faction["title"]
        assert f"0 toward Amarr Empire at {station_names()[AMARR]}" in faction["title"]
        assert corp["placeholder"] == "per station"
    else:
        assert faction["placeholder"] == "-1" and corp["placeholder"] == "4.2"
        assert f"-1 toward Caldari State at {JITA_NAME}" in faction["title"]
        assert f"4.2 toward Caldari Navy at {JITA_NAME}" in corp["title"]


def test_without_a_character_the_fields_mean_0(market: EsiStandIn) -> None:
    html = Client().get("/profit/station-trading/", {"station_id": JITA}).content.decode()
    assert "data-skills-from" not in html and "(empty = 0)" in html
    accounting = field(html, "accounting")
    assert accounting["options"][0] == {"value": "", "text": "0", "selected": False}
    assert accounting["note"] is None
    assert field(html, "faction_standing")["placeholder"] == "0"


def test_the_form_as_shown_searches_with_the_character_s_skills(alice: User) -> None:
    client = logged_in(alice)
    html = client.get("/profit/station-trading/", {"station_id": JITA}).content.decode()
    # Submit it as a browser would: every skill field with what it holds.
    query: dict[str, Any] = {"station_id": JITA}
    for name in ("accounting", "broker_relations", "advanced_broker_relations"):
        query[name] = submitted(field(html, name)["options"])
    for name in ("faction_standing", "corp_standing"):
        query[name] = field(html, name)["value"]
    assert all(query[name] == "" for name in query if name != "station_id")
    page = client.get("/profit/station-trading/", query).content.decode()
    assert "skills from character: Bruce Wayne" in page
    assert "with overrides" not in page


def test_a_level_set_on_the_form_is_shown_as_the_trader_s_own(alice: User) -> None:
    html = (
        logged_in(alice)
        .get("/profit/station-trading/", {"station_id": JITA, "accounting": 3})
        .content.decode()
    )
    accounting = field(html, "accounting")
    assert submitted(accounting["options"]) == "3"
    assert accounting["note"] == "yours; Bruce Wayne: 4"
    assert field(html, "broker_relations")["note"] == "from Bruce Wayne"
    assert "skills from character: Bruce Wayne with overrides: accounting" in html


# --- The answers ---------------------------------------------------------------------------


def test_an_override_changes_that_value_only(alice: User) -> None:
    answer = station_trading(logged_in(alice), accounting=3)
    skills = answer["skills"]
    assert skills["source"] == "character: Bruce Wayne with overrides: accounting"
    assert (skills["accounting"], skills["broker_relations"]) == (3, 5)
    assert skills["advanced_broker_relations"] == 3
    # 7.5 % x (1 - 11 % x 3) = 7.5 % x 0.67 = 5.025 %
    assert answer["rates"]["sales_tax"] == pytest.approx(0.05025)
    # Broker Relations V and both standings are still Bruce's:
    # 3 % - 0.3 % x 5 - 0.03 % x (-1) - 0.02 % x 4.2 = 3 - 1.5 + 0.03 - 0.084 = 1.446 %
    (jita,) = answer["rates"]["locations"]
    assert jita["broker_fee"] == pytest.approx(0.01446)
    assert answer["rates"]["relist_discount"] == pytest.approx(0.68)  # 50 % + 6 % x 3


def test_without_overrides_the_answer_uses_the_character_s_own(alice: User) -> None:
    answer = station_trading(logged_in(alice))
    skills = answer["skills"]
    assert skills["source"] == "character: Bruce Wayne"
    assert (skills["accounting"], skills["broker_relations"]) == (4, 5)
    # 7.5 % x (1 - 11 % x 4) = 7.5 % x 0.56 = 4.2 %
    assert answer["rates"]["sales_tax"] == pytest.approx(0.042)
    (jita,) = answer["rates"]["locations"]
    assert jita["broker_fee"] == pytest.approx(0.01446)  # as above


def test_the_calculator_lays_its_skills_over_the_character_s(alice: User) -> None:
    response = logged_in(alice).post(
        "/api/v1/profit/calculate",
        {
            "type_id": 34,
            "buy_location": JITA,
            "sell_location": JITA,
            "quantity": 1000,
            "mode": "list",
            "skills": {"corp_standing": 0},
        },
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    skills = answer["skills"]
    assert skills["source"] == "character: Bruce Wayne with overrides: corp_standing"
    assert (skills["accounting"], skills["broker_relations"]) == (4, 5)
    # Jita: Bruce's faction standing -1 stays, the Caldari Navy's is 0 now:
    # 3 % - 0.3 % x 5 - 0.03 % x (-1) - 0.02 % x 0 = 1.53 %
    assert answer["breakdown"]["rates"]["broker_fee"] == pytest.approx(0.0153)


def request_for(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    request.session[SESSION_KEY] = BRUCE
    return request


@pytest.mark.parametrize(
    ("given", "jita", "amarr", "source"),
    [
        # Faction standing 5 toward every faction; the Caldari Navy stays Bruce's 4.2:
        # Jita: 3 % - 1.5 % - 0.03 % x 5 - 0.02 % x 4.2 = 3 - 1.5 - 0.15 - 0.084 = 1.266 %
        # Amarr (Amarr Empire, corporation 0): 3 - 1.5 - 0.15 = 1.35 %
        ({"faction_standing": 5.0}, 0.01266, 0.0135, "faction_standing"),
        # Corporation standing 10 toward every owner; the Caldari State stays Bruce's -1:
        # Jita: 3 - 1.5 + 0.03 - 0.2 = 1.33 %; Amarr: 3 - 1.5 - 0.2 = 1.3 %
        ({"corp_standing": 10.0}, 0.0133, 0.013, "corp_standing"),
        # Broker Relations 0 keeps both standings: Jita 3 + 0.03 - 0.084 = 2.946 %
        ({"broker_relations": 0}, 0.02946, 0.03, "broker_relations"),
    ],
)
def test_a_standing_set_replaces_that_standing_only(
    alice: User, given: dict[str, Any], jita: float, amarr: float, source: str
) -> None:
    skills, said = skills_from_request(request_for(alice), given)
    assert said == f"character: Bruce Wayne with overrides: {source}"
    assert fees.broker_fee_rate(JITA, skills) == pytest.approx(jita)
    assert fees.broker_fee_rate(AMARR, skills) == pytest.approx(amarr)


def test_without_a_character_a_field_set_leaves_the_others_0(market: EsiStandIn) -> None:
    skills, source = skills_from_request(request_for(AnonymousUser()), {"accounting": 3})
    assert source == "parameters"
    assert skills == fees.Skills(accounting=3)
    assert skills_from_request(None, {}) == (fees.Skills(), "defaults")


def test_the_skills_block_states_the_standings_used_at_each_station(alice: User) -> None:
    skills, source = skills_from_request(request_for(alice), {})
    one = skills_json(skills, source, fees.rates_used(skills, [JITA]))
    assert (one["faction_standing"], one["corp_standing"]) == (-1.0, 4.2)
    assert one["standings"] == {str(CALDARI_STATE): -1.0, str(CALDARI_NAVY): 4.2}
    (jita,) = one["standings_used"]
    assert jita["faction_name"] == "Caldari State" and jita["faction_standing"] == -1.0
    assert jita["corporation_name"] == "Caldari Navy" and jita["corp_standing"] == 4.2
    assert jita["location_ids"] == [JITA]
    # Two stations, two owners: no one pair of numbers, each station's in standings_used.
    two = skills_json(skills, source, fees.rates_used(skills, [JITA, AMARR]))
    assert (two["faction_standing"], two["corp_standing"]) == (None, None)
    used = {u["location_ids"][0]: u for u in two["standings_used"]}
    assert (used[AMARR]["faction_id"], used[AMARR]["faction_standing"]) == (AMARR_EMPIRE, 0.0)
    assert used[JITA]["faction_standing"] == -1.0
    # Without the rates (an answer that names no station) the map the fees use.
    bare = skills_json(skills, source)
    assert bare["faction_standing"] is None and bare["standings"] == one["standings"]


def test_the_answer_states_the_standings_its_fees_used(alice: User) -> None:
    """The API's block, not 0.0 while the fee used -1 and 4.2 (profit/answers.py passes the
    answer's rates to skills_json)."""
    skills = station_trading(logged_in(alice))["skills"]
    assert skills["character_standings"] is True
    assert (skills["faction_standing"], skills["corp_standing"]) == (-1.0, 4.2)
    assert skills["standings_used"][0]["location_ids"] == [JITA]


# --- In a browser --------------------------------------------------------------------------


@pytest.fixture
def alice_session(alice: User) -> str:
    """alice's session key, made before the browser starts (it refuses database work)."""
    client = logged_in(alice)
    return str(client.cookies["sessionid"].value)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, databases=["default", "sde"])
@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_what_if_in_the_browser_changes_one_field_and_the_page_fits(
    alice_session: str, live_server: Any, browser: Browser, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    page = new_page(browser, viewport={"width": width, "height": height})
    page.context.add_cookies(
        [{"name": "sessionid", "value": alice_session, "url": live_server.url}]
    )
    without_image_server(page)
    try:
        open_page(page, f"{live_server.url}/profit/station-trading/?station_id={JITA}")
        summary = page.locator("[data-more-skills] summary")
        expect(summary).to_contain_text("from Bruce Wayne")  # collapsed, and says whose
        summary.click()
        skills = page.locator("fieldset[data-skills-from='Bruce Wayne']")
        accounting = skills.locator("select[name=accounting]")
        expect(accounting.locator("option:checked")).to_have_text("4 (Bruce Wayne)")
        expect(skills.locator("[data-skill=broker_relations] [data-from]")).to_be_visible()
        expect(skills.locator("[data-skill=broker_relations] [data-from]")).to_have_text(
            "from Bruce Wayne"
        )
        expect(skills.locator("input[name=faction_standing]")).to_have_attribute(
            "placeholder", "-1"
        )
        assert fits(page), "the page scrolls sideways"
        screenshot(page, f"character-forms-{width}")
        # Try Accounting III: only that field changes.
        accounting.select_option("3")
        page.get_by_role("button", name="Find trades").click()
        expect(page).to_have_url(re.compile(r"accounting=3"))
        # The character's own values were not sent back as what-ifs.
        sent = parse_qs(urlsplit(page.url).query)
        assert {k: v for k, v in sent.items() if k in SKILL_FIELDS} == {"accounting": ["3"]}
        expect(page.locator("[data-rates]")).to_contain_text(
            "skills from character: Bruce Wayne with overrides: accounting"
        )
        broker = page.locator("select[name=broker_relations] option:checked")
        expect(broker).to_have_text("5 (Bruce Wayne)")
        expect(page.locator("[data-skill=accounting] [data-from]")).to_have_text(
            "yours; Bruce Wayne: 4"
        )
        assert fits(page), "the page scrolls sideways"
    finally:
        page.context.close()


def fits(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )
