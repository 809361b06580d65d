"""The character dashboard in a real browser (headless Debian Chromium through Playwright),
reached through the EVE SSO login flow against the SSO and ESI stand-ins: log in (no scope),
see every section ask for its feature, turn features on (re-authorising the same character),
and see the data the refresh fetched: trading skills, orders flagged against the snapshot,
assets by location with their value; sort a table; another user's dashboard is a 404.

Celery runs eagerly, so the refresh queued when a feature is turned on happens in that request.
Screenshots go to var/screenshots/characters-dashboard-*.png (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from market.hubs import HUB_STATIONS
from market.refresh import refresh_region
from standin.esi import EsiStandIn
from standin.sso import SsoStandIn
from tests.browser_env import new_page, screenshot, without_image_server
from tests.market_env import FORGE

BRUCE = 1001
JITA = HUB_STATIONS[FORGE]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]


@pytest.fixture
def stand_ins(market: EsiStandIn, sso: SsoStandIn) -> Iterator[tuple[EsiStandIn, SsoStandIn]]:
    """ESI (with a published Forge snapshot) trusting the SSO; Bruce's orders placed so that
    one is outbid and one undercut; Celery eager."""
    from config.celery import app

    market.characters.trust_sso(sso)
    refresh_region(FORGE)
    market.characters.update(
        BRUCE,
        orders=[
            {
                "duration": 90,
                "escrow": 0.1,
                "is_buy_order": True,
                "is_corporation": False,
                "issued": "2026-01-01T00:00:00Z",
                "location_id": JITA,
                "min_volume": 1,
                "order_id": 21,
                "price": 0.01,
                "range": "station",
                "region_id": FORGE,
                "type_id": 34,
                "volume_remain": 10,
                "volume_total": 10,
            }
        ],
    )
    sso.auto_character = BRUCE  # the SSO approves at once, as Bruce Wayne
    app.conf.task_always_eager = True
    yield market, sso
    app.conf.task_always_eager = False


@pytest.fixture
def page(stand_ins: Any, browser: Browser) -> Iterator[Page]:
    # The stand-ins first: they refresh a region through the ORM, which Django refuses once
    # the browser's event loop runs.
    page = new_page(browser)
    page.set_default_timeout(15_000)
    without_image_server(page)
    yield page
    page.context.close()


def section(page: Page, key: str) -> Any:
    return page.locator(f"[data-section={key}]")


def enable(page: Page, key: str) -> None:
    """Turn feature `key` on from its section's button (the SSO re-authorises Bruce)."""
    shown_in = "skills" if key == "fees" else key
    section(page, shown_in).locator(f"[data-action=enable][data-feature={key}]").click()
    expect(page).to_have_url(f"{page.url.split('/characters/')[0]}/characters/")
    expect(section(page, shown_in)).to_have_attribute("data-state", "ok")


def disclosure(details: Any) -> str:
    """The arrow a location group's summary shows: its ::before marker, read as it looks
    (closed ▸; open, the same turned a quarter, ▾); "" when there is none or it is hidden."""
    return str(
        details.evaluate(
            """d => {
                const style = getComputedStyle(d.querySelector('summary'), '::before');
                if (style.display === 'none' || style.visibility === 'hidden'
                    || parseFloat(style.width) < 4 || !style.content.includes('▸')) return '';
                return new DOMMatrix(style.transform).b > 0.99 ? '▾' : '▸';
            }"""
        )
    )


def test_log_in_enable_features_and_read_the_dashboard(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/characters/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # anonymous: log in first
    page.get_by_role("button", name="Log in with EVE Online").click()
    expect(page).to_have_url(f"{live_server.url}/characters/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bruce Wayne")
    # The message names the character, not the account's username.
    expect(page.locator("[data-char-messages]")).to_contain_text("Logged in as Bruce Wayne.")
    # Selected, but without the fees feature its skills price nothing yet.
    expect(page.locator("[data-selected]")).to_have_text("selected")
    expect(page.locator("[data-prices-trades]")).to_have_count(0)

    # Logged in with no scope: identity only, every other section asks for its feature.
    expect(page.locator("[data-corporation]")).to_contain_text("Stand-in Traders [STRAD]")
    for key in ("skills", "orders", "assets", "wallet", "standings", "location"):
        expect(section(page, key)).to_have_attribute("data-state", "disabled")
    expect(section(page, "orders")).to_contain_text("Reads your open market orders")
    screenshot(page, "characters-dashboard-no-features")

    enable(page, "orders")
    orders = section(page, "orders")
    expect(orders.locator("[data-order='21']")).to_have_attribute("data-flag", "outbid")
    expect(orders.locator("[data-order='21']")).to_contain_text("Tritanium")
    expect(page.locator("[data-card=orders]")).to_contain_text("1 outbid")

    enable(page, "fees")
    skills = section(page, "skills")
    expect(skills.locator("[data-skill='16622']")).to_contain_text("●●●●●")  # Accounting V
    # Rates with the precision they have: 7.5 % x (1 - 11 % x Accounting 5) = 3.375 %;
    # at Jita, Broker Relations 5 and standings -1 (Caldari State), 4.2 (Caldari Navy):
    # 3 % - 0.3 % x 5 - 0.03 % x (-1) - 0.02 % x 4.2 = 1.446 %
    expect(skills.locator("[data-fees]")).to_contain_text("sales tax 3.375 %")
    expect(page.locator("[data-card=fees]")).to_contain_text("1.446 %")
    expect(page.locator("[data-prices-trades]")).to_have_text("prices your trades")

    enable(page, "assets")
    assets = section(page, "assets")
    expect(assets.locator("[data-valuation]")).to_contain_text("best bid at Jita IV - Moon 4")
    expect(assets.locator("summary").first).to_contain_text("ISK")
    expect(assets).to_contain_text("Amamake - Test Structure Alpha")
    # Each location group shows a disclosure arrow, closed or open, on a desktop and a phone.
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for place in assets.locator("details.char-place").all():
            assert disclosure(place) == ("▾" if place.get_attribute("open") is not None else "▸")
        first = assets.locator("details.char-place").first  # open: the first three are
        first.locator("summary").click()
        expect(first).not_to_have_attribute("open", "")
        assert disclosure(first) == "▸"
        first.locator("summary").click()
        expect(first).to_have_attribute("open", "")
        assert disclosure(first) == "▾"
    page.set_viewport_size({"width": 1366, "height": 900})

    enable(page, "wallet")
    expect(section(page, "wallet").locator("[data-balance]")).to_have_text("123,456,789.00 ISK")
    expect(section(page, "wallet").locator("[data-fetched]")).to_contain_text("Fetched")
    screenshot(page, "characters-dashboard-all-features")

    # Sort the trading skills by level (largest first), then back.
    table = skills.locator("table.char-skills")
    table.get_by_role("button", name="Sort by Level").click()
    cells = table.locator("tbody td[data-value]")  # the level column
    levels = [int(v) for v in cells.evaluate_all("cells => cells.map(c => c.dataset.value)")]
    assert levels == sorted(levels, reverse=True) and levels[0] == 5
    expect(table.locator("th[aria-sort=descending]")).to_have_count(1)
    table.get_by_role("button", name="Sort by Level").click()
    expect(table.locator("th[aria-sort=ascending]")).to_have_count(1)

    # A character that is not the user's: a friendly 404 page, never its data.
    response = page.goto(f"{live_server.url}/characters/1003/")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("Peter Parker")
