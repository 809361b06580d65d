"""The Content-Security-Policy (config/csp.py) in a real browser: every page of the site, with
real content (the demo market published for the five hubs, the opportunity boards computed),
opened in headless Chromium through `live_server`, must load without a CSP violation and
without an uncaught script error; so must the error pages. The pages other browser tests
drive are watched the same way by tests/browser_env.py; this file reaches the rest, and checks
that the watch works.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from playwright.sync_api import Page, expect

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urls
from market.hubs import HUB_STATIONS
from market.refresh import publish_demo
from profit import boards
from standin.esi import EsiStandIn
from standin.sso import SsoStandIn
from tests.browser_env import BrowserLog, screenshot, without_image_server
from tests.market_env import DOMAIN, FORGE

JITA, AMARR = HUB_STATIONS[FORGE], HUB_STATIONS[DOMAIN]
JITA_SYSTEM = 30000142
TRITANIUM = 34

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, on purpose: the 500 page")


# This module is also a URL conf (the project's, plus a view that fails) for the error pages.
urlpatterns = [path("broken/", broken), *project_urls]
__all__ = ["handler404", "handler500", "urlpatterns"]


@pytest.fixture
def hubs(market: EsiStandIn, settings: Any) -> None:
    """The demo market of the five trade hubs and the boards computed from it, in the test's
    own store (made before the browser starts: no ORM once it runs)."""
    settings.MARKET_REGIONS = list(HUB_STATIONS)
    for region_id in HUB_STATIONS:
        publish_demo(region_id)
    assert boards.recompute() == "published"


@pytest.fixture
def staff_session(transactional_db: None) -> str:
    """A logged-in superuser's session key (made before the browser starts)."""
    user = get_user_model().objects.create_user(
        "ops", password="pw", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


@pytest.fixture
def site(page: Page) -> Page:
    without_image_server(page)  # offline here; aborted, so "load" comes at once
    return page


def visit(page: Page, url: str) -> None:
    response = page.goto(url)  # waits for "load": every script and stylesheet has run
    assert response is not None and response.ok, f"{url}: {response and response.status}"


def assert_clean(log: BrowserLog, what: str) -> None:
    assert not log.csp_violations, f"{what}: " + "\n".join(log.csp_violations)
    assert not log.page_errors, f"{what}: " + "\n".join(log.page_errors)


def test_the_watch_reports_a_violation(site: Page, browser_log: BrowserLog, live_server):
    """The check can fail: a style attribute and an inline script added to a real page of the
    site are refused by the policy, and both refusals are recorded with their directive."""
    visit(site, live_server.url + "/regions/")
    assert_clean(browser_log, "/regions/")
    site.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">styled</p>');
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.append(script);
        }"""
    )
    expect(site.locator("p", has_text="styled")).not_to_have_css("color", "rgb(255, 0, 0)")
    assert site.evaluate("window.inlineRan") is None
    site.wait_for_function("true")  # one more round trip: the console messages are in
    recorded = "\n".join(browser_log.csp_violations)
    assert "style-src-attr blocked inline" in recorded
    assert "script-src-elem blocked inline" in recorded
    assert "Applying inline style violates" in recorded  # Chromium's own message, too
    browser_log.csp_violations.clear()  # seen: not a failure of this test


def test_market_and_profit_pages(
    hubs: None, site: Page, browser_log: BrowserLog, live_server, eager_celery
):
    base = live_server.url

    visit(site, base + "/")
    expect(site.locator("[data-boards-live]")).to_have_attribute("data-live", "on")
    expect(site.locator("[data-board] tbody tr").first).to_be_visible()
    assert_clean(browser_log, "home page")

    visit(site, base + f"/items/{TRITANIUM}/")
    hub_row = site.locator(f'.market-compare tbody[data-region="{FORGE}"] tr[data-kind="hub"]')
    expect(hub_row.locator('[data-cell="hub-ask"]')).to_be_visible()
    # The books and their depth bars come from the server (no style attribute); the script
    # puts the five markets under tabs and draws the selected one's chart.
    expect(site.locator('[data-book-body="sell"] .depth__bar').first).to_be_attached()
    expect(site.get_by_role("tab")).to_have_count(len(HUB_STATIONS))
    chart = site.locator(".hub-panel:not([hidden]) [data-chart] svg")
    expect(site.locator(".hub-panel:not([hidden]) [data-chart] path.chart__avg")).to_be_attached()
    box = chart.bounding_box()
    assert box is not None
    chart.hover(position={"x": box["width"] - 15, "y": box["height"] / 2})
    expect(site.locator(".hub-panel:not([hidden]) .chart__tooltip")).to_contain_text("Average")
    site.get_by_role("tab", name=re.compile("Amarr")).click()
    expect(site.locator(".hub-panel:not([hidden]) [data-chart] path.chart__avg")).to_be_attached()
    site.get_by_role("button", name="Whole region").click()
    expect(site.get_by_role("button", name="Whole region")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert_clean(browser_log, "item page")

    visit(site, base + "/market/status/")
    expect(site.locator(f'.region-status[data-region="{FORGE}"]')).to_be_visible()
    expect(site.locator("[data-status-line]")).to_contain_text("As of")
    assert_clean(browser_log, "market status")

    visit(site, base + "/profit/station-trading/")
    expect(site.locator("table[data-sortable] tbody tr").first).to_be_visible()
    margin = site.locator('th[data-key="margin"]')
    margin.locator("button, a").first.click()  # sorts in place, or asks the server (many pages)
    expect(margin).to_have_attribute("aria-sort", "descending")
    assert_clean(browser_log, "station trading")

    visit(site, base + "/profit/hauling/")
    expect(site.locator("table[data-sortable] tbody tr").first).to_be_visible()
    assert_clean(browser_log, "hauling")

    visit(site, base + "/profit/calculator/")
    site.fill('input[name="type_id"]', "Tritanium")
    site.fill('input[name="quantity"]', "20000")
    site.select_option('select[name="buy_location"]', str(JITA))
    site.select_option('select[name="sell_location"]', str(AMARR))
    site.get_by_role("button", name="Calculate").click()
    expect(site.locator("[data-breakdown] [data-lines] tbody tr").first).to_be_visible()
    assert_clean(browser_log, "calculator")

    visit(site, base + "/profit/boards/")
    expect(site.locator("[data-boards-live]")).to_have_attribute("data-live", "on")
    expect(site.locator("[data-board]")).to_have_count(len(HUB_STATIONS) + 1)
    assert_clean(browser_log, "boards")


def test_catalogue_pages(site: Page, browser_log: BrowserLog, live_server):
    for url, heading in [
        ("/regions/", "Regions"),
        (f"/regions/{FORGE}/", "The Forge"),
        (f"/systems/{JITA_SYSTEM}/", "Jita"),
        (f"/stations/{JITA}/", "Jita IV - Moon 4"),
    ]:
        visit(site, live_server.url + url)
        expect(site.locator("h1")).to_contain_text(heading)
        assert_clean(browser_log, url)


def test_api_docs(site: Page, browser_log: BrowserLog, live_server):
    visit(site, live_server.url + "/api/docs/")
    operations = site.locator("#swagger-ui .opblock")
    expect(operations.first).to_be_visible(timeout=20_000)  # Swagger UI fetched the schema
    assert operations.count() > 10
    operations.first.locator(".opblock-summary").click()  # one operation opened
    expect(operations.first.locator(".opblock-body")).to_be_visible()
    screenshot(site, "csp-api-docs")
    assert_clean(browser_log, "API docs")


def test_admin_and_login_pages(
    sso: SsoStandIn, staff_session: str, site: Page, browser_log: BrowserLog, live_server
):
    visit(site, live_server.url + "/accounts/login/")
    expect(site.get_by_role("button", name="Log in with EVE Online")).to_be_visible()
    assert_clean(browser_log, "login page")

    visit(site, live_server.url + "/admin/login/")
    expect(site.locator("#login-form")).to_be_visible()
    assert_clean(browser_log, "admin login")

    # The admin itself, logged in.
    site.context.add_cookies(
        [{"name": "sessionid", "value": staff_session, "url": live_server.url}]
    )
    visit(site, live_server.url + "/admin/")
    expect(site.locator("#content-main")).to_be_visible()
    assert_clean(browser_log, "admin index")


def test_error_pages(site: Page, browser_log: BrowserLog, live_server, settings):
    settings.ROOT_URLCONF = __name__
    response = site.goto(live_server.url + "/broken/")
    assert response is not None and response.status == 500
    expect(site.locator("h1")).to_have_text("Something went wrong")
    expect(site.locator("main")).to_have_css("border-radius", "8px")  # its stylesheet applied
    assert_clean(browser_log, "500 page")

    response = site.goto(live_server.url + "/items/999999999/")
    assert response is not None and response.status == 404
    expect(site.locator("h1")).to_be_visible()
    assert_clean(browser_log, "404 page")
