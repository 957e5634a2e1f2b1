"""Turning traces and weights into the JSON payloads that the guide draws."""

import base64

import numpy as np

from ..model import Model, Trace

DIGITS = 5  # decimals sent for weights and scores: finer than any display, smaller on the wire
THUMB_SIZE = 32  # longest side of a head thumbnail


def _round(a: np.ndarray) -> list:
    return np.round(a.astype(np.float64), DIGITS).tolist()


def tokens_payload(trace: Trace) -> dict:
    return {
        "tokens": [
            {"id": t.id, "text": t.text, "start": t.start, "end": t.end, "word": t.word}
            for t in trace.tokens
        ],
        "words": trace.words(),
    }


def normalised_entropy(pattern: np.ndarray) -> np.ndarray:
    """Entropy of each attention row divided by log(allowed positions); row 0 counts as 1."""
    n = pattern.shape[-1]
    p = np.clip(pattern, 1e-30, 1.0)
    h = -(pattern * np.log(p)).sum(axis=-1)
    allowed = np.log(np.arange(1, n + 1, dtype=np.float64))
    return np.where(allowed > 0, h / np.where(allowed > 0, allowed, 1), 1.0)


def attention_payload(model: Model, trace: Trace, layer: int, head: int) -> dict:
    """One head's attention, with the numbers behind it for the Query / Key / Value cards."""
    cfg = model.config
    p = f"blocks.{layer}.attn."
    kv = head // cfg.group_size
    pattern = trace[p + "pattern"][head]  # [n, n]
    scores = trace[p + "scores"][head]
    v = trace[p + "v"][kv]  # [n, d_head]
    W_O = model.weights[f"blocks.{layer}.attn.W_O"][:, head * cfg.d_head : (head + 1) * cfg.d_head]
    carried = np.linalg.norm(v @ W_O.T, axis=-1)  # [n]: size of what each source says via W_O
    q, k = trace[p + "q"][head], trace[p + "k"][kv]
    rows = range(trace.n)
    return {
        "model": trace.model_name,
        "trained": trace.trained,
        "layer": layer,
        "head": head,
        "kv_head": kv,
        "heads_sharing_kv": list(range(kv * cfg.group_size, (kv + 1) * cfg.group_size)),
        "d_head": cfg.d_head,
        **tokens_payload(trace),
        "pattern": [_round(pattern[i, : i + 1]) for i in rows],
        "dot": [_round(q[i] @ k[: i + 1].T) for i in rows],  # raw q·k before the scaling
        "scores": [_round(scores[i, : i + 1]) for i in rows],  # q·k / sqrt(d_head)
        "value_size": _round(carried),
        "entropy": _round(normalised_entropy(pattern)),
    }


def thumbnail(pattern: np.ndarray, size: int = THUMB_SIZE) -> np.ndarray:
    """A pattern pooled to at most size × size: mean over query bins, sum over key bins."""
    n = pattern.shape[-1]
    if n <= size:
        return pattern
    edges = np.linspace(0, n, size + 1).astype(int)
    rows = np.add.reduceat(pattern, edges[:-1], axis=-2) / np.diff(edges)[:, None]
    return np.add.reduceat(rows, edges[:-1], axis=-1)


def heads_payload(trace: Trace) -> dict:
    """Every head as a small picture (bytes 0-255, lower triangle, row by row) and two figures."""
    att = trace.attention  # [n_layers, n_heads, n, n]
    thumbs = thumbnail(att)
    m = thumbs.shape[-1]
    lower = np.tril_indices(m)
    levels = np.round(thumbs[..., lower[0], lower[1]] * 255).astype(np.uint8)
    later = att[..., 1:, :] if trace.n > 1 else att
    # share of attention on the token just before; a one-token text has none
    before = np.diagonal(att, offset=-1, axis1=-2, axis2=-1)
    previous = before.mean(axis=-1) if trace.n > 1 else np.zeros(att.shape[:2])
    return {
        "model": trace.model_name,
        "trained": trace.trained,
        "n_layers": att.shape[0],
        "n_heads": att.shape[1],
        "size": m,
        **tokens_payload(trace),
        "thumbnails": base64.b64encode(levels.tobytes()).decode("ascii"),
        "sink": _round(later[..., 0].mean(axis=-1)),  # share of attention on the first token
        "entropy": _round(normalised_entropy(att).mean(axis=-1)),
        "previous": _round(previous),
    }


def matrix_picture(w: np.ndarray, max_cols: int = 192) -> dict:
    """A weight matrix as a small signed picture: values in -127..127, scaled to its max."""
    rows, cols = w.shape
    step = -(-cols // max_cols)
    pooled = w[:, : cols - cols % step].reshape(rows, -1, step).mean(axis=-1) if step > 1 else w
    scale = float(np.abs(pooled).max()) or 1.0
    levels = np.round(pooled / scale * 127).astype(np.int8)
    return {
        "rows": int(levels.shape[0]),
        "cols": int(levels.shape[1]),
        "pooled_columns": step,
        "scale": scale,
        "pixels": base64.b64encode(levels.tobytes()).decode("ascii"),
    }


def weights_payload(model: Model, layer: int, head: int) -> dict:
    """W_Q, W_K and W_V of one head: shapes, parameter counts, summary figures and a picture."""
    cfg = model.config
    kv = head // cfg.group_size
    span = {"W_Q": head, "W_K": kv, "W_V": kv}
    matrices = {}
    for name, index in span.items():
        full = model.weights[f"blocks.{layer}.attn.{name}"]
        w = full[index * cfg.d_head : (index + 1) * cfg.d_head]  # [d_head, d_model]
        matrices[name] = {
            "shape": list(w.shape),
            "parameters": int(w.size),
            "layer_shape": list(full.shape),
            "std": float(w.std()),
            "mean_abs": float(np.abs(w).mean()),
            "picture": matrix_picture(w),
        }
    return {
        "model": model.name,
        "trained": model.trained,
        "layer": layer,
        "head": head,
        "kv_head": kv,
        "heads_sharing_kv": list(range(kv * cfg.group_size, (kv + 1) * cfg.group_size)),
        "matrices": matrices,
        "model_parameters": int(sum(w.size for w in model.weights.values())),
    }
