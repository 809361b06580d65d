"""The market pages with the Django test client: the status page, the site-wide banner, and
the item page's market panel hooks, against an isolated store and the ESI stand-in."""

from __future__ import annotations

import html as html_lib
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from market import publish
from market.refresh import RefreshFailed, publish_demo, refresh_region
from market.snapshot import SnapshotMeta
from market.views import age_text
from store import reset_store

FORGE, DOMAIN = 10000002, 10000043
CAPSULE = 670  # published, but no market group: not sold on the market

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

DEMO_BANNER = (
    "Demo market: prices are generated from the static data, not live. "
    "Real data replaces them as soon as ESI answers."
)


def text(html: str) -> str:
    """The visible text of some HTML, whitespace collapsed (for asserting sentences)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split()).replace(" .", ".")


def banner(html: str) -> str:
    match = re.search(r'<aside class="site-banner[^"]*"[^>]*>(.*?)</aside>', html, flags=re.S)
    return text(match.group(1)) if match else ""


def region_card(html: str, region_id: int) -> str:
    match = re.search(
        rf'<article class="region-status" data-region="{region_id}"(.*?)</article>', html, re.S
    )
    assert match, f"no status card for region {region_id}"
    return match.group(0)


def make_stale(region_id: int, *, minutes_ago: int) -> SnapshotMeta:
    """Rewrite the region's published meta as if ESI last answered `minutes_ago` minutes ago."""
    meta = publish.current_meta(region_id)
    assert meta is not None
    then = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    stale = SnapshotMeta.from_json(
        {
            **meta.to_json(),
            "fetched_at": then.isoformat(),
            "esi_expires": (then + timedelta(minutes=5)).isoformat(),
        }
    )
    publish.update_meta(stale)
    return stale


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Status page ---------------------------------------------------------------------------


def test_status_page_shows_each_region_and_its_state(client, market):
    forge = refresh_region(FORGE)
    publish_demo(DOMAIN)
    response = client.get("/market/status/")
    assert response.status_code == 200
    html = response.content.decode()

    card = region_card(html, FORGE)
    assert "The Forge" in card
    assert forge.meta.generation in card
    assert 'data-field="source-tag">ESI<' in card
    assert re.search(r'data-field="stale-tag"[^>]* hidden', card), "a fresh snapshot is not stale"
    assert f"{forge.meta.orders:,}" in card  # 2,000 orders
    assert f'data-field="pages">{forge.meta.pages}<' in card
    esi_time = datetime.fromisoformat(forge.meta.esi_last_modified or "")
    assert f"{esi_time:%Y-%m-%d %H:%M:%S} UTC" in card
    assert 'data-state="published"' in card
    assert f"{forge.meta.pages} / {forge.meta.pages} pages" in card
    assert "Published" in text(card)
    assert ">ok" in card  # the last refresh's result
    assert "Refresh now" not in html  # not staff

    domain = region_card(html, DOMAIN)
    assert "Domain" in domain
    assert 'data-field="source-tag">DEMO<' in domain
    assert "Demo market: generated prices, not live data." in text(domain)

    assert "Circuit breaker" in html
    assert 'data-field="breaker-state">closed<' in html
    assert "market-order" in html  # the rate-limit group the refresh spent from
    assert 'data-status-url="/api/v1/market/status"' in html
    assert "js/market.js" in html


def test_status_page_before_any_refresh(client, market):
    html = client.get("/market/status/").content.decode()
    for region_id in (FORGE, DOMAIN):
        card = region_card(html, region_id)
        assert 'data-field="source-tag">no snapshot<' in card
        assert 'data-state="none"' in card


def test_status_page_tracks_the_global_plex_market_which_has_no_hub(client, market, settings):
    """The default regions include 19000001: its card has no hub link (it has no hub)."""
    settings.MARKET_REGIONS = [FORGE, 19000001]
    response = client.get("/market/status/")
    assert response.status_code == 200
    card = region_card(response.content.decode(), 19000001)
    assert "Global PLEX market" in card and "Hub:" not in card


def test_status_page_names_a_failed_refresh(client, market):
    refresh_region(FORGE)
    market.faults.unreachable = True
    with pytest.raises(RefreshFailed):
        refresh_region(FORGE, demo_fallback=False)
    html = client.get("/market/status/").content.decode()
    card = region_card(html, FORGE)
    assert "error" in text(card)
    assert re.search(r'data-field="error-row"(?![^>]*hidden)', card), "the error row is shown"
    assert 'data-state="failed"' in card


def test_staff_get_a_refresh_button_with_a_csrf_token(client, market):
    staff = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(staff)
    html = client.get("/market/status/").content.decode()
    for region_id in (FORGE, DOMAIN):
        card = region_card(html, region_id)
        assert "Refresh now" in card
        assert 'action="/api/v1/market/refresh"' in card
        assert f'name="region_id" value="{region_id}"' in card
        assert 'name="csrfmiddlewaretoken"' in card


def test_status_page_survives_an_unreachable_store(client, market, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    reset_store()
    publish.forget_loaded()
    response = client.get("/market/status/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "Market status is unavailable" in html
    assert "The Forge" in html and "Domain" in html  # the tracked regions are still listed
    assert "Market data unavailable" in banner(html)


def test_other_pages_survive_an_unreachable_store(client, market, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    reset_store()
    for url in ("/", "/items/34/", "/regions/10000002/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Market data unavailable" in banner(response.content.decode())


def test_market_index_redirects_to_the_status_page(client, market):
    response = client.get("/market/")
    assert response.status_code == 302
    assert response["Location"] == "/market/status/"


def test_nav_links_the_market_status(client, market):
    html = client.get("/market/status/").content.decode()
    assert re.search(r'<a href="/market/status/" aria-current="page">Market</a>', html)
    assert '<a href="/market/status/">Market</a>' in client.get("/").content.decode()


# --- Banner --------------------------------------------------------------------------------


def test_no_banner_when_every_region_is_fresh(client, market):
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    html = client.get("/").content.decode()
    assert banner(html) == ""
    assert "site-banner" not in html


def test_no_banner_before_any_snapshot(client, market):
    assert banner(client.get("/").content.decode()) == ""


def test_banner_for_the_demo_market(client, market):
    refresh_region(FORGE)
    publish_demo(DOMAIN)
    said = banner(client.get("/regions/").content.decode())
    assert DEMO_BANNER in said
    assert "stale" not in said  # the demo is labelled as the demo, not as stale ESI data
    assert "Market status" in said


def test_banner_for_stale_data_names_when_esi_last_answered(client, market, settings):
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    settings.MARKET_STALE_GRACE = 60
    stale = make_stale(FORGE, minutes_ago=30)
    html = client.get("/").content.decode()
    said = banner(html)
    since = datetime.fromisoformat(stale.fetched_at)
    assert f"Market data is stale: ESI has not answered since {since:%Y-%m-%d %H:%M} UTC" in said
    assert "30 minutes ago" in said
    assert f'datetime="{since:%Y-%m-%dT%H:%M:%S}' in html
    assert "Demo market" not in said
    assert 'href="/market/status/"' in html


def test_banner_respects_the_stale_grace(client, market, settings):
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    settings.MARKET_STALE_GRACE = 3600  # expired 25 minutes ago, but within the grace
    make_stale(FORGE, minutes_ago=30)
    assert banner(client.get("/").content.decode()) == ""


def test_banner_when_stand_in_expires_quickly(client, market, settings):
    market.expires_in = 1.0
    market.touch(FORGE)  # a new cache window that expires in a second
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    settings.MARKET_STALE_GRACE = 0
    meta = publish.current_meta(FORGE)
    assert meta is not None and meta.esi_expires is not None
    expires = datetime.fromisoformat(meta.esi_expires)
    while datetime.now(UTC) <= expires:  # at most about a second
        pass
    assert "Market data is stale" in banner(client.get("/").content.decode())


# --- Item page -----------------------------------------------------------------------------


def api(client, path: str, **params) -> dict:
    response = client.get(path, params, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, path
    return dict(response.json())


def compare_row(html: str, region_id: int, kind: str) -> str:
    body = re.search(rf'<tbody data-region="{region_id}">(.*?)</tbody>', html, re.S)
    assert body, f"no comparison rows for region {region_id}"
    row = re.search(rf'<tr class="compare-row[^"]*" data-kind="{kind}">(.*?)</tr>', body[1], re.S)
    assert row, f"no {kind} row for region {region_id}"
    return row[1]


def cell_value(row: str, name: str) -> float | None:
    match = re.search(rf'data-cell="{name}" data-value="([^"]*)"', row)
    assert match, name
    return float(match[1]) if match[1] else None


def hub_panel(html: str, region_id: int) -> str:
    match = re.search(
        rf'<section class="hub-panel" id="hub-panel-{region_id}"(.*?)</section>', html, re.S
    )
    assert match, f"no order book panel for region {region_id}"
    return match[1]


def book(panel: str, scope: str) -> str:
    match = re.search(rf'data-book-scope="{scope}"(.*?)(?=data-book-scope=|$)', panel, re.S)
    assert match, f"no {scope} book"
    return match[1]


def order_ids(book_html: str, side: str) -> list[int]:
    body = re.search(rf'<tbody data-book-body="{side}">(.*?)</tbody>', book_html, re.S)
    assert body, side
    return [int(i) for i in re.findall(r'<tr data-order="(\d+)"', body[1])]


def test_item_page_renders_the_comparison_and_the_books(client, market):
    """Without JavaScript the page shows what the API answers: each hub's and region's best
    prices, and the ten best orders of each side at the hub and across the region."""
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    response = client.get("/items/34/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-market-item="34"' in html
    compare = api(client, "/api/v1/market/compare", type_id=34)
    for entry in compare["regions"]:
        region_id = entry["region_id"]
        for kind in ("hub", "region"):
            row = compare_row(html, region_id, kind)
            assert cell_value(row, f"{kind}-ask") == entry[kind]["best_ask"]
            assert cell_value(row, f"{kind}-bid") == entry[kind]["best_bid"]
            if entry[kind]["best_ask"] is not None:
                assert f"{entry[kind]['best_ask']:,.2f}" in row
        assert "ESI" in text(compare_row(html, region_id, "hub"))
        assert re.search(r"\d+ s old", text(compare_row(html, region_id, "hub")))
    assert "data-note=" not in html  # neither demo nor stale
    assert "JavaScript is off" not in text(hub_panel(html, FORGE)).split("Price history")[0]

    for region_id, station in ((FORGE, 60003760), (DOMAIN, 60008494)):
        panel = hub_panel(html, region_id)
        at_hub = api(client, f"/api/v1/market/orders/{region_id}/34", station_id=station, limit=10)
        whole = api(client, f"/api/v1/market/orders/{region_id}/34", limit=10)
        for side in ("sell", "buy"):
            assert order_ids(book(panel, "hub"), side) == [
                o["order_id"] for o in at_hub[side]["orders"]
            ]
            assert order_ids(book(panel, "region"), side) == [
                o["order_id"] for o in whole[side]["orders"]
            ]
        # The history chart is drawn in the browser from the history API.
        assert f'data-history-url="/api/v1/market/history/{region_id}/34"' in panel
    jita = book(hub_panel(html, FORGE), "hub")
    first = at_hub_first = api(
        client, "/api/v1/market/orders/10000002/34", station_id=60003760, limit=10
    )["sell"]["orders"][0]
    assert f'<td class="num book__price">{first["price"]:,.2f}</td>' in jita
    assert at_hub_first["location_name"] in jita
    assert "The Forge snapshot:" in text(hub_panel(html, FORGE))
    # The tabs, the one-book-at-a-time switch and the chart's range need JavaScript.
    assert re.search(r'role="tablist"[^>]*data-js-only hidden', html)
    assert html.count('role="tab"') == 2
    assert re.search(r'id="hub-tab-10000002"[^>]*aria-selected="true"', html, re.S)
    for days in (30, 90, 365):
        assert f'data-range="{days}"' in html
    assert "js/market.js" in html
    assert "once market snapshots are enabled" not in html  # the placeholder is gone


def test_item_page_marks_the_best_hub_and_the_depth(client, market):
    market.generate(FORGE, 8_000)  # books big enough that both hubs trade Tritanium both ways
    market.generate(DOMAIN, 4_000)
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    html = client.get("/items/34/").content.decode()
    compare = api(client, "/api/v1/market/compare", type_id=34)
    asks = {r["region_id"]: r["hub"]["best_ask"] for r in compare["regions"]}
    bids = {r["region_id"]: r["hub"]["best_bid"] for r in compare["regions"]}
    cheapest, dearest = min(asks, key=asks.__getitem__), max(bids, key=bids.__getitem__)
    for region_id in (FORGE, DOMAIN):
        row = compare_row(html, region_id, "hub")
        assert ('class="num is-best" data-cell="hub-ask"' in row) == (region_id == cheapest)
        assert ('class="num is-best" data-cell="hub-bid"' in row) == (region_id == dearest)
    # Depth bars grow down the book: each is the running volume's share of the deeper side.
    jita = book(hub_panel(html, FORGE), "hub")
    sells = re.search(r'<tbody data-book-body="sell">(.*?)</tbody>', jita, re.S)[1]
    widths = [int(w) for w in re.findall(r'class="depth__bar" width="(\d+)%"', sells)]
    assert widths and widths == sorted(widths) and widths[-1] > widths[0]
    assert 'style="' not in html  # the CSP allows no style attribute


def test_item_page_says_which_market_is_on_its_way(client, market):
    refresh_region(FORGE)  # Domain has no snapshot yet
    html = client.get("/items/34/").content.decode()
    pending = "Market data for Domain is on its way (first refresh pending)."
    assert pending in text(
        re.search(rf'<tbody data-region="{DOMAIN}">(.*?)</tbody>', html, re.S)[1]
    )
    assert pending in text(hub_panel(html, DOMAIN))
    assert compare_row(html, FORGE, "hub")


def test_item_page_labels_the_demo_market(client, market):
    publish_demo(FORGE)
    publish_demo(DOMAIN)
    html = client.get("/items/34/").content.decode()
    note = re.search(
        r'<p class="market-note market-note--demo" data-note="demo">(.*?)</p>', html, re.S
    )
    assert note and "Demo market: generated prices, not live data (The Forge, Domain)" in text(
        note[1]
    )
    hub = compare_row(html, FORGE, "hub")
    assert '<span class="tag tag--demo"' in hub and "ESI time" not in hub
    assert "Demo market: generated prices, not live data." in text(hub_panel(html, FORGE))


def test_item_page_names_stale_data(client, market, settings):
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    settings.MARKET_STALE_GRACE = 60
    stale = make_stale(FORGE, minutes_ago=30)
    html = client.get("/items/34/").content.decode()
    since = datetime.fromisoformat(stale.fetched_at)
    note = re.search(r'data-note="stale">(.*?)</p>', html, re.S)
    assert note
    said = f"ESI has not answered for The Forge since {since:%Y-%m-%d %H:%M:%S} UTC."
    assert f"Stale market data: {said}" in text(note[1])
    assert ">STALE<" in compare_row(html, FORGE, "hub")
    assert ">STALE<" not in compare_row(html, DOMAIN, "hub")


def test_a_market_without_a_hub_station_shows_its_whole_region(client, market, settings):
    derelik = 10000001  # tracked, but no trade hub station
    settings.MARKET_REGIONS = [FORGE, derelik]
    refresh_region(FORGE)
    publish_demo(derelik)
    html = client.get("/items/34/").content.decode()
    assert compare_row(html, FORGE, "hub")
    body = re.search(rf'<tbody data-region="{derelik}">(.*?)</tbody>', html, re.S)
    assert body and 'data-kind="hub"' not in body[1]
    region = compare_row(html, derelik, "region")
    assert "Derelik" in text(region) and "DEMO" in text(region)  # its snapshot line moves here
    panel = hub_panel(html, derelik)
    assert 'data-book-scope="hub"' not in panel and 'data-scope="hub"' not in panel
    assert "Order book in all of Derelik" in text(book(panel, "region"))


def test_item_page_reads_each_generation_once(client, market, monkeypatch):
    """Item pages are read often: a market's books are read and rendered once per snapshot
    generation and type, then kept."""
    from market import selectors

    refresh_region(FORGE)
    refresh_region(DOMAIN)
    calls: list[int | None] = []
    real = selectors.book_of

    def counted(*args, **kwargs):
        calls.append(kwargs.get("station_id"))
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "book_of", counted)
    first = client.get("/items/34/").content.decode()
    assert sorted(calls, key=str) == sorted([60003760, None, 60008494, None], key=str)
    second = client.get("/items/34/").content.decode()
    assert len(calls) == 4  # kept
    assert order_ids(book(hub_panel(first, FORGE), "hub"), "sell") == order_ids(
        book(hub_panel(second, FORGE), "hub"), "sell"
    )
    market.generate(FORGE, 2_000, seed=9)  # ESI changes the book: a new generation
    assert refresh_region(FORGE).result == "published"
    client.get("/items/34/")
    assert len(calls) == 6


def test_item_page_follows_the_tracked_regions(client, market, settings):
    settings.MARKET_REGIONS = [10000032]
    html = client.get("/items/34/").content.decode()
    assert 'id="hub-panel-10000032"' in html
    assert "Dodixie" in html
    assert "/10000002/" not in html


def test_item_not_on_the_market_makes_no_api_calls(client, market):
    response = client.get(f"/items/{CAPSULE}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Capsule is not sold on the market" in text(html)
    assert "data-market-item" not in html
    assert "js/market.js" not in html
    assert "/api/v1/market/" not in html


def test_unpublished_item_is_not_on_the_market(client, market):
    html = client.get("/items/2/").content.decode()  # "Corporation": not published
    assert "is not sold on the market (it is not a published item)" in text(html)
    assert "data-market-item" not in html


def test_item_page_without_tracked_regions(client, market, settings):
    settings.MARKET_REGIONS = []
    html = client.get("/items/34/").content.decode()
    assert "No market regions are tracked" in html
    assert "data-market-item" not in html


def test_age_text_matches_the_javascript_words():
    assert age_text(None) == "—"
    assert age_text(0) == "0 s old"
    assert age_text(59) == "59 s old"
    assert age_text(180) == "3 min old"
    assert age_text(3600 + 5 * 60) == "1 h 5 min old"
    assert age_text(3 * 86400 + 4 * 3600) == "3 d 4 h old"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (65_100_000_000.0, "65,100,000,000"),  # 4 significant digits: no cents up there
        (5.37, "5.37"),
        (4.5, "4.50"),
        (1_000.0, "1,000"),
        (None, "—"),
    ],
)
def test_market_prices_carry_cents_only_where_there_are_any(value, shown):
    from market.templatetags.market_panel import isk

    assert isk(value) == shown
