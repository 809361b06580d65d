"""The place picker in a real browser (headless Chromium, tests/browser_env.py) at a desktop
1366x900 and a phone 390x844: a trader types a place's name, picks it from the suggestions
(by mouse, or by keyboard), submits, and the results are for that place; the page never
scrolls sideways. Screenshots go to var/screenshots/places-*.png.

Published generated snapshots of The Forge, Domain and Sinq Laison (Dodixie's region).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market import publish
from profit import selectors
from tests.browser_env import SCREENSHOTS, new_page, open_page, screenshot, without_image_server
from tests.market_env import DOMAIN, FORGE
from tests.test_profit_api import build

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]

SINQ_LAISON = 10000032
DODIXIE_HUB = 60011866  # Dodixie IX - Moon 20 - Federation Navy Assembly Plant
PERIMETER_STORAGE = 60000358  # Perimeter VI - Ytiri Storage: no hub, in The Forge
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def books(market, settings) -> dict[int, Any]:
    settings.MARKET_REGIONS = [FORGE, DOMAIN, SINQ_LAISON]
    snapshots = {
        FORGE: build(FORGE, 12_000),
        DOMAIN: build(DOMAIN, 4_000),
        SINQ_LAISON: build(SINQ_LAISON, 4_000),
    }
    for snapshot in snapshots.values():
        publish.publish(snapshot)
    selectors.computed.clear()
    return snapshots


def no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


def picker(page: Page, field: str):
    return page.locator(f'input[role="combobox"][data-picker-for="{field}"]')


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_type_dodixie_pick_the_station_and_trade_there(books, browser, live_server, viewport, name):
    page = new_page(browser, viewport=viewport, is_mobile=viewport is PHONE)
    without_image_server(page)
    open_page(page, live_server.url + "/profit/station-trading/")
    box = picker(page, "station_id")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.fill("Dodixie")
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    option = listbox.get_by_role("option", name="Dodixie IX - Moon 20")
    expect(option).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    # Only stations: station trading is at one station.
    details = listbox.locator(".picker__detail").all_inner_texts()
    assert details and all(d.startswith("station · Dodixie") for d in details)
    no_sideways_scroll(page)
    box.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"places-picker-{name}.png"))  # the open list
    option.click()
    expect(page.locator('select[name="station_id"]')).to_have_value(str(DODIXIE_HUB))
    expect(box).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Find trades").click()
    page.wait_for_url(re.compile(f"station_id={DODIXIE_HUB}"), wait_until="domcontentloaded")
    expect(page.locator("[data-results] h2")).to_contain_text("Dodixie IX - Moon 20")
    expect(page.locator('select[name="station_id"]')).to_have_value(str(DODIXIE_HUB))
    assert page.locator("table[data-sortable] tbody tr").count() > 0
    no_sideways_scroll(page)
    screenshot(page, f"places-results-{name}")
    page.context.close()


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_station_that_is_no_hub_by_keyboard(books, browser, live_server, viewport, name):
    page = new_page(browser, viewport=viewport)
    without_image_server(page)
    open_page(page, live_server.url + "/profit/station-trading/")
    box = picker(page, "station_id")
    box.click()
    page.keyboard.type("ytiri perimeter")
    first = page.locator(".picker__list").get_by_role("option").first
    expect(first).to_contain_text("Perimeter VI - Ytiri Storage")
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")  # picks; the form is not sent yet
    select = page.locator('select[name="station_id"]')
    expect(select).to_have_value(str(PERIMETER_STORAGE))
    assert "station_id=" not in page.url
    page.get_by_role("button", name="Find trades").click()
    page.wait_for_url(re.compile(f"station_id={PERIMETER_STORAGE}"), wait_until="domcontentloaded")
    expect(page.locator("[data-results] h2")).to_contain_text("Perimeter VI - Ytiri Storage")
    # Without a new pick the chosen station stays, named, in the select.
    expect(select.locator("option:checked")).to_have_text("Perimeter VI - Ytiri Storage")
    no_sideways_scroll(page)
    page.context.close()


def test_hauling_finds_a_system_and_the_market_group_box_filters(books, browser, live_server):
    page = new_page(browser, viewport=PHONE, is_mobile=True)
    without_image_server(page)
    open_page(page, live_server.url + "/profit/hauling/")
    box = picker(page, "to")
    box.fill("Perimeter")
    option = (
        page.locator(".picker__list")
        .get_by_role("option")
        .filter(has_text="system · The Forge")
        .first
    )
    expect(option).to_contain_text("Perimeter")
    option.click()
    expect(page.locator('select[name="to"]')).to_have_value("30000144")
    no_sideways_scroll(page)
    page.context.close()

    page = new_page(browser, viewport=DESKTOP)
    open_page(page, live_server.url + "/profit/station-trading/")
    groups = picker(page, "market_group_id")
    groups.fill("frigates")
    option = page.locator(".picker__list").get_by_role("option", name="Frigates").first
    expect(option).to_be_visible()
    option.click()
    value = page.locator('select[name="market_group_id"]').input_value()
    assert value and page.locator(
        f'select[name="market_group_id"] option[value="{value}"]'
    ).inner_text().endswith("Frigates")
    page.get_by_role("button", name="Find trades").click()
    page.wait_for_url(re.compile(f"market_group_id={value}"), wait_until="domcontentloaded")
    expect(page.locator('select[name="market_group_id"]')).to_have_value(value)
    page.context.close()


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_item_pages_trade_links_fit_and_lead_to_the_calculator(
    books, browser, live_server, viewport, name
):
    page = new_page(browser, viewport=viewport)
    without_image_server(page)
    open_page(page, live_server.url + "/items/34/")
    links = page.locator("[data-trade-links]")
    expect(links.get_by_role("link", name="Station-trade Minerals at")).to_be_visible()
    no_sideways_scroll(page)
    links.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"places-item-links-{name}.png"))
    links.get_by_role("link", name="Haul it").click()
    page.wait_for_url(re.compile("/profit/calculator/"), wait_until="domcontentloaded")
    expect(page.locator("[data-breakdown]")).to_contain_text("Tritanium")
    no_sideways_scroll(page)
    page.context.close()
