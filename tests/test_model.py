"""The model as users meet it: golden predictions, the untrained twin, bad input and the cache."""

import os

import numpy as np
import pytest

from cocktail_party import load_model
from cocktail_party.errors import (
    EmptyTextError,
    InputError,
    ModelFileError,
    OutOfRangeError,
    TooManyTokensError,
    UnknownNameError,
)
from cocktail_party.model.gguf_file import expected_shapes
from cocktail_party.model.weights import (
    default_cache_dir,
    load_cached,
    named_views,
    packed_shapes,
)

SENTENCES = [
    "The capital of France is Paris, and it is a lovely city in spring.",
    "When Mary and John went to the store, John gave a drink to",
    "In 1969 there were 12345 people in the town by the river.",
]


def top_token(model, text: str) -> str:
    return model.token_text(int(model.trace(text, names=["logits"]).logits[-1].argmax()))


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [("The capital of France is", " Paris"), ("The opposite of hot is", " cold")],
)
def test_golden_next_token(real_model, prompt, answer):
    assert top_token(real_model, prompt) == answer


def mean_row_entropy(attention: np.ndarray) -> float:
    """Entropy of every attention row over the positions it may see, as a fraction of the most
    it could be (uniform); row 0 sees one position and is left out."""
    n = attention.shape[-1]
    rows = attention[..., 1:, :].astype(np.float64)
    plogp = np.where(rows > 0, rows * np.log(np.where(rows > 0, rows, 1.0)), 0.0)
    entropy = -plogp.sum(axis=-1)  # [..., n - 1]
    return float((entropy / np.log(np.arange(2, n + 1))).mean())


def test_entropy_measure_on_known_patterns():
    n = 5
    allowed = np.tril(np.ones((n, n)))
    uniform = allowed / allowed.sum(axis=-1, keepdims=True)
    assert mean_row_entropy(uniform) == pytest.approx(1.0)
    assert mean_row_entropy(np.eye(n)) == 0.0


@pytest.mark.parametrize("text", SENTENCES)
def test_twin_spreads_attention_and_trained_model_focuses(real_model, twin, text):
    names = ["blocks.*.attn.pattern"]
    assert mean_row_entropy(twin.trace(text, names=names).attention) > 0.95
    assert mean_row_entropy(real_model.trace(text, names=names).attention) < 0.7


def test_twin_shares_everything_but_the_weights(real_model, twin):
    assert twin.config == real_model.config
    assert twin.tokenizer is real_model.tokenizer
    assert not twin.trained and real_model.trained
    assert "untrained" in twin.name and "untrained" not in real_model.name
    w = twin.weights
    assert np.all(w["blocks.0.attn_norm.w"] == 1.0)
    assert np.std(w["blocks.0.attn.W_Q"]) == pytest.approx(0.02, rel=0.02)


def test_twin_is_deterministic(tiny_gguf):
    model = load_model(tiny_gguf().path, use_cache=False)
    first, again = model.untrained_twin(seed=0), model.untrained_twin(seed=0)
    for name, w in first.weights.items():
        np.testing.assert_array_equal(again.weights[name], w, err_msg=name)
    text = "the cat sat on the mat"
    np.testing.assert_array_equal(again.trace(text).logits, first.trace(text).logits)
    other = model.untrained_twin(seed=1)
    assert not np.array_equal(other.weights["embed.W_E"], first.weights["embed.W_E"])


def test_load_model_untrained_gives_the_twin(tiny_gguf):
    path = tiny_gguf().path
    trained = load_model(path, use_cache=False)
    untrained = load_model(path, trained=False, seed=5, use_cache=False)
    assert not untrained.trained
    want = trained.untrained_twin(seed=5).weights
    for name, w in untrained.weights.items():
        np.testing.assert_array_equal(w, want[name])


def test_token_spans_point_into_the_text(real_model):
    text = "Attention is all you need, said 8 people."
    tokens = real_model.encode(text)
    assert [text[t.start : t.end] for t in tokens] == [t.text for t in tokens]
    tr = real_model.trace(text, names=["blocks.0.attn.pattern"])
    words = ["".join(tr.token_texts[i] for i in group) for group in tr.words()]
    assert "".join(words) == text
    assert " need" in words


@pytest.mark.parametrize("text", ["", "   \n", "\t\t"])
def test_empty_text(real_model, text):
    with pytest.raises(EmptyTextError, match="empty or only whitespace"):
        real_model.trace(text)


def test_text_over_the_default_limit(real_model):
    text = " ".join(["word"] * 300)
    with pytest.raises(TooManyTokensError, match="300 tokens; the limit is 256"):
        real_model.trace(text)


def test_max_tokens_option(tiny_gguf):
    model = load_model(tiny_gguf().path, max_tokens=10, use_cache=False)
    assert model.max_tokens == 10
    assert model.trace("0123456789").n == 10
    with pytest.raises(TooManyTokensError, match=r"11 tokens; the limit is 10"):
        model.trace("0123456789a")


def test_limit_never_exceeds_the_context(tiny_gguf):
    tiny = tiny_gguf()
    model = load_model(tiny.path, max_tokens=1000, use_cache=False)
    assert model.max_tokens == tiny.n_ctx
    with pytest.raises(TooManyTokensError, match=f"limit is {tiny.n_ctx}"):
        model.trace("x" * (tiny.n_ctx + 1))


@pytest.mark.parametrize("text", [None, 42, b"bytes", ["a", "list"]])
def test_text_that_is_not_a_string(real_model, text):
    with pytest.raises(InputError, match=f"must be a string, got {type(text).__name__}"):
        real_model.trace(text)


def test_model_path_that_is_not_gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        load_model(path)


def test_model_path_that_does_not_exist(tmp_path):
    with pytest.raises(ModelFileError, match="nowhere.gguf"):
        load_model(tmp_path / "nowhere.gguf")


class Progress:
    def __init__(self):
        self.calls: list[tuple[int, int, str]] = []

    def __call__(self, done: int, total: int, name: str) -> None:
        self.calls.append((done, total, name))


def test_first_load_converts_with_progress_and_writes_the_cache(tiny_gguf, tmp_path):
    path = tiny_gguf("Q4_1").path
    progress = Progress()
    model = load_model(path, cache_dir=tmp_path, progress=progress)

    names = list(expected_shapes(model.config))
    assert progress.calls == [(i + 1, len(names), name) for i, name in enumerate(names)]
    [entry] = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert {p.name for p in entry.iterdir()} >= {"index.json", "weights.bin", "tokenizer.json"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial")]

    cfg, tokenizer, packed = load_cached(tmp_path, path)
    assert cfg == model.config
    assert tokenizer.encode("the cat").ids == model.tokenizer.encode("the cat").ids
    assert set(packed) == set(packed_shapes(cfg))
    for name, w in named_views(packed, cfg).items():
        np.testing.assert_array_equal(w, model.weights[name], err_msg=name)


def test_second_load_reads_the_cache(tiny_gguf, tmp_path):
    path = tiny_gguf().path
    first = load_model(path, cache_dir=tmp_path)
    progress = Progress()
    second = load_model(path, cache_dir=tmp_path, progress=progress)
    assert progress.calls == []
    text = "the cat sat on the mat"
    np.testing.assert_array_equal(second.trace(text).logits, first.trace(text).logits)


def test_touched_source_rebuilds_the_cache(tiny_gguf, tmp_path):
    path = tiny_gguf().path
    load_model(path, cache_dir=tmp_path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_cached(tmp_path, path) is None

    progress = Progress()
    load_model(path, cache_dir=tmp_path, progress=progress)
    assert progress.calls
    assert load_cached(tmp_path, path) is not None
    assert len(list(tmp_path.iterdir())) == 1  # the stale entry was removed


def test_rewritten_source_gives_its_new_weights(tiny_gguf, tmp_path):
    path = tiny_gguf(seed=0).path
    load_model(path, cache_dir=tmp_path)
    before = path.stat().st_mtime_ns
    newer = tiny_gguf(seed=1)
    path.write_bytes(newer.path.read_bytes())
    assert path.stat().st_mtime_ns != before

    model = load_model(path, cache_dir=tmp_path)
    np.testing.assert_array_equal(model.weights["embed.W_E"], newer.weights["embed.W_E"])


def test_use_cache_false_writes_nothing(tiny_gguf, tmp_path):
    load_model(tiny_gguf().path, cache_dir=tmp_path, use_cache=False)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_cache_still_loads(tiny_gguf, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    model = load_model(tiny_gguf().path, cache_dir=blocker)
    assert model.trace("the cat").n == 3
    assert load_cached(blocker, model.source) is None


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COCKTAIL_PARTY_CACHE", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("COCKTAIL_PARTY_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "cocktail-party"


def test_text_the_tokenizer_drops_entirely(real_model):
    with pytest.raises(EmptyTextError, match="has no tokens"):
        real_model.trace("\x16")


@pytest.mark.parametrize("ids", [[1, 49152], [-1, 5]])
def test_ids_outside_the_vocabulary(real_model, ids):
    with pytest.raises(OutOfRangeError, match="outside the vocabulary"):
        real_model.run(ids, ["logits"])


def test_unknown_edit_names_are_refused(real_model):
    with pytest.raises(UnknownNameError, match="blocks.1.attn_output"):
        real_model.run([1, 2], ["logits"], {"blocks.1.attn_output": lambda x: x * 0})


def test_token_text_of_an_unknown_id(real_model):
    with pytest.raises(OutOfRangeError, match="0-49151"):
        real_model.token_text(49152)
