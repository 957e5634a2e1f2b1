"""The exported guide in a real Chromium, served by a plain static file server: the same pages
draw the precomputed answers, and a text of one's own says it needs the live server."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import CHIPS, shown_percents

from cocktail_party import examples, export

EXAMPLE = examples.EXAMPLES[0]
FACT = examples.FACT_PROMPTS[0]
FREE = "A sentence of my own, typed in class."


@pytest.fixture(scope="module")
def site(real_model, tmp_path_factory):
    """One curated sentence and prompt on the example's head; the command exports them all."""
    folder = tmp_path_factory.mktemp("static-site")
    head = [(EXAMPLE["layer"], EXAMPLE["head"])]
    export.export_site(real_model, folder, texts=[EXAMPLE["text"]], facts=[FACT], heads=head)
    return folder


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def static_url(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def spage(browser, static_url):
    """A page on the static copy that records console errors and refused requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors, pg.refused = [], []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("response", lambda r: pg.refused.append(r.url) if r.status >= 400 else None)
    pg.goto(f"{static_url}/")
    pg.wait_for_selector("body[data-ready]")
    assert pg.get_attribute("body", "data-ready") == "true", pg.inner_text("#errors")
    yield pg
    context.close()


def stored(site, method: str, path: str, params: dict) -> dict:
    manifest = json.loads((site / export.MANIFEST).read_text(encoding="utf-8"))
    name = manifest["answers"][export.key_hash(export.Ask(method, path, params).key)]
    return json.loads((site / export.ANSWERS / f"{name}.json").read_text(encoding="utf-8"))


def assert_clean(page) -> None:
    assert page.errors == []
    assert page.refused == []  # the manifest is read first: nothing missing is ever fetched


def test_chapter1_shows_the_precomputed_weights(spage, site):
    spage.wait_for_selector(f"{CHIPS}.is-query")
    body = {"text": EXAMPLE["text"], "layer": EXAMPLE["layer"], "head": EXAMPLE["head"]}
    att = stored(site, "POST", "/api/attention", body)
    query = att["words"][-2][-1]  # the word before the full stop
    spage.click(f"{CHIPS}[data-token='{query}']")
    spage.wait_for_selector(f"{CHIPS}[data-token='{query}'].is-query")
    row = att["pattern"][query]
    expected = {
        word[-1]: 100 * sum(row[t] for t in word) for word in att["words"] if word[0] <= query
    }
    shown = shown_percents(spage)
    assert shown.keys() == expected.keys()
    for token, pct in shown.items():
        assert pct == pytest.approx(expected[token], abs=0.051), token
    assert_clean(spage)


def test_chapter2_toggles_to_the_untrained_twin(spage, site):
    spage.click("#tab-2")
    spage.wait_for_selector("#chapter-2[data-drawn=true]")
    spage.check('[data-c2="untrained"]')
    spage.wait_for_selector('#chapter-2 [data-c2="main"][data-model="untrained"]')
    spage.wait_for_selector("#chapter-2[data-drawn=true]")
    word = int(spage.input_value('[data-c2="word"]'))
    body = {"text": EXAMPLE["text"], "layer": EXAMPLE["layer"], "head": EXAMPLE["head"]}
    twin = stored(site, "POST", "/api/attention", {**body, "model": "untrained"})
    focus = f"{1 - twin['entropy'][word]:.2f}"
    assert spage.inner_text('#chapter-2 [data-c2="main-focus"]') == focus
    query = {"layer": str(EXAMPLE["layer"]), "head": str(EXAMPLE["head"]), "model": "untrained"}
    weights = stored(site, "GET", "/api/weights", query)
    std = spage.inner_text('#chapter-2 [data-matrix="W_Q"] [data-m=std]')
    assert std == f"{weights['matrices']['W_Q']['std']:.3f}"
    assert_clean(spage)


def test_chapter3_flow_reaches_the_answer(spage, site):
    spage.click("#tab-3")
    spage.wait_for_selector("#chapter-3[data-drawn=true]")
    spage.click('[data-c3="end"]')
    guesses = spage.locator('[data-c3="guesses"] [data-b="label"]').all_inner_texts()
    assert guesses[0] == FACT["answer"].strip() == "Paris"
    lens = stored(site, "POST", "/api/lens", {"text": FACT["text"], "target": " Paris", "k": 5})
    prob = f"{lens['stages'][-1]['target_prob'] * 100:.2f}%"
    assert spage.inner_text('#chapter-3 [data-c3="target-prob"]') == prob

    cut = f"mlp{EXAMPLE['layer']}"
    spage.click(f'[data-c3="attribution"] [data-cut="{cut}"]')
    spage.wait_for_selector(f'[data-c3="ablation"][data-cut="{cut}"]')
    spage.wait_for_selector('[data-c3="ablate-result"]:not([hidden])')
    assert spage.inner_text("#errors") == ""
    spage.wait_for_selector("#chapter-3 [data-role] canvas")  # the measured head roles
    assert_clean(spage)


def test_the_copy_saves_figures_with_no_server(spage):
    spage.wait_for_selector(f"{CHIPS}.is-query")
    with spage.expect_download(timeout=60_000) as download:
        spage.click('.figure-save[data-for="sentence"] button[data-format="png"]')
    png = download.value.path().read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert_clean(spage)


def test_the_copy_says_its_numbers_were_computed_when_it_was_made(spage):
    assert spage.locator('.tagline[data-when="exported"]').is_visible()
    assert not spage.locator('.tagline[data-when="live"]').is_visible()


def test_a_text_of_ones_own_asks_for_the_live_server(spage):
    spage.fill("#ch1-text", FREE)
    spage.press("#ch1-text", "Enter")
    spage.wait_for_selector("#errors p")
    assert "cocktail-party serve" in spage.inner_text("#errors")
    assert FREE not in spage.url  # the view stays on the curated sentence

    spage.click("#tab-2")
    spage.fill('[data-c2="text"]', FREE)
    spage.press('[data-c2="text"]', "Enter")
    spage.wait_for_selector("#chapter-2[data-drawn=error]")
    assert "cocktail-party serve" in spage.inner_text("#errors")

    spage.click("#tab-1")  # the shared sentence is now the free one: chapter 1 says so too
    spage.click("#chapter-1 [data-ref=examples] button >> nth=0")
    spage.wait_for_selector(f"{CHIPS}.is-query")
    assert EXAMPLE["text"].split()[0] in spage.inner_text("#chapter-1 [data-ref=chips]")
    assert_clean(spage)
