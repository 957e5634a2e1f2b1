"""Other members of the llama family: qwen2 files (q, k and v biases, rows as published) and
llama files with a SentencePiece vocabulary (Llama 2, TinyLlama, Mistral).

The reference is transformers reading the same GGUF file itself: its Qwen2 and Llama classes, its
own GGUF loader (which decides per architecture whether Q and K rows were reordered) and its own
conversion of the vocabulary.
"""

import numpy as np
import pytest
from synthetic import (
    assert_same_as_transformers,
    byte_level_vocabulary,
    sentencepiece_vocabulary,
)

from cocktail_party import load_model
from cocktail_party.errors import UnsupportedModelError
from cocktail_party.model.tokenizer import TokenizerSpec, build_tokenizer

TEXT = "the cat sat with 12 cats; then a cat ate 312 eggs at 3 o'clock."
SP_TEXTS = [
    "the cat sat with the cats",
    "  two leading spaces and  two  inside ",
    "In 1969 there were 12345 people, 312 of them cats.",
    "café, crème brûlée and ça va",
    "Party 🎉🥂 with friends 👩‍👩‍👧!",
    "lines\nand\ttabs\n\nhere",
    "aba ababa abab",
    "<s>the cat</s> and <unk>",
]


def load(path):
    return load_model(path, use_cache=False)


def transformers_model(tiny):
    """transformers' own model for the file, eager attention, float32."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    return transformers.AutoModelForCausalLM.from_pretrained(
        str(tiny.path.parent),
        gguf_file=tiny.path.name,
        dtype=torch.float32,
        attn_implementation="eager",
    ).eval()


def transformers_tokenizer(tiny):
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(
        str(tiny.path.parent), gguf_file=tiny.path.name
    )


def compare_with_transformers(tiny, expected_class: str) -> None:
    theirs_model = transformers_model(tiny)
    assert type(theirs_model).__name__ == expected_class
    assert_same_as_transformers(load(tiny.path).trace(TEXT), theirs_model)


@pytest.fixture(scope="module")
def qwen2(tiny_gguf):
    return tiny_gguf("F32", arch="qwen2", vocab=byte_level_vocabulary("qwen2"), n_layers=3)


@pytest.fixture(scope="module")
def sentencepiece(tiny_gguf):
    return tiny_gguf("F32", vocab=sentencepiece_vocabulary(), n_layers=3)


# qwen2


@pytest.mark.reference
@pytest.mark.parametrize(("qtype", "tied"), [("F32", True), ("F32", False), ("Q8_0", True)])
def test_qwen2_matches_transformers(tiny_gguf, qtype, tied):
    vocab = byte_level_vocabulary("qwen2")
    tiny = tiny_gguf(qtype, arch="qwen2", vocab=vocab, n_layers=3, tied=tied, seed=3)
    compare_with_transformers(tiny, "Qwen2ForCausalLM")


def test_qwen2_config_and_biases(qwen2):
    model = load(qwen2.path)
    assert model.config.architecture == "qwen2"
    assert model.config.qkv_bias
    for name in ("attn.b_Q", "attn.b_K", "attn.b_V", "attn.W_Q", "attn.W_K"):
        # F32 weights come back exactly, Q and K rows in the order they were written
        want = qwen2.weights[f"blocks.1.{name}"]
        np.testing.assert_array_equal(model.weights[f"blocks.1.{name}"], want, err_msg=name)


def test_qwen2_bias_names_are_views_of_the_packed_vector(qwen2):
    model = load(qwen2.path)
    cfg = model.config
    packed = model.packed["blocks.0.qkv_bias"]
    assert packed.shape == ((cfg.n_heads + 2 * cfg.n_kv_heads) * cfg.d_head,)
    for name in ("b_Q", "b_K", "b_V"):
        assert np.shares_memory(model.weights[f"blocks.0.attn.{name}"], packed), name


def test_qwen2_biases_are_used(qwen2):
    """Zeroing the biases changes the queries: the forward pass does add them."""
    model = load(qwen2.path)
    clean = model.trace(TEXT, names=["blocks.0.attn.q"])["blocks.0.attn.q"]
    model.packed["blocks.0.qkv_bias"][:] = 0
    assert (
        np.abs(model.trace(TEXT, names=["blocks.0.attn.q"])["blocks.0.attn.q"] - clean).max() > 0.1
    )


def test_qwen2_through_the_cache(qwen2, tmp_path):
    first = load_model(qwen2.path, cache_dir=tmp_path)
    again = load_model(qwen2.path, cache_dir=tmp_path)  # mapped from the cache this time
    assert isinstance(again.packed["blocks.0.qkv_bias"], np.memmap)
    np.testing.assert_array_equal(
        again.weights["blocks.2.attn.b_V"], qwen2.weights["blocks.2.attn.b_V"]
    )
    np.testing.assert_array_equal(again.trace(TEXT).logits, first.trace(TEXT).logits)


def test_qwen2_twin_has_zero_biases(qwen2):
    twin = load_model(qwen2.path, trained=False, use_cache=False)
    assert twin.config.qkv_bias
    assert not np.any(twin.weights["blocks.0.attn.b_Q"])
    attention = twin.trace(TEXT).attention
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)


def test_qwen2_without_a_bias_is_refused(tiny_gguf):
    tiny = tiny_gguf(arch="qwen2", edit=lambda tensors: tensors.pop("blk.1.attn_k.bias"))
    with pytest.raises(UnsupportedModelError, match=r"lacks tensor.*blocks\.1\.attn\.b_K"):
        load(tiny.path)


def test_llama_with_biases_is_refused(tiny_gguf):
    def add_bias(tensors):
        tensors["blk.0.attn_q.bias"] = np.zeros(64, dtype=np.float32)

    tiny = tiny_gguf(edit=add_bias)
    with pytest.raises(UnsupportedModelError, match="'blk.0.attn_q.bias', which a 'llama' model"):
        load(tiny.path)


@pytest.mark.reference
def test_qwen2_tokenizer_matches_transformers(qwen2):
    model, theirs = load(qwen2.path), transformers_tokenizer(qwen2)
    for text in [TEXT, "In 1969 there were 12345 people", "  spaces\tand\nlines 🎉 été"]:
        want = theirs(text, add_special_tokens=False)["input_ids"]
        assert [t.id for t in model.encode(text)] == want, text


def qwen2_spec() -> TokenizerSpec:
    vocab = byte_level_vocabulary("qwen2")
    return TokenizerSpec("gpt2", "qwen2", vocab.tokens, vocab.merges, vocab.types, [], False)


def test_qwen2_splits_every_digit():
    tok = build_tokenizer(qwen2_spec())
    pieces = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str("in 1969, can't")]
    assert pieces == ["in", "Ġ", "1", "9", "6", "9", ",", "Ġcan", "'t"]


@pytest.mark.reference
def test_qwen2_split_is_transformers_qwen2_split():
    """The same pieces, compared by their spans (byte-level pieces are respelled)."""
    tokenizers = pytest.importorskip("tokenizers")
    qwen2_module = pytest.importorskip("transformers.models.qwen2.tokenization_qwen2")
    regex = tokenizers.Regex(qwen2_module.PRETOKENIZE_REGEX)
    theirs = tokenizers.pre_tokenizers.Split(regex, behavior="isolated")
    ours = build_tokenizer(qwen2_spec()).pre_tokenizer
    for text in [*SP_TEXTS, TEXT, "x  \n\n  y", "HELLO'S 3.14159 world's"]:
        spans = [span for _, span in ours.pre_tokenize_str(text)]
        assert spans == [span for _, span in theirs.pre_tokenize_str(text)], text


# llama with a SentencePiece vocabulary


@pytest.mark.reference
def test_sentencepiece_llama_matches_transformers(tiny_gguf):
    tiny = tiny_gguf("Q8_0", vocab=sentencepiece_vocabulary(), n_layers=3, tied=False, seed=3)
    compare_with_transformers(tiny, "LlamaForCausalLM")


@pytest.mark.reference
@pytest.mark.parametrize("text", SP_TEXTS, ids=range(len(SP_TEXTS)))
def test_sentencepiece_ids_match_transformers(sentencepiece, text):
    model, theirs = load(sentencepiece.path), transformers_tokenizer(sentencepiece)
    want = theirs(text, add_special_tokens=False)["input_ids"]
    assert [t.id for t in model.encode(text)] == want


def test_sentencepiece_pieces_by_hand(sentencepiece):
    model = load(sentencepiece.path)
    pieces = model.tokenizer.encode("the cat sat", add_special_tokens=False).tokens
    assert pieces == ["▁the", "▁cat", "▁s", "at"]
    # "à" has no piece, so its two UTF-8 bytes become byte tokens
    pieces = model.tokenizer.encode("à", add_special_tokens=False).tokens
    assert pieces == ["▁", "<0xC3>", "<0xA0>"]


def test_sentencepiece_merges_follow_the_scores(sentencepiece):
    # "▁ababa": "▁a" scores best (-1), then "ab" (-22, the leftmost of two), then "aba" (-23);
    # "ba" (-24) never gets its turn and "b" is left alone
    tok = load(sentencepiece.path).tokenizer
    assert tok.encode("ababa", add_special_tokens=False).tokens == ["▁a", "b", "aba"]


def test_sentencepiece_token_text(sentencepiece):
    model = load(sentencepiece.path)
    by_piece = {model.tokenizer.id_to_token(i): i for i in range(model.config.d_vocab)}
    assert model.token_text(by_piece["▁cat"]) == " cat"
    assert model.token_text(by_piece["▁▁"]) == "  "
    assert model.token_text(by_piece["<0x41>"]) == "A"
    assert model.token_text(by_piece["<0xC3>"]) == "\ufffd"  # half a character
    assert model.token_text(by_piece["<s>"]) == "<s>"


def test_sentencepiece_spans_point_into_the_text(sentencepiece):
    model = load(sentencepiece.path)
    for text in ["the cat sat with 12 cats.", "  two spaces", "Hello\nworld"]:
        tokens = model.encode(text)
        assert [text[t.start : t.end] for t in tokens] == [t.text for t in tokens], text
    # the space the tokenizer adds before "H" is a token of its own that covers no text
    first = model.encode("Hello")[0]
    assert (first.text, first.start, first.end) == ("", 0, 0)


def test_sentencepiece_words(sentencepiece):
    model = load(sentencepiece.path)
    tr = model.trace("the cat sat,\nwith 123 cats", names=["blocks.0.attn.pattern"])
    words = ["".join(tr.token_texts[i] for i in group) for group in tr.words()]
    assert words == ["the", " cat", " sat,", "\n", "with", " 123", " cats"]


def test_sentencepiece_decodes_back_to_the_text(sentencepiece):
    model = load(sentencepiece.path)
    # decoding drops special tokens, and one leading space, which the tokenizer usually adds
    # itself but not when the text already starts with one
    for text in SP_TEXTS[:-1]:
        want = text.removeprefix(" ")
        assert model.tokenizer.decode([t.id for t in model.encode(text)]) == want


def sp_spec(**changes) -> TokenizerSpec:
    vocab = sentencepiece_vocabulary()
    fields = {"model": "llama", "pre": "default", "tokens": vocab.tokens, "merges": []}
    fields |= {"token_types": vocab.types, "scores": vocab.scores, "add_space_prefix": True}
    return TokenizerSpec(**(fields | changes))


def test_without_a_space_prefix_the_first_word_is_bare():
    tok = build_tokenizer(sp_spec(add_space_prefix=False))
    assert tok.encode("the cat", add_special_tokens=False).tokens == ["t", "he", "▁cat"]
    with_prefix = build_tokenizer(sp_spec())
    assert with_prefix.encode("the cat", add_special_tokens=False).tokens == ["▁the", "▁cat"]


def test_a_character_without_piece_or_byte_token_is_unknown():
    vocab = sentencepiece_vocabulary()
    keep = [i for i, t in enumerate(vocab.tokens) if not t.startswith("<0x")]
    tok = build_tokenizer(
        sp_spec(
            tokens=[vocab.tokens[i] for i in keep],
            token_types=[vocab.types[i] for i in keep],
            scores=[vocab.scores[i] for i in keep],
        )
    )
    assert tok.encode("the 🎉", add_special_tokens=False).tokens == ["▁the", "▁", "<unk>"]


# what stays refused


def test_unknown_architecture_is_one_sentence(tiny_gguf):
    tiny = tiny_gguf(arch="gemma")
    with pytest.raises(UnsupportedModelError) as err:
        load(tiny.path)
    message = str(err.value)
    assert message == "tiny.gguf is a 'gemma' model; this engine runs llama and qwen2 models"


def test_unknown_tokenizer_model_is_named():
    with pytest.raises(UnsupportedModelError, match="tokenizer model is 't5'"):
        build_tokenizer(sp_spec(model="t5"))
