"""The search box in a real browser: headless Debian Chromium driven by Playwright.

Screenshots go to var/screenshots/ (git-ignored) for a human look.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser_env import CHROMIUM, new_page, open_page, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


def test_css_is_served(page, live_server):
    open_page(page, live_server.url + "/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(10, 14, 19)"  # --bg from static/css/site.css


def test_type_choose_with_keyboard_and_open_item(page, live_server):
    open_page(page, live_server.url + "/")
    box = page.get_by_role("combobox", name="Search items")
    box.fill("trit")
    options = page.locator("#home-search-list [role=option]")
    expect(options.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(options.first).to_contain_text("Tritanium")
    screenshot(page, "home-suggestions")

    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "home-search-option-0")
    box.press("Enter")

    page.wait_for_url("**/items/34/")
    expect(page.locator("h1")).to_have_text("Tritanium")
    screenshot(page, "item-tritanium")


def test_typo_still_suggests_tritanium(page, live_server):
    open_page(page, live_server.url + "/")
    box = page.get_by_role("combobox", name="Search items")
    box.fill("tritanum")
    first = page.locator("#home-search-list [role=option]").first
    expect(first).to_contain_text("Tritanium")
    first.click()
    page.wait_for_url("**/items/34/")


def test_escape_closes_and_no_results_are_said(page, live_server):
    open_page(page, live_server.url + "/")
    box = page.get_by_role("combobox", name="Search items")
    box.fill("zzzzqqqqxxxx")
    status = page.locator("#home-search").locator("xpath=..").locator(".search__status")
    expect(status).to_contain_text("No items match")
    box.fill("caracal")
    expect(page.locator("#home-search-list [role=option]").first).to_contain_text("Caracal")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#home-search-list")).to_be_hidden()
    expect(box).to_have_value("caracal")


def test_nav_search_on_item_page(page, live_server):
    open_page(page, live_server.url + "/items/621/")
    expect(page.locator("h1")).to_have_text("Caracal")
    screenshot(page, "item-caracal")
    box = page.get_by_role("combobox", name="Search items")
    box.fill("pyerite")
    expect(page.locator("#nav-search-list [role=option]").first).to_contain_text("Pyerite")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url("**/items/35/")


def test_mobile_layout(browser, live_server):
    page = new_page(browser, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        for name, url in [
            ("mobile-home", "/"),
            ("mobile-item", "/items/621/"),
            ("mobile-region", "/regions/10000002/"),
            ("mobile-system", "/systems/30000142/"),
        ]:
            open_page(page, live_server.url + url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{url} scrolls sideways ({width}px)"
            screenshot(page, name)
        open_page(page, live_server.url + "/")
        page.get_by_role("combobox", name="Search items").fill("trit")
        expect(page.locator("#home-search-list [role=option]").first).to_be_visible()
        screenshot(page, "mobile-suggestions")
    finally:
        page.context.close()


def test_other_pages_screenshots(page, live_server):
    for name, url in [
        ("regions", "/regions/"),
        ("region-forge", "/regions/10000002/"),
        ("system-jita", "/systems/30000142/"),
        ("station-jita", "/stations/60003760/"),
        ("not-found", "/items/999999999/"),
        ("search-page", "/?q=tritanum"),
    ]:
        open_page(page, live_server.url + url)
        expect(page.locator("h1")).to_be_visible()
        screenshot(page, name)


def test_search_error_is_shown(page, live_server):
    page.route(
        "**/api/v1/items/search?*",
        lambda route: route.fulfill(status=500, content_type="application/json", body="{}"),
    )
    open_page(page, live_server.url + "/")
    box = page.get_by_role("combobox", name="Search items")
    box.fill("trit")
    status = page.locator(".search__status--error")
    expect(status).to_contain_text("Search is unavailable")
    expect(box).to_have_attribute("aria-expanded", "false")
    screenshot(page, "home-search-error")
    box.press("Enter")  # falls back to the search page, which still works
    page.wait_for_url("**/?q=trit")
    expect(page.locator("#results-title")).to_contain_text("matching")


def test_no_sde_page(page, live_server, settings, tmp_path):
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    response = page.goto(live_server.url + "/", wait_until="domcontentloaded")
    assert response is not None and response.status == 503
    expect(page.locator("h1")).to_have_text("No static data installed")
    expect(page.locator(".site-footer")).to_contain_text("no SDE installed")
    screenshot(page, "no-sde")
