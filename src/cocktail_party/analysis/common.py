"""Small helpers shared by the analyses: resolving positions and tokens, unembedding."""

import numpy as np

from ..errors import InputError, OutOfRangeError
from ..model import Model, Trace
from ..model.forward import rms_norm, unembed_matrix


def check_index(kind: str, index: int, size: int) -> int:
    """`index` as a non-negative int, allowing Python's negative indexing."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise InputError(f"{kind} must be an integer, got {index!r}")
    if not -size <= index < size:
        raise OutOfRangeError(f"{kind} {index} is out of range; there are {size} (0-{size - 1})")
    return int(index) % size


def check_layer_head(model: Model, layer: int, head: int | None = None) -> tuple[int, int | None]:
    layer = check_index("layer", layer, model.config.n_layers)
    if head is not None:
        head = check_index("head", head, model.config.n_heads)
    return layer, head


def token_id(model: Model, token: int | str) -> int:
    """A vocabulary id from an id or from text that is exactly one token (e.g. ' Paris')."""
    if isinstance(token, str):
        ids = model.tokenizer.encode(token, add_special_tokens=False).ids
        if len(ids) != 1:
            raise InputError(
                f"token {token!r} is {len(ids)} tokens for this model; give text that is one token"
            )
        return ids[0]
    return check_index("token id", token, model.config.d_vocab)


def final_scale(model: Model, resid: np.ndarray) -> np.ndarray:
    """The factor by which the final RMSNorm divides a residual vector (1 / rms), [..., 1]."""
    eps = model.config.norm_eps
    return 1.0 / np.sqrt(np.mean(resid * resid, axis=-1, keepdims=True) + eps)


def unembed(model: Model, resid: np.ndarray) -> np.ndarray:
    """Logits read off a residual stream with the final norm and unembedding, [..., d_vocab]."""
    w = model.weights
    normed = rms_norm(resid, w["final_norm.w"], model.config.norm_eps)
    return normed @ unembed_matrix(w, model.config).T


def top_tokens(model: Model, scores: np.ndarray, k: int, probs: np.ndarray | None = None):
    """The k best entries of a [d_vocab] score vector as plain dicts."""
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [
        {"id": int(i), "token": model.token_text(i), "logit": float(scores[i])}
        | ({"prob": float(probs[i])} if probs is not None else {})
        for i in best
    ]


def position_of(trace: Trace, position: int) -> int:
    return check_index("position", position, trace.n)
