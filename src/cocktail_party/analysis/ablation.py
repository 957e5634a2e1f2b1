"""Ablation: rerun the model with chosen heads or MLP layers removed and compare the answer."""

from collections.abc import Iterable

import numpy as np

from ..errors import InputError
from ..model import Model
from ..model.forward import softmax
from .common import check_layer_head, token_id, top_tokens

MODES = ("zero", "mean")


def _remove_heads(heads: list[int], mode: str):
    def edit(z: np.ndarray) -> np.ndarray:  # z: [n_heads, n, d_head]
        z = z.copy()
        for h in heads:
            z[h] = 0.0 if mode == "zero" else z[h].mean(axis=0)
        return z

    return edit


def _remove_mlp(mode: str):
    def edit(out: np.ndarray) -> np.ndarray:  # out: [n, d_model]
        return (
            np.zeros_like(out) if mode == "zero" else np.broadcast_to(out.mean(axis=0), out.shape)
        )

    return edit


def ablation_edits(
    model: Model,
    heads: Iterable[tuple[int, int]] = (),
    mlps: Iterable[int] = (),
    mode: str = "zero",
) -> dict:
    """Edits for Model.run that zero (or replace by their mean over positions) the given parts."""
    if mode not in MODES:
        raise InputError(f"ablation mode {mode!r} is not one of {', '.join(MODES)}")
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        layer, head = check_layer_head(model, layer, head)
        by_layer.setdefault(layer, []).append(head)
    edits = {f"blocks.{l}.attn.z": _remove_heads(hs, mode) for l, hs in by_layer.items()}
    for layer in mlps:
        layer, _ = check_layer_head(model, layer)
        edits[f"blocks.{layer}.mlp_out"] = _remove_mlp(mode)
    return edits


def ablate(
    model: Model,
    text: str,
    heads: Iterable[tuple[int, int]] = (),
    mlps: Iterable[int] = (),
    mode: str = "zero",
    target: int | str | None = None,
    k: int = 5,
    before: np.ndarray | None = None,
) -> dict:
    """Compare the next-token prediction at the last position with and without the given parts.

    "zero" sets a head's output (or an MLP layer's output) to 0 at every position; "mean"
    replaces it by its mean over the text's positions, which keeps its constant part.
    `before`, the unablated logits at the last position when the caller has them (from a
    trace), saves one of the two runs.
    """
    heads, mlps = list(heads), list(mlps)
    edits = ablation_edits(model, heads, mlps, mode)
    ids = np.array([t.id for t in model.encode(text)])
    if before is None:
        before = model.run(ids, ["logits"])["logits"][-1]
    after = model.run(ids, ["logits"], edits)["logits"][-1]
    p_before, p_after = softmax(before), softmax(after)
    tid = token_id(model, target) if target is not None else int(np.argmax(before))
    return {
        "removed": {"heads": [list(map(int, h)) for h in heads], "mlps": [int(m) for m in mlps]},
        "mode": mode,
        "target": {
            "id": tid,
            "token": model.token_text(tid),
            "logit_before": float(before[tid]),
            "logit_after": float(after[tid]),
            "prob_before": float(p_before[tid]),
            "prob_after": float(p_after[tid]),
            "rank_after": int(np.sum(after > after[tid])),
        },
        "before": top_tokens(model, before, k, p_before),
        "after": top_tokens(model, after, k, p_after),
    }
