"""Reading GGUF models and running them in NumPy with every internal exposed by name."""

from .config import ModelConfig
from .forward import trace_names
from .model import Model, default_model_path, load_model
from .trace import Token, Trace

__all__ = [
    "Model",
    "ModelConfig",
    "Token",
    "Trace",
    "default_model_path",
    "load_model",
    "trace_names",
]
