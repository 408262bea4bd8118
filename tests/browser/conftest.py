"""Browser tests: Debian's chromium driven by Playwright for Python, against a real `relaybox serve`.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`apt-get install -y
chromium`).  Without it, or without the playwright package, these tests are skipped (CI installs
both: .ci/run, which also sets RELAYBOX_BROWSER_REQUIRED=1 so that a missing browser fails).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server, stop_server

CHROMIUM = os.environ.get("RELAYBOX_CHROMIUM", "/usr/bin/chromium")
#: Where screenshots go: docs/images when RELAYBOX_SCREENSHOTS=1 (to refresh the docs), else a temp folder.
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session."""
    required = os.environ.get("RELAYBOX_BROWSER_REQUIRED") == "1"  # .ci/run sets it
    if not Path(CHROMIUM).exists():
        (pytest.fail if required else pytest.skip)(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
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
