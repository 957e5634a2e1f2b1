"""cocktail-party: how attention in a real LLM works, computed from the model itself."""

from .errors import CocktailPartyError, InputError
from .model import Model, ModelConfig, Trace, load_model, trace_names

__all__ = [
    "CocktailPartyError",
    "InputError",
    "Model",
    "ModelConfig",
    "Trace",
    "load_model",
    "trace_names",
]
__version__ = "0.1.0"
