"""The tokenizer rebuilt from GGUF metadata splits text exactly as the model was trained to."""

import pytest
from synthetic import byte_chars

from cocktail_party import load_model
from cocktail_party.errors import UnsupportedModelError
from cocktail_party.model.tokenizer import TokenizerSpec, build_tokenizer, byte_decoder

PARAGRAPH = (
    "The cocktail party problem asks how a listener can follow one voice in a crowded room. "
    "People do it without effort: they turn toward the speaker, they use the rhythm of the "
    "sentence, and they ignore the clatter of glasses. A language model faces a similar task "
    "each time it reads a word, because it must decide which earlier words matter for the "
    "next one. Attention is the mechanism that lets it listen selectively, weighting some "
    "positions heavily and almost ignoring the rest."
)
SENTENCES = [
    PARAGRAPH,
    "In 1969 there were 12345 people",
    "Party time 🎉🥂 with friends 👩‍👩‍👧!",
    "Привет, мир! Как дела?",
    "東京は日本の首都です。北京是中国的首都。",
    "  leading spaces,\ttabs\nand new lines\n\n",
    "can't won't it's I'm we've they'd you'll",
]


@pytest.fixture(scope="module")
def hf_tokenizer(real_model):
    transformers = pytest.importorskip("transformers")
    path = real_model.source
    return transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def test_paragraph_is_about_a_hundred_tokens(real_model):
    assert 90 <= len(real_model.encode(PARAGRAPH)) <= 110


@pytest.mark.reference
@pytest.mark.parametrize("text", SENTENCES, ids=range(len(SENTENCES)))
def test_same_ids_as_transformers(real_model, hf_tokenizer, text):
    want = hf_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert [t.id for t in real_model.encode(text)] == want


def test_digits_are_split_one_per_token(real_model):
    texts = real_model.tokenize("In 1969 there were 12345 people")
    digits = [t for t in texts if any(c.isdigit() for c in t)]
    assert digits == ["1", "9", "6", "9", "1", "2", "3", "4", "5"]


def test_im_start_is_token_one_and_never_added(real_model):
    assert real_model.tokenizer.token_to_id("<|im_start|>") == 1
    assert 1 not in [t.id for t in real_model.encode("Hello there")]
    ids = [t.id for t in real_model.encode("<|im_start|>user\nHi")]
    assert ids[0] == 1 and ids.count(1) == 1


def test_tokens_decode_back_to_the_text(real_model):
    ascii_text = "In 1969 there were 12345 people, can't you see?"
    assert "".join(real_model.tokenize(ascii_text)) == ascii_text
    for text in SENTENCES:
        ids = [t.id for t in real_model.encode(text)]
        assert real_model.tokenizer.decode(ids) == text


def test_byte_decoder_inverts_the_byte_table():
    assert byte_decoder() == {c: b for b, c in enumerate(byte_chars())}


@pytest.fixture(scope="module")
def tiny(tiny_gguf):
    return load_model(tiny_gguf().path, use_cache=False)


def test_tiny_merges_apply_in_order(tiny):
    assert tiny.tokenize("the cat") == ["t", "he", " cat"]
    assert tiny.tokenize(" the") == [" the"]


def test_tiny_control_tokens_are_single_tokens(tiny):
    tokens = tiny.encode("<|im_start|>the<|im_end|>")
    assert [t.text for t in tokens] == ["<|im_start|>", "t", "he", "<|im_end|>"]
    assert [tokens[0].id, tokens[-1].id] == [1, 2]


def test_split_character_shows_as_replacement(tiny):
    # the tiny vocabulary has no merges for "é", so its two UTF-8 bytes are two tokens
    assert tiny.tokenize("é") == ["\ufffd", "\ufffd"]


def spec(**changes) -> TokenizerSpec:
    fields = {"model": "gpt2", "pre": "smollm", "tokens": byte_chars(), "merges": []}
    fields |= {"token_types": [1] * 256, "scores": [], "add_space_prefix": False}
    return TokenizerSpec(**(fields | changes))


def test_unknown_pre_tokenizer_is_named():
    with pytest.raises(UnsupportedModelError, match="pre-tokenizer 'qwen9'"):
        build_tokenizer(spec(pre="qwen9"))


def test_unigram_vocabulary_is_refused():
    with pytest.raises(UnsupportedModelError, match="tokenizer model is 't5'"):
        build_tokenizer(spec(model="t5"))


@pytest.mark.parametrize(
    ("pre", "pieces"),
    [
        ("smollm", ["in", "Ġ", "1", "9", "6", "9"]),
        ("gpt2", ["in", "Ġ1969"]),
        ("llama-bpe", ["in", "Ġ", "196", "9"]),  # numbers in groups of at most three digits
        ("qwen2", ["in", "Ġ", "1", "9", "6", "9"]),
    ],
)
def test_pre_tokenizers_split_numbers_their_own_way(pre, pieces):
    tok = build_tokenizer(spec(pre=pre))
    assert [p for p, _ in tok.pre_tokenizer.pre_tokenize_str("in 1969")] == pieces
