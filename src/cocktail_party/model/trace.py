"""A trace: the tokens of one text and the internals the model computed on them, by name."""

from dataclasses import dataclass

import numpy as np

from ..errors import UnknownNameError
from .config import ModelConfig


@dataclass(frozen=True)
class Token:
    id: int
    text: str  # the token's own bytes as text; a split character shows as U+FFFD
    start: int  # character span in the original text
    end: int
    word: int  # index of the word this token belongs to


@dataclass
class Trace:
    text: str
    tokens: list[Token]
    config: ModelConfig
    internals: dict[str, np.ndarray]
    model_name: str
    trained: bool

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.internals[name]
        except KeyError:
            kept = ", ".join(list(self.internals)[:4])
            raise UnknownNameError(
                f"this trace did not keep {name!r}; it holds {len(self.internals)} internals "
                f"({kept}, ...); ask model.trace(text, names=[...]) for it"
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self.internals

    @property
    def n(self) -> int:
        return len(self.tokens)

    @property
    def ids(self) -> np.ndarray:
        return np.array([t.id for t in self.tokens], dtype=np.int64)

    @property
    def token_texts(self) -> list[str]:
        return [t.text for t in self.tokens]

    @property
    def attention(self) -> np.ndarray:
        """Every attention pattern, [n_layers, n_heads, n, n]; row i is whom token i attends to."""
        return np.stack([self[f"blocks.{l}.attn.pattern"] for l in range(self.config.n_layers)])

    @property
    def logits(self) -> np.ndarray:
        """[n, d_vocab]: row i scores every candidate for the token after token i."""
        return self["logits"]

    def words(self) -> list[list[int]]:
        """Token indices grouped into words, in order."""
        groups: dict[int, list[int]] = {}
        for i, t in enumerate(self.tokens):
            groups.setdefault(t.word, []).append(i)
        return list(groups.values())
