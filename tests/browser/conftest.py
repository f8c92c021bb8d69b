"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

One browser serves every browser test of the session; each test gets a fresh context (no
cookies, no storage) with a page that records every request and every script error. The app
runs in pytest-django's ``live_server`` thread on a transactional database (SQLite locally,
PostgreSQL as the application role in CI); tests create their data through the services.

Playwright's sync API keeps its asyncio loop marked as running in the test's thread between
calls, and Django then refuses ORM calls there ("You cannot call this from an async context").
So the browser runs only while browser tests run: it starts with the first one, and stops
(clearing the loop) as soon as the next test is not a browser test; DJANGO_ALLOW_ASYNC_UNSAFE
is set for exactly that span. No view of Podium is async.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Date and time fields follow the browser's language: fixed, so that typing works the same.
    "--lang=en-US",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# Playwright waits this long (ms) for an element or a navigation before failing.
TIMEOUT_MS = 10_000


class _BrowserSession:
    """Playwright and Chromium, started on first use and stopped after the last browser test."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None
        self._async_unsafe_before: str | None = None

    def get(self):
        if self._browser is None:
            if not CHROMIUM.exists():
                pytest.fail(
                    f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(./dev test installs it: apt-get install chromium).",
                    pytrace=False,
                )
            from playwright.sync_api import sync_playwright

            self._async_unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        return self._browser

    def stop(self) -> None:
        if self._playwright is None:
            return
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._playwright.stop()
            self._playwright = self._browser = None
            if self._async_unsafe_before is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._async_unsafe_before


_SESSION = _BrowserSession()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem) -> None:
    # After the test's fixtures are gone: stop the browser unless another browser test follows.
    if nextitem is None or nextitem.get_closest_marker("browser") is None:
        _SESSION.stop()


@pytest.fixture
def browser():
    """The session's Chromium (fails, never skips, when /usr/bin/chromium is missing)."""
    return _SESSION.get()


@dataclass
class PageLog:
    """What a page did: every request URL, responses that set cookies, failed subresources
    (styles, scripts, images) and script errors (CSP violations are console errors)."""

    requests: list[str] = field(default_factory=list)
    cookie_setters: list[str] = field(default_factory=list)
    failed_resources: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self, base_url: str) -> list[str]:
        origin = urlsplit(base_url).netloc
        return [url for url in self.requests if urlsplit(url).netloc != origin]

    def on_response(self, response) -> None:
        if response.header_value("set-cookie"):
            self.cookie_setters.append(response.url)
        request = response.request
        if (
            response.status >= 400
            and request.resource_type != "document"
            and urlsplit(response.url).path != "/favicon.ico"
        ):
            self.failed_resources.append(f"{response.status} {response.url}")

    def on_console(self, message) -> None:
        # A page answered with 4xx is logged as "Failed to load resource"; tests check statuses.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text} (at {message.location.get('url')})")


def new_page(context, log: PageLog):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("response", log.on_response)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.on("console", log.on_console)
    return page


@pytest.fixture
def context(browser):
    """A fresh browser context (no cookies, no storage), English, desktop width."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="Europe/Berlin")
    yield context
    context.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(context, page_log):
    """A page of the fresh context; no script error, CSP violation or failed style, script or
    image may happen on it."""
    page = new_page(context, page_log)
    yield page
    assert page_log.errors == [], "script errors or CSP violations in the browser"
    assert page_log.failed_resources == [], "styles, scripts or images that failed to load"


@pytest.fixture
def server(live_server, settings):
    """The live server (it serves uploads from this test's MEDIA_ROOT itself), with absolute
    links (canonical, feeds, OpenGraph) built on its address."""
    settings.PODIUM_BASE_URL = live_server.url
    return live_server


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
