"""The market pages in a real browser: headless Debian Chromium driven by Playwright, against
`live_server`, an isolated store and the ESI stand-in (the `market` fixture: The Forge and
Domain tracked).

Screenshots go to var/screenshots/market-*.png (git-ignored) for a human look.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Page, expect

from market import publish
from market.refresh import publish_demo, refresh_region
from tests.browser_env import SCREENSHOTS, new_page, open_page, screenshot

FORGE, DOMAIN = 10000002, 10000043
JITA, AMARR = 60003760, 60008494
TRITANIUM = 34

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]


@pytest.fixture
def live_esi(market) -> Any:
    """Real snapshots of both tracked regions, refreshed from the stand-in (books big enough
    that both hubs trade Tritanium both ways)."""
    market.generate(FORGE, 8_000)
    market.generate(DOMAIN, 4_000)
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    return market


def api(page: Page, live_server: Any, path: str) -> dict[str, Any]:
    response = page.request.get(live_server.url + path)
    assert response.ok, f"{path}: {response.status}"
    return dict(response.json())


def price(value: float) -> str:
    return f"{value:,.2f}"


def compare_row(page: Page, region_id: int, kind: str):
    return page.locator(f'.market-compare tbody[data-region="{region_id}"] tr[data-kind="{kind}"]')


def shown(page: Page, selector: str):
    """`selector` within the selected market's panel and its book on show."""
    return page.locator(f".hub-panel:not([hidden]) {selector}")


def book_rows(page: Page, side: str):
    return shown(page, f'.market-book:not([hidden]) [data-book-body="{side}"] tr')


def days_within(days: list[dict[str, Any]], n: int) -> int:
    cutoff = (datetime.now(UTC) - timedelta(days=n)).date().isoformat()
    return sum(1 for d in days if d["date"] > cutoff)


# --- Item page -----------------------------------------------------------------------------


def test_item_page_compares_hubs_shows_books_and_history(live_esi, page, live_server, eager_celery):
    open_page(page, live_server.url + f"/items/{TRITANIUM}/")
    jita_ask = compare_row(page, FORGE, "hub").locator('[data-cell="hub-ask"]')
    expect(jita_ask).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(2)  # the script put the markets under tabs
    expect(page.locator(".hub-panel__title").first).to_be_hidden()  # the tab names the market
    expect(page.locator("[data-hub-panel]:not([hidden])")).to_have_count(1)

    # (a) The comparison shows exactly the API's numbers.
    compare = api(page, live_server, f"/api/v1/market/compare?type_id={TRITANIUM}")
    by_region = {r["region_id"]: r for r in compare["regions"]}
    for region_id in (FORGE, DOMAIN):
        entry = by_region[region_id]
        for kind in ("hub", "region"):
            row = compare_row(page, region_id, kind)
            for side, key in (("ask", "best_ask"), ("bid", "best_bid")):
                cell = row.locator(f'[data-cell="{kind}-{side}"]')
                expected = entry[kind][key]
                assert expected is not None, f"the stand-in book has a {key} in {region_id}"
                assert float(cell.get_attribute("data-value") or "nan") == expected
                expect(cell).to_contain_text(price(expected))
        expect(compare_row(page, region_id, "hub").locator("th")).to_contain_text("ESI")
        expect(compare_row(page, region_id, "hub").locator("th")).to_contain_text(
            re.compile(r"\d+ s old|\d+ min old")
        )
    # The cheapest ask and the highest bid across the hubs are marked.
    asks = {r: by_region[r]["hub"]["best_ask"] for r in (FORGE, DOMAIN)}
    bids = {r: by_region[r]["hub"]["best_bid"] for r in (FORGE, DOMAIN)}
    cheapest, dearest = min(asks, key=asks.__getitem__), max(bids, key=bids.__getitem__)
    for region_id in (FORGE, DOMAIN):
        ask_cell = compare_row(page, region_id, "hub").locator('[data-cell="hub-ask"]')
        bid_cell = compare_row(page, region_id, "hub").locator('[data-cell="hub-bid"]')
        if region_id == cheapest:
            expect(ask_cell).to_have_class(re.compile(r"\bis-best\b"))
        else:
            expect(ask_cell).not_to_have_class(re.compile(r"\bis-best\b"))
        if region_id == dearest:
            expect(bid_cell).to_have_class(re.compile(r"\bis-best\b"))
        else:
            expect(bid_cell).not_to_have_class(re.compile(r"\bis-best\b"))
    expect(page.locator("[data-note]")).to_have_count(0)  # neither demo nor stale

    # (b) The order book at Jita, then at Amarr.
    jita_tab = page.get_by_role("tab", name=re.compile("Jita"))
    amarr_tab = page.get_by_role("tab", name=re.compile("Amarr"))
    expect(jita_tab).to_have_attribute("aria-selected", "true")
    book = api(
        page, live_server, f"/api/v1/market/orders/{FORGE}/{TRITANIUM}?station_id={JITA}&limit=10"
    )
    sells = book_rows(page, "sell")
    buys = book_rows(page, "buy")
    expect(sells).to_have_count(len(book["sell"]["orders"]))
    expect(buys).to_have_count(len(book["buy"]["orders"]))
    expect(sells.first.locator("td").first).to_have_text(price(book["sell"]["orders"][0]["price"]))
    expect(buys.first.locator("td").first).to_have_text(price(book["buy"]["orders"][0]["price"]))
    expect(sells.first).to_contain_text("Jita IV - Moon 4")
    expect(shown(page, "[data-book-snapshot]")).to_contain_text("The Forge snapshot")
    # Depth bars grow down the book.
    widths = shown(
        page, '.market-book:not([hidden]) [data-book-body="sell"] .depth__bar'
    ).evaluate_all("bars => bars.map(b => b.getBoundingClientRect().width)")
    assert widths == sorted(widths) and widths[-1] > widths[0]

    amarr_tab.click()
    expect(amarr_tab).to_have_attribute("aria-selected", "true")
    expect(jita_tab).to_have_attribute("aria-selected", "false")
    amarr = api(
        page, live_server, f"/api/v1/market/orders/{DOMAIN}/{TRITANIUM}?station_id={AMARR}&limit=10"
    )
    assert amarr["sell"]["orders"], "the stand-in sells Tritanium at Amarr"
    expect(sells.first.locator("td").first).to_have_text(price(amarr["sell"]["orders"][0]["price"]))
    expect(sells.first).to_contain_text("Amarr VIII")
    expect(shown(page, "[data-book-snapshot]")).to_contain_text("Domain snapshot")
    # Whole region: other stations' orders too.
    page.get_by_role("button", name="Whole region").click()
    region_book = api(page, live_server, f"/api/v1/market/orders/{DOMAIN}/{TRITANIUM}?limit=10")
    expect(sells.first.locator("td").first).to_have_text(
        price(region_book["sell"]["orders"][0]["price"])
    )
    expect(sells).to_have_count(len(region_book["sell"]["orders"]))
    expect(shown(page, ".market-book:not([hidden]) [data-book-where]")).to_have_text(
        "in all of Domain"
    )
    page.get_by_role("button", name="At the hub").click()
    expect(shown(page, ".market-book:not([hidden]) [data-book-where]")).to_have_text(
        re.compile(r"^at Amarr VIII")
    )
    # Keyboard: the arrow keys move between the hub tabs.
    amarr_tab.focus()
    page.keyboard.press("ArrowLeft")
    expect(jita_tab).to_have_attribute("aria-selected", "true")
    expect(jita_tab).to_be_focused()

    # (c) The history chart: an SVG path, with as many points as days in the range.
    history = api(page, live_server, f"/api/v1/market/history/{FORGE}/{TRITANIUM}")["days"]
    chart = shown(page, "[data-chart] svg")
    line = shown(page, "[data-chart] path.chart__avg")
    expect(line).to_have_attribute("data-points", str(days_within(history, 90)))
    assert (line.get_attribute("d") or "").startswith("M")
    counts = {}
    for days in (30, 365, 90):
        page.get_by_role("button", name=f"{days} days").click()
        expect(page.get_by_role("button", name=f"{days} days")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(line).to_have_attribute("data-points", str(days_within(history, days)))
        d = line.get_attribute("d") or ""
        counts[days] = d.count("L") + 1
        assert counts[days] == days_within(history, days)
        shown(page, "[data-chart]").screenshot(
            path=str(SCREENSHOTS / f"market-chart-{days}.png"), animations="disabled"
        )
    assert counts[30] < counts[90] < counts[365]
    expect(chart.locator("text.chart__label").first).to_be_visible()
    labels = chart.locator("text.chart__label").all_text_contents()
    assert any(re.fullmatch(r"\d+(\.\d+)?[kMBT]", t) for t in labels), labels  # volume axis
    assert any(re.fullmatch(r"\d+ [A-Z][a-z]{2}", t) for t in labels), labels  # dates
    # Hovering shows the day's numbers.
    screenshot(page, "market-item-desktop")
    box = chart.bounding_box()
    assert box is not None
    chart.hover(position={"x": box["width"] - 15, "y": box["height"] / 2})
    tooltip = shown(page, ".chart__tooltip")
    expect(tooltip).to_contain_text(history[-1]["date"])
    expect(tooltip).to_contain_text(f"Average {price(history[-1]['average'])} ISK")
    shown(page, "[data-chart]").screenshot(path=str(SCREENSHOTS / "market-chart-hover.png"))
    # ...and so do the arrow keys, for the keyboard.
    chart.focus()
    page.keyboard.press("Home")
    first_day = history[-days_within(history, 90)]
    expect(tooltip).to_contain_text(first_day["date"])
    expect(shown(page, "[data-chart] [aria-live]")).to_contain_text(first_day["date"])


def test_item_page_labels_the_demo_market(market, page, live_server):
    publish_demo(FORGE)
    publish_demo(DOMAIN)
    open_page(page, live_server.url + f"/items/{TRITANIUM}/")
    note = page.locator('[data-note="demo"]')
    expect(note).to_contain_text("Demo market: generated prices, not live data")
    expect(note).to_contain_text("The Forge, Domain")
    expect(compare_row(page, FORGE, "hub").locator("th .tag--demo")).to_have_text("DEMO")
    expect(compare_row(page, FORGE, "hub").locator("th")).not_to_contain_text("ESI time")
    expect(shown(page, "[data-book-snapshot]")).to_contain_text(
        "Demo market: generated prices, not live data"
    )
    expect(page.locator(".site-banner")).to_contain_text(
        "Demo market: prices are generated from the static data, not live."
    )
    screenshot(page, "market-item-demo")


def test_item_page_says_a_region_is_on_its_way(market, page, live_server):
    refresh_region(FORGE)  # Domain has no snapshot yet
    open_page(page, live_server.url + f"/items/{TRITANIUM}/")
    pending = "Market data for Domain is on its way (first refresh pending)."
    expect(page.locator(f'.market-compare tbody[data-region="{DOMAIN}"]')).to_contain_text(pending)
    expect(compare_row(page, FORGE, "hub").locator('[data-cell="hub-ask"]')).to_be_visible()
    page.get_by_role("tab", name=re.compile("Amarr")).click()
    expect(shown(page, "[data-book-snapshot]")).to_contain_text(pending)
    screenshot(page, "market-item-pending")


def test_item_not_on_the_market_calls_no_market_api(market, page, live_server):
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url))
    open_page(page, live_server.url + "/items/670/")
    expect(page.locator("h1")).to_have_text("Capsule")
    expect(page.locator(".market-off")).to_contain_text("Capsule is not sold on the market")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert not [url for url in calls if "/api/v1/market/" in url]


def test_item_page_without_javascript_shows_every_market(live_esi, browser, live_server):
    """The page is rendered on the server: without JavaScript the comparison and every
    market's books show, one after another; only the history chart needs the script."""
    page = new_page(browser, viewport={"width": 1366, "height": 900}, java_script_enabled=False)
    try:
        open_page(page, live_server.url + f"/items/{TRITANIUM}/")
        jita_ask = compare_row(page, FORGE, "hub").locator('[data-cell="hub-ask"]')
        expect(jita_ask).to_be_visible()
        expect(jita_ask).to_contain_text(re.compile(r"^\d[\d,]*\.\d\d"))
        expect(page.get_by_role("tab")).to_have_count(0)  # the tabs need JavaScript
        expect(page.locator("[data-hub-panel]:visible")).to_have_count(2)
        for region_id, hub_name in ((FORGE, "Jita"), (DOMAIN, "Amarr")):
            panel = page.locator(f'[data-hub-panel][data-region="{region_id}"]')
            expect(panel.locator(".hub-panel__title")).to_contain_text(hub_name)
            expect(panel.locator(".market-book:visible")).to_have_count(2)  # hub and region
            expect(panel.locator('[data-book-body="sell"] tr').first).to_be_visible()
            expect(panel.get_by_role("link", name=re.compile("history"))).to_have_attribute(
                "href", f"/api/v1/market/history/{region_id}/{TRITANIUM}"
            )
        expect(page.get_by_role("button", name="Whole region")).to_have_count(0)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, f"the item page scrolls sideways ({width}px)"
        screenshot(page, "market-item-no-js")
    finally:
        page.context.close()
    phone = new_page(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, java_script_enabled=False
    )
    try:
        open_page(phone, live_server.url + f"/items/{TRITANIUM}/")
        expect(phone.locator('[data-book-body="sell"] tr').first).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the item page scrolls sideways on a phone ({width}px)"
        screenshot(phone, "market-item-no-js-mobile")
    finally:
        phone.context.close()


def test_market_pages_fit_a_phone(live_esi, browser, live_server, eager_celery):
    page = new_page(browser, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        open_page(page, live_server.url + f"/items/{TRITANIUM}/")
        expect(shown(page, "[data-chart] path.chart__avg")).to_be_attached()
        expect(compare_row(page, FORGE, "hub")).to_be_visible()
        expect(book_rows(page, "sell").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the item page scrolls sideways ({width}px)"
        chart = shown(page, "[data-chart] svg")
        svg_width = chart.evaluate("s => s.getBoundingClientRect().width")
        assert svg_width <= 375
        screenshot(page, "market-item-mobile")

        open_page(page, live_server.url + "/market/status/")
        expect(page.locator(f'.region-status[data-region="{FORGE}"]')).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the status page scrolls sideways ({width}px)"
        screenshot(page, "market-status-mobile")
    finally:
        page.context.close()


def test_the_chart_waits_for_the_worker_to_fetch_the_history(
    live_esi, page, live_server, monkeypatch
):
    """No history is cached: the API answers 202 until a worker (here a timer, 1.5 s later)
    has fetched it, and the chart asks again until it can draw."""
    from market.history import fetch_history_task

    def worker_later(*args: int) -> None:
        threading.Timer(1.5, fetch_history_task, args).start()

    monkeypatch.setattr("market.history.fetch_history_task.delay", worker_later)
    asked: list[int] = []
    page.on(
        "response",
        lambda r: asked.append(r.status) if "/api/v1/market/history/" in r.url else None,
    )
    open_page(page, live_server.url + f"/items/{TRITANIUM}/")
    expect(shown(page, "[data-chart] path.chart__avg")).to_be_attached(timeout=10_000)
    assert asked[0] == 202 and asked[-1] == 200


# --- Status page ---------------------------------------------------------------------------


def field(page: Page, region_id: int, name: str):
    return page.locator(f'.region-status[data-region="{region_id}"] [data-field="{name}"]')


def test_status_page_shows_a_refresh_live(live_esi, page, live_server, settings):
    first = publish.current_meta(FORGE)
    assert first is not None
    live_esi.generate(FORGE, 6_000, seed=11)  # a new book: 30 pages of 200
    pages = live_esi.x_pages(FORGE)
    assert pages == 30
    live_esi.faults.page_latency = 0.2
    settings.ESI_MAX_CONCURRENCY = 1  # one page at a time: about six seconds in all

    open_page(page, live_server.url + "/market/status/")
    expect(field(page, FORGE, "progress-state")).to_have_text("Published")
    expect(field(page, FORGE, "generation")).to_have_text(first.generation)
    expect(page.locator("[data-status-line]")).to_contain_text("As of")  # polled once already

    outcome: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(result=refresh_region(FORGE)), daemon=True
    )
    worker.start()
    try:
        expect(field(page, FORGE, "progress-state")).to_have_text("Fetching pages")
        expect(field(page, FORGE, "progress-text")).to_have_text(
            re.compile(rf"^([1-9]|[12]\d) / {pages} pages$")
        )
        bar = field(page, FORGE, "progress-bar")
        assert bar.get_attribute("max") == str(pages)
        assert 0 < float(bar.evaluate("b => b.value")) < pages
        expect(page.locator(f'.region-status[data-region="{FORGE}"]')).to_have_class(
            re.compile(r"\bis-running\b")
        )
        screenshot(page, "market-status-progress")
        expect(field(page, FORGE, "progress-state")).to_have_text("Published", timeout=20_000)
    finally:
        worker.join(timeout=30)
    new = outcome["result"].meta
    expect(field(page, FORGE, "progress-text")).to_have_text(f"{pages} / {pages} pages")
    expect(field(page, FORGE, "generation")).to_have_text(new.generation)
    expect(field(page, FORGE, "orders")).to_have_text("6,000")
    expect(page.locator(f'.region-status[data-region="{FORGE}"]')).not_to_have_class(
        re.compile(r"\bis-running\b")
    )
    expect(page.locator('[data-field="breaker-state"]')).to_have_text("closed")
    expect(page.locator('[data-field="groups"]')).to_contain_text("market-order")
    screenshot(page, "market-status-desktop")


@pytest.fixture
def staff_cookie(transactional_db: None, live_server: Any) -> dict[str, str]:
    """A logged-in staff session (made before the browser starts: no ORM once it runs)."""
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def test_staff_refresh_button_posts_with_csrf_and_shows_progress(
    live_esi, staff_cookie, page, live_server, settings
):
    from config.celery import app

    live_esi.generate(DOMAIN, 3_000, seed=12)  # 15 pages
    live_esi.faults.page_latency = 0.2
    settings.ESI_MAX_CONCURRENCY = 1
    page.context.add_cookies([staff_cookie])
    posted: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: posted.append({"headers": r.headers, "body": r.post_data})
        if r.method == "POST"
        else None,
    )
    app.conf.task_always_eager = True  # the "worker" is the request itself
    try:
        open_page(page, live_server.url + "/market/status/")
        card = page.locator(f'.region-status[data-region="{DOMAIN}"]')
        button = card.get_by_role("button", name="Refresh now")
        expect(button).to_be_enabled()
        button.click()
        expect(field(page, DOMAIN, "progress-state")).to_have_text("Fetching pages")
        expect(field(page, DOMAIN, "progress-text")).to_have_text(re.compile(r"^\d+ / 15 pages$"))
        expect(button).to_be_disabled()
        expect(field(page, DOMAIN, "progress-state")).to_have_text("Published", timeout=20_000)
        expect(field(page, DOMAIN, "refresh-message")).to_have_text("Done: Published.")
        expect(button).to_be_enabled()
    finally:
        app.conf.task_always_eager = False
    assert len(posted) == 1
    assert posted[0]["headers"].get("x-csrftoken")
    assert posted[0]["body"] == f'{{"region_id":{DOMAIN}}}'
    expect(field(page, DOMAIN, "orders")).to_have_text("3,000")
    screenshot(page, "market-status-staff")
