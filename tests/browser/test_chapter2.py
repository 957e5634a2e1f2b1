"""Chapter 2 in a real browser: the weight pictures and the trained/untrained comparison."""

from urllib.parse import urlencode

import pytest
from conftest import open_guide, screenshot, serious_violations

DRAWN = "#chapter-2[data-drawn=true]"


def pct(p: float) -> str:
    return f"{p * 100:.1f}%"


def open_chapter(page, **params) -> None:
    open_guide(page, "?" + urlencode({"ch": 2, **params}))
    page.wait_for_selector(DRAWN, timeout=60_000)


def shown(page, name: str) -> str:
    return page.inner_text(f'#chapter-2 [data-c2="{name}"]')


def attention(page, model: str) -> dict:
    body = {
        "text": page.input_value('[data-c2="text"]'),
        "layer": int(page.input_value('[data-c2="layer"]')),
        "head": int(page.input_value('[data-c2="head"]')),
        "model": model,
    }
    response = page.request.post(f"{page.base}/api/attention", data=body)
    assert response.ok, response.text()
    return response.json()


def focus_and_top(answer: dict, word: int) -> tuple[str, str]:
    row = answer["pattern"][word]
    return f"{1 - answer['entropy'][word]:.2f}", pct(max(row))


@pytest.mark.parametrize("width", [1280, 375])
def test_chapter_loads_without_errors(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_chapter(page)
    assert page.locator("#chapter-2 canvas[data-m=canvas]").count() == 3
    assert page.locator('#chapter-2 [data-model="untrained"] [data-fig=bars] li').count() > 1
    screenshot(page, f"chapter2-{width}")
    assert page.errors == []


def test_untrained_toggle_shows_the_twins_picture(page):
    open_chapter(page)
    word = int(page.input_value('[data-c2="word"]'))
    trained = focus_and_top(attention(page, "trained"), word)
    assert (shown(page, "main-focus"), shown(page, "main-top")) == trained

    page.check('[data-c2="untrained"]')
    page.wait_for_selector('#chapter-2 [data-c2="main"][data-model="untrained"]')
    page.wait_for_selector(DRAWN)
    twin = focus_and_top(attention(page, "untrained"), word)
    assert (shown(page, "main-focus"), shown(page, "main-top")) == twin
    assert twin != trained
    assert "twin=1" in page.url
    side = page.locator('#chapter-2 [data-model="untrained"] [data-fig=focus]')
    assert side.inner_text() == twin[0]
    assert page.errors == []


def test_weights_panel_matches_the_api(page):
    open_chapter(page, layer=3, head=4)
    response = page.request.get(f"{page.base}/api/weights?layer=3&head=4")
    answer = response.json()
    for name, m in answer["matrices"].items():
        card = page.locator(f'#chapter-2 [data-matrix="{name}"]')
        assert card.locator("[data-m=shape]").inner_text() == " × ".join(map(str, m["shape"]))
        assert card.locator("[data-m=params]").inner_text() == f"{m['parameters']:,}"
    assert shown(page, "model-params") == f"{answer['model_parameters']:,}"
    own = sum(m["parameters"] for m in answer["matrices"].values())
    assert shown(page, "head-params") == f"{own:,}"
    sharing = answer["heads_sharing_kv"]
    assert shown(page, "sharing") == f"{', '.join(map(str, sharing[:-1]))} and {sharing[-1]}"
    assert page.errors == []


def test_a_new_sentence_keeps_the_head(page):
    open_chapter(page, layer=15, head=7)
    page.fill('[data-c2="text"]', "The dog chased the cat until it climbed a tree.")
    page.click('#chapter-2 form button[type="submit"]')
    page.wait_for_selector(DRAWN)
    assert shown(page, "main-word") == "."  # a new sentence listens from its last word
    assert shown(page, "main-layer") == "15" and shown(page, "main-head") == "7"
    word = int(page.input_value('[data-c2="word"]'))
    assert (shown(page, "main-focus"), shown(page, "main-top")) == focus_and_top(
        attention(page, "trained"), word
    )
    assert page.errors == []


def test_no_serious_accessibility_violations(page):
    open_chapter(page)
    assert serious_violations(page) == []
