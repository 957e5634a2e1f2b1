"""Measured roles of every attention head, from the model's attention on probe sequences.

The probes are sequences of random ordinary tokens, each repeated once (A B C ... A B C ...),
so that a head's behaviour can be read off positions whose right answer we know.
"""

import numpy as np

from ..model import Model

ROLES = {
    "previous_token": "mean attention from each token to the token just before it",
    "first_token": "mean attention from each token to the first token (the attention sink)",
    "duplicate_token": "mean attention from a repeated token to its own earlier copy",
    "induction": "mean attention from a repeated token to the token that followed its "
    "earlier copy (the step that lets a model continue a pattern it has seen)",
}


def probe_sequences(model: Model, n_sequences: int, length: int, seed: int) -> np.ndarray:
    """[n_sequences, 2 * length] ids: random ordinary tokens, then the same tokens again."""
    special = set(model.tokenizer.get_added_tokens_decoder())
    ordinary = np.array([i for i in range(model.config.d_vocab) if i not in special])
    rng = np.random.default_rng(seed)
    first = np.stack([rng.choice(ordinary, size=length, replace=False) for _ in range(n_sequences)])
    return np.concatenate([first, first], axis=1)


def role_scores(pattern: np.ndarray, length: int) -> dict[str, np.ndarray]:
    """Each role's score per head from patterns [n_heads, 2*length, 2*length] of one probe."""
    n = pattern.shape[-1]
    later = np.arange(1, n)
    second = np.arange(length, n)  # positions in the repeat
    return {
        "previous_token": pattern[:, later, later - 1].mean(axis=-1),
        "first_token": pattern[:, later, 0].mean(axis=-1),
        "duplicate_token": pattern[:, second, second - length].mean(axis=-1),
        "induction": pattern[:, second, second - length + 1].mean(axis=-1),
    }


def head_roles(model: Model, n_sequences: int = 4, length: int = 32, seed: int = 0) -> dict:
    """Every head's score for each role in ROLES, as [n_layers][n_heads] lists in [0, 1]."""
    cfg = model.config
    totals = {role: np.zeros((cfg.n_layers, cfg.n_heads)) for role in ROLES}
    for ids in probe_sequences(model, n_sequences, length, seed):
        kept = model.run(ids, ["blocks.*.attn.pattern"])
        for layer in range(cfg.n_layers):
            for role, score in role_scores(kept[f"blocks.{layer}.attn.pattern"], length).items():
                totals[role][layer] += score / n_sequences
    return {
        "definitions": ROLES,
        "probe": {"sequences": n_sequences, "length": length, "seed": seed},
        "scores": {role: [[float(x) for x in row] for row in t] for role, t in totals.items()},
    }
