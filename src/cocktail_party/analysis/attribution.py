"""Direct logit attribution: how much each part of the model wrote the answer's logit."""

import numpy as np

from ..model import Model, Trace
from ..model.forward import unembed_matrix
from .common import final_scale, position_of, token_id


def logit_direction(model: Model, token: int) -> np.ndarray:
    """The residual direction that raises `token`'s logit: final-norm scale ⊙ W_U[token]."""
    return model.weights["final_norm.w"] * unembed_matrix(model.weights, model.config)[token]


def answer_direction(
    model: Model, trace: Trace, token: int | str | None, position: int
) -> tuple[int, int, np.ndarray, float]:
    """(position, token id, direction, rms): the residual direction whose dot product with a
    part of the final residual stream is that part's share of the token's logit, and the root
    mean square of that final residual stream.

    The final RMSNorm's scale is taken from the actual run and held fixed (see
    `logit_attribution`); the token defaults to the model's top guess at that position.
    """
    pos = position_of(trace, position)
    if token is None:
        token = int(np.argmax(trace.logits[pos]))
    tid = token_id(model, token)
    last = trace[f"blocks.{model.config.n_layers - 1}.resid_post"][pos]
    scale = float(final_scale(model, last)[0])
    return pos, tid, logit_direction(model, tid) * scale, 1.0 / scale


def head_results(model: Model, trace: Trace, layer: int, pos: int) -> np.ndarray:
    """What each head of `layer` wrote into the residual stream at `pos`, [n_heads, d_model]."""
    cfg = model.config
    z = trace[f"blocks.{layer}.attn.z"][:, pos, :]  # [n_heads, d_head]
    W_O = model.weights[f"blocks.{layer}.attn.W_O"].reshape(cfg.d_model, cfg.n_heads, cfg.d_head)
    return np.einsum("hd,mhd->hm", z, W_O)


def logit_attribution(
    model: Model, trace: Trace, token: int | str | None = None, position: int = -1
) -> dict:
    """Split the logit of `token` after `position` into exact parts.

    Method: the final residual stream is the sum of the embedding and every attention and MLP
    output; the final RMSNorm divides it by one number, its root mean square, which we take from
    the actual run and hold fixed. With that scale fixed the logit is linear in the residual
    stream, so each part's share is  part · (norm weight ⊙ W_U[token]) / rms,  and the shares
    add up to the logit exactly. Attention layers split further into heads, since a layer's output
    is the sum of z_h · W_O_h over its heads. Direct effects only: a part's influence through
    later layers is not counted here (see ablation for that).
    """
    pos, tid, direction, rms = answer_direction(model, trace, token, position)
    n_layers = model.config.n_layers
    heads = [head_results(model, trace, layer, pos) @ direction for layer in range(n_layers)]
    mlp = [float(trace[f"blocks.{layer}.mlp_out"][pos] @ direction) for layer in range(n_layers)]
    embed = float(trace["embed"][pos] @ direction)
    attn = [float(h.sum()) for h in heads]
    return {
        "position": pos,
        "token": {"id": tid, "token": model.token_text(tid)},
        "logit": float(trace.logits[pos, tid]),
        "rms": rms,
        "embed": embed,
        "attn": attn,
        "heads": [[float(x) for x in h] for h in heads],
        "mlp": mlp,
        "total": embed + sum(attn) + sum(mlp),
    }


ATTRIBUTION_NAMES = [
    "embed",
    "blocks.*.attn.z",
    "blocks.*.mlp_out",
    "blocks.*.resid_post",
    "logits",
]
