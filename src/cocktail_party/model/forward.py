"""The forward pass of a llama-family decoder in NumPy, one small function per stage.

Every internal passes through a named hook point, `hook(name, value)`, which returns the value
that flows on. A `Hooks` object decides which internals to keep and which to replace (ablation);
nothing else in the forward pass knows about recording. Shapes use n for the sequence length.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import numpy as np

from ..errors import UnknownNameError
from .config import ModelConfig

Weights = dict[str, np.ndarray]
Edit = Callable[[np.ndarray], np.ndarray]

BLOCK_NAMES = (
    "resid_pre",  # [n, d_model]  the residual stream entering the block
    "attn.q",  # [n_heads, n, d_head]  queries, after RoPE
    "attn.k",  # [n_kv_heads, n, d_head]  keys, after RoPE
    "attn.v",  # [n_kv_heads, n, d_head]  values
    "attn.scores",  # [n_heads, n, n]  q·k / sqrt(d_head); -inf where the causal mask forbids
    "attn.pattern",  # [n_heads, n, n]  softmax of the scores; rows sum to 1
    "attn.z",  # [n_heads, n, d_head]  each head's output: the pattern-weighted values
    "attn_out",  # [n, d_model]  all heads, projected by W_O
    "resid_mid",  # [n, d_model]  resid_pre + attn_out
    "mlp.post",  # [n, d_mlp]  neuron activations: silu(gate) * up
    "mlp_out",  # [n, d_model]
    "resid_post",  # [n, d_model]  resid_mid + mlp_out
)
FINAL_NAMES = ("final_norm", "logits")  # [n, d_model], [n, d_vocab]


def trace_names(cfg: ModelConfig) -> list[str]:
    """Every internal a trace can hold, in the order the forward pass makes them."""
    names = ["embed"]  # [n, d_model]
    for layer in range(cfg.n_layers):
        names += [f"blocks.{layer}.{n}" for n in BLOCK_NAMES]
    return names + list(FINAL_NAMES)


def select_names(cfg: ModelConfig, patterns: list[str] | None) -> list[str]:
    """The internals matching any of `patterns` (exact names or globs like 'blocks.*.attn.q')."""
    every = trace_names(cfg)
    if patterns is None:
        return every
    chosen = set()
    for pattern in patterns:
        matched = [n for n in every if fnmatchcase(n, pattern)]
        if not matched:
            raise UnknownNameError(
                f"no internal is named {pattern!r}; names look like 'embed', "
                f"'blocks.0.attn.pattern' (layers 0-{cfg.n_layers - 1}) or 'logits'"
            )
        chosen.update(matched)
    return [n for n in every if n in chosen]


@dataclass
class Hooks:
    """Keeps the internals named in `keep` and replaces those named in `edits`."""

    keep: frozenset[str]
    edits: dict[str, Edit] = field(default_factory=dict)
    kept: dict[str, np.ndarray] = field(default_factory=dict)

    def __call__(self, name: str, value: np.ndarray) -> np.ndarray:
        if name in self.edits:
            value = self.edits[name](value)
        if name in self.keep:
            self.kept[name] = value
        return value


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x: np.ndarray) -> np.ndarray:
    return x * (0.5 + 0.5 * np.tanh(0.5 * x))  # x·sigmoid(x), without overflow in exp


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def rope_tables(n: int, d_head: int, base: float) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of each position's rotation angles, [n, d_head]."""
    inv_freq = base ** (-np.arange(0, d_head, 2, dtype=np.float64) / d_head)
    angles = np.arange(n, dtype=np.float64)[:, None] * inv_freq[None, :]
    angles = np.concatenate([angles, angles], axis=-1)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate the first half of each head against the second half (the checkpoint's pairing)."""
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def split_heads(x: np.ndarray, n_heads: int) -> np.ndarray:
    n = x.shape[0]
    return x.reshape(n, n_heads, -1).transpose(1, 0, 2)  # [n_heads, n, d_head]


def attention(x, w: Weights, p: str, cfg: ModelConfig, rope, hook) -> np.ndarray:
    n, q_width, kv_width = x.shape[0], cfg.n_heads * cfg.d_head, cfg.n_kv_heads * cfg.d_head
    qkv = x @ w[p + "qkv"]  # [n, (n_heads + 2 n_kv_heads) d_head]: one product for all three
    if cfg.qkv_bias:
        qkv += w[p + "qkv_bias"]
    q = hook(p + "attn.q", apply_rope(split_heads(qkv[:, :q_width], cfg.n_heads), *rope))
    k = hook(
        p + "attn.k",
        apply_rope(split_heads(qkv[:, q_width : q_width + kv_width], cfg.n_kv_heads), *rope),
    )
    v = hook(p + "attn.v", split_heads(qkv[:, q_width + kv_width :], cfg.n_kv_heads))

    # grouped-query attention: query head h reads key/value head h // group_size
    k = np.repeat(k, cfg.group_size, axis=0)
    v = np.repeat(v, cfg.group_size, axis=0)

    scores = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(cfg.d_head))  # [n_heads, n, n]
    future = np.triu(np.ones((n, n), dtype=bool), k=1)
    scores = hook(p + "attn.scores", np.where(future, np.float32(-np.inf), scores))
    pattern = hook(p + "attn.pattern", softmax(scores))

    z = hook(p + "attn.z", pattern @ v)  # [n_heads, n, d_head]
    return z.transpose(1, 0, 2).reshape(n, -1) @ w[p + "out"]  # [n, d_model]


def mlp(x, w: Weights, p: str, cfg: ModelConfig, hook) -> np.ndarray:
    gate_up = x @ w[p + "gate_up"]  # [n, 2 d_mlp]: gate and up in one product
    post = hook(p + "mlp.post", silu(gate_up[:, : cfg.d_mlp]) * gate_up[:, cfg.d_mlp :])
    return post @ w[p + "down"]  # [n, d_model]


def block(x, w: Weights, layer: int, cfg: ModelConfig, rope, hook) -> np.ndarray:
    p = f"blocks.{layer}."
    x = hook(p + "resid_pre", x)

    normed = rms_norm(x, w[p + "attn_norm"], cfg.norm_eps)
    x = hook(p + "resid_mid", x + hook(p + "attn_out", attention(normed, w, p, cfg, rope, hook)))

    normed = rms_norm(x, w[p + "mlp_norm"], cfg.norm_eps)
    return hook(p + "resid_post", x + hook(p + "mlp_out", mlp(normed, w, p, cfg, hook)))


def unembed_matrix(w: Weights, cfg: ModelConfig) -> np.ndarray:
    """[d_vocab, d_model] from the named weights: the token embedding when they are tied."""
    return w["embed.W_E"] if cfg.tied_embeddings else w["unembed.W_U"]


def embed(ids: np.ndarray, w: Weights) -> np.ndarray:
    """Token vectors [n, d_model]; tied models read them from the unembedding's columns."""
    if "embed" in w:
        return np.array(w["embed"][ids], dtype=np.float32)
    return np.ascontiguousarray(w["unembed"][:, ids].T, dtype=np.float32)


def forward(ids: np.ndarray, w: Weights, cfg: ModelConfig, hooks: Hooks) -> dict[str, np.ndarray]:
    """Run the model on token ids and return the internals that `hooks` keeps.

    `w` holds the packed weights (see weights.packed_shapes), each laid out [in, out].

    Layers after the last one whose internals are wanted are skipped, and so is the unembedding
    unless 'final_norm' or 'logits' is wanted.
    """
    wanted_layers = [
        int(n.split(".")[1]) for n in hooks.keep | hooks.edits.keys() if n.startswith("blocks.")
    ]
    wants_final = bool(hooks.keep & set(FINAL_NAMES))
    last = cfg.n_layers - 1 if wants_final else max(wanted_layers, default=-1)

    x = hooks("embed", embed(ids, w))  # [n, d_model]
    rope = rope_tables(len(ids), cfg.d_head, cfg.rope_base)
    for layer in range(last + 1):
        x = block(x, w, layer, cfg, rope, hooks)

    if wants_final:
        x = hooks("final_norm", rms_norm(x, w["final_norm"], cfg.norm_eps))
        hooks("logits", x @ w["unembed"])  # [n, d_vocab]
    return hooks.kept
