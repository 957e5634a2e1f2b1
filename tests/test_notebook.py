"""Notebook views: a real Jupyter kernel renders them, each page holds the model's own answers and
the guide's own modules, and a choice the view cannot show is refused in one sentence."""

import base64
import html
import json
import re

import numpy as np
import pytest

from cocktail_party import examples, notebook
from cocktail_party.errors import InputError, UnknownNameError
from cocktail_party.export import Ask, key_hash

FRAME = re.compile(r'<iframe id="([\w-]+)"[^>]*srcdoc="([^"]*)"')


def frames(html_text: str) -> list[tuple[str, str]]:
    """Each frame in an output: its id and the page it holds."""
    return [(m[1], html.unescape(m[2])) for m in FRAME.finditer(html_text)]


def data_element(document: str, element_id: str):
    tag = f'<script type="application/json" id="{element_id}">'
    found = re.search(rf"{re.escape(tag)}(.*?)</script>", document)
    assert found, f"no #{element_id} in the page"
    return json.loads(found[1])


def modules(document: str) -> dict[str, str]:
    """The guide's modules as the page's import map carries them, decoded."""
    found = re.search(r'<script type="importmap">(.*?)</script>', document)
    mapping = json.loads(found[1])["imports"]
    prefix = "data:text/javascript;base64,"
    assert all(url.startswith(prefix) for url in mapping.values())
    return {name: base64.b64decode(url[len(prefix) :]).decode() for name, url in mapping.items()}


def test_a_kernel_renders_each_view_as_its_own_frame(notebook_outputs):
    shown = [out for cell in notebook_outputs[1:] for out in cell]
    assert [out["output_type"] for out in shown] == ["execute_result"] * 3
    found = [frames(out["data"]["text/html"]) for out in shown]
    assert [len(f) for f in found] == [1, 1, 1]
    ids = [f[0][0] for f in found]
    assert len(set(ids)) == 3, "two outputs share a frame id"
    views = [data_element(f[0][1], notebook.VIEW_ID)["view"] for f in found]
    assert views == ["sentence", "heads", "flow"]
    plain = [out["data"]["text/plain"] for out in shown]
    assert "who listens to whom" in plain[0] and "layer flow" in plain[2]


def test_a_page_loads_nothing_from_elsewhere(notebook_outputs):
    document = frames(notebook_outputs[1][0]["data"]["text/html"])[0][1]
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", document)
    assert not re.search(r'<link rel="stylesheet"', document), "a stylesheet was left as a link"
    sources = modules(document)
    assert "app.js" in {name.removeprefix(notebook.PREFIX) for name in sources}
    for name, source in sources.items():
        assert not re.search(r"""from\s*["']\./""", source), f"{name} keeps a relative import"
        assert "fetch(\"http" not in source


def test_the_page_holds_the_models_own_attention(real_model):
    text = "The cat sat on the mat because it was tired."
    view = notebook.show(text, layer=3, head=2, word="it", model=real_model)
    state = data_element(view.document, notebook.VIEW_ID)["state"]
    trace = real_model.trace(text, names=["blocks.*.attn.pattern"])
    it = next(i for i, t in enumerate(trace.tokens) if t.text == " it")
    assert (state["layer"], state["head"], state["word"]) == (3, 2, it)

    held = data_element(view.document, notebook.ANSWERS_ID)["answers"]
    for head in range(real_model.config.n_heads):  # the layer's every head, for its picker
        ask = Ask("POST", "/api/attention", {"text": text, "layer": 3, "head": head})
        rows = held[key_hash(ask.key)]["pattern"]  # row i: the weights of tokens 0..i
        for i, row in enumerate(rows):
            np.testing.assert_allclose(row, trace.attention[3, head, i, : i + 1], atol=1e-5)
    other = Ask("POST", "/api/attention", {"text": text, "layer": 4, "head": 0})
    assert key_hash(other.key) not in held


def test_a_curated_example_opens_on_its_own_view(real_model):
    example = examples.EXAMPLES[0]
    view = notebook.show(example["text"], model=real_model)
    state = data_element(view.document, notebook.VIEW_ID)["state"]
    expected = (example["layer"], example["head"], example["query"], example["target"])
    assert (state["layer"], state["head"], state["word"], state["source"]) == expected


def test_a_twin_is_named_as_one_and_chapter2_wants_the_trained_model(twin):
    view = notebook.show("The cat sat on the mat.", layer=2, head=0, model=twin)
    held = data_element(view.document, notebook.ANSWERS_ID)["answers"]
    info = held[key_hash(Ask("GET", "/api/info", {}).key)]
    assert info["model"]["name"].endswith("(untrained twin)")
    with pytest.raises(InputError, match="give it the trained model"):
        notebook.view("twins", "The cat sat on the mat.", model=twin)


def test_a_chapter3_view_follows_the_answer_it_is_given(real_model):
    view = notebook.show_flow("The capital of France is", target=" Rome", model=real_model)
    held = data_element(view.document, notebook.ANSWERS_ID)["answers"]
    lens = [a for a in held.values() if "stages" in a]
    assert len(lens) == 1 and lens[0]["target"]["token"] == " Rome"
    assert "following ' Rome'" in view.title


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (lambda m: notebook.view("nope", "a b", model=m), UnknownNameError, "view 'nope' is not"),
        (lambda m: notebook.show("a b", word="dog", model=m), InputError, "word 'dog' is not"),
        (lambda m: notebook.show("a b", layer=30, model=m), InputError, "layer"),
        (lambda m: notebook.show("a b", target=" x", model=m), TypeError, "target"),
        (lambda m: notebook.view("flow", "a b", layer=2, model=m), InputError, "takes target"),
        (lambda m: notebook.show_heads("a b", model=m, height=50), InputError, "height must be"),
        (lambda m: notebook.show("a b", model="smollm"), InputError, "got str"),
        (lambda m: notebook.show("   ", model=m), InputError, "empty"),
        (lambda m: notebook.show_flow("a b", target=" Paris is", model=m), InputError, "token"),
    ],
)
def test_bad_choices_are_refused_in_one_sentence(real_model, call, error, says):
    with pytest.raises(error, match=says):
        call(real_model)
