"""Analyses over a trace; each returns plain data (dicts, lists, numbers) ready for JSON."""

from .ablation import ablate, ablation_edits
from .attribution import logit_attribution
from .heads import ROLES, head_roles
from .neurons import promoted_tokens, top_neurons
from .predict import logit_lens, top_k

__all__ = [
    "ROLES",
    "ablate",
    "ablation_edits",
    "head_roles",
    "logit_attribution",
    "logit_lens",
    "promoted_tokens",
    "top_k",
    "top_neurons",
]
