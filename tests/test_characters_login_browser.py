"""EVE SSO login in a real browser: headless Debian Chromium (Playwright) against `live_server`
and the SSO stand-in's own login page. Log in, link a second character, switch between them in
the header, unlink one, log out.

Screenshots go to var/screenshots/characters-*.png (git-ignored) for a human look.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from characters.models import Character
from standin.sso import SsoStandIn
from tests.browser_env import new_page, off_the_event_loop, screenshot, without_image_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
]


@pytest.fixture
def page(sso: SsoStandIn, browser: Browser) -> Iterator[Page]:
    page = new_page(browser)
    without_image_server(page)  # portraits come from the (offline) image server
    yield page
    page.context.close()


def switcher(page: Page) -> Any:
    return page.locator("[data-char-switcher]")


def open_menu(page: Page) -> None:
    menu = switcher(page)
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()


def test_login_link_switch_unlink_logout(page: Page, live_server: Any, sso: SsoStandIn) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/accounts/characters/")
    expect(page.locator("[data-action=login]")).to_be_visible()  # the header, logged out
    screenshot(page, "characters-login")
    page.get_by_role("button", name="Log in with EVE Online").click()

    # The SSO stand-in's own page: pick a character.
    expect(page).to_have_url(re.compile(re.escape(sso.base_url) + "/v2/oauth/authorize"))
    expect(page.get_by_text("No scopes: only who you are.")).to_be_visible()
    page.get_by_role("button", name="Bruce Wayne").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/characters/")
    expect(page.get_by_role("heading", name="Your characters")).to_be_visible()
    expect(switcher(page).locator("summary")).to_contain_text("Bruce Wayne")
    expect(page.locator("[data-character]")).to_have_count(1)
    screenshot(page, "characters-one-character")

    # Link a second character from the header menu.
    open_menu(page)
    switcher(page).get_by_role("button", name="Link another character").click()
    page.get_by_role("button", name="Clark Kent").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/characters/")
    expect(page.locator("[data-character]")).to_have_count(2)
    expect(switcher(page).locator("summary")).to_contain_text("Clark Kent")  # newest selected

    # Switch back to Bruce Wayne in the header.
    open_menu(page)
    expect(switcher(page).locator("[data-switch-to]")).to_have_count(2)
    screenshot(page, "characters-switcher-open")
    switcher(page).locator("[data-switch-to='1001']").click()
    expect(switcher(page).locator("summary")).to_contain_text("Bruce Wayne")
    expect(page.locator("[data-character='1001'] [data-selected]")).to_be_visible()

    # Unlink Clark Kent.
    page.locator("[data-character='1002'] [data-action=unlink]").click()
    expect(page.get_by_role("heading", name="Unlink Clark Kent?")).to_be_visible()
    page.get_by_role("button", name="Unlink Clark Kent").click()
    expect(page.locator("[data-character]")).to_have_count(1)
    expect(page.locator("[data-char-messages]")).to_contain_text("Clark Kent is unlinked")
    linked = off_the_event_loop(lambda: sorted(Character.objects.values_list("pk", flat=True)))
    assert linked == [1001]
    screenshot(page, "characters-after-unlink")

    # Log out from the header menu.
    open_menu(page)
    switcher(page).get_by_role("button", name="Log out").click()
    expect(page.locator("[data-action=login]")).to_be_visible()
    expect(page.locator("[data-char-switcher]")).to_have_count(0)
