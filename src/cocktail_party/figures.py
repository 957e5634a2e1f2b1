"""Figures as files, drawn by the guide itself: a view's self-contained page (the one a notebook
shows) opens in a headless Chromium, its own "Save SVG" or "Save PNG" button is pressed, and the
file the page makes is kept. Needs Playwright and a Chromium, which the guide itself does not."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import CocktailPartyError, InputError

FORMATS = ("svg", "png")
CHROMIUM_ENV = "COCKTAIL_PARTY_CHROMIUM"  # a Chromium to use instead of the one found
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEEDS = (
    "saving a figure needs Playwright for Python (pip install 'cocktail-party[figures]') "
    "and a Chromium (on Debian: apt-get install chromium)"
)


class FigureError(CocktailPartyError):
    """A figure could not be drawn: no browser to draw it, or the page refused."""


def checked_target(path: str | Path, format: str | None = None) -> tuple[Path, str]:
    """Where the figure goes and its format: the one asked for, else the file name's ending,
    which must not name another."""
    path = Path(path)
    ending = path.suffix.lstrip(".").lower()
    chosen = format or ending
    if chosen not in FORMATS:
        raise InputError(
            f"a figure is saved as {' or '.join(FORMATS)}; got {chosen or 'no format'!r} "
            f"for {str(path)!r}"
        )
    if ending and ending != chosen:
        raise InputError(f"{str(path)!r} ends in .{ending}, but the figure is {chosen.upper()}")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {str(path)!r}: the folder {str(path.parent)!r} is missing")
    return path, chosen


def chromium_path() -> str | None:
    """The Chromium to draw with: the one named in the environment, else one on the PATH; None
    leaves the choice to Playwright (its own download, where one was made)."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        if not Path(named).is_file():
            raise FigureError(f"{CHROMIUM_ENV} names {named!r}, which is not a file")
        return named
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def save_figure(document: str, view: str, path: str | Path, format: str | None = None) -> Path:
    """Draw the named view of a page (a NotebookView's document) and write it to path."""
    path, chosen = checked_target(path, format)
    # Playwright's blocking API refuses to run inside an event loop (a notebook's kernel has one)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(draw, document, view, path, chosen).result()


def draw(document: str, view: str, path: Path, format: str) -> Path:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        raise FigureError(f"{NEEDS}; Playwright is not installed") from e

    with sync_playwright() as p:
        executable = chromium_path()
        try:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except PlaywrightError as e:
            where = executable or "Playwright's own browser"
            raise FigureError(f"{NEEDS}; {where} did not start ({first_line(e)})") from e
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            page.set_content(document, wait_until="load")
            page.wait_for_selector("body[data-ready]", timeout=120_000)
            if page.get_attribute("body", "data-ready") != "true":
                raise FigureError(f"the page could not draw the view: {page_errors(page)}")
            button = page.locator(f'.figure-save[data-for="{view}"] button[data-format="{format}"]')
            with page.expect_download(timeout=120_000) as download:
                button.click()
            download.value.save_as(path)
        except PlaywrightError as e:
            raise FigureError(
                f"the {view} view was not saved: {page_errors(page) or first_line(e)}"
            ) from e
        finally:
            browser.close()
    return path


def page_errors(page) -> str:
    return page.locator("#errors").inner_text().replace("Dismiss", "").strip()


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
