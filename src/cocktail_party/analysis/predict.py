"""Next-token predictions and the logit lens: the model's guesses, finally and along the way."""

import numpy as np

from ..model import Model, Trace
from ..model.forward import softmax
from .common import position_of, token_id, top_tokens, unembed


def top_k(model: Model, trace: Trace, position: int = -1, k: int = 10) -> list[dict]:
    """The k likeliest next tokens after `position`, with probabilities."""
    logits = trace.logits[position_of(trace, position)]
    return top_tokens(model, logits, k, softmax(logits))


def lens_stages(trace: Trace) -> list[tuple[str, int | None, str]]:
    """(label, layer, residual name) for every point where the residual stream can be read."""
    stages = [("embedding", None, "embed")]
    for layer in range(trace.config.n_layers):
        stages.append(("attention", layer, f"blocks.{layer}.resid_mid"))
        stages.append(("mlp", layer, f"blocks.{layer}.resid_post"))
    return stages


def logit_lens(
    model: Model, trace: Trace, position: int = -1, k: int = 5, target: int | str | None = None
) -> dict:
    """The model's best guesses after every sublayer, read with the final norm and unembedding.

    `target` (default: the final top-1 token) is followed through every stage by its
    probability and rank, so its rise can be watched.
    """
    pos = position_of(trace, position)
    stages = lens_stages(trace)
    resid = np.stack([trace[name][pos] for _, _, name in stages])  # [n_stages, d_model]
    logits = unembed(model, resid)  # [n_stages, d_vocab]
    probs = softmax(logits)
    target_id = token_id(model, target) if target is not None else int(np.argmax(logits[-1]))
    rows = []
    for (kind, layer, _), lg, pr in zip(stages, logits, probs):
        rank = int(np.sum(lg > lg[target_id]))
        rows.append(
            {
                "after": kind,
                "layer": layer,
                "top": top_tokens(model, lg, k, pr),
                "target_prob": float(pr[target_id]),
                "target_rank": rank,
            }
        )
    return {
        "position": pos,
        "target": {"id": target_id, "token": model.token_text(target_id)},
        "stages": rows,
    }
