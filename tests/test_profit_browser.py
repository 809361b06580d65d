"""The profit pages in a real browser: headless Debian Chromium driven by Playwright, against
`live_server`, an isolated store and published generated snapshots (The Forge and Domain).

A station-trading search and a column sort, the calculator's breakdown, and a new board
pushed to the home page. Screenshots go to var/screenshots/profit-*.png (git-ignored).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market import publish
from profit import boards, selectors
from tests.browser_env import off_the_event_loop, open_page, screenshot
from tests.market_env import DOMAIN, FORGE
from tests.test_profit_api import AMARR, JITA, build

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]


@pytest.fixture
def books(market) -> dict[int, Any]:
    snapshots = {FORGE: build(FORGE, 12_000), DOMAIN: build(DOMAIN, 4_000)}
    for snapshot in snapshots.values():
        publish.publish(snapshot)
    selectors.computed.clear()
    return snapshots


def api(page: Page, live_server: Any, path: str, **params: Any) -> dict[str, Any]:
    response = page.request.get(live_server.url + path, params=params)
    assert response.ok, f"{path}: {response.status}"
    return dict(response.json())


def column(page: Page, key: str) -> list[float]:
    index = page.locator("table[data-sortable] thead th").evaluate_all(
        f"ths => ths.findIndex(th => th.dataset.key === {key!r})"
    )
    values = page.locator("table[data-sortable] tbody tr").evaluate_all(
        f"rows => rows.map(r => r.cells[{index}].dataset.value)"
    )
    return [float(v) for v in values]


def test_a_station_trading_search_sorted_by_a_column(books, page, live_server):
    open_page(page, live_server.url + "/profit/station-trading/")
    expect(page.locator("[data-results] h2")).to_contain_text("Jita IV - Moon 4")
    # Search Amarr with a skill and a margin floor.
    page.select_option('select[name="station_id"]', str(AMARR))
    page.locator("[data-more-filters] summary").click()  # collapsed until something is set
    page.fill('input[name="min_margin_pct"]', "1")
    page.locator("[data-more-skills] summary").click()
    page.select_option('select[name="accounting"]', "4")
    page.get_by_role("button", name="Find trades").click()
    expect(page.locator("[data-results] h2")).to_contain_text("Amarr VIII")
    expected = api(
        page,
        live_server,
        "/api/v1/profit/station-trading",
        station_id=AMARR,
        min_margin=0.01,
        accounting=4,
    )
    rows = page.locator("table[data-sortable] tbody tr")
    expect(rows).to_have_count(len(expected["results"]))
    assert len(expected["results"]) > 2
    ids = rows.evaluate_all("rows => rows.map(r => Number(r.dataset.type))")
    assert ids == [row["type_id"] for row in expected["results"]]
    expect(page.locator("[data-snapshots]")).to_contain_text("Domain")
    screenshot(page, "profit-station-trading")

    # Sort by margin: in place, highest first, then lowest first.
    margin = page.locator('th[data-key="margin"]')
    margin.get_by_role("button").click()
    expect(margin).to_have_attribute("aria-sort", "descending")
    values = column(page, "margin")
    assert values == sorted(values, reverse=True)
    assert "sort=-margin" in page.url
    assert "sort=-margin" in (page.locator("[data-csv]").get_attribute("href") or "")
    margin.get_by_role("button").click()
    expect(margin).to_have_attribute("aria-sort", "ascending")
    values = column(page, "margin")
    assert values == sorted(values)
    expect(page.locator('th[data-key="profit_per_unit"]')).not_to_have_attribute(
        "aria-sort", "descending"
    )
    # The order survives a reload (the URL carries it; the server sorts the same way).
    page.reload()
    expect(page.locator('th[data-key="margin"]')).to_have_attribute("aria-sort", "ascending")
    assert column(page, "margin") == values


def test_the_calculator_shows_its_breakdown(books, page, live_server):
    open_page(page, live_server.url + "/profit/calculator/")
    page.fill('input[name="type_id"]', "Tritanium")
    page.fill('input[name="quantity"]', "20000")
    page.select_option('select[name="buy_location"]', str(JITA))
    page.select_option('select[name="sell_location"]', str(AMARR))
    page.get_by_role("button", name="Calculate").click()
    breakdown = page.locator("[data-breakdown]")
    expect(breakdown).to_be_visible()
    response = page.request.post(
        live_server.url + "/api/v1/profit/calculate",
        data={"type_id": 34, "buy_location": JITA, "sell_location": AMARR, "quantity": 20000},
    )
    assert response.ok
    expected = response.json()["breakdown"]
    lines = page.locator("[data-lines] tbody tr")
    expect(lines).to_have_count(len(expected["lines"]))
    for i, line in enumerate(expected["lines"]):
        expect(lines.nth(i).locator("th")).to_have_text(line["label"])
        expect(lines.nth(i).locator(".calc-formula")).to_have_text(line["formula"])
    net = expected["totals"]["net_profit"]
    # cents only where there are any: EVE's prices of 1,000 ISK and more have none
    cents = round(net, 2) != round(net)
    expect(page.locator('[data-figure="net_profit"]')).to_have_text(
        f"{net:,.2f}" if cents else f"{net:,.0f}"
    )
    expect(breakdown.locator("h2")).to_contain_text("Tritanium")
    screenshot(page, "profit-calculator")


def test_a_new_board_is_pushed_to_the_home_page(books, page, live_server, settings):
    settings.PROFIT_BOARD_POLL_MS = 300
    assert off_the_event_loop(boards.recompute) == "published"
    first = boards.read_pointer()["version"]
    open_page(page, live_server.url + "/")
    board = page.locator("[data-boards]")
    expect(board).to_have_attribute("data-version", first)
    expect(page.locator("[data-boards-live]")).to_have_attribute("data-live", "on")
    screenshot(page, "profit-home-boards")

    publish.publish(build(FORGE, 12_000, seed=11))
    assert off_the_event_loop(boards.recompute) == "published"
    second = boards.read_pointer()["version"]
    assert second != first
    expect(board).to_have_attribute("data-version", second, timeout=8_000)
    expect(page.locator("[data-boards-announce]")).to_have_text(
        "The opportunity boards were updated."
    )
    answer = off_the_event_loop(lambda: boards.read_boards(limit=8, board_id=f"station:{JITA}"))
    jita_rows = answer["boards"][0]["rows"]
    shown = page.locator(f'[data-board="station:{JITA}"] tbody tr').evaluate_all(
        "rows => rows.map(r => Number(r.dataset.type))"
    )
    assert shown == [row["type_id"] for row in jita_rows]
