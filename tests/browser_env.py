"""Headless Chromium for the browser tests (a pytest plugin, listed in tests/conftest.py):
Debian's /usr/bin/chromium driven by Playwright's sync API against `live_server`.

    def test_something(page, live_server):            # a 1280x900 page
        open_page(page, live_server.url + "/")
        screenshot(page, "home")                      # var/screenshots/home.png

    def test_on_a_phone(browser, live_server):        # any other context
        page = new_page(browser, viewport={"width": 375, "height": 740}, is_mobile=True)

Every page opened through `page` or `new_page` is watched for the Content-Security-Policy
(config/csp.py): each violation Chromium reports, as a console error ("... violates the
following Content Security Policy directive ...") or a `securitypolicyviolation` event, is
recorded, and the test fails at teardown listing them. `browser_log` holds what was recorded,
and every uncaught page error, for tests that look.

Django refuses database work in the test's thread while the browser runs: fixtures that need
the database come before `browser`, and the test body uses `off_the_event_loop`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    WebError,
    sync_playwright,
)

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"  # git-ignored
IMAGE_SERVER = re.compile(r"^https://images\.evetech\.net/.*")  # unreachable offline
CSP = "Content Security Policy"
T = TypeVar("T")

# Runs in every frame before the page's own scripts: turns each violation event into a console
# error, with the directive, what was blocked and where (Chromium's own "Refused to ..." message
# says less about the source).
FORWARD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(
    "Content Security Policy violation (event): " + e.effectiveDirective +
      " blocked " + (e.blockedURI || "?") +
      " at " + (e.sourceFile || document.URL) + ":" + e.lineNumber +
      (e.sample ? " sample: " + e.sample : "")
  );
}, true);
"""


@dataclass
class BrowserLog:
    """What the pages of one browser reported: CSP violations and uncaught page errors."""

    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.add_init_script(FORWARD_VIOLATIONS)
        context.on("console", self._console)
        context.on("weberror", self._web_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and CSP in message.text:
            where = message.page.url if message.page else message.location.get("url", "?")
            self.csp_violations.append(f"{where}: {message.text}")

    def _web_error(self, error: WebError) -> None:
        text = f"{error.page.url if error.page else '?'}: {error.error}"
        self.page_errors.append(text)
        if CSP in str(error.error):  # e.g. eval() refused
            self.csp_violations.append(text)


_logs: weakref.WeakKeyDictionary[Browser, BrowserLog] = weakref.WeakKeyDictionary()


@pytest.fixture
def browser(live_server: object) -> Iterator[Browser]:
    # Function-scoped on purpose: Playwright's sync API runs an event loop in this thread, and
    # Django refuses database work (test database setup, the flush after each transactional
    # test) while one runs. Started after the database fixtures, stopped before their teardown.
    # Fixtures that touch the database must come before it (list them first, or depend on them).
    log = BrowserLog()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _logs[browser] = log
        yield browser
        browser.close()  # delivers the events still on their way
    if log.csp_violations:
        pytest.fail(
            f"{len(log.csp_violations)} {CSP} violation(s):\n  " + "\n  ".join(log.csp_violations),
            pytrace=False,
        )


@pytest.fixture
def browser_log(browser: Browser) -> BrowserLog:
    """The CSP violations and page errors recorded so far by `browser`'s pages."""
    return _logs[browser]


def new_page(browser: Browser, **context_args: Any) -> Page:
    """A page in a new context of `browser` (1280x900 unless `viewport` is given), watched for
    CSP violations. Close it with `page.context.close()` (the browser fixture closes the rest)."""
    context_args.setdefault("viewport", VIEWPORT)
    context = browser.new_context(**context_args)
    _logs[browser].watch(context)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser)
    yield page
    page.context.close()


def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot to var/screenshots/<name>.png, for a human look."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-page
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_page(page: Page, url: str) -> None:
    # Not waiting for "load": icons come from images.evetech.net, which may be unreachable.
    page.goto(url, wait_until="domcontentloaded")


def without_image_server(page: Page) -> None:
    """Fail requests to CCP's image server at once (it is offline here)."""
    page.route(IMAGE_SERVER, lambda route: route.abort())


def off_the_event_loop(work: Callable[[], T]) -> T:
    """Run database work while the browser runs: in a thread of its own (Playwright's sync API
    keeps an event loop running in the test's thread, where Django refuses database calls),
    which closes its connections when done (left open, they keep the test database from being
    dropped at the end of the session)."""

    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=30)
