"""The MLP neurons that push the model toward a token, and what each of them promotes."""

import numpy as np

from ..model import Model, Trace
from ..model.forward import unembed_matrix
from .attribution import answer_direction
from .common import check_layer_head, top_tokens


def neuron_logit_effects(model: Model, layer: int, direction: np.ndarray) -> np.ndarray:
    """How much one unit of each neuron's activation moves a logit direction, [d_mlp]."""
    return direction @ model.weights[f"blocks.{layer}.mlp.W_down"]


def promoted_tokens(model: Model, layer: int, neuron: int, k: int = 5) -> list[dict]:
    """The tokens whose logits one unit of this neuron raises most, through the final norm."""
    layer, _ = check_layer_head(model, layer)
    w_out = model.weights[f"blocks.{layer}.mlp.W_down"][:, neuron]  # [d_model]
    scores = unembed_matrix(model.weights, model.config) @ (w_out * model.weights["final_norm.w"])
    return top_tokens(model, scores, k)


def top_neurons(
    model: Model,
    trace: Trace,
    token: int | str | None = None,
    position: int = -1,
    k: int = 10,
    n_promoted: int = 5,
) -> dict:
    """The k neurons (over all layers) whose direct push on `token`'s logit is largest.

    A neuron's push is its activation × (its output weights · the token's logit direction),
    divided by the final residual's root mean square, the same fixed-scale convention as
    `logit_attribution`, so a layer's neuron pushes sum to that layer's MLP share.
    """
    pos, tid, direction, _ = answer_direction(model, trace, token, position)
    n_layers = model.config.n_layers
    pushes = np.stack(
        [
            trace[f"blocks.{layer}.mlp.post"][pos] * neuron_logit_effects(model, layer, direction)
            for layer in range(n_layers)
        ]
    )  # [n_layers, d_mlp]
    flat = np.argsort(-pushes, axis=None)[:k]
    neurons = []
    for layer, neuron in zip(*np.unravel_index(flat, pushes.shape)):
        layer, neuron = int(layer), int(neuron)
        neurons.append(
            {
                "layer": layer,
                "neuron": neuron,
                "activation": float(trace[f"blocks.{layer}.mlp.post"][pos, neuron]),
                "push": float(pushes[layer, neuron]),
                "promotes": promoted_tokens(model, layer, neuron, n_promoted),
            }
        )
    return {
        "position": pos,
        "token": {"id": tid, "token": model.token_text(tid)},
        "neurons": neurons,
    }


NEURON_NAMES = ["blocks.*.mlp.post", "blocks.*.resid_post", "logits"]
