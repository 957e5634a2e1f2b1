"""Figures in a real Chromium: every view saves as plain SVG (no embedded HTML) that puts the
page's text where the page put it, the PNG is that SVG at twice the size, captions name the
sentence and the model, and the command line writes the same files."""

import struct
import xml.etree.ElementTree as ET
import zlib
from urllib.parse import urlencode

import pytest
from conftest import CHIPS, open_guide

from cocktail_party import cli

SVG = "{http://www.w3.org/2000/svg}"
MARY = "After lunch, Mary thanked John because he had helped her."
FRANCE = "The capital of France is"
CHAPTERS = {
    1: ("sentence", "inside", "sink", "heads"),
    2: ("weights", "recipe", "twins"),
    3: ("flow", "shares", "neurons", "roles"),
}
PADDING = 16  # the figure's margin around the view (js/figure.js)


def open_chapter(page, chapter: int, **params) -> None:
    open_guide(page, "?" + urlencode({"ch": chapter, **params}))
    page.wait_for_selector(f"#chapter-{chapter}[data-drawn=true]", timeout=60_000)


def save(page, view: str, format: str) -> bytes:
    button = page.locator(f'.figure-save[data-for="{view}"] button[data-format="{format}"]')
    with page.expect_download(timeout=60_000) as download:
        button.click()
    return download.value.path().read_bytes()


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def png_pixels(data: bytes) -> bytes:
    """The PNG's image data, still filtered: enough to tell a picture from a blank."""
    chunks, i = [], 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        if data[i + 4 : i + 8] == b"IDAT":
            chunks.append(data[i + 8 : i + 8 + length])
        i += 12 + length
    return zlib.decompress(b"".join(chunks))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_view_saves_a_plain_svg_with_a_caption(page, chapter):
    params = {"prompt": FRANCE} if chapter == 3 else {"text": MARY, "layer": 15, "head": 7}
    open_chapter(page, chapter, **params)
    for view in CHAPTERS[chapter]:
        svg = ET.fromstring(save(page, view, "svg"))
        assert svg.tag == f"{SVG}svg", view
        assert not list(svg.iter(f"{SVG}foreignObject")), f"{view} embeds HTML"
        words = texts(svg)
        caption = " ".join(words[-4:])
        assert "Model: SmolLM2-135M-Instruct" in caption, view
        if view == "weights":
            assert "Layer 15, head 7: weights, the same for every sentence." in caption
        elif view != "roles":
            assert (FRANCE if chapter == 3 else MARY) in caption, view
        assert len(words) > 5, f"{view} has almost no text"
    assert page.errors == []


def test_the_svg_puts_each_word_where_the_page_put_it(page):
    open_chapter(page, 1, text=MARY, layer=15, head=7)
    svg = ET.fromstring(save(page, "sentence", "svg"))
    view = page.locator("[data-view=sentence]").bounding_box()
    placed = {}
    for t in svg.iter(f"{SVG}text"):
        placed.setdefault(t.text, float(t.get("x")))
    laid_out = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map((el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          return [el.textContent.trim(), range.getBoundingClientRect().left];
        })""",
        f"{CHIPS} [data-slot=text]",
    )
    for word, left in laid_out[:6]:
        assert word in placed, f"{word!r} is missing from the figure"
        assert placed[word] == pytest.approx(left - view["x"], abs=1.5), word
    arcs = page.locator("[data-view=sentence] svg path").count()
    assert arcs > 0 and len(list(svg.iter(f"{SVG}path"))) == arcs


def test_canvases_become_images_and_the_png_is_the_svg_doubled(page):
    open_chapter(page, 1, text=MARY, layer=15, head=7)
    svg = ET.fromstring(save(page, "heads", "svg"))
    assert len(list(svg.iter(f"{SVG}image"))) == 270  # one thumbnail per head
    png = save(page, "heads", "png")
    width, height = png_size(png)
    assert (width, height) == (2 * int(svg.get("width")), 2 * int(svg.get("height")))
    assert len(set(png_pixels(png))) > 64, "the PNG is blank"


def test_saving_leaves_the_page_as_it_was(page):
    open_chapter(page, 1, text=MARY, layer=15, head=7)
    where = """() => {
      const box = document.querySelector("[data-view=sentence]").getBoundingClientRect();
      return [box.left + scrollX, box.top + scrollY, box.width, box.height];
    }"""
    before = page.evaluate(where)
    save(page, "sentence", "svg")
    assert page.locator("#chapter-1 .controls").first.is_visible()
    assert page.evaluate(where) == before
    assert page.evaluate("document.documentElement.classList.contains('figure-mode')") is False


@pytest.fixture
def user_cache(monkeypatch, user_cache_dir):
    monkeypatch.setenv("COCKTAIL_PARTY_CACHE", str(user_cache_dir))


def test_the_command_line_writes_the_same_figures(user_cache, tmp_path, capsys):
    svg_path, png_path = tmp_path / "head.svg", tmp_path / "flow.png"
    assert cli.main(["trace", MARY, "--layer", "15", "--head", "7", "--svg", str(svg_path)]) == 0
    assert cli.main(["lens", FRANCE, "--png", str(png_path)]) == 0
    out = capsys.readouterr().out
    assert str(svg_path) in out and str(png_path) in out
    svg = ET.fromstring(svg_path.read_bytes())
    caption = " ".join(texts(svg)[-3:])
    assert f"Sentence “{MARY}”, layer 15, head 7" in caption
    assert "John" in texts(svg)
    width, _ = png_size(png_path.read_bytes())
    assert width > 1000
