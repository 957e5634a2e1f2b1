"""Model weights as float32 arrays by name, a memory-mapped cache of them, and the untrained twin.

Dequantising a GGUF file takes seconds; the cache keeps the result as one raw float32 file plus a
JSON index, so that a later start maps it into memory in milliseconds. The cache is keyed by the
source file's path, size and modification time, and rebuilt whenever one of them changes.
"""

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .config import ModelConfig
from .gguf_file import Progress, expected_shapes, iter_weights, open_gguf
from .tokenizer import build_tokenizer

log = logging.getLogger("cocktail_party")

Weights = dict[str, np.ndarray]
CACHE_FORMAT = 1


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
    """(config, tokenizer, weights) from the cache, or None when it is absent or stale."""
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
    weights = {
        name: blob[start : start + int(np.prod(shape))].reshape(shape)
        for name, (start, shape) in index["tensors"].items()
    }
    tokenizer = Tokenizer.from_file(str(entry / "tokenizer.json"))
    return cfg, tokenizer, weights


def convert(path: Path, cache_dir: Path | None, progress: Progress | None = None):
    """Read a GGUF file into (config, tokenizer, weights), writing the cache when it can."""
    reader, cfg, spec = open_gguf(path)
    tokenizer = build_tokenizer(spec)
    weights = dict(iter_weights(reader, cfg, progress))
    if cache_dir is not None:
        try:
            _write_cache(cache_dir, path, cfg, tokenizer, weights)
        except OSError as e:  # a read-only home still runs the model, only slower to start
            log.warning("could not write the weight cache in %s: %s", cache_dir, e)
    return cfg, tokenizer, weights


def _write_cache(cache_dir: Path, path: Path, cfg: ModelConfig, tokenizer, weights: Weights):
    source = _source_key(path)
    entry = _entry_dir(cache_dir, source)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=cache_dir))
    tensors, offset = {}, 0
    with (tmp / "weights.bin").open("wb") as f:
        for name, w in weights.items():
            f.write(np.ascontiguousarray(w, dtype=np.float32).tobytes())
            tensors[name] = (offset, list(w.shape))
            offset += w.size
    tokenizer.save(str(tmp / "tokenizer.json"))
    index = {"format": CACHE_FORMAT, "source": source, "config": cfg.to_dict(), "tensors": tensors}
    (tmp / "index.json").write_text(json.dumps(index))
    shutil.rmtree(entry, ignore_errors=True)
    os.replace(tmp, entry)  # atomic: a reader sees the old entry or the whole new one


def random_weights(cfg: ModelConfig, seed: int = 0) -> Weights:
    """Untrained weights: every matrix drawn from N(0, 0.02²), every norm scale 1."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in expected_shapes(cfg).items():
        if name.endswith("norm.w"):
            weights[name] = np.ones(shape, dtype=np.float32)
        else:
            weights[name] = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
    return weights
