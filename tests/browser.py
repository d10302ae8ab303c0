"""Playwright fixtures driving Debian's Chromium (Playwright's own download is not used)."""
import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]


def _expected(text: str) -> bool:
    """Chromium logs every 4xx document as an error; a 422 form page is expected."""
    return text.startswith("Failed to load resource: the server responded with a status of 4")


# Each test module imports the fixtures below, so pytest sees one ``browser``
# fixture per module; they must share one Playwright (a second sync_playwright()
# in the same thread fails with "using Playwright Sync API inside the asyncio loop").
_shared: dict = {}


@pytest.fixture(scope="session")
def browser():
    owner = not _shared
    if owner:
        from playwright.sync_api import sync_playwright

        _shared["playwright"] = sync_playwright().start()
        _shared["browser"] = _shared["playwright"].chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield _shared["browser"]
    if owner:  # the first set up is torn down last
        _shared.pop("browser").close()
        _shared.pop("playwright").stop()


@pytest.fixture
def new_page(browser, live_server):
    """Factory for pages in fresh browser contexts (one per person)."""
    contexts = []

    def factory(width=1280, height=900):
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and not _expected(msg.text)
                and page.console_errors.append(msg.text))
        return page

    yield factory
    for context in contexts:
        context.close()
