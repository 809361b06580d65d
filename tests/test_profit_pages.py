"""The profit pages without JavaScript: forms with defaults that submit GET, the same rows as
the API, sortable headers, CSV and permalink links, helpful empty states and errors."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from market import publish
from profit import selectors
from tests.market_env import DOMAIN, FORGE
from tests.test_profit_api import AMARR, HEK, JITA, STATION_URL, TRITANIUM, build

pytestmark = pytest.mark.django_db(databases=["default", "sde"])


@pytest.fixture
def books(market) -> dict[int, Any]:
    snapshots = {FORGE: build(FORGE, 12_000), DOMAIN: build(DOMAIN, 4_000)}
    for snapshot in snapshots.values():
        publish.publish(snapshot)
    selectors.computed.clear()
    return snapshots


def html(response) -> str:
    return response.content.decode()


def row_types(page: str) -> list[int]:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return [int(t) for t in re.findall(r'<tr data-type="(\d+)"', body)]


def link(page: str, marker: str) -> str:
    match = re.search(r'<a href="([^"]+)" ' + marker, page)
    assert match, marker
    return unescape(match.group(1))


def selected(page: str, name: str) -> list[str]:
    """The values a select of the page has selected."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)" selected>', select[1])


def api(client, url: str, **params: Any) -> dict[str, Any]:
    return dict(client.get(url, params, HTTP_ACCEPT="application/json").json())


# --- Navigation ----------------------------------------------------------------------------


def test_the_nav_links_the_profit_pages(client, books):
    page = html(client.get("/profit/hauling/"))
    for url in ("/profit/station-trading/", "/profit/hauling/", "/profit/calculator/"):
        assert f'href="{url}"' in page
    assert '<a href="/profit/hauling/" aria-current="page">Hauling</a>' in page
    assert client.get("/profit/").url == "/profit/station-trading/"


# --- Station trading -----------------------------------------------------------------------


def test_station_trading_defaults_to_jita_and_shows_the_apis_rows(client, books):
    response = client.get("/profit/station-trading/")
    assert response.status_code == 200
    page = html(response)
    assert '<form class="panel profit-form" method="get"' in page
    assert f'<option value="{JITA}" selected>' in page
    expected = api(client, STATION_URL, station_id=JITA)["results"]
    assert row_types(page) == [row["type_id"] for row in expected]
    assert "Jita IV - Moon 4 - Caldari Navy Assembly Plant" in page
    assert 'aria-sort="descending"' in page  # profit per unit, the default order


def test_the_form_submits_filters_skills_and_sort(client, books):
    response = client.get(
        "/profit/station-trading/",
        {
            "station_id": AMARR,
            "min_margin_pct": "2",
            "accounting": "5",
            "broker_relations": "3",
            "sort": "-margin",
        },
    )
    page = html(response)
    expected = api(
        client,
        STATION_URL,
        station_id=AMARR,
        min_margin=0.02,
        accounting=5,
        broker_relations=3,
        sort="-margin",
    )["results"]
    assert row_types(page) == [row["type_id"] for row in expected]
    assert '<option value="5" selected>5</option>' in page
    assert "skills from parameters" in page
    assert 'data-key="margin" data-kind="pct" class="num" aria-sort="descending"' in page


def test_headers_sort_on_the_server(client, books):
    page = html(client.get("/profit/station-trading/"))
    match = re.search(r'data-key="roi"[^>]*>\s*<a class="sort-link" href="([^"]+)"', page)
    assert match
    href = unescape(match.group(1))
    assert "sort=-roi" in href
    sorted_page = html(client.get("/profit/station-trading/" + href))
    expected = api(client, STATION_URL, station_id=JITA, sort="-roi")["results"]
    assert row_types(sorted_page) == [row["type_id"] for row in expected]
    again = re.search(
        r'data-key="roi"[^>]*aria-sort="descending"[^>]*>\s*<a class="sort-link" href="([^"]+)"',
        sorted_page,
    )
    assert again and "sort=roi" in unescape(again.group(1))


def test_csv_and_permalink_links(client, books):
    page = html(client.get("/profit/station-trading/", {"min_margin_pct": "1", "accounting": "4"}))
    csv_href = link(page, "data-csv")
    query = parse_qs(urlsplit(csv_href).query)
    assert urlsplit(csv_href).path == STATION_URL
    assert query["format"] == ["csv"]
    assert query["min_margin"] == ["0.01"]
    assert query["accounting"] == ["4"]
    csv_response = client.get(csv_href)
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    permalink = link(page, "data-permalink")
    assert parse_qs(urlsplit(permalink).query)["snapshots"] == [
        f"{FORGE}:{books[FORGE].meta.generation}"
    ]
    publish.publish(build(FORGE, 12_000, seed=3))
    replay = html(client.get(permalink))
    assert row_types(replay) == row_types(page)
    assert "Use the current snapshot" in replay


def test_pages_page_through_the_rows(client, books):
    rows = api(client, STATION_URL, station_id=JITA, page_size=1000)["results"]
    first = html(client.get("/profit/station-trading/", {"page_size": 4}))
    assert row_types(first) == [r["type_id"] for r in rows[:4]]
    assert 'data-complete="false"' in first
    next_href = re.search(r'<a href="([^"]+)" rel="next"', first)
    assert next_href
    second = html(client.get("/profit/station-trading/" + unescape(next_href.group(1))))
    assert row_types(second) == [r["type_id"] for r in rows[4:8]]


def test_no_snapshot_yet_says_so_and_links_the_status(client, market):
    response = client.get("/profit/station-trading/")
    assert response.status_code == 503
    page = html(response)
    assert "No market snapshot yet" in page
    assert 'href="/market/status/"' in page
    assert "<table" not in page


def test_an_expired_permalink_offers_the_current_snapshot(client, books):
    response = client.get(
        "/profit/station-trading/", {"snapshots": f"{FORGE}:20200101T000000-aaaaaa"}
    )
    assert response.status_code == 410
    page = html(response)
    assert "This permalink has expired" in page
    current = re.search(r'<a href="([^"]+)">Run the same search on the current snapshot', page)
    assert current and "snapshots" not in unescape(current.group(1))
    assert client.get(unescape(current.group(1))).status_code == 200


def test_bad_input_is_shown_on_the_form(client, books):
    response = client.get("/profit/station-trading/", {"accounting": "7", "min_margin_pct": "lots"})
    assert response.status_code == 400
    page = html(response)
    assert 'class="field__error"' in page
    assert "less than or equal to 5" in page
    assert "Enter a number (percent)." in page


def test_an_untracked_station_is_explained(client, books):
    response = client.get("/profit/station-trading/", {"station_id": HEK})
    assert response.status_code == 404
    assert "not tracked" in html(response)


def test_no_matching_trades_is_an_empty_state(client, books):
    page = html(client.get("/profit/station-trading/", {"min_profit": "1e15"}))
    assert "data-no-rows" in page
    assert "<tbody>" not in page


# --- Hauling -------------------------------------------------------------------------------


def test_hauling_defaults_to_jita_to_amarr_in_the_default_hauler(client, books, settings):
    page = html(client.get("/profit/hauling/"))
    assert f'<option value="{JITA}" selected>' in page
    assert f'<option value="{AMARR}" selected>' in page
    # the boards' hauler: 60,000 m3 and 500M ISK a trip (config/settings.py)
    assert (settings.PROFIT_BOARD_CARGO_M3, settings.PROFIT_BOARD_BUDGET) == (60_000, 500e6)
    assert 'value="60000"' in page and 'value="500000000"' in page
    expected = api(
        client,
        "/api/v1/profit/hauling",
        **{"from": JITA, "to": AMARR},
        cargo_m3=60_000,
        budget=500_000_000,
    )["results"]
    assert row_types(page) == [row["type_id"] for row in expected]
    assert "Jita IV - Moon 4" in page and "Amarr VIII" in page


def test_the_hauler_a_person_chose_is_remembered_by_their_browser(client, books):
    chosen = client.get("/profit/hauling/", {"cargo_m3": "5000", "budget": "100000000"})
    assert chosen.status_code == 200
    assert chosen.cookies["hauler"].value == "cargo_m3=5000&budget=100000000"
    again = html(client.get("/profit/hauling/"))  # the cookie comes back with the client
    assert 'value="5000"' in again and 'value="100000000"' in again
    expected = api(
        client,
        "/api/v1/profit/hauling",
        **{"from": JITA, "to": AMARR},
        cargo_m3=5000,
        budget=100_000_000,
    )["results"]
    assert row_types(again) == [row["type_id"] for row in expected]


def test_a_hauler_field_left_empty_means_no_limit(client, books):
    page = html(client.get("/profit/hauling/", {"cargo_m3": "", "budget": ""}))
    unlimited = api(client, "/api/v1/profit/hauling", **{"from": JITA, "to": AMARR})["results"]
    assert row_types(page) == [row["type_id"] for row in unlimited]
    csv_query = parse_qs(urlsplit(link(page, "data-csv")).query)
    assert "cargo_m3" not in csv_query and "budget" not in csv_query
    # the choice is remembered too, and a sort link keeps it
    assert client.cookies["hauler"].value == "cargo_m3=none&budget=none"
    assert "cargo_m3=none" in unescape(page)


def test_hauling_region_to_region_in_list_mode(client, books):
    params = {"from": FORGE, "to": DOMAIN, "mode": "list", "cargo_m3": "10000", "min_roi_pct": "5"}
    page = html(client.get("/profit/hauling/", params))
    expected = api(
        client,
        "/api/v1/profit/hauling",
        **{"from": FORGE, "to": DOMAIN},
        mode="list",
        cargo_m3=10000,
        budget=500_000_000,  # the default hauler's: the form left it alone
        min_roi=0.05,
    )["results"]
    assert row_types(page) == [row["type_id"] for row in expected]
    assert '<option value="list" selected>' in page
    csv_query = parse_qs(urlsplit(link(page, "data-csv")).query)
    assert csv_query["min_roi"] == ["0.05"]


# --- The calculator ------------------------------------------------------------------------


def test_the_calculator_form_has_defaults_and_no_result(client, books):
    response = client.get("/profit/calculator/")
    page = html(response)
    assert response.status_code == 200
    assert 'name="type_id"' in page and 'value="1000"' in page
    assert "data-breakdown" not in page


def test_the_calculator_prices_a_trade_by_name(client, books):
    response = client.get(
        "/profit/calculator/",
        {"type_id": "tritanium", "quantity": "5000", "buy_location": JITA, "sell_location": AMARR},
    )
    assert response.status_code == 200
    page = html(response)
    body = client.post(
        "/api/v1/profit/calculate",
        {"type_id": TRITANIUM, "buy_location": JITA, "sell_location": AMARR, "quantity": 5000},
        content_type="application/json",
    ).json()
    assert "data-breakdown" in page
    for line in body["breakdown"]["lines"]:
        assert unescape(line["label"]) in unescape(page)
    net = body["breakdown"]["totals"]["net_profit"]
    assert f'data-figure="net_profit">{net:,.2f}' in page
    assert link(page, "data-permalink").startswith("/profit/calculator/?")


def test_the_calculator_explains_an_unknown_item(client, books):
    response = client.get("/profit/calculator/", {"type_id": "zzqqxx nothing"})
    assert response.status_code == 400
    assert "No market item matches" in html(response)


def test_the_calculator_without_a_snapshot(client, market):
    response = client.get("/profit/calculator/", {"type_id": TRITANIUM})
    assert response.status_code == 503
    assert "No market snapshot yet" in html(response)


def test_a_store_outage_keeps_serving_the_loaded_snapshot(client, books, settings, monkeypatch):
    from store import reset_store

    # The process asks the store again only once these windows pass; a fast machine makes
    # both requests within them, and the outage would go unseen.
    monkeypatch.setattr(publish, "POINTER_TTL", 0.0)
    monkeypatch.setattr(publish, "META_TTL", 0.0)
    before = row_types(html(client.get("/profit/station-trading/")))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    reset_store()
    selectors.computed.clear()
    response = client.get("/profit/station-trading/")
    assert response.status_code == 200
    page = html(response)
    assert row_types(page) == before
    assert 'data-banner="unavailable"' in page
    home = client.get("/")
    assert home.status_code == 200
    assert "The boards are unavailable" in html(home)


@pytest.mark.parametrize("url", ["/profit/hauling/", "/profit/calculator/"])
def test_the_route_the_form_shows_is_the_route_computed(client, books, url):
    """One default (high-sec, shortest), selected on the forms as the engine uses it."""
    page = html(client.get(url))
    assert '<option value="high" selected>' in page
    assert '<option value="any" selected>' not in page
    assert '<option value="shortest" selected>' in page


def test_hauling_unchanged_equals_hauling_with_the_shown_route(client, books):
    shown = api(client, "/api/v1/profit/hauling", **{"from": JITA, "to": AMARR})
    pressed = api(
        client,
        "/api/v1/profit/hauling",
        **{"from": JITA, "to": AMARR},
        security="high",
        preference="shortest",
    )
    assert shown["results"] == pressed["results"] and shown["results"]
    assert {row["jumps"] for row in shown["results"]} == {45}  # Jita to Amarr in high-sec


def test_a_tick_in_the_address_is_explained(client, books):
    page = html(client.get("/profit/station-trading/", {"station_id": JITA, "tick": "0.01"}))
    assert "4 significant digits" in page
    assert 'name="tick"' not in page


def test_hauling_from_a_place_to_itself_is_explained(client, books):
    page = html(client.get("/profit/hauling/", {"from": JITA, "to": JITA}))
    assert "From and to are the same place: there is nothing to carry." in page
    assert 'href="/profit/station-trading/"' in page


# --- What a list leaves out, and what it does not know yet -------------------------------


def test_hidden_rows_are_named_and_one_click_shows_them(client, books):
    from datetime import UTC, datetime

    from profit import volumes
    from store import get_store

    every = api(client, STATION_URL, station_id=JITA, hide="none", page_size=1000)["results"]
    # Volumes for the first three types: 0.5 a day (thin: under a unit a day moves), and a
    # big one; the rest stay unknown.
    thin = [row["type_id"] for row in every[:2]]
    busy = every[2]["type_id"]
    today = datetime.now(UTC).date().toordinal()
    nan = float("nan")
    stored = {t: (0.5, today, nan, nan) for t in thin} | {busy: (1e6, today, nan, nan)}
    volumes._save(FORGE, stored, get_store())
    selectors.computed.clear()
    try:
        page = html(client.get("/profit/station-trading/", {"station_id": JITA}))
        assert "Hidden by default:" in page and "2 thin" in page
        # counted over every row the filters pass, the hidden ones too
        assert f"Daily volumes known for 3 of {len(every)} types, filling" in page
        assert set(row_types(page)).isdisjoint(thin)
        assert row_types(page)[0] == busy  # the one known volume ranks first by the day
        shown = html(client.get("/profit/station-trading/" + link(page, "data-show-all")))
        assert set(thin) <= set(row_types(shown))
        assert "Showing every row" in shown
        assert 'name="hide" value="none"' in shown  # the form keeps the choice
    finally:
        get_store().delete(f"profit:daily-volumes:{FORGE}")
        volumes.forget_read()


def test_a_capped_answer_says_so_on_the_page(client, books, settings):
    settings.PROFIT_MAX_ROWS = 5
    every = api(client, STATION_URL, station_id=JITA)
    assert every["truncated"]["ranked"] > 5 and every["count"] == 5
    page = html(client.get("/profit/station-trading/", {"station_id": JITA}))
    assert f"Only the top 5 of {every['truncated']['ranked']:,} ranked rows" in page
    assert len(row_types(page)) == 5


# --- Kept pages: a search answered once per state of what it shows (config/page_cache.py) ---


def test_a_search_page_is_kept_per_query_with_its_etag(client, books):
    url = f"/profit/station-trading/?station_id={JITA}&sort=-margin"
    first = client.get(url)
    again = client.get(url)
    assert first["ETag"] == again["ETag"] and html(first) == html(again)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    other = client.get(f"/profit/station-trading/?station_id={JITA}&sort=-roi")
    assert other["ETag"] != first["ETag"]
    # A new snapshot is a new page.
    publish.publish(build(FORGE, 12_000, seed=5))
    publish.forget_loaded()
    from market.views import forget_served

    forget_served()
    assert client.get(url)["ETag"] != first["ETag"]


def new_snapshot(region_id: int, seed: int) -> None:
    from market.views import forget_served

    publish.publish(build(region_id, 4_000, seed=seed))
    publish.forget_loaded()
    forget_served()


def test_a_kept_page_follows_only_the_markets_it_reads(client, books, monkeypatch):
    """Jita's page reads the Forge alone: Domain's new snapshot leaves it as it was kept;
    a haul from Jita to Amarr reads both; a page without its place (the default) or with a
    place that is not one follows every market."""
    from profit import views

    rendered: list[str] = []
    render = views.render
    monkeypatch.setattr(
        views,
        "render",
        lambda request, *args, **kwargs: (
            rendered.append(request.get_full_path()) or render(request, *args, **kwargs)
        ),
    )
    jita = f"/profit/station-trading/?station_id={JITA}"
    haul = f"/profit/hauling/?from={JITA}&to={AMARR}"
    default = "/profit/station-trading/?sort=-roi"
    pages = (jita, haul, default)
    for url in pages:
        client.get(url)
    assert rendered == list(pages)

    new_snapshot(DOMAIN, seed=11)
    for url in pages:
        assert client.get(url).status_code == 200
    assert rendered == [*pages, haul, default]

    new_snapshot(FORGE, seed=12)
    client.get(jita)
    assert rendered[-1] == jita

    # A daily volume saved for Domain: the haul into Domain shows it, Jita's page does not.
    from datetime import UTC, datetime

    from profit import volumes
    from store import get_store

    today = datetime.now(UTC).date().toordinal()
    volumes._save(DOMAIN, {TRITANIUM: (1e6, today, float("nan"), float("nan"))}, get_store())
    volumes.forget_read()
    try:
        client.get(jita), client.get(haul)
        assert rendered[-1] == haul and rendered.count(jita) == 2
    finally:
        get_store().delete(f"profit:daily-volumes:{DOMAIN}")
        volumes.forget_read()
    # A malformed place id is answered (400), never kept under a narrower key.
    assert client.get("/profit/station-trading/?station_id=x1").status_code == 400


def test_a_kept_hauling_page_still_remembers_the_hauler(client, books):
    url = f"/profit/hauling/?from={JITA}&to={AMARR}&cargo_m3=12345&budget=1000000"
    first = client.get(url)
    client.cookies.clear()
    kept = client.get(url)  # another browser, the same search: the kept page
    assert kept["ETag"] == first["ETag"]
    assert "12345" in kept.cookies["hauler"].value


def test_a_logged_in_person_gets_their_own_page(client, books, django_user_model):
    url = f"/profit/station-trading/?station_id={JITA}"
    anonymous = client.get(url)
    client.force_login(django_user_model.objects.create_user("trader"))
    mine = client.get(url)
    assert "ETag" in anonymous and "ETag" not in mine


def test_the_kept_skills_fieldset_follows_the_submitted_skills(client, books):
    """The fieldset is kept per submitted skills and their errors: each search shows its own."""

    url = "/profit/station-trading/"
    three = html(client.get(url, {"station_id": JITA, "accounting": "3"}))
    five = html(client.get(url, {"station_id": AMARR, "accounting": "5"}))
    again = html(client.get(url, {"station_id": AMARR, "accounting": "3"}))
    none = html(client.get(url, {"station_id": JITA}))
    assert selected(three, "accounting") == ["3"]
    assert selected(five, "accounting") == ["5"]
    assert selected(again, "accounting") == ["3"]
    assert selected(none, "accounting") == []
    wrong = html(client.get(url, {"station_id": JITA, "corp_standing": "11"}))
    field = re.search(r'data-skill="corp_standing".*?</label>', wrong, re.S)
    assert field is not None and 'class="field__error"' in field[0]
    assert 'value="11"' in field[0]
    assert (
        'class="field__error"'
        not in re.search(r'data-skill="corp_standing".*?</label>', none, re.S)[0]
    )


def test_the_kept_form_fields_follow_each_search(client, books):
    """The form's fields are kept per their values and errors ({% kept %}): every search
    shows its own places, numbers, sort, route and errors, never another search's."""

    def number(page: str, name: str) -> tuple[str, bool]:
        field = re.search(rf'<input type="number" name="{name}".*?</label>', page, re.S)
        assert field is not None
        value = re.search(r'value="([^"]*)"', field[0])
        return (value[1] if value else ""), 'class="field__error"' in field[0]

    url = "/profit/hauling/"
    first = html(client.get(url, {"from": JITA, "to": AMARR, "cargo_m3": "5000", "sort": "-roi"}))
    back = {"from": AMARR, "to": JITA, "cargo_m3": "30000", "sort": "jumps"}
    second = html(client.get(url, {**back, "preference": "safer"}))
    wrong = html(client.get(url, {"from": JITA, "to": AMARR, "cargo_m3": "-5", "sort": "-roi"}))
    for page, (source, target, cargo, sort, preference) in [
        (first, (JITA, AMARR, "5000", "-roi", "shortest")),
        (second, (AMARR, JITA, "30000", "jumps", "safer")),
        (wrong, (JITA, AMARR, "-5", "-roi", "shortest")),
    ]:
        assert selected(page, "from") == [str(source)]
        assert selected(page, "to") == [str(target)]
        assert selected(page, "sort") == [sort]
        assert selected(page, "preference") == [preference]
        assert number(page, "cargo_m3") == (cargo, page is wrong)
    # and the same values again show the same fields
    again = html(client.get(url, {"from": JITA, "to": AMARR, "cargo_m3": "5000", "sort": "-roi"}))
    assert number(again, "cargo_m3") == ("5000", False) and selected(again, "to") == [str(AMARR)]
