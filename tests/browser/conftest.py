"""Fixtures of the browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright for
Python, and one real relaybox server for the session.

- `live_server`: `relaybox serve` on a fresh SQLite file and a free port (tests/e2e/conftest.py's
  `start_server`, simulator at full speed), shared by the tests of a module.
- `api_key`: a test key of a fresh account on that server.
- `browser`: one headless Chromium for the tests of a module (`--no-sandbox` when running as root,
  where Chromium's sandbox refuses to start). Playwright never downloads a browser here.
- `page`: a new browser context and page for each test that can reach only this machine: every
  request to another host is aborted and recorded in `outside_requests`, so a page that works in
  a test works offline too.

Module scope, not session scope: Playwright's sync API keeps its event loop marked as running on
the main thread for as long as it is started, and the suite's asyncio tests (pytest-asyncio), which
run after tests/browser, cannot start theirs while it is. So each browser module stops it when it
ends (a second start costs about a second; the server, a few).

Without /usr/bin/chromium the browser tests are skipped; `RELAYBOX_TEST_BROWSER_REQUIRED=1` (as in
CI, whose .ci/run installs Chromium) makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import LiveServer, start_server, stop_server

CHROMIUM = Path(os.environ.get("RELAYBOX_TEST_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("RELAYBOX_TEST_BROWSER_REQUIRED") == "1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: How long a page may take to show what a test waits for (ms): generous, the machine is shared.
TIMEOUT_MS = 30_000


def _chromium_or_skip() -> None:
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("browser-live"), "--sim-speed", "0")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def api_key(live_server: LiveServer) -> str:
    return live_server.create_account(api_key="test_browserBrowserBrowserKey0001")


@pytest.fixture(scope="module")
def browser():
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield browser
        browser.close()


@pytest.fixture
def outside_requests() -> list[str]:
    """The URLs the test's page tried to reach outside this machine (each one was aborted)."""
    return []


@pytest.fixture
def page(browser, outside_requests):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)

    def only_this_machine(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_machine)
    page = context.new_page()
    yield page
    context.close()


#: Where the console's screenshots go: docs/images when RELAYBOX_SCREENSHOTS=1 (to refresh the docs), else a temp folder.
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def console_server(tmp_path_factory) -> Iterator[LiveServer]:
    """`relaybox serve` on a fresh SQLite file, the simulator a little slower than its realistic speed, so that a
    campaign takes a few seconds: long enough to watch its counters move."""
    server = start_server(tmp_path_factory.mktemp("console"), "--sim-speed", "1.5")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    if os.environ.get("RELAYBOX_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        return DOCS_IMAGES
    return tmp_path_factory.mktemp("screenshots")
