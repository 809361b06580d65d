"""The layout rules of the pages a trader lives in, in a real browser (headless Chromium,
Playwright) at a desktop's 1366x900 and a phone's 390x844.

Station trading, hauling, the home page's boards, an item page and the calculator, over
books built to be hard to lay out: an 83-character blueprint name, titans and blueprints
worth tens of billions, a hauling row of 119 million units. Each page fails its test when

- the page scrolls sideways (the document is wider than the viewport);
- a figure is cut: a numeric cell whose text overflows it, or that ends in an ellipsis;
- a ranking column (station trading: profit per day and per unit; hauling: net profit, ROI,
  ISK per m³ and profit per jump; the boards' profit) is outside the viewport, or outside
  the box of a table that scrolls;
- on a phone the answer does not come before the form, or a row's card hides its ranking
  figure or its prices.

Screenshots of every page at both sizes go to var/screenshots/layout-*.png (CI keeps the
folder: docs/testing.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from market import publish
from market.models import Structure
from market.snapshot import Snapshot
from profit import boards, selectors
from profit.volumes import _save as save_daily_volumes
from profit.volumes import forget_read
from store import get_store
from tests.browser_env import new_page, open_page, screenshot
from tests.market_env import DOMAIN, FORGE
from tests.profit_books import (
    AMARR_EFA,
    JITA_44,
    JITA_STRUCTURE,
    PERIMETER,
    columns,
    fresh_meta,
    order,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]

# Real type ids with names and prices that strain a table.
LONGEST = (
    44042  # Standup M-Set Basic Capital Component Manufacturing Material Efficiency I Blueprint
)
MEDIUM_ME = (
    44030  # Standup M-Set Advanced Medium Ship Manufacturing Material Efficiency I Blueprint
)
SMALL_ME = 44026  # Standup M-Set Advanced Small Ship Manufacturing Material Efficiency I Blueprint
LARGE_ME = 44034  # Standup M-Set Advanced Large Ship Manufacturing Material Efficiency I Blueprint
COMPONENT_ME = (
    44038  # Standup M-Set Advanced Component Manufacturing Material Efficiency I Blueprint
)
THUKKER = 45544  # Standup M-Set Thukker Basic Capital Component Manufacturing Material Efficiency
AVATAR, EREBUS, NYX = 11567, 671, 23913  # titans and a supercarrier
STILETTO_BP = 11199  # a blueprint of 0.01 m³
TRITANIUM, PYERITE, MEXALLON = 34, 35, 36

# Station trading at Jita 4-4: (type, best bid, best ask, region's units a day), a spread of
# about 30 %, wide enough for both broker fees and the tax, from 5.37 ISK to 195 billion,
# and one ROI in the thousands of percent.
STATION_BOOK = [
    (AVATAR, 150_000_000_000, 195_000_000_000, 20.0),
    (EREBUS, 141_000_000_000, 184_000_000_000, 20.0),
    (STILETTO_BP, 40_120_000_000, 52_780_000_000, 40.0),
    (LONGEST, 1_234_000_000, 1_612_000_000, 60.0),
    (MEDIUM_ME, 50_100_000, 66_250_000, 250.0),
    (THUKKER, 791_700_000, 1_032_000_000, 90.0),
    (TRITANIUM, 3.95, 5.37, 250_000_000.0),
    (COMPONENT_ME, 1_000_000, 20_000_000, 30.0),  # a ROI of about 1,600 %
]
# Hauls from Jita 4-4 to Amarr VIII: (type, units, ask at Jita, bid at Amarr), bought at once
# from the asks and sold at once into the bids: billions, 119 million units, a ROI in the
# thousands of percent.
HAULS = [
    (SMALL_ME, 4, 1_010_000_000, 1_620_000_000),
    (LARGE_ME, 30, 600_100_000, 798_000_000),
    (NYX, 2, 45_010_000_000, 52_990_000_000),
    (PYERITE, 119_000_000, 4.00, 5.37),
    (MEXALLON, 50_000, 10.00, 150.0),  # a ROI of about 1,290 %
]
STATION_URL = f"/profit/station-trading/?station_id={JITA_44}"
HAULING_URL = f"/profit/hauling/?from={JITA_44}&to={AMARR_EFA}&cargo_m3=5000000&budget=500000000000"
CALCULATOR_URL = (
    f"/profit/calculator/?type_id={SMALL_ME}&quantity=4&buy_location={JITA_44}"
    f"&sell_location={AMARR_EFA}"
)
ITEM_URL = f"/items/{LONGEST}/"


def _snapshot(region_id: int, orders: list[dict[str, Any]]) -> Snapshot:
    meta = fresh_meta(region_id, len(orders))
    return Snapshot.build(meta, columns(orders))


def grid(price: float) -> float:
    """The nearest price EVE accepts: four significant digits."""
    return float(f"{price:.4g}")


def _forge_orders() -> list[dict[str, Any]]:
    orders = []
    for type_id, bid, ask, _ in STATION_BOOK:
        for step in range(3):  # a few orders a side, a little apart
            orders.append(order(type_id, grid(bid * (1 - 0.01 * step)), 50, buy=True))
            orders.append(order(type_id, grid(ask * (1 + 0.01 * step)), 50))
    orders += [order(type_id, ask, units) for type_id, units, ask, _ in HAULS]
    return orders


# A shared structure with a long name (names are the owner's to choose), whose book holds the
# longest blueprint: it shows beside the hub on the item page, and station trading there.
TOWER_NAME = "Perimeter - Tranquility Trading Tower of the Extremely Long Alliance Name Holdings"
TOWER_BOOK = [(LONGEST, 1_100_000_000, 1_702_000_000), (NYX, 21_500_000_000, 27_990_000_000)]


def _tower_orders() -> list[dict[str, Any]]:
    orders = []
    for type_id, bid, ask in TOWER_BOOK:
        orders.append(order(type_id, bid, 3, buy=True, location=JITA_STRUCTURE))
        orders.append(order(type_id, ask, 3, location=JITA_STRUCTURE))
    return orders


def _domain_orders() -> list[dict[str, Any]]:
    return [order(t, bid, units, buy=True, location=AMARR_EFA) for t, units, _, bid in HAULS]


@pytest.fixture
def wide_books(market) -> Iterator[dict[int, Snapshot]]:
    """Published books of The Forge and Domain, The Forge's daily volumes, and the boards."""
    snapshots = {
        FORGE: _snapshot(FORGE, _forge_orders()),
        DOMAIN: _snapshot(DOMAIN, _domain_orders()),
    }
    for snapshot in snapshots.values():
        publish.publish(snapshot)
    publish.publish(_snapshot(JITA_STRUCTURE, _tower_orders()))
    Structure.objects.create(
        structure_id=JITA_STRUCTURE,
        name=TOWER_NAME,
        solar_system_id=PERIMETER,
        region_id=FORGE,
        learned_from=Structure.Learned.CHARACTER,
        market_status=Structure.Status.SHARED,
    )
    today = int(np.datetime64("today", "D").astype(int))
    nan = float("nan")
    volumes = {t: (v, today, nan, nan) for t, _, _, v in STATION_BOOK}
    save_daily_volumes(FORGE, volumes, get_store())
    selectors.computed.clear()
    forget_read()
    assert boards.recompute() == "published"
    yield snapshots
    selectors.computed.clear()
    forget_read()


# "19.8B" or "1.244B": at most three decimals, then B (never "791.70…" or "19,795,500,000.00").
BILLIONS = re.compile(r"^-?\d{1,3}(\.\d{1,3})?B$")
# "19,795,500,000 ISK" or "1,234.56 ISK": grouped, cents only when there are any.
EXACT_ISK = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d\d)? ISK$")


# --- What every page is checked for ---------------------------------------------------------


# The elements that stick out of the viewport (not inside a scrolling box): named in a failure.
STICKING_OUT = """(width) => [...document.querySelectorAll("body *")]
  .filter(el => el.getBoundingClientRect().right > width + 0.5)
  .filter(el => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const scrolls = ["auto", "scroll", "hidden"].includes(getComputedStyle(up).overflowX);
      if (scrolls && up.getBoundingClientRect().right <= width + 0.5) return false;
    }
    return true;
  })
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + "." + [...el.classList].join(".") + " to " +
       Math.round(el.getBoundingClientRect().right) + " px")"""


def no_sideways_scroll(page: Page, where: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        culprits = page.evaluate(STICKING_OUT, width)
        pytest.fail(f"{where}: the page is {scroll} px wide in {width} px: {culprits}")


CUT_FIGURES = """(selector) => [...document.querySelectorAll(selector)]
  .filter(el => el.getClientRects().length > 0)
  .filter(el => el.scrollWidth > el.clientWidth + 1 || el.textContent.includes("…"))
  .map(el => el.textContent.trim() + " (" + el.scrollWidth + " px in " + el.clientWidth + ")")"""


def no_cut_figures(page: Page, where: str) -> None:
    cut = page.evaluate(CUT_FIGURES, "td.num, [data-figure]")
    assert not cut, f"{where}: figures cut: {cut[:5]}"


# Where each cell lies, and the box of the table's scrolling wrapper, if any.
BOXES = """(selector) => [...document.querySelectorAll(selector)]
  .filter(el => el.getClientRects().length > 0)
  .slice(0, 12)
  .map(el => {
    const r = el.getBoundingClientRect();
    const wrap = el.closest(".table-wrap");
    const w = wrap ? wrap.getBoundingClientRect() : {left: 0, right: Infinity};
    return {text: el.textContent.trim(), left: r.left, right: r.right,
            boxLeft: w.left, boxRight: w.right};
  })"""


def in_view(page: Page, selector: str, where: str) -> None:
    """Every shown cell matching `selector` lies inside the viewport and its table's box."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    boxes = page.evaluate(BOXES, selector)
    assert boxes, f"{where}: nothing shown matches {selector}"
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= width + 0.5, (
            f"{where}: {selector} {box['text']!r} spans {box['left']:.0f}-{box['right']:.0f} "
            f"px, outside the {width} px viewport"
        )
        assert box["left"] >= box["boxLeft"] - 0.5 and box["right"] <= box["boxRight"] + 0.5, (
            f"{where}: {selector} {box['text']!r} is scrolled out of its table's box"
        )


def tables_fit(page: Page, where: str) -> None:
    """No list table scrolls sideways inside its box either."""
    wide = page.evaluate(
        """() => [...document.querySelectorAll(".table-wrap")]
          .filter(w => w.querySelector(".profit-table, .board__table, .calc-lines"))
          .filter(w => w.scrollWidth > w.clientWidth + 1)
          .map(w => w.scrollWidth + " px in " + w.clientWidth)"""
    )
    assert not wide, f"{where}: tables wider than their box: {wide}"


def answer_first_on_a_phone(page: Page, answer: str, where: str) -> None:
    """On a phone the answer starts on the first screen, above the form."""
    top = page.locator(answer).first.bounding_box()
    form = page.locator("[data-profit-form]").first.bounding_box()
    assert top is not None and form is not None
    assert top["y"] < form["y"], f"{where}: the form comes before the answer"
    assert top["y"] < PHONE["height"], f"{where}: the answer starts {top['y']:.0f} px down"


def labels_follow_the_columns(page: Page, where: str) -> None:
    """Each cell's label (shown on a phone's card) is its column's header: the template's
    cells are in profit/tables.py's order."""
    pairs = page.evaluate(
        """() => {
          const table = document.querySelector("table[data-sortable]");
          const heads = [...table.tHead.rows[0].cells].map(th => th.textContent.trim());
          return [...table.tBodies[0].rows].slice(0, 5).flatMap(row =>
            [...row.cells].map((td, i) => [td.dataset.label, heads[i]]));
        }"""
    )
    assert pairs
    mismatched = [(label, head) for label, head in pairs if label != head]
    assert not mismatched, f"{where}: cells out of their columns' order: {mismatched[:4]}"


def no_empty_cents(page: Page, selector: str, where: str) -> None:
    texts = page.locator(selector).all_inner_texts()
    assert texts
    with_cents = [t for t in texts if t.strip().endswith(".00")]
    assert not with_cents, f"{where}: prices with .00: {with_cents[:4]}"


def look(browser: Any, live_server: Any, viewport: dict[str, int], path: str) -> Page:
    page = new_page(browser, viewport=viewport, is_mobile=viewport is PHONE)
    open_page(page, live_server.url + path)
    return page


def size_name(viewport: dict[str, int]) -> str:
    return f"{viewport['width']}x{viewport['height']}"


# --- The pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", SIZES)
def test_station_trading_fits(wide_books, browser, live_server, viewport):
    page = look(browser, live_server, viewport, STATION_URL)
    where = f"station trading at {size_name(viewport)}"
    expect(page.locator("[data-results] h2")).to_contain_text("Jita IV - Moon 4")
    # The widest name and the titans are there, in billions.
    expect(page.locator(f'tr[data-type="{LONGEST}"]')).to_be_visible()
    expect(page.locator(f'tr[data-type="{AVATAR}"] [data-cell="profit_per_unit"]')).to_have_text(
        BILLIONS
    )
    screenshot(page, f"layout-station-trading-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    tables_fit(page, where)
    labels_follow_the_columns(page, where)
    for key in ("daily_profit", "profit_per_unit"):
        in_view(page, f'[data-cell="{key}"]', where)
    no_empty_cents(page, '[data-cell="buy_price"], [data-cell="sell_price"]', where)
    if viewport is DESKTOP:
        # The ranking columns come first after the item, their headers on screen.
        keys = page.locator("table[data-sortable] thead th").evaluate_all(
            "ths => ths.map(th => th.dataset.key)"
        )
        assert keys[:3] == ["type_name", "daily_profit", "profit_per_unit"]
        for key in ("daily_profit", "profit_per_unit"):
            in_view(page, f'th[data-key="{key}"]', where)
    else:
        answer_first_on_a_phone(page, "[data-results]", where)
        for key in ("buy_price", "sell_price"):  # a card shows the prices too
            in_view(page, f'[data-cell="{key}"]', where)
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES)
def test_hauling_fits(wide_books, browser, live_server, viewport):
    page = look(browser, live_server, viewport, HAULING_URL)
    where = f"hauling at {size_name(viewport)}"
    rows = page.locator("table[data-sortable] tbody tr")
    expect(rows).to_have_count(len(HAULS))
    # The route is under the item, station names without their facility, in full on hover.
    route = page.locator("[data-route]").first
    expect(route).to_have_text("Jita IV - Moon 4 → Amarr VIII")
    expect(route.locator("span").first).to_have_attribute(
        "title", "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    )
    screenshot(page, f"layout-hauling-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    tables_fit(page, where)
    labels_follow_the_columns(page, where)
    for key in ("net_profit", "roi", "isk_per_m3", "profit_per_jump"):
        in_view(page, f'[data-cell="{key}"]', where)
        if viewport is DESKTOP:
            in_view(page, f'th[data-key="{key}"]', where)
    if viewport is PHONE:
        answer_first_on_a_phone(page, "[data-results]", where)
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES)
def test_the_home_boards_fit(wide_books, browser, live_server, viewport):
    page = look(browser, live_server, viewport, "/")
    where = f"the home page at {size_name(viewport)}"
    jita = page.locator(f'[data-board="station:{JITA_44}"]')
    expect(jita.locator("tbody tr").first).to_be_visible()
    screenshot(page, f"layout-home-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    tables_fit(page, where)
    in_view(page, '[data-board] [data-cell="profit"]', where)
    # Billions and millions told apart: the Avatar's profit per unit is compact, with the
    # exact figure on hover.
    avatar = jita.locator(f'tr[data-type="{AVATAR}"] [data-cell="profit"]')
    expect(avatar).to_have_text(BILLIONS)
    expect(avatar).to_have_attribute("title", EXACT_ISK)
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES)
def test_an_item_page_fits(wide_books, browser, live_server, viewport):
    page = look(browser, live_server, viewport, ITEM_URL)
    where = f"an item page at {size_name(viewport)}"
    expect(page.locator("h1")).to_contain_text("Material Efficiency I Blueprint")
    expect(page.locator("body")).to_contain_text("0.01 m³")  # a blueprint, never "0.0 m³"
    # The shared structure beside the hub, its long name included.
    expect(page.locator('tr[data-kind="structure"]').first).to_contain_text(TOWER_NAME[:40])
    screenshot(page, f"layout-item-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES)
def test_station_trading_at_a_structure_fits(wide_books, browser, live_server, viewport):
    page = look(
        browser, live_server, viewport, f"/profit/station-trading/?station_id={JITA_STRUCTURE}"
    )
    where = f"station trading at a structure at {size_name(viewport)}"
    expect(page.locator("[data-results] h2")).to_contain_text(TOWER_NAME[:40])
    expect(page.locator(f'tr[data-type="{NYX}"]')).to_be_visible()
    expect(page.locator("[data-docking]")).to_contain_text("docking may be restricted")
    expect(page.locator("[data-structure]")).to_contain_text(TOWER_NAME)  # its book, named
    screenshot(page, f"layout-structure-trading-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    tables_fit(page, where)
    in_view(page, '[data-cell="profit_per_unit"]', where)
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES)
def test_the_calculator_fits(wide_books, browser, live_server, viewport):
    page = look(browser, live_server, viewport, CALCULATOR_URL)
    where = f"the calculator at {size_name(viewport)}"
    expect(page.locator("[data-breakdown]")).to_be_visible()
    screenshot(page, f"layout-calculator-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    tables_fit(page, where)
    # The "How" of each line is readable: never squeezed to a few characters a line.
    widths = page.locator("[data-lines] .calc-formula").evaluate_all(
        "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert widths and min(widths) >= 180, f"{where}: the How column is {min(widths):.0f} px"
    if viewport is PHONE:
        answer_first_on_a_phone(page, "[data-breakdown]", where)
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES)
def test_an_appraisal_fits(wide_books, browser, live_server, viewport):
    """An appraisal of titans, a long blueprint and Tritanium by the million, made on the
    page: totals in billions, every figure whole, on a phone too."""
    paste = "\n".join(
        [
            "Avatar\t2",
            "Erebus 1",
            "Standup M-Set Basic Capital Component Manufacturing Material Efficiency I "
            "Blueprint x3",
            "Tritanium\t119,000,000",
            "this line reads as nothing at all",
        ]
    )
    page = look(browser, live_server, viewport, "/appraisals/")
    page.locator("textarea[name=text]").fill(paste)
    page.locator("[data-appraisal-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/appraisals/[A-Za-z0-9]{8}$"))
    where = f"an appraisal at {size_name(viewport)}"
    expect(page.locator('[data-total="buy"]')).to_have_text(BILLIONS)
    expect(page.locator(f'tr[data-type="{AVATAR}"]')).to_be_visible()
    expect(page.locator("[data-unparsed]")).to_contain_text("reads as nothing")
    screenshot(page, f"layout-appraisal-{size_name(viewport)}")
    no_sideways_scroll(page, where)
    no_cut_figures(page, where)
    tables_fit(page, where)
    page.context.close()
