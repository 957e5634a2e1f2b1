"""The shape of a llama-family model, read once from its GGUF metadata."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelConfig:
    name: str  # human name from the file, e.g. "SmolLM2-135M-Instruct"
    architecture: str  # GGUF "general.architecture", e.g. "llama"
    n_layers: int
    n_heads: int  # query heads per layer
    n_kv_heads: int  # key/value heads per layer; several query heads share one (GQA)
    d_model: int  # width of the residual stream
    d_head: int
    d_mlp: int  # neurons per MLP layer
    d_vocab: int
    n_ctx: int  # longest context the model was trained for
    rope_base: float
    norm_eps: float
    tied_embeddings: bool  # the unembedding reuses the token embedding
    qkv_bias: bool  # the query, key and value projections add a bias (Qwen2)

    @property
    def group_size(self) -> int:
        """How many query heads read the same key/value head."""
        return self.n_heads // self.n_kv_heads

    def to_dict(self) -> dict:
        return asdict(self)
