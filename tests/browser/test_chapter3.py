"""Chapter 3 in a real browser: the layer flow, the shares of the answer, removing a part."""

from urllib.parse import urlencode

import pytest
from conftest import open_guide, screenshot, serious_violations

DRAWN = "#chapter-3[data-drawn=true]"
FRANCE = "The capital of France is"


def pct(p: float, digits: int = 1) -> str:
    return f"{p * 100:.{digits}f}%"


def signed(x: float) -> str:
    text = f"{x:+.2f}"
    return text.replace("-", "−")


def label(token: str) -> str:
    """A token as the guide shows it (see tokenLabel in ch2-figures.js)."""
    if token == "\n":
        return "⏎"
    return token.strip() or "␣" * len(token)


def open_chapter(page, **params) -> None:
    open_guide(page, "?" + urlencode({"ch": 3, **params}))
    page.wait_for_selector(DRAWN, timeout=60_000)


def api(page, path: str, body: dict) -> dict:
    response = page.request.post(f"{page.base}{path}", data=body, timeout=60_000)
    assert response.ok, response.text()
    return response.json()


def shown(page, name: str) -> str:
    return page.inner_text(f'#chapter-3 [data-c3="{name}"]')


def guesses(page) -> list[str]:
    return page.locator('[data-c3="guesses"] [data-b="label"]').all_inner_texts()


@pytest.mark.parametrize("width", [1280, 375])
def test_chapter_loads_without_errors(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_chapter(page)
    page.wait_for_selector("#chapter-3 [data-role] canvas", timeout=120_000)
    screenshot(page, f"chapter3-{width}")
    assert page.errors == []


def test_the_flow_ends_on_the_answer(page):
    open_chapter(page)
    lens = api(page, "/api/lens", {"text": FRANCE, "target": " Paris"})
    last = len(lens["stages"]) - 1
    assert shown(page, "where").startswith("the words' own embeddings")

    page.click('[data-c3="next"]')
    assert page.get_attribute('[data-c3="flow"]', "data-step") == "1"
    page.click('[data-c3="end"]')
    assert page.get_attribute('[data-c3="flow"]', "data-step") == str(last)
    assert guesses(page)[0] == "Paris"
    assert lens["stages"][-1]["top"][0]["token"] == " Paris"
    assert shown(page, "target-prob") == pct(lens["stages"][-1]["target_prob"], 2)
    assert "final output" in shown(page, "where")
    assert page.errors == []


def test_play_steps_through_the_layers(page):
    open_chapter(page, step=55)
    page.click('[data-c3="play"]')
    assert page.get_attribute('[data-c3="play"]', "aria-pressed") == "true"
    last = page.get_attribute('[data-c3="step"]', "max")
    page.wait_for_selector(f'[data-c3="flow"][data-step="{last}"]', timeout=10_000)
    page.wait_for_selector('[data-c3="play"][aria-pressed="false"]')
    assert guesses(page)[0] == "Paris"
    assert page.errors == []


def test_attribution_bars_show_the_apis_numbers(page):
    open_chapter(page)
    attr = api(page, "/api/attribution", {"text": FRANCE, "target": " Paris"})
    for kind in ("attn", "mlp"):
        values = page.locator(f'[data-c3="attribution"] [data-a="{kind}"] .c3-share-value')
        assert values.all_inner_texts() == [signed(v) for v in attr[kind]]
    assert shown(page, "sum-mlp") == signed(sum(attr["mlp"]))
    assert shown(page, "sum-attn") == signed(sum(attr["attn"]))
    best = max(range(len(attr["attn"])), key=lambda i: attr["attn"][i])
    assert shown(page, "top-attn") == f"layer {best}"
    assert page.errors == []


def test_removing_an_mlp_layer_shows_the_apis_answer(page):
    open_chapter(page)
    layer = int(page.get_attribute('[data-c3="step"]', "max")) // 2 - 1  # the last layer
    page.click(f'[data-c3="attribution"] [data-cut="mlp{layer}"]')
    page.wait_for_selector(f'[data-c3="ablation"][data-cut="mlp{layer}"]', timeout=60_000)
    answer = api(page, "/api/ablate", {"text": FRANCE, "target": " Paris", "mlps": [layer]})
    assert shown(page, "ablate-before") == pct(answer["target"]["prob_before"])
    assert shown(page, "ablate-after") == pct(answer["target"]["prob_after"])
    top = page.locator('[data-c3="ablate-top"] [data-b="label"]').all_inner_texts()
    assert top == [label(t["token"]) for t in answer["after"]]
    assert f"cut=mlp{layer}" in page.url

    page.click('[data-c3="restore"]')
    assert page.is_hidden('[data-c3="ablate-result"]')
    assert page.errors == []


def test_a_copied_link_restores_the_view(page):
    prompt = "The opposite of hot is"
    open_chapter(page, prompt=prompt, step=40, cut="head23.4")
    assert page.input_value('[data-c3="text"]') == prompt
    assert page.input_value('[data-c3="step"]') == "40"
    lens = api(page, "/api/lens", {"text": prompt, "target": " cold"})
    stage = lens["stages"][40]
    part = {"attention": "attention", "mlp": "neurons"}[stage["after"]]
    assert shown(page, "where") == f"after layer {stage['layer']}'s {part}"
    assert guesses(page) == [label(t["token"]) for t in stage["top"]]
    page.wait_for_selector('[data-c3="ablation"][data-cut="head23.4"]', timeout=60_000)
    assert shown(page, "ablate-what") == "head 23.4"
    assert page.errors == []


@pytest.mark.parametrize("width", [1280, 375])
def test_no_serious_accessibility_violations(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_chapter(page)
    assert serious_violations(page) == []


def test_a_role_grid_works_from_the_keyboard(page):
    open_chapter(page)
    grid = page.locator('[data-role="induction"] [data-r="grid"]')
    grid.wait_for()
    grid.focus()
    for key in ("ArrowDown", "ArrowDown", "ArrowRight", "Enter"):
        page.keyboard.press(key)
    page.wait_for_selector('[data-c3="ablation"][data-cut="head2.1"]', timeout=60_000)
    assert "cut=head2.1" in page.url
    assert "layer 2, head 1" in grid.get_attribute("aria-label")
    assert page.errors == []
