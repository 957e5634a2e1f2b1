"""A live guide server on a free local port and Debian's Chromium driven by Playwright."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from cocktail_party.figures import CHROMIUM_FLAGS

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("COCKTAIL_PARTY_ARTIFACTS", "test-artifacts"))


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(real_model):
    """The guide's base URL, served by uvicorn in a background thread."""
    import uvicorn

    from cocktail_party.server.app import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(real_model), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the guide's server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; install it with: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that fails the test on any console error or uncaught exception."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    pg.base = server
    yield pg
    context.close()


def open_guide(page, query: str = "") -> None:
    """Open the guide and wait until every chapter has started."""
    page.goto(f"{page.base}/{query}")
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute("body", "data-ready") == "true", page.inner_text("#errors")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_violations(page, context: str | None = None) -> list[tuple[str, str, int]]:
    """axe-core's serious and critical findings on the page (or one part of it)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context) if context else Axe().run(page)
    return [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


CHIPS = "#chapter-1 [data-ref=chips] .ch1-chip"


def shown_percents(page) -> dict[int, float]:
    """The percentage on every chip that shows one, by the chip's listening token."""
    found = {}
    for el in page.locator(CHIPS).all():
        text = el.locator(".ch1-chip-pct").inner_text().strip().rstrip("*").strip()
        if text and el.locator(".ch1-chip-pct").is_visible():
            found[int(el.get_attribute("data-token"))] = float(text.rstrip("%"))
    return found


def word_weights(att: dict, query: int, shares: list[float]) -> dict[int, float]:
    """Each word's share of a row in percent, keyed by the word's last token, as the page does."""
    return {
        word[-1]: 100 * sum(shares[t] for t in word if t <= query)
        for word in att["words"]
        if word[0] <= query
    }
