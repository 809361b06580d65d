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


def test_item_page_has_the_market_panel_hooks(client, market):
    response = client.get("/items/34/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-market-item="34"' in html
    assert 'data-compare-url="/api/v1/market/compare"' in html
    assert '<script id="market-hubs" type="application/json">' in html
    hubs = response.context["market_site"].hubs
    assert [(h["region_id"], h["region_name"], h["hub_system"]) for h in hubs] == [
        (FORGE, "The Forge", "Jita"),
        (DOMAIN, "Domain", "Amarr"),
    ]
    assert hubs[0]["hub_name"] == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    for region_id in (FORGE, DOMAIN):
        assert f'data-orders-url="/api/v1/market/orders/{region_id}/34"' in html
        assert f'data-history-url="/api/v1/market/history/{region_id}/34"' in html
    assert html.count('role="tab"') == 2
    assert re.search(r'id="hub-tab-10000002"[^>]*aria-selected="true"', html, re.S)
    for days in (30, 90, 365):
        assert f'data-range="{days}"' in html
    assert "js/market.js" in html
    # Without JavaScript the panel says so and links the same data as JSON.
    assert "JavaScript is off" in html
    assert 'href="/api/v1/market/compare?type_id=34"' in html
    assert "once market snapshots are enabled" not in html  # the placeholder is gone


def test_item_page_follows_the_tracked_regions(client, market, settings):
    settings.MARKET_REGIONS = [10000032]
    html = client.get("/items/34/").content.decode()
    assert 'data-orders-url="/api/v1/market/orders/10000032/34"' in html
    assert "Dodixie" in html
    assert "/orders/10000002/" not in html


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
