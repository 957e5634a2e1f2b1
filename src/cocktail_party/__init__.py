"""cocktail-party: how attention in a real LLM works, computed from the model itself."""

from .errors import CocktailPartyError, InputError
from .model import Model, ModelConfig, Trace, load_model, trace_names

NOTEBOOK = ("show", "show_heads", "show_flow", "view")  # in .notebook, imported on first use

__all__ = [
    "CocktailPartyError",
    "InputError",
    "Model",
    "ModelConfig",
    "Trace",
    "load_model",
    "show",
    "show_flow",
    "show_heads",
    "trace_names",
    "view",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    # the notebook views need the web app; a plain `import cocktail_party` stays light
    if name in NOTEBOOK:
        from . import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'cocktail_party' has no attribute {name!r}")
