"""Reading a llama-family GGUF file: its configuration, its tokenizer and its weights.

Checkpoint names are translated here, once, into this package's names; every tensor's name and
shape is checked before the model runs. Weights are returned in float32 with the checkpoint's
[out, in] orientation, so a linear layer is `x @ W.T`.

The architectures this engine runs differ only in what `ARCHITECTURES` records about them; the
forward pass never asks which one it is running.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelFileError, UnsupportedModelError
from .config import ModelConfig
from .tokenizer import TokenizerSpec

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class Architecture:
    """How one GGUF architecture is stored; its metadata keys all start with its name."""

    qk_interleaved: bool  # llama.cpp reordered the Q and K rows for its adjacent-pair RoPE
    qkv_bias: bool  # the file holds attn_q.bias, attn_k.bias and attn_v.bias for every layer


ARCHITECTURES = {
    # Llama 2 and 3, TinyLlama, Mistral, SmolLM: llama.cpp converts them all to "llama"
    "llama": Architecture(qk_interleaved=True, qkv_bias=False),
    # Qwen2 keeps the checkpoint's row order: llama.cpp runs it with the half-rotation RoPE
    "qwen2": Architecture(qk_interleaved=False, qkv_bias=True),
}

# GGUF tensor name -> our name; "{l}" is the layer index.
_LAYER_NAMES = {
    "attn_norm.weight": "attn_norm.w",
    "attn_q.weight": "attn.W_Q",
    "attn_k.weight": "attn.W_K",
    "attn_v.weight": "attn.W_V",
    "attn_q.bias": "attn.b_Q",
    "attn_k.bias": "attn.b_K",
    "attn_v.bias": "attn.b_V",
    "attn_output.weight": "attn.W_O",
    "ffn_norm.weight": "mlp_norm.w",
    "ffn_gate.weight": "mlp.W_gate",
    "ffn_up.weight": "mlp.W_up",
    "ffn_down.weight": "mlp.W_down",
}
_GLOBAL_NAMES = {
    "token_embd.weight": "embed.W_E",
    "output_norm.weight": "final_norm.w",
    "output.weight": "unembed.W_U",
}

Progress = Callable[[int, int, str], None]


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every weight the engine needs, by our name, with its shape in numpy order."""
    d, dh = cfg.d_model, cfg.d_head
    shapes: dict[str, tuple[int, ...]] = {
        "embed.W_E": (cfg.d_vocab, d),
        "final_norm.w": (d,),
    }
    if not cfg.tied_embeddings:
        shapes["unembed.W_U"] = (cfg.d_vocab, d)
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}."
        shapes |= {
            p + "attn_norm.w": (d,),
            p + "attn.W_Q": (cfg.n_heads * dh, d),
            p + "attn.W_K": (cfg.n_kv_heads * dh, d),
            p + "attn.W_V": (cfg.n_kv_heads * dh, d),
        }
        if cfg.qkv_bias:
            shapes |= {
                p + "attn.b_Q": (cfg.n_heads * dh,),
                p + "attn.b_K": (cfg.n_kv_heads * dh,),
                p + "attn.b_V": (cfg.n_kv_heads * dh,),
            }
        shapes |= {
            p + "attn.W_O": (d, cfg.n_heads * dh),
            p + "mlp_norm.w": (d,),
            p + "mlp.W_gate": (cfg.d_mlp, d),
            p + "mlp.W_up": (cfg.d_mlp, d),
            p + "mlp.W_down": (d, cfg.d_mlp),
        }
    return shapes


def translate_name(gguf_name: str) -> str:
    """Our name for a GGUF tensor name, or an error naming the tensor we do not know."""
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    parts = gguf_name.split(".", 2)
    if len(parts) == 3 and parts[0] == "blk" and parts[1].isdigit() and parts[2] in _LAYER_NAMES:
        return f"blocks.{parts[1]}.{_LAYER_NAMES[parts[2]]}"
    raise UnsupportedModelError(
        f"the GGUF file holds tensor {gguf_name!r}, which this engine does not know how to use"
    )


def check_magic(path: Path) -> None:
    """Fail with one sentence unless `path` is a readable file that starts like a GGUF file."""
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist or is not a file")
    with path.open("rb") as f:
        head = f.read(4)
    if head != GGUF_MAGIC:
        raise ModelFileError(
            f"{str(path)!r} is not a GGUF file: it starts with {head!r}, a GGUF file with b'GGUF'"
        )


def _open(path: Path):
    import gguf  # imported here: opening a cached model needs no gguf

    check_magic(path)
    try:
        return gguf.GGUFReader(path)
    except Exception as e:  # gguf raises bare ValueError/IndexError on damaged files
        raise ModelFileError(f"{str(path)!r} could not be read as GGUF: {e}") from e


def _field(reader, key: str, default=None):
    field = reader.fields.get(key)
    if field is None:
        if default is None:
            raise UnsupportedModelError(f"the GGUF file lacks the metadata key {key!r}")
        return default
    return field.contents()


def read_config(reader, path: Path) -> ModelConfig:
    arch = _field(reader, "general.architecture")
    if arch not in ARCHITECTURES:
        known = " and ".join(ARCHITECTURES)
        raise UnsupportedModelError(
            f"{path.name} is a {arch!r} model; this engine runs {known} models"
        )
    names = {t.name for t in reader.tensors}
    n_heads = int(_field(reader, f"{arch}.attention.head_count"))
    d_model = int(_field(reader, f"{arch}.embedding_length"))
    d_head = int(_field(reader, f"{arch}.attention.key_length", d_model // n_heads))
    rope_dims = int(_field(reader, f"{arch}.rope.dimension_count", d_head))
    if rope_dims != d_head:
        raise UnsupportedModelError(
            f"the model rotates {rope_dims} of {d_head} head dimensions; this engine needs all"
        )
    if "rope_freqs.weight" in names or f"{arch}.rope.scaling.type" in reader.fields:
        raise UnsupportedModelError("the model uses RoPE frequency scaling, not supported yet")
    if "tokenizer.ggml.tokens" not in reader.fields:
        raise UnsupportedModelError(f"{path.name} carries no tokenizer vocabulary")
    n_tokens = len(reader.fields["tokenizer.ggml.tokens"].data)
    return ModelConfig(
        name=path.name.split(".")[0],  # the file's name without its quantisation suffix
        architecture=arch,
        n_layers=int(_field(reader, f"{arch}.block_count")),
        n_heads=n_heads,
        n_kv_heads=int(_field(reader, f"{arch}.attention.head_count_kv", n_heads)),
        d_model=d_model,
        d_head=d_head,
        d_mlp=int(_field(reader, f"{arch}.feed_forward_length")),
        d_vocab=int(_field(reader, f"{arch}.vocab_size", n_tokens)),
        n_ctx=int(_field(reader, f"{arch}.context_length")),
        rope_base=float(_field(reader, f"{arch}.rope.freq_base", 10000.0)),
        norm_eps=float(_field(reader, f"{arch}.attention.layer_norm_rms_epsilon")),
        tied_embeddings="output.weight" not in names,
        qkv_bias=ARCHITECTURES[arch].qkv_bias,
    )


def read_tokenizer_spec(reader) -> TokenizerSpec:
    """The tokenizer's description; read_config has already checked that a vocabulary exists."""
    tokens = list(_field(reader, "tokenizer.ggml.tokens"))
    return TokenizerSpec(
        model=str(_field(reader, "tokenizer.ggml.model")),
        pre=str(_field(reader, "tokenizer.ggml.pre", "default")),
        tokens=tokens,
        merges=list(_field(reader, "tokenizer.ggml.merges", [])),
        token_types=[int(t) for t in _field(reader, "tokenizer.ggml.token_type", [1])],
        scores=[float(s) for s in _field(reader, "tokenizer.ggml.scores", [0.0] * len(tokens))],
        add_space_prefix=bool(_field(reader, "tokenizer.ggml.add_space_prefix", True)),
    )


def unpermute_qk(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Undo llama.cpp's row order for Q and K.

    llama.cpp stores each head's rows interleaved (pairs 0,1 / 2,3 ...) for its adjacent-pair
    RoPE; the original checkpoint rotates the first half of a head against the second half.
    We restore the original order so that heads, queries and keys match the published model.
    """
    rows, cols = w.shape
    return w.reshape(n_heads, rows // n_heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def dequantize(tensor) -> np.ndarray:
    """A GGUF tensor as float32 in numpy order; any type gguf can dequantise is accepted."""
    from gguf import GGMLQuantizationType, quants

    kind = GGMLQuantizationType(tensor.tensor_type)
    shape = tuple(int(s) for s in reversed(tensor.shape))
    try:
        if kind == GGMLQuantizationType.F32:
            return np.asarray(tensor.data, dtype=np.float32).reshape(shape)
        return quants.dequantize(tensor.data, kind).astype(np.float32, copy=False).reshape(shape)
    except NotImplementedError as e:
        raise UnsupportedModelError(
            f"tensor {tensor.name!r} is stored as {kind.name}; this engine reads the types gguf "
            "can dequantise, such as F16, BF16, Q8_0, Q4_0 and the K-quants"
        ) from e


def iter_weights(
    reader, cfg: ModelConfig, progress: Progress | None = None
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (our name, float32 array) for every weight, checked against the expected shapes."""
    shapes = expected_shapes(cfg)
    by_name = {translate_name(t.name): t for t in reader.tensors}
    missing = [name for name in shapes if name not in by_name]
    if missing:
        raise UnsupportedModelError(f"the GGUF file lacks tensor(s) {', '.join(missing[:5])}")
    extra = [by_name[name].name for name in by_name if name not in shapes]
    if extra:
        raise UnsupportedModelError(
            f"the GGUF file holds tensor {extra[0]!r}, which a {cfg.architecture!r} model lacks"
        )
    interleaved = ARCHITECTURES[cfg.architecture].qk_interleaved
    for i, (name, shape) in enumerate(shapes.items()):
        w = dequantize(by_name[name])
        if w.shape != shape:
            raise UnsupportedModelError(f"tensor {name!r} has shape {w.shape}, expected {shape}")
        if interleaved and name.endswith("attn.W_Q"):
            w = unpermute_qk(w, cfg.n_heads)
        elif interleaved and name.endswith("attn.W_K"):
            w = unpermute_qk(w, cfg.n_kv_heads)
        if progress:
            progress(i + 1, len(shapes), name)
        yield name, w


def open_gguf(path: Path) -> tuple[object, ModelConfig, TokenizerSpec]:
    """Open a GGUF file and read what is needed before its weights."""
    reader = _open(path)
    return reader, read_config(reader, path), read_tokenizer_spec(reader)
