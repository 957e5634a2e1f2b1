"""Model weights: the layout the forward pass reads, the named views users inspect, a
memory-mapped cache of them, and the untrained twin.

The forward pass reads "packed" matrices laid out [in, out], so that every linear layer is one
contiguous `x @ W`, with the query, key and value projections side by side in one matrix (and
their biases, where a model has them, in one vector) and the gate and up projections in another:
fewer, larger products run faster. Users and analyses read the checkpoint's names
(`blocks.3.attn.W_Q`, `blocks.3.attn.b_Q`, [out, in]); those are views into the packed arrays, so
nothing is stored twice.

Dequantising a GGUF file takes seconds; the cache keeps the packed arrays as one raw float32 file
plus a JSON index, so that a later start maps it into memory in milliseconds. It is keyed by the
source file's path, size and modification time, and rebuilt whenever one of them changes.
"""

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .config import ModelConfig
from .gguf_file import Progress, expected_shapes, iter_weights, open_gguf
from .tokenizer import build_tokenizer

log = logging.getLogger("cocktail_party")

Weights = dict[str, np.ndarray]
CACHE_FORMAT = 3  # 3: optional per-layer qkv_bias


def packed_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every packed array the forward pass reads, [in, out], in file order."""
    d, dh = cfg.d_model, cfg.d_head
    shapes: dict[str, tuple[int, ...]] = {}
    if not cfg.tied_embeddings:
        shapes["embed"] = (cfg.d_vocab, d)
    shapes |= {"unembed": (d, cfg.d_vocab), "final_norm": (d,)}
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}."
        shapes |= {
            p + "attn_norm": (d,),
            p + "qkv": (d, (cfg.n_heads + 2 * cfg.n_kv_heads) * dh),
        }
        if cfg.qkv_bias:
            shapes[p + "qkv_bias"] = ((cfg.n_heads + 2 * cfg.n_kv_heads) * dh,)
        shapes |= {
            p + "out": (cfg.n_heads * dh, d),
            p + "mlp_norm": (d,),
            p + "gate_up": (d, 2 * cfg.d_mlp),
            p + "down": (cfg.d_mlp, d),
        }
    return shapes


def _pack_layer(w: Weights, p: str) -> Weights:
    """One layer's named [out, in] weights as packed [in, out] arrays."""
    qkv = np.concatenate([w[p + "attn.W_Q"], w[p + "attn.W_K"], w[p + "attn.W_V"]])
    gate_up = np.concatenate([w[p + "mlp.W_gate"], w[p + "mlp.W_up"]])
    packed = {p + "attn_norm": w[p + "attn_norm.w"], p + "qkv": np.ascontiguousarray(qkv.T)}
    if p + "attn.b_Q" in w:
        packed[p + "qkv_bias"] = np.concatenate(
            [w[p + "attn.b_Q"], w[p + "attn.b_K"], w[p + "attn.b_V"]]
        )
    return packed | {
        p + "out": np.ascontiguousarray(w[p + "attn.W_O"].T),
        p + "mlp_norm": w[p + "mlp_norm.w"],
        p + "gate_up": np.ascontiguousarray(gate_up.T),
        p + "down": np.ascontiguousarray(w[p + "mlp.W_down"].T),
    }


def pack(
    named: Iterator[tuple[str, np.ndarray]], cfg: ModelConfig
) -> Iterator[tuple[str, np.ndarray]]:
    """Turn named weights, arriving in `expected_shapes` order, into packed arrays, one layer at
    a time so that no more than a layer is held twice."""
    per_layer = sum(name.startswith("blocks.0.") for name in expected_shapes(cfg))
    pending: Weights = {}
    layer = 0
    for name, w in named:
        if name == "embed.W_E":
            if not cfg.tied_embeddings:
                yield "embed", w
            else:
                yield "unembed", np.ascontiguousarray(w.T)
        elif name == "unembed.W_U":
            yield "unembed", np.ascontiguousarray(w.T)
        elif name == "final_norm.w":
            yield "final_norm", w
        else:
            pending[name] = w
            if len(pending) == per_layer:  # every weight of one block has arrived
                yield from _pack_layer(pending, f"blocks.{layer}.").items()
                pending, layer = {}, layer + 1


def named_views(packed: Weights, cfg: ModelConfig) -> Weights:
    """The checkpoint's names, [out, in], as views into the packed arrays."""
    q, kv = cfg.n_heads * cfg.d_head, cfg.n_kv_heads * cfg.d_head
    W_U = packed["unembed"].T  # [d_vocab, d_model]
    w = {
        "embed.W_E": packed.get("embed", W_U),
        "final_norm.w": packed["final_norm"],
    }
    if not cfg.tied_embeddings:
        w["unembed.W_U"] = W_U
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}."
        qkv, gate_up = packed[p + "qkv"].T, packed[p + "gate_up"].T
        w |= {
            p + "attn_norm.w": packed[p + "attn_norm"],
            p + "attn.W_Q": qkv[:q],
            p + "attn.W_K": qkv[q : q + kv],
            p + "attn.W_V": qkv[q + kv :],
        }
        if cfg.qkv_bias:
            b = packed[p + "qkv_bias"]
            w |= {p + "attn.b_Q": b[:q], p + "attn.b_K": b[q : q + kv], p + "attn.b_V": b[q + kv :]}
        w |= {
            p + "attn.W_O": packed[p + "out"].T,
            p + "mlp_norm.w": packed[p + "mlp_norm"],
            p + "mlp.W_gate": gate_up[: cfg.d_mlp],
            p + "mlp.W_up": gate_up[cfg.d_mlp :],
            p + "mlp.W_down": packed[p + "down"].T,
        }
    return w


def default_cache_dir() -> Path:
    if env := os.environ.get("COCKTAIL_PARTY_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cocktail-party"


def _source_key(path: Path) -> dict:
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _entry_dir(cache_dir: Path, source: dict) -> Path:
    digest = hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir / digest


def load_cached(cache_dir: Path, path: Path):
    """(config, tokenizer, packed weights) from the cache, or None when absent or stale."""
    from tokenizers import Tokenizer

    source = _source_key(path)
    entry = _entry_dir(cache_dir, source)
    try:
        index = json.loads((entry / "index.json").read_text())
    except (OSError, ValueError):
        return None
    if index.get("format") != CACHE_FORMAT or index.get("source") != source:
        return None
    cfg = ModelConfig(**index["config"])
    blob = np.memmap(entry / "weights.bin", dtype=np.float32, mode="r")
    packed = {
        name: blob[start : start + int(np.prod(shape))].reshape(shape)
        for name, (start, shape) in index["tensors"].items()
    }
    tokenizer = Tokenizer.from_file(str(entry / "tokenizer.json"))
    return cfg, tokenizer, packed


def convert(path: Path, cache_dir: Path | None, progress: Progress | None = None):
    """Read a GGUF file into (config, tokenizer, packed weights), through the cache if it can.

    With a cache, each packed array goes to disk as soon as it is made and the result is then
    mapped from the file, so the whole model is never held in memory twice.
    """
    reader, cfg, spec = open_gguf(path)
    tokenizer = build_tokenizer(spec)
    arrays = pack(iter_weights(reader, cfg, progress), cfg)
    if cache_dir is not None:
        try:
            _write_cache(cache_dir, path, cfg, tokenizer, arrays)
            return load_cached(cache_dir, path)
        except OSError as e:  # a read-only home still runs the model, only slower to start
            log.warning("could not write the weight cache in %s: %s", cache_dir, e)
            arrays = pack(iter_weights(reader, cfg, progress), cfg)
    return cfg, tokenizer, dict(arrays)


def _write_cache(cache_dir: Path, path: Path, cfg: ModelConfig, tokenizer, arrays) -> None:
    source = _source_key(path)
    entry = _entry_dir(cache_dir, source)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=cache_dir))
    try:
        tensors, offset = {}, 0
        with (tmp / "weights.bin").open("wb") as f:
            for name, w in arrays:
                f.write(np.ascontiguousarray(w, dtype=np.float32).data)
                tensors[name] = (offset, list(w.shape))
                offset += w.size
        tokenizer.save(str(tmp / "tokenizer.json"))
        index = {
            "format": CACHE_FORMAT,
            "source": source,
            "config": cfg.to_dict(),
            "tensors": tensors,
        }
        (tmp / "index.json").write_text(json.dumps(index))
        _remove_stale(cache_dir, source["path"], keep=tmp)
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)  # atomic: a reader sees the old entry or the whole new one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale(cache_dir: Path, source_path: str, keep: Path) -> None:
    """Delete older entries made from the same file, so a changed file leaves no orphan."""
    for entry in cache_dir.iterdir():
        if entry == keep:
            continue
        try:
            index = json.loads((entry / "index.json").read_text())
        except (OSError, ValueError):
            continue
        if index.get("source", {}).get("path") == source_path:
            shutil.rmtree(entry, ignore_errors=True)


def random_packed(cfg: ModelConfig, seed: int = 0) -> Weights:
    """Untrained weights: every matrix entry drawn from N(0, 0.02²), every norm scale 1, every
    bias 0."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in packed_shapes(cfg).items():
        if name.endswith("norm"):
            weights[name] = np.ones(shape, dtype=np.float32)
        elif name.endswith("bias"):
            weights[name] = np.zeros(shape, dtype=np.float32)
        else:
            weights[name] = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
    return weights
