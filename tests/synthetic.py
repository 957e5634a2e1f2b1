"""Tiny synthetic GGUF files with known weights, written with gguf's own writer.

They come as llama files (Q and K rows in llama.cpp's interleaved order) or qwen2 files (rows as
published, with q, k and v biases), with a byte-level BPE or a SentencePiece vocabulary.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# the tiny model's shape: small enough to build in milliseconds, wide enough for 32-wide blocks
D_MODEL, N_HEADS, N_KV_HEADS, D_MLP, N_CTX = 64, 4, 2, 128, 128
D_HEAD = D_MODEL // N_HEADS
ROPE_BASE, NORM_EPS = 10000.0, 1e-5

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MERGES = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "Ġ c", "a t", "Ġc at", "o n"]

# GGUF tensor name -> our name for the per-layer tensors; Q and K are stored permuted
LAYER_TENSORS = {
    "attn_norm.weight": "attn_norm.w",
    "attn_q.weight": "attn.W_Q",
    "attn_k.weight": "attn.W_K",
    "attn_v.weight": "attn.W_V",
    "attn_output.weight": "attn.W_O",
    "ffn_norm.weight": "mlp_norm.w",
    "ffn_gate.weight": "mlp.W_gate",
    "ffn_up.weight": "mlp.W_up",
    "ffn_down.weight": "mlp.W_down",
}

BIAS_TENSORS = {"attn_q.bias": "attn.b_Q", "attn_k.bias": "attn.b_K", "attn_v.bias": "attn.b_V"}

# how each architecture is stored, written down here independently of the engine's own table:
# (Q and K rows interleaved, q/k/v biases present)
LAYOUTS = {"llama": (True, False), "qwen2": (False, True)}

Edit = Callable[[dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class Vocabulary:
    """A tokenizer as a GGUF file describes it."""

    model: str  # tokenizer.ggml.model
    pre: str | None
    tokens: list[str]
    types: list[int]
    merges: list[str] | None = None
    scores: list[float] | None = None


def byte_chars() -> list[str]:
    """GPT-2's printable stand-in for each of the 256 bytes, in byte order."""
    visible = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    spare = itertools.count(0x100)  # bytes without a visible glyph borrow code points from 256 up
    return [chr(b) if b in visible else chr(next(spare)) for b in range(256)]


def vocabulary() -> tuple[list[str], list[int]]:
    """Tokens and their GGUF token types: control tokens (3), then bytes and merges (1)."""
    merged = [m.replace(" ", "") for m in MERGES]
    tokens = SPECIAL_TOKENS + byte_chars() + merged
    return tokens, [3] * len(SPECIAL_TOKENS) + [1] * (len(tokens) - len(SPECIAL_TOKENS))


def byte_level_vocabulary(pre: str = "smollm") -> Vocabulary:
    tokens, types = vocabulary()
    return Vocabulary("gpt2", pre, tokens, types, merges=MERGES)


# SentencePiece pieces, best first: the score of piece i is -i, as in Llama 2's vocabulary.
# Single characters come last, so every longer piece can be built from them; "é" is the only
# accented one and there are no emoji, so those fall back to byte tokens.
SP_PIECES = [
    "▁the",
    "▁a",
    "▁c",
    "at",
    "▁cat",
    "he",
    "▁t",
    "in",
    "er",
    "on",
    "▁o",
    "▁s",
    "▁1",
    "▁2",
    "12",
    "▁▁",
    "▁with",
    "▁wi",
    "th",
    "▁w",
    "it",
    "▁th",
    "ab",
    "aba",
    "ba",
    "▁caf",
    "▁ca",
    "af",
    "▁",
    "t",
    "h",
    "e",
    "c",
    "a",
    "i",
    "n",
    "r",
    "o",
    "s",
    "w",
    "1",
    "2",
    "3",
    "b",
    "f",
    "é",
    ",",
    ".",
]


def sentencepiece_vocabulary() -> Vocabulary:
    """<unk> (type 2), <s> and </s> (control, 3), 256 byte tokens (6), then scored pieces (1)."""
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokens = ["<unk>", "<s>", "</s>"] + byte_tokens + SP_PIECES
    types = [2, 3, 3] + [6] * 256 + [1] * len(SP_PIECES)
    scores = [0.0] * (3 + 256) + [-float(i) for i in range(len(SP_PIECES))]
    return Vocabulary("llama", None, tokens, types, scores=scores)


def interleave_rows(w: np.ndarray, n_heads: int) -> np.ndarray:
    """llama.cpp's order for Q and K rows: within each head, row i of the first half, then row i
    of the second half, for i = 0, 1, ... (the pairs its RoPE rotates together)."""
    d_head = w.shape[0] // n_heads
    half = d_head // 2
    order = [
        h * d_head + part * half + i for h in range(n_heads) for i in range(half) for part in (0, 1)
    ]
    return w[order]


@dataclass
class TinyModel:
    """A synthetic GGUF file and the weights that went into it."""

    path: Path
    qtype: str
    arch: str
    weights: dict[str, np.ndarray]  # by our name, in the published (unpermuted) row order
    stored: dict[str, np.ndarray]  # the same after the quantisation round trip
    n_layers: int
    tied: bool
    d_vocab: int
    d_model: int = D_MODEL
    n_heads: int = N_HEADS
    n_kv_heads: int = N_KV_HEADS
    d_head: int = D_HEAD
    d_mlp: int = D_MLP
    n_ctx: int = N_CTX
    rope_base: float = ROPE_BASE
    norm_eps: float = NORM_EPS


def true_weights(
    n_layers: int, d_vocab: int, tied: bool, seed: int, biases: bool = False
) -> dict[str, np.ndarray]:
    """Random weights by our name, scaled so that attention patterns are far from uniform."""
    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int, scale: float = 0.15) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    def norm() -> np.ndarray:
        return (1 + 0.1 * rng.standard_normal(D_MODEL)).astype(np.float32)

    w = {"embed.W_E": matrix(d_vocab, D_MODEL, 0.5), "final_norm.w": norm()}
    if not tied:
        w["unembed.W_U"] = matrix(d_vocab, D_MODEL)
    for layer in range(n_layers):
        p = f"blocks.{layer}."
        w[p + "attn_norm.w"] = norm()
        w[p + "attn.W_Q"] = matrix(N_HEADS * D_HEAD, D_MODEL)
        w[p + "attn.W_K"] = matrix(N_KV_HEADS * D_HEAD, D_MODEL)
        w[p + "attn.W_V"] = matrix(N_KV_HEADS * D_HEAD, D_MODEL)
        w[p + "attn.W_O"] = matrix(D_MODEL, N_HEADS * D_HEAD)
        w[p + "mlp_norm.w"] = norm()
        w[p + "mlp.W_gate"] = matrix(D_MLP, D_MODEL)
        w[p + "mlp.W_up"] = matrix(D_MLP, D_MODEL)
        w[p + "mlp.W_down"] = matrix(D_MODEL, D_MLP)
    for layer in range(n_layers if biases else 0):  # drawn last: the other weights stay the same
        p = f"blocks.{layer}."
        w[p + "attn.b_Q"] = matrix(1, N_HEADS * D_HEAD, 0.5)[0]
        w[p + "attn.b_K"] = matrix(1, N_KV_HEADS * D_HEAD, 0.5)[0]
        w[p + "attn.b_V"] = matrix(1, N_KV_HEADS * D_HEAD, 0.5)[0]
    return w


def gguf_tensors(
    w: dict[str, np.ndarray], n_layers: int, interleaved: bool = True
) -> dict[str, np.ndarray]:
    """The same weights under GGUF names, with Q and K rows in llama.cpp's order if
    `interleaved`, and biases where `w` has them."""
    out = {"token_embd.weight": w["embed.W_E"], "output_norm.weight": w["final_norm.w"]}
    if "unembed.W_U" in w:
        out["output.weight"] = w["unembed.W_U"]
    for layer in range(n_layers):
        for gguf_name, ours in LAYER_TENSORS.items():
            out[f"blk.{layer}.{gguf_name}"] = w[f"blocks.{layer}.{ours}"]
        for gguf_name, ours in BIAS_TENSORS.items():
            if f"blocks.{layer}.{ours}" in w:
                out[f"blk.{layer}.{gguf_name}"] = w[f"blocks.{layer}.{ours}"]
        if interleaved:
            q, k = w[f"blocks.{layer}.attn.W_Q"], w[f"blocks.{layer}.attn.W_K"]
            out[f"blk.{layer}.attn_q.weight"] = interleave_rows(q, N_HEADS)
            out[f"blk.{layer}.attn_k.weight"] = interleave_rows(k, N_KV_HEADS)
    return out


def round_trip(w: np.ndarray, qtype) -> np.ndarray:
    """What a matrix becomes once stored as `qtype` and read back (norm vectors stay F32)."""
    from gguf import quants

    if w.ndim == 1:
        return w
    return quants.dequantize(quants.quantize(w, qtype), qtype).astype(np.float32)


def write_gguf(
    path: Path,
    arch: str,
    n_layers: int,
    tensors: dict[str, np.ndarray],
    qtype,
    vocab: Vocabulary,
    quantize: Callable[[np.ndarray], np.ndarray] | None = None,
):
    """Write a GGUF file; matrices go through `quantize` (gguf's quantiser for `qtype` unless
    given), vectors stay F32."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("Tiny Test Llama")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(D_MODEL)
    writer.add_feed_forward_length(D_MLP)
    writer.add_block_count(n_layers)
    writer.add_head_count(N_HEADS)
    writer.add_head_count_kv(N_KV_HEADS)
    writer.add_rope_dimension_count(D_HEAD)
    writer.add_rope_freq_base(ROPE_BASE)
    writer.add_layer_norm_rms_eps(NORM_EPS)
    writer.add_tokenizer_model(vocab.model)
    if vocab.pre is not None:
        writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    if vocab.merges is not None:
        writer.add_token_merges(vocab.merges)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    quantize = quantize or (lambda w: gguf.quants.quantize(w, qtype))
    for name, w in tensors.items():
        if w.ndim == 1:
            writer.add_tensor(name, w.astype(np.float32))
        else:
            data = quantize(w)
            writer.add_tensor(name, data, raw_dtype=qtype if data.dtype == np.uint8 else None)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_tiny_model(
    directory: Path,
    qtype: str = "F32",
    *,
    n_layers: int = 2,
    tied: bool = True,
    arch: str = "llama",
    seed: int = 0,
    edit: Edit | None = None,
    vocab: Vocabulary | None = None,
) -> TinyModel:
    """Write `directory`/tiny.gguf; `edit` may add, drop or replace tensors by GGUF name.

    An architecture this module does not know is written like llama, to test refusals."""
    import gguf

    kind = gguf.GGMLQuantizationType[qtype]
    vocab = vocab or byte_level_vocabulary()
    interleaved, biases = LAYOUTS.get(arch, LAYOUTS["llama"])
    weights = true_weights(n_layers, len(vocab.tokens), tied, seed, biases)
    tensors = gguf_tensors(weights, n_layers, interleaved)
    if edit is not None:
        edit(tensors)
    path = directory / "tiny.gguf"
    write_gguf(path, arch, n_layers, tensors, kind, vocab)
    stored = {name: round_trip(w, kind) for name, w in weights.items()}
    return TinyModel(path, qtype, arch, weights, stored, n_layers, tied, len(vocab.tokens))


def assert_same_as_transformers(ours, theirs_model) -> None:
    """Our trace against a transformers model run on the same ids: attention within 1e-4,
    logits within 1e-3, and patterns that are not all uniform (so the comparison means something)."""
    import torch

    with torch.no_grad():
        theirs = theirs_model(torch.tensor([ours.ids.tolist()]), output_attentions=True)
    attention = np.stack([a[0].numpy() for a in theirs.attentions])
    assert attention.shape == ours.attention.shape
    assert np.abs(attention - ours.attention).max() <= 1e-4
    assert np.abs(theirs.logits[0].numpy() - ours.logits).max() <= 1e-3
    assert attention[..., 1:, :].max() > 0.5
