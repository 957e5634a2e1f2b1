"""The notebook's output in a real Chromium, as Jupyter's output area holds it: every view draws
from what its page carries, clicks work, views do not touch each other, nothing is fetched."""

import json

import pytest
from conftest import ARTIFACTS, CHIPS, shown_percents, word_weights

from cocktail_party import notebook
from cocktail_party.export import Ask, key_hash


@pytest.fixture(scope="module")
def cells(notebook_outputs) -> list[str]:
    """The HTML of each shown view, as the kernel returned it."""
    return [out["data"]["text/html"] for cell in notebook_outputs[1:] for out in cell]


@pytest.fixture
def output_area(browser, cells):
    """A page holding every output one after another, as a notebook does; it records every
    request a page makes and every error."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.errors, pg.requests = [], []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    context.on("request", lambda r: pg.requests.append(r.url))
    body = "\n".join(f'<div class="output">{html}</div>' for html in cells)
    pg.set_content(f"<!doctype html><html><body><h1>A notebook</h1>{body}</body></html>")
    for frame in views(pg):
        frame.wait_for_selector("body[data-ready]")
        assert frame.get_attribute("body", "data-ready") == "true", frame.inner_text("#errors")
    yield pg
    context.close()


def views(page) -> list:
    return [page.frame(name=el.get_attribute("name")) for el in page.locator("iframe").all()]


def held(frame) -> dict:
    """The answers the view's page carries."""
    data = frame.locator(f"#{notebook.ANSWERS_ID}").text_content()
    return json.loads(data)["answers"]


def state(frame) -> dict:
    return json.loads(frame.locator(f"#{notebook.VIEW_ID}").text_content())["state"]


def test_every_view_draws_only_its_own_figure(output_area):
    sentence, heads, flow = views(output_area)
    assert sentence.locator("[data-view=sentence]").is_visible()
    assert not sentence.locator("[data-view=heads]").is_visible()
    assert heads.locator("#chapter-1 [data-ref=grid] .ch1-thumb").count() == 270
    flow.wait_for_selector("#chapter-3[data-drawn=true]")
    assert flow.locator("[data-view=flow]").is_visible()
    assert not flow.locator("[data-view=roles]").is_visible()
    assert "Paris" in flow.locator("[data-view=flow]").inner_text()
    for i, frame in enumerate((sentence, heads, flow), 1):
        assert frame.locator(".figure-save").count() == 1  # the view's own buttons alone
        # one picture a frame, once it has painted: a frame out of sight is not drawn
        frame.frame_element().scroll_into_view_if_needed()
        frame.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        frame.frame_element().screenshot(path=ARTIFACTS / f"notebook-{i}.png")
    assert output_area.errors == []


def test_a_click_shows_the_weights_the_view_holds(output_area):
    sentence = views(output_area)[0]
    s = state(sentence)
    ask = Ask("POST", "/api/attention", {"text": s["text"], "layer": s["layer"], "head": s["head"]})
    att = held(sentence)[key_hash(ask.key)]
    query = att["words"][2][-1]  # "sat"
    sentence.locator(f"{CHIPS}[data-token='{query}']").click()
    expected = word_weights(att, query, att["pattern"][query])
    shown = shown_percents(sentence)
    assert shown.keys() == expected.keys()
    for token, pct in shown.items():
        assert pct == pytest.approx(expected[token], abs=0.051), token
    assert output_area.errors == []


def test_views_in_one_notebook_do_not_touch_each_other(output_area):
    sentence, heads, _ = views(output_area)
    before = heads.locator("#chapter-1 [data-ref=chips]").inner_text()
    sentence.locator(f"{CHIPS}").first.click()
    sentence.select_option("#chapter-1 select[data-ref=head]", "1")
    assert heads.locator("#chapter-1 [data-ref=chips]").inner_text() == before
    assert output_area.url == "about:blank"  # no view rewrote the notebook's address


def test_a_choice_the_view_lacks_says_how_to_get_it(output_area):
    sentence = views(output_area)[0]
    layer = state(sentence)["layer"]
    sentence.select_option("#chapter-1 select[data-ref=layer]", str((layer + 1) % 30))
    alert = sentence.locator("#errors p")
    alert.wait_for(state="visible")
    assert "cocktail_party.show(text, layer=" in alert.inner_text()


def test_frames_fit_their_views_and_nothing_is_fetched(output_area):
    for frame in views(output_area):
        frame.wait_for_selector(".chapter[data-drawn=true]")
        frame.frame_element().scroll_into_view_if_needed()  # a frame out of sight is not laid out
        height = "() => document.documentElement.getBoundingClientRect().height"
        for _ in range(50):  # the notebook resizes the frame when the page's message arrives
            own, box = frame.evaluate(height), frame.frame_element().bounding_box()
            if abs(box["height"] - own) <= 2:
                break
            output_area.wait_for_timeout(100)
        assert box["height"] == pytest.approx(own, abs=2)
    fetched = [url for url in output_area.requests if not url.startswith(("data:", "about:"))]
    assert fetched == []


def test_a_view_saves_its_figure_from_inside_the_notebook(output_area):
    flow = views(output_area)[2]
    flow.wait_for_selector("#chapter-3[data-drawn=true]")
    with output_area.expect_download(timeout=60_000) as download:
        flow.click('.figure-save[data-for="flow"] button[data-format="svg"]')
    svg = download.value.path().read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<foreignObject" not in svg
    assert "The capital of France is" in svg and download.value.suggested_filename.endswith(".svg")
